"""The dispatch problem of a request on a stored site, with 422s that name the request field at fault.

:func:`scenarios.ems.problem_from_request` builds the problem; this module only
attributes its errors: a series of the wrong length, an unknown asset, an initial
SOC outside the battery's window or a bad override is reported against the field
of the request that set it (``body.series.pv_roof.available_kw``,
``body.initial_state.battery_soc_frac.battery``), and a stored site series that
does not fit the requested day (a DST day has 92 or 100 quarter-hours) against
``site.assets.<name>.<field>``.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from api.errors import ProblemInputError, validation_details
from optimizer import DispatchProblem, Horizon
from scenarios.ems import (
    INITIAL_STATE_FIELDS,
    DispatchRequest,
    SiteSpec,
    field_updates,
    problem_from_request,
    request_horizon,
)

_SERIES_LENGTH = re.compile(r"assets\[\d+\] \((?P<asset>[^)]*)\)\.(?P<field>\w+) has (?P<length>\d+) values")
_ASSET_HORIZON = re.compile(r"assets\[\d+\] \((?P<asset>[^)]*)\): (?P<message>[^\n]*)")


def build_problem(site_spec: dict[str, Any], body: DispatchRequest) -> DispatchProblem:
    """The problem, or :class:`ProblemInputError` naming the fields at fault (never a bare 500)."""
    try:
        site = SiteSpec.model_validate(site_spec)
    except ValidationError as error:
        raise ProblemInputError.from_exception(error, ("site",)) from error
    try:
        return problem_from_request(site, body)
    except (ValidationError, ValueError) as error:
        details = explain(site, body, error)
        if not details:
            raise ProblemInputError.from_exception(error) from error
        raise ProblemInputError(details) from error


def _detail(field: str, message: str, kind: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "message": message, "type": kind, "input": value}


def request_paths(site: SiteSpec, body: DispatchRequest) -> list[tuple[str, str, str]]:
    """``(request field, asset name, asset field)`` for everything the request sets on an asset."""
    paths: list[tuple[str, str, str]] = []
    for source in ("series", "overrides"):
        for path in getattr(body, source):
            asset, _, field = path.partition(".")
            paths.append((f"body.{source}.{path}", asset, field))
    for group, field in INITIAL_STATE_FIELDS.items():
        for name in getattr(body.initial_state, group):
            paths.append((f"body.initial_state.{group}.{name}", name, field))
    if body.initial_state.month_to_date_peak_kw is not None:
        for asset in site.assets:
            if asset.kind == "grid":
                paths.append(("body.initial_state.month_to_date_peak_kw", asset.name, "month_to_date_peak_kw"))
    return paths


def explain(site: SiteSpec, body: DispatchRequest, error: Exception) -> list[dict[str, Any]]:
    """Details naming the request (or site) fields behind ``error``; empty when none can be named."""
    try:
        horizon = request_horizon(site, body)
    except (ValidationError, ValueError) as horizon_error:
        field = "body.date" if body.date is not None else "body.horizon"
        return [_detail(field, str(horizon_error), "value_error")]
    by_name = {a.name: a for a in site.assets}
    paths = request_paths(site, body)
    details = _unknown_names(paths, by_name) + _series_lengths(body, horizon)
    if details:
        return details
    details = _asset_errors(paths, by_name, site, body)
    if details:
        return details
    return _problem_errors(str(error), paths, horizon)


def _unknown_names(paths: list[tuple[str, str, str]], by_name: dict[str, Any]) -> list[dict[str, Any]]:
    details = []
    for request_field, asset, field in paths:
        if asset not in by_name:
            message = f"no asset named {asset!r}; the site has {sorted(by_name)}"
            details.append(_detail(request_field, message, "unknown_asset", asset))
        elif not field or field not in type(by_name[asset]).model_fields or field in ("name", "kind"):
            message = f"{by_name[asset].kind} asset {asset!r} has no settable field {field!r}"
            details.append(_detail(request_field, message, "unknown_field", field))
    return details


def _series_lengths(body: DispatchRequest, horizon: Horizon) -> list[dict[str, Any]]:
    return [
        _detail(
            f"body.series.{path}",
            f"has {len(values)} values; the horizon has {horizon.n_steps} steps ({_describe(horizon)})",
            "series_length",
            len(values),
        )
        for path, values in body.series.items()
        if len(values) != horizon.n_steps
    ]


def _asset_errors(
    paths: list[tuple[str, str, str]], by_name: dict[str, Any], site: SiteSpec, body: DispatchRequest
) -> list[dict[str, Any]]:
    """Re-validates each asset the request changes, one at a time, and names the request fields at fault."""
    details: list[dict[str, Any]] = []
    for name, updates in field_updates(site, body).items():
        asset = by_name[name]
        try:
            type(asset).model_validate({**asset.model_dump(), **updates})
        except ValidationError as error:
            mine = [(request_field, field) for request_field, asset_name, field in paths if asset_name == name]
            for item in validation_details(error.errors()):
                field, _, tail = item["field"].partition(".")
                named = [rf + (f".{tail}" if tail else "") for rf, f in mine if f == field]
                if not named:  # a whole-asset check (e.g. the SOC window): the fields its message mentions
                    named = [rf for rf, f in mine if f in item["message"]] or [rf for rf, _ in mine]
                    item["input"] = None
                for request_field in dict.fromkeys(named):
                    details.append({**item, "field": request_field, "message": f"{name}: {item['message']}"})
    return details


def _problem_errors(message: str, paths: list[tuple[str, str, str]], horizon: Horizon) -> list[dict[str, Any]]:
    """Whole-problem checks: a series that does not fit this horizon (a stored 96-value series on a 92-step
    DST day, or an override of the wrong length) and an asset that does not fit the horizon."""
    set_by_request = {(asset, field): request_field for request_field, asset, field in paths}
    details = []
    for match in _SERIES_LENGTH.finditer(message):
        asset, field, length = match["asset"], match["field"], int(match["length"])
        steps = f"the horizon has {horizon.n_steps} steps ({_describe(horizon)})"
        if (asset, field) in set_by_request:
            details.append(
                _detail(set_by_request[asset, field], f"has {length} values; {steps}", "series_length", length)
            )
        else:
            hint = f"send body.series.{asset}.{field} with {horizon.n_steps} values"
            message_ = f"the site's {asset}.{field} has {length} values; {steps}: {hint}"
            details.append(_detail(f"site.assets.{asset}.{field}", message_, "series_length", length))
    if details:
        return details
    for match in _ASSET_HORIZON.finditer(message):
        asset = match["asset"]
        named = [request_field for request_field, name, _ in paths if name == asset] or [f"site.assets.{asset}"]
        details += [_detail(field, f"{asset}: {match['message']}", "value_error") for field in dict.fromkeys(named)]
    return details


def _describe(horizon: Horizon) -> str:
    return f"{horizon.n_steps} x {horizon.step_minutes} min from {horizon.index[0].isoformat()}"
