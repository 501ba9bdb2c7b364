"""The EMS demo data (scenarios/ems_demo_data.py): shapes, weekdays kept, and a weather CSV the service reads back
covering the whole local day."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from api.readings import ReadingsUpload
from api.weather import weather_of
from optimizer import Horizon
from scenarios.ems_demo_data import (
    INPUTS,
    TZ,
    WEATHER_COLUMNS,
    history_frame,
    plan_as_readings,
    readings_body,
    steel_source_times,
    weather_csv,
)


def test_history_frame_shape_and_units() -> None:
    frame = history_frame("2026-06-17", "2026-07-15")
    assert list(frame.columns) == list(INPUTS)
    assert len(frame) == 28 * 96 and str(frame.index.tz) == TZ
    assert frame.index[0] == pd.Timestamp("2026-06-17", tz=TZ)
    assert frame.index[-1] == pd.Timestamp("2026-07-14 23:45", tz=TZ)
    assert not frame.isna().any().any() and (frame >= 0).all().all()
    assert 1000 < frame["process_load"].max() < 2000  # the steel plant x3 [kW]
    assert set(frame["compressed_air"].unique()) == {40.0, 75.0}  # off / on shift [m3/min]


@pytest.mark.parametrize(
    ("start", "end"), [("2026-07-13", "2026-07-20"), ("2025-12-28", "2026-01-05"), ("2026-12-29", "2027-01-03")]
)
def test_process_load_keeps_the_weekday_also_across_new_year(start: str, end: str) -> None:
    index = history_frame(start, end).index
    source = steel_source_times(index)
    assert (source.year == 2018).all()
    assert (source.day_of_week == index.day_of_week).all()
    assert (source.time == index.time).all()


def test_the_same_day_has_the_same_values_whatever_the_range() -> None:
    week = history_frame("2026-07-06", "2026-07-13")
    day = history_frame("2026-07-10", "2026-07-11")
    pd.testing.assert_frame_equal(week.loc[day.index], day, check_freq=False)


def test_readings_body_is_a_valid_upload() -> None:
    frame = history_frame(dt.date(2026, 7, 14), dt.date(2026, 7, 15))
    frame.iloc[3, 0] = np.nan
    body = readings_body(frame, {"process_load": "power"})
    upload = ReadingsUpload.model_validate(body)
    assert len(upload.readings) == 4 * 96 - 1
    assert upload.readings[0].series == "process_load" and upload.readings[0].time == "2026-07-14T00:00:00+08:00"


def test_plan_as_readings_puts_the_level_at_the_step_end() -> None:
    starts = pd.date_range("2026-07-15", periods=96, freq="15min", tz=TZ)
    schedule = [
        {"interval_start": t.tz_convert("UTC").isoformat(), "battery.soc_kwh": 100.0 + i, "grid.import_kw": 500.0}
        for i, t in enumerate(starts)
    ]
    frame = plan_as_readings(schedule, 1000.0)
    assert len(frame) == 97 and frame.index[-1] == pd.Timestamp("2026-07-16", tz=TZ)
    assert np.isnan(frame["battery.soc_frac"].iloc[0]) and frame["battery.soc_frac"].iloc[-1] == pytest.approx(0.195)
    assert np.isnan(frame["grid.import_kw"].iloc[-1]) and frame["grid.import_kw"].iloc[0] == 500.0


@pytest.mark.parametrize("day", ["2026-07-15", "2026-01-01", "2026-12-31"])
def test_weather_csv_reads_back_and_covers_the_day(day: str) -> None:
    text = weather_csv(day)
    assert text.splitlines()[0] == "time," + ",".join(WEATHER_COLUMNS)
    weather = weather_of({"format": "csv", "text": text})
    assert set(weather.data.columns) == set(WEATHER_COLUMNS)
    assert weather.step == pd.Timedelta(minutes=30)
    index = Horizon.day(pd.Timestamp(day).date(), TZ).index
    assert weather.start == index[0] - pd.Timedelta(hours=1)
    assert weather.end == index[-1] + pd.Timedelta(minutes=15) + pd.Timedelta(hours=1)
    assert weather.data["ghi_w_m2"].max() > 200.0  # a day with sun
    assert weather.data["ghi_w_m2"].iloc[:3].eq(0.0).all()  # night at both ends
    assert weather.data["ghi_w_m2"].iloc[-3:].eq(0.0).all()
