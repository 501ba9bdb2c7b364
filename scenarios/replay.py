"""Offline replay of the EMS loop over a date range: what forecast errors cost, measured three ways.

``dispatch replay SCENARIO --start --end --every 1h`` runs every local day of the range once per strategy;
each strategy carries its own state (store levels, units on/off, the month-to-date peak import) across
midnight from what it *executed*, through the registry's state rules (:func:`scenarios.rolling.carried_state`):

1. ``day_ahead``: at local midnight one plan of the day from day-ahead forecasts, executed in full against the
   actual data;
2. ``intraday`` (receding horizon): the same kind of day-ahead plan, then every ``every`` (default 1 h) a
   re-plan from the state reached so far to the end of the day, with forecasts corrected by what has been
   observed; the first ``every`` of each plan is executed against the actual data;
3. ``perfect_foresight``: each day planned with the actual data; its plan is executed exactly.

Definitions:

- *actual*: the scenario's inputs as the pipeline resolves them for the day (:class:`scenarios.inputs.Inputs`
  on the day's time axis, what :func:`scenarios.pipeline.build_problem` reads);
- *forecast inputs*: only inputs that feed the electricity bus are forecast, i.e. those referenced by a ``load``
  asset's ``power_kw`` or a ``pv`` asset's ``available_kw``; every other input (thermal and air demands, prices)
  is taken as known (forecast = actual);
- *day-ahead load forecast*: ``site.load_model.forecast(history, day)``, ``history`` the input's actual values
  over the ``history_days`` (28) days before the day; *day-ahead PV forecast*: persistence, the previous day's
  actual profile by local clock time;
- *intraday correction* at re-plan time t: forecast + e x exp(-h / 2 h) for the steps from t on, e the mean error
  (actual - day-ahead forecast) over the hour before t, h the hours from t to the step's start; clipped at >= 0;
  PV also at the largest actual value seen (history window and the day so far), and left at 0 where the
  day-ahead PV forecast is 0 (no PV appears at night);
- *execution* of a stretch of a plan against actual data: every decision column (storage, units, flexible
  loads) follows the plan; PV output = actual available PV minus the plan's curtailment (>= 0); the grid takes
  the rest: net = planned import - planned export + (actual - planned electric load) - (actual - planned PV
  output); import = max(net, 0), export = min(-net, export limit), any surplus beyond the export limit is
  curtailed PV (what PV cannot absorb is reported as ``unplaced_surplus_kwh``); green purchases are capped at
  the executed import. Columns are found by their roles (:attr:`optimizer.DispatchResult.columns`);
- *cost*: the optimiser's own KPI code (:func:`optimizer.kpis.compute_kpis`, every cost term's ``evaluate``) on
  the executed day, for the day's actual problem (actual inputs, the strategy's state at midnight).

Re-plans start mid-day, and two things are not part of the registry's state: progress inside clock-time windows
(energy delivered so far, a block already started) and per-horizon volumes and targets. So an asset with clock
times whose window has begun is *committed* to the latest plan: the re-plan sees its planned power as a fixed
load; and targets and contract volumes (``max_energy_kwh``) apply to each re-plan's remaining horizon.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from optimizer import DispatchProblem, DispatchResult, Horizon, Kpis, SolveOptions, solve
from optimizer.assets.base import BuildContext
from optimizer.assets.grid import GREEN_PURCHASE, GRID_EXPORT, GRID_IMPORT
from optimizer.assets.load import ELECTRIC_LOAD
from optimizer.assets.pv import PV_AVAILABLE, PV_OUTPUT
from optimizer.buses import ELECTRICITY
from optimizer.dispatch import ColumnInfo
from optimizer.kpis import compute_kpis
from optimizer.model import build_model
from scenarios.assets import clock_fields, clock_time_on, file_models, input_refs
from scenarios.compile import State
from scenarios.inputs import Inputs
from scenarios.loader import Case
from scenarios.pipeline import build_problem, case_periods
from scenarios.rolling import Period, carried_state
from scenarios.site import Site

DAY_AHEAD = "day_ahead"
INTRADAY = "intraday"
PERFECT_FORESIGHT = "perfect_foresight"
STRATEGIES = (DAY_AHEAD, INTRADAY, PERFECT_FORESIGHT)
"""The strategies, in the order of the expected costs (highest first)."""

FORECAST_FIELDS: dict[str, tuple[str, str]] = {"load": ("power_kw", "load"), "pv": ("available_kw", "pv")}
"""Asset kind -> (field whose input is forecast, forecast method): the inputs that feed the electricity bus."""

COMMITTED_SUFFIX = "_committed"
"""Name suffix of the fixed load that stands for a clock-time asset committed to its plan in a re-plan."""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ReplayOptions:
    """How the replay forecasts and re-plans."""

    every_minutes: int = 60
    """Re-plan interval of the intraday strategy [min]; a multiple of the scenario's step."""
    history_days: int = 28
    """Days of actual history behind the day-ahead load forecast (and the PV 'max seen') [days]."""
    correction_window_minutes: int = 60
    """The intraday error is the mean over this long before the re-plan [min]."""
    correction_decay_h: float = 2.0
    """The intraday error fades as exp(-h / this) with h hours ahead [h]."""


