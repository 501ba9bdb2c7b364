"""Load forecasts: exact reproduction of a known pattern, holidays, level adjustment, errors, metrics."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from forecasting import (
    ForecastWarning,
    LoadHistoryError,
    ProfileSettings,
    calendar_from_dates,
    china_calendar,
    forecast_load,
    profile_forecast,
    seasonal_naive,
    weekends_only,
)
from forecasting.load import day_type
from forecasting.metrics import bias, mae, mape_pct, mase, nmae_pct, relative_bias_pct, rmse, wape_pct

SHANGHAI = "Asia/Shanghai"
SLOTS = np.arange(96)
WORKDAY = np.where((SLOTS >= 32) & (SLOTS < 72), 600.0, 200.0)  # 08:00-18:00 at 600 kW, else 200
SATURDAY = np.where((SLOTS >= 32) & (SLOTS < 48), 400.0, 150.0)  # a half shift
OFFDAY = np.full(96, 100.0)


def _pattern(day: dt.date, calendar: object) -> np.ndarray:
    kind = day_type(day, calendar)  # type: ignore[arg-type]
    return {"workday": WORKDAY, "saturday": SATURDAY, "offday": OFFDAY}[kind]


def _history(start: str, end: str, calendar: object, scale: float = 1.0) -> pd.Series:
    days = pd.date_range(start, end, freq="D")
    values = np.concatenate([_pattern(d.date(), calendar) for d in days]) * scale
    index = pd.date_range(start, periods=len(values), freq="15min", tz=SHANGHAI)
    return pd.Series(values, index=index, name="load_kw")


def _day(date: str) -> pd.DatetimeIndex:
    return pd.date_range(date, periods=96, freq="15min", tz=SHANGHAI)


def test_profile_reproduces_a_known_weekday_weekend_pattern_exactly() -> None:
    calendar = weekends_only()
    history = _history("2026-06-01", "2026-07-12", calendar)  # six weeks, Monday to Sunday
    for date, expected in [("2026-07-13", WORKDAY), ("2026-07-18", SATURDAY), ("2026-07-19", OFFDAY)]:
        forecast = profile_forecast(history, _day(date), calendar)
        np.testing.assert_array_equal(forecast.to_numpy(), expected)
        assert forecast.attrs["level_factors"] == {date: 1.0}


def test_a_chinese_holiday_gets_the_offday_profile_and_an_adjusted_sunday_the_workday_one() -> None:
    calendar = china_calendar()
    history = _history("2026-08-01", "2026-09-19", calendar)
    # 20 September 2026 is a Sunday worked for National Day; 1 October a Thursday off
    adjusted = forecast_load(history, _day("2026-09-20"), calendar=calendar)
    np.testing.assert_array_equal(adjusted.to_numpy(), WORKDAY)
    history = _history("2026-08-01", "2026-09-30", calendar)
    holiday = forecast_load(history, _day("2026-10-01"), calendar=calendar)
    np.testing.assert_array_equal(holiday.to_numpy(), OFFDAY)


def test_a_two_day_horizon_uses_each_days_type() -> None:
    calendar = weekends_only()
    history = _history("2026-06-01", "2026-07-10", calendar)  # ends on a Friday
    horizon = pd.date_range("2026-07-11", periods=192, freq="15min", tz=SHANGHAI)
    forecast = profile_forecast(history, horizon, calendar)
    np.testing.assert_array_equal(forecast.to_numpy(), np.concatenate([SATURDAY, OFFDAY]))


def test_level_adjustment_follows_a_recent_step_change() -> None:
    calendar = weekends_only()
    base = _history("2026-05-04", "2026-06-28", calendar)
    recent = _history("2026-06-29", "2026-07-05", calendar, scale=1.1)  # last week 10 % higher
    history = pd.concat([base, recent])
    full = ProfileSettings(level_weight=1.0, n_days=6, rank_weight=0.0)  # the factor alone
    forecast = profile_forecast(history, _day("2026-07-06"), calendar, full)
    factor = forecast.attrs["level_factors"]["2026-07-06"]
    assert 1.0 < factor <= 1.1 + 1e-9
    np.testing.assert_allclose(
        forecast.to_numpy(),
        profile_forecast(history, _day("2026-07-06"), calendar, replace(full, level_weight=0.0)).to_numpy() * factor,
    )
    off = profile_forecast(history, _day("2026-07-06"), calendar, ProfileSettings(level_weight=0.0))
    assert off.attrs["level_factors"] == {"2026-07-06": 1.0}


def test_seasonal_naive_is_last_weeks_value() -> None:
    calendar = weekends_only()
    history = _history("2026-06-01", "2026-07-12", calendar)
    history.iloc[-7 * 96 + 40] = 999.0  # Monday 6 July, 10:00
    forecast = seasonal_naive(history, _day("2026-07-13"))
    assert forecast.iloc[40] == 999.0
    np.testing.assert_array_equal(forecast.to_numpy(), history.iloc[-7 * 96 : -6 * 96].to_numpy())
    method = forecast_load(history, _day("2026-07-13"), method="seasonal_naive")
    assert method.equals(forecast)


def test_finer_history_is_averaged_to_the_horizon_step() -> None:
    calendar = weekends_only()
    quarter = _history("2026-06-01", "2026-07-12", calendar)
    horizon = pd.date_range("2026-07-13", periods=24, freq="h", tz=SHANGHAI)
    forecast = profile_forecast(quarter, horizon, calendar)
    np.testing.assert_allclose(forecast.to_numpy(), WORKDAY.reshape(24, 4).mean(axis=1))


def test_missing_readings_are_ignored() -> None:
    calendar = weekends_only()
    history = _history("2026-06-01", "2026-07-12", calendar)
    history.iloc[-96 * 7 : -96 * 6] = np.nan  # the last Monday was not metered
    forecast = profile_forecast(history, _day("2026-07-13"), calendar)
    np.testing.assert_array_equal(forecast.to_numpy(), WORKDAY)


def test_a_day_type_never_seen_falls_back_with_a_warning() -> None:
    calendar = weekends_only()
    history = _history("2026-07-06", "2026-07-10", calendar)  # Monday to Friday only
    with pytest.warns(ForecastWarning, match="no saturday in the history"):
        forecast = forecast_load(history, _day("2026-07-11"), calendar=calendar)
    np.testing.assert_array_equal(forecast.to_numpy(), WORKDAY)


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (
            pd.Series([1.0, 2.0], index=pd.date_range("2026-07-12 23:30", periods=2, freq="15min")),
            "carry no time zone",
        ),
        (
            pd.Series([1.0] * 3, index=pd.date_range("2026-07-12 23:30", periods=3, freq="15min", tz=SHANGHAI)),
            "reaches into the horizon: the interval starting 2026-07-13 00:00:00+08:00",
        ),
        (
            pd.Series(
                [1.0] * 3,
                index=pd.DatetimeIndex(["2026-07-12 22:00", "2026-07-12 22:15", "2026-07-12 23:00"]).tz_localize(
                    SHANGHAI
                ),
            ),
            "not equally spaced",
        ),
        (
            pd.Series([np.nan] * 2, index=pd.date_range("2026-07-12 23:00", periods=2, freq="15min", tz=SHANGHAI)),
            "all NaN",
        ),
    ],
)
def test_bad_history_is_rejected_with_the_time(history: pd.Series, expected: str) -> None:
    with pytest.raises(LoadHistoryError) as info:
        forecast_load(history, _day("2026-07-13"))
    assert expected in str(info.value)


def test_china_calendar_table() -> None:
    calendar = china_calendar()
    assert calendar.years is not None and calendar.years[0] <= 2018 and calendar.years[1] >= 2026
    assert calendar.is_holiday(dt.date(2026, 2, 17))  # Spring Festival
    assert calendar.is_off(dt.date(2025, 10, 8))  # National Day and Mid-Autumn, a Wednesday
    assert not calendar.is_off(dt.date(2026, 2, 28))  # a Saturday worked for the Spring Festival
    assert all(day.weekday() >= 5 for day in calendar.working_days)
    assert calendar.covers(dt.date(2026, 12, 31)) and not calendar.covers(dt.date(calendar.years[1] + 1, 1, 1))
    assert day_type(dt.date(2026, 7, 18), calendar) == "saturday"
    assert day_type(dt.date(2026, 7, 18), calendar, separate_saturday=False) == "offday"
    plant = calendar.with_off_days(["2026-08-03"])
    assert day_type(dt.date(2026, 8, 3), plant) == "offday"


def test_other_countries_calendars_are_a_parameter() -> None:
    korea_2018 = calendar_from_dates("Korea 2018 (part)", ["2018-09-24", "2018-09-25", "2018-09-26"])
    assert day_type(dt.date(2018, 9, 26), korea_2018) == "offday"
    assert day_type(dt.date(2018, 9, 26), china_calendar()) == "workday"


# --- metrics on hand cases --------------------------------------------------------------------------


def test_metrics_on_a_hand_case() -> None:
    index = pd.date_range("2026-07-13", periods=4, freq="h", tz=SHANGHAI)
    actual = pd.Series([100.0, 200.0, 300.0, 400.0], index=index)
    forecast = pd.Series([110.0, 180.0, 300.0, 440.0], index=index)  # errors +10, -20, 0, +40
    naive = pd.Series([150.0, 150.0, 250.0, 350.0], index=index)  # errors +50, -50, -50, -50
    assert mae(forecast, actual) == pytest.approx(17.5)
    assert bias(forecast, actual) == pytest.approx(7.5)
    assert rmse(forecast, actual) == pytest.approx(np.sqrt((100 + 400 + 0 + 1600) / 4))
    assert mape_pct(forecast, actual) == pytest.approx(100 * (0.1 + 0.1 + 0 + 0.1) / 4)
    assert wape_pct(forecast, actual) == pytest.approx(100 * 70 / 1000)
    assert relative_bias_pct(forecast, actual) == pytest.approx(3.0)
    assert nmae_pct(forecast, actual, capacity=500.0) == pytest.approx(3.5)
    assert mase(forecast, actual, naive) == pytest.approx(17.5 / 50.0)
    assert mape_pct(forecast, actual, min_actual=150.0) == pytest.approx(100 * (0.1 + 0 + 0.1) / 3)


def test_mase_uses_only_points_all_three_know() -> None:
    index = pd.date_range("2026-07-13", periods=3, freq="h", tz=SHANGHAI)
    actual = pd.Series([1.0, 2.0, 3.0], index=index)
    forecast = pd.Series([1.0, 2.0, 100.0], index=index)
    naive = pd.Series([2.0, 3.0, np.nan], index=index)
    assert mase(forecast, actual, naive) == 0.0
