"""Asset types: one module each, registered here.

A new asset type is one new module (spec + builder + baseline rule) and one
line in :data:`REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Union

from pydantic import Field

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.assets.battery import BatterySpec, baseline_battery, build_battery
from optimizer.assets.green_contract import GreenContractSpec, baseline_green_contract, build_green_contract
from optimizer.assets.grid import GridSpec, baseline_grid, build_grid
from optimizer.assets.load import LoadSpec, baseline_load, build_load
from optimizer.assets.pv import PvSpec, baseline_pv, build_pv
from optimizer.baseline_state import BaselineState


@dataclass(frozen=True)
class AssetType:
    """How to build an asset into the model and how the rule-based baseline runs it.

    ``build_order``: assets that others reference (the grid) are built first.
    ``baseline_order``: sources and loads first, storage next, then the grid
    takes the remainder, then contracts reclassify the grid's import.
    """

    spec: type[AssetSpec]
    build: Callable[[Any, BuildContext], None]
    baseline: Callable[[Any, BaselineState], None]
    build_order: int
    baseline_order: int


REGISTRY: dict[str, AssetType] = {
    "grid": AssetType(GridSpec, build_grid, baseline_grid, build_order=0, baseline_order=3),
    "pv": AssetType(PvSpec, build_pv, baseline_pv, build_order=1, baseline_order=0),
    "load": AssetType(LoadSpec, build_load, baseline_load, build_order=1, baseline_order=0),
    "battery": AssetType(BatterySpec, build_battery, baseline_battery, build_order=1, baseline_order=2),
    "green_contract": AssetType(
        GreenContractSpec, build_green_contract, baseline_green_contract, build_order=2, baseline_order=4
    ),
}

AnyAsset = Annotated[
    Union[tuple(t.spec for t in REGISTRY.values())],  # noqa: UP007
    Field(discriminator="kind"),
]
"""Any registered asset spec, discriminated by its ``kind`` field."""

__all__ = [
    "REGISTRY",
    "AnyAsset",
    "AssetSpec",
    "AssetType",
    "BatterySpec",
    "GreenContractSpec",
    "GridSpec",
    "LoadSpec",
    "PvSpec",
]
