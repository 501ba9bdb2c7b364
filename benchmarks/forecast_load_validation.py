"""Load-forecast validation on the measured steel-plant load (UCI 851, 2018, a Korean plant), out of sample.

**Protocol (rolling origin).** Every day from 8 January to 31 December 2018 (358 days, none left out) is
forecast day-ahead from the history before it only: issued at the day's 00:00 (history up to the end of the
day before: the protocol of issue 17) and, stricter, at 08:00 the day before (16 hours of the day before
unknown). Scores: MAE, RMSE, MAPE, WAPE, daily-energy MAPE, and MASE = MAE / MAE of seasonal naive (the same
slot one week earlier) on the same steps. Settings were chosen on the first half (8 January - 30 June, "dev")
and are shown on the second half ("test") as well as the whole year.

**Quantiles.** The same rolling origin with ``forecast_load(..., quantiles=...)`` on the grid 0.01 ... 0.99:
coverage of each level, pinball loss, CRPS from quantiles, P10-P90 coverage, by hour and by day type.

Run on its own: ``python -m benchmarks.forecast_load_validation [--quick]`` (both, about 2 minutes; writes
``benchmarks/results/forecast_load.json``); ``benchmarks.forecast_validation`` calls :func:`steel_load` (point
forecasts) and ``benchmarks.forecast_quantile_validation`` :func:`steel_load_quantiles`.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from benchmarks.forecast_scoring import pinball_at, reported, summarise_quantiles
from forecasting import (
    HolidayCalendar,
    ProfileSettings,
    calendar_from_dates,
    china_calendar,
    profile_forecast,
    seasonal_naive,
    weekends_only,
)
from forecasting.load import LoadQuantileSettings, day_type, load_quantiles
from forecasting.metrics import mae, mape_pct, mase, rmse, wape_pct
from forecasting.quantiles import DENSE_LEVELS

STEEL_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "load" / "Steel_industry_data.csv"
RESULTS = Path(__file__).with_name("results")
console = Console(width=160)

FIRST_DAY, LAST_DAY = "2018-01-08", "2018-12-31"
TEST_START = "2018-07-01"
"""The second half of the year: settings were chosen on the first half (dev) and are confirmed on it."""

#: Public holidays of South Korea in 2018 (Regulations on Holidays of Government Offices; substitute holidays
#: for Children's Day and Chuseok; local elections on 13 June) plus Workers' Day (1 May), a statutory paid
#: holiday for private employees. The steel plant of the UCI data set is in Gwangyang, South Korea.
KOREA_2018 = calendar_from_dates(
    "South Korea 2018",
    [
        "2018-01-01",
        "2018-02-15",
        "2018-02-16",
        "2018-02-17",
        "2018-03-01",
        "2018-05-01",
        "2018-05-05",
        "2018-05-07",
        "2018-05-22",
        "2018-06-06",
        "2018-06-13",
        "2018-08-15",
        "2018-09-23",
        "2018-09-24",
        "2018-09-25",
        "2018-09-26",
        "2018-10-03",
        "2018-10-09",
        "2018-12-25",
    ],
    years=(2018, 2018),
)

PREVIOUS_DEFAULTS = ProfileSettings(n_days=6, lookback_days=42, level_weight=0.5, rank_weight=0.0)
"""The profile model's defaults before issue 17 (the 0.726 of the issue)."""


@dataclass(frozen=True)
class Protocol:
    """When a day's forecast is issued: ``hours_before`` the day's 00:00 (0: with all of the day before)."""

    name: str
    hours_before: int


MIDNIGHT = Protocol("issued 00:00 (history to the day's start)", 0)
DAY_BEFORE = Protocol("issued 08:00 the day before", 16)


