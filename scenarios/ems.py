"""The EMS's morning request as compile arguments: a stored :class:`~scenarios.site.Site` plus a period,
inputs, measured states and overrides.

:func:`request_problem` turns a site and a :class:`DispatchRequest` into a
:class:`~optimizer.DispatchProblem` through :func:`scenarios.compile.compile_problem`
(the same path as scenario files). Its errors are :class:`~optimizer.errors.Issue`
objects; :func:`request_field` says which field of the request (or of the stored
site) each one concerns, so the API can name it in a 422.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from optimizer import DispatchProblem, Horizon, TargetProgress
from optimizer.assets import REGISTRY
from optimizer.errors import Issue, ProblemError
from optimizer.types import FiniteFloat
from scenarios.assets import input_refs
from scenarios.compile import SeriesByName, State, compile_problem
from scenarios.rolling import Period
from scenarios.site import Site


class HorizonRequest(BaseModel):
    """An explicit horizon instead of a local day."""

    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime
    step_minutes: int = Field(15, ge=5, le=60)
    n_steps: int = Field(ge=1, le=7 * 96)


class DispatchRequest(BaseModel):
    """One day-ahead (or intraday) dispatch request for a stored site.

    ``initial_state`` has the shape of a scenario file's: by asset name, the
    state fields its kind declares (``initial_soc_frac``, ``initial_level_frac``,
    ``initial_on``, ``initial_units_on``, ``initial_minutes_in_state``,
    ``month_to_date_peak_kw``).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    date: dt.date | None = Field(None, description="Local day to plan (92/96/100 quarter-hours).")
    horizon: HorizonRequest | None = None
    from_: AwareDatetime | None = Field(
        None,
        alias="from",
        description="Intraday re-plan: now. The quarter-hour running at this time stays as planned; the new plan "
        "starts at the next one and supersedes the old from there.",
    )
    until: AwareDatetime | None = Field(
        None, description="With 'from': the end of the re-plan (default: the end of the local day of 'from')."
    )
    inputs: dict[str, list[FiniteFloat]] = Field(
        default_factory=dict,
        description="Values of the site's $inputs references by input name: one value per step.",
    )
    series: dict[str, list[FiniteFloat]] = Field(
        default_factory=dict,
        description="Forecasts by '<asset>.<field>', e.g. 'pv_roof.available_kw': one value per step.",
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Other asset fields by '<asset>.<field>' for this request only."
    )
    initial_state: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Measured state at the start, by asset name: e.g. {'battery': {'initial_soc_frac': 0.4}}.",
    )
    committed: dict[str, list[FiniteFloat]] = Field(
        default_factory=dict,
        description="Power [kW per step] of assets whose clock-time window began before the horizon, by asset name: "
        "held as a fixed load (the service takes it from the plan in force for an intraday re-plan).",
    )
    so_far: TargetProgress | None = Field(
        None,
        description="Progress already made in the targets' periods before the horizon [kWh, kgCO2]: today's "
        "metered energy, or the month's or year's to date for targets and volumes over one; the targets hold over "
        "both. The service fills it from readings and its daily account; sent, it wins.",
    )
    weather: dict[str, Any] | None = Field(
        None,
        description="Weather forecast in the shape of Open-Meteo's /v1/forecast JSON (hourly or minutely_15); "
        "each 'pv' asset named like one of the site's pv_arrays is then forecast by pvlib, unless 'series' "
        "gives its available_kw.",
    )

    @model_validator(mode="after")
    def _one_horizon(self) -> DispatchRequest:
        if sum(x is not None for x in (self.date, self.horizon, self.from_)) != 1:
            raise ValueError("give exactly one of date, horizon or from")
        if self.until is not None and self.from_ is None:
            raise ValueError("until goes with from")
        return self

    @property
    def plan_kind(self) -> str:
        """day-ahead (a date), intraday (from), or horizon (an explicit horizon)."""
        return "day-ahead" if self.date is not None else "intraday" if self.from_ is not None else "horizon"


