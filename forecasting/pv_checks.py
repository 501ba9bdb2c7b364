"""Checks of a PV plant's metered history, found from the data itself, before anything is fitted on it.

Each check returns a :class:`CheckResult`: what it looked for, what it found (with the figures), what the fit
does about it, and the local days concerned. The fit (:func:`forecasting.pv_fit.fit_pv_plant`) excludes flagged
days from *fitting* only: a day is never dropped from *scoring* because of what happened on it.

* :func:`check_timestamp_convention`: which label convention (interval start, centre/instant, end) best aligns
  measured power with the sun, on clear days (clear-sky model of the site evaluated at shifted times).
* :func:`check_clock_alignment`: a constant offset or a drift between the meter's clock and the weather's, from
  the daily energy-weighted mean time of measured and weather-modelled power (cloud passages and the sun both
  move it).
* :func:`check_outages_and_curtailment`: output far below what the weather supports: outages (near zero for an
  hour or more), curtailment (a flat top held for an hour or more well below the model), other low-yield days;
  and a plant-wide export/inverter limit (many days flat at the same top).
* :func:`check_snow`: days in the cold whose yield stays far below the model after a dark, freezing day
  (snow-like conditions: no snowfall series is needed).
* :func:`check_soiling`: a slow decline of the measured/modelled ratio ended by an abrupt recovery (cleaning or
  rain).
* :func:`check_irradiance_column`: an irradiance column that is constant, in the wrong unit, tilted (a
  plane-of-array sensor labelled GHI) or reading a fraction of the sky (shaded, dirty, diffuse-only).

All inputs are tz-aware series of interval averages labelled at interval starts, on one equally spaced index;
days are local days of that index's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pvlib
from scipy.stats import theilslopes

from forecasting.calibrate import fit_orientation, select_clear_days
from forecasting.irradiance import clear_sky_on_index, solar_position
from forecasting.timeaxis import index_step

CheckName = Literal[
    "irradiance_column",
    "timestamp_convention",
    "clock_alignment",
    "outages",
    "curtailment",
    "export_limit",
    "low_yield",
    "snow",
    "soiling",
]

#: A day is "low yield" when its metered energy is below this fraction of the modelled energy.
LOW_YIELD_RATIO = 0.6
#: A step is part of an outage when the model gives at least this fraction of capacity and the meter at most
#: :data:`OUTAGE_LEVEL_FRAC` of it.
OUTAGE_MODEL_FRAC = 0.15
OUTAGE_LEVEL_FRAC = 0.01
#: A flat top: metered power within this fraction of capacity of its run's median, the model above it by at least
#: :data:`CURTAIL_GAP_FRAC` of capacity.
FLAT_TOLERANCE_FRAC = 0.015
CURTAIL_GAP_FRAC = 0.10
#: Runs shorter than this are noise (a passing cloud can look flat for a step or two).
MIN_RUN = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class CheckResult:
    """What a check looked for, found and did.

    Attributes
    ----------
    name : str
        Which check (:data:`CheckName`).
    found : bool
        The problem is there.
    finding : str
        What was found, with figures (or why nothing was).
    action : str
        What the fit does about it (excluded days, a shift, a conversion), or ``"none"``.
    days : tuple of Timestamp
        Local midnights of the days concerned (excluded from fitting where the action says so).
    value : float or None
        The check's main figure (an offset in minutes, a scale factor, a limit in kW ...), see ``unit``.
    unit : str
        Unit of ``value``.
    details : dict
        Further figures (per candidate, per episode), JSON-friendly.
    """

    name: CheckName
    found: bool
    finding: str
    action: str = "none"
    days: tuple[pd.Timestamp, ...] = ()
    value: float | None = None
    unit: str = ""
    details: dict[str, object] = field(default_factory=dict)

    def line(self) -> str:
        """One line for a report: ``name: finding -> action``."""
        flag = "FOUND" if self.found else "ok"
        days = f" ({len(self.days)} days)" if self.days else ""
        return f"{self.name} [{flag}]{days}: {self.finding} -> {self.action}"


# --- helpers ----------------------------------------------------------------------------------------------------


def local_days(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Local midnight of each label (the index's own zone)."""
    return index.normalize()


def shift_series(series: pd.Series, shift: pd.Timedelta | pd.Series) -> pd.Series:
    """Move interval averages later by ``shift`` (per label if a Series), keeping energy.

    The value labelled ``t`` afterwards is the average over ``[t - shift, t - shift + step)`` of the input,
    taken from its cumulative energy by linear interpolation, so a shift by a fraction of a step (a clock
    drift) is exact for piecewise-constant averages and energy is conserved away from the ends. Used to put a
    meter series on the weather's clock.

    Parameters
    ----------
    series : Series
        Interval averages labelled at starts (any unit).
    shift : Timedelta or Series of Timedelta
        Positive: the data move later. A Series is aligned on ``series``' labels.

    Returns
    -------
    Series
        Same labels; NaN where the shifted interval leaves the data.
    """
    index = pd.DatetimeIndex(series.index)
    step = index_step(index)
    if isinstance(shift, pd.Timedelta):
        if shift == pd.Timedelta(0):
            return series.copy()
        if shift % step == pd.Timedelta(0):
            return series.shift(int(shift / step))
        seconds = np.full(len(index), shift.total_seconds())
    else:
        seconds = pd.to_timedelta(shift.reindex(index)).dt.total_seconds().to_numpy()
    t = (index - index[0]).total_seconds().to_numpy()
    dt = step.total_seconds()
    edges = np.append(t, t[-1] + dt)
    values = np.nan_to_num(series.to_numpy(dtype=float))
    cumulative = np.concatenate([[0.0], np.cumsum(values * dt)])
    start = t - seconds
    energy = np.interp(start + dt, edges, cumulative) - np.interp(start, edges, cumulative)
    outside = (start < edges[0]) | (start + dt > edges[-1])
    out = energy / dt
    out[outside] = np.nan
    return pd.Series(out, index=index, name=series.name)


