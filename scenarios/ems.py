"""The EMS's morning request as a scenario: a stored site plus a horizon, series and initial states.

``problem_from_request`` is the one place that turns a site and a dispatch
request into a :class:`~optimizer.DispatchProblem`; the HTTP API calls it and
holds no optimisation logic of its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeInt, model_validator

from forecasting import PvArraySpec, PvSiteSpec, forecast_pv, read_open_meteo_json
from optimizer import DispatchProblem, Horizon, ObjectiveSpec, Targets
from optimizer.assets import AnyAsset
from optimizer.types import FiniteFloat, Fraction, NonNegFloat


class SiteSpec(BaseModel):
    """A factory site: where it is and what it has (the scenario's site part)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field("Asia/Shanghai", description="IANA time zone of the site's clocks and tariff.")
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    currency: str = "CNY"
    altitude_m: float = Field(0.0, ge=-500, le=9000)
    assets: list[AnyAsset] = Field(min_length=1)
    pv_arrays: list[PvArraySpec] = Field(
        default_factory=list,
        description="pvlib models of PV assets, each named after a 'pv' asset: used when a request brings weather.",
    )
    targets: Targets = Field(default_factory=Targets)
    objective: ObjectiveSpec = Field(default_factory=ObjectiveSpec)

    @model_validator(mode="after")
    def _check(self) -> SiteSpec:
        try:
            dt.datetime.now(tz=dt.UTC).astimezone(_zone(self.timezone))
        except Exception as error:
            raise ValueError(f"timezone {self.timezone!r} is not an IANA time zone") from error
        names = [a.name for a in self.assets]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"asset names must be unique, repeated: {repeated}")
        pv_assets = {a.name for a in self.assets if a.kind == "pv"}
        strays = sorted({a.name for a in self.pv_arrays} - pv_assets)
        if strays:
            raise ValueError(f"pv_arrays {strays} are not named after a 'pv' asset (pv assets: {sorted(pv_assets)})")
        if self.pv_arrays and (self.latitude is None or self.longitude is None):
            raise ValueError("pv_arrays need the site's latitude and longitude")
        return self

    def pv_site(self) -> PvSiteSpec:
        """The site's PV arrays as a forecasting site (requires ``pv_arrays``)."""
        assert self.latitude is not None and self.longitude is not None
        return PvSiteSpec(
            name=self.name[:128],
            latitude_deg=self.latitude,
            longitude_deg=self.longitude,
            altitude_m=self.altitude_m,
            tz=self.timezone,
            arrays=self.pv_arrays,
        )


def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


class HorizonRequest(BaseModel):
    """An explicit horizon instead of a local day."""

    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime
    step_minutes: int = Field(15, ge=5, le=60)
    n_steps: int = Field(ge=1, le=7 * 96)


class InitialState(BaseModel):
    """Measured states at the horizon start, by asset name."""

    model_config = ConfigDict(extra="forbid")

    battery_soc_frac: dict[str, Fraction] = Field(default_factory=dict, description="SOC by battery name (0-1).")
    storage_level_frac: dict[str, Fraction] = Field(
        default_factory=dict, description="Level by tank or air receiver name (0-1)."
    )
    unit_on: dict[str, bool] = Field(default_factory=dict, description="On/off by chiller or compressor name.")
    units_on: dict[str, NonNegativeInt] = Field(
        default_factory=dict, description="Units running by compressor group name (a spec with units > 1)."
    )
    month_to_date_peak_kw: NonNegFloat | None = Field(None, description="Peak import metered so far this month [kW].")