def parse_every(text: str, step_minutes: int) -> int:
    """``"1h"``, ``"30min"``, ``"2h"`` as minutes; a positive multiple of ``step_minutes`` of at most a day."""
    try:
        minutes = pd.Timedelta(text).total_seconds() / 60.0
    except ValueError as error:
        raise ValueError(f"{text!r} is not a duration (e.g. 1h, 30min)") from error
    if minutes <= 0 or minutes > 1440 or minutes % step_minutes:
        raise ValueError(f"{text!r}: the re-plan interval must be a multiple of the {step_minutes}-min step, <= 1 day")
    return int(minutes)


# --- inputs: actual and forecast ----------------------------------------------------------------


def forecast_inputs(site: Site) -> dict[str, str]:
    """Input name -> forecast method (``"load"`` or ``"pv"``) of the inputs feeding the electricity bus."""
    methods: dict[str, str] = {}
    for asset in site.assets:
        if asset.kind not in FORECAST_FIELDS:
            continue
        field_name, method = FORECAST_FIELDS[asset.kind]
        ref = input_refs(asset).get(field_name)
        if ref is not None:
            if methods.get(ref, method) != method:
                raise ValueError(f"input {ref!r} feeds both a load and a PV asset: it cannot be forecast as both")
            methods[ref] = method
    return methods


class CachedInputs(Inputs):
    """A case's inputs, each resolved once per time axis (the replay reads every day several times)."""

    def __init__(self, case: Case) -> None:
        super().__init__(case)
        self.cache: dict[tuple[str, int, int, int], np.ndarray] = {}

    def values(self, name: str, index: pd.DatetimeIndex, _seen: tuple[str, ...] = ()) -> np.ndarray:
        key = (name, int(index[0].value), int(index[-1].value), len(index))
        if key not in self.cache:
            self.cache[key] = super().values(name, index, _seen)
        return self.cache[key]


class ForecastInputs(Inputs):
    """The actual inputs with some replaced by forecasts (series on the day's axis, read on any part of it)."""

    def __init__(self, actual: CachedInputs, forecasts: Mapping[str, pd.Series]) -> None:
        super().__init__(actual.case)
        self.actual = actual
        self.forecasts = dict(forecasts)

    def values(self, name: str, index: pd.DatetimeIndex, _seen: tuple[str, ...] = ()) -> np.ndarray:
        if name not in self.forecasts:
            return self.actual.values(name, index, _seen)
        values = self.forecasts[name].reindex(index).to_numpy(dtype=float)
        if np.isnan(values).any():
            raise ValueError(f"the forecast of input {name!r} does not cover {index[0]} to {index[-1]}")
        return values


class ActualData:
    """Actual input values per local day [the input's unit], as the pipeline resolves them."""

    def __init__(self, inputs: CachedInputs, tz: str, step_minutes: int) -> None:
        self.inputs = inputs
        self.tz = tz
        self.step_minutes = step_minutes

    def day_index(self, date: dt.date) -> pd.DatetimeIndex:
        """Interval starts of the local day ``date``."""
        return Horizon.day(date, self.tz, self.step_minutes).index

    def day(self, name: str, date: dt.date) -> pd.Series:
        """Input ``name`` on the local day ``date``."""
        index = self.day_index(date)
        return pd.Series(self.inputs.values(name, index), index=index, name=name)

    def history(self, name: str, date: dt.date, days: int) -> pd.Series:
        """Input ``name`` over the ``days`` local days before ``date``."""
        return pd.concat([self.day(name, date - dt.timedelta(days=k)) for k in range(days, 0, -1)])


def by_clock_time(values: pd.Series, index: pd.DatetimeIndex) -> pd.Series:
    """``values`` (one day) moved onto ``index`` (another day) by local clock time (nearest; DST-safe)."""
    source = pd.Series(values.to_numpy(dtype=float), index=_clock(values.index))
    source = source[~source.index.duplicated()]
    return pd.Series(source.reindex(_clock(index), method="nearest").to_numpy(), index=index)


def _clock(index: pd.DatetimeIndex) -> pd.TimedeltaIndex:
    wall = index.tz_localize(None)
    return pd.TimedeltaIndex(wall - wall.normalize())


