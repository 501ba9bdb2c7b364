"""Quantile forecasts on real data, out of sample: PV on the State Grid plant, load on the steel plant.

**PV** (``../shared/data/pv``, 50 MW, 15 min, 2019-2020). The plant's place and orientation are estimated
from 2019 alone (first and last light of the horizontal sensor, clear days of the tilted sensor and of the
power); the point forecasts are the project's, as they are (``forecasting.forecast_pv``, nominal 50 MW, not
fitted to the power): from the plant's tilted irradiance (reverse-transposed to GHI: what a perfect weather
forecast could give) and from the clear sky alone (the day-ahead fallback). Quantiles on the grid 0.01 ...
0.99 from :class:`forecasting.quantiles.PvErrorModel`, fitted on the past only, three ways:

* ``fit on 2019``: one model on 2019, applied to all of 2020;
* ``monthly, trailing year``: refitted at each month's start on the 365 days before it;
* ``monthly + recalibration``: and each day the levels remapped (:class:`~forecasting.quantiles.Recalibration`)
  from the PITs of the steps of the 60 days before it, each PIT from the quantiles issued for that step;
* ``fit_pv_quantiles, refitted monthly``: the API's one-call fit (error model and recalibration from one
  history) on the year before each month.

Scored on every step of 2020 with the sun above the horizon, curtailed and outage days included: coverage of
each level, pinball loss and CRPS [% of 50 MW]; "point only" is the point forecast as a distribution with no
spread (its CRPS is its MAE).

**Load**: ``benchmarks.forecast_load_validation`` (rolling origin, 358 days of the steel plant).

    python -m benchmarks.forecast_quantile_validation [--quick]   # 2-4 minutes

writes ``benchmarks/results/forecast_quantiles.json`` and ``.md``, and the figures (coverage, pinball by hour)
with ``benchmarks.forecast_report_quantiles`` to ``out/forecast_quantiles.html``.
"""

from __future__ import annotations

import argparse
import itertools
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

