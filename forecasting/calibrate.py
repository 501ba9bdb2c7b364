"""Learning a plant from its measurements: location from daylight, orientation from clear days.

For a plant whose metadata are missing (or doubtful) but whose power or
plane-of-array irradiance is metered:

* :func:`estimate_location`: every day's first and last interval with light
  give sunrise and sunset; their midpoint follows solar noon (longitude and
  the equation of time), their distance the day length (latitude and the
  declination). A least-squares fit returns latitude, an *effective* longitude
  (true longitude plus any constant clock or labelling offset, 1 deg = 4 min)
  and the sun elevation at which the signal crosses the threshold.
* :func:`select_clear_days`: the days with the smoothest, brightest profiles.
* :func:`fit_orientation`: the fixed tilt and azimuth whose clear-sky
  plane-of-array irradiance (pvlib Ineichen + Perez), scaled by one factor,
  best matches the measurements on clear days.

Timestamps are read as interval starts; the sun is evaluated at midpoints, as
in the forecasts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pvlib
from scipy.optimize import least_squares, minimize

from forecasting.timeaxis import index_step


@dataclass(frozen=True)
class LocationEstimate:
    """Result of :func:`estimate_location`.

    Attributes
    ----------
    latitude_deg : float
    longitude_deg : float
        Effective longitude: where the clock and labels put the sun [deg].
    threshold_elevation_deg : float
        Sun elevation at which the signal crosses the threshold [deg].
    residual_min : float
        Median absolute sunrise/sunset misfit [min].
    n_days : int
        Days used.
    """

    latitude_deg: float
    longitude_deg: float
    threshold_elevation_deg: float
    residual_min: float
    n_days: int


@dataclass(frozen=True)
class OrientationEstimate:
    """Result of :func:`fit_orientation`.

    Attributes
    ----------
    tilt_deg, azimuth_deg : float
        Best fixed orientation [deg; azimuth clockwise from north].
    scale : float
        Measured units per W/m^2 of clear-sky POA (e.g. MW per W/m^2).
    nrmse_frac : float
        RMSE over the mean of the measurements on daylight points [-].
    """

    tilt_deg: float
    azimuth_deg: float
    scale: float
    nrmse_frac: float


def daylight_bounds(series: pd.Series, threshold: float) -> pd.DataFrame:
    """Per local day, the clock hours of the first and last interval midpoints with ``series > threshold``.

    Returns
    -------
    DataFrame
        Index: local dates; ``first_h``, ``last_h`` [h after local midnight].
    """
    step = index_step(pd.DatetimeIndex(series.index))
    wall = pd.DatetimeIndex(series.index).tz_localize(None)
    hours = (wall - wall.normalize()) / pd.Timedelta(hours=1) + step / pd.Timedelta(hours=1) / 2
    lit = pd.DataFrame({"date": wall.normalize(), "hour": hours})[series.to_numpy() > threshold]
    grouped = lit.groupby("date")["hour"]
    return pd.DataFrame({"first_h": grouped.min(), "last_h": grouped.max()})


def estimate_location(
    series: pd.Series,
    threshold: float,
    min_daylight_h: float = 4.0,
    winter_half_only: bool = True,
    northern: bool = True,
) -> LocationEstimate:
    """Latitude and effective longitude from the daily first and last light in ``series``.

    Parameters
    ----------
    series : Series
        Power or irradiance, tz-aware, equally spaced, a year or more for a
        good latitude (the day length must vary).
    threshold : float
        Value above which an interval counts as lit (same unit as ``series``).
    min_daylight_h : float
        Days with a shorter lit span (outages, snow) are ignored [h].
    winter_half_only : bool
        Use only the days when the sun rises and sets on the equator side of
        east and west, so an equator-facing tilted plane sees it from sunrise
        to sunset (in summer such a plane is lit late and dims early, which
        would shorten the days and bias the latitude low).
    northern : bool
        Hemisphere of the site (which half of the year is winter).

    Returns
    -------
    LocationEstimate
    """
    bounds = daylight_bounds(series, threshold)
    bounds = bounds[(bounds["last_h"] - bounds["first_h"]) >= min_daylight_h]
    day_of_year = pd.DatetimeIndex(bounds.index).day_of_year.to_numpy()
    if winter_half_only:
        winter = pvlib.solarposition.declination_spencer71(day_of_year) * (1 if northern else -1) < 0
        bounds, day_of_year = bounds[winter], day_of_year[winter]
    eot_min = pvlib.solarposition.equation_of_time_spencer71(day_of_year)
    declination = pvlib.solarposition.declination_spencer71(day_of_year)
    offset = pd.DatetimeIndex(series.index)[0].utcoffset()
    meridian_deg = (offset.total_seconds() / 3600.0) * 15.0 if offset is not None else 0.0
    first, last = bounds["first_h"].to_numpy(), bounds["last_h"].to_numpy()

    def residuals(params: np.ndarray) -> np.ndarray:
        latitude, longitude, elevation = np.radians(params[0]), params[1], np.radians(params[2])
        cos_h = (np.sin(elevation) - np.sin(latitude) * np.sin(declination)) / (np.cos(latitude) * np.cos(declination))
        half_day_h = np.degrees(np.arccos(np.clip(cos_h, -1.0, 1.0))) / 15.0
        noon_h = 12.0 + (meridian_deg - longitude) / 15.0 - eot_min / 60.0
        return np.concatenate([noon_h - half_day_h - first, noon_h + half_day_h - last])

    fit = least_squares(residuals, x0=[35.0, meridian_deg, 0.0], loss="soft_l1", f_scale=0.25)
    return LocationEstimate(
        latitude_deg=float(fit.x[0]),
        longitude_deg=float(fit.x[1]),
        threshold_elevation_deg=float(fit.x[2]),
        residual_min=float(np.median(np.abs(residuals(fit.x))) * 60.0),
        n_days=len(bounds),
    )


def select_clear_days(series: pd.Series, n_days: int, min_peak_frac: float = 0.7) -> list[pd.Timestamp]:
    """The ``n_days`` local days with the smoothest daily profile among the bright ones.

    Smoothness: sum of absolute second differences over the daily maximum;
    a day is bright when its maximum is at least ``min_peak_frac`` of the
    largest daily maximum within +-15 days (so smooth overcast days drop out).

    Returns
    -------
    list of Timestamp
        Local midnights (tz-aware), sorted.
    """
    local = series.tz_convert(series.index.tz)
    day = pd.DatetimeIndex(local.index).normalize()
    grouped = local.groupby(day)
    peak = grouped.max()
    rough = grouped.apply(lambda s: float(np.abs(np.diff(s.to_numpy(), 2)).sum()))
    roughness = rough / peak.where(peak > 0)
    envelope = peak.rolling(31, center=True, min_periods=1).max()
    candidates = roughness[(peak >= min_peak_frac * envelope) & roughness.notna()]
    return sorted(candidates.nsmallest(n_days).index)


def clear_sky_poa(
    location: pvlib.location.Location, index: pd.DatetimeIndex, tilt_deg: float, azimuth_deg: float
) -> pd.Series:
    """Clear-sky (Ineichen) plane-of-array irradiance, Perez transposition, at interval midpoints [W/m^2]."""
    mid = index + index_step(index) / 2
    position = location.get_solarposition(mid)
    sky = location.get_clearsky(mid, solar_position=position)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg,
        azimuth_deg,
        position["apparent_zenith"],
        position["azimuth"],
        sky["dni"],
        sky["ghi"],
        sky["dhi"],
        dni_extra=pvlib.irradiance.get_extra_radiation(mid),
        airmass=location.get_airmass(mid, solar_position=position)["airmass_relative"],
        model="perez",
    )
    return pd.Series(poa["poa_global"].fillna(0.0).to_numpy(), index=index)


def fit_orientation(
    measured: pd.Series,
    location: pvlib.location.Location,
    days: list[pd.Timestamp],
    min_elevation_deg: float = 5.0,
) -> OrientationEstimate:
    """Fixed tilt and azimuth that best explain ``measured`` on clear ``days``.

    Parameters
    ----------
    measured : Series
        Power or POA irradiance at interval starts (tz-aware).
    location : pvlib.location.Location
        Estimated or known site.
    days : list of Timestamp
        Clear days (:func:`select_clear_days`).
    min_elevation_deg : float
        Points with the sun lower are ignored [deg].

    Returns
    -------
    OrientationEstimate
    """
    index = pd.DatetimeIndex(measured.index)
    on_days = index.normalize().isin(pd.DatetimeIndex(days))
    sample = measured[on_days]
    sample_index = pd.DatetimeIndex(sample.index)
    mid = sample_index + index_step(index) / 2
    position = location.get_solarposition(mid)
    sky = location.get_clearsky(mid, solar_position=position)
    dni_extra = pvlib.irradiance.get_extra_radiation(mid).to_numpy()
    airmass = location.get_airmass(mid, solar_position=position)["airmass_relative"].to_numpy()
    keep = position["apparent_elevation"].to_numpy() > min_elevation_deg
    y = sample.to_numpy(dtype=float)[keep]
    zenith, azimuth = position["apparent_zenith"].to_numpy()[keep], position["azimuth"].to_numpy()[keep]
    dni, ghi, dhi = (sky[c].to_numpy()[keep] for c in ("dni", "ghi", "dhi"))

    def score(params: np.ndarray) -> tuple[float, float]:
        tilt, surface_azimuth = float(np.clip(params[0], 0.0, 90.0)), float(params[1]) % 360.0
        poa = pvlib.irradiance.get_total_irradiance(
            tilt,
            surface_azimuth,
            zenith,
            azimuth,
            dni,
            ghi,
            dhi,
            dni_extra=dni_extra[keep],
            airmass=airmass[keep],
            model="perez",
        )
        x = np.nan_to_num(np.asarray(poa["poa_global"], dtype=float))
        scale = float(x @ y / (x @ x)) if x @ x > 0 else 0.0
        return float(np.sqrt(np.mean((scale * x - y) ** 2)) / np.mean(y)), scale

    grid = [(t, a) for t in range(0, 61, 5) for a in range(90, 271, 10)]
    best = min(grid, key=lambda p: score(np.array(p, dtype=float))[0])
    refined = minimize(lambda p: score(p)[0], np.array(best, dtype=float), method="Nelder-Mead", options={"xatol": 0.1})
    nrmse, scale = score(refined.x)
    return OrientationEstimate(
        tilt_deg=float(np.clip(refined.x[0], 0.0, 90.0)),
        azimuth_deg=float(refined.x[1] % 360.0),
        scale=scale,
        nrmse_frac=nrmse,
    )