def load_forecast(site: Site, actual: ActualData, name: str, date: dt.date, history_days: int) -> pd.Series:
    """Day-ahead forecast of a load input on ``date`` [kW]: the site's load model on the actual history."""
    history = actual.history(name, date, history_days)
    index = actual.day_index(date)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fallbacks of the profile model (short history) are expected here
        forecast = site.load_model.forecast(history, index)
    return pd.Series(np.maximum(np.asarray(forecast, dtype=float), 0.0), index=index, name=name)


def pv_forecast(actual: ActualData, name: str, date: dt.date) -> pd.Series:
    """Day-ahead PV forecast on ``date`` [kW]: persistence, the previous day's actual profile by clock time."""
    previous = actual.day(name, date - dt.timedelta(days=1))
    return by_clock_time(previous, actual.day_index(date)).rename(name)


def day_ahead_forecasts(
    site: Site, actual: ActualData, methods: Mapping[str, str], date: dt.date, history_days: int
) -> dict[str, pd.Series]:
    """The day-ahead forecast of every forecast input on ``date``, by input name."""
    return {
        name: load_forecast(site, actual, name, date, history_days)
        if method == "load"
        else pv_forecast(actual, name, date)
        for name, method in methods.items()
    }


def corrected_forecast(
    day_ahead: pd.Series,
    actual: pd.Series,
    at: pd.Timestamp,
    options: ReplayOptions,
    upper: float | None = None,
) -> pd.Series:
    """The day-ahead forecast corrected at re-plan time ``at`` by the recent error, fading with hours ahead.

    ``upper``: a cap (PV: the largest value seen); a PV forecast (``upper`` given) stays 0 where it is 0.
    """
    since = at - pd.Timedelta(minutes=options.correction_window_minutes)
    window = (day_ahead.index >= since) & (day_ahead.index < at)
    error_kw = float((actual[window] - day_ahead[window]).mean()) if window.any() else 0.0
    hours_ahead = np.asarray((day_ahead.index - at).total_seconds(), dtype=float) / 3600.0
    fade = np.where(hours_ahead >= 0.0, np.exp(-np.maximum(hours_ahead, 0.0) / options.correction_decay_h), 0.0)
    base = day_ahead.to_numpy(dtype=float)
    corrected = np.maximum(base + error_kw * fade, 0.0)
    if upper is not None:
        corrected = np.where(base > 0.0, np.minimum(corrected, upper), 0.0)
    return pd.Series(corrected, index=day_ahead.index, name=day_ahead.name)


# --- executing a plan against actual data --------------------------------------------------------


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
    """Schedule columns with ``role``, in schedule order."""
    return [c for c, info in columns.items() if info.role == role]


def _asset_of(column: str) -> str:
    return column.split(".", 1)[0]


def pv_pairs(columns: Mapping[str, ColumnInfo]) -> list[tuple[str, str]]:
    """(available, output) column pairs of the PV assets, matched by asset (the part before the first dot)."""
    available = role_columns(columns, PV_AVAILABLE)
    outputs = role_columns(columns, PV_OUTPUT)
    if len(available) == 1 and len(outputs) == 1:
        return [(available[0], outputs[0])]
    by_asset = {_asset_of(c): c for c in available}
    missing = [c for c in outputs if _asset_of(c) not in by_asset]
    if missing:
        raise ValueError(f"no available-PV column for {', '.join(missing)}")
    return [(by_asset[_asset_of(c)], c) for c in outputs]


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

    Decision columns follow the plan; data columns take the actual values; PV and grid as in the module
    docstring. All powers [kW], energies [kWh] (``dt_h``: step length [h]).
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


def evaluate_schedule(schedule: pd.DataFrame, ctx: BuildContext) -> Kpis:
    """KPIs of an executed ``schedule`` with the optimiser's own cost terms for the problem of ``ctx``."""
    return compute_kpis(schedule.reindex(columns=list(ctx.flows), fill_value=0.0), ctx)


# --- results -------------------------------------------------------------------------------------


@dataclass
class DayCost:
    """One strategy's executed day (or, with ``date="total"``, its whole run). Money [CNY], energy [kWh]."""

    date: str
    strategy: str
    total_cny: float
    energy_cny: float
    demand_charge_cny: float
    other_cny: float
    non_cash_cny: float
    peak_import_kw: float
    solves: int
    fallback_solves: int
    max_mip_gap: float
    solve_seconds: float
    wall_seconds: float
    load_deviation_kwh: float
    pv_deviation_kwh: float
    extra_curtailment_kwh: float
    unplaced_surplus_kwh: float
    import_over_limit_kwh: float
    max_balance_residual_kw: float
    """Largest bus-balance mismatch of the executed schedule (0 unless a surplus could not be placed)."""