from benchmarks.forecast_load_validation import steel_load_quantiles
from benchmarks.forecast_scoring import pinball_at, reported, summarise_quantiles
from forecasting import FixedMount, PvArraySpec, PvModelOptions, PvSiteSpec, forecast_pv, weather_from_frame
from forecasting.calibrate import estimate_location, fit_orientation, select_clear_days
from forecasting.irradiance import ghi_from_poa, solar_position
from forecasting.metrics import nmae_pct
from forecasting.quantiles import (
    DENSE_LEVELS,
    PvErrorModel,
    Recalibration,
    fit_pv_quantiles,
    interpolate_levels,
    mid_pit,
    quantile_label,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
PLANT_CSV = SHARED / "pv" / "CN_StateGrid_solar_station_site1_50MW_15min_2019_2020.csv"
RESULTS = Path(__file__).with_name("results")
FIGURES = Path(__file__).resolve().parents[1] / "out" / "forecast_quantiles.html"
SHANGHAI = "Asia/Shanghai"
PLANT_AC_KW = 50_000.0
PCT_OF_CAPACITY = PLANT_AC_KW / 100.0
"""Divide kW by this to get % of the plant's 50 MW."""
RECALIBRATION_DAYS = 60
"""Trailing window of the recalibration [days], set before scoring (enough PITs for the 5 % tails: ~3,000)."""

console = Console(width=160)


def read_plant() -> pd.DataFrame:
    """The plant's 15-minute data, timestamps read as Beijing-time interval starts."""
    frame = pd.read_csv(PLANT_CSV, parse_dates=["time"], index_col="time")
    frame.index = pd.DatetimeIndex(frame.index).tz_localize(SHANGHAI)
    return frame


def plant_forecasts(frame: pd.DataFrame) -> pd.DataFrame:
    """Point forecasts [kW] of both years from a model whose place and orientation come from 2019 alone.

    Columns: ``irradiance_kw`` (from the tilted irradiance), ``clear_sky_kw`` (the clear sky, with measured air
    temperature), ``measured_kw``, ``daylight`` (sun above the horizon).
    """
    fit = frame[frame.index.year == 2019]
    place = estimate_location(fit["ghi_w_m2"], threshold=5.0, winter_half_only=False)
    altitude = float(pvlib.atmosphere.pres2alt(fit["pressure_hpa"].mean() * 100.0))
    location = pvlib.location.Location(place.latitude_deg, place.longitude_deg, SHANGHAI, altitude)
    sensor = fit_orientation(fit["tsi_w_m2"], location, select_clear_days(fit["tsi_w_m2"], 60))
    plant = fit_orientation(fit["power_mw"], location, select_clear_days(fit["power_mw"], 60))
    site = PvSiteSpec(
        name="state-grid-site-1",
        latitude_deg=place.latitude_deg,
        longitude_deg=place.longitude_deg,
        altitude_m=altitude,
        tz=SHANGHAI,
        arrays=[
            PvArraySpec(
                name="plant",
                dc_kwp=PLANT_AC_KW,
                mount=FixedMount(tilt_deg=plant.tilt_deg, azimuth_deg=plant.azimuth_deg),
                temp_coeff_pct_per_c=-0.45,
                temperature_model="open_rack_glass_polymer",
                system_losses_frac=0.14,
                inverter_ac_kw=PLANT_AC_KW,
            )
        ],
    )
    index = pd.DatetimeIndex(frame.index)
    ghi = ghi_from_poa(frame["tsi_w_m2"].clip(lower=0.0), location, sensor.tilt_deg, sensor.azimuth_deg)
    weather = weather_from_frame(
        pd.DataFrame({"ghi_w_m2": ghi, "temp_air_c": frame["temp_air_c"]}),
        label={"ghi_w_m2": "start", "temp_air_c": "instant"},
        source="State Grid site 1",
    )
    options = PvModelOptions(decomposition="erbs_driesse", transposition="perez-driesse", default_wind_speed_m_s=2.0)
    temperature_only = weather_from_frame(frame[["temp_air_c"]], label="instant", source="temperature only")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the clear-sky fallback warns by design
        irradiance = forecast_pv(site, weather, index, options=options)["total_kw"]
        clear = forecast_pv(site, temperature_only, index, options=options)["total_kw"]
    return pd.DataFrame(
        {
            "irradiance_kw": irradiance,
            "clear_sky_kw": clear,
            "measured_kw": frame["power_mw"] * 1000.0,
            "daylight": solar_position(location, index)["apparent_elevation"] > 0.0,
        }
    )


def _frame(values: np.ndarray, point: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame(values, index=point.index, columns=[quantile_label(q) for q in DENSE_LEVELS])
    frame.insert(0, "point", point.to_numpy())
    return frame


def static_quantiles(data: pd.DataFrame, column: str) -> pd.DataFrame:
    """One error model fitted on 2019, applied to 2020."""
    fit = data.index.year == 2019
    model = PvErrorModel.fit(
        data.loc[fit, column], data.loc[fit, "measured_kw"], data.loc[fit, "clear_sky_kw"], capacity_kw=PLANT_AC_KW
    )
    scored = data[data.index.year == 2020]
    return _frame(model.grid_values(scored[column], scored["clear_sky_kw"]), scored[column])


def api_quantiles(data: pd.DataFrame, column: str) -> pd.DataFrame:
    """``fit_pv_quantiles`` as a service would use it, refitted at each month's start on the year before it
    (error model on its first 305 days, recalibration on its last 60), for 2020."""
    months = pd.date_range("2020-01-01", "2021-01-01", freq="MS", tz=SHANGHAI)
    parts = []
    for start, end in itertools.pairwise(months):
        fit = data[(data.index < start) & (data.index >= start - pd.Timedelta(days=365))]
        model = fit_pv_quantiles(
            fit[column],
            fit["measured_kw"],
            fit["clear_sky_kw"],
            capacity_kw=PLANT_AC_KW,
            recalibration_days=RECALIBRATION_DAYS,
        )
        month = data[(data.index >= start) & (data.index < end)]
        parts.append(model.predict(month[column], month["clear_sky_kw"], DENSE_LEVELS))
    return pd.concat(parts)


def monthly_quantiles(data: pd.DataFrame, column: str, first: str = "2019-07-01") -> pd.DataFrame:
    """Refitted at each month's start on the 365 days before it, from ``first`` to the end (grid levels)."""
    months = pd.date_range(first, "2021-01-01", freq="MS", tz=SHANGHAI)
    parts = []
    for start, end in itertools.pairwise(months):
        fit = (data.index < start) & (data.index >= start - pd.Timedelta(days=365))
        model = PvErrorModel.fit(
            data.loc[fit, column], data.loc[fit, "measured_kw"], data.loc[fit, "clear_sky_kw"], capacity_kw=PLANT_AC_KW
        )
        month = data[(data.index >= start) & (data.index < end)]
        parts.append(_frame(model.grid_values(month[column], month["clear_sky_kw"]), month[column]))
    return pd.concat(parts)


def recalibrated(issued: pd.DataFrame, data: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """Each day's quantiles read at the levels the PITs of the ``window_days`` days before it call for."""
    cols = [quantile_label(q) for q in DENSE_LEVELS]
    values = issued[cols].to_numpy()
    actual = data.loc[issued.index, "measured_kw"].to_numpy(dtype=float)
    lit = data.loc[issued.index, "daylight"].to_numpy(dtype=bool)
    pits = mid_pit(values, actual, DENSE_LEVELS)
    days = pd.DatetimeIndex(issued.index).normalize()
    out = values.copy()
    for day in days.unique():
        past = lit & (days < day) & (days >= day - pd.Timedelta(days=window_days)) & ~np.isnan(actual)
        if past.sum() < 200:
            continue
        mapping = Recalibration.from_pits(pits[past], DENSE_LEVELS)
        today = days == day
        out[today] = np.sort(interpolate_levels(values[today], DENSE_LEVELS, mapping.level(DENSE_LEVELS)), axis=1)
    frame = pd.DataFrame(out, index=issued.index, columns=cols)
    frame.insert(0, "point", issued["point"].to_numpy())
    return frame


def pv_quantiles(quick: bool = False) -> dict[str, Any]:
    """Out-of-sample scores of the PV quantiles of both point forecasts under each protocol (2020, daylight)."""
    data = plant_forecasts(read_plant())
    scored = data[data.index.year == 2020]
    out: dict[str, Any] = {"point_nmae_pct": {}, "results": {}}
    for column, label in (("irradiance_kw", "from irradiance"), ("clear_sky_kw", "clear sky only")):
        out["point_nmae_pct"][label] = nmae_pct(
            scored.loc[scored["daylight"], column], scored.loc[scored["daylight"], "measured_kw"], PLANT_AC_KW
        )
        monthly = monthly_quantiles(data, column)
        frames = {
            "fit on 2019": static_quantiles(data, column),
            "monthly, trailing year": monthly,
            f"monthly + recalibration ({RECALIBRATION_DAYS} d)": recalibrated(monthly, data, RECALIBRATION_DAYS),
        }
        if not quick:
            frames["fit_pv_quantiles, refitted monthly"] = api_quantiles(data, column)
            for days in (30, 120):
                frames[f"monthly + recalibration ({days} d)"] = recalibrated(monthly, data, days)
        for protocol, frame in frames.items():
            frame = frame.loc[scored.index]
            out["results"][f"PV {label}, {protocol}"] = summarise_quantiles(
                frame, scored["measured_kw"], DENSE_LEVELS, mask=scored["daylight"], scale=PCT_OF_CAPACITY
            )
    _print_table(
        "State Grid plant: PV quantiles, 2020 daylight steps (all days), out of sample (coverage %; % of 50 MW)",
        out["results"],
        "%",
    )
    return out


def _print_table(title: str, results: dict[str, dict[str, Any]], unit: str) -> None:
    table = Table(title=title)
    for column in ("forecast, protocol", "P05", "P10", "P25", "P50", "P75", "P90", "P95", "P10-P90"):
        table.add_column(column, justify="right" if column != "forecast, protocol" else "left")
    table.add_column(f"pinball P10/P50/P90 {unit}", justify="right")
    table.add_column(f"CRPS {unit}", justify="right")
    table.add_column(f"point only: CRPS = MAE {unit}", justify="right")
    for name, s in results.items():
        cov = reported(s)
        table.add_row(
            name,
            *(f"{cov[q]:.1f}" for q in (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)),
            f"{s['interval_80_pct']:.1f}",
            " / ".join(f"{pinball_at(s, q):.2f}" for q in (0.1, 0.5, 0.9)),
            f"{s['crps']:.2f}",
            f"{s['point_crps']:.2f}",
        )
    console.print(table)


def markdown(report: dict[str, Any]) -> str:
    """The headline table (best protocol of each forecast) as Markdown."""
    lines = [
        "# Quantile forecasts, out of sample",
        "",
        "`python -m benchmarks.forecast_quantile_validation`; PV: State Grid plant, 2020 daylight steps, model fitted "
        "on the past only (% of 50 MW); load: steel plant, rolling origin over 358 days of 2018 (kW).",
        "",
        "| forecast | P05 | P10 | P25 | P50 | P75 | P90 | P95 | P10-P90 | pinball P10 / P50 / P90 | CRPS | point MAE |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = dict(report["pv"]["results"])
    rows |= {f"load, {name}": parts["all"] for name, parts in report["load"]["quantiles"].items()}
    for name, s in rows.items():
        cov = reported(s)
        lines.append(
            f"| {name} | "
            + " | ".join(f"{cov[q]:.1f}" for q in (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95))
            + f" | {s['interval_80_pct']:.1f} | "
            + " / ".join(f"{pinball_at(s, q):.2f}" for q in (0.1, 0.5, 0.9))
            + f" | {s['crps']:.2f} | {s['point_crps']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the main protocols only")
    parser.add_argument("--out", type=Path, default=RESULTS / "forecast_quantiles.json")
    parser.add_argument("--figures", type=Path, default=FIGURES, help="HTML file of the figures")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*dayofyear is deprecated.*")  # pvlib on pandas 3
    started = time.perf_counter()
    report: dict[str, Any] = {"pv": pv_quantiles(args.quick), "load": {"quantiles": steel_load_quantiles(args.quick)}}
    report["seconds"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    from benchmarks.forecast_report_quantiles import write_quantile_report

    write_quantile_report(report, args.figures)
    console.print(f"wrote {args.out}, {args.out.with_suffix('.md')} and {args.figures} in {report['seconds']:.0f} s")


if __name__ == "__main__":
    main()
