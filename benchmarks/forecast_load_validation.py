"""Load-forecast validation on the measured steel-plant load (UCI 851, 2018, a Korean plant), part 3 of
``python -m benchmarks.forecast_validation``.

A day-ahead profile forecast for every day, issued at 08:00 the day before, against seasonal naive (same time
last week): MAE, RMSE, MAPE, WAPE, daily-energy MAPE, MASE; with calendar and level-weight variants.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from forecasting import (
    ProfileSettings,
    calendar_from_dates,
    china_calendar,
    profile_forecast,
    seasonal_naive,
    weekends_only,
)
from forecasting.metrics import mae, mape_pct, mase, rmse, wape_pct

STEEL_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "load" / "Steel_industry_data.csv"
console = Console(width=150)

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


def read_steel() -> pd.Series:
    """Average kW per quarter-hour at interval starts (stamps are interval ends; 00:00 rows carry the next date)."""
    raw = pd.read_csv(STEEL_CSV, encoding="utf-8-sig")
    stamps = pd.to_datetime(raw["date"], format="%d/%m/%Y %H:%M")
    stamps = stamps.where(stamps.dt.strftime("%H:%M") != "00:00", stamps + pd.Timedelta(days=1))
    index = pd.DatetimeIndex(stamps - pd.Timedelta(minutes=15)).tz_localize("Asia/Seoul")
    return pd.Series(raw["Usage_kWh"].to_numpy() * 4.0, index=index, name="load_kw").sort_index()


def backtest(load: pd.Series, calendar: Any, settings: ProfileSettings) -> tuple[pd.Series, pd.Series]:
    """Day-ahead forecasts for every day from the 8th, issued at 08:00 the day before."""
    days = pd.date_range("2018-01-08", "2018-12-31", freq="D", tz=load.index.tz)
    profile, naive = [], []
    for day in days:
        horizon = pd.date_range(day, periods=96, freq="15min")
        history = load[load.index < day - pd.Timedelta(hours=16)]
        profile.append(profile_forecast(history, horizon, calendar, settings))
        naive.append(seasonal_naive(history, horizon))
    return pd.concat(profile), pd.concat(naive)


def load_scores(forecast: pd.Series, naive: pd.Series, actual: pd.Series) -> dict[str, float]:
    actual = actual.reindex(forecast.index)
    daily = actual.groupby(actual.index.normalize()).sum()
    daily_f = forecast.groupby(forecast.index.normalize()).sum()
    return {
        "mae_kw": mae(forecast, actual),
        "rmse_kw": rmse(forecast, actual),
        "mape_pct": mape_pct(forecast, actual, min_actual=10.0),
        "wape_pct": wape_pct(forecast, actual),
        "daily_energy_mape_pct": mape_pct(daily_f, daily),
        "mase": mase(forecast, actual, naive),
    }


def steel_load() -> dict[str, Any]:
    """Profile model vs seasonal naive on the steel plant, with calendar and level-weight variants."""
    load = read_steel()
    variants = {
        "profile (Korean holidays)": (KOREA_2018, ProfileSettings()),
        "profile (Korean holidays, level off)": (KOREA_2018, ProfileSettings(level_weight=0.0)),
        "profile (Korean holidays, level 1.0)": (KOREA_2018, ProfileSettings(level_weight=1.0)),
        "profile (weekends only)": (weekends_only(), ProfileSettings()),
        "profile (China's holidays)": (china_calendar(), ProfileSettings()),
    }
    results: dict[str, dict[str, float]] = {}
    naive_scores: dict[str, float] = {}
    for name, (calendar, settings) in variants.items():
        forecast, naive = backtest(load, calendar, settings)
        results[name] = load_scores(forecast, naive, load)
        naive_scores = load_scores(naive, naive, load)
    results["seasonal naive (same time last week)"] = naive_scores
    table = Table(title="Steel plant (UCI 851, 2018, 15 min): day-ahead load, 358 days, issued 08:00 the day before")
    for column in ("model", "MAE kW", "RMSE kW", "MAPE* %", "WAPE %", "daily-energy MAPE %", "MASE"):
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
        )
    console.print(table)
    console.print("* MAPE over steps with a metered load of at least 10 kW (the plant idles near 0 kW at times).")
    main_mase = results["profile (Korean holidays)"]["mase"]
    console.print(
        f"profile model beats seasonal naive: MASE {main_mase:.3f} {'< 1: PASS' if main_mase < 1 else '>= 1: FAIL'}"
    )
    return {"mean_load_kw": float(load.mean()), "peak_kw": float(load.max()), "results": results}
