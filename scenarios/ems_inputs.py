"""What the service fills in for the EMS: forecasts and measured state from its own data, each with its origin.

A date-only request ("plan tomorrow") leaves every ``$inputs`` series and every
initial state to the service. :func:`fill_request` completes a
:class:`~scenarios.ems.DispatchRequest` from stored data (:class:`StoredData`, the
API reads it from its database), in this order per item (the first that has it wins):

- **inputs** (``$inputs.<name>``): the request (``inputs``, ``series`` or ``weather``);
  a PV input of an asset named like one of the site's ``pv_arrays``: pvlib on the
  latest weather forecast issued before the plan that covers it
  (``forecast:pvlib``), else pvlib's clear sky (``forecast:pvlib-clear-sky``, a
  labelled fallback); any other input: the site's load model on the stored
  history of the series of that name (``forecast:load-model``); else it is missing.
- **initial states** (the fields of each asset kind's state rules): the request;
  the latest reading no older than the allowed age at the plan's start
  (``reading``); the plan in force at that time (``previous-plan``: where it
  said the state would be); else the site's own value (``site``), unless
  measured state is required.
- **windows begun**: an asset with clock times whose window began before a
  re-plan (a flexible load running, a batch started) is held to the plan in
  force for the rest of the day (``committed``), else the request must say.
- **targets so far**: a re-plan that starts during a day with share targets
  gets the energy metered since midnight (``Targets.so_far``), so the day's
  targets hold over the morning done and the rest planned.

Every missing input is listed in one :class:`~optimizer.errors.ProblemError`.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from optimizer.assets import REGISTRY
from optimizer.dispatch import ColumnInfo
from optimizer.errors import Issue, ProblemError
from optimizer.state import CarryContext, CommitmentState, LevelState, MonthPeakState
from scenarios.assets import input_refs
from scenarios.compile import committed_power
from scenarios.ems import DispatchRequest
from scenarios.meters import ValuesKind, interval_average
from scenarios.rolling import Period
from scenarios.site import Site

Origin = Literal[
    "request",
    "reading",
    "forecast:pvlib",
    "forecast:pvlib-clear-sky",
    "forecast:load-model",
    "previous-plan",
    "site",
]


@dataclass(frozen=True)
class Source:
    """Where one input or state value of a plan came from, and as of when (a reading's time, a forecast's issue)."""

    origin: Origin
    as_of: dt.datetime | None = None
    detail: str = ""


@dataclass(frozen=True)
class StoredWeather:
    weather: Any  # forecasting.Weather
    issued_at: dt.datetime
    label: str


class StoredData(Protocol):
    """The service's data about one site, read as the plan needs it."""

    def readings(self, name: str, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.Series, ValuesKind] | None:
        """Raw readings of a series in ``[start, end)`` (tz-aware index) and their kind; None for no series."""
        ...

    def latest(self, name: str, at: pd.Timestamp) -> tuple[pd.Timestamp, float] | None:
        """The last reading of a series at or before ``at``."""
        ...

    def weather(self, issued_by: pd.Timestamp, start: pd.Timestamp, end: pd.Timestamp) -> StoredWeather | None:
        """The latest forecast issued by ``issued_by`` covering ``[start, end)``."""
        ...

    def planned_state(self, at: pd.Timestamp) -> tuple[dict[str, dict[str, Any]], str] | None:
        """The state the plan in force said the site would be in at ``at`` (by asset), and the plan's label."""
        ...

    def planned(self, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, ColumnInfo]]:
        """The plan in force on ``[start, end)`` (columns by name, index of interval starts) and what its columns
        are (bus, sign, role)."""
        ...


@dataclass(frozen=True)
class FillRules:
    """The operator's rules for what the service may use."""

    max_state_age: dt.timedelta = dt.timedelta(minutes=60)
    require_measured_state: bool = False
    history_days: int = 28


def site_step(period: Period) -> pd.Timedelta:
    return pd.Timedelta(minutes=period.horizon.step_minutes)


def history_on_step(data: StoredData, name: str, end: pd.Timestamp, days: int, step: pd.Timedelta) -> pd.Series | None:
    """A series' readings over the ``days`` before ``end`` as averages on the site's step (NaN where missing)."""
    start = end - pd.Timedelta(days=days)
    found = data.readings(name, start, end)
    if found is None or found[0].empty:
        return None
    raw, kind = found
    index = pd.date_range(start, end, freq=step, inclusive="left")
    averages = interval_average(raw, kind, index)
    return averages if averages.notna().any() else None


