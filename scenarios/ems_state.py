"""The plant's state at a plan's start, from the service's data (:mod:`scenarios.ems_data`), for
:func:`scenarios.ems_inputs.fill_request`:

- initial states by each asset kind's state rules: a reading no older than the allowed age (a level carried
  through the running step as the plan in force moves it), else where the plan in force said it would be, else
  the site's own value (or refused); the month-to-date peak from the month's import readings;
- the energy metered since midnight, for a re-plan during a day with share targets (``Targets.so_far``);
- assets whose clock-time window began before a re-plan, held to the plan in force (``committed``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from optimizer.assets import REGISTRY
from optimizer.errors import Issue
from optimizer.state import CarryContext, CommitmentState, LevelState, MonthPeakState
from scenarios.assets import input_refs
from scenarios.compile import committed_power
from scenarios.ems import DispatchRequest
from scenarios.ems_data import FillRules, Origin, Source, StoredData, site_step
from scenarios.meters import epoch_seconds, interval_average
from scenarios.rolling import Period
from scenarios.site import Site


def _level_reading(
    data: StoredData, entry: Any, rule: LevelState, at: pd.Timestamp
) -> tuple[pd.Timestamp, float] | None:
    """The latest level of a store as a level in the rule's unit: from ``<name>.<level>`` or ``<name>.<x>_frac``."""
    capacity = float(getattr(entry, rule.capacity))
    candidates = []
    level = data.latest(f"{entry.name}.{rule.level}", at)
    if level is not None:
        candidates.append(level)
    frac = data.latest(f"{entry.name}.{rule.initial.removeprefix('initial_')}", at)
    if frac is not None:
        candidates.append((frac[0], frac[1] * capacity))
    return max(candidates, key=lambda c: c[0]) if candidates else None


def _planned_change(data: StoredData, column: str, since: pd.Timestamp, at: pd.Timestamp, step: pd.Timedelta) -> float:
    """How much the plan in force moves a level between a reading at ``since`` and the start ``at`` of a re-plan
    (the running step is carried out as planned); 0 without a plan covering both times."""
    if since >= at:
        return 0.0
    plan, _ = data.planned(since.floor(step) - step, at)  # from the step before: its end is where the next starts
    if plan.empty or column not in plan.columns or plan[column].isna().any():
        return 0.0
    ends = epoch_seconds(pd.DatetimeIndex(plan.index) + step)  # a level is at its interval's end, linear in between
    times = epoch_seconds(pd.DatetimeIndex([since, at]))
    if times[0] < ends[0] or times[1] > ends[-1]:
        return 0.0
    at_since, at_start = np.interp(times, ends, plan[column].to_numpy(dtype=float))
    return float(at_start - at_since)


def _commitment_reading(data: StoredData, entry: Any, rule: CommitmentState, at: pd.Timestamp) -> dict[str, Any]:
    """Units running from the latest ``<name>.on`` reading, and since when (min up/down times)."""
    name = f"{entry.name}.{rule.on}"
    latest = data.latest(name, at)
    if latest is None:
        return {}
    found = data.readings(name, at - pd.Timedelta(days=2), at + pd.Timedelta(seconds=1))
    on = round(latest[1])
    state: dict[str, Any] = {"initial_on": on > 0}
    if getattr(entry, "units", 1) > 1:
        state["initial_units_on"] = on
    minutes = None
    if found is not None:
        raw = found[0]
        other = raw[np.rint(raw.to_numpy()) != on]
        if not other.empty:
            since = raw[raw.index > other.index[-1]].index[0]
            minutes = float((at - since).total_seconds() / 60)
    state["initial_minutes_in_state"] = minutes
    return state


def _month_peak(
    data: StoredData, entry: Any, rule: MonthPeakState, at: pd.Timestamp, step: pd.Timedelta
) -> tuple[float, pd.Timestamp, pd.Timestamp] | None:
    """The month-to-date peak import [kW] from readings (averages on the site's step), the end of the last metered
    step and the start of the first; None without readings this month."""
    name = f"{entry.name}.{rule.column}"
    month_start = at.normalize().replace(day=1)
    found = data.readings(name, month_start - pd.Timedelta(days=1), at)  # a register needs the reading before
    if found is None or found[0].empty:
        return None
    index = pd.date_range(month_start, at, freq=step, inclusive="left")
    averages = interval_average(found[0], found[1], index).dropna()
    if averages.empty:
        return None
    return round(float(averages.max()), 3), pd.Timestamp(averages.index[-1]) + step, pd.Timestamp(averages.index[0])


