"""Fitting a PV plant's forecast to its metered history, after checking the history from the data itself.

:func:`fit_pv_plant` takes a site, its metered power and the weather of the same period (measured or
forecast), and

1. checks the weather's GHI column (:func:`~forecasting.pv_checks.check_irradiance_column`): a tilted sensor is
   turned into GHI by reverse transposition, a wrong unit rescaled, a constant or part-sky sensor dropped;
2. checks the meter's timestamps against the sun (:func:`~forecasting.pv_checks.check_timestamp_convention`)
   and relabels them to interval starts;
3. models the plant from the weather with :func:`forecasting.forecast_pv`, and checks the meter's clock against
   the weather's (:func:`~forecasting.pv_checks.check_clock_alignment`), realigning the meter;
4. finds outages, curtailment, low-yield days and an export limit
   (:func:`~forecasting.pv_checks.check_outages_and_curtailment`), snow (:func:`~forecasting.pv_checks.check_snow`)
   and soiling (:func:`~forecasting.pv_checks.check_soiling`): their days are excluded from fitting;
5. chooses the irradiance smoothing by two-fold cross-validation on alternating weeks of the fit period and
   fits the month x hour corrections (:func:`~forecasting.pv_correction.fit_correction`) of the weather-driven
   model and of the clear-sky model (the day-ahead fallback).

The result's :class:`PvFitSummary` says what each check found and what was done; :meth:`PvPlantFit.forecast`
forecasts with the fitted options, after preparing new weather the same way as the fit's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from forecasting.errors import ForecastWarning
from forecasting.irradiance import ghi_from_poa, solar_position
from forecasting.pv import PvModelOptions, forecast_pv
from forecasting.pv_checks import (
    AvailabilityFindings,
    CheckResult,
    check_clock_alignment,
    check_irradiance_column,
    check_outages_and_curtailment,
    check_snow,
    check_soiling,
    check_timestamp_convention,
    daily_ratio,
    daily_sky_index,
    local_days,
    shift_series,
)
from forecasting.pv_correction import PvCorrection, Statistic, fit_correction
from forecasting.specs import FixedMount, PvSiteSpec
from forecasting.timeaxis import HorizonLike
from forecasting.weather import Weather

#: Candidate irradiance smoothing windows [steps] tried by cross-validation.
SMOOTHING_CANDIDATES: tuple[int, ...] = (1, 2, 3, 4)


@dataclass(frozen=True)
class IrradiancePlan:
    """What to do with a weather's ``ghi_w_m2`` column, decided by the irradiance check.

    Attributes
    ----------
    verdict : str
        ``"ok"``, ``"tilted"``, ``"unit"``, ``"constant"``, ``"low"`` or ``"absent"``.
    tilt_deg, azimuth_deg : float
        The sensor's plane when tilted [deg].
    factor : float
        Divide by this to get W/m^2 when the unit was wrong [-].
    """

    verdict: str = "ok"
    tilt_deg: float = 0.0
    azimuth_deg: float = 180.0
    factor: float = 1.0

    def prepare(self, weather: Weather | None, site: PvSiteSpec) -> Weather | None:
        """``weather`` with its GHI column made usable as the fit found (the same for new weather)."""
        if weather is None or "ghi_w_m2" not in weather.data.columns or self.verdict in ("ok", "absent"):
            return weather
        data = weather.data.copy()
        if self.verdict == "tilted":
            data["ghi_w_m2"] = ghi_from_poa(
                data["ghi_w_m2"].clip(lower=0.0), site.location(), self.tilt_deg, self.azimuth_deg
            )
        elif self.verdict == "unit":
            data["ghi_w_m2"] = data["ghi_w_m2"] / self.factor
        else:
            data = data.drop(columns=["ghi_w_m2"])
        sampling = {c: weather.sampling[c] for c in data.columns}
        return Weather(data=data, step=weather.step, sampling=sampling, source=weather.source, meta=weather.meta)


@dataclass(frozen=True)
class PvFitSummary:
    """What the fit found in the data and did about it.

    Attributes
    ----------
    checks : tuple of CheckResult
        Every check, in the order run.
    fit_period : str
        First and last metered day.
    days : int
        Days in the history.
    excluded_days : tuple of Timestamp
        Days excluded from fitting (union of the checks' days), never from scoring.
    irradiance : str
        How the weather's irradiance was used.
    smoothing_steps : int
        Irradiance smoothing chosen [steps].
    smoothing_cv_nmae_pct : dict
        Cross-validated nMAE [% of capacity] per candidate window.
    correction : PvCorrection
        Of the weather-driven model.
    clear_sky_correction : PvCorrection
        Of the clear-sky model.
    notes : tuple of str
        Warnings met while fitting (e.g. a clear-sky fallback).
    """

    checks: tuple[CheckResult, ...]
    fit_period: str
    days: int
    excluded_days: tuple[pd.Timestamp, ...]
    irradiance: str
    smoothing_steps: int
    smoothing_cv_nmae_pct: dict[int, float]
    correction: PvCorrection
    clear_sky_correction: PvCorrection
    notes: tuple[str, ...] = ()

    def check(self, name: str) -> CheckResult:
        """The result of the check called ``name``."""
        for result in self.checks:
            if result.name == name:
                return result
        raise KeyError(name)

    def lines(self) -> list[str]:
        """The summary as report lines."""
        head = [
            f"fit period {self.fit_period} ({self.days} days; {len(self.excluded_days)} excluded from fitting, "
            "none from scoring)",
            f"irradiance: {self.irradiance}",
            f"irradiance smoothing: {self.smoothing_steps} steps (cross-validated nMAE by window: "
            + ", ".join(f"{k}: {v:.2f} %" for k, v in self.smoothing_cv_nmae_pct.items())
            + ")",
        ]
        return head + [c.line() for c in self.checks] + [f"note: {n}" for n in self.notes]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (dates as ISO strings)."""
        return {
            "fit_period": self.fit_period,
            "days": self.days,
            "excluded_days": [d.strftime("%Y-%m-%d") for d in self.excluded_days],
            "irradiance": self.irradiance,
            "smoothing_steps": self.smoothing_steps,
            "smoothing_cv_nmae_pct": {str(k): round(v, 3) for k, v in self.smoothing_cv_nmae_pct.items()},
            "correction_by_month": {str(k): round(v, 3) for k, v in self.correction.monthly().items()},
            "clear_sky_correction_by_month": {
                str(k): round(v, 3) for k, v in self.clear_sky_correction.monthly().items()
            },
            "checks": [
                {
                    "name": c.name,
                    "found": c.found,
                    "finding": c.finding,
                    "action": c.action,
                    "days": [d.strftime("%Y-%m-%d") for d in c.days],
                    "value": c.value,
                    "unit": c.unit,
                    "details": c.details,
                }
                for c in self.checks
            ],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class PvPlantFit:
    """A fitted plant: its site, the options that carry the corrections, and the summary.

    Attributes
    ----------
    site : PvSiteSpec
    options : PvModelOptions
        For weather-driven forecasts (correction, smoothing, export limit).
    clear_sky_options : PvModelOptions
        For forecasts without irradiance (the clear-sky model's correction, export limit).
    irradiance_plan : IrradiancePlan
        How new weather's GHI column is prepared (:meth:`prepare_weather`).
    summary : PvFitSummary
    availability : AvailabilityFindings
        Outages and curtailment found in the history (their days' top power feeds
        :func:`forecasting.pv_correction.output_caps_by_day`).
    measured_kw : Series
        The metered power after the timing corrections, as fitted [kW].
    """

    site: PvSiteSpec
    options: PvModelOptions
    clear_sky_options: PvModelOptions
    irradiance_plan: IrradiancePlan
    summary: PvFitSummary
    availability: AvailabilityFindings
    measured_kw: pd.Series = field(repr=False)

    def prepare_weather(self, weather: Weather | None) -> Weather | None:
        """New weather with its GHI column handled as in the fit (e.g. a tilted sensor's reverse transposition)."""
        return self.irradiance_plan.prepare(weather, self.site)

    def forecast(self, weather: Weather | None, horizon: HorizonLike) -> pd.DataFrame:
        """:func:`forecasting.forecast_pv` with the fitted options (clear-sky ones when there is no irradiance)."""
        prepared = self.prepare_weather(weather)
        has_sky = prepared is not None and bool(
            {"ghi_w_m2", "dni_w_m2", "dhi_w_m2", "cloud_cover_frac"} & set(prepared.data.columns)
        )
        return forecast_pv(self.site, prepared, horizon, options=self.options if has_sky else self.clear_sky_options)


def _quiet_forecast(
    site: PvSiteSpec, weather: Weather | None, index: pd.DatetimeIndex, options: PvModelOptions, notes: list[str]
) -> pd.Series:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ForecastWarning)
        total = forecast_pv(site, weather, index, options=options)["total_kw"]
    for w in caught:
        if issubclass(w.category, ForecastWarning) and str(w.message) not in notes:
            notes.append(str(w.message))
    return total


def _plane(site: PvSiteSpec) -> tuple[float, float]:
    mount = site.arrays[0].mount
    return (mount.tilt_deg, mount.azimuth_deg) if isinstance(mount, FixedMount) else (0.0, 180.0)


def _cv_nmae(
    measured: pd.Series,
    modelled: pd.Series,
    excluded: tuple[pd.Timestamp, ...],
    daylight: np.ndarray,
    capacity_kw: float,
    statistic: Statistic,
    min_modelled_kw: float,
) -> float:
    """nMAE [%] of the corrected model, two folds of alternating ISO weeks, every daylight step scored."""
    index = pd.DatetimeIndex(measured.index)
    week = index.isocalendar().week.to_numpy() % 2
    errors = np.full(len(index), np.nan)
    for fold in (0, 1):
        scored_days = tuple(local_days(index[week != fold]).unique())
        correction = fit_correction(
            measured,
            modelled,
            exclude_days=tuple(excluded) + scored_days,  # fitted on the other fold only
            statistic=statistic,
            min_modelled_kw=min_modelled_kw,
        )
        scored = week != fold
        forecast = modelled.to_numpy() * correction.factor_on(index)
        errors[scored] = np.abs(forecast - measured.to_numpy())[scored]
    keep = daylight & np.isfinite(errors)
    return float(100.0 * np.mean(errors[keep]) / capacity_kw)


def fit_pv_plant(
    site: PvSiteSpec,
    measured_kw: pd.Series,
    weather: Weather,
    *,
    options: PvModelOptions | None = None,
    statistic: Statistic = "energy",
    clear_sky_statistic: Statistic = "energy",
    smoothing_candidates: tuple[int, ...] = SMOOTHING_CANDIDATES,
    location_is_known: bool = True,
) -> PvPlantFit:
    """Check a plant's metered history against its weather, then fit the forecast's corrections on it.

    Parameters
    ----------
    site : PvSiteSpec
        The plant (location, arrays); its total AC limit is the capacity used for the thresholds.
    measured_kw : Series
        Metered AC power [kW], tz-aware, equally spaced (interval averages; the labels' convention is checked).
    weather : Weather
        Weather covering the same period (measured on site, or archived forecasts), with temperature.
    options : PvModelOptions, optional
        Physical model choices; the fit returns them with ``correction``, ``irradiance_smoothing_steps`` and
        ``output_cap_kw`` (an export limit found) filled in.
    statistic, clear_sky_statistic : "energy" or "median"
        How the weather-driven and the clear-sky corrections are fitted (:mod:`forecasting.pv_correction`).
    smoothing_candidates : tuple of int
        Irradiance smoothing windows to cross-validate [steps]; ``(1,)`` for none.
    location_is_known : bool
        ``False`` when the site's location was estimated from the same labels: the timestamp-convention check
        then cannot see a shift (the estimated longitude absorbs it) and says so.

    Returns
    -------
    PvPlantFit
    """
    base = replace(options or PvModelOptions(), correction=None, irradiance_smoothing_steps=1, output_cap_kw=None)
    index = pd.DatetimeIndex(measured_kw.index)
    capacity = sum(a.ac_limit_kw for a in site.arrays)
    location = site.location()
    notes: list[str] = []
    checks: list[CheckResult] = []
    # 1. the irradiance column
    if "ghi_w_m2" in weather.data.columns:
        column = check_irradiance_column(weather.data["ghi_w_m2"], location, "ghi_w_m2")
        checks.append(column)
        verdict = str(column.details.get("verdict", "ok"))
        plan = IrradiancePlan(
            verdict=verdict,
            tilt_deg=float(column.details.get("tilt_deg", 0.0)),  # type: ignore[arg-type]
            azimuth_deg=float(column.details.get("azimuth_deg", 180.0)),  # type: ignore[arg-type]
            factor=float(column.details.get("factor", 1.0)),  # type: ignore[arg-type]
        )
        irradiance = {
            "ok": "GHI as measured",
            "tilted": f"GHI from the tilted sensor ({plan.tilt_deg:.1f} deg / {plan.azimuth_deg:.1f} deg) by reverse "
            "transposition",
            "unit": f"GHI rescaled (divided by {plan.factor:g})",
            "constant": "GHI dropped (constant)",
            "low": "GHI dropped (reads a fraction of the sky)",
        }[verdict]
    else:
        plan = IrradiancePlan(verdict="absent")
        irradiance = "no GHI in the weather"
    prepared = plan.prepare(weather, site)
    assert prepared is not None
    # 2. the meter's labels against the sun
    tilt, azimuth = _plane(site)
    convention = check_timestamp_convention(measured_kw, location, surface_tilt=tilt, surface_azimuth=azimuth)
    if not location_is_known:
        convention = replace(
            convention,
            found=False,
            finding=convention.finding + " (the location was estimated from these labels: any shift is absorbed "
            "in its longitude, so this check cannot see one)",
            action="none",
        )
    checks.append(convention)
    measured = measured_kw
    if convention.found and convention.value:
        measured = shift_series(measured, pd.Timedelta(minutes=float(convention.value)))
    # 3. the meter's clock against the weather's
    modelled = _quiet_forecast(site, prepared, index, base, notes)
    rough = daily_ratio(measured, modelled, min_modelled_kwh=0.5 * capacity)
    suspicious = tuple(rough.index[(rough < 0.6).to_numpy()])
    clock, clock_shift = check_clock_alignment(measured, modelled, capacity, exclude_days=suspicious)
    checks.append(clock)
    modelled = shift_series(modelled, clock_shift).fillna(modelled)
    # 4. availability, snow, soiling
    availability = check_outages_and_curtailment(measured, modelled, capacity)
    checks.extend(availability.results())
    explained = availability.excluded_days()
    ratio = daily_ratio(measured, modelled, min_modelled_kwh=0.5 * capacity)
    temp = prepared.data["temp_air_c"] if "temp_air_c" in prepared.data.columns else None
    if temp is not None and "ghi_w_m2" in prepared.data.columns:
        daily_temp = temp.groupby(local_days(pd.DatetimeIndex(temp.index).tz_convert(index.tz))).mean()
        sky = daily_sky_index(prepared.data["ghi_w_m2"].tz_convert(index.tz), location)
        snow = check_snow(ratio, daily_temp, sky, exclude_days=explained)
    else:
        snow = CheckResult("snow", False, "no air temperature or GHI in the weather: not checked", "none")
    checks.append(snow)
    soiling = check_soiling(ratio, exclude_days=explained + snow.days)
    checks.append(soiling)
    excluded = tuple(sorted(set(explained) | set(snow.days) | set(soiling.days)))
    # 5. smoothing by cross-validation, then the corrections
    daylight = (solar_position(location, index)["apparent_elevation"] > 0.0).to_numpy()
    min_kw = 0.02 * capacity
    cv: dict[int, float] = {}
    modelled_by_window: dict[int, pd.Series] = {1: modelled}
    for steps in smoothing_candidates:
        if steps not in modelled_by_window:
            smoothed = replace(base, irradiance_smoothing_steps=steps)
            raw = _quiet_forecast(site, prepared, index, smoothed, notes)
            modelled_by_window[steps] = shift_series(raw, clock_shift).fillna(raw)
        cv[steps] = _cv_nmae(measured, modelled_by_window[steps], excluded, daylight, capacity, statistic, min_kw)
    best = min(cv, key=lambda k: cv[k]) if cv else 1
    chosen = modelled_by_window.get(best, modelled)
    correction = fit_correction(measured, chosen, excluded, statistic, min_modelled_kw=min_kw, basis="weather")
    temperature_only = _temperature_only(prepared)
    clear = _quiet_forecast(site, temperature_only, index, base, notes)
    clear_correction = fit_correction(
        measured, clear, excluded, clear_sky_statistic, min_modelled_kw=min_kw, basis="clear sky"
    )
    export = availability.export_limit
    cap = float(export.value) if export.found and export.value is not None else None
    days = local_days(index).unique()
    summary = PvFitSummary(
        checks=tuple(checks),
        fit_period=f"{days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}",
        days=len(days),
        excluded_days=excluded,
        irradiance=irradiance,
        smoothing_steps=best,
        smoothing_cv_nmae_pct=cv,
        correction=correction,
        clear_sky_correction=clear_correction,
        notes=tuple(notes),
    )
    return PvPlantFit(
        site=site,
        options=replace(base, correction=correction, irradiance_smoothing_steps=best, output_cap_kw=cap),
        clear_sky_options=replace(base, correction=clear_correction, output_cap_kw=cap),
        irradiance_plan=plan,
        summary=summary,
        availability=availability,
        measured_kw=measured,
    )


def _temperature_only(weather: Weather) -> Weather | None:
    """The weather without its sky (irradiance, cloud cover): what the clear-sky model uses."""
    keep = [c for c in weather.data.columns if c in ("temp_air_c", "wind_speed_m_s", "pressure_hpa")]
    if not keep:
        return None
    return Weather(
        data=weather.data[keep],
        step=weather.step,
        sampling={c: weather.sampling[c] for c in keep},
        source=weather.source,
        meta=weather.meta,
    )
