"""The one site model: what a factory is and has, accepted unchanged by scenario files and ``POST /v1/sites``.

A :class:`Site` is where the factory is (location, time zone), what it has
(assets, as the optimizer's specs with ``$inputs`` references, clock times and
tariff presets allowed; pvlib PV arrays; how its loads are forecast), and what
it wants (targets, objective, emission factors). A site exported by the API is a valid
``site:`` block of a scenario file, and the other way round.
"""

from __future__ import annotations

import datetime as dt
import importlib
import zoneinfo
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from optimizer import ObjectiveSpec, Targets
from optimizer.errors import SpecError
from optimizer.types import FiniteFloat, Fraction
from scenarios.assets import FileAsset
from scenarios.carbon import CarbonAccount


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PvArrayEntry:
    """A :class:`forecasting.PvArraySpec`, validated with ``forecasting`` imported only when a site has arrays."""

    @staticmethod
    def _model() -> type[BaseModel]:
        return importlib.import_module("forecasting.specs").PvArraySpec

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: Any) -> BaseModel:
            model = cls._model()
            return value if isinstance(value, model) else model.model_validate(value)

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v, info: v.model_dump(mode=info.mode), info_arg=True
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(cls._model().__pydantic_core_schema__)


class EmissionFactors(_Strict):
    """Site-wide emission factors, applied to assets that do not set their own (see each kind's registry entry)."""

    grid_location_kgco2_per_kwh: FiniteFloat | None = Field(
        None, ge=0, le=10, description="Grid average, location-based [kgCO2/kWh] (China 2023: 0.5306)."
    )
    grid_market_kgco2_per_kwh: FiniteFloat | None = Field(
        None,
        ge=0,
        le=10,
        description="Residual factor, market-based [kgCO2/kWh] (China 2023 excl. non-fossil: 0.6096).",
    )
    gas_kgco2_per_nm3: FiniteFloat | None = Field(None, ge=0, le=100, description="Natural gas [kgCO2/Nm3] (2.162).")
    purchased_heat_kgco2_per_gj: FiniteFloat | None = Field(
        None, ge=0, le=1000, description="Purchased heat or steam [kgCO2/GJ] (110)."
    )


class LoadModel(_Strict):
    """How the site's loads are forecast from metered history (``forecasting.forecast_load``).

    ``profile``: a profile per day type (workday, Saturday, day off, holiday) from recent days of the same
    type, on mainland China's official holiday calendar (``chinese-calendar``) plus the plant's own
    ``shutdown_days``, read at a per-slot quantile moved by the recent level. The defaults are
    ``forecasting.load.ProfileSettings``'s, chosen out of sample (docs/forecasting.md). ``seasonal_naive``: the
    same time one week earlier.
    """

    method: Literal["profile", "seasonal_naive"] = Field("profile", description="Forecast method.")
    n_days: int = Field(15, ge=1, le=60, description="Profile: days of the same type in the per-slot median.")
    lookback_days: int = Field(120, ge=1, le=400, description="Profile: only days this recent count first [days].")
    statistic: Literal["median", "mean"] = Field("median", description="Profile: per-slot statistic.")
    level_days: int = Field(2, ge=0, le=30, description="Profile: recent days of the same type in the level ratio.")
    level_weight: Fraction = Field(0.0, description="Profile: share of the recent-level ratio applied (0: off).")
    rank_weight: Fraction = Field(
        0.3,
        description="Profile: how far the day before's rank within its own profile days moves the per-slot quantile "
        "from the median (forecasting.load.ProfileSettings; 0: the median).",
    )
    separate_saturday: bool = Field(True, description="Profile: Saturdays get their own profile.")
    shutdown_days: list[dt.date] = Field(default_factory=list, description="The plant's own days off.")

    def _arguments(self) -> dict[str, Any]:
        from forecasting.holidays import china_calendar
        from forecasting.load import ProfileSettings

        settings = ProfileSettings(
            n_days=self.n_days,
            lookback_days=self.lookback_days,
            statistic=self.statistic,
            level_days=self.level_days,
            level_weight=self.level_weight,
            rank_weight=self.rank_weight,
            separate_saturday=self.separate_saturday,
        )
        calendar = china_calendar().with_off_days(self.shutdown_days) if self.shutdown_days else None
        return {"calendar": calendar, "settings": settings}

    def forecast(self, history: Any, index: Any, quantile: float | None = None) -> Any:
        """The forecast of ``history`` (a tz-aware Series of average power) on ``index``; with ``quantile`` (in
        (0, 1)) that quantile of it instead (``forecasting.forecast_load(..., quantiles=...)``, profile only)."""
        from forecasting import forecast_load
        from forecasting.quantiles import quantile_label

        if quantile is None:
            return forecast_load(history, index, method=self.method, **self._arguments())
        if self.method != "profile":
            raise ValueError(f"quantile {quantile} needs load_model.method 'profile', not {self.method!r}")
        frame = forecast_load(history, index, quantiles=(quantile,), **self._arguments())
        return frame[quantile_label(quantile)]

    def quantiles(self, history: Any, index: Any, levels: tuple[float, ...] = (0.1, 0.5, 0.9)) -> Any:
        """``point`` and one column per level (``p10`` ...) on ``index``, or None for ``seasonal_naive``."""
        from forecasting import forecast_load

        if self.method != "profile":
            return None
        return forecast_load(history, index, quantiles=levels, **self._arguments())


