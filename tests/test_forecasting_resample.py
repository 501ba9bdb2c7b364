"""The time-semantics rule: averages keep energy, instants are interpolated at midpoints, zones are absolute."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting import WeatherDataError, weather_from_frame
from forecasting.resample import average_to_index, instant_to_index, shift_averages, weather_on_index

SHANGHAI = "Asia/Shanghai"
HOUR = pd.Timedelta(hours=1)


def _hourly(values: list[float], start: str = "2026-07-15 10:00", tz: str = SHANGHAI) -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="h", tz=tz), name="ghi_w_m2")


def _quarters(start: str, periods: int, tz: str = SHANGHAI) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=periods, freq="15min", tz=tz)


def test_hourly_averages_are_held_over_quarter_hours() -> None:
    result = average_to_index(_hourly([0.0, 4.0, 8.0]), HOUR, _quarters("2026-07-15 10:00", 12))
    assert result.tolist() == [0.0] * 4 + [4.0] * 4 + [8.0] * 4


def test_quarter_hours_are_averaged_into_hours() -> None:
    quarters = pd.Series([1.0, 2.0, 3.0, 6.0, 0.0, 0.0, 4.0, 4.0], index=_quarters("2026-07-15 10:00", 8))
    hours = pd.date_range("2026-07-15 10:00", periods=2, freq="h", tz=SHANGHAI)
    assert average_to_index(quarters, pd.Timedelta(minutes=15), hours).tolist() == [3.0, 2.0]


def test_shape_shares_each_hours_energy_and_keeps_it() -> None:
    values = _hourly([100.0, 400.0])
    result = average_to_index(values, HOUR, _quarters("2026-07-15 10:00", 8), shape=lambda t: np.arange(len(t)) + 1.0)
    # weights 1..4 in the first hour: 100 * (1, 2, 3, 4) / 2.5
    np.testing.assert_allclose(result.to_numpy()[:4], [40.0, 80.0, 120.0, 160.0])
    assert result.to_numpy()[:4].mean() == pytest.approx(100.0)
    assert result.to_numpy()[4:].mean() == pytest.approx(400.0)


def test_shape_of_zeros_falls_back_to_hold() -> None:
    result = average_to_index(_hourly([3.0]), HOUR, _quarters("2026-07-15 10:00", 4), shape=lambda t: np.zeros(len(t)))
    assert result.tolist() == [3.0] * 4


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(0.0, 1200.0), min_size=2, max_size=30),
    weights=st.lists(st.floats(0.0, 10.0), min_size=4, max_size=4),
    target_minutes=st.sampled_from([5, 10, 15, 20, 30, 60]),
)
def test_energy_is_conserved_for_any_values_shape_and_step(
    values: list[float], weights: list[float], target_minutes: int
) -> None:
    source = _hourly(values, start="2026-07-15 00:00")
    n = len(values) * 60 // target_minutes
    index = pd.date_range("2026-07-15 00:00", periods=n, freq=f"{target_minutes}min", tz=SHANGHAI)

    def shape(times: pd.DatetimeIndex) -> np.ndarray:
        return np.asarray(weights)[(times.minute // 15) % 4]

    for candidate in (None, shape):
        result = average_to_index(source, HOUR, index, shape=candidate)
        energy = result.sum() * target_minutes / 60
        assert energy == pytest.approx(sum(values), rel=1e-9, abs=1e-6)


def test_unaligned_horizon_keeps_energy() -> None:
    source = _hourly([60.0, 120.0, 180.0])
    index = pd.date_range("2026-07-15 10:10", periods=5, freq="30min", tz=SHANGHAI)
    result = average_to_index(source, HOUR, index)
    # 10:10-10:40 all in hour 1 (60); 10:40-11:10: 20 min of 60 and 10 min of 120 -> 80; ...
    np.testing.assert_allclose(result.to_numpy(), [60.0, 80.0, 120.0, 140.0, 180.0])


def test_instants_are_interpolated_at_interval_midpoints() -> None:
    temperature = pd.Series(
        [0.0, 4.0, 8.0], index=pd.date_range("2026-07-15 00:00", periods=3, freq="h", tz=SHANGHAI), name="temp"
    )
    result = instant_to_index(temperature, HOUR, _quarters("2026-07-15 00:00", 8))
    # midpoint 00:07:30 -> 0.5, 00:22:30 -> 1.5, ...
    np.testing.assert_allclose(result.to_numpy(), [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5])


def test_instants_hold_up_to_one_step_beyond_the_data_then_fail() -> None:
    temperature = pd.Series(
        [5.0, 7.0], index=pd.date_range("2026-07-15 00:00", periods=2, freq="h", tz=SHANGHAI), name="temp_air_c"
    )
    held = instant_to_index(temperature, HOUR, _quarters("2026-07-15 01:00", 4))
    assert held.tolist() == [7.0] * 4
    with pytest.raises(WeatherDataError, match=r"temp_air_c .* interval starting 2026-07-15 02:00:00\+08:00"):
        instant_to_index(temperature, HOUR, _quarters("2026-07-15 01:30", 4))


def test_weather_not_covering_the_horizon_names_column_and_time() -> None:
    with pytest.raises(WeatherDataError) as info:
        average_to_index(_hourly([1.0, 2.0]), HOUR, _quarters("2026-07-15 11:00", 8))
    message = str(info.value)
    assert "ghi_w_m2" in message and "2026-07-15 12:00:00+08:00" in message
    with pytest.raises(WeatherDataError, match="starts at 2026-07-15 10:00:00"):
        average_to_index(_hourly([1.0, 2.0]), HOUR, _quarters("2026-07-15 09:45", 4))


def test_time_zones_are_compared_in_absolute_time() -> None:
    utc = _hourly([0.0, 500.0, 0.0], start="2026-07-15 03:00", tz="UTC")  # 04:00-05:00 UTC = 12:00-13:00 Beijing
    frame = weather_from_frame(utc.to_frame())
    local = pd.date_range("2026-07-15 11:00", periods=3, freq="h", tz=SHANGHAI)
    result = weather_on_index(frame, local)
    assert result["ghi_w_m2"].tolist() == [0.0, 500.0, 0.0]
    assert str(result.index.tz) == SHANGHAI


def test_end_labels_become_start_labels_for_mixed_columns() -> None:
    index = pd.date_range("2026-07-15 11:00", periods=3, freq="h", tz=SHANGHAI)
    frame = pd.DataFrame({"ghi_w_m2": [100.0, 200.0, 300.0], "temp_air_c": [20.0, 21.0, 22.0]}, index=index)
    weather = weather_from_frame(frame, label={"ghi_w_m2": "end", "temp_air_c": "instant"})
    # 200 W/m2 reported at 12:00 is the mean of 11:00-12:00
    assert weather.data.loc["2026-07-15 11:00", "ghi_w_m2"] == 200.0
    assert weather.data.loc["2026-07-15 11:00", "temp_air_c"] == 20.0
    assert len(weather.data) == 2


def test_shift_averages_moves_energy_without_changing_it() -> None:
    index = pd.date_range("2026-07-15 10:00", periods=4, freq="h", tz=SHANGHAI)
    frame = pd.DataFrame({"ghi_w_m2": [0.0, 600.0, 0.0, 0.0], "temp_air_c": [10.0, 12.0, 14.0, 16.0]}, index=index)
    moved = shift_averages(weather_from_frame(frame, label={"temp_air_c": "instant"}), pd.Timedelta(minutes=-30))
    assert moved.step == pd.Timedelta(minutes=30)
    ghi = moved.data["ghi_w_m2"]
    assert ghi.loc["2026-07-15 10:30"] == 600.0 and ghi.loc["2026-07-15 11:00"] == 600.0
    assert ghi.sum() * 0.5 == pytest.approx(600.0)
    assert moved.data.loc["2026-07-15 10:30", "temp_air_c"] == pytest.approx(11.0)  # instants interpolated