def read_steel() -> pd.Series:
    """Average kW per quarter-hour at interval starts (stamps are interval ends; 00:00 rows carry the next date)."""
    raw = pd.read_csv(STEEL_CSV, encoding="utf-8-sig")
    stamps = pd.to_datetime(raw["date"], format="%d/%m/%Y %H:%M")
    stamps = stamps.where(stamps.dt.strftime("%H:%M") != "00:00", stamps + pd.Timedelta(days=1))
    index = pd.DatetimeIndex(stamps - pd.Timedelta(minutes=15)).tz_localize("Asia/Seoul")
    return pd.Series(raw["Usage_kWh"].to_numpy() * 4.0, index=index, name="load_kw").sort_index()


def scored_days(load: pd.Series) -> pd.DatetimeIndex:
    """Every day of the scored period (local midnights)."""
    return pd.date_range(FIRST_DAY, LAST_DAY, freq="D", tz=load.index.tz)


def backtest(
    load: pd.Series,
    calendar: HolidayCalendar,
    settings: ProfileSettings,
    protocol: Protocol = MIDNIGHT,
) -> tuple[pd.Series, pd.Series]:
    """Rolling origin: the profile forecast and seasonal naive of every scored day, each from its own history."""
    profile, naive = [], []
    for day in scored_days(load):
        horizon = pd.date_range(day, periods=96, freq="15min")
        history = load[load.index < day - pd.Timedelta(hours=protocol.hours_before)]
        profile.append(profile_forecast(history, horizon, calendar, settings))
        naive.append(seasonal_naive(history, horizon))
    return pd.concat(profile), pd.concat(naive)