class DispatchRequest(BaseModel):
    """One day-ahead (or intraday) dispatch request for a stored site."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date | None = Field(None, description="Local day to plan (92/96/100 quarter-hours).")
    horizon: HorizonRequest | None = None
    series: dict[str, list[FiniteFloat]] = Field(
        default_factory=dict,
        description="Forecasts by '<asset>.<field>', e.g. 'pv_roof.available_kw': one value per step.",
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Other asset fields by '<asset>.<field>' for this request only."
    )
    initial_state: InitialState = Field(default_factory=InitialState)
    weather: dict[str, Any] | None = Field(
        None,
        description="Weather forecast in the shape of Open-Meteo's /v1/forecast JSON (hourly or minutely_15); "
        "the site's pv_arrays are then forecast by pvlib unless 'series' gives their available_kw.",
    )

    @model_validator(mode="after")
    def _one_horizon(self) -> DispatchRequest:
        if (self.date is None) == (self.horizon is None):
            raise ValueError("give exactly one of date or horizon")
        return self


INITIAL_STATE_FIELDS = {
    "battery_soc_frac": "initial_soc_frac",
    "storage_level_frac": "initial_level_frac",
    "unit_on": "initial_on",
    "units_on": "initial_units_on",
}


def request_horizon(site: SiteSpec, request: DispatchRequest) -> Horizon:
    if request.date is not None:
        return Horizon.day(request.date, site.timezone)
    assert request.horizon is not None
    return Horizon(
        start=request.horizon.start,
        step_minutes=request.horizon.step_minutes,
        n_steps=request.horizon.n_steps,
        tz=site.timezone,
    )


def field_updates(site: SiteSpec, request: DispatchRequest) -> dict[str, dict[str, Any]]:
    """Per asset name, the fields the request sets (series, overrides, initial states)."""
    by_name = {a.name: a for a in site.assets}
    updates: dict[str, dict[str, Any]] = {}

    def put(path: str, value: Any, source: str) -> None:
        asset, _, field = path.partition(".")
        if asset not in by_name or not field:
            raise ValueError(f"{source} '{path}': no asset named {asset!r} (site has {sorted(by_name)})")
        if field not in type(by_name[asset]).model_fields or field in ("name", "kind"):
            raise ValueError(f"{source} '{path}': {by_name[asset].kind} has no settable field {field!r}")
        updates.setdefault(asset, {})[field] = value

    for path, values in request.series.items():
        put(path, values, "series")
    for path, value in request.overrides.items():
        put(path, value, "overrides")
    state = request.initial_state
    for group, field in INITIAL_STATE_FIELDS.items():
        for name, value in getattr(state, group).items():
            put(f"{name}.{field}", value, f"initial_state.{group}")
    if state.month_to_date_peak_kw is not None:
        for asset in site.assets:
            if asset.kind == "grid":
                put(f"{asset.name}.month_to_date_peak_kw", state.month_to_date_peak_kw, "initial_state")
    return updates


def pv_forecast_updates(site: SiteSpec, request: DispatchRequest, horizon: Horizon) -> dict[str, dict[str, Any]]:
    """``available_kw`` of each modelled PV asset from the request's weather (pvlib), unless given as a series."""
    if request.weather is None or not site.pv_arrays:
        return {}
    weather = read_open_meteo_json(request.weather)
    forecast = forecast_pv(site.pv_site(), weather, horizon.index)
    return {
        array.name: {"available_kw": forecast[f"{array.name}_kw"].to_numpy().round(3).tolist()}
        for array in site.pv_arrays
        if f"{array.name}.available_kw" not in request.series
    }


def problem_from_request(site: SiteSpec, request: DispatchRequest) -> DispatchProblem:
    """The dispatch problem of ``request`` on ``site``; pydantic errors name the asset and field."""
    horizon = request_horizon(site, request)
    updates = pv_forecast_updates(site, request, horizon)
    for name, fields in field_updates(site, request).items():
        updates.setdefault(name, {}).update(fields)
    assets = [
        type(a).model_validate({**a.model_dump(), **updates.get(a.name, {})}) if a.name in updates else a
        for a in site.assets
    ]
    return DispatchProblem(
        name=site.name,
        currency=site.currency,
        horizon=horizon,
        assets=assets,
        targets=site.targets,
        objective=site.objective,
    )
