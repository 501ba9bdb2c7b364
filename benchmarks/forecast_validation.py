"""Forecast validation on real data (``../shared/data``); numbers go to ``docs/forecasting.md``.

1. Shenyang typical year (CSWD EPW): annual specific yield of a fixed 30-degree
   south array, a single-axis tracker and a bifacial single-axis tracker, with
   the file as pvlib reads it and with its timing/DNI corrections.
2. The measured 50 MW State Grid plant (15 min, 2019-2020): location from first
   and last light, orientation from clear days, then the plant modelled from its
   tilted irradiance (``tsi``) and air temperature, and a clear-sky-only
   day-ahead model; nMAE (of 50 MW, daylight steps) and energy bias by month.
3. The measured steel-plant load (UCI 851, 2018, a Korean plant): a day-ahead
   profile forecast for every day, issued at 08:00 the day before, against
   seasonal naive (same time last week): MAE, MAPE, WAPE, MASE.

    python -m benchmarks.forecast_validation      # about a minute; writes benchmarks/results/forecast_validation.json
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pvlib
from rich.console import Console
from rich.table import Table

from benchmarks import forecast_report
from benchmarks.forecast_load_validation import steel_load
from forecasting import (
    BifacialSpec,
    FixedMount,
    PvArraySpec,
    PvModelOptions,
    PvSiteSpec,
    SingleAxisTrackerMount,
    forecast_pv,
    weather_from_frame,
)
from forecasting.calibrate import estimate_location, fit_orientation, select_clear_days
from forecasting.defaults import shenyang_typical_weather, shenyang_typical_year
from forecasting.errors import ForecastWarning
from forecasting.irradiance import solar_position
from forecasting.metrics import nmae_pct, relative_bias_pct
from forecasting.pv_checks import (
    check_irradiance_column,
    check_outages_and_curtailment,
    shift_series,
    trailing_clock_shift,
)
from forecasting.pv_correction import apply_output_cap, output_caps_by_day
from forecasting.pv_fit import fit_pv_plant
from forecasting.weather import typical_year_for

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
RESULTS = Path(__file__).with_name("results")
PLANT_CSV = SHARED / "pv" / "CN_StateGrid_solar_station_site1_50MW_15min_2019_2020.csv"
SHANGHAI = "Asia/Shanghai"
PLANT_AC_KW = 50_000.0

console = Console(width=150)


# --- 1. typical-year yields ------------------------------------------------------------------------


def shenyang_arrays() -> list[PvArraySpec]:
    """1 kWp each: fixed 30 deg south, single-axis tracker (N-S axis, +-60 deg, GCR 0.35), bifacial tracker."""
    common: dict[str, Any] = {"dc_kwp": 1.0, "inverter_ac_kw": 1.0}
    return [
        PvArraySpec(name="fixed_30_south", mount=FixedMount(tilt_deg=30.0, azimuth_deg=180.0), **common),
        PvArraySpec(name="tracker", mount=SingleAxisTrackerMount(), **common),
        PvArraySpec(
            name="bifacial_tracker",
            mount=SingleAxisTrackerMount(),
            bifacial=BifacialSpec(bifaciality_frac=0.80, height_m=2.0, collector_width_m=2.4),
            **common,
        ),
    ]


def typical_year_yields() -> dict[str, Any]:
    """Annual kWh/kWp of each array from the Shenyang typical year, as read and corrected."""
    index = pd.date_range("2026-01-01", "2027-01-01", freq="15min", tz=SHANGHAI, inclusive="left")
    site = PvSiteSpec(
        name="shenyang", latitude_deg=41.73, longitude_deg=123.45, altitude_m=44.7, arrays=shenyang_arrays()
    )
    raw = typical_year_for(shenyang_typical_year(corrected=False), index[0], index[-1] + pd.Timedelta(minutes=15))
    runs = {"corrected": shenyang_typical_weather(index), "as read by pvlib": raw}
    out: dict[str, Any] = {"ghi_kwh_m2": float(raw.data["ghi_w_m2"].sum() / 1000.0)}
    for label, weather in runs.items():
        result = forecast_pv(site, weather, index)
        out[label] = {c.removesuffix("_kw"): float(result[c].sum() / 4.0) for c in result.columns if c != "total_kw"}
    corrected = out["corrected"]
    out["ordered"] = corrected["fixed_30_south"] < corrected["tracker"] < corrected["bifacial_tracker"]
    table = Table(title=f"Shenyang typical year (CSWD, GHI {out['ghi_kwh_m2']:,.0f} kWh/m2): specific yield")
    table.add_column("array")
    for label in runs:
        table.add_column(f"kWh/kWp ({label})", justify="right")
    table.add_column("vs fixed (corrected)", justify="right")
    for name in corrected:
        gain = 100.0 * (corrected[name] / corrected["fixed_30_south"] - 1.0)
        table.add_row(name, *(f"{out[label][name]:,.0f}" for label in runs), f"{gain:+.1f} %")
    console.print(table)
    return out


# --- 2. the State Grid plant -----------------------------------------------------------------------


def read_plant() -> pd.DataFrame:
    """The plant's 15-minute data, timestamps read as Beijing-time interval starts."""
    frame = pd.read_csv(PLANT_CSV, parse_dates=["time"], index_col="time")
    frame.index = pd.DatetimeIndex(frame.index).tz_localize(SHANGHAI)
    return frame


