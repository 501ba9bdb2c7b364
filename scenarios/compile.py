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

``committed``: for a period that starts during a day (an intraday re-plan),
the power [kW per step] of assets whose clock-time window began before it
(a flexible load running since 08:00, a batch already started). Progress inside
a window is not state the optimiser carries, so such an asset is held to that
power as a fixed load of the same name (its column stays ``<name>.power_kw``),
and its window on that day is not planned again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from optimizer import DispatchProblem
from optimizer.assets import REGISTRY
from optimizer.buses import ELECTRICITY
from optimizer.errors import Issue, ProblemError, issues_from_validation
from scenarios.assets import TariffPreset, cleared_alternatives, clock_fields, clock_time_on, input_refs
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
    if not specs and not issues:
        shown = ", ".join(f"{f} {fields[f]}" for f in clocks)
        issues.append(Issue(f"{shown} does not lie in the period {period.label}", name, clocks[0]))
    return specs


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
) -> DispatchProblem:
    """The dispatch problem of ``site`` on ``period``; raises :class:`ProblemError` listing every issue found.

    ``state``: initial states by asset name (initial or carried); ``updates``:
    other fields by asset name for this run only; ``inputs``: the values of
    ``$inputs`` references; ``committed``: fixed power by asset name for windows
    that began before the period (see the module docstring).
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
            targets=site.targets,
            objective=site.objective,
        )
    except ValidationError as error:
        issues = [replace(i, asset=origin.get(i.asset, i.asset)) for i in issues_from_validation(error)]
        raise ProblemError(issues) from error
