"""State shared by the per-asset rules of the rule-based baseline, and what the baseline leaves unbalanced."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from optimizer.buses import COMPRESSED_AIR, COOLING, ELECTRICITY, HEAT, ICE
from optimizer.horizon import Horizon

BUS_UNITS: dict[str, tuple[str, str, float]] = {
    ELECTRICITY: ("kW", "kWh", 1.0),
    HEAT: ("kW_th", "kWh_th", 1.0),
    COOLING: ("kW_th", "kWh_th", 1.0),
    ICE: ("kW_th", "kWh_th", 1.0),
    COMPRESSED_AIR: ("m3/min", "m3", 60.0),
}
"""Per bus: the unit of its rate, the unit of its amount over time, and the amount per rate-hour (60 m3 per
m3/min-hour of free air; 1 kWh per kW-hour). A bus a plug-in adds and that is not listed here counts in kW, kWh."""


class BaselineShortfall(BaseModel):
    """What the rule-based baseline leaves unbalanced on one bus over a horizon: demand its rules do not supply
    (``unmet``: a boiler that cannot follow the heat load, air its compressors cannot make, electricity with no
    grid), or electricity it can neither use, export nor curtail (``surplus``). Air made beyond the demand (held by
    a compressor's minimum flow) is vented and paid for, not counted here."""

    bus: str = Field(description="The bus: electricity, heat, cooling, ice, compressed_air (or a plug-in's).")
    kind: Literal["unmet", "surplus"] = Field(
        description="unmet: demand the baseline does not supply; surplus: electricity it cannot place."
    )
    quantity: str = Field(description="What is short, in words: heat, cooling, compressed air, electricity.")
    assets: list[str] = Field(
        description="The assets drawing on the bus (unmet) or supplying it (surplus) at the worst step."
    )
    amount: float = Field(
        description="How much over the horizon, in ``unit``: kWh, kWh_th, or m3 of free air (compressed air)."
    )
    unit: str = Field(description="The unit of ``amount``: kWh, kWh_th or m3.")
    worst: float = Field(description="The largest shortfall of one step, in ``rate_unit`` (kW, kW_th, m3/min).")
    rate_unit: str = Field(description="The unit of ``worst``: kW, kW_th or m3/min.")
    worst_at: str = Field(description="Start of the worst step, ISO 8601 local time with its UTC offset.")
    steps: int = Field(description="Number of steps with a shortfall.")

    @property
    def summary(self) -> str:
        """``4,800.0 kWh_th of heat unmet``: how much of what."""
        what = "unmet" if self.kind == "unmet" else "surplus it cannot place"
        return f"{self.amount:,.1f} {self.unit} of {self.quantity} {what}"

    def describe(self) -> str:
        """The summary with the assets and the worst step: ``4,800.0 kWh_th of heat unmet (workshop_heat; worst
        200.0 kW_th at 2026-07-15 00:00)``."""
        at = pd.Timestamp(self.worst_at).strftime("%Y-%m-%d %H:%M")
        assets = f"{', '.join(self.assets)}; " if self.assets else ""
        return f"{self.summary} ({assets}worst {self.worst:,.1f} {self.rate_unit} at {at})"


INFEASIBLE_BASELINE = "baseline infeasible"
"""How a saving that is not stated is labelled: ``baseline infeasible: <what is unmet>``."""


def infeasible_label(shortfalls: Sequence[BaselineShortfall]) -> str | None:
    """``baseline infeasible: 4,800.0 kWh_th of heat unmet (workshop_heat; worst ...)``; None when there is none."""
    if not shortfalls:
        return None
    return f"{INFEASIBLE_BASELINE}: " + "; ".join(s.describe() for s in shortfalls)


def merge_shortfalls(shortfalls: Iterable[BaselineShortfall]) -> list[BaselineShortfall]:
    """Shortfalls of consecutive horizons (the days of a run) as one per bus and kind: amounts and steps add up,
    the worst step is the worst of all, the assets are every one named."""
    merged: dict[tuple[str, str], BaselineShortfall] = {}
    for s in shortfalls:
        key = (s.bus, s.kind)
        first = merged.get(key)
        if first is None:
            merged[key] = s.model_copy()
            continue
        worse = s if s.worst > first.worst else first
        merged[key] = first.model_copy(
            update={
                "assets": list(dict.fromkeys([*first.assets, *s.assets])),
                "amount": first.amount + s.amount,
                "worst": worse.worst,
                "worst_at": worse.worst_at,
                "steps": first.steps + s.steps,
            }
        )
    return list(merged.values())


@dataclass
class BaselineState:
    """The schedule being filled and, per bus, what is still to balance.

    ``net[bus][t] > 0`` is a deficit still to be supplied, ``< 0`` a surplus;
    ``net_kw`` is the electricity bus's.
    """

    horizon: Horizon
    net: dict[str, np.ndarray] = field(default_factory=dict)
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    curtailable_pv: list[str] = field(default_factory=list)
    uncovered_import_kw: np.ndarray | None = None  # metered import not yet covered by green contracts
    warnings: list[str] = field(default_factory=list)

    def bus(self, name: str) -> np.ndarray:
        """The net deficit of bus ``name`` (created at zero), modified in place by rules."""
        if name not in self.net:
            self.net[name] = np.zeros(self.horizon.n_steps)
        return self.net[name]

    def add_demand(self, column: str, values: float | list[float], bus: str) -> None:
        """Records a fixed demand series as ``column`` and adds it to ``bus``'s deficit."""
        demand = self.series(values)
        self.columns[column] = demand
        self.bus(bus)[:] += demand

    @property
    def net_kw(self) -> np.ndarray:
        return self.bus(ELECTRICITY)

    @net_kw.setter
    def net_kw(self, value: np.ndarray) -> None:
        self.net[ELECTRICITY] = value

    @property
    def dt_h(self) -> float:
        return self.horizon.dt_h

    def series(self, value: float | list[float]) -> np.ndarray:
        if isinstance(value, (int, float)):
            return np.full(self.horizon.n_steps, float(value))
        return np.asarray(value, dtype=float)