def fill_state(
    site: Site, request: DispatchRequest, period: Period, data: StoredData, rules: FillRules
) -> tuple[dict[str, dict[str, Any]], dict[str, Source], list[Issue]]:
    """Initial states the request leaves open: ``(state by asset, sources by 'asset.field', refused)``."""
    start = pd.Timestamp(period.horizon.index[0])
    step = site_step(period)
    planned = data.planned_state(start)
    state: dict[str, dict[str, Any]] = {}
    sources: dict[str, Source] = {}
    refused: list[Issue] = []
    for entry in site.assets:
        name: str = entry.name  # type: ignore[attr-defined]
        given = request.initial_state.get(name, {})
        for rule in REGISTRY[entry.kind].state:  # type: ignore[attr-defined]
            fields = [f for f in rule.fields if f not in ("end_soc_frac", "end_level_frac")]
            if any(f in given for f in fields):
                sources |= {f"{name}.{f}": Source("request") for f in fields if f in given}
                continue
            measured: dict[str, Any] = {}
            as_of: pd.Timestamp | None = None
            if isinstance(rule, LevelState):
                found = _level_reading(data, entry, rule, start)
                if found is not None and start - found[0] <= rules.max_state_age:
                    level = found[1] + _planned_change(data, f"{name}.{rule.level}", found[0], start, step)
                    frame = pd.DataFrame({f"{name}.{rule.level}": [level]})
                    ctx = CarryContext(start - step, start, period.horizon.step_minutes, entry)
                    measured, as_of = rule.carry(entry, frame, ctx), found[0]
            elif isinstance(rule, CommitmentState):
                latest = data.latest(f"{name}.{rule.on}", start)
                if latest is not None and start - latest[0] <= rules.max_state_age:
                    measured, as_of = _commitment_reading(data, entry, rule, start), latest[0]
            elif isinstance(rule, MonthPeakState):
                peak = _month_peak(data, entry, rule, start, step)
                if peak is not None and peak[2] > start.normalize().replace(day=1):
                    # metered only from part-way through the month: at least what the plan (or the site) says
                    other = planned[0].get(name, {}) if planned is not None else {}
                    floor = float(other.get(rule.field, getattr(entry, rule.field)))
                    if floor > peak[0]:
                        state.setdefault(name, {})[rule.field] = floor
                        origin: Origin = "previous-plan" if rule.field in other else "site"
                        detail = f"above the readings' peak {peak[0]} kW, metered only from {peak[2].isoformat()}"
                        sources[f"{name}.{rule.field}"] = Source(origin, None, detail)
                        continue
                if peak is not None:
                    measured, as_of = {rule.field: peak[0]}, peak[1]
            if measured:
                state.setdefault(name, {}).update(measured)
                sources |= {f"{name}.{f}": Source("reading", as_of.to_pydatetime()) for f in measured if f in fields}
            elif planned is not None and name in planned[0]:
                carried = {f: v for f, v in planned[0][name].items() if f in rule.fields}
                state.setdefault(name, {}).update(carried)
                sources |= {f"{name}.{f}": Source("previous-plan", None, planned[1]) for f in carried if f in fields}
            else:
                for field in fields:
                    sources[f"{name}.{field}"] = Source("site", None, "no reading within the allowed age")
                    if rules.require_measured_state:
                        message = (
                            f"no reading of {name}'s state within {rules.max_state_age} of {start.isoformat()} "
                            "and none in the request"
                        )
                        refused.append(Issue(message, name, field, code="state_not_measured"))
    return state, sources, refused


def _energy_kwh(measured: pd.Series | None, planned: pd.Series | None, step_h: float) -> tuple[float, bool]:
    """Energy of a flow over the steps [kWh]: the readings where there are some, the plan where not; and whether
    the plan had to fill in."""
    if measured is None and planned is None:
        return 0.0, False
    if measured is None:
        assert planned is not None
        return float(planned.sum() * step_h), True
    if planned is None:
        return float(measured.fillna(0.0).sum() * step_h), False
    used_plan = bool((measured.isna() & planned.notna()).any())
    return float(measured.fillna(planned).fillna(0.0).sum() * step_h), used_plan


