"""The one compile path: a site, a period, its inputs and the carried state become a dispatch problem.

Every door calls :func:`compile_problem`: the scenario runner (CLI ``dispatch
run/compare/sweep``, the demo, the benchmarks, the API's what-if route) and the
API's day-ahead dispatch. A door only turns its own input (a YAML file, an
HTTP body) into these arguments, and renders the result or the
:class:`~optimizer.errors.ProblemError` (typed issues: asset, field, step)
its own way.

Per asset entry of the site, in this order (later wins):

1. the fields written in the site (unset fields keep the spec's defaults);
2. site-wide emission factors, for the fields the kind's registry entry says
   they default (only where the asset sets none itself);
3. ``state``: initial states by asset name (a scenario's ``initial_state``,
   the state carried from the previous day, a measured state in a request);
4. ``updates``: fields a request sets for this run only (forecast series, overrides);
5. ``$inputs.<name>`` references not replaced by 4., read from ``inputs`` on
   the period's time axis; tariff presets expanded; clock times (``"08:00"``)
   resolved on each local day of the period (one spec per day, ``<name>_d<k>``
   when the period has several days).

Energy windows (a kind's ``WINDOW``: flexible loads, fleets) may cross
midnight: an end clock time at or before the start is the next day's, and the
window belongs to the day it starts. One that starts in the period and ends
after it is cut at the period end (the spec's ``cut_at``: ``min_energy_kwh`` =
``energy_kwh`` less what ``max_power_kw`` can deliver after the cut, so every
split stays feasible); the energy it still owes then is its carried state
(:class:`optimizer.state.WindowEnergyState`). The next period puts
``carried_energy_kwh`` on its first day's spec, due by the in-progress window's
end (``carried_until``). The builders see two plain energy rows, never clock
times or days (:mod:`optimizer.assets.flexible_load`).

``committed``: for a period that starts during a day (an intraday re-plan),
the power [kW per step] of assets whose clock-time window began before it
(a flexible load running since 08:00, a batch already started). Progress inside
a window is not state the optimiser carries, so such an asset is held to that
power as a fixed load of the same name (its column stays ``<name>.power_kw``),
and its window on that day is not planned again. An energy window began at its
start clock time (its end may be tomorrow's); the morning part of the previous
evening's window is not held but planned again from the energy it still owes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from optimizer import DispatchProblem, Targets
from optimizer.assets import REGISTRY
from optimizer.buses import ELECTRICITY
from optimizer.errors import Issue, ProblemError, issues_from_validation
from optimizer.state import CARRIED_TOLERANCE_KWH
from scenarios.assets import TariffPreset, cleared_alternatives, clock_fields, clock_time_on, input_refs, window_on
from scenarios.rolling import Period
from scenarios.site import Site

State = dict[str, dict[str, Any]]
"""Field values by asset name: ``{"battery": {"initial_soc_frac": 0.4}}``."""


class SeriesSource(Protocol):
    """Where ``$inputs.<name>`` references get their values: one value per step of ``index``."""

    def values(self, name: str, index: pd.DatetimeIndex) -> np.ndarray: ...


class SeriesByName:
    """Inputs given as arrays, one value per step of the period (an API request, a benchmark's data)."""

    def __init__(self, series: Mapping[str, Any]) -> None:
        self.series = {name: np.asarray(values, dtype=float) for name, values in series.items()}

    def values(self, name: str, index: pd.DatetimeIndex) -> np.ndarray:
        if name not in self.series:
            known = ", ".join(sorted(self.series)) or "none given"
            raise ProblemError([Issue(f"no values for input {name!r} (inputs: {known})", field=f"inputs.{name}")])
        values = self.series[name]
        if len(values) != len(index):
            message = f"has {len(values)} values; the period has {len(index)} steps"
            raise ProblemError([Issue(message, field=f"inputs.{name}", code="series_length", value=len(values))])
        return values


def emission_defaults(site: Site, kind: str, written: Mapping[str, Any]) -> dict[str, float]:
    """The site's emission factors for the fields of ``kind`` that an asset entry does not set itself."""
    out: dict[str, float] = {}
    for factor, fields in REGISTRY[kind].emission_defaults.items():
        value = getattr(site.emission_factors, factor)
        if value is not None:
            out |= {f: value for f in fields if f not in written}
    return out


def asset_fields(site: Site, asset: BaseModel, state: State | None, updates: State | None) -> dict[str, Any]:
    """The fields of one asset entry after steps 1-4 (references still unresolved where not updated)."""
    name: str = asset.name  # type: ignore[attr-defined]
    kind: str = asset.kind  # type: ignore[attr-defined]
    fields = asset.model_dump(exclude_unset=True) | {"kind": kind}
    fields |= emission_defaults(site, kind, fields)
    fields |= (state or {}).get(name, {})
    fields |= (updates or {}).get(name, {})
    changed = (updates or {}).get(name, {})
    for field_name in type(asset).model_fields:
        value = getattr(asset, field_name)
        if isinstance(value, TariffPreset) and field_name not in changed:
            fields[field_name] = value.tariff()
    return fields | cleared_alternatives(kind, changed)


def _validated(kind: str, name: str, fields: dict[str, Any], issues: list[Issue]) -> Any:
    try:
        return REGISTRY[kind].spec.model_validate(fields)
    except ValidationError as error:
        issues += issues_from_validation(error, asset=name)
        return None


def _asset_specs(
    site: Site,
    asset: BaseModel,
    period: Period,
    fields: dict[str, Any],
    inputs: SeriesSource | None,
    issues: list[Issue],
    committed: Any = None,
) -> list[Any]:
    """The specs of one asset entry on ``period`` (one per local day for entries with clock times; a committed
    power instead of a window that began before the period)."""
    name: str = asset.name  # type: ignore[attr-defined]
    kind: str = asset.kind  # type: ignore[attr-defined]
    index = period.horizon.index
    for field_name, ref in input_refs(asset).items():
        if isinstance(fields.get(field_name), str):  # not replaced by an update
            if inputs is None:
                issues.append(Issue(f"$inputs.{ref} needs inputs, none were given", name, field_name))
                return []
            fields[field_name] = inputs.values(ref, index)
    clocks = [f for f in clock_fields(asset) if isinstance(fields.get(f), str)]
    if not clocks:
        spec = _validated(kind, name, fields, issues)
        return [] if spec is None else [spec]
    specs = []
    if committed is not None:
        load = {"kind": "load", "name": name if len(period.dates) == 1 else f"{name}_d1", "power_kw": committed}
        spec = _validated("load", name, load, issues)
        specs += [] if spec is None else [spec]
    window = REGISTRY[kind].spec.WINDOW
    if window and window[0] in clocks:
        specs += _window_specs(site, name, kind, period, fields, issues, held=committed is not None)
    else:
        specs += _day_specs(site, name, kind, period, fields, clocks, issues)
    if not specs and not issues:
        shown = ", ".join(f"{f} {fields[f]}" for f in clocks)
        issues.append(Issue(f"{shown} does not lie in the period {period.label}", name, clocks[0]))
    return specs


def _day_specs(
    site: Site, name: str, kind: str, period: Period, fields: dict[str, Any], clocks: list[str], issues: list[Issue]
) -> list[Any]:
    """One spec per local day whose clock times all lie in the period (``<name>_d<k>`` when it has several)."""
    specs = []
    for k, day in enumerate(period.dates):
        dated = dict(fields) | {f: clock_time_on(day, fields[f], site.tz) for f in clocks}
        times = [pd.Timestamp(dated[f]) for f in clocks]
        if min(times) < pd.Timestamp(period.horizon.start) or max(times) > period.horizon.end:
            continue
        if len(period.dates) > 1:
            dated["name"] = f"{name}_d{k + 1}"
        spec = _validated(kind, name, dated, issues)
        if spec is not None:
            specs.append(spec)
    return specs


CARRIED = "carried_energy_kwh"
CARRIED_FIT_KWH = 0.05
"""Carried energy above what its part can deliver by at most this [kWh] is round-off (the previous solve's, or a
stored plan's powers at 0.001 kW) and is clipped to what it can deliver; more is an issue (``check_horizon``)."""


def _window_specs(
    site: Site, name: str, kind: str, period: Period, fields: dict[str, Any], issues: list[Issue], held: bool
) -> list[Any]:
    """The specs of an energy window written with clock times (the kind's ``WINDOW``), one per local day.

    Each day's window starts on that day and ends the next day when its end clock time is at or before its start
    (:func:`scenarios.assets.window_on`). A window that starts in the period and ends after it is cut at the period
    end (``cut_at``: ``min_energy_kwh``); what it still owes then is its carried state. ``carried_energy_kwh``
    (carried, or the scenario's initial state) goes to the window in progress at the period start (the previous
    evening's, across midnight): drawn from the period start until that window's due time, on the first day's spec
    (``carried_until``), or on a spec of its own when the first day's window does not start in the period. Not
    when the window in progress is ``held`` to the plan in force (a re-plan during it, see ``committed``).
    """
    spec_type = REGISTRY[kind].spec
    window = spec_type.WINDOW
    first, end = pd.Timestamp(period.horizon.start), pd.Timestamp(period.horizon.end)
    carried = float(fields.get(CARRIED) or 0.0)
    base = dict(fields) | {CARRIED: 0.0, "carried_until": None}
    specs: list[Any] = []
    for k, day in enumerate(period.dates):
        dated = base | window_on(day, fields, window, site.tz)
        if len(period.dates) > 1:
            dated["name"] = f"{name}_d{k + 1}"
        spec = None
        if first <= pd.Timestamp(dated[window[0]]) < end:
            spec = _cut(_validated(kind, name, dated, issues), end, name, issues)
        if k == 0 and carried > CARRIED_TOLERANCE_KWH and not held:
            spec = _with_carried(site, name, kind, period, fields, dated, spec, carried, issues)
        if spec is not None:
            specs.append(spec)
    return specs


def _cut(spec: Any, end: pd.Timestamp, name: str, issues: list[Issue]) -> Any:
    """``spec`` cut at the period ``end`` (unchanged when it ends by then)."""
    if spec is None:
        return None
    try:
        return spec.cut_at(end.to_pydatetime())
    except ValidationError as error:
        issues += issues_from_validation(error, asset=name)
        return None


def _with_carried(
    site: Site,
    name: str,
    kind: str,
    period: Period,
    fields: dict[str, Any],
    dated: dict[str, Any],
    spec: Any,
    carried: float,
    issues: list[Issue],
) -> Any:
    """The first day's spec with the carried part of the window in progress at the period start (a spec of its own
    when the day's window is not in the period); an issue when no window is in progress then."""
    window = REGISTRY[kind].spec.WINDOW
    first, end = pd.Timestamp(period.horizon.start), pd.Timestamp(period.horizon.end)
    day = period.dates[0]
    found = None
    for opened in (day - dt.timedelta(days=1), day):
        times = window_on(opened, fields, window, site.tz)
        ends = [pd.Timestamp(times[f]) for f in window[1:] if f in times]
        if ends and pd.Timestamp(times[window[0]]) < first < min(ends):
            found = times, min(ends)
    if found is None:
        clocks = " to ".join(str(fields[f]) for f in window if isinstance(fields.get(f), str))
        message = f"{carried:g} kWh is owed by a window in progress at {first.isoformat()}, but {clocks} is not"
        issues.append(Issue(message, name, CARRIED))
        return spec
    times, due = found
    if spec is None:  # only the carried part lies in the period: a window of its own from the period start
        morning = dated | times | {window[0]: first.to_pydatetime(), "energy_kwh": carried, "min_energy_kwh": None}
        return _cut(_validated(kind, name, morning, issues), end, name, issues)
    fits = spec.most_kwh(first.to_pydatetime(), due.to_pydatetime())
    amount = min(carried, fits) if carried <= fits + CARRIED_FIT_KWH else carried
    return _validated(kind, name, spec.model_dump() | {CARRIED: amount, "carried_until": due.to_pydatetime()}, issues)


def committed_power(
    site: Site, plan: pd.DataFrame, columns: Mapping[str, Any], at: pd.Timestamp
) -> dict[str, list[float]]:
    """For a period starting at ``at`` during a day: the planned electricity draw [kW] on ``plan``'s rows from
    ``at`` on, by asset, of each asset with clock times whose window on that day began before ``at`` (the
    ``committed`` argument of :func:`compile_problem`). ``columns``: the plan's
    :class:`~optimizer.dispatch.ColumnInfo` by column (bus and sign)."""
    day = at.tz_convert(site.tz).date()
    rest = plan[plan.index >= at]
    out: dict[str, list[float]] = {}
    for asset in site.assets:
        name: str = asset.name  # type: ignore[attr-defined]
        clocks = [getattr(asset, f) for f in clock_fields(asset)]
        window = REGISTRY[asset.kind].spec.WINDOW  # type: ignore[attr-defined]
        if window and isinstance(getattr(asset, window[0]), str):
            clocks = [getattr(asset, window[0])]  # an energy window began at its start (its end may be tomorrow)
        if not clocks or min(pd.Timestamp(clock_time_on(day, c, site.tz)) for c in clocks) >= at:
            continue
        draw = np.zeros(len(rest))
        for column, info in columns.items():
            if column.rsplit(".", 1)[0] == name and info.bus == ELECTRICITY and column in rest.columns:
                draw -= info.sign * rest[column].fillna(0.0).to_numpy(dtype=float)
        out[name] = np.maximum(draw, 0.0).round(6).tolist()
    return out


def compile_problem(
    site: Site,
    period: Period,
    *,
    inputs: SeriesSource | None = None,
    state: State | None = None,
    updates: State | None = None,
    name: str | None = None,
    committed: Mapping[str, Any] | None = None,
    targets: Targets | None = None,
) -> DispatchProblem:
    """The dispatch problem of ``site`` on ``period``; raises :class:`ProblemError` listing every issue found.

    ``state``: initial states by asset name (initial or carried); ``updates``:
    other fields by asset name for this run only; ``inputs``: the values of
    ``$inputs`` references; ``committed``: fixed power by asset name for windows
    that began before the period (see the module docstring); ``targets``: the period's targets instead of the
    site's (a day's share of a year's targets, from :mod:`scenarios.period_account`).
    """
    issues: list[Issue] = []
    specs: list[Any] = []
    origin: dict[str, str] = {}
    for asset in site.assets:
        fields = asset_fields(site, asset, state, updates)
        held = (committed or {}).get(asset.name)  # type: ignore[attr-defined]
        built = _asset_specs(site, asset, period, fields, inputs, issues, held)
        specs += built
        origin |= {spec.name: asset.name for spec in built}  # type: ignore[attr-defined]
    if issues:
        raise ProblemError(issues)
    try:
        return DispatchProblem(
            name=name or f"{site.name}:{period.label}",
            currency=site.currency,
            horizon=period.horizon,
            assets=specs,
            targets=site.targets if targets is None else targets,
            objective=site.objective,
        )
    except ValidationError as error:
        issues = [replace(i, asset=origin.get(i.asset, i.asset)) for i in issues_from_validation(error)]
        raise ProblemError(issues) from error
