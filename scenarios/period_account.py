"""Targets and contract volumes over a month, a year or a date range, carried day by day in a rolling run.

A site's share targets, emission cap and green-contract volumes may hold ``over`` a longer period than a day
(:mod:`optimizer.periods`). Planning each day on its own with the period's figure would force a cloudy day to
the share of a sunny one, or an annual contract to 1/365 a day whatever the day offers. So a rolling run keeps
an account:

1. **A plan over the rest of the period.** On the run's first day, on the first day of each month and every
   ``replan_every_days``, one LP is solved over the remaining days the run covers (up to the end of the latest
   period in force), at ``step_minutes`` (hourly by default) with integer decisions relaxed, the targets and
   volumes holding over their periods with the progress so far (``Targets.so_far``). Its schedule says what
   each day should contribute: the day's green share, PV self-consumption, energy from each contract and
   emissions.
2. **Each day is held to its share.** The day's problem gets these as its own targets (soft, at the period
   target's penalty) and its contract minimum (soft at the contract's shortfall price, or 1 CNY/kWh above its
   mean price, counted as a penalty, not money) and maximum (the plan's volume when the period maximum binds,
   else what is left of it).
3. **The account records what was done.** The metered-equivalent energy of each day's schedule adds to the
   period's progress; the next plan starts from it, so a day that fell short is made up by the days after.

Where a plan cannot be made (infeasible over the period, or the model cannot be built at the plan's step), the
days use the site's targets with the progress so far: the optimiser then pro-rates volumes and holds shares
over the period to date (pacing), and the account says so.

A period longer than the run (a year's target on a month's run) holds over the days run: volumes are
pro-rated to them, shares hold over them; :class:`PeriodFigure` says what the rest of the period must do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from optimizer import DispatchProblem, DispatchResult, Horizon, TargetProgress, Targets
from optimizer.assets.base import BuildContext
from optimizer.assets.green_contract import GreenContractSpec
from optimizer.dispatch import solve_relaxed
from optimizer.errors import ProblemError
from optimizer.kpis import emissions_kgco2, energy_totals
from optimizer.periods import Over, period_bounds, period_groups, progress_since
from optimizer.solve import SolveOptions
from scenarios.rolling import Period
from scenarios.site import Site
from scenarios.spec import PeriodPlanSettings

ItemKind = Literal["pv_self_consumption", "green_share", "emission_cap", "contract"]
SHARE_ITEMS = ("pv_self_consumption", "green_share")
"""Items whose day measure is a share (0-1); the others are kWh or kgCO2."""
STEERING_PREMIUM_CNY_PER_KWH = 1.0
"""Added to a contract's mean price to steer a day to its planned volume when the contract sets no shortfall
price: a kWh not taken today must be taken on a later day, so missing it costs at least the price again."""


@dataclass(frozen=True)
class Item:
    """One target or contract volume that holds over a period longer than a day."""

    key: str
    kind: ItemKind
    over: Over
    asset: str | None = None


def period_items(site: Site) -> list[Item]:
    """The targets and contract volumes of ``site`` that hold over a day, month, year or date range."""
    items: list[Item] = []
    targets = site.targets
    for kind in ("pv_self_consumption", "green_share", "emission_cap"):
        target = getattr(targets, kind)
        if target is not None and target.over != "horizon":
            items.append(Item(kind, kind, target.over))  # type: ignore[arg-type]
    for asset in site.assets:
        if getattr(asset, "kind", None) == "green_contract" and asset.energy_over != "horizon":  # type: ignore[attr-defined]
            has_volume = asset.min_energy_kwh > 0 or asset.max_energy_kwh is not None  # type: ignore[attr-defined]
            if has_volume:
                items.append(Item(f"{asset.name}.energy", "contract", asset.energy_over, asset.name))  # type: ignore[attr-defined]
    return items


def spans_months(site: Site) -> bool:
    """Whether an item of ``site`` holds over more than a calendar month (a year, a date range), so that the
    months of a run cannot be run apart (each month would plan the year on its own)."""
    return any(item.over not in ("day", "month") for item in period_items(site))


def period_label(over: Over, day: dt.date) -> str | None:
    """The label of the period of ``over`` that contains ``day`` (None: a date range that does not)."""
    first, after, label = period_bounds(over, day)
    return label if first <= day < after else None


@dataclass(frozen=True, kw_only=True)
class DayMeasures:
    """What one day contributed to the account of targets and volumes over a period (energy [kWh], emissions
    [kgCO2]); the EMS service's daily account rows (:class:`scenarios.ems_data.DayShare`) extend it."""

    pv_available_kwh: float = 0.0
    pv_output_kwh: float = 0.0
    import_kwh: float = 0.0
    export_kwh: float = 0.0
    green_kwh: float = 0.0
    contracts_kwh: dict[str, float] = field(default_factory=dict)
    emissions_location_kgco2: float = 0.0
    emissions_market_kgco2: float = 0.0

    @property
    def self_used_kwh(self) -> float:
        return self.pv_output_kwh - self.export_kwh

    @property
    def consumption_kwh(self) -> float:
        return self.import_kwh + self.self_used_kwh

    def value(self, item: Item) -> float | None:
        """The item's measure on this day: a share (0-1; None when undefined), kWh or kgCO2."""
        if item.kind == "pv_self_consumption":
            return self.self_used_kwh / self.pv_available_kwh if self.pv_available_kwh > 1e-9 else None
        if item.kind == "green_share":
            used = self.self_used_kwh + self.green_kwh
            return used / self.consumption_kwh if self.consumption_kwh > 1e-9 else None
        if item.kind == "emission_cap":
            return self.emissions_market_kgco2
        return self.contracts_kwh.get(item.asset or "", 0.0)