def plant_location(frame: pd.DataFrame) -> dict[str, Any]:
    """Latitude/longitude from first and last light; altitude from the mean pressure."""
    estimates = {
        "ghi_w_m2 (horizontal)": estimate_location(frame["ghi_w_m2"], threshold=5.0, winter_half_only=False),
        "tsi_w_m2 (tilted, winter half)": estimate_location(frame["tsi_w_m2"], threshold=5.0),
        "power_mw (tilted, winter half)": estimate_location(frame["power_mw"], threshold=0.05),
    }
    altitude = float(pvlib.atmosphere.pres2alt(frame["pressure_hpa"].mean() * 100.0))
    table = Table(title="State Grid plant: where is it? (first/last light; labels read as interval starts)")
    for column in ("signal", "latitude", "eff. longitude", "sun elev. at threshold", "misfit", "days"):
        table.add_column(column, justify="right" if column != "signal" else "left")
    for name, est in estimates.items():
        table.add_row(
            name,
            f"{est.latitude_deg:.2f} N",
            f"{est.longitude_deg:.2f} E",
            f"{est.threshold_elevation_deg:.1f} deg",
            f"{est.residual_min:.1f} min",
            str(est.n_days),
        )
    console.print(table)
    console.print(f"altitude from mean pressure {frame['pressure_hpa'].mean():.1f} hPa: {altitude:.0f} m")
    best = estimates["ghi_w_m2 (horizontal)"]
    return {
        "estimates": {k: vars(v) for k, v in estimates.items()},
        "latitude_deg": best.latitude_deg,
        "longitude_deg": best.longitude_deg,
        "altitude_m": altitude,
    }


def plant_orientation(frame: pd.DataFrame, location: pvlib.location.Location) -> dict[str, Any]:
    """Fixed tilt/azimuth of the tilted pyranometer (tsi) and of the plant (power) from their clear days."""
    sensor = fit_orientation(frame["tsi_w_m2"], location, select_clear_days(frame["tsi_w_m2"], 120))
    plant = fit_orientation(frame["power_mw"], location, select_clear_days(frame["power_mw"], 120))
    table = Table(title="State Grid plant: orientation from 120 clear days (clear-sky POA shape, Perez)")
    for column in ("signal", "tilt", "azimuth", "scale", "nRMSE"):
        table.add_column(column, justify="right" if column != "signal" else "left")
    table.add_row(
        "tsi_w_m2",
        f"{sensor.tilt_deg:.1f}",
        f"{sensor.azimuth_deg:.1f}",
        f"{sensor.scale:.3f}",
        f"{sensor.nrmse_frac:.1%}",
    )
    table.add_row(
        "power_mw",
        f"{plant.tilt_deg:.1f}",
        f"{plant.azimuth_deg:.1f}",
        f"{plant.scale:.4f} MW/(W/m2)",
        f"{plant.nrmse_frac:.1%}",
    )
    console.print(table)
    return {"sensor": vars(sensor), "plant": vars(plant)}


