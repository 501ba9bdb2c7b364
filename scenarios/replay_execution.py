"""Executing a plan against actual data: decision columns follow the plan, PV and the grid take the deviations.

The rule is the *execution* definition in the docstring of :mod:`scenarios.replay`. Columns are found by their
roles (:attr:`optimizer.DispatchResult.columns`), never by asset name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.assets.base import BuildContext
from optimizer.assets.grid import GREEN_PURCHASE, GRID_EXPORT, GRID_IMPORT
from optimizer.assets.load import ELECTRIC_LOAD
from optimizer.assets.pv import PV_AVAILABLE, PV_OUTPUT
from optimizer.dispatch import ColumnInfo


@dataclass(frozen=True)
class GridLimits:
    """Import and export limits per step [kW] (export 0 where the site cannot export)."""

    import_kw: np.ndarray
    export_kw: np.ndarray

    def rows(self, lo: int, hi: int) -> GridLimits:
        return GridLimits(self.import_kw[lo:hi], self.export_kw[lo:hi])


@dataclass(frozen=True)
class Execution:
    """A stretch of a plan as executed against actual data, and how it deviated from the plan."""

    schedule: pd.DataFrame
    load_deviation_kwh: float = 0.0
    """Actual minus planned electric load."""
    pv_deviation_kwh: float = 0.0
    """Actual minus planned PV output (before curtailing a surplus beyond the export limit)."""
    extra_curtailment_kwh: float = 0.0
    """PV curtailed because the surplus exceeded the export limit."""
    unplaced_surplus_kwh: float = 0.0
    """Surplus neither exportable nor curtailable (the balance is off by this much)."""
    import_over_limit_kwh: float = 0.0
    """Import above the grid's import limit."""


def role_columns(columns: Mapping[str, ColumnInfo], role: str) -> list[str]:
    """Schedule columns with ``role``, in schedule order (:meth:`BuildContext.role_columns` for a plan's column
    descriptions, which the execution has without the build)."""
    return [c for c, info in columns.items() if info.role == role]


def asset_of(column: str) -> str:
    """The asset a schedule column belongs to: the part of its name before the first dot."""
    return column.split(".", 1)[0]


def pv_pairs(columns: Mapping[str, ColumnInfo]) -> list[tuple[str, str]]:
    """(available, output) column pairs of the PV assets, matched by asset (the part before the first dot)."""
    available = role_columns(columns, PV_AVAILABLE)
    outputs = role_columns(columns, PV_OUTPUT)
    if len(available) == 1 and len(outputs) == 1:
        return [(available[0], outputs[0])]
    by_asset = {asset_of(c): c for c in available}
    missing = [c for c in outputs if asset_of(c) not in by_asset]
    if missing:
        raise ValueError(f"no available-PV column for {', '.join(missing)}")
    return [(by_asset[asset_of(c)], c) for c in outputs]


def _take_from(frame: pd.DataFrame, columns: list[str], amount: np.ndarray) -> np.ndarray:
    """Reduces ``columns`` (in order, each down to 0) by ``amount`` per row; returns what could not be taken."""
    rest = amount.copy()
    for column in columns:
        values = frame[column].to_numpy(dtype=float)
        cut = np.minimum(values, rest)
        frame[column] = values - cut
        rest = rest - cut
    return rest


def _grid_columns(columns: Mapping[str, ColumnInfo]) -> tuple[str, str | None]:
    imports, exports = role_columns(columns, GRID_IMPORT), role_columns(columns, GRID_EXPORT)
    if len(imports) != 1 or len(exports) > 1:
        raise ValueError(f"a replay needs one grid connection (import columns: {imports}, export: {exports})")
    return imports[0], exports[0] if exports else None