def day_measures(result: DispatchResult, contracts: Sequence[str], dt_h: float) -> DayMeasures:
    """What one day's result (a one-day horizon) adds to the account, from its KPIs and contract columns."""
    kpis = result.kpis
    return DayMeasures(
        pv_available_kwh=kpis.pv_available_kwh,
        pv_output_kwh=kpis.pv_output_kwh,
        import_kwh=kpis.import_kwh,
        export_kwh=kpis.export_kwh,
        green_kwh=kpis.green_contract_kwh,
        contracts_kwh={
            name: float(result.schedule[f"{name}.power_kw"].sum() * dt_h)
            for name in contracts
            if f"{name}.power_kw" in result.schedule
        },
        emissions_location_kgco2=kpis.emissions_location_kgco2,
        emissions_market_kgco2=kpis.emissions_market_kgco2,
    )


def _add(progress: TargetProgress, day: DayMeasures) -> TargetProgress:
    contracts = dict(progress.contracts_kwh)
    for name, kwh in day.contracts_kwh.items():
        contracts[name] = contracts.get(name, 0.0) + kwh
    return TargetProgress(
        pv_available_kwh=progress.pv_available_kwh + day.pv_available_kwh,
        pv_output_kwh=progress.pv_output_kwh + day.pv_output_kwh,
        import_kwh=progress.import_kwh + day.import_kwh,
        export_kwh=max(0.0, progress.export_kwh + day.export_kwh),
        green_kwh=progress.green_kwh + day.green_kwh,
        contracts_kwh=contracts,
        since=progress.since,
        emissions_location_kgco2=max(0.0, progress.emissions_location_kgco2 + day.emissions_location_kgco2),
        emissions_market_kgco2=max(0.0, progress.emissions_market_kgco2 + day.emissions_market_kgco2),
    )


def measures_by_day(schedule: pd.DataFrame, ctx: BuildContext, contracts: Sequence[str]) -> dict[dt.date, DayMeasures]:
    """Per local day of ``schedule`` (a solved horizon of the problem ``ctx`` was built from): what it adds to the
    account."""
    local = schedule.index.tz_convert(ctx.horizon.tz or schedule.index.tz)
    out: dict[dt.date, DayMeasures] = {}
    for day in dict.fromkeys(local.date):
        steps = np.flatnonzero(local.date == day)
        part = schedule.iloc[steps]
        totals = energy_totals(part, ctx)
        out[day] = DayMeasures(
            pv_available_kwh=totals.pv_available_kwh,
            pv_output_kwh=totals.pv_output_kwh,
            import_kwh=totals.import_kwh,
            export_kwh=totals.export_kwh,
            green_kwh=totals.green_kwh,
            contracts_kwh={
                name: float(part[f"{name}.power_kw"].sum() * ctx.dt_h)
                for name in contracts
                if f"{name}.power_kw" in part
            },
            emissions_location_kgco2=emissions_kgco2(schedule, ctx, "location", steps.tolist()),
            emissions_market_kgco2=emissions_kgco2(schedule, ctx, "market", steps.tolist()),
        )
    return out