ENERGY_COMPONENTS = ("grid_energy", "export_revenue")
DEMAND_COMPONENT = "demand_charge"
_SUMMED = (
    "total_cny",
    "energy_cny",
    "demand_charge_cny",
    "other_cny",
    "non_cash_cny",
    "solves",
    "fallback_solves",
    "solve_seconds",
    "wall_seconds",
    "load_deviation_kwh",
    "pv_deviation_kwh",
    "extra_curtailment_kwh",
    "unplaced_surplus_kwh",
    "import_over_limit_kwh",
)


def cost_split(kpis: Kpis) -> dict[str, float]:
    """Money paid [CNY]: total (``Kpis.energy_cost_cny``), energy (grid energy net of export revenue), demand
    charge, other (gas, certificates, wear, starts...); and the non-cash rest of the objective (carbon, penalty)."""
    components = kpis.cost_cny_by_component
    energy = sum(components.get(c, 0.0) for c in ENERGY_COMPONENTS)
    demand = components.get(DEMAND_COMPONENT, 0.0)
    return {
        "total_cny": kpis.energy_cost_cny,
        "energy_cny": energy,
        "demand_charge_cny": demand,
        "other_cny": kpis.energy_cost_cny - energy - demand,
        "non_cash_cny": kpis.objective_cny - kpis.energy_cost_cny,
    }


def total_of(days: Iterable[DayCost], strategy: str) -> DayCost:
    """A strategy's days summed (peak and gap: the largest)."""
    mine = [d for d in days if d.strategy == strategy]
    summed = {name: sum(getattr(d, name) for d in mine) for name in _SUMMED}
    peak = max((d.peak_import_kw for d in mine), default=0.0)
    gap = max((d.max_mip_gap for d in mine), default=0.0)
    residual = max((d.max_balance_residual_kw for d in mine), default=0.0)
    return DayCost(
        date="total",
        strategy=strategy,
        peak_import_kw=peak,
        max_mip_gap=gap,
        max_balance_residual_kw=residual,
        **summed,
    )


@dataclass
class ReplayResult:
    """A replay over a date range: each strategy's executed days, and what the report says about them."""

    scenario: str
    label: str
    currency: str
    start: dt.date
    end: dt.date
    every_minutes: int
    forecast: dict[str, str]
    known: list[str]
    committed: list[str]
    days: list[DayCost]
    seconds: float
    schedules: dict[str, pd.DataFrame] = field(default_factory=dict)

    def totals(self) -> dict[str, DayCost]:
        """Each strategy's run, summed."""
        return {s: total_of(self.days, s) for s in STRATEGIES}

    def frame(self) -> pd.DataFrame:
        """One row per day and strategy, then one total row per strategy."""
        rows = [dataclasses.asdict(d) for d in self.days]
        rows += [dataclasses.asdict(t) for t in self.totals().values()]
        return pd.DataFrame(rows).round(6)

    @property
    def fallback_solves(self) -> int:
        return sum(d.fallback_solves for d in self.days)

    def notes(self) -> list[str]:
        """What the reader must know: the inputs taken as known, committed assets, and the cost ordering."""
        notes = [f"forecast: {', '.join(f'{n} ({m})' for n, m in self.forecast.items()) or 'nothing'}"]
        if self.known:
            notes.append(f"taken as known (forecast = actual): {', '.join(self.known)}")
        if self.committed:
            notes.append(
                f"committed to the latest plan once their window has begun (intraday): {', '.join(self.committed)}"
            )
        return notes + ordering_notes(self.days)


# --- the ordering perfect foresight <= intraday <= day-ahead ------------------------------------


def _tolerance(a: DayCost, b: DayCost) -> float:
    return 1e-6 * max(abs(a.total_cny), abs(b.total_cny), 1.0) + 1e-6


_OVER_PEAK = "a plan that stays at the month-to-date peak goes over it when the load comes in above the forecast"


def _start_reason(worse: DayCost, better: DayCost, peaks_kw: tuple[float, float] | None) -> str | None:
    """Why days after the first are not like-for-like: the month-to-date peaks (or store levels) they start from."""
    if peaks_kw is None:
        return None
    worse_kw, better_kw = peaks_kw
    if better_kw > worse_kw + 1e-6:
        return (
            f"{better.strategy} starts the day with a month-to-date peak of {better_kw:,.1f} kW already paid for, "
            f"{worse.strategy} with {worse_kw:,.1f} kW, so {better.strategy} imports up to its peak at no demand charge"
        )
    return "the strategies start the day from their own states (store levels, month-to-date peak)"