def pv_forecast(site: Site, asset_names: list[str], weather: Any, index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """pvlib AC power [kW] on ``index`` of the site's arrays named ``asset_names`` (``weather`` None: clear sky)."""
    from forecasting import ForecastWarning, forecast_pv

    arrays = [a for a in site.pv_arrays if a.name in asset_names]
    chosen = site.model_copy(update={"pv_arrays": arrays})
    with warnings.catch_warnings():
        if weather is None:  # clear sky on purpose: the plan's sources say so
            warnings.simplefilter("ignore", ForecastWarning)
        forecast = forecast_pv(chosen.pv_site(), weather, index)
    return {a.name: forecast[a.column].to_numpy().round(3) for a in arrays}


NIGHT_TAIL = pd.Timedelta(hours=1)
"""How far before a period's end a weather forecast may stop if the sun is down in between (a 2-day Open-Meteo
forecast ends at 23:00 of its second day)."""


def _night_short(site: Site, stored: StoredWeather | None, end: pd.Timestamp) -> StoredWeather | None:
    """``stored`` extended to ``end`` through the night (None if it is None or the sun is up in the gap)."""
    if stored is None:
        return None
    from forecasting.errors import WeatherDataError
    from forecasting.weather_frame import extend_into_night

    location = site.pv_site().location()

    def sun_up(times: pd.DatetimeIndex) -> np.ndarray:
        return (location.get_solarposition(times)["apparent_elevation"] > 0).to_numpy()

    try:
        weather = extend_into_night(stored.weather, end, sun_up)
    except WeatherDataError:
        return None
    return StoredWeather(weather, stored.issued_at, f"{stored.label}, extended through the night to {end}")


def _missing(name: str, message: str) -> Issue:
    return Issue(message, None, f"inputs.{name}", code="missing_input")


def fill_inputs(
    site: Site, request: DispatchRequest, period: Period, plan_time: pd.Timestamp, data: StoredData, rules: FillRules
) -> tuple[dict[str, list[float]], dict[str, Source], list[Issue]]:
    """Values for the site's ``$inputs`` the request leaves open: ``(inputs, sources, missing)``."""
    index = period.horizon.index
    start, end = pd.Timestamp(index[0]), pd.Timestamp(index[-1]) + site_step(period)
    arrays = {a.name for a in site.pv_arrays}
    inputs: dict[str, list[float]] = {}
    sources: dict[str, Source] = {}
    issues: list[Issue] = []
    pv_refs: dict[str, str] = {}  # asset -> input name, for PV forecast by pvlib
    for asset in site.assets:
        name: str = asset.name  # type: ignore[attr-defined]
        for field, ref in input_refs(asset).items():
            if ref in sources or ref in pv_refs.values():
                continue
            if ref in request.inputs or f"{name}.{field}" in request.series:
                sources[ref] = Source("request")
            elif asset.kind == "pv" and field == "available_kw" and name in arrays:  # type: ignore[attr-defined]
                if request.weather is not None:
                    sources[ref] = Source("forecast:pvlib", None, "the request's weather")
                else:
                    pv_refs[name] = ref
            else:
                history = history_on_step(data, ref, start, rules.history_days, site_step(period))
                if history is None:
                    message = f"no values: not in the request and no readings of {ref!r} in the {rules.history_days}"
                    issues.append(_missing(ref, f"{message} days before {start.isoformat()}"))
                    continue
                try:
                    forecast = site.load_model.forecast(history.dropna(), index)
                except ValueError as error:
                    issues.append(_missing(ref, f"the load model cannot forecast {ref!r}: {error}"))
                    continue
                inputs[ref] = np.asarray(forecast, dtype=float).round(3).tolist()
                last = pd.Timestamp(history.dropna().index[-1]) + site_step(period)
                sources[ref] = Source("forecast:load-model", last.to_pydatetime(), f"{site.load_model.method} model")
    if pv_refs:
        stored = data.weather(plan_time, start, end)
        if stored is None:  # a forecast that stops short of the period's end in the night will do
            stored = _night_short(site, data.weather(plan_time, start, end - NIGHT_TAIL), end)
        weather = stored.weather if stored is not None else None
        values = pv_forecast(site, list(pv_refs), weather, index)
        for asset_name, ref in pv_refs.items():
            inputs[ref] = values[asset_name].tolist()
            if stored is None:
                sources[ref] = Source("forecast:pvlib-clear-sky", None, "no weather forecast covers the period")
            else:
                sources[ref] = Source("forecast:pvlib", stored.issued_at, stored.label)
    return inputs, sources, issues


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
    ends = _epoch_s(pd.DatetimeIndex(plan.index) + step)  # a level is at its interval's end, linear in between
    times = _epoch_s(pd.DatetimeIndex([since, at]))
    if times[0] < ends[0] or times[1] > ends[-1]:
        return 0.0
    at_since, at_start = np.interp(times, ends, plan[column].to_numpy(dtype=float))
    return float(at_start - at_since)


def _epoch_s(index: pd.DatetimeIndex) -> np.ndarray:
    return index.as_unit("ns").asi8.astype(float) / 1e9


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


def fill_request(
    site: Site,
    request: DispatchRequest,
    period: Period,
    plan_time: pd.Timestamp,
    data: StoredData,
    rules: FillRules,
) -> tuple[DispatchRequest, dict[str, Source]]:
    """``request`` with every input and state it leaves open filled from ``data``, and where each came from."""
    inputs, input_sources, missing = fill_inputs(site, request, period, plan_time, data, rules)
    state, state_sources, refused = fill_state(site, request, period, data, rules)
    committed, committed_sources, begun = fill_committed(site, request, period, data)
    if missing or refused or begun:
        raise ProblemError([*missing, *refused, *begun])
    progress, progress_source = fill_progress(site, request, period, data)
    merged_state = {name: {**state.get(name, {}), **request.initial_state.get(name, {})} for name in state}
    filled = request.model_copy(
        update={
            "inputs": {**inputs, **request.inputs},
            "initial_state": {**request.initial_state, **merged_state},
            "so_far": request.so_far if progress is None else progress,
            "committed": {**committed, **request.committed},
        }
    )
    sources = {f"inputs.{k}": v for k, v in input_sources.items()}
    sources |= {f"initial_state.{k}": v for k, v in state_sources.items()}
    sources |= {f"committed.{k}": v for k, v in committed_sources.items()}
    sources |= {f"committed.{k}": Source("request") for k in request.committed}
    if request.so_far is not None:
        sources["targets.so_far"] = Source("request")
    elif progress_source is not None:
        sources["targets.so_far"] = progress_source
    return filled, sources
