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
  targets hold over the morning done and the rest planned; targets and
  contract volumes over a month, a year or a date range get the period to date
  from the site's daily account (``ems_state.close_account``), which a site with a
  carbon account keeps from January 1 for its carbon ledger.

Every missing input is listed in one :class:`~optimizer.errors.ProblemError`.

**Quantiles.** A forecast the service makes also carries its P10/P50/P90 per step
(:class:`ForecastSource` ``quantiles``, the response's ``sources.<input>.quantiles``), for planning under
uncertainty: the load model's from back-casts of the same history (``forecasting.forecast_load(...,
quantiles=...)``); PV's when the site has readings of the PV input over the history window, from the errors
of pvlib on the weather forecasts stored for those days (the clear sky where none was) against the readings
(``forecasting.quantiles.fit_pv_quantiles``); none otherwise.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd

from optimizer.errors import Issue, ProblemError
from scenarios.assets import input_refs
from scenarios.ems import DispatchRequest
from scenarios.ems_data import FillRules, Source, StoredData, StoredWeather, site_step
from scenarios.ems_state import fill_committed, fill_progress, fill_state
from scenarios.meters import interval_average
from scenarios.rolling import Period
from scenarios.site import Site

__all__ = ["ForecastSource", "fill_inputs", "fill_request"]

QUANTILE_LEVELS: tuple[float, ...] = (0.1, 0.5, 0.9)
"""The quantiles a forecast made by the service carries (P10, P50, P90)."""


@dataclasses.dataclass(frozen=True)
class ForecastSource(Source):
    """A :class:`Source` of a forecast made by the service, with its quantiles per step when they could be made:
    ``{"p10": [...], "p50": [...], "p90": [...]}`` on the plan's steps, in the input's unit."""

    quantiles: dict[str, list[float]] | None = dataclasses.field(default=None, compare=False, hash=False)


def load_quantiles(site: Site, history: pd.Series, index: pd.DatetimeIndex) -> dict[str, list[float]] | None:
    """P10/P50/P90 of the load model on ``index`` [unit of the history], or None (seasonal naive, too little)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "only N day(s) to back-cast": the point forecast warns alone
            frame = site.load_model.quantiles(history, index, QUANTILE_LEVELS)
    except ValueError:
        return None
    return _as_lists(frame)


def _as_lists(frame: pd.DataFrame | None) -> dict[str, list[float]] | None:
    """The quantile columns as lists rounded to 0.001; None if any value is not finite (a slot without data)."""
    if frame is None:
        return None
    columns = [c for c in frame.columns if c != "point"]
    values = frame[columns].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        return None
    return {c: values[:, i].round(3).tolist() for i, c in enumerate(columns)}


def pv_quantiles(
    site: Site,
    asset_name: str,
    ref: str,
    point_kw: np.ndarray,
    index: pd.DatetimeIndex,
    data: StoredData,
    rules: FillRules,
) -> dict[str, list[float]] | None:
    """P10/P50/P90 [kW] of one array's forecast from its readings over the history window, or None without them.

    Each past day is forecast as a plan at its start would have: pvlib on the latest weather forecast issued
    before that day (the clear sky where none was stored); the errors against the readings, by the forecast's
    clear-sky index, hour and season, give the quantiles (fewer than 7 metered days: none).
    """
    from forecasting.quantiles import fit_pv_quantiles

    step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(minutes=15)
    start = pd.Timestamp(index[0])
    history = history_on_step(data, ref, start, rules.history_days, step)
    if history is None or history.notna().sum() < 7 * pd.Timedelta(days=1) / step:
        return None
    past = pd.DatetimeIndex(history.index)
    past_clear = pd.Series(pv_forecast(site, [asset_name], None, past)[asset_name], index=past)
    past_forecast = past_clear.copy()
    local = past.tz_convert(index.tz)
    for day in pd.DatetimeIndex(local.normalize().unique()):
        in_day = (local >= day) & (local < day + pd.Timedelta(days=1))
        stored = data.weather(day, day, day + pd.Timedelta(days=1))
        if stored is None:
            continue  # as a plan at that day's start would have: the clear sky
        try:
            past_forecast[in_day] = pv_forecast(site, [asset_name], stored.weather, past[in_day])[asset_name]
        except ValueError:
            continue  # a stored forecast that does not serve this day: the clear sky too
    measured = history
    array = next(a for a in site.pv_arrays if a.name == asset_name)
    capacity = array.inverter_ac_kw if array.inverter_ac_kw is not None else array.dc_kwp
    model = fit_pv_quantiles(past_forecast, measured, past_clear, capacity_kw=capacity)
    clear_now = pd.Series(pv_forecast(site, [asset_name], None, index)[asset_name], index=index)
    return _as_lists(model.predict(pd.Series(point_kw, index=index), clear_now, QUANTILE_LEVELS))


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
                sources[ref] = ForecastSource(
                    "forecast:load-model",
                    last.to_pydatetime(),
                    f"{site.load_model.method} model",
                    load_quantiles(site, history.dropna(), index),
                )
    if pv_refs:
        stored = data.weather(plan_time, start, end)
        if stored is None:  # a forecast that stops short of the period's end in the night will do
            stored = _night_short(site, data.weather(plan_time, start, end - NIGHT_TAIL), end)
        weather = stored.weather if stored is not None else None
        values = pv_forecast(site, list(pv_refs), weather, index)
        for asset_name, ref in pv_refs.items():
            inputs[ref] = values[asset_name].tolist()
            quantiles = pv_quantiles(site, asset_name, ref, values[asset_name], index, data, rules)
            if stored is None:
                detail = "no weather forecast covers the period"
                sources[ref] = ForecastSource("forecast:pvlib-clear-sky", None, detail, quantiles)
            else:
                sources[ref] = ForecastSource("forecast:pvlib", stored.issued_at, stored.label, quantiles)
    return inputs, sources, issues


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
    progress, progress_sources = fill_progress(site, request, period, data)
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
    sources |= progress_sources
    return filled, sources
