"""Quantile forecasts: hand-checked metrics, calibration on data with a known error distribution, the load
model's quantiles, degree terms and rank level, and China's working-day calendar from chinese-calendar."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from forecasting import ProfileSettings, china_calendar, forecast_load, profile_forecast, weekends_only
from forecasting import holidays as holidays_module
from forecasting.load import day_type, load_quantiles
from forecasting.metrics import (
    coverage,
    crps_from_quantiles,
    interval_coverage,
    level_weights,
    mae,
    pinball_loss,
    pinball_losses,
)
from forecasting.quantiles import (
    DENSE_LEVELS,
    ConditionalQuantiles,
    PvErrorModel,
    Recalibration,
    fit_pv_quantiles,
    mid_pit,
    quantile_label,
)

SHANGHAI = "Asia/Shanghai"

# --- metrics, by hand ----------------------------------------------------------------------------


def test_pinball_loss_by_hand() -> None:
    # forecasts 0, 1, 2 at levels 0.1, 0.5, 0.9; the actual 1.5 is above the first two, below the third:
    # 0.1 x 1.5 = 0.15; 0.5 x 0.5 = 0.25; (1 - 0.9) x 0.5 = 0.05
    np.testing.assert_allclose(
        pinball_losses(np.array([[0.0, 1.0, 2.0]]), np.array([1.5]), [0.1, 0.5, 0.9]), [0.15, 0.25, 0.05]
    )
    # P90 of 2 against actuals 1 and 3: (0.1 x 1 + 0.9 x 1) / 2 = 0.5
    assert pinball_loss(pd.Series([2.0, 2.0]), pd.Series([1.0, 3.0]), 0.9) == pytest.approx(0.5)
    # at 0.5 the pinball loss is half the absolute error
    f, a = pd.Series([3.0, 5.0, 1.0]), pd.Series([1.0, 6.0, 1.0])
    assert pinball_loss(f, a, 0.5) == pytest.approx(mae(f, a) / 2)


def test_crps_from_quantiles_by_hand() -> None:
    # cells of 0.1, 0.5, 0.9 in [0, 1]: [0, 0.3], [0.3, 0.7], [0.7, 1] -> weights 0.3, 0.4, 0.3
    np.testing.assert_allclose(level_weights([0.1, 0.5, 0.9]), [0.3, 0.4, 0.3])
    # 2 x (0.3 x 0.15 + 0.4 x 0.25 + 0.3 x 0.05) = 0.32
    assert crps_from_quantiles(np.array([[0.0, 1.0, 2.0]]), np.array([1.5]), [0.1, 0.5, 0.9]) == pytest.approx(0.32)
    # one level at 0.5 is a point forecast: its CRPS is its MAE
    f, a = np.array([[2.0], [4.0]]), np.array([1.0, 7.0])
    assert crps_from_quantiles(f, a, [0.5]) == pytest.approx(2.0)


def test_crps_from_many_quantiles_matches_the_closed_form_of_a_normal() -> None:
    actual = np.array([-1.0, 0.0, 0.3, 2.0])
    quantiles = np.tile(norm.ppf(DENSE_LEVELS), (len(actual), 1))
    exact = np.mean(actual * (2 * norm.cdf(actual) - 1) + 2 * norm.pdf(actual) - 1 / np.sqrt(np.pi))
    assert crps_from_quantiles(quantiles, actual, DENSE_LEVELS) == pytest.approx(exact, rel=0.01)


def test_coverage_counts_ties_half_and_intervals_by_hand() -> None:
    # actuals 1, 2, 3 against a quantile of 2: one below, one tie (a half), one above -> 1.5 / 3
    assert coverage(np.array([[2.0], [2.0], [2.0]]), np.array([1.0, 2.0, 3.0]), [0.5])[0] == pytest.approx(0.5)
    two = coverage(
        np.array([[0.0, 5.0], [0.0, 5.0], [0.0, 5.0], [0.0, 5.0]]), np.array([-1.0, 1.0, 4.0, 6.0]), [0.1, 0.9]
    )
    np.testing.assert_allclose(two, [0.25, 0.75])
    assert interval_coverage(np.zeros(3), np.ones(3), np.array([0.5, 2.0, 1.0])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="increasing"):
        coverage(np.zeros((1, 2)), np.zeros(1), [0.9, 0.1])


# --- the quantile machinery on a known error distribution ---------------------------------------


def test_conditional_quantiles_recover_each_groups_distribution_and_fall_back() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    groups = np.repeat(["calm", "gusty"], n)
    residuals = np.concatenate([rng.normal(0.0, 1.0, n), rng.normal(0.0, 3.0, n)])
    model = ConditionalQuantiles.fit(residuals, pd.DataFrame({"g": groups}), (0.1, 0.5, 0.9), [("g",)], min_count=50)
    got = model.predict(pd.DataFrame({"g": ["calm", "gusty", "unseen"]}))
    z = norm.ppf(0.9)
    np.testing.assert_allclose(got[0], [-z, 0.0, z], atol=0.05)
    np.testing.assert_allclose(got[1], [-3 * z, 0.0, 3 * z], atol=0.15)
    pooled = np.quantile(residuals, [0.1, 0.5, 0.9])
    np.testing.assert_allclose(got[2], pooled)  # a group never seen: the pooled errors
    assert (np.diff(got, axis=1) >= 0).all()


def test_quantiles_are_calibrated_out_of_sample_on_a_known_distribution() -> None:
    rng = np.random.default_rng(1)
    hours = np.tile(np.arange(24), 2000)
    scale = 1.0 + hours / 6.0  # the spread grows through the day
    past = rng.standard_t(5, len(hours)) * scale
    model = ConditionalQuantiles.fit(past, pd.DataFrame({"hour": hours}), DENSE_LEVELS, [("hour",)])
    future = rng.standard_t(5, len(hours)) * scale
    predicted = model.predict(pd.DataFrame({"hour": hours}))
    observed = coverage(predicted, future, DENSE_LEVELS)
    assert np.abs(observed - np.array(DENSE_LEVELS)).max() < 0.02
    columns = [DENSE_LEVELS.index(0.1), DENSE_LEVELS.index(0.9)]
    late = hours == 23
    by_hour = coverage(predicted[late][:, columns], future[late], [0.1, 0.9])  # calibrated within the group too
    np.testing.assert_allclose(by_hour, [0.1, 0.9], atol=0.03)


def _synthetic_pv(days: int, seed: int) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Clear-sky power (a half sine 06:00-18:00, 1,000 kW peak), a forecast at a daily clear-sky index and the
    measured power: forecast + clear sky x error, the error's spread largest for half-cloudy forecasts."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2025-01-01", periods=days * 96, freq="15min", tz=SHANGHAI)
    hour = (index.hour + index.minute / 60.0).to_numpy()
    clear = np.where((hour > 6) & (hour < 18), 1000.0 * np.sin(np.pi * (hour - 6) / 12), 0.0)
    k = np.repeat(rng.uniform(0.1, 1.0, days), 96)
    error = rng.normal(0.0, 0.05 + 0.3 * k * (1 - k), len(index))
    forecast = clear * k
    measured = np.clip(forecast + clear * error, 0.0, 1000.0)
    return tuple(pd.Series(v, index=index) for v in (forecast, measured, clear))  # type: ignore[return-value]


def test_pv_quantiles_are_calibrated_monotone_and_bounded() -> None:
    forecast, measured, clear = _synthetic_pv(365, 2)
    model = PvErrorModel.fit(forecast, measured, clear, capacity_kw=1000.0)
    new_forecast, new_measured, new_clear = _synthetic_pv(120, 3)
    frame = model.predict(new_forecast, new_clear, DENSE_LEVELS)
    values = frame.to_numpy()
    assert (np.diff(values, axis=1) >= 0).all() and values.min() >= 0.0 and values.max() <= 1000.0
    dark = new_clear.to_numpy() == 0.0
    assert (values[dark] == 0.0).all()  # the point forecast (0 kW) at every level at night
    observed = coverage(values[~dark], new_measured.to_numpy()[~dark], DENSE_LEVELS)
    for level in (0.1, 0.5, 0.9):
        assert observed[DENSE_LEVELS.index(level)] == pytest.approx(level, abs=0.03)
    # a half-cloudy forecast gets a wider P10-P90 than a clear one
    width = frame["p90"] - frame["p10"]
    k = new_forecast / new_clear.where(new_clear > 0)
    noon = new_forecast.index.hour == 12
    assert width[noon & (k > 0.4) & (k < 0.6)].mean() > 2 * width[noon & (k > 0.95)].mean()


def test_recalibration_repairs_a_shifted_error_distribution() -> None:
    rng = np.random.default_rng(4)
    grid = np.asarray(DENSE_LEVELS)
    n = 5000
    issued = np.tile(norm.ppf(grid), (n, 1))  # quantiles of N(0, 1) ...
    actual = rng.normal(-0.8, 1.0, n)  # ... for outcomes from N(-0.8, 1)
    assert coverage(issued[:, [9]], actual, [0.1])[0] > 0.25  # P10 covers over a quarter
    mapping = Recalibration.fit(issued, actual)
    fresh = rng.normal(-0.8, 1.0, n)
    from forecasting.quantiles import interpolate_levels

    repaired = interpolate_levels(issued, grid, mapping.level([0.1, 0.5, 0.9]))
    np.testing.assert_allclose(coverage(repaired, fresh, [0.1, 0.5, 0.9]), [0.1, 0.5, 0.9], atol=0.03)
    pits = mid_pit(issued, fresh + 0.8, grid)  # calibrated forecasts: uniform PITs
    assert abs(pits.mean() - 0.5) < 0.02 and abs(np.mean(pits < 0.1) - 0.1) < 0.02


def test_fit_pv_quantiles_recalibrates_on_the_last_days() -> None:
    forecast, measured, clear = _synthetic_pv(300, 5)
    model = fit_pv_quantiles(forecast, measured, clear, capacity_kw=1000.0, recalibration_days=60)
    assert model.recalibration is not None and model.recalibration.n > 1000
    frame = model.predict(forecast.iloc[-96:], clear.iloc[-96:], (0.1, 0.5, 0.9))
    assert list(frame.columns) == ["point", "p10", "p50", "p90"]
    short = fit_pv_quantiles(forecast.iloc[: 90 * 96], measured.iloc[: 90 * 96], clear.iloc[: 90 * 96])
    assert short.recalibration is None  # less than two windows of data: no recalibration


def test_quantile_labels() -> None:
    assert [quantile_label(q) for q in (0.1, 0.5, 0.9, 0.025, 0.99)] == ["p10", "p50", "p90", "p2.5", "p99"]


# --- the load model's quantiles, degree terms and rank level ------------------------------------


def _noisy_load(days: int, sigma: float, seed: int) -> pd.Series:
    """Workdays 600 kW from 08:00 to 18:00 and 200 kW otherwise, weekends 100 kW, plus N(0, sigma) noise."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2026-03-02", periods=days * 96, freq="15min", tz=SHANGHAI)
    weekend = index.day_of_week >= 5
    busy = (index.hour >= 8) & (index.hour < 18)
    base = np.where(weekend, 100.0, np.where(busy, 600.0, 200.0))
    return pd.Series(base + rng.normal(0.0, sigma, len(index)), index=index, name="load_kw")