def _why(worse: DayCost, better: DayCost, start_peaks_kw: tuple[float, float] | None = None) -> str:
    """Likely reasons why ``worse`` (expected cheaper) cost more than ``better``.

    ``start_peaks_kw``: the month-to-date peaks (worse, better) the two started the day from; None on the first day.
    """
    start = _start_reason(worse, better, start_peaks_kw)
    reasons: list[str] = [] if start is None else [start]
    excess = worse.total_cny - better.total_cny
    demand = worse.demand_charge_cny - better.demand_charge_cny
    if demand > 0 and demand >= 0.5 * excess:
        share = "the demand charge" if demand >= excess - _tolerance(worse, better) else "mostly the demand charge"
        peaks = f"executed peaks {worse.peak_import_kw:,.1f} vs {better.peak_import_kw:,.1f} kW"
        how = "" if worse.strategy == PERFECT_FORESIGHT else f"; {_OVER_PEAK}"
        reasons.append(f"{share} ({demand:+,.2f}; {peaks}{how})")
    gap = max(worse.max_mip_gap, better.max_mip_gap)
    if excess <= gap * max(abs(worse.total_cny), abs(better.total_cny)):
        reasons.append(f"within the MIP gap ({gap:.2%})")
    if worse.fallback_solves or better.fallback_solves:
        reasons.append("a plan fell back to the rule-based schedule")
    if worse.import_over_limit_kwh > better.import_over_limit_kwh or worse.unplaced_surplus_kwh > 1e-6:
        reasons.append("executing the plan broke a grid limit")
    if len(reasons) == int(start is not None):
        reasons.append(_OWN_HORIZON[worse.strategy])
    return "; ".join(reasons)


_OWN_HORIZON = {
    PERFECT_FORESIGHT: "each day is optimal on its own, with no look beyond midnight",
    INTRADAY: "a re-plan is optimal for its corrected forecast and the rest of the day only; a correction can "
    "point the wrong way",
    DAY_AHEAD: "the plan is optimal for its forecast only",
}


def month_start_peaks(days: list[DayCost]) -> dict[tuple[str, str], float]:
    """(date, strategy) -> the largest executed peak of the earlier days of that month [kW] (the carried
    month-to-date peak, apart from a scenario's initial value)."""
    peaks: dict[tuple[str, str], float] = {}
    running: dict[tuple[str, str], float] = {}
    for d in days:
        month = (d.date[:7], d.strategy)
        peaks[d.date, d.strategy] = running.get(month, 0.0)
        running[month] = max(running.get(month, 0.0), d.peak_import_kw)
    return peaks


_PAIRS = ((PERFECT_FORESIGHT, INTRADAY), (INTRADAY, DAY_AHEAD), (PERFECT_FORESIGHT, DAY_AHEAD))
MAX_DAY_NOTES = 5
"""Days listed per pair of strategies where the ordering does not hold."""


def _broken(a: DayCost, b: DayCost) -> bool:
    return a.total_cny > b.total_cny + _tolerance(a, b)


def ordering_notes(days: list[DayCost]) -> list[str]:
    """Where perfect foresight <= intraday <= day-ahead does not hold (totals, then days), and why."""
    notes: list[str] = []
    totals = {s: total_of(days, s) for s in STRATEGIES}
    for cheap, dear in _PAIRS:
        a, b = totals[cheap], totals[dear]
        if _broken(a, b):
            notes.append(f"total: {cheap} costs {a.total_cny - b.total_cny:,.2f} more than {dear}: {_why(a, b)}")
    if not notes:
        notes.append("total: perfect foresight <= intraday <= day-ahead holds")
    by_day: dict[str, dict[str, DayCost]] = {}
    for d in days:
        by_day.setdefault(d.date, {})[d.strategy] = d
    first = next(iter(by_day), None)
    start_kw = month_start_peaks(days)
    for cheap, dear in _PAIRS:
        broken = [(date, row[cheap], row[dear]) for date, row in by_day.items() if _broken(row[cheap], row[dear])]
        if broken:
            notes.append(f"{len(broken)} day(s) with {cheap} dearer than {dear}:")
        for date, a, b in broken[:MAX_DAY_NOTES]:
            peaks = None if date == first else (start_kw[date, cheap], start_kw[date, dear])
            notes.append(f"  {date}: {a.total_cny - b.total_cny:+,.2f}: {_why(a, b, peaks)}")
        if len(broken) > MAX_DAY_NOTES:
            notes.append(f"  ... and {len(broken) - MAX_DAY_NOTES} more (replay.csv)")
    return notes


# --- running ------------------------------------------------------------------------------------


@dataclass
class _Day:
    """What every strategy of one day shares."""

    case: Case
    period: Period
    actual: ActualData
    forecasts: dict[str, pd.Series]
    pv_seen_kw: dict[str, float]
    first: DispatchProblem
    solver: SolveOptions
    options: ReplayOptions

    @property
    def date(self) -> dt.date:
        return self.period.dates[0]

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.period.horizon.index


