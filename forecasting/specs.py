"""PV site and array specifications (pydantic): the attribute table of a PV forecast.

Angles follow pvlib: tilt from horizontal, azimuth clockwise from north
(180 = south). Every number must be finite; errors name the field.
"""

from __future__ import annotations

import zoneinfo
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    import pvlib

#: Pmax temperature coefficient of TOPCon modules [%/C] (DOMAIN-FACTS.md, [2nd]); PERC -0.35, older mono -0.45.
TOPCON_TEMP_COEFF_PCT_PER_C = -0.30

TemperatureModel = Literal[
    "open_rack_glass_glass", "close_mount_glass_glass", "open_rack_glass_polymer", "insulated_back_glass_polymer"
]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class FixedMount(_Spec):
    """A fixed rack or roof mount."""

    kind: Literal["fixed"] = "fixed"
    tilt_deg: float = Field(ge=0.0, le=90.0, description="Surface tilt from horizontal [deg].")
    azimuth_deg: float = Field(
        180.0, ge=0.0, lt=360.0, description="Surface azimuth, clockwise from north (180 = south) [deg]."
    )


class SingleAxisTrackerMount(_Spec):
    """A single-axis tracker (horizontal north-south axis by default) with optional backtracking."""

    kind: Literal["single_axis"] = "single_axis"
    axis_azimuth_deg: float = Field(
        180.0, ge=0.0, lt=360.0, description="Azimuth of the axis, clockwise from north (180 = N-S axis) [deg]."
    )
    axis_tilt_deg: float = Field(0.0, ge=0.0, le=45.0, description="Tilt of the axis from horizontal [deg].")
    max_angle_deg: float = Field(60.0, gt=0.0, le=90.0, description="Largest rotation from horizontal [deg].")
    backtrack: bool = Field(True, description="Rotate back to avoid row-to-row shading at low sun.")
    gcr: float = Field(0.35, gt=0.0, lt=1.0, description="Ground coverage ratio: collector width / row pitch [-].")


Mount = Annotated[FixedMount | SingleAxisTrackerMount, Field(discriminator="kind")]


class BifacialSpec(_Spec):
    """Rear-side gain of a bifacial array, modelled with pvlib's infinite-sheds view factors."""

    bifaciality_frac: float = Field(
        0.80, ge=0.0, le=1.0, description="Rear/front efficiency ratio (TOPCon ~0.80, PERC ~0.70) [-]."
    )
    height_m: float = Field(2.0, gt=0.0, le=20.0, description="Height of the module centre above ground [m].")
    collector_width_m: float = Field(
        2.4, gt=0.0, le=20.0, description="Width of a row's collector (1 portrait module ~2.4 m) [m]."
    )
    gcr: float | None = Field(
        None, gt=0.0, lt=1.0, description="Ground coverage ratio for fixed racks; trackers use the mount's [-]."
    )
    shade_factor_frac: float = Field(
        -0.02, ge=-1.0, le=0.0, description="Rear irradiance loss from racking shade (pvlib default -0.02) [-]."
    )


class PvArraySpec(_Spec):
    """One PV array with its own inverter(s)."""

    name: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64, description="Identifier; the output column is <name>_kw."
    )
    dc_kwp: float = Field(gt=0.0, description="DC nameplate power at STC [kWp].")
    mount: Mount = Field(description="Fixed mount or single-axis tracker.")
    temp_coeff_pct_per_c: float = Field(
        TOPCON_TEMP_COEFF_PCT_PER_C,
        ge=-1.0,
        le=0.0,
        description="Pmax temperature coefficient [%/C]; default TOPCon (DOMAIN-FACTS.md).",
    )
    temperature_model: TemperatureModel = Field(
        "open_rack_glass_glass", description="pvlib SAPM cell-temperature parameter set."
    )
    system_losses_frac: float = Field(
        0.14, ge=0.0, lt=1.0, description="DC losses: soiling, wiring, mismatch, LID, availability (PVWatts 14 %) [-]."
    )
    inverter_ac_kw: float | None = Field(
        None, gt=0.0, description="Inverter AC limit [kW]; default: equal to dc_kwp (no clipping below STC)."
    )
    inverter_efficiency_frac: float = Field(
        0.98, gt=0.5, le=1.0, description="Nominal inverter efficiency (pvlib PVWatts inverter) [-]."
    )
    albedo_frac: float = Field(0.20, ge=0.0, le=1.0, description="Ground reflectance [-] (snow ~0.6-0.8).")
    bifacial: BifacialSpec | None = Field(None, description="Rear-side gain; None for monofacial modules.")

    @model_validator(mode="after")
    def _bifacial_fixed_needs_gcr(self) -> PvArraySpec:
        if self.bifacial is not None and isinstance(self.mount, FixedMount) and self.bifacial.gcr is None:
            raise ValueError(f"array {self.name}: a bifacial fixed array needs bifacial.gcr (row spacing)")
        return self

    @property
    def ac_limit_kw(self) -> float:
        """Inverter AC limit [kW]."""
        return self.inverter_ac_kw if self.inverter_ac_kw is not None else self.dc_kwp

    @property
    def column(self) -> str:
        """Output column name."""
        return f"{self.name}_kw"


class PvSiteSpec(_Spec):
    """A site: location and its PV arrays (forecast summed over arrays)."""

    name: str = Field("site", max_length=128, description="Site name.")
    latitude_deg: float = Field(ge=-90.0, le=90.0, description="Latitude, north positive [deg].")
    longitude_deg: float = Field(ge=-180.0, le=180.0, description="Longitude, east positive [deg].")
    altitude_m: float = Field(0.0, ge=-500.0, le=9000.0, description="Altitude above sea level [m].")
    tz: str = Field("Asia/Shanghai", description="IANA time zone of the site.")
    arrays: list[PvArraySpec] = Field(min_length=1, description="PV arrays.")

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Asia/Shanghai'") from exc
        return value

    @field_validator("arrays")
    @classmethod
    def _unique_names(cls, arrays: list[PvArraySpec]) -> list[PvArraySpec]:
        names = [a.name for a in arrays]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"array names must be unique; repeated: {duplicates}")
        if "total" in names:
            raise ValueError("'total' is reserved for the site's total_kw column")
        return arrays

    def location(self) -> pvlib.location.Location:
        """The site as a :class:`pvlib.location.Location`."""
        import pvlib  # here: a site spec (the API's, a scenario's) is read without loading pvlib

        return pvlib.location.Location(self.latitude_deg, self.longitude_deg, self.tz, self.altitude_m, self.name)