def quantile_backtest(
    load: pd.Series,
    calendar: HolidayCalendar,
    settings: ProfileSettings | None = None,
    quantile_settings: LoadQuantileSettings | None = None,
    protocol: Protocol = MIDNIGHT,
    levels: tuple[float, ...] = DENSE_LEVELS,
) -> pd.DataFrame:
    """Rolling origin of the load quantiles (``point`` and one column per level) for every scored day."""
    frames = []
    for day in scored_days(load):
        horizon = pd.date_range(day, periods=96, freq="15min")
        history = load[load.index < day - pd.Timedelta(hours=protocol.hours_before)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # early days: "only N day(s) to back-cast" (counted in the score)
            frames.append(load_quantiles(history, horizon, levels, calendar, settings, quantile_settings))
    return pd.concat(frames)


def load_scores(forecast: pd.Series, naive: pd.Series, actual: pd.Series) -> dict[str, float]:
    """MAE, RMSE [kW], MAPE (load >= 10 kW), WAPE, daily-energy MAPE [%], MASE overall, on dev and on test."""
    actual = actual.reindex(forecast.index)
    daily = actual.groupby(actual.index.normalize()).sum()
    daily_f = forecast.groupby(forecast.index.normalize()).sum()
    test = forecast.index >= pd.Timestamp(TEST_START, tz=forecast.index.tz)
    return {
        "mae_kw": mae(forecast, actual),
        "rmse_kw": rmse(forecast, actual),
        "mape_pct": mape_pct(forecast, actual, min_actual=10.0),
        "wape_pct": wape_pct(forecast, actual),
        "daily_energy_mape_pct": mape_pct(daily_f, daily),
        "mase": mase(forecast, actual, naive),
        "mase_dev": mase(forecast[~test], actual[~test], naive[~test]),
        "mase_test": mase(forecast[test], actual[test], naive[test]),
    }


def point_variants(quick: bool) -> dict[str, tuple[HolidayCalendar, ProfileSettings, Protocol]]:
    """The profile-model variants measured (name -> calendar, settings, protocol)."""
    variants = {
        "profile, defaults (15 days of a type within 120 d, rank level 0.3)": (
            KOREA_2018,
            ProfileSettings(),
            MIDNIGHT,
        ),
        "profile, defaults, issued 08:00 the day before": (KOREA_2018, ProfileSettings(), DAY_BEFORE),
        "profile, previous defaults (6 days within 42 d, level 0.5)": (KOREA_2018, PREVIOUS_DEFAULTS, MIDNIGHT),
        "profile, previous defaults, issued 08:00 the day before": (KOREA_2018, PREVIOUS_DEFAULTS, DAY_BEFORE),
    }
    if quick:
        return variants
    return variants | {
        "profile, 6 days within 42 d, level off": (
            KOREA_2018,
            ProfileSettings(n_days=6, lookback_days=42, rank_weight=0.0),
            MIDNIGHT,
        ),
        "profile, 15 days within 120 d, median (rank level off)": (
            KOREA_2018,
            ProfileSettings(rank_weight=0.0),
            MIDNIGHT,
        ),
        "profile, rank level 0.4": (KOREA_2018, ProfileSettings(rank_weight=0.4), MIDNIGHT),
        "profile, rank level 0.3 and level factor 0.5": (
            KOREA_2018,
            ProfileSettings(level_weight=0.5),
            MIDNIGHT,
        ),
        "profile, 10 days within 120 d (rank off)": (
            KOREA_2018,
            ProfileSettings(n_days=10, rank_weight=0.0),
            MIDNIGHT,
        ),
        "profile, 20 days within 140 d (rank off)": (
            KOREA_2018,
            ProfileSettings(n_days=20, lookback_days=140, rank_weight=0.0),
            MIDNIGHT,
        ),
        "profile, 15 days within 42 d (rank off)": (
            KOREA_2018,
            ProfileSettings(lookback_days=42, rank_weight=0.0),
            MIDNIGHT,
        ),
        "profile, mean instead of median": (KOREA_2018, ProfileSettings(statistic="mean"), MIDNIGHT),
        "profile, level factor 0.5 (last 2 days of the type)": (
            KOREA_2018,
            ProfileSettings(level_weight=0.5, rank_weight=0.0),
            MIDNIGHT,
        ),
        "profile, level factor 1.0 (last 2 days of the type)": (
            KOREA_2018,
            ProfileSettings(level_weight=1.0, rank_weight=0.0),
            MIDNIGHT,
        ),
        "profile, Saturdays as days off": (KOREA_2018, ProfileSettings(separate_saturday=False), MIDNIGHT),
        "profile, weekends only (no holidays)": (weekends_only(), ProfileSettings(), MIDNIGHT),
        "profile, China's holidays (wrong country)": (china_calendar(), ProfileSettings(), MIDNIGHT),
    }


def quantile_variants(quick: bool) -> dict[str, tuple[LoadQuantileSettings, Protocol]]:
    """The quantile variants measured (name -> settings, protocol)."""
    variants = {"quantiles, defaults (56 days of errors, day type x hour)": (LoadQuantileSettings(), MIDNIGHT)}
    if quick:
        return variants
    return variants | {
        "quantiles, defaults, issued 08:00 the day before": (LoadQuantileSettings(), DAY_BEFORE),
        "quantiles, 28 days of errors": (LoadQuantileSettings(error_days=28), MIDNIGHT),
        "quantiles, 91 days of errors": (LoadQuantileSettings(error_days=91), MIDNIGHT),
        "quantiles, by hour only": (LoadQuantileSettings(groupings=(("hour",),)), MIDNIGHT),
        "quantiles, by day type only": (LoadQuantileSettings(groupings=(("day_type",),)), MIDNIGHT),
    }


def steel_load(quick: bool = False, quantiles: bool = False) -> dict[str, Any]:
    """Point forecasts of the steel plant's load on the rolling-origin protocol, with variants (and, with
    ``quantiles``, :func:`steel_load_quantiles`)."""
    load = read_steel()
    results: dict[str, dict[str, float]] = {}
    naive_scores: dict[str, float] = {}
    for name, (calendar, settings, protocol) in point_variants(quick).items():
        forecast, naive = backtest(load, calendar, settings, protocol)
        results[name] = load_scores(forecast, naive, load)
        naive_scores = load_scores(naive, naive, load)
    results["seasonal naive (same slot last week)"] = naive_scores
    _print_point_table(results)
    report: dict[str, Any] = {
        "protocol": __doc__.split("\n\n")[1],
        "days": len(scored_days(load)),
        "mean_load_kw": float(load.mean()),
        "peak_kw": float(load.max()),
        "results": results,
    }
    if quantiles:
        report["quantiles"] = steel_load_quantiles(quick)
    return report


def steel_load_quantiles(quick: bool = False) -> dict[str, dict[str, Any]]:
    """Quantile forecasts of the steel plant's load on the rolling-origin protocol: scores overall (with the
    coverage of P10/P90 by day type), on dev and on test, per variant."""
    load = read_steel()
    quantiles: dict[str, dict[str, Any]] = {}
    for name, (quantile_settings, protocol) in quantile_variants(quick).items():
        frame = quantile_backtest(load, KOREA_2018, None, quantile_settings, protocol)
        actual = load.reindex(frame.index)
        dates = pd.DatetimeIndex(frame.index).tz_localize(None).normalize().date
        types = np.array([day_type(d, KOREA_2018) for d in dates])
        test = frame.index >= pd.Timestamp(TEST_START, tz=frame.index.tz)
        quantiles[name] = {
            "all": summarise_quantiles(frame, actual, DENSE_LEVELS, groups={"day_type": types}),
            "dev": summarise_quantiles(frame, actual, DENSE_LEVELS, mask=~test),
            "test": summarise_quantiles(frame, actual, DENSE_LEVELS, mask=test),
        }
    _print_quantile_table(quantiles)
    return quantiles


def _print_point_table(results: dict[str, dict[str, float]]) -> None:
    table = Table(
        title="Steel plant (UCI 851, 2018, 15 min): day-ahead load, rolling origin, 358 days (8 Jan - 31 Dec), "
        "out of sample"
    )
    columns = ("model", "MAE kW", "RMSE kW", "MAPE* %", "WAPE %", "day-energy MAPE %", "MASE", "dev", "test")
    for column in columns:
        table.add_column(column, justify="right" if column != "model" else "left")
    for name, s in results.items():
        table.add_row(
            name,
            f"{s['mae_kw']:.1f}",
            f"{s['rmse_kw']:.1f}",
            f"{s['mape_pct']:.1f}",
            f"{s['wape_pct']:.1f}",
            f"{s['daily_energy_mape_pct']:.1f}",
            f"{s['mase']:.3f}",
            f"{s['mase_dev']:.3f}",
            f"{s['mase_test']:.3f}",
        )
    console.print(table)
    console.print(
        "* MAPE over steps with a metered load of at least 10 kW. MASE: MAE / MAE of seasonal naive on the same "
        "steps; dev = 8 Jan - 30 Jun (settings chosen there), test = 1 Jul - 31 Dec."
    )


def _print_quantile_table(quantiles: dict[str, dict[str, Any]]) -> None:
    table = Table(title="Steel plant: load quantiles, rolling origin, 358 days, out of sample (coverage %, kW)")
    for column in ("variant", "P05", "P10", "P25", "P50", "P75", "P90", "P95", "P10-P90", "pinball P10/P50/P90"):
        table.add_column(column, justify="right" if column != "variant" else "left")
    table.add_column("CRPS kW (dev / test)", justify="right")
    table.add_column("point MAE kW", justify="right")
    for name, parts in quantiles.items():
        s = parts["all"]
        cov = reported(s)
        table.add_row(
            name,
            *(f"{cov[q]:.1f}" for q in (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)),
            f"{s['interval_80_pct']:.1f}",
            " / ".join(f"{pinball_at(s, q):.2f}" for q in (0.1, 0.5, 0.9)),
            f"{s['crps']:.2f} ({parts['dev']['crps']:.2f} / {parts['test']['crps']:.2f})",
            f"{s['point_crps']:.2f}",
        )
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the defaults only (about 40 s)")
    parser.add_argument("--out", type=Path, default=RESULTS / "forecast_load.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = steel_load(args.quick, quantiles=True)
    report["seconds"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    console.print(f"wrote {args.out} in {report['seconds']:.0f} s")


if __name__ == "__main__":
    main()