def test_load_quantiles_match_a_known_noise_and_are_calibrated() -> None:
    load = _noisy_load(150, 20.0, 6)
    calendar = weekends_only()
    frames = []
    for day in pd.date_range("2026-06-15", periods=28, freq="D", tz=SHANGHAI):
        horizon = pd.date_range(day, periods=96, freq="15min")
        frames.append(load_quantiles(load[load.index < day], horizon, (0.1, 0.5, 0.9), calendar))
    frame = pd.concat(frames)
    actual = load.reindex(frame.index)
    observed = coverage(frame[["p10", "p50", "p90"]], actual, (0.1, 0.5, 0.9))
    np.testing.assert_allclose(observed, [0.1, 0.5, 0.9], atol=0.05)
    # the spread of the median of 15 noisy days plus one noisy day: about sqrt(1 + pi / (2 x 15)) x sigma
    width = (frame["p90"] - frame["p10"]).mean()
    expected = 2 * norm.ppf(0.9) * 20.0 * np.sqrt(1 + np.pi / 30)
    assert width == pytest.approx(expected, rel=0.15)


def test_forecast_load_with_quantiles_returns_a_frame() -> None:
    load = _noisy_load(60, 10.0, 7)
    horizon = pd.date_range("2026-05-01", periods=192, freq="15min", tz=SHANGHAI)  # two days: leads 0 and 1
    frame = forecast_load(load[load.index < horizon[0]], horizon, calendar=weekends_only(), quantiles=(0.9, 0.1, 0.5))
    assert list(frame.columns) == ["point", "p10", "p50", "p90"]
    assert (frame["p10"] <= frame["p50"]).all() and (frame["p50"] <= frame["p90"]).all()
    assert frame.attrs["levels"] == (0.1, 0.5, 0.9) and set(frame.attrs["error_days"]) == {0, 1}
    point = forecast_load(load[load.index < horizon[0]], horizon, calendar=weekends_only())
    np.testing.assert_allclose(frame["point"], point)  # the point forecast is the same
    with pytest.raises(ValueError, match="inside"):
        forecast_load(load[load.index < horizon[0]], horizon, quantiles=(0.1, 1.0))
    with pytest.raises(ValueError, match="profile"):
        forecast_load(load[load.index < horizon[0]], horizon, method="seasonal_naive", quantiles=(0.5,))