@dataclass
class _Solves:
    count: int = 0
    fallbacks: int = 0
    max_gap: float = 0.0
    seconds: float = 0.0

    def add(self, result: DispatchResult) -> None:
        self.count += 1
        self.fallbacks += result.schedule_source != "optimizer"
        gap = result.report.mip_gap
        if gap is not None and math.isfinite(gap):
            self.max_gap = max(self.max_gap, gap)
        self.seconds += result.report.solve_seconds


def _windows(n_steps: int, every_steps: int) -> list[tuple[int, int]]:
    """Step ranges executed from successive plans."""
    return [(lo, min(lo + every_steps, n_steps)) for lo in range(0, n_steps, every_steps)]


def _rest_of_day(period: Period, lo: int) -> Period:
    """The period from step ``lo`` to the end of the day."""
    horizon = period.horizon
    start = horizon.index[lo].to_pydatetime()
    rest = Horizon(start=start, step_minutes=horizon.step_minutes, n_steps=horizon.n_steps - lo, tz=horizon.tz)
    return Period(rest, period.dates)


def _started(asset: Any, date: dt.date, at: pd.Timestamp, tz: str) -> bool:
    """Whether a clock-time asset's earliest time on ``date`` lies before ``at`` (the compile path would drop it)."""
    clocks = clock_fields(asset)
    return bool(clocks) and min(clock_time_on(date, getattr(asset, f), tz) for f in clocks) < at


def _committed_load(name: str, plan: pd.DataFrame, columns: Mapping[str, ColumnInfo], at: pd.Timestamp) -> Any:
    """A fixed load entry with the planned electricity draw of asset ``name`` from ``at`` on [kW]."""
    rest = plan[plan.index >= at]
    draw = np.zeros(len(rest))
    for column, info in columns.items():
        if _asset_of(column) != name or info.bus is None:
            continue
        if info.bus != ELECTRICITY:
            raise ValueError(f"{column}: a clock-time asset on the {info.bus} bus cannot be committed to its plan")
        draw -= info.sign * rest[column].to_numpy(dtype=float)
    entry = {"kind": "load", "name": f"{name}{COMMITTED_SUFFIX}", "power_kw": np.maximum(draw, 0.0).tolist()}
    return file_models()["load"].model_validate(entry)


def committed_case(case: Case, plan: pd.DataFrame, columns: Mapping[str, ColumnInfo], at: pd.Timestamp) -> Case:
    """The case for a re-plan at ``at``: clock-time assets whose window has begun become fixed loads at their
    planned power (their progress is not part of the registry's state)."""
    site = case.scenario.site
    date = at.tz_convert(site.tz).date()
    started = {a.name for a in site.assets if _started(a, date, at, site.tz)}
    if not started:
        return case
    kept = [a for a in site.assets if a.name not in started]
    assets = kept + [_committed_load(name, plan, columns, at) for name in sorted(started)]
    scenario = case.scenario.model_copy(update={"site": site.model_copy(update={"assets": assets})})
    return dataclasses.replace(case, scenario=scenario)


def _inputs_at(day: _Day, strategy: str, at: pd.Timestamp, lo: int) -> Inputs:
    """What a plan made at ``at`` knows: actual data, day-ahead forecasts, or corrected forecasts."""
    if strategy == PERFECT_FORESIGHT:
        return day.actual.inputs
    if lo == 0:
        return ForecastInputs(day.actual.inputs, day.forecasts)
    corrected = {}
    for name, forecast in day.forecasts.items():
        actual = day.actual.day(name, day.date)
        upper = None
        if name in day.pv_seen_kw:
            upper = max(day.pv_seen_kw[name], float(np.max(actual[actual.index < at].to_numpy(), initial=0.0)))
        corrected[name] = corrected_forecast(forecast, actual, at, day.options, upper)
    return ForecastInputs(day.actual.inputs, corrected)


def _plan(
    day: _Day,
    strategy: str,
    state: State | None,
    actual_problem: DispatchProblem,
    executed: list[Execution],
    lo: int,
    plan: pd.DataFrame | None,
    columns: Mapping[str, ColumnInfo],
) -> DispatchResult:
    """The plan made at step ``lo``: from midnight with the carried state, or from the state reached so far."""
    at = day.index[lo]
    case, period = day.case, day.period
    if lo > 0:
        so_far = pd.concat([e.schedule for e in executed])
        state = carried_state(actual_problem, so_far, at, day.first)
        assert plan is not None
        case, period = committed_case(case, plan, columns, at), _rest_of_day(period, lo)
    problem = build_problem(case, period, state, _inputs_at(day, strategy, at, lo))
    return solve(problem, day.solver)


