"""What a replay measured: each strategy's executed days priced, their totals, and what the report notes about them.

Costs are the optimiser's own KPI code (:func:`optimizer.kpis.compute_kpis`) on the executed schedule, split into
energy, demand charge and the rest (:func:`cost_split`); the notes say which inputs were forecast and where the
expected ordering perfect foresight <= intraday <= day-ahead does not hold, with likely reasons.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from optimizer import Kpis
from optimizer.assets.base import BuildContext
from optimizer.kpis import compute_kpis
from scenarios.replay_options import DAY_AHEAD, INTRADAY, PERFECT_FORESIGHT, STRATEGIES


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


def evaluate_schedule(schedule: pd.DataFrame, ctx: BuildContext) -> Kpis:
    """KPIs of an executed ``schedule`` with the optimiser's own cost terms for the problem of ``ctx``."""
    return compute_kpis(schedule.reindex(columns=list(ctx.flows), fill_value=0.0), ctx)


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