def test_cooling_degree_term_is_learnt_from_the_history() -> None:
    rng = np.random.default_rng(8)
    index = pd.date_range("2026-05-01", "2026-08-01", freq="15min", tz=SHANGHAI, inclusive="left")
    daily = np.repeat(rng.normal(0.0, 3.0, len(index) // 96), 96)  # day-to-day weather
    hour = (index.hour + index.minute / 60.0).to_numpy()
    temperature = pd.Series(24.0 + 6.0 * np.sin(np.pi * (hour - 8) / 12) + daily, index=index)
    base = np.where(index.day_of_week >= 5, 100.0, 400.0)
    load = pd.Series(base + 25.0 * np.maximum(temperature - 22.0, 0.0) + rng.normal(0, 5, len(index)), index=index)
    day = pd.Timestamp("2026-07-20", tz=SHANGHAI)
    horizon = pd.date_range(day, periods=96, freq="15min")
    with_weather = profile_forecast(load[load.index < day], horizon, weekends_only(), temperature=temperature)
    assert with_weather.attrs["degree_coefficients"]["cooling_per_k"] == pytest.approx(25.0, rel=0.1)
    assert with_weather.attrs["degree_coefficients"]["heating_per_k"] == pytest.approx(0.0, abs=1.0)
    without = profile_forecast(load[load.index < day], horizon, weekends_only())
    assert mae(with_weather, load.reindex(horizon)) < 0.5 * mae(without, load.reindex(horizon))
    with pytest.raises(ValueError, match="does not cover the horizon"):
        profile_forecast(load[load.index < day], horizon, weekends_only(), temperature=temperature[:day])


def test_rank_level_reads_a_higher_quantile_after_a_busy_day() -> None:
    """Fifteen workdays at 101 ... 115 kW (flat), then one at 200 kW: the next workday's profile is the pool's
    quantile at 0.5 + 0.3 x (1 - 0.5) = 0.65, the day before sitting above all of its own profile days."""
    days = pd.bdate_range("2026-03-02", periods=16, tz=SHANGHAI)
    index = pd.DatetimeIndex(np.concatenate([pd.date_range(d, periods=96, freq="15min") for d in days]))
    levels = np.concatenate([np.arange(101.0, 116.0), [200.0]])
    history = pd.Series(np.repeat(levels, 96), index=index, name="load_kw")
    history = history.reindex(pd.date_range(index[0], index[-1], freq="15min"))  # weekends missing (NaN)
    target = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=96, freq="15min")  # Tuesday after the Monday
    calendar = weekends_only()
    shifted = profile_forecast(history, target, calendar)
    pool = np.concatenate([np.arange(102.0, 116.0), [200.0]])  # the last 15 workdays
    assert shifted.iloc[0] == pytest.approx(np.quantile(pool, 0.65))
    median = profile_forecast(history, target, calendar, ProfileSettings(rank_weight=0.0))
    assert median.iloc[0] == pytest.approx(np.median(pool))


# --- China's calendar from chinese-calendar -------------------------------------------------------


def test_china_calendar_comes_from_chinese_calendar() -> None:
    import chinese_calendar

    calendar = china_calendar()
    assert calendar.source.startswith("chinese-calendar")
    # the package's own data for the 2026 Spring Festival: Saturday 14 February and Saturday 28 February are
    # worked (in-lieu working days), Sunday 15 February is already part of the holiday
    for day, worked in ((dt.date(2026, 2, 14), True), (dt.date(2026, 2, 15), False), (dt.date(2026, 2, 28), True)):
        assert chinese_calendar.is_workday(day) is worked
        assert calendar.is_off(day) is not worked
    assert day_type(dt.date(2026, 2, 14), calendar) == "workday"
    assert day_type(dt.date(2026, 2, 15), calendar) == "offday"
    assert calendar.is_working_weekend(dt.date(2026, 1, 4))  # a Sunday worked for New Year's Day
    assert calendar.covers(dt.date(2010, 5, 3)) and calendar.is_holiday(dt.date(2010, 5, 3))  # older years too
    # the plant's own shutdowns go on top, and a shutdown on an in-lieu working day makes it a day off
    plant = calendar.with_off_days(["2026-02-14", "2026-08-03"])
    assert day_type(dt.date(2026, 2, 14), plant) == "offday" and day_type(dt.date(2026, 8, 3), plant) == "offday"
    assert plant.source == calendar.source


def test_the_bundled_table_fills_only_years_the_package_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """An old install of chinese-calendar (data to 2024): 2025-2026 come from data/holidays_cn.csv, and say so."""
    days, years, version = holidays_module._china_package()  # type: ignore[misc]
    old = {d: k for d, k in days.items() if d.year <= 2024}
    monkeypatch.setattr(holidays_module, "_china_package", lambda: (old, (years[0], 2024), version))
    calendar = holidays_module.china_calendar.__wrapped__()
    assert calendar.years == (years[0], 2026)
    assert "bundled table holidays_cn.csv 2025-2026" in calendar.source
    assert calendar.is_holiday(dt.date(2026, 2, 17)) and calendar.is_working_weekend(dt.date(2026, 2, 28))
    assert calendar.is_holiday(dt.date(2024, 10, 1))  # from the package
    monkeypatch.setattr(holidays_module, "_china_package", lambda: None)
    alone = holidays_module.china_calendar.__wrapped__()
    assert alone.years == (2018, 2026) and "not installed" in alone.source


def test_forecast_pv_quantiles_on_the_state_grid_plant() -> None:
    """March 2019 of the real plant trains the error model of its clear-sky forecast; April is forecast."""
    from pathlib import Path

    from forecasting import FixedMount, PvArraySpec, PvSiteSpec, forecast_pv, forecast_pv_quantiles, weather_from_frame
    from forecasting.errors import ForecastWarning

    data = Path(__file__).parent / "data" / "forecasting" / "state_grid_site1_2019_03_04.csv"
    frame = pd.read_csv(data, parse_dates=["time"], index_col="time")
    frame.index = pd.DatetimeIndex(frame.index).tz_localize(SHANGHAI)
    site = PvSiteSpec(
        latitude_deg=41.25,
        longitude_deg=94.66,
        altitude_m=870.0,
        tz=SHANGHAI,
        arrays=[PvArraySpec(name="plant", dc_kwp=50_000.0, mount=FixedMount(tilt_deg=36.0, azimuth_deg=182.0))],
    )
    march = frame[frame.index.month == 3]
    with pytest.warns(ForecastWarning, match="CLEAR-SKY"):
        clear = forecast_pv(site, None, march.index)["total_kw"]
    model = fit_pv_quantiles(clear, march["power_mw"] * 1000.0, clear, capacity_kw=50_000.0)
    april = frame[frame.index.month == 4]
    weather = weather_from_frame(april[["temp_air_c"]], label="instant", source="State Grid site 1")
    with pytest.warns(ForecastWarning, match="CLEAR-SKY"):  # the point forecast's warning, not the quantiles'
        bands = forecast_pv_quantiles(site, weather, april.index, model, (0.1, 0.5, 0.9))
    assert list(bands.columns) == ["point", "p10", "p50", "p90"]
    assert (bands["p10"] <= bands["p90"]).all() and bands["p90"].max() <= 50_000.0
    lit = bands["point"] > 0
    observed = coverage(bands.loc[lit, ["p10", "p50", "p90"]], april.loc[lit, "power_mw"] * 1000.0, (0.1, 0.5, 0.9))
    assert observed[0] < observed[1] < observed[2]  # one month to learn from: ordered, roughly calibrated
    assert abs(observed[1] - 0.5) < 0.15