def request_period(site: Site, request: DispatchRequest) -> Period:
    """The period a request plans: a local day, or an explicit horizon."""
    if request.date is not None:
        return Period(Horizon.day(request.date, site.tz), (request.date,))
    if request.from_ is not None:
        horizon = intraday_horizon(site, request.from_, request.until)
    else:
        assert request.horizon is not None
        horizon = Horizon(
            start=request.horizon.start,
            step_minutes=request.horizon.step_minutes,
            n_steps=request.horizon.n_steps,
            tz=site.tz,
        )
    dates = tuple(dict.fromkeys(d.date() for d in horizon.index.tz_localize(None).normalize()))
    return Period(horizon, dates)


INTRADAY_STEP_MINUTES = 15


def intraday_horizon(site: Site, now: dt.datetime, until: dt.datetime | None) -> Horizon:
    """From the quarter-hour after the one running at ``now`` until ``until`` (default: the next local midnight)."""
    step = pd.Timedelta(minutes=INTRADAY_STEP_MINUTES)
    local = pd.Timestamp(now).tz_convert(site.tz)
    start = local.floor(step) + step
    end = pd.Timestamp(until).tz_convert(site.tz) if until is not None else _next_midnight(local, site.tz)
    n_steps = int((end - start) // step)
    if n_steps < 1:
        raise ValueError(f"nothing to plan: the re-plan would start at {start.isoformat()}, at or after until")
    if n_steps > 7 * 96:
        raise ValueError("a re-plan covers at most 7 days")
    return Horizon(start=start.to_pydatetime(), step_minutes=INTRADAY_STEP_MINUTES, n_steps=n_steps, tz=site.tz)


def _next_midnight(local: pd.Timestamp, tz: str) -> pd.Timestamp:
    day = local.date() + dt.timedelta(days=1)
    return pd.Timestamp(day).tz_localize(tz)


def request_sources(site: Site, request: DispatchRequest) -> dict[tuple[str, str], str]:
    """``(asset, field) -> the request field that sets it`` (``body.series.pv.available_kw``, ...)."""
    sources: dict[tuple[str, str], str] = {}
    for asset in site.assets:
        for field, ref in input_refs(asset).items():
            if ref in request.inputs:
                sources[asset.name, field] = f"body.inputs.{ref}"
    for group in ("series", "overrides"):
        for path in getattr(request, group):
            asset, _, field = path.partition(".")
            sources[asset, field] = f"body.{group}.{path}"
    for asset, fields in request.initial_state.items():
        for field in fields:
            sources[asset, field] = f"body.initial_state.{asset}.{field}"
    return sources


def _path_issues(site: Site, request: DispatchRequest) -> list[Issue]:
    """Unknown assets, fields that are not the asset's (or not state fields), in the request."""
    by_name = {a.name: a for a in site.assets}
    issues: list[Issue] = []

    def check(where: str, asset: str, field: str, allowed: tuple[str, ...] | None) -> None:
        if asset not in by_name:
            issues.append(
                Issue(
                    f"no asset named {asset!r}; the site has {sorted(by_name)}",
                    None,
                    where,
                    None,
                    "unknown_asset",
                    asset,
                )
            )
            return
        kind = by_name[asset].kind
        fields = REGISTRY[kind].spec.model_fields
        if field not in fields or field in ("name", "kind") or (allowed is not None and field not in allowed):
            what = "state field" if allowed is not None else "settable field"
            hint = f" (state fields: {', '.join(allowed)})" if allowed else ""
            issues.append(
                Issue(
                    f"{kind} asset {asset!r} has no {what} {field!r}{hint}", None, where, None, "unknown_field", field
                )
            )

    for group in ("series", "overrides"):
        for path in getattr(request, group):
            asset, _, field = path.partition(".")
            check(f"body.{group}.{path}", asset, field, None)
    for asset, fields in request.initial_state.items():
        allowed = REGISTRY[by_name[asset].kind].state_fields if asset in by_name else ()
        for field in fields:
            check(f"body.initial_state.{asset}.{field}", asset, field, allowed)
    return issues


def request_updates(site: Site, request: DispatchRequest, period: Period) -> State:
    """Fields the request sets by asset name: pvlib forecasts from its weather, then series and overrides."""
    updates: State = {}
    if request.weather is not None:
        updates |= _weather_updates(site, request, period)
    for group in ("series", "overrides"):
        for path, value in getattr(request, group).items():
            asset, _, field = path.partition(".")
            updates.setdefault(asset, {})[field] = value
    return updates


def _weather_updates(site: Site, request: DispatchRequest, period: Period) -> State:
    """``available_kw`` of each 'pv' asset named like a site PV array, forecast by pvlib from the request's weather
    (unless ``series`` gives it)."""
    from forecasting import forecast_pv, read_open_meteo_json

    pv_assets = {a.name for a in site.assets if a.kind == "pv"}
    named = [a for a in site.pv_arrays if a.name in pv_assets]
    if not named:
        arrays = [a.name for a in site.pv_arrays] or "none"
        message = (
            "weather needs site.pv_arrays named after the 'pv' assets they model "
            f"(pv assets: {sorted(pv_assets)}, arrays: {arrays})"
        )
        raise ProblemError([Issue(message, None, "body.weather", code="no_pv_array")])
    arrays = [a for a in named if f"{a.name}.available_kw" not in request.series]
    if not arrays:
        return {}
    chosen = site.model_copy(update={"pv_arrays": arrays})
    try:
        forecast = forecast_pv(chosen.pv_site(), read_open_meteo_json(request.weather), period.horizon.index)
    except ValueError as error:
        raise ProblemError([Issue(str(error), None, "body.weather")]) from error
    return {a.name: {"available_kw": forecast[a.column].to_numpy().round(3).tolist()} for a in arrays}


def request_problem(site: Site, request: DispatchRequest) -> DispatchProblem:
    """The dispatch problem of ``request`` on ``site``; :class:`ProblemError` names assets, fields and steps."""
    issues = _path_issues(site, request)
    if issues:
        raise ProblemError(issues)
    try:
        period = request_period(site, request)
    except ValueError as error:
        field = "body.date" if request.date is not None else "body.from" if request.from_ else "body.horizon"
        raise ProblemError([Issue(str(error), None, field)]) from error
    problem = compile_problem(
        site,
        period,
        inputs=SeriesByName(request.inputs),
        state=request.initial_state,
        updates=request_updates(site, request, period),
        name=site.name,
        committed=request.committed,
    )
    if request.so_far is None:
        return problem
    return problem.model_copy(update={"targets": problem.targets.model_copy(update={"so_far": request.so_far})})


def request_field(site: Site, request: DispatchRequest, issue: Issue) -> str:
    """The field of the request (``body.…``) or of the stored site (``site.assets.<name>.<field>``) an issue
    concerns."""
    if issue.asset is None:
        if issue.field is not None and issue.field.startswith("body."):
            return issue.field
        if issue.field is not None and issue.field.startswith("inputs."):
            return f"body.{issue.field}"
        return f"site.{issue.field}" if issue.field else "site"
    sources = request_sources(site, request)
    top = (issue.field or "").split(".")[0]
    source = sources.get((issue.asset, top))
    if source is not None:
        rest = (issue.field or "")[len(top) :]
        return source + rest + (f".{issue.step}" if issue.step is not None and not rest else "")
    for other in issue.related:  # a check between fields: the one the request set
        if (issue.asset, other) in sources:
            return sources[issue.asset, other]
    if issue.code == "value_error":  # a check on the whole asset, which the stored site passed: the request's change
        changed = [path for (asset, _), path in sources.items() if asset == issue.asset]
        if changed:
            return changed[0]
    return ".".join(p for p in ("site.assets", issue.asset, issue.field) if p)


def horizon_description(period: Period) -> str:
    """``96 x 15 min from 2026-07-15T00:00:00+08:00``."""
    horizon = period.horizon
    return f"{horizon.n_steps} x {horizon.step_minutes} min from {pd.Timestamp(horizon.index[0]).isoformat()}"