def check_tz(value: str) -> str:
    """``value`` if it is an IANA time zone name."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)") from error
    return value


class Site(_Strict):
    """Where the factory is, what it has and what it wants."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=200, description="Site name, for reports.")
    latitude: FiniteFloat | None = Field(None, ge=-90, le=90, description="[deg north]; needed by pv_arrays.")
    longitude: FiniteFloat | None = Field(None, ge=-180, le=180, description="[deg east]; needed by pv_arrays.")
    altitude_m: FiniteFloat = Field(0.0, ge=-500, le=9000, description="[m above sea level].")
    tz: str = Field(
        "Asia/Shanghai",
        validation_alias=AliasChoices("tz", "timezone"),
        description="IANA time zone of local clock times (tariff bands, days). 'timezone' is read as an alias.",
    )
    currency: str = Field("CNY", max_length=8, description="Currency of every price (labels only).")
    pv_arrays: list[PvArrayEntry] = Field(  # type: ignore[valid-type]
        default_factory=list,
        description=(
            "pvlib models of the PV arrays (forecasting.PvArraySpec: name, dc_kwp, mount, bifacial, ...). "
            "A weather input adds them up; the API forecasts a 'pv' asset named like an array from the weather "
            "of a request."
        ),
    )
    emission_factors: EmissionFactors = Field(default_factory=EmissionFactors)
    load_model: LoadModel = Field(
        default_factory=LoadModel, description="How history inputs (metered loads) are forecast."
    )
    assets: list[FileAsset] = Field(  # type: ignore[valid-type]
        min_length=1, description="Asset specs, chosen by kind; series may be $inputs references."
    )
    targets: Targets = Field(default_factory=Targets, description="Targets, enforced over each period run.")
    objective: ObjectiveSpec = Field(default_factory=ObjectiveSpec)
    carbon: CarbonAccount | None = Field(
        None,
        description=(
            "Carbon ledger account (scenarios.carbon): certificate and credit lots, quotes, the ledger's emission "
            "factor set and the zero-carbon standard. The optimiser plans with emission_factors, not with this."
        ),
    )

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_tz(value)

    @field_validator("name")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        """A report shows none, and PostgreSQL's text columns refuse NUL (the API stores the name in one)."""
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("must not contain control characters (tabs, line breaks, NUL)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Site:
        names = [a.name for a in self.assets]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise SpecError(f"asset names must be unique, repeated: {', '.join(repeated)}", field="assets")
        arrays = [a.name for a in self.pv_arrays]
        repeated = sorted({n for n in arrays if arrays.count(n) > 1})
        if repeated:
            raise SpecError(f"PV array names must be unique, repeated: {', '.join(repeated)}", field="pv_arrays")
        if self.pv_arrays and (self.latitude is None or self.longitude is None):
            raise SpecError("pv_arrays need the site's latitude and longitude", field="latitude")
        return self

    def asset(self, name: str) -> Any:
        """The asset entry called ``name``."""
        for asset in self.assets:
            if asset.name == name:
                return asset
        raise KeyError(name)

    def pv_site(self) -> Any:
        """The site's PV arrays as a :class:`forecasting.PvSiteSpec` (needs latitude and longitude)."""
        from forecasting import PvSiteSpec

        assert self.latitude is not None and self.longitude is not None
        return PvSiteSpec(
            name=self.name[:128],
            latitude_deg=self.latitude,
            longitude_deg=self.longitude,
            altitude_m=self.altitude_m,
            tz=self.tz,
            arrays=self.pv_arrays,
        )