def plant_spec(location: dict[str, Any], tilt: float, azimuth: float) -> PvSiteSpec:
    """The 50 MW plant at the estimated place: nominal DC = AC = 50 MW, older modules (-0.45 %/C), open rack."""
    return PvSiteSpec(
        name="state-grid-site-1",
        latitude_deg=location["latitude_deg"],
        longitude_deg=location["longitude_deg"],
        altitude_m=location["altitude_m"],
        tz=SHANGHAI,
        arrays=[
            PvArraySpec(
                name="plant",
                dc_kwp=PLANT_AC_KW,
                mount=FixedMount(tilt_deg=tilt, azimuth_deg=azimuth),
                temp_coeff_pct_per_c=-0.45,
                temperature_model="open_rack_glass_polymer",
                system_losses_frac=0.14,
                inverter_ac_kw=PLANT_AC_KW,
            )
        ],
    )


#: The plant's physical model: nominal 50 MWp = 50 MW AC (not fitted), older modules, open rack.
PLANT_OPTIONS = PvModelOptions(decomposition="erbs_driesse", transposition="perez-driesse", default_wind_speed_m_s=2.0)
FIT_YEAR, SCORE_YEAR = 2019, 2020


def scores(forecast: pd.Series, measured: pd.Series, daylight: pd.Series) -> dict[str, float]:
    """nMAE [% of 50 MW] over every daylight step and energy bias [%] (forecast vs metered energy)."""
    return {
        "nmae_pct": nmae_pct(forecast[daylight], measured[daylight], PLANT_AC_KW),
        "bias_pct": relative_bias_pct(forecast[daylight], measured[daylight]),
    }


def monthly_scores(forecast: pd.Series, measured: pd.Series, daylight: pd.Series) -> dict[str, dict[str, float]]:
    """:func:`scores` per calendar month (``YYYY-MM``)."""
    months = pd.DatetimeIndex(forecast.index).strftime("%Y-%m")
    return {m: scores(forecast, measured, daylight & (months == m)) for m in sorted(set(months))}


def worst_days_share(forecast: pd.Series, measured: pd.Series, daylight: pd.Series, n: int = 30) -> dict[str, Any]:
    """How much of the absolute error the ``n`` lowest-yield days carry (yield: metered over forecast energy)."""
    error = (forecast - measured).abs().where(daylight, 0.0)
    days = pd.DatetimeIndex(forecast.index).normalize()
    ratio = measured.where(daylight, 0.0).groupby(days).sum() / forecast.where(daylight, 0.0).groupby(days).sum()
    lowest = ratio.nsmallest(n).index
    daily_error = error.groupby(days).sum()
    return {"days": n, "error_share_pct": float(100.0 * daily_error[lowest].sum() / daily_error.sum())}


def _weather(frame: pd.DataFrame) -> Any:
    """The logger's irradiance and temperature as a :class:`~forecasting.Weather`.

    ``tsi_w_m2`` is offered as the irradiance (``ghi_w_m2``): the fit's irradiance check finds it tilted and
    reverse-transposes it; the logger's own ``ghi_w_m2`` is checked apart (it reads a fraction of the sky).
    """
    return weather_from_frame(
        pd.DataFrame({"ghi_w_m2": frame["tsi_w_m2"].clip(lower=0.0), "temp_air_c": frame["temp_air_c"]}),
        label={"ghi_w_m2": "start", "temp_air_c": "instant"},
        source="State Grid site 1 (tsi offered as irradiance)",
    )


def _quiet(function: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastWarning)  # the clear-sky fallback warns by design
        return function(*args, **kwargs)