def execute_plan(
    plan: pd.DataFrame,
    columns: Mapping[str, ColumnInfo],
    actual: pd.DataFrame,
    limits: GridLimits,
    dt_h: float,
) -> Execution:
    """``plan`` (some steps) executed against ``actual`` (the actual data columns on the same steps).

    Decision columns follow the plan; data columns take the actual values; PV and grid as in the *execution*
    definition of :mod:`scenarios.replay`. All powers [kW], energies [kWh] (``dt_h``: step length [h]).
    """
    schedule = plan.copy()
    shared = [c for c in actual.columns if c in schedule.columns]
    schedule[shared] = actual[shared].to_numpy(dtype=float)
    loads = role_columns(columns, ELECTRIC_LOAD)
    load_delta = (schedule[loads].to_numpy(dtype=float) - plan[loads].to_numpy(dtype=float)).sum(axis=1)
    pairs = pv_pairs(columns)
    for available, output in pairs:
        curtailed = plan[available].to_numpy(dtype=float) - plan[output].to_numpy(dtype=float)
        schedule[output] = np.maximum(schedule[available].to_numpy(dtype=float) - curtailed, 0.0)
    outputs = [output for _, output in pairs]
    pv_delta = (schedule[outputs].to_numpy(dtype=float) - plan[outputs].to_numpy(dtype=float)).sum(axis=1)
    import_column, export_column = _grid_columns(columns)
    planned_net = plan[import_column].to_numpy(dtype=float)
    if export_column is not None:
        planned_net = planned_net - plan[export_column].to_numpy(dtype=float)
    net = planned_net + load_delta - pv_delta
    surplus = np.maximum(-net, 0.0)
    export = np.minimum(surplus, limits.export_kw if export_column is not None else 0.0)
    schedule[import_column] = np.maximum(net, 0.0)
    if export_column is not None:
        schedule[export_column] = export
    unplaced = _take_from(schedule, outputs, surplus - export)
    imported = schedule[import_column].to_numpy(dtype=float)
    _cap_green(schedule, role_columns(columns, GREEN_PURCHASE), imported)
    return Execution(
        schedule=schedule,
        load_deviation_kwh=float(load_delta.sum() * dt_h),
        pv_deviation_kwh=float(pv_delta.sum() * dt_h),
        extra_curtailment_kwh=float((surplus - export - unplaced).sum() * dt_h),
        unplaced_surplus_kwh=float(unplaced.sum() * dt_h),
        import_over_limit_kwh=float(np.maximum(imported - limits.import_kw, 0.0).sum() * dt_h),
    )


def _cap_green(schedule: pd.DataFrame, green: list[str], imported: np.ndarray) -> None:
    """Green purchases are part of the import: scaled down where they would exceed the executed import."""
    if not green:
        return
    total = schedule[green].to_numpy(dtype=float).sum(axis=1)
    factor = np.where(total > imported, np.divide(imported, total, out=np.ones_like(total), where=total > 0), 1.0)
    for column in green:
        schedule[column] = schedule[column].to_numpy(dtype=float) * factor


def data_frame(ctx: BuildContext) -> pd.DataFrame:
    """The data columns of a built problem (loads, available PV, prices, demands) on its horizon."""
    data = {c: flow.component for c, flow in ctx.flows.items() if flow.is_data}
    return pd.DataFrame(data, index=ctx.horizon.index)


def grid_limits(ctx: BuildContext, columns: Mapping[str, ColumnInfo]) -> GridLimits:
    """Import and export limits per step from the grid columns' bounds in the built model [kW]."""
    import_column, export_column = _grid_columns(columns)
    steps = range(ctx.n_steps)
    imports = np.array([ctx.flow_bounds(import_column, t)[1] for t in steps])
    exports = (
        np.zeros(ctx.n_steps)
        if export_column is None
        else np.array([ctx.flow_bounds(export_column, t)[1] for t in steps])
    )
    return GridLimits(imports, exports)


DEVIATIONS = (
    "load_deviation_kwh",
    "pv_deviation_kwh",
    "extra_curtailment_kwh",
    "unplaced_surplus_kwh",
    "import_over_limit_kwh",
)
"""The fields of :class:`Execution` that measure how it deviated from the plan."""


def deviations(executed: list[Execution]) -> dict[str, float]:
    """The deviations of several executed stretches (a day), summed per field."""
    return {name: sum(getattr(e, name) for e in executed) for name in DEVIATIONS}
