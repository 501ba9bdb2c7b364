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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pvlib
from rich.console import Console
from rich.table import Table

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
from forecasting.irradiance import ghi_from_poa, solar_position
from forecasting.metrics import nmae_pct, relative_bias_pct
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


def monthly_scores(model_kw: pd.Series, measured_kw: pd.Series, daylight: pd.Series) -> pd.DataFrame:
    """nMAE [% of 50 MW] over daylight steps and energy bias [%] per month and overall."""
    rows = {}
    groups = [
        (f"{p.year}-{p.month:02d}", p) for p in pd.PeriodIndex(model_kw.index.tz_localize(None), freq="M").unique()
    ]
    for label, period in [*groups, ("all", None)]:
        mask = daylight.copy()
        if period is not None:
            mask &= (model_kw.index.year == period.year) & (model_kw.index.month == period.month)
        rows[label] = {
            "nmae_pct": nmae_pct(model_kw[mask], measured_kw[mask], PLANT_AC_KW),
            "bias_pct": relative_bias_pct(model_kw[mask], measured_kw[mask]),
        }
    return pd.DataFrame(rows).T


def state_grid_plant() -> dict[str, Any]:
    """Location, orientation and the irradiance-driven and clear-sky-only models against measured power."""
    frame = read_plant()
    where = plant_location(frame)
    location = pvlib.location.Location(where["latitude_deg"], where["longitude_deg"], SHANGHAI, where["altitude_m"])
    orientation = plant_orientation(frame, location)
    sensor, plant = orientation["sensor"], orientation["plant"]
    site = plant_spec(where, plant["tilt_deg"], plant["azimuth_deg"])
    index = pd.DatetimeIndex(frame.index)
    ghi = ghi_from_poa(frame["tsi_w_m2"].clip(lower=0.0), location, sensor["tilt_deg"], sensor["azimuth_deg"])
    measured_weather = weather_from_frame(
        pd.DataFrame({"ghi_w_m2": ghi, "temp_air_c": frame["temp_air_c"]}),
        label={"ghi_w_m2": "start", "temp_air_c": "instant"},
        source="State Grid site 1",
    )
    options = PvModelOptions(decomposition="erbs_driesse", transposition="perez-driesse", default_wind_speed_m_s=2.0)
    measured_kw = frame["power_mw"] * 1000.0
    modelled = forecast_pv(site, measured_weather, index, options=options)["total_kw"]
    temperature_only = weather_from_frame(frame[["temp_air_c"]], label="instant", source="temperature only")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the clear-sky fallback warns by design
        clear = forecast_pv(site, temperature_only, index, options=options)["total_kw"]
    daylight = solar_position(location, index)["apparent_elevation"] > 0.0
    # days with far less energy than the irradiance says: curtailment or outages the model cannot know
    daily_measured = measured_kw.groupby(index.normalize()).sum()
    daily_model = modelled.groupby(index.normalize()).sum()
    suspect_days = daily_measured.index[daily_measured < 0.6 * daily_model]
    clean = daylight & ~index.normalize().isin(suspect_days)
    scores = {
        "irradiance": monthly_scores(modelled, measured_kw, daylight),
        "irradiance, w/o curtailed days": monthly_scores(modelled, measured_kw, clean),
        "clear sky only": monthly_scores(clear, measured_kw, daylight),
    }
    # one scale factor fitted on 2019 (the model's nominal DC is a guess), applied to 2020
    in_2019 = daylight & (index.year == 2019)
    scale = float(measured_kw[in_2019 & clean].sum() / modelled[in_2019 & clean].sum())
    in_2020 = daylight & (index.year == 2020)
    calibrated_2020 = {
        "scale": scale,
        "nmae_pct": nmae_pct(modelled[in_2020] * scale, measured_kw[in_2020], PLANT_AC_KW),
        "bias_pct": relative_bias_pct(modelled[in_2020] * scale, measured_kw[in_2020]),
    }
    table = Table(title="State Grid 50 MW plant vs model: nMAE (% of 50 MW, daylight steps) / energy bias, by month")
    table.add_column("month")
    for name in scores:
        table.add_column(name, justify="right")
    table.add_column("curtailed/outage days", justify="right")
    suspect_months = pd.Series(1, index=suspect_days).groupby(suspect_days.strftime("%Y-%m")).sum()
    for month in scores["irradiance"].index:
        cells = [f"{s.loc[month, 'nmae_pct']:5.1f} / {s.loc[month, 'bias_pct']:+6.1f} %" for s in scores.values()]
        count = int(suspect_months.sum()) if month == "all" else int(suspect_months.get(month, 0))
        table.add_row(month, *cells, str(count))
    console.print(table)
    console.print(
        f"one scale fitted on 2019 ({scale:.3f}) applied to 2020: nMAE {calibrated_2020['nmae_pct']:.1f} %, "
        f"bias {calibrated_2020['bias_pct']:+.1f} %"
    )
    return {
        "location": where,
        "orientation": orientation,
        "model": site.model_dump(),
        "suspect_days": len(suspect_days),
        "scores": {name: frame_.round(2).to_dict(orient="index") for name, frame_ in scores.items()},
        "calibrated_2020": calibrated_2020,
        "annual_ghi_from_tsi_kwh_m2": float(ghi.sum() / 4000.0 / 2.0),
    }


# --- 3. the steel-plant load -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "forecast_validation.json")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*dayofyear is deprecated.*")  # pvlib on pandas 3
    started = time.perf_counter()
    timings: dict[str, float] = {}
    report: dict[str, Any] = {}
    for name, run in (
        ("typical_year", typical_year_yields),
        ("state_grid_plant", state_grid_plant),
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