def state_grid_plant(report_dir: Path | None = None) -> dict[str, Any]:
    """The honest protocol: everything fitted on 2019 (location, orientation, checks, corrections), every
    daylight step of every day of 2020 scored."""
    frame = read_plant()
    index_all = pd.DatetimeIndex(frame.index)
    fit_frame = frame[index_all.year == FIT_YEAR]
    where = plant_location(fit_frame)
    location = pvlib.location.Location(where["latitude_deg"], where["longitude_deg"], SHANGHAI, where["altitude_m"])
    orientation = plant_orientation(fit_frame, location)
    plant = orientation["plant"]
    site = plant_spec(where, plant["tilt_deg"], plant["azimuth_deg"])
    measured = frame["power_mw"] * 1000.0
    weather = _weather(frame)
    fit = fit_pv_plant(
        site, measured[index_all.year == FIT_YEAR], _weather(fit_frame), options=PLANT_OPTIONS, location_is_known=False
    )
    logger_ghi = check_irradiance_column(fit_frame["ghi_w_m2"].clip(lower=0.0), location, "ghi_w_m2 (logger)")
    console.print(f"[bold]Fit on {FIT_YEAR}: what the checks found and did[/bold]")
    for line in [*fit.summary.lines(), logger_ghi.line()]:
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    # forecasts for both years: the fit year only feeds the trailing clock shift and the curtailment carry-over
    prepared = fit.prepare_weather(weather)
    temperature_only = weather_from_frame(frame[["temp_air_c"]], label="instant", source="temperature only")
    nominal = _quiet(forecast_pv, site, prepared, index_all, options=PLANT_OPTIONS)["total_kw"]
    nominal_clear = _quiet(forecast_pv, site, temperature_only, index_all, options=PLANT_OPTIONS)["total_kw"]
    corrected_only = replace(fit.options, irradiance_smoothing_steps=1)
    corrected = _quiet(forecast_pv, site, prepared, index_all, options=corrected_only)["total_kw"]
    smoothed = _quiet(forecast_pv, site, prepared, index_all, options=fit.options)["total_kw"]
    clear = _quiet(forecast_pv, site, temperature_only, index_all, options=fit.clear_sky_options)["total_kw"]
    median_clear_fit = fit_pv_plant(
        site,
        measured[index_all.year == FIT_YEAR],
        _weather(fit_frame),
        options=PLANT_OPTIONS,
        clear_sky_statistic="median",
        smoothing_candidates=(1,),
        location_is_known=False,
    )
    clear_median = _quiet(forecast_pv, site, temperature_only, index_all, options=median_clear_fit.clear_sky_options)
    clear_median = clear_median["total_kw"]
    # what a forecast issued the day before knows: the metered days up to then
    availability = check_outages_and_curtailment(measured, smoothed, PLANT_AC_KW)
    flagged = availability.excluded_days()
    shift = trailing_clock_shift(measured, smoothed, PLANT_AC_KW, index_all, exclude_days=flagged)
    aligned = shift_series(smoothed, shift).fillna(smoothed)
    caps = {lag: output_caps_by_day(availability.day_max_kw, index_all, lag_days=lag) for lag in (1, 2)}
    capped = {lag: apply_output_cap(aligned.to_frame("total_kw"), caps[lag])["total_kw"] for lag in caps}
    clear_capped = apply_output_cap(clear.to_frame("total_kw"), caps[1])["total_kw"]
    clear_median_capped = apply_output_cap(clear_median.to_frame("total_kw"), caps[1])["total_kw"]
    one_scale = nominal * float(
        measured[fit.measured_kw.index].sum() / nominal[fit.measured_kw.index].sum()
    )  # the former reference: one factor fitted on 2019
    daylight_all = solar_position(location, index_all)["apparent_elevation"] > 0.0
    scored = index_all.year == SCORE_YEAR
    daylight = daylight_all & scored
    variants: dict[str, tuple[str, pd.Series]] = {
        "a0": ("(a) before: nominal chain from the plant's irradiance, nothing fitted", nominal),
        "a0s": ("(a) one scale factor fitted on 2019 (the former reference)", one_scale),
        "a1": ("(a) + month x hour correction fitted on 2019's usable days", corrected),
        "a2": (f"(a) + irradiance smoothing ({fit.summary.smoothing_steps} steps, cross-validated on 2019)", smoothed),
        "a3": ("(a) + weather clock realigned to the meter (trailing 31-day offset)", aligned),
        "a4": ("(a) + yesterday's curtailment/outage carried over (issued after sunset)", capped[1]),
        "a4m": ("(a) alternative: carried over from the day before yesterday (issued in the morning)", capped[2]),
        "b0": ("(b) before: clear sky only, nominal", nominal_clear),
        "b1": ("(b) + clear-sky-index climatology by month x hour (energy ratio, 2019)", clear),
        "b2": ("(b) + yesterday's curtailment/outage carried over", clear_capped),
        "b1m": ("(b) alternative: climatology as the median ratio (P50; biased in energy)", clear_median),
        "b2m": ("(b) alternative: median climatology + yesterday's carry-over", clear_median_capped),
    }
    results: dict[str, Any] = {}
    table = Table(title=f"State Grid 50 MW plant: fitted on {FIT_YEAR}, scored on every daylight step of {SCORE_YEAR}")
    for column in ("key", "forecast", "nMAE % of 50 MW", "energy bias %", "30 lowest-yield days' error share"):
        table.add_column(column, justify="left" if column in ("key", "forecast") else "right")
    for key, (label, forecast) in variants.items():
        s = scores(forecast, measured, daylight)
        share = worst_days_share(forecast[scored], measured[scored], daylight[scored])
        results[key] = {"label": label, **s, "lowest_30_days_error_share_pct": share["error_share_pct"]}
        table.add_row(key, label, f"{s['nmae_pct']:.2f}", f"{s['bias_pct']:+.1f}", f"{share['error_share_pct']:.0f} %")
    console.print(table)
    headline = {"a": "a4", "b": "b2"}
    months = {
        key: monthly_scores(variants[key][1][scored], measured[scored], daylight[scored])
        for key in ("a0", headline["a"], "b0", headline["b"])
    }
    month_table = Table(title=f"{SCORE_YEAR} by month: nMAE % / energy bias %")
    month_table.add_column("month")
    for key in months:
        month_table.add_column(key, justify="right")
    for month in months["a0"]:
        cells = [f"{months[k][month]['nmae_pct']:5.1f} / {months[k][month]['bias_pct']:+6.1f}" for k in months]
        month_table.add_row(month, *cells)
    console.print(month_table)
    goals = {"a": 6.5, "b": 11.0}
    for kind, key in headline.items():
        value = results[key]["nmae_pct"]
        verdict = "MET" if value <= goals[kind] else "MISSED"
        console.print(f"goal ({kind}) nMAE <= {goals[kind]} %: {key} {value:.2f} % -> {verdict}")
    if report_dir is not None:
        figures = forecast_report.pv_figures(
            measured[scored],
            {"from irradiance (a4)": variants["a4"][1][scored], "clear sky only (b2)": variants["b2"][1][scored]},
            daylight[scored],
            PLANT_AC_KW,
        )
        path = forecast_report.write_report(
            report_dir / "forecast_report.html", "PV forecast, 2020 out of sample", figures
        )
        console.print(f"wrote {path}")
    return {
        "protocol": f"fit on {FIT_YEAR} (location, orientation, checks, corrections); score every daylight step of "
        f"every day of {SCORE_YEAR}; nMAE of {PLANT_AC_KW / 1000:.0f} MW; energy bias",
        "location": where,
        "orientation": orientation,
        "model": site.model_dump(),
        "fit_summary": fit.summary.to_dict(),
        "logger_ghi_check": {"finding": logger_ghi.finding, "action": logger_ghi.action, **logger_ghi.details},
        "results": results,
        "headline": headline,
        "goals_nmae_pct": goals,
        "monthly": months,
    }


# --- 3. the steel-plant load -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "forecast_validation.json")
    parser.add_argument("--no-report", action="store_true", help="skip the HTML report of figures")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*dayofyear is deprecated.*")  # pvlib on pandas 3
    started = time.perf_counter()
    timings: dict[str, float] = {}
    report: dict[str, Any] = {}
    for name, run in (
        ("typical_year", typical_year_yields),
        ("state_grid_plant", lambda: state_grid_plant(None if args.no_report else args.out.parent)),
        ("steel_load", steel_load),
    ):
        t0 = time.perf_counter()
        report[name] = run()
        timings[name] = time.perf_counter() - t0
    report["seconds"] = {**timings, "total": time.perf_counter() - started}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=_plain) + "\n", encoding="utf-8")
    console.print(f"wrote {args.out} in {report['seconds']['total']:.0f} s")


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


if __name__ == "__main__":
    main()