def _daylight_frame(measured: pd.Series, modelled: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame({"measured": measured, "modelled": modelled}).dropna()
    frame["day"] = local_days(pd.DatetimeIndex(frame.index))
    return frame


def daily_ratio(measured: pd.Series, modelled: pd.Series, min_modelled_kwh: float = 0.0) -> pd.Series:
    """Metered over modelled energy per local day [-]; NaN where the model gives less than ``min_modelled_kwh``."""
    frame = _daylight_frame(measured, modelled)
    sums = frame.groupby("day")[["measured", "modelled"]].sum()
    ratio = sums["measured"] / sums["modelled"]
    hours = index_step(pd.DatetimeIndex(measured.index)) / pd.Timedelta(hours=1)
    return ratio.where(sums["modelled"] * hours > min_modelled_kwh)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in ``mask``."""
    padded = np.concatenate([[False], mask, [False]]).astype(int)
    change = np.flatnonzero(np.diff(padded))
    return list(zip(change[::2], change[1::2], strict=True))


def _set_point(meas: np.ndarray, model: np.ndarray, capacity_kw: float) -> bool:
    """A flat stretch of metered power held well below a model that moves: a set-point, not the weather.

    Flat: the meter's range within 2 x :data:`FLAT_TOLERANCE_FRAC` of capacity; below: on average at least
    :data:`CURTAIL_GAP_FRAC` of capacity and 25 % under the model; the model moves: its range exceeds the
    meter's by 3 % of capacity (a clear noon, flat in both, is not a set-point).
    """
    if np.isnan(meas).any() or np.isnan(model).any():
        return False
    flat = np.ptp(meas) <= 2 * FLAT_TOLERANCE_FRAC * capacity_kw
    gap = float(np.mean(model - meas))
    below = gap >= CURTAIL_GAP_FRAC * capacity_kw and np.mean(meas) <= 0.75 * np.mean(model)
    moves = np.ptp(model) >= np.ptp(meas) + 0.03 * capacity_kw
    return bool(flat and below and moves)


def _day_list(days: pd.Index) -> tuple[pd.Timestamp, ...]:
    return tuple(pd.Timestamp(d) for d in sorted(set(days)))


def _dates(days: tuple[pd.Timestamp, ...], limit: int = 8) -> str:
    shown = ", ".join(d.strftime("%Y-%m-%d") for d in days[:limit])
    return shown + (f" ... (+{len(days) - limit})" if len(days) > limit else "")


# --- irradiance column ------------------------------------------------------------------------------------------


def check_irradiance_column(
    irradiance: pd.Series,
    location: pvlib.location.Location,
    name: str = "ghi_w_m2",
    n_clear_days: int = 60,
    min_tilt_deg: float = 10.0,
    scale_band: tuple[float, float] = (0.6, 1.4),
    max_nrmse: float = 0.25,
) -> CheckResult:
    """Is this irradiance column usable as GHI [W/m^2]? Constant, unit, tilt and magnitude, from clear days.

    The clear days are the column's own smoothest bright days (:func:`forecasting.calibrate.select_clear_days`);
    the fixed plane (tilt, azimuth) and scale that best fit them to pvlib's clear sky
    (:func:`forecasting.calibrate.fit_orientation`) tell the rest: a tilt of ``min_tilt_deg`` or more is a
    plane-of-array sensor; a scale of 1e-3 is kW/m^2, of ``step_h`` Wh/m^2 per interval, of ``3600 x step_h``
    J/m^2 per interval; a scale below ``scale_band`` that matches no unit is a sensor that sees only part of
    the sky (shaded, dirty, or diffuse only): its timing is usable, its magnitude is not.

    Parameters
    ----------
    irradiance : Series
        The column as metered (interval averages at starts), a few months or more.
    location : pvlib.location.Location
        The site (known, or estimated with :func:`forecasting.calibrate.estimate_location`).
    name : str
        Column name, for the message.
    n_clear_days : int
        Clear days used for the fit.
    min_tilt_deg : float
        Fitted tilt above which the sensor counts as tilted [deg].
    scale_band : (float, float)
        Scales [sensor unit per W/m^2] accepted as W/m^2 (soiling and calibration drift stay inside).
    max_nrmse : float
        A worse fit on the clearest days (RMSE over mean) means the sensor does not see the sky: unusable [-].

    Returns
    -------
    CheckResult
        ``value`` = fitted scale; ``details`` = tilt, azimuth, nRMSE, verdict (``"ok"``, ``"constant"``,
        ``"unit"``, ``"tilted"``, ``"low"``) and, for ``"unit"``, the factor to multiply by.
    """
    index = pd.DatetimeIndex(irradiance.index)
    step_h = index_step(index) / pd.Timedelta(hours=1)
    up = (solar_position(location, index)["apparent_elevation"] > 5.0).to_numpy()
    values = irradiance.to_numpy(dtype=float)[up]
    runs = [(a, b) for a, b in _runs(np.r_[False, np.diff(values) == 0.0]) if (b - a) * step_h >= 3.0]
    stuck_frac = sum(b - a for a, b in runs) / max(len(values), 1)
    if np.nanstd(values) <= 0.01 * max(float(np.nanmean(np.abs(values))), 1e-9) or stuck_frac >= 0.5:
        return CheckResult(
            "irradiance_column",
            True,
            f"{name} is constant (std {np.nanstd(values):.2f} in daylight; {stuck_frac:.0%} of daylight steps in runs "
            "of one value lasting 3 h or more)",
            f"{name} not used: PV modelled without measured irradiance",
            value=0.0,
            details={"verdict": "constant", "std": float(np.nanstd(values)), "stuck_frac": float(stuck_frac)},
        )
    days = select_clear_days(irradiance, n_clear_days)
    orientation = fit_orientation(irradiance, location, days)
    scale, tilt = orientation.scale, orientation.tilt_deg
    details: dict[str, object] = {
        "tilt_deg": round(tilt, 1),
        "azimuth_deg": round(orientation.azimuth_deg, 1),
        "scale": scale,
        "nrmse": round(orientation.nrmse_frac, 4),
        "clear_days": len(days),
    }
    factors = {"kW/m2": 1e-3, "Wh/m2 per interval": step_h, "J/m2 per interval": 3600.0 * step_h}
    if not scale_band[0] <= scale <= scale_band[1]:
        for unit, factor in factors.items():
            if 0.7 * factor <= scale <= 1.3 * factor and not scale_band[0] <= factor <= scale_band[1]:
                return CheckResult(
                    "irradiance_column",
                    True,
                    f"{name} is {scale:.3g} x the clear sky on {len(days)} clear days: it looks like {unit}",
                    f"{name} divided by {factor:g} (to W/m2)",
                    value=scale,
                    unit="sensor unit per W/m2",
                    details={**details, "verdict": "unit", "factor": factor, "unit": unit},
                )
    if orientation.nrmse_frac > max_nrmse:
        return CheckResult(
            "irradiance_column",
            True,
            f"{name} does not follow the clear sky on its {len(days)} clearest days (best plane {tilt:.1f} deg, "
            f"scale {scale:.2f}, nRMSE {orientation.nrmse_frac:.0%}): a shaded, dirty or diffuse-only sensor",
            f"{name} not used: PV modelled without measured irradiance",
            value=scale,
            unit="sensor unit per W/m2",
            details={**details, "verdict": "low"},
        )
    if tilt >= min_tilt_deg:
        return CheckResult(
            "irradiance_column",
            True,
            f"{name} is tilted: its clear days fit a plane at {tilt:.1f} deg tilt, {orientation.azimuth_deg:.1f} "
            f"deg azimuth (scale {scale:.2f}, nRMSE {orientation.nrmse_frac:.1%}), not the horizontal",
            f"{name} read as plane-of-array irradiance: GHI by reverse transposition at that plane",
            value=scale,
            unit="sensor unit per W/m2",
            details={**details, "verdict": "tilted"},
        )
    if scale < scale_band[0]:
        return CheckResult(
            "irradiance_column",
            True,
            f"{name} reads only {scale:.0%} of the clear sky on {len(days)} clear days (shaded, dirty or "
            "diffuse-only sensor): timing usable, magnitude not",
            f"{name} not used: PV modelled without measured irradiance",
            value=scale,
            unit="sensor unit per W/m2",
            details={**details, "verdict": "low"},
        )
    return CheckResult(
        "irradiance_column",
        False,
        f"{name} is horizontal (fitted tilt {tilt:.1f} deg) at {scale:.2f} x the clear sky on {len(days)} clear days",
        "used as GHI",
        value=scale,
        unit="sensor unit per W/m2",
        details={**details, "verdict": "ok"},
    )


# --- timing -----------------------------------------------------------------------------------------------------

Convention = Literal["start", "centre", "end"]
_CONVENTIONS: dict[Convention, float] = {"start": 0.0, "centre": 0.5, "end": 1.0}


def check_timestamp_convention(
    measured: pd.Series,
    location: pvlib.location.Location,
    clear_days: list[pd.Timestamp] | None = None,
    n_clear_days: int = 40,
    surface_tilt: float = 0.0,
    surface_azimuth: float = 180.0,
) -> CheckResult:
    """Which label convention aligns measured power with the sun: interval start, centre (instant) or end.

    On clear days, the clear-sky plane-of-array irradiance of the plant's plane (Ineichen, isotropic sky) is
    averaged over ``[label + s, label + s + step)`` for shifts ``s`` of -1 to +1 step in eighths; the shift whose
    profile, scaled by one factor, fits the measurements best says where the labels sit: 0 = interval starts
    (the forecasts' convention), -1/2 step = centres or instants, -1 step = interval ends. A best shift far from
    these three is a clock offset against the sun (or a wrong longitude).

    Parameters
    ----------
    measured : Series
        Metered power (or irradiance), tz-aware, at least a few weeks.
    location : pvlib.location.Location
        The plant's true location: a location estimated from the same labels absorbs any shift.
    clear_days : list of Timestamp, optional
        Days to use; default: :func:`forecasting.calibrate.select_clear_days` on ``measured``.
    n_clear_days : int
        Number of clear days when they are selected here.
    surface_tilt, surface_azimuth : float
        The plant's plane [deg]; the shape of a tilted plane's day differs from the horizontal's.

    Returns
    -------
    CheckResult
        ``value`` = the best shift [min] (data later than labels say: negative); ``details`` = misfit per shift.
    """
    index = pd.DatetimeIndex(measured.index)
    step = index_step(index)
    days = clear_days if clear_days is not None else select_clear_days(measured, n_clear_days)
    on_days = local_days(index).isin(pd.DatetimeIndex(days))
    sample = measured[on_days]
    sample_index = pd.DatetimeIndex(sample.index)
    y = sample.to_numpy(dtype=float)
    misfits: dict[float, float] = {}
    fine = 8
    for k in range(-fine, fine + 1):
        shift = step * (k / fine)
        x = np.zeros(len(sample_index))
        for j in range(4):  # the interval average from four sub-points
            times = sample_index + shift + step * ((j + 0.5) / 4)
            position = location.get_solarposition(times)
            sky = location.get_clearsky(times, solar_position=position)
            poa = pvlib.irradiance.get_total_irradiance(
                surface_tilt,
                surface_azimuth,
                position["apparent_zenith"],
                position["azimuth"],
                sky["dni"],
                sky["ghi"],
                sky["dhi"],
            )
            x += np.nan_to_num(poa["poa_global"].to_numpy(dtype=float)) / 4
        scale = float(x @ y / (x @ x)) if x @ x > 0 else 0.0
        misfits[k / fine] = float(np.sqrt(np.mean((scale * x - y) ** 2)) / max(np.mean(y), 1e-9))
    best = min(misfits, key=lambda s: misfits[s])
    shift_min = best * step.total_seconds() / 60.0
    nearest: Convention = min(_CONVENTIONS, key=lambda c: abs(-best - _CONVENTIONS[c]))
    distance = abs(-best - _CONVENTIONS[nearest])
    details: dict[str, object] = {
        "misfit_by_shift_steps": {f"{s:+.3f}": round(m, 4) for s, m in misfits.items()},
        "clear_days": len(days),
        "convention": nearest if distance <= 0.125 else "offset",
    }
    if distance > 0.125:
        return CheckResult(
            "timestamp_convention",
            True,
            f"measured power best matches the sun {shift_min:+.0f} min from its labels (no interval "
            f"start/centre/end convention): a clock offset or a wrong longitude",
            f"labels moved by {-shift_min:+.0f} min (energy kept)",
            value=shift_min,
            unit="min",
            details=details,
        )
    if nearest == "start":
        return CheckResult(
            "timestamp_convention",
            False,
            f"labels are interval starts (best shift {shift_min:+.0f} min on {len(days)} clear days)",
            "none",
            value=shift_min,
            unit="min",
            details=details,
        )
    moved = -_CONVENTIONS[nearest] * step.total_seconds() / 60.0
    return CheckResult(
        "timestamp_convention",
        True,
        f"labels are interval {'ends' if nearest == 'end' else 'centres (or instants)'}: measured power best "
        f"matches the sun {shift_min:+.0f} min from its labels on {len(days)} clear days",
        f"relabelled to interval starts ({moved:+.1f} min)",
        value=shift_min,
        unit="min",
        details=details,
    )


def daily_centroid_h(series: pd.Series) -> pd.Series:
    """Energy-weighted mean clock time of each local day [h after midnight], at interval midpoints."""
    index = pd.DatetimeIndex(series.index)
    step_h = index_step(index) / pd.Timedelta(hours=1)
    wall = index.tz_localize(None)
    hours = (wall - wall.normalize()) / pd.Timedelta(hours=1) + step_h / 2
    values = series.clip(lower=0.0).to_numpy(dtype=float)
    frame = pd.DataFrame({"w": values, "wt": values * hours.to_numpy()}, index=index)
    sums = frame.groupby(local_days(index)).sum()
    return (sums["wt"] / sums["w"]).where(sums["w"] > 0)


def daily_clock_offsets(
    measured: pd.Series,
    modelled: pd.Series,
    capacity_kw: float,
    exclude_days: tuple[pd.Timestamp, ...] = (),
    min_energy_frac: float = 0.15,
) -> pd.Series:
    """Per usable local day, how much later the meter's day is than the weather-modelled one [min].

    The energy-weighted mean time (centroid) of metered power minus that of the power modelled from the
    weather: both see the same sun and the same cloud passages, so the difference is the two clocks'. Days
    whose metered energy is below ``min_energy_frac`` x capacity x 6 h, and ``exclude_days`` (a flat top
    moves the centroid), are left out.
    """
    index = pd.DatetimeIndex(measured.index)
    hours = index_step(index) / pd.Timedelta(hours=1)
    energy = measured.clip(lower=0).groupby(local_days(index)).sum() * hours
    keep = energy > min_energy_frac * capacity_kw * 6.0
    difference = (daily_centroid_h(measured) - daily_centroid_h(modelled))[keep] * 60.0
    return difference[~difference.index.isin(pd.DatetimeIndex(exclude_days))].dropna()


def offsets_on_index(
    daily: pd.Series, index: pd.DatetimeIndex, window_days: int = 31, trailing: bool = False
) -> pd.Series:
    """A rolling median of daily clock offsets, as a shift per label of ``index`` [Timedelta].

    ``trailing=False``: centred over ``window_days`` (for fitting on a past period); ``True``: the days
    before each day only (for forecasting: a day-ahead forecast knows the offsets up to the day before).
    Days without an estimate take the nearest earlier one (or the first).
    """
    label_days = local_days(index).unique()
    first = min(label_days[0], daily.index.min()) if len(daily) else label_days[0]
    last = max(label_days[-1], daily.index.max()) if len(daily) else label_days[-1]
    series = daily.reindex(pd.date_range(first, last, freq="D"))
    if trailing:
        level = series.rolling(window_days, min_periods=5).median().shift(1)
        level = level.ffill().fillna(0.0)
    else:
        level = series.rolling(window_days, center=True, min_periods=5).median()
        level = level.interpolate(limit_direction="both").fillna(0.0)
    per_label = level.reindex(local_days(index)).to_numpy(dtype=float)
    return pd.Series(pd.to_timedelta(per_label, unit="min"), index=index)


def check_clock_alignment(
    measured: pd.Series,
    modelled: pd.Series,
    capacity_kw: float,
    tolerance: pd.Timedelta | None = None,
    exclude_days: tuple[pd.Timestamp, ...] = (),
    window_days: int = 31,
) -> tuple[CheckResult, pd.Series]:
    """A constant offset, a drift or a jump between the meter's clock and the weather's.

    Daily offsets from :func:`daily_clock_offsets`; their centred rolling median over ``window_days`` is the
    clocks' difference through the period. Found when it exceeds ``tolerance`` somewhere.

    Parameters
    ----------
    measured, modelled : Series
        Metered power and power modelled from the weather [kW], on one index.
    capacity_kw : float
        Plant capacity [kW] (days with little energy are left out).
    tolerance : Timedelta, optional
        Default: a quarter of the step.
    exclude_days : tuple of Timestamp
        Days not to use (outages, curtailment).
    window_days : int
        Rolling window of the median [days].

    Returns
    -------
    (CheckResult, Series)
        The result (``value`` = median offset [min], meter later than weather: positive; ``details``: drift
        [min/year], range, largest 7-day jump) and the shift per label that moves the modelled power onto the
        meter's clock (zero when nothing was found).
    """
    index = pd.DatetimeIndex(measured.index)
    step = index_step(index)
    tolerance = tolerance if tolerance is not None else step / 4
    tol_min = tolerance.total_seconds() / 60.0
    difference = daily_clock_offsets(measured, modelled, capacity_kw, exclude_days)
    zero = pd.Series(pd.to_timedelta(np.zeros(len(index)), unit="min"), index=index)
    if len(difference) < 10:
        return CheckResult("clock_alignment", False, f"too few usable days ({len(difference)}) to tell", "none"), zero
    days_since = ((difference.index - difference.index[0]) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    slope, _, _, _ = theilslopes(difference.to_numpy(), days_since)
    level = difference.rolling(window_days, center=True, min_periods=5).median().dropna()
    offset = float(difference.median())
    jumps = (level.shift(-7) - level).dropna() if len(level) > 7 else pd.Series(dtype=float)
    jump_at = jumps.abs().idxmax() if len(jumps) else None
    details: dict[str, object] = {
        "days": len(difference),
        "median_offset_min": round(offset, 2),
        "drift_min_per_year": round(float(slope * 365.0), 2),
        "lowest_min": round(float(level.min()), 2) if len(level) else None,
        "highest_min": round(float(level.max()), 2) if len(level) else None,
        "largest_7_day_change_min": round(float(jumps.loc[jump_at]), 2) if jump_at is not None else None,
        "largest_change_near": jump_at.strftime("%Y-%m-%d") if jump_at is not None else None,
        "monthly_median_min": {
            k: round(float(v), 1) for k, v in difference.groupby(difference.index.strftime("%Y-%m")).median().items()
        },
    }
    shift = offsets_on_index(difference, index, window_days)
    if len(level) and max(abs(level.min()), abs(level.max())) >= tol_min:
        kind = "offset" if level.max() - level.min() < tol_min else "drift"
        text = (
            f"the meter is {offset:+.1f} min off the weather's clock (median of {len(difference)} days)"
            if kind == "offset"
            else f"the clocks of meter and weather drift apart: {level.min():+.1f} to {level.max():+.1f} min "
            f"(31-day medians; trend {slope * 365:+.1f} min/year; largest 7-day change "
            f"{details['largest_7_day_change_min']:+} min near {details['largest_change_near']})"
        )
        return (
            CheckResult(
                "clock_alignment",
                True,
                text,
                "modelled power moved onto the meter's clock day by day (31-day median of the daily offsets, energy "
                "kept); forecasts use the median of the 31 days before each day (trailing_clock_shift)",
                value=offset,
                unit="min",
                details={**details, "kind": kind},
            ),
            shift,
        )
    return (
        CheckResult(
            "clock_alignment",
            False,
            f"meter and weather clocks agree ({offset:+.1f} min median, drift {slope * 365:+.1f} min/year, "
            f"{len(difference)} days)",
            "none",
            value=offset,
            unit="min",
            details={**details, "kind": "none"},
        ),
        zero,
    )


def trailing_clock_shift(
    measured: pd.Series,
    modelled: pd.Series,
    capacity_kw: float,
    index: pd.DatetimeIndex,
    exclude_days: tuple[pd.Timestamp, ...] = (),
    window_days: int = 31,
) -> pd.Series:
    """Per label of ``index``, the clock shift seen over the ``window_days`` before its day [Timedelta].

    For forecasts: ``measured`` and ``modelled`` may extend up to the day before each forecast day (the
    offsets of a day are used from the next day on), so the shift uses only what was known when the forecast
    was issued. Apply with :func:`shift_series` to the forecast.
    """
    daily = daily_clock_offsets(measured, modelled, capacity_kw, exclude_days)
    return offsets_on_index(daily, index, window_days, trailing=True)


# --- outages, curtailment, export limit ----------------------------------------------------------------------


@dataclass(frozen=True)
class AvailabilityFindings:
    """What :func:`check_outages_and_curtailment` found, one result per kind, plus the per-day caps."""

    outages: CheckResult
    curtailment: CheckResult
    low_yield: CheckResult
    export_limit: CheckResult
    #: Per flagged day, the highest metered power [kW] (a curtailment set-point, 0 for a full outage).
    day_max_kw: pd.Series

    def results(self) -> tuple[CheckResult, ...]:
        """The four results in report order."""
        return (self.outages, self.curtailment, self.low_yield, self.export_limit)

    def excluded_days(self) -> tuple[pd.Timestamp, ...]:
        """Days whose output the weather does not explain (outage, curtailment, low yield)."""
        return _day_list(pd.Index([*self.outages.days, *self.curtailment.days, *self.low_yield.days]))


def check_outages_and_curtailment(
    measured: pd.Series,
    modelled: pd.Series,
    capacity_kw: float,
    low_yield_ratio: float = LOW_YIELD_RATIO,
    min_days_at_limit: int = 10,
) -> AvailabilityFindings:
    """Output far below what the weather supports: outages, curtailment (flat tops), other low-yield days, and
    a plant-wide export or inverter limit.

    * outage: the model gives at least 15 % of capacity while the meter reads at most 1 %, for an hour or more;
    * curtailment: metered power flat (within 1.5 % of capacity) for an hour or more while the model is at
      least 10 % of capacity above it: a set-point;
    * low yield: the day's metered energy below ``low_yield_ratio`` of the modelled (partial outages, snow, a
      model that does not fit that day) and neither of the above;
    * export limit: on ``min_days_at_limit`` days or more the day's top is flat at the same level (within 1 %
      of capacity) while the model exceeds it: the plant cannot deliver more than that.

    Parameters
    ----------
    measured, modelled : Series
        Metered power and power modelled from the weather [kW], one index.
    capacity_kw : float
        Plant AC capacity [kW].
    low_yield_ratio : float
        See above.
    min_days_at_limit : int
        See above.

    Returns
    -------
    AvailabilityFindings
    """
    index = pd.DatetimeIndex(measured.index)
    step = index_step(index)
    min_steps = max(1, round(MIN_RUN / step))
    meas = measured.to_numpy(dtype=float)
    model = modelled.reindex(index).to_numpy(dtype=float)
    days = local_days(index)
    # outages
    near_zero = np.nan_to_num(meas, nan=0.0) <= OUTAGE_LEVEL_FRAC * capacity_kw
    dark = (model >= OUTAGE_MODEL_FRAC * capacity_kw) & near_zero
    outage_days = [days[a] for a, b in _runs(dark) if b - a >= min_steps]
    # flat tops below the model: curtailment set-points
    tolerance = FLAT_TOLERANCE_FRAC * capacity_kw
    curtail_days: list[pd.Timestamp] = []
    tops: list[tuple[pd.Timestamp, float]] = []
    for day, group in pd.DataFrame({"m": meas, "p": model}, index=index).groupby(days):
        m, p = group["m"].to_numpy(), group["p"].to_numpy()
        lit = m > OUTAGE_LEVEL_FRAC * capacity_kw
        if lit.sum() < min_steps:
            continue
        level = np.nanmax(m)
        at_top = np.abs(m - level) <= tolerance
        for a, b in _runs(at_top):
            # a limit: the day's top held for an hour or more while the model is clearly above it
            above = np.nanmean(p[a:b] - m[a:b]) >= 0.5 * CURTAIL_GAP_FRAC * capacity_kw
            if b - a >= min_steps and above and np.nanmax(p[a:b]) > level + 0.5 * CURTAIL_GAP_FRAC * capacity_kw:
                tops.append((pd.Timestamp(day), float(level)))
        # any flat run below a moving model (a set-point need not be the day's top)
        for i in range(len(m) - min_steps + 1):
            window = slice(i, i + min_steps)
            if np.all(m[window] > OUTAGE_LEVEL_FRAC * capacity_kw) and _set_point(m[window], p[window], capacity_kw):
                curtail_days.append(pd.Timestamp(day))
                break
    # a plant-wide limit: many days' flat tops at one level
    limit_kw: float | None = None
    limit_days: list[pd.Timestamp] = []
    if tops:
        levels = np.array([lv for _, lv in tops])
        counts = np.array([(np.abs(levels - lv) <= 0.01 * capacity_kw).sum() for lv in levels])
        if counts.max() >= min_days_at_limit:
            centre = levels[int(counts.argmax())]
            members = np.abs(levels - centre) <= 0.01 * capacity_kw
            limit_kw = float(np.median(levels[members]))
            limit_days = [d for (d, _), keep in zip(tops, members, strict=True) if keep]
    curtail_only = sorted(set(curtail_days) - set(limit_days) - set(outage_days))
    ratio = daily_ratio(measured, modelled, min_modelled_kwh=0.5 * capacity_kw)
    low = ratio.index[(ratio < low_yield_ratio).to_numpy()]
    low_only = sorted(set(low) - set(curtail_only) - set(outage_days) - set(limit_days))
    day_max = measured.groupby(days).max()
    flagged = _day_list(pd.Index([*outage_days, *curtail_only, *low_only]))
    outage_t, curtail_t, low_t = _day_list(pd.Index(outage_days)), tuple(curtail_only), tuple(low_only)
    outages = CheckResult(
        "outages",
        bool(outage_t),
        f"{len(outage_t)} days with output near zero for an hour or more while the weather supports "
        f">= {OUTAGE_MODEL_FRAC:.0%} of capacity" + (f": {_dates(outage_t)}" if outage_t else ""),
        "excluded from fitting (scored as they are)" if outage_t else "none",
        days=outage_t,
    )
    curtailment = CheckResult(
        "curtailment",
        bool(curtail_t),
        f"{len(curtail_t)} days with a flat top held for an hour or more >= {CURTAIL_GAP_FRAC:.0%} of capacity "
        "below the model (a set-point)" + (f": {_dates(curtail_t)}" if curtail_t else ""),
        "excluded from fitting (scored as they are)" if curtail_t else "none",
        days=curtail_t,
    )
    low_yield = CheckResult(
        "low_yield",
        bool(low_t),
        f"{len(low_t)} more days whose metered energy is below {low_yield_ratio:.0%} of the modelled "
        "(partial outage, snow or a day the model misreads)" + (f": {_dates(low_t)}" if low_t else ""),
        "excluded from fitting (scored as they are)" if low_t else "none",
        days=low_t,
    )
    if limit_kw is not None:
        export = CheckResult(
            "export_limit",
            True,
            f"output flat at {limit_kw:,.0f} kW on {len(limit_days)} days while the model is higher: an export "
            "or inverter limit",
            f"forecasts capped at {limit_kw:,.0f} kW; those days kept for fitting",
            days=_day_list(pd.Index(limit_days)),
            value=limit_kw,
            unit="kW",
        )
    else:
        export = CheckResult(
            "export_limit",
            False,
            f"no recurring flat top (fewer than {min_days_at_limit} days at one level)",
            "none",
        )
    return AvailabilityFindings(outages, curtailment, low_yield, export, day_max[day_max.index.isin(flagged)])


# --- snow and soiling ---------------------------------------------------------------------------------------------


def check_snow(
    ratio: pd.Series,
    temp_air_c: pd.Series,
    sky_index: pd.Series,
    exclude_days: tuple[pd.Timestamp, ...] = (),
    cold_c: float = 2.0,
    dark_sky_index: float = 0.5,
    loss_frac: float = 0.2,
    max_days_after: int = 3,
) -> CheckResult:
    """Snow on the modules: days in the cold whose yield stays far below the model after snow-like conditions.

    A snow-like day is freezing and dark: daily mean air temperature at most ``cold_c`` and the weather's
    daily clear-sky index (irradiance over clear-sky irradiance) at most ``dark_sky_index`` (thick cloud,
    when snow falls). Each day from it up to ``max_days_after`` days later, and on while it lasts, whose
    ratio of metered to modelled energy is ``loss_frac`` or more below the plant's usual level (the median
    ratio of the unflagged days) and whose mean temperature stays at most ``cold_c + 3`` C, is a snow day.
    Days flagged already (outages, curtailment) are not counted. No snowfall series is needed; with one,
    :func:`pvlib.snow.coverage_nrel` could model the loss instead of flagging it.

    Parameters
    ----------
    ratio : Series
        Daily metered over modelled energy (:func:`daily_ratio`).
    temp_air_c : Series
        Daily mean air temperature [C], same days.
    sky_index : Series
        Daily clear-sky index of the weather's irradiance [-], same days.
    exclude_days : tuple of Timestamp
        Days already explained (not snow).
    cold_c, dark_sky_index, loss_frac, max_days_after : float, float, float, int
        See above.

    Returns
    -------
    CheckResult
    """
    usual = float(ratio[~ratio.index.isin(pd.DatetimeIndex(exclude_days))].median())
    low = (ratio <= usual * (1.0 - loss_frac)) & ~ratio.index.isin(pd.DatetimeIndex(exclude_days))
    cold = temp_air_c.reindex(ratio.index) <= cold_c + 3.0
    snowy = (temp_air_c.reindex(ratio.index) <= cold_c) & (sky_index.reindex(ratio.index) <= dark_sky_index)
    days = list(ratio.index)
    hit = (low & cold).to_numpy()
    trigger = snowy.to_numpy()
    flagged: list[pd.Timestamp] = []
    episodes: list[dict[str, object]] = []
    i = 0
    while i < len(days):
        window = [k for k in range(i, min(i + max_days_after + 1, len(days))) if hit[k]] if trigger[i] else []
        if not window:
            i += 1
            continue
        end = window[0]
        while end + 1 < len(days) and hit[end + 1]:
            end += 1
        run = range(window[0], end + 1)
        flagged += [days[k] for k in run]
        episodes.append(
            {
                "snow_like_day": days[i].strftime("%Y-%m-%d"),
                "days": [days[k].strftime("%Y-%m-%d") for k in run],
                "ratios": [round(float(ratio.iloc[k]), 3) for k in run],
            }
        )
        i = end + 1
    result_days = _day_list(pd.Index(flagged))
    if not result_days:
        return CheckResult(
            "snow",
            False,
            f"no cold low-yield days after a freezing dark day (usual ratio {usual:.2f})",
            "none",
            value=usual,
            unit="-",
        )
    return CheckResult(
        "snow",
        True,
        f"{len(result_days)} days in {len(episodes)} episodes yield >= {loss_frac:.0%} below the usual ratio "
        f"({usual:.2f}) in the cold after a freezing dark day: {_dates(result_days)}",
        "excluded from fitting (scored as they are)",
        days=result_days,
        value=usual,
        unit="-",
        details={"episodes": episodes},
    )


def check_soiling(
    ratio: pd.Series,
    exclude_days: tuple[pd.Timestamp, ...] = (),
    min_decline_frac: float = 0.04,
    min_days: int = 14,
    max_days: int = 120,
    recovery_days: int = 3,
    exclude_loss_frac: float = 0.03,
) -> CheckResult:
    """Soiling seasons: a slow decline of the daily metered/modelled ratio ended by an abrupt recovery.

    The ratio of the unflagged days, as a centred 7-day rolling median, is searched for recoveries (a rise of
    at least ``min_decline_frac / 2`` within ``recovery_days``: cleaning or rain). Before each, a Theil-Sen line
    over the days since the previous recovery (``min_days`` to ``max_days``) that falls by at least
    ``min_decline_frac`` is a soiling episode; its days whose fitted loss exceeds ``exclude_loss_frac`` are
    flagged. No rainfall series is needed; with one, :func:`pvlib.soiling.hsu` or :func:`pvlib.soiling.kimber`
    could model the loss.

    Parameters
    ----------
    ratio : Series
        Daily metered over modelled energy (:func:`daily_ratio`).
    exclude_days : tuple of Timestamp
        Days already explained (outages, curtailment, snow).
    min_decline_frac, min_days, max_days, recovery_days, exclude_loss_frac : float, int, int, int, float
        See above.

    Returns
    -------
    CheckResult
        ``details["episodes"]``: start, recovery, loss [-] and rate [%/day] of each.
    """
    clean = ratio.where(~ratio.index.isin(pd.DatetimeIndex(exclude_days)))
    level = clean.rolling(7, center=True, min_periods=3).median().interpolate(limit_direction="both")
    values = level.to_numpy(dtype=float)
    n = len(values)
    rises = [
        i
        for i in range(n - recovery_days)
        if values[i + recovery_days] - values[i] >= min_decline_frac / 2
        and (i == 0 or values[i + recovery_days - 1] - values[i - 1] < min_decline_frac / 2)
    ]
    episodes: list[dict[str, object]] = []
    flagged: list[pd.Timestamp] = []
    previous = 0
    for rise in rises:
        start = max(previous, rise - max_days)
        previous = rise + recovery_days
        if rise - start < min_days:
            continue
        x = np.arange(start, rise + 1, dtype=float)
        y = clean.iloc[start : rise + 1].to_numpy(dtype=float)
        keep = ~np.isnan(y)
        if keep.sum() < min_days // 2:
            continue
        slope, intercept, _, _ = theilslopes(y[keep], x[keep])
        top = intercept + slope * start
        decline = -slope * (rise - start) / top if top > 0 else 0.0
        if slope >= 0 or decline < min_decline_frac:
            continue
        loss = -slope * (x - start) / top
        flagged += [ratio.index[int(k)] for k, lost in zip(x, loss, strict=True) if lost > exclude_loss_frac]
        episodes.append(
            {
                "start": ratio.index[start].strftime("%Y-%m-%d"),
                "recovery": ratio.index[rise].strftime("%Y-%m-%d"),
                "loss_frac": round(float(decline), 3),
                "rate_pct_per_day": round(float(100.0 * decline / (rise - start)), 3),
            }
        )
    result_days = _day_list(pd.Index(flagged))
    if not episodes:
        return CheckResult(
            "soiling",
            False,
            f"no decline of >= {min_decline_frac:.0%} over {min_days}+ days ended by a recovery",
            "none",
        )
    text = "; ".join(
        f"{e['start']} -> {e['recovery']}: -{100 * float(e['loss_frac']):.1f} % ({e['rate_pct_per_day']} %/day)"  # type: ignore[arg-type]
        for e in episodes
    )
    return CheckResult(
        "soiling",
        True,
        f"{len(episodes)} soiling episodes (slow decline, abrupt recovery): {text}",
        f"{len(result_days)} days losing more than {exclude_loss_frac:.0%} excluded from fitting (scored as they are)",
        days=result_days,
        value=max(float(e["loss_frac"]) for e in episodes),  # type: ignore[arg-type]
        unit="-",
        details={"episodes": episodes},
    )


def daily_sky_index(ghi: pd.Series, location: pvlib.location.Location) -> pd.Series:
    """Daily GHI energy over clear-sky GHI energy (Ineichen) [-], per local day."""
    index = pd.DatetimeIndex(ghi.index)
    clear = clear_sky_on_index(location, index)["ghi"]
    sums = pd.DataFrame({"g": ghi.clip(lower=0).to_numpy(), "c": clear.to_numpy()}, index=index).groupby(
        local_days(index)
    )
    total = sums.sum()
    return (total["g"] / total["c"]).where(total["c"] > 0)