class DayShare(BaseModel):
    """One day of one item in the account: what the plan gave it and what the day did."""

    date: dt.date
    item: str
    period: str
    allocated: float | None = Field(description="The day's share from the period plan (share 0-1, kWh, kgCO2).")
    achieved: float | None = Field(description="What the day's schedule did, in the same unit.")
    source: Literal["plan", "pacing"] = Field(description="plan: held to the plan's share; pacing: see module doc.")
    at_most: bool = Field(
        False, description="The share is a most (an emission cap, a contract with only a maximum), not a least."
    )

    @property
    def did_its_share(self) -> bool | None:
        """Whether the day did at least (at most, for a cap) its planned share; None without a plan."""
        if self.allocated is None or self.achieved is None:
            return None
        tolerance = 1e-6 if self.item in SHARE_ITEMS else 1e-3
        difference = self.achieved - self.allocated
        return difference <= tolerance if self.at_most else difference >= -tolerance


class PeriodFigure(BaseModel):
    """An item's figure over one period (as far as the run covers it) against its requirement."""

    item: str
    kind: str
    period: str
    unit: str = Field(description="'share' (0-1), 'kWh' or 'kgCO2'.")
    required: float = Field(description="Minimum share; or minimum (contracts, kWh) or cap (kgCO2) for the days run.")
    maximum: float | None = Field(None, description="Contracts: maximum for the days run [kWh].")
    achieved: float
    met: bool
    days_run: int
    days_in_period: int
    days_above: int = Field(description="Days that did at least their planned share (or at most, for a cap).")
    days_below: int
    rest_of_period: str | None = Field(None, description="What the days of the period after the run must do.")