def _merged(plan: pd.DataFrame | None, result: DispatchResult, columns: list[str]) -> pd.DataFrame:
    """The day's current plan: ``result`` over its steps for the columns it has, the earlier plan elsewhere."""
    if plan is None:
        return result.schedule.reindex(columns=columns, fill_value=0.0)
    merged = plan.copy()
    shared = [c for c in columns if c in result.schedule.columns]
    merged.loc[result.schedule.index, shared] = result.schedule[shared].to_numpy(dtype=float)
    return merged


def run_day(day: _Day, strategy: str, state: State | None) -> tuple[DayCost, State, pd.DataFrame]:
    """One strategy's day: plan(s), execution against actual data, cost; the state that starts the next day."""
    started = time.perf_counter()
    actual_problem = build_problem(day.case, day.period, state, day.actual.inputs)
    ctx = build_model(actual_problem).ctx
    actual = data_frame(ctx)
    n_steps = day.period.horizon.n_steps
    every = day.options.every_minutes // day.period.horizon.step_minutes if strategy == INTRADAY else n_steps
    plan: pd.DataFrame | None = None
    columns: dict[str, ColumnInfo] = {}
    limits: GridLimits | None = None
    executed: list[Execution] = []
    solves = _Solves()
    for lo, hi in _windows(n_steps, every):
        result = _plan(day, strategy, state, actual_problem, executed, lo, plan, columns)
        solves.add(result)
        if plan is None:
            columns = result.columns
            limits = grid_limits(ctx, columns)
        plan = _merged(plan, result, list(ctx.flows))
        assert limits is not None
        rows = plan.iloc[lo:hi]
        executed.append(execute_plan(rows, columns, actual.iloc[lo:hi], limits.rows(lo, hi), ctx.dt_h))
    schedule = pd.concat([e.schedule for e in executed])
    kpis = evaluate_schedule(schedule, ctx)
    next_state = carried_state(actual_problem, schedule, day.period.horizon.end, day.first)
    cost = DayCost(
        date=day.date.isoformat(),
        strategy=strategy,
        **cost_split(kpis),
        peak_import_kw=kpis.peak_import_kw,
        solves=solves.count,
        fallback_solves=solves.fallbacks,
        max_mip_gap=solves.max_gap,
        solve_seconds=solves.seconds,
        wall_seconds=time.perf_counter() - started,
        **_deviations(executed),
        max_balance_residual_kw=kpis.max_balance_residual_kw,
    )
    return cost, next_state, schedule


def _deviations(executed: list[Execution]) -> dict[str, float]:
    names = (
        "load_deviation_kwh",
        "pv_deviation_kwh",
        "extra_curtailment_kwh",
        "unplaced_surplus_kwh",
        "import_over_limit_kwh",
    )
    return {name: sum(getattr(e, name) for e in executed) for name in names}


def _day_periods(case: Case) -> list[Period]:
    """The case's local days, each a whole day (a replay plans and executes day by day)."""
    periods = case_periods(case)
    tz = case.scenario.site.tz
    for period in periods:
        whole = Horizon.day(period.dates[0], tz, period.horizon.step_minutes)
        if len(period.dates) != 1 or period.horizon.index[0] != whole.index[0] or period.horizon.end != whole.end:
            raise ValueError("a replay runs whole local days one by one: give a date range (horizon rolling: true)")
    return periods


def _pv_seen(actual: ActualData, methods: Mapping[str, str], date: dt.date, days: int) -> dict[str, float]:
    """The largest actual value of each PV input over the history window before ``date`` [kW]."""
    return {n: float(actual.history(n, date, days).max()) for n, m in methods.items() if m == "pv"}


