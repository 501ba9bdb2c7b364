"""PV power per array and per site, from weather, with pvlib doing the physics.

For each array, on the horizon (solar position at interval midpoints):

1. orientation: fixed, or :func:`pvlib.tracking.singleaxis` (backtracking, GCR);
2. plane-of-array irradiance: :func:`pvlib.irradiance.get_total_irradiance`
   (Perez by default) for monofacial arrays, :func:`pvlib.bifacial.infinite_sheds.get_irradiance`
   (Hay-Davies, front + bifaciality x rear) for bifacial ones;
3. reflection loss on the beam: :func:`pvlib.iam.physical`;
4. cell temperature: :func:`pvlib.temperature.sapm_cell`;
5. DC power: :func:`pvlib.pvsystem.pvwatts_dc` with the module's temperature coefficient;
6. DC losses (one fraction, as PVWatts), then AC: :func:`pvlib.inverter.pvwatts`
   (efficiency curve, clipping at the inverter's AC limit).

``forecast_pv`` returns one column per array (``<name>_kw``) and ``total_kw``:
average AC power over each interval [kW]. The frame's ``attrs`` hold
``"warnings"`` (a tuple of messages; a clear-sky fallback is one, also issued
as a :class:`~forecasting.errors.ForecastWarning`) and ``"irradiance_source"``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pvlib
from pvlib.bifacial import infinite_sheds

from forecasting.errors import ForecastWarning
from forecasting.irradiance import (
    CLOUD_COVER_OFFSET_FRAC,
    Decomposition,
    check_against_clear_sky,
    clear_sky_on_index,
    clear_sky_shapes,
    complete_irradiance,
    solar_position,
)
from forecasting.pv_correction import PvCorrection, apply_output_cap
from forecasting.resample import weather_on_index
from forecasting.specs import FixedMount, PvArraySpec, PvSiteSpec
from forecasting.timeaxis import HorizonLike, horizon_index, interval_midpoints
from forecasting.weather import Weather

Transposition = Literal["perez", "perez-driesse", "haydavies", "isotropic"]


@dataclass(frozen=True)
class PvModelOptions:
    """Model choices of :func:`forecast_pv` (defaults suit day-ahead forecasts).

    Attributes
    ----------
    decomposition : "erbs", "dirint" or "erbs_driesse"
        GHI -> DNI, DHI when only GHI is known.
    transposition : "perez", "perez-driesse", "haydavies" or "isotropic"
        Sky-diffuse model for monofacial arrays (bifacial arrays use Hay-Davies
        unless "isotropic" is asked for: infinite sheds has no Perez).
    cloud_offset_frac : float
        GHI under full cloud cover as a fraction of clear sky [0-1].
    default_temp_air_c : float
        Air temperature when the weather has none [C] (a warning says so).
    default_wind_speed_m_s : float
        Wind speed when the weather has none [m/s].
    correction : PvCorrection or None
        Month x hour multipliers fitted on the plant's history (:func:`forecasting.pv_fit.fit_pv_plant`),
        applied to each array (then clipped at its AC limit). ``None``: the physical chain alone.
    irradiance_smoothing_steps : int
        Centred rolling mean of the GHI clear-sky index over this many steps (1: none). A point pyranometer sees
        each cloud's shadow; a plant of a square kilometre averages it: on the State Grid plant, 3 quarter-hours
        take 0.3-0.4 points of nMAE off, chosen by cross-validation on the fit year. Only GHI is smoothed.
    output_cap_kw : float or None
        Cap on the site's total output [kW]: an export limit, or a curtailment set-point carried over from the
        last metered day (:func:`forecasting.pv_correction.output_caps_by_day`). Arrays scale alike.
    """

    decomposition: Decomposition = "erbs"
    transposition: Transposition = "perez"
    cloud_offset_frac: float = CLOUD_COVER_OFFSET_FRAC
    default_temp_air_c: float = 20.0
    default_wind_speed_m_s: float = 1.0
    correction: PvCorrection | None = None
    irradiance_smoothing_steps: int = 1
    output_cap_kw: float | None = None

    def __post_init__(self) -> None:
        if self.irradiance_smoothing_steps < 1:
            raise ValueError(f"irradiance_smoothing_steps must be >= 1, got {self.irradiance_smoothing_steps}")
        if self.output_cap_kw is not None and not self.output_cap_kw >= 0.0:
            raise ValueError(f"output_cap_kw must be >= 0, got {self.output_cap_kw}")


def surface_orientation(array: PvArraySpec, position: pd.DataFrame) -> pd.DataFrame:
    """Surface tilt and azimuth of ``array`` at each step [degrees].

    Trackers follow :func:`pvlib.tracking.singleaxis`; at night they lie flat.
    """
    mount = array.mount
    if isinstance(mount, FixedMount):
        return pd.DataFrame(
            {"surface_tilt": mount.tilt_deg, "surface_azimuth": mount.azimuth_deg}, index=position.index
        )
    tracking = pvlib.tracking.singleaxis(
        position["apparent_zenith"],
        position["azimuth"],
        axis_tilt=mount.axis_tilt_deg,
        axis_azimuth=mount.axis_azimuth_deg,
        max_angle=mount.max_angle_deg,
        backtrack=mount.backtrack,
        gcr=mount.gcr,
    )
    return pd.DataFrame(
        {
            "surface_tilt": tracking["surface_tilt"].fillna(mount.axis_tilt_deg),
            "surface_azimuth": tracking["surface_azimuth"].fillna((mount.axis_azimuth_deg + 90.0) % 360.0),
        },
        index=position.index,
    )


def plane_of_array(
    array: PvArraySpec,
    orientation: pd.DataFrame,
    position: pd.DataFrame,
    irradiance: pd.DataFrame,
    transposition: Transposition = "perez",
) -> pd.DataFrame:
    """Plane-of-array irradiance of ``array`` and the effective irradiance reaching the cells.

    Parameters
    ----------
    array : PvArraySpec
    orientation : DataFrame
        :func:`surface_orientation`.
    position : DataFrame
        Solar position at interval midpoints.
    irradiance : DataFrame
        ``ghi``, ``dni``, ``dhi`` [W/m^2].
    transposition : str
        See :class:`PvModelOptions`.

    Returns
    -------
    DataFrame
        ``poa_global`` (front, plus bifaciality x rear for bifacial arrays),
        ``poa_direct``, ``poa_diffuse``, ``poa_back`` and ``effective``
        (after the beam's reflection loss) [W/m^2].
    """
    times = interval_midpoints(pd.DatetimeIndex(position.index))
    dni_extra = pvlib.irradiance.get_extra_radiation(times).to_numpy()
    tilt, azimuth = orientation["surface_tilt"].to_numpy(), orientation["surface_azimuth"].to_numpy()
    zenith, sun_azimuth = position["apparent_zenith"].to_numpy(), position["azimuth"].to_numpy()
    aoi = pvlib.irradiance.aoi(tilt, azimuth, zenith, sun_azimuth)
    iam = np.nan_to_num(np.asarray(pvlib.iam.physical(aoi), dtype=float))
    ghi, dni, dhi = (irradiance[c].to_numpy(dtype=float) for c in ("ghi", "dni", "dhi"))
    if array.bifacial is None:
        poa = pvlib.irradiance.get_total_irradiance(
            tilt,
            azimuth,
            zenith,
            sun_azimuth,
            dni,
            ghi,
            dhi,
            dni_extra=dni_extra,
            airmass=pvlib.atmosphere.get_relative_airmass(zenith),
            albedo=array.albedo_frac,
            model=transposition,
        )
        direct, diffuse = np.asarray(poa["poa_direct"]), np.asarray(poa["poa_diffuse"])
        back = np.zeros_like(direct)
        total = direct + diffuse
    else:
        bifacial = array.bifacial
        gcr = bifacial.gcr if isinstance(array.mount, FixedMount) else array.mount.gcr
        assert gcr is not None  # the spec validates this
        sheds = infinite_sheds.get_irradiance(
            tilt,
            azimuth,
            zenith,
            sun_azimuth,
            gcr=gcr,
            height=bifacial.height_m,
            pitch=bifacial.collector_width_m / gcr,
            ghi=ghi,
            dhi=dhi,
            dni=dni,
            albedo=array.albedo_frac,
            model="isotropic" if transposition == "isotropic" else "haydavies",
            dni_extra=dni_extra,
            bifaciality=bifacial.bifaciality_frac,
            shade_factor=bifacial.shade_factor_frac,
        )
        direct, diffuse = np.asarray(sheds["poa_front_direct"]), np.asarray(sheds["poa_front_diffuse"])
        back = np.asarray(sheds["poa_back"])
        total = np.asarray(sheds["poa_global"])
    frame = pd.DataFrame(
        {"poa_global": total, "poa_direct": direct, "poa_diffuse": diffuse, "poa_back": back},
        index=position.index,
    )
    frame = frame.fillna(0.0).clip(lower=0.0)
    frame["effective"] = (frame["poa_global"] - frame["poa_direct"] * (1.0 - iam)).clip(lower=0.0)
    return frame


def array_ac_kw(array: PvArraySpec, poa: pd.DataFrame, temp_air_c: pd.Series, wind_speed_m_s: pd.Series) -> pd.Series:
    """AC power of one array [kW] from its plane-of-array irradiance.

    Parameters
    ----------
    array : PvArraySpec
    poa : DataFrame
        :func:`plane_of_array`.
    temp_air_c : Series
        Air temperature [C].
    wind_speed_m_s : Series
        Wind speed [m/s].

    Returns
    -------
    Series
        Average AC power over each interval [kW], >= 0, <= the inverter's AC limit.
    """
    parameters = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][array.temperature_model]
    temp_cell = pvlib.temperature.sapm_cell(poa["poa_global"], temp_air_c, wind_speed_m_s, **parameters)
    dc_kw = pvlib.pvsystem.pvwatts_dc(poa["effective"], temp_cell, array.dc_kwp, array.temp_coeff_pct_per_c / 100.0)
    dc_kw = np.clip(np.nan_to_num(np.asarray(dc_kw, dtype=float)), 0.0, None) * (1.0 - array.system_losses_frac)
    eta = array.inverter_efficiency_frac
    ac_kw = pvlib.inverter.pvwatts(dc_kw, array.ac_limit_kw / eta, eta_inv_nom=eta)
    ac_kw = np.clip(np.nan_to_num(np.asarray(ac_kw, dtype=float)), 0.0, array.ac_limit_kw)
    return pd.Series(ac_kw, index=poa.index, name=array.column)


def forecast_pv(
    site: PvSiteSpec,
    weather: Weather | None,
    horizon: HorizonLike,
    *,
    options: PvModelOptions | None = None,
) -> pd.DataFrame:
    """PV forecast of a site on the horizon.

    Parameters
    ----------
    site : PvSiteSpec
        Location and arrays.
    weather : Weather or None
        Forecast or measured weather covering the horizon (any step, zone and
        label convention the readers understand); ``None`` gives the clear-sky
        forecast with a warning.
    horizon : DatetimeIndex or object with ``.index``
        Tz-aware interval starts, e.g. ``optimizer.Horizon.day(...)``.
    options : PvModelOptions, optional
        Model choices.

    Returns
    -------
    DataFrame
        ``<array>_kw`` per array and ``total_kw``: average AC power [kW] per
        interval, on the horizon's labels. ``attrs["warnings"]`` (tuple of str)
        and ``attrs["irradiance_source"]`` (str) describe the inputs used.

    Raises
    ------
    WeatherDataError
        If the weather does not cover the horizon or is implausible (names the column and the time).
    """
    options = options or PvModelOptions()
    index = horizon_index(horizon)
    location = site.location()
    position = solar_position(location, index)
    met = None
    if weather is not None:
        check_against_clear_sky(weather, location, index)
        met = weather_on_index(weather, index, clear_sky_shapes(location))
        if options.irradiance_smoothing_steps > 1 and "ghi_w_m2" in met.columns:
            met["ghi_w_m2"] = smooth_ghi(met["ghi_w_m2"], location, options.irradiance_smoothing_steps)
    irradiance = complete_irradiance(
        met, location, index, position, options.decomposition, cloud_offset_frac=options.cloud_offset_frac
    )
    notes = list(irradiance.warnings)
    temp_air = _column_or_default(met, index, "temp_air_c", options.default_temp_air_c, "air temperature [C]", notes)
    wind = _column_or_default(met, index, "wind_speed_m_s", options.default_wind_speed_m_s, "wind speed [m/s]", notes)
    columns = {}
    for array in site.arrays:
        orientation = surface_orientation(array, position)
        poa = plane_of_array(array, orientation, position, irradiance.data, options.transposition)
        ac_kw = array_ac_kw(array, poa, temp_air, wind)
        if options.correction is not None:
            ac_kw = (ac_kw * options.correction.factor_on(index)).clip(upper=array.ac_limit_kw)
        columns[array.column] = ac_kw
    result = pd.DataFrame(columns, index=index)
    result["total_kw"] = result.sum(axis=1)
    result = apply_output_cap(result, options.output_cap_kw)
    result.attrs["warnings"] = tuple(notes)
    result.attrs["irradiance_source"] = irradiance.source
    for note in irradiance.warnings:
        warnings.warn(note, ForecastWarning, stacklevel=2)
    return result


def smooth_ghi(ghi: pd.Series, location: pvlib.location.Location, steps: int) -> pd.Series:
    """GHI with its clear-sky index smoothed by a centred rolling mean over ``steps`` intervals [W/m^2].

    Where the clear sky is below 20 W/m^2 (dawn, dusk, night) the value is kept: the index is noise there.
    """
    clear = clear_sky_on_index(location, pd.DatetimeIndex(ghi.index))["ghi"]
    lit = clear > 20.0
    index_kc = (ghi / clear).where(lit)
    smoothed = index_kc.rolling(steps, center=True, min_periods=1).mean() * clear
    return smoothed.where(lit, ghi).clip(lower=0.0)


def _column_or_default(
    met: pd.DataFrame | None, index: pd.DatetimeIndex, column: str, default: float, what: str, notes: list[str]
) -> pd.Series:
    if met is not None and column in met.columns:
        return met[column]
    notes.append(f"no {what} in the weather input: assumed {default:g}")
    return pd.Series(default, index=index, dtype=float)