class PeriodAccount:
    """The account of a rolling run's period items: progress per period, the plan, each day's terms."""

    def __init__(self, site: Site, settings: PeriodPlanSettings | None = None) -> None:
        self.site = site
        self.settings = settings or PeriodPlanSettings()
        self.items = period_items(site)
        self.progress: dict[tuple[str, str], TargetProgress] = {}
        self.days: list[DayShare] = []
        self.allocation: dict[dt.date, DayMeasures] = {}
        self.notes: list[str] = []
        self.run_dates: list[dt.date] = []
        self.binding_max: dict[str, bool] = {}
        self.contracts = [i.asset for i in self.items if i.kind == "contract" and i.asset]
        self._planned_on: dt.date | None = None

    @property
    def active(self) -> bool:
        return bool(self.items)

    def _so_far(self, day: dt.date) -> TargetProgress:
        """Progress so far of each item's period containing ``day``, as one :class:`TargetProgress`."""
        merged = TargetProgress(since=self.run_dates[0] if self.run_dates else None)
        contracts: dict[str, float] = {}
        for item in self.items:
            label = period_label(item.over, day)
            done = self.progress.get((item.key, label or ""), TargetProgress())
            if item.kind == "contract":
                contracts[item.asset or ""] = done.contracts_kwh.get(item.asset or "", 0.0)
            elif item.kind == "emission_cap":
                merged = merged.model_copy(
                    update={
                        "emissions_location_kgco2": done.emissions_location_kgco2,
                        "emissions_market_kgco2": done.emissions_market_kgco2,
                    }
                )
            else:
                fields = ("pv_available_kwh", "pv_output_kwh", "import_kwh", "export_kwh", "green_kwh")
                merged = merged.model_copy(update={f: getattr(done, f) for f in fields})
        return merged.model_copy(update={"contracts_kwh": contracts})

    def needs_plan(self, day: dt.date) -> bool:
        if self._planned_on is None or day not in self.allocation:
            return True
        return day.day == 1 or (day - self._planned_on).days >= self.settings.replan_every_days

    def plan(
        self,
        days: Sequence[dt.date],
        compile_plan: Callable[[Period, Targets, dict[str, dict[str, Any]]], DispatchProblem],
    ) -> None:
        """Solves the period plan over ``days`` (the run's remaining days) and keeps each day's share.

        ``compile_plan(period, targets, updates)``: the run's compile path on a multi-day period (state and
        inputs of the run bound in)."""
        today = days[0]
        self._planned_on = today
        last = today
        for item in self.items:
            for day in days:
                if day - today > dt.timedelta(days=self.settings.max_days - 1):
                    break
                if period_label(item.over, day) is not None:
                    last = max(last, day)
        span = [d for d in days if d <= last]
        tz = self.site.tz
        start = pd.Timestamp(span[0]).tz_localize(tz)
        end = pd.Timestamp(span[-1] + dt.timedelta(days=1)).tz_localize(tz)
        step = self.settings.step_minutes
        n_steps = int((end - start).total_seconds() // (60 * step))
        try:
            horizon = Horizon(start=start.to_pydatetime(), step_minutes=step, n_steps=n_steps, tz=tz)
            period = Period(horizon, tuple(span))
            so_far = self._so_far(today)
            targets = self.site.targets.model_copy(update={"so_far": so_far})
            problem = compile_plan(period, targets, {})
        except (ProblemError, ValueError) as error:
            self._pacing(span, f"the period plan from {today} could not be built ({error}); the days pace")
            return
        report, schedule, ctx = solve_relaxed(problem, SolveOptions(time_limit_s=self.settings.time_limit_s))
        if schedule is None:
            self._pacing(span, f"the period plan from {today} is {report.status}; the days pace")
            return
        self.allocation = measures_by_day(schedule, ctx, self.contracts)
        self.binding_max = {name: self._max_binds(name, problem, schedule) for name in self.contracts}

    def _max_binds(self, name: str, problem: DispatchProblem, schedule: pd.DataFrame) -> bool:
        """Whether the plan takes a contract's maximum in its first period (then days get the plan's volume)."""
        spec = next(a for a in problem.assets if a.name == name)
        assert isinstance(spec, GreenContractSpec)
        if spec.max_energy_kwh is None:
            return False
        index = problem.horizon.index
        groups = period_groups(
            index, problem.horizon.step_minutes, spec.energy_over, progress_since(problem.targets.so_far)
        )
        first = groups[0]
        taken = float(schedule[f"{name}.power_kw"].to_numpy()[list(first.steps)].sum() * problem.horizon.dt_h)
        allowed = spec.max_energy_kwh * first.covered_frac - problem.targets.so_far.contracts_kwh.get(name, 0.0)  # type: ignore[union-attr]
        return taken >= allowed - max(1e-6, 1e-6 * abs(allowed))

    def _pacing(self, days: Sequence[dt.date], note: str) -> None:
        self.notes.append(note)
        for day in days:
            self.allocation.pop(day, None)

    def day_terms(self, day: dt.date) -> tuple[Targets, dict[str, dict[str, Any]]]:
        """The day's targets and contract field updates: its share of the plan, or pacing without one."""
        site_targets = self.site.targets
        planned = self.allocation.get(day)
        so_far = self._so_far(day)
        if planned is None:
            return site_targets.model_copy(update={"so_far": so_far}), {}
        updates: dict[str, dict[str, Any]] = {}
        targets = site_targets.model_copy(update={"so_far": None})
        for item in self.items:
            if period_label(item.over, day) is None:
                continue
            share = planned.value(item)
            if item.kind in ("pv_self_consumption", "green_share"):
                target = getattr(site_targets, item.kind)
                day_target = (
                    None
                    if share is None
                    else target.model_copy(
                        update={"min_frac": float(np.clip(share, 0.0, 1.0)), "hard": False, "over": "horizon"}
                    )
                )
                targets = targets.model_copy(update={item.kind: day_target})
            elif item.kind == "emission_cap":
                cap = site_targets.emission_cap
                assert cap is not None and share is not None
                day_cap = cap.model_copy(update={"max_kgco2": max(0.0, share), "hard": False, "over": "horizon"})
                targets = targets.model_copy(update={"emission_cap": day_cap})
            else:
                updates[item.asset or ""] = self._contract_terms(item, day, share or 0.0, so_far)
        return targets, updates

    def _contract_terms(self, item: Item, day: dt.date, planned_kwh: float, so_far: TargetProgress) -> dict[str, Any]:
        spec = self.site.asset(item.asset or "")
        price = spec.shortfall_price_cny_per_kwh
        if price is None:
            value = spec.price_cny_per_kwh
            mean = float(np.mean(value)) if not isinstance(value, str) else 0.0
            price = max(0.0, mean) + STEERING_PREMIUM_CNY_PER_KWH
        terms: dict[str, Any] = {
            "energy_over": "horizon",
            "min_energy_kwh": planned_kwh if spec.min_energy_kwh > 0 else 0.0,
            "shortfall_price_cny_per_kwh": price,
            "shortfall_counts_as": "penalty",
            "max_energy_kwh": None,
        }
        if spec.max_energy_kwh is not None:
            if self.binding_max.get(item.asset or "", False):
                terms["max_energy_kwh"] = planned_kwh
            else:
                first, after, label = period_bounds(item.over, day)
                covered = len([d for d in self.run_dates if period_label(item.over, d) == label]) / (after - first).days
                taken = so_far.contracts_kwh.get(item.asset or "", 0.0)
                terms["max_energy_kwh"] = max(planned_kwh, spec.max_energy_kwh * min(covered, 1.0) - taken)
        return terms

    def record(self, day: dt.date, result: DispatchResult, dt_h: float) -> None:
        """Adds what ``result`` (the day's schedule, a one-day horizon of ``dt_h`` steps) did to each item's
        period progress."""
        done = day_measures(result, self.contracts, dt_h)
        planned = self.allocation.get(day)
        for item in self.items:
            label = period_label(item.over, day)
            if label is None:
                continue
            key = (item.key, label)
            self.progress[key] = _add(self.progress.get(key, TargetProgress()), done)
            self.days.append(
                DayShare(
                    date=day,
                    item=item.key,
                    period=label,
                    allocated=None if planned is None else planned.value(item),
                    achieved=done.value(item),
                    source="pacing" if planned is None else "plan",
                    at_most=self._at_most(item),
                )
            )

    def _at_most(self, item: Item) -> bool:
        """Whether a day's share of ``item`` is a most: an emission cap, a contract with only a maximum."""
        if item.kind == "emission_cap":
            return True
        return item.kind == "contract" and self.site.asset(item.asset or "").min_energy_kwh <= 0

    def _days_in_period(self, item: Item, label: str) -> int:
        """Number of days of the period ``label`` of ``item`` (a period the account has days of)."""
        day = next(d.date for d in self.days if d.item == item.key and d.period == label)
        first, after, _ = period_bounds(item.over, day)
        return (after - first).days

    def figures(self) -> list[PeriodFigure]:
        """Each item's figure over each period the run touched, against its requirement."""
        out = []
        for item in self.items:
            for label in dict.fromkeys(d.period for d in self.days if d.item == item.key):
                rows = [d for d in self.days if d.item == item.key and d.period == label]
                out.append(self._figure(item, label, rows))
        return out

    def _figure(self, item: Item, label: str, rows: list[DayShare]) -> PeriodFigure:
        totals = DayMeasures(**self.progress[(item.key, label)].model_dump(exclude={"since"}))
        achieved = totals.value(item) or 0.0
        days_in = self._days_in_period(item, label)
        covered, days_rest = len(rows) / days_in, days_in - len(rows)
        maximum, rest = None, None
        if item.kind in ("pv_self_consumption", "green_share"):
            required, unit = getattr(self.site.targets, item.kind).min_frac, "share"
            met = achieved >= required - 1e-6
            if days_rest > 0:
                rest = self._rest_share(item, required, totals, len(rows), days_rest)
        elif item.kind == "emission_cap":
            cap_kgco2 = self.site.targets.emission_cap.max_kgco2  # type: ignore[union-attr]
            required, unit = cap_kgco2 * covered, "kgCO2"
            met = achieved <= required + 1e-6
            if days_rest > 0:
                left = cap_kgco2 - achieved
                rest = (
                    f"the other {days_rest} days of {label} may emit {left:,.0f} kgCO2 ({left / days_rest:,.0f} a day)"
                )
        else:
            spec = self.site.asset(item.asset or "")
            required, unit = spec.min_energy_kwh * covered, "kWh"
            maximum = None if spec.max_energy_kwh is None else spec.max_energy_kwh * covered
            met = achieved >= required - 1e-3 and (maximum is None or achieved <= maximum + 1e-3)
            if days_rest > 0:
                left = max(spec.min_energy_kwh - achieved, 0.0)
                rest = (
                    f"the other {days_rest} days of {label} must take {left:,.0f} kWh ({left / days_rest:,.0f} a day)"
                )
        planned = [r for r in rows if r.allocated is not None]
        above = sum(1 for r in planned if r.did_its_share)
        return PeriodFigure(
            item=item.key,
            kind=item.kind,
            period=label,
            unit=unit,
            required=required,
            maximum=maximum,
            achieved=achieved,
            met=met,
            days_run=len(rows),
            days_in_period=days_in,
            days_above=above,
            days_below=len(planned) - above,
            rest_of_period=rest,
        )

    @staticmethod
    def _rest_share(item: Item, required: float, totals: DayMeasures, days_done: int, days_rest: int) -> str:
        """The share the rest of the period needs if its days look like the days run on average."""
        if item.kind == "green_share":
            base_done, good_done = totals.consumption_kwh, totals.self_used_kwh + totals.green_kwh
        else:
            base_done, good_done = totals.pv_available_kwh, totals.self_used_kwh
        base_rest = base_done / max(days_done, 1) * days_rest
        if base_rest <= 0:
            return "nothing to do: no energy expected"
        needed = (required * (base_done + base_rest) - good_done) / base_rest
        return f"the other {days_rest} days need {max(needed, 0.0):.1%} on average (if they look like the days run)"