def fill_progress(site: Site, request: DispatchRequest, period: Period, data: StoredData) -> tuple[Any, Source | None]:
    """For a re-plan that starts during a day with share targets: the energy metered since midnight (readings,
    the plan in force where a reading is missing), so that the targets hold over the whole day."""
    from optimizer import TargetProgress

    targets = site.targets
    start = pd.Timestamp(period.horizon.index[0])
    midnight = start.normalize()
    if request.so_far is not None or start == midnight:
        return None, None
    if targets.pv_self_consumption is None and targets.green_share is None:
        return None, None
    step = site_step(period)
    index = pd.date_range(midnight, start, freq=step, inclusive="left")
    plan, info = data.planned(midnight, start)
    plan = plan.reindex(index)

    def planned_sum(role: str) -> pd.Series | None:
        columns = [c for c, i in info.items() if i.role == role and c in plan.columns]
        return plan[columns].sum(axis=1, min_count=1) if columns else None

    def measured(names: list[str]) -> pd.Series | None:
        series = []
        for name in names:
            found = data.readings(name, midnight - pd.Timedelta(days=1), start + step)
            if found is not None and not found[0].empty:
                series.append(interval_average(found[0], found[1], index))
        return pd.concat(series, axis=1).sum(axis=1, min_count=1) if series else None

    pv_inputs = [ref for a in site.assets if a.kind == "pv" for f, ref in input_refs(a).items() if f == "available_kw"]  # type: ignore[attr-defined]
    grids = [a.name for a in site.assets if a.kind == "grid"]  # type: ignore[attr-defined]
    step_h = step.total_seconds() / 3600
    pv, pv_planned = _energy_kwh(measured(pv_inputs), planned_sum("pv_output"), step_h)
    imported, import_planned = _energy_kwh(
        measured([f"{g}.import_kw" for g in grids]), planned_sum("grid_import"), step_h
    )
    exported, export_planned = _energy_kwh(
        measured([f"{g}.export_kw" for g in grids]), planned_sum("grid_export"), step_h
    )
    green, _ = _energy_kwh(None, planned_sum("green_purchase"), step_h)
    progress = TargetProgress(
        pv_available_kwh=round(pv, 3),
        pv_output_kwh=round(pv, 3),
        import_kwh=round(imported, 3),
        export_kwh=round(exported, 3),
        green_kwh=round(green, 3),
    )
    origin: Origin = "previous-plan" if (pv_planned or import_planned or export_planned) else "reading"
    detail = f"energy metered from {midnight.isoformat()} (green purchases as planned)"
    return progress, Source(origin, start.to_pydatetime(), detail)


def fill_committed(
    site: Site, request: DispatchRequest, period: Period, data: StoredData
) -> tuple[dict[str, list[float]], dict[str, Source], list[Issue]]:
    """Assets whose clock-time window began before a re-plan starts, held to the plan in force for the rest of
    that day (:func:`scenarios.compile.committed_power`): ``(power by asset, sources, issues)``; an issue where
    no plan says what such an asset does (the request may send it)."""
    start = pd.Timestamp(period.horizon.index[0])
    if start == start.normalize():
        return {}, {}, []
    index = period.horizon.index
    midnight = start.normalize() + pd.Timedelta(days=1)
    plan, columns = data.planned(start, midnight)
    today = plan.reindex(index[index < midnight])
    held = committed_power(site, today.fillna(0.0), columns, start)
    committed: dict[str, list[float]] = {}
    sources: dict[str, Source] = {}
    issues: list[Issue] = []
    for name, power in held.items():
        if name in request.committed:
            continue
        if not any(c.rsplit(".", 1)[0] == name for c in plan.columns):
            message = (
                f"its window began before {start.isoformat()} and no plan in force says what it does now; "
                f"send body.committed.{name}"
            )
            issues.append(Issue(message, name, None, code="window_begun"))
            continue
        committed[name] = power + [0.0] * (len(index) - len(power))  # later days plan their own windows
        ids = sorted({int(v) for v in plan["schedule_id"].dropna()})
        detail = f"window began before the re-plan: held to schedule {', '.join(map(str, ids))}"
        sources[name] = Source("previous-plan", None, detail)
    return committed, sources, issues