def replay_case(
    case: Case,
    options: ReplayOptions | None = None,
    progress: Progress | None = None,
    keep_schedules: bool = False,
) -> ReplayResult:
    """Replays ``case`` over its days with the three strategies (see the module docstring).

    ``keep_schedules``: also return each strategy's executed schedule (all days) in ``schedules``.
    """
    options = options or ReplayOptions()
    started = time.perf_counter()
    scenario = case.scenario
    periods = _day_periods(case)
    step = periods[0].horizon.step_minutes
    if options.every_minutes % step:
        raise ValueError(f"the re-plan interval ({options.every_minutes} min) is not a multiple of the {step}-min step")
    inputs = CachedInputs(case)
    actual = ActualData(inputs, scenario.site.tz, step)
    methods = forecast_inputs(scenario.site)
    first = build_problem(case, periods[0], None, inputs)
    states: dict[str, State | None] = dict.fromkeys(STRATEGIES)
    schedules: dict[str, list[pd.DataFrame]] = {s: [] for s in STRATEGIES}
    days: list[DayCost] = []
    for period in periods:
        date = period.dates[0]
        day = _Day(
            case=case,
            period=period,
            actual=actual,
            forecasts=day_ahead_forecasts(scenario.site, actual, methods, date, options.history_days),
            pv_seen_kw=_pv_seen(actual, methods, date, options.history_days),
            first=first,
            solver=scenario.solver,
            options=options,
        )
        for strategy in STRATEGIES:
            cost, states[strategy], schedule = run_day(day, strategy, states[strategy])
            days.append(cost)
            if keep_schedules:
                schedules[strategy].append(schedule)
        if progress is not None:
            progress(date.isoformat())
    return ReplayResult(
        scenario=scenario.name,
        label=case.label,
        currency=scenario.site.currency,
        start=periods[0].dates[0],
        end=periods[-1].dates[0],
        every_minutes=options.every_minutes,
        forecast=methods,
        known=sorted({ref for a in scenario.site.assets for ref in input_refs(a).values()} - set(methods)),
        committed=[a.name for a in scenario.site.assets if clock_fields(a)],
        days=days,
        seconds=time.perf_counter() - started,
        schedules={s: pd.concat(parts) for s, parts in schedules.items() if parts},
    )


# --- output --------------------------------------------------------------------------------------

_LABELS = {DAY_AHEAD: "day-ahead", INTRADAY: "intraday", PERFECT_FORESIGHT: "perfect foresight"}
_SHORT = {DAY_AHEAD: "DA", INTRADAY: "ID", PERFECT_FORESIGHT: "PF"}


def replay_payload(result: ReplayResult) -> dict[str, Any]:
    """The replay as JSON-ready data: settings, totals per strategy, days, notes."""
    return {
        "scenario": result.scenario,
        "case": result.label,
        "currency": result.currency,
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "every_minutes": result.every_minutes,
        "forecast_inputs": result.forecast,
        "known_inputs": result.known,
        "clock_time_assets": result.committed,
        "seconds": result.seconds,
        "totals": {s: dataclasses.asdict(t) for s, t in result.totals().items()},
        "days": [dataclasses.asdict(d) for d in result.days],
        "notes": result.notes(),
    }


def write_replay(result: ReplayResult, folder: Path) -> dict[str, Path]:
    """``replay.csv`` (a row per day and strategy, then the totals) and ``replay.json`` in ``folder``."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    files = {"csv": folder / "replay.csv", "json": folder / "replay.json"}
    result.frame().to_csv(files["csv"], index=False)
    files["json"].write_text(json.dumps(replay_payload(result), indent=2), encoding="utf-8")
    return files


def print_replay(result: ReplayResult, console: Console | None = None) -> None:
    """Daily costs and peaks side by side, the totals per strategy, and the notes."""
    console = console or Console()
    legend = ", ".join(f"{_SHORT[s]} {_LABELS[s]}" for s in STRATEGIES)
    title = escape(f"{result.scenario}: cost [{result.currency}] and peak import [kW] per day")
    days = Table(title=title, box=box.SIMPLE)
    days.add_column("day")
    for prefix in ("cost", "peak"):
        for strategy in STRATEGIES:
            days.add_column(f"{prefix} {_SHORT[strategy]}", justify="right")
    by_day: dict[str, dict[str, DayCost]] = {}
    for d in result.days:
        by_day.setdefault(d.date, {})[d.strategy] = d
    for date, row in by_day.items():
        costs = [f"{row[s].total_cny:,.0f}" for s in STRATEGIES]
        days.add_row(date, *costs, *[f"{row[s].peak_import_kw:,.0f}" for s in STRATEGIES])
    console.print(days)
    console.print(legend, highlight=False)
    console.print(_totals_table(result))
    for note in result.notes():
        console.print(f"- {note}" if not note.startswith(" ") else f"  {note}", highlight=False, soft_wrap=True)


def _totals_table(result: ReplayResult) -> Table:
    every = f"re-plan every {result.every_minutes} min"
    title = f"{result.start} to {result.end}, {every} [{result.currency}]"
    table = Table(title=escape(title), box=box.SIMPLE)
    for name in ("", "total", "energy", "demand", "other", "peak kW", "solves", "solve s", "wall s"):
        table.add_column(name, justify="left" if not name else "right")
    for strategy, t in result.totals().items():
        table.add_row(
            _SHORT[strategy],
            f"{t.total_cny:,.0f}",
            f"{t.energy_cny:,.0f}",
            f"{t.demand_charge_cny:,.0f}",
            f"{t.other_cny:,.0f}",
            f"{t.peak_import_kw:,.0f}",
            str(t.solves),
            f"{t.solve_seconds:,.1f}",
            f"{t.wall_seconds:,.1f}",
        )
    return table
