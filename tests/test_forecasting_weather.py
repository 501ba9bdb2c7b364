"""Weather readers (EPW, CSV, Open-Meteo JSON) and their validation: every error names the column and the time."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import WeatherDataError, read_epw, read_open_meteo_json, read_weather_csv, typical_year_for
from forecasting.defaults import SHENYANG_EPW, shenyang_typical_weather, shenyang_typical_year
from forecasting.weather import weather_from_frame

DATA = Path(__file__).parent / "data" / "forecasting"
EPW = Path(__file__).resolve().parents[1] / "forecasting" / "data" / SHENYANG_EPW
SHANGHAI = "Asia/Shanghai"


def _csv(text: str) -> io.StringIO:
    return io.StringIO(text.strip() + "\n")


# --- EPW ---------------------------------------------------------------------------------------------


def test_epw_reads_a_year_with_hour_start_labels_and_end_of_hour_instants() -> None:
    weather = read_epw(EPW, irradiance_offset=pd.Timedelta(0), drop_dni=False)  # as the file is
    data = weather.data
    assert len(data) == 8760 and weather.step == pd.Timedelta(hours=1)
    assert data.index[0] == pd.Timestamp("2005-01-01 00:00", tz="UTC+08:00")
    assert weather.sampling["ghi_w_m2"] == "average" and weather.sampling["temp_air_c"] == "instant"
    assert weather.meta["latitude"] == pytest.approx(41.73)
    # first EPW data row (hour 1 = 00:00-01:00): dry bulb -15.7 C sampled at 01:00
    assert data.loc["2005-01-01 01:00", "temp_air_c"] == pytest.approx(-15.7)
    # the value at 00:00 on 1 January is the one of 24:00 on 31 December (cyclic typical year)
    raw = pd.read_csv(EPW, skiprows=8, header=None)
    assert data.loc["2005-01-01 00:00", "temp_air_c"] == pytest.approx(raw.iloc[-1, 6])
    assert data["ghi_w_m2"].sum() / 1000 == pytest.approx(1313.875)  # DOMAIN-FACTS: 1,314 kWh/m2


def test_cswd_files_are_corrected_on_reading_by_default() -> None:
    weather = read_epw(EPW)
    assert weather.meta["data_type"] == "CSWD"
    assert weather.step == pd.Timedelta(minutes=30) and "dni_w_m2" not in weather.data.columns
    assert weather.data["ghi_w_m2"].sum() / 2000 == pytest.approx(1313.875)


def test_typical_year_is_redated_across_new_year_and_leap_day() -> None:
    year = shenyang_typical_year(corrected=False)
    span = typical_year_for(year, pd.Timestamp("2026-12-31", tz=SHANGHAI), pd.Timestamp("2027-01-02", tz=SHANGHAI))
    assert span.data.index[0] <= pd.Timestamp("2026-12-31", tz=SHANGHAI)
    assert span.data.index[-1] >= pd.Timestamp("2027-01-02", tz=SHANGHAI)
    leap = typical_year_for(year, pd.Timestamp("2028-02-29", tz=SHANGHAI), pd.Timestamp("2028-03-01", tz=SHANGHAI))
    feb29 = leap.data.loc["2028-02-29", "ghi_w_m2"].to_numpy()
    raw = year.data["ghi_w_m2"]
    feb28 = raw[(raw.index.month == 2) & (raw.index.day == 28)].to_numpy()
    np.testing.assert_array_equal(feb29, feb28)  # copied from 28 February


def test_corrected_cswd_year_keeps_its_energy_and_span() -> None:
    corrected, raw = shenyang_typical_year(), shenyang_typical_year(corrected=False)
    assert corrected.data.index[0] == raw.data.index[0] and corrected.end == raw.end
    assert corrected.data["ghi_w_m2"].sum() * 0.5 == pytest.approx(raw.data["ghi_w_m2"].sum())
    # the first half hour of 1 January is the last half hour of 31 December (cyclic)
    assert corrected.data["ghi_w_m2"].iloc[0] == raw.data["ghi_w_m2"].iloc[0]


def test_shenyang_typical_weather_moves_averages_30_min_earlier_and_drops_dni() -> None:
    horizon = pd.date_range("2026-07-15", periods=96, freq="15min", tz=SHANGHAI)
    weather = shenyang_typical_weather(horizon)
    assert "dni_w_m2" not in weather.data.columns
    assert weather.step == pd.Timedelta(minutes=30)
    raw = shenyang_typical_year(corrected=False).data["ghi_w_m2"]
    raw_noon = raw[(raw.index.month == 7) & (raw.index.day == 15) & (raw.index.hour == 12)].iloc[0]
    # the hour labelled 12:00 in the file now covers 11:30-12:30
    assert weather.data.loc["2026-07-15 11:30", "ghi_w_m2"] == pytest.approx(raw_noon)
    assert weather.data.loc["2026-07-15 12:00", "ghi_w_m2"] == pytest.approx(raw_noon)


# --- CSV ---------------------------------------------------------------------------------------------


def test_csv_fixture_ghi_only_with_offsets() -> None:
    weather = read_weather_csv(DATA / "shenyang_ghi_hourly.csv")
    assert list(weather.data.columns) == ["ghi_w_m2", "temp_air_c", "wind_speed_m_s"]
    assert weather.step == pd.Timedelta(hours=1)
    assert str(weather.data.index.tz) in ("UTC+08:00", "Asia/Shanghai")
    assert weather.data["ghi_w_m2"].max() > 500


def test_csv_energy_units_are_converted_to_average_power() -> None:
    text = """
time,ghi_wh_m2,temp_air_k,wind_speed_km_h,cloud_cover_pct
2026-07-15T12:00,250,300.15,36,50
2026-07-15T12:15,200,301.15,18,100
"""
    weather = read_weather_csv(_csv(text), tz=SHANGHAI)
    row = weather.data.iloc[0]
    assert row["ghi_w_m2"] == pytest.approx(1000.0)  # 250 Wh/m2 in 15 min = 1,000 W/m2
    assert row["temp_air_c"] == pytest.approx(27.0)
    assert row["wind_speed_m_s"] == pytest.approx(10.0)
    assert weather.data["cloud_cover_frac"].tolist() == [0.5, 1.0]


def test_csv_end_labels_are_moved_to_interval_starts() -> None:
    text = """
time,ghi_w_m2
2026-07-15T11:00+08:00,500
2026-07-15T12:00+08:00,600
"""
    weather = read_weather_csv(_csv(text), label="end")
    assert weather.data.index[0] == pd.Timestamp("2026-07-15 10:00", tz=SHANGHAI)
    assert weather.data["ghi_w_m2"].tolist() == [500.0, 600.0]


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("time,ghi_w_m2\n2026-07-15T12:00,500\n2026-07-15T13:00,400", {}, "carry no time zone"),
        ("time,ghi\n2026-07-15T12:00+08:00,500\n2026-07-15T13:00+08:00,400", {}, "column 'ghi' in csv has no unit"),
        ("time,ghi_kw_m2\n2026-07-15T12:00+08:00,0.5\n2026-07-15T13:00+08:00,0.4", {}, "the unknown unit 'kw_m2'"),
        (
            "time,ghi_w_m2\n2026-07-15T10:00+08:00,1\n2026-07-15T11:00+08:00,2\n2026-07-15T13:00+08:00,3",
            {},
            "gap in weather in csv: 2026-07-15 11:00:00+08:00 -> 2026-07-15 13:00:00+08:00",
        ),
        (
            "time,ghi_w_m2,temp_air_c\n2026-07-15T10:00+08:00,1,20\n2026-07-15T11:00+08:00,,21",
            {},
            "column ghi_w_m2 in csv has 1 missing/NaN value(s), first at 2026-07-15 11:00:00+08:00",
        ),
        (
            "time,ghi_w_m2,temp_air_c\n2026-07-15T10:00+08:00,1,293.1\n2026-07-15T11:00+08:00,2,294",
            {},
            "temp_air_c in csv = 293.1 at 2026-07-15 10:00:00+08:00 is above the plausible 65 (kelvin",
        ),
        (
            "time,ghi_w_m2\n2026-07-15T10:00+08:00,1800000\n2026-07-15T11:00+08:00,2",
            {},
            "ghi_w_m2 in csv = 1.8e+06 at 2026-07-15 10:00:00+08:00 is above the plausible 1500",
        ),
        (
            "time,ghi_w_m2\n2026-07-15T10:00+08:00,1\n2026-07-15T10:00+08:00,2",
            {},
            "duplicate timestamp 2026-07-15 10:00:00+08:00",
        ),
        ("stamp,ghi_w_m2\n2026-07-15T10:00+08:00,1", {}, "no time column 'time'"),
    ],
)
def test_csv_errors_name_column_and_time(text: str, kwargs: dict[str, object], expected: str) -> None:
    with pytest.raises(WeatherDataError) as info:
        read_weather_csv(_csv(text), **kwargs)
    assert expected in str(info.value)


def test_negative_night_offsets_are_tolerated_but_large_negatives_are_not() -> None:
    ok = "time,ghi_w_m2\n2026-07-15T00:00+08:00,-3\n2026-07-15T01:00+08:00,0"
    assert read_weather_csv(_csv(ok)).data["ghi_w_m2"].iloc[0] == -3.0
    bad = "time,ghi_w_m2\n2026-07-15T00:00+08:00,-300\n2026-07-15T01:00+08:00,0"
    with pytest.raises(WeatherDataError, match="below the plausible"):
        read_weather_csv(_csv(bad))


# --- Open-Meteo --------------------------------------------------------------------------------------


def test_open_meteo_fixture_relabels_radiation_and_converts_units() -> None:
    weather = read_open_meteo_json(DATA / "open_meteo_shenyang_hourly.json")
    payload = json.loads((DATA / "open_meteo_shenyang_hourly.json").read_text(encoding="utf-8"))
    hourly = payload["hourly"]
    data = weather.data
    # radiation at "13:00" is the mean of 12:00-13:00: it is labelled 12:00 here
    i13 = hourly["time"].index("2026-07-15T13:00")
    assert data.loc["2026-07-15 12:00", "ghi_w_m2"] == hourly["shortwave_radiation"][i13]
    # instants stay on their own time
    i12 = hourly["time"].index("2026-07-15T12:00")
    assert data.loc["2026-07-15 12:00", "temp_air_c"] == hourly["temperature_2m"][i12]
    assert data.loc["2026-07-15 12:00", "wind_speed_m_s"] == pytest.approx(hourly["wind_speed_10m"][i12] / 3.6)
    assert data.loc["2026-07-15 12:00", "cloud_cover_frac"] == pytest.approx(hourly["cloud_cover"][i12] / 100)
    assert len(data) == 47  # the last hour's radiation (23:00-24:00 on the 16th) is not in the response
    assert data.index.tz is not None and data.index[0] == pd.Timestamp("2026-07-15 00:00", tz=SHANGHAI)
    assert weather.sampling == {
        "ghi_w_m2": "average",
        "dni_w_m2": "average",
        "dhi_w_m2": "average",
        "temp_air_c": "instant",
        "wind_speed_m_s": "instant",
        "cloud_cover_frac": "instant",
    }


def _minutely(**variables: list[float | None]) -> dict[str, object]:
    times = [t.strftime("%Y-%m-%dT%H:%M") for t in pd.date_range("2026-07-15 11:00", periods=4, freq="15min")]
    units = {"time": "iso8601", "shortwave_radiation": "W/m²", "temperature_2m": "°F", "cloud_cover": "%"}
    return {
        "timezone": SHANGHAI,
        "utc_offset_seconds": 28800,
        "minutely_15_units": units,
        "minutely_15": {"time": times, **variables},
    }


def test_open_meteo_15_minute_block_and_fahrenheit() -> None:
    weather = read_open_meteo_json(_minutely(shortwave_radiation=[600, 620, 640, 660], temperature_2m=[86] * 4))
    assert weather.step == pd.Timedelta(minutes=15)
    assert weather.data.loc["2026-07-15 11:00", "ghi_w_m2"] == 620  # mean of 11:00-11:15, reported at 11:15
    assert weather.data["temp_air_c"].iloc[0] == pytest.approx(30.0)


def test_open_meteo_unixtime_and_utc() -> None:
    stamps = pd.date_range("2026-07-15 04:00", periods=3, freq="h", tz="UTC")
    payload = {
        "timezone": "GMT",
        "hourly_units": {"time": "unixtime", "cloud_cover": "%"},
        "hourly": {"time": [int(t.timestamp()) for t in stamps], "cloud_cover": [10, 20, 30]},
    }
    weather = read_open_meteo_json(payload)
    assert weather.data.index[0] == pd.Timestamp("2026-07-15 12:00", tz=SHANGHAI)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (_minutely(shortwave_radiation=[600, None, 640, 660]), "ghi_w_m2 in open-meteo json has 1 missing/NaN"),
        ({"timezone": SHANGHAI, "hourly": {"time": ["2026-07-15T00:00"]}}, "none of"),
        ({"timezone": SHANGHAI, "daily": {}}, "no 'hourly' block"),
        (
            {
                "timezone": SHANGHAI,
                "hourly_units": {"cloud_cover": "okta"},
                "hourly": {"time": ["2026-07-15T00:00", "2026-07-15T01:00"], "cloud_cover": [1, 2]},
            },
            "hourly.cloud_cover is in 'okta'",
        ),
        (
            {
                "timezone": SHANGHAI,
                "hourly": {"time": ["2026-07-15T00:00", "2026-07-15T01:00"], "cloud_cover": [1, 2]},
            },
            "no unit for hourly.cloud_cover",
        ),
    ],
)
def test_open_meteo_errors(payload: dict[str, object], expected: str) -> None:
    with pytest.raises(WeatherDataError) as info:
        read_open_meteo_json(payload)
    assert expected in str(info.value)


def test_missing_value_error_names_the_time() -> None:
    with pytest.raises(WeatherDataError, match=r"first at 2026-07-15 11:15:00\+08:00"):
        read_open_meteo_json(_minutely(shortwave_radiation=[600, 620, None, 660]))


def test_frame_builder_rejects_naive_and_unknown_columns() -> None:
    naive = pd.DataFrame({"ghi_w_m2": [1.0, 2.0]}, index=pd.date_range("2026-07-15", periods=2, freq="h"))
    with pytest.raises(WeatherDataError, match="tz-aware"):
        weather_from_frame(naive)
    odd = pd.DataFrame({"ghi": [1.0, 2.0]}, index=pd.date_range("2026-07-15", periods=2, freq="h", tz=SHANGHAI))
    with pytest.raises(WeatherDataError, match="unknown weather column"):
        weather_from_frame(odd)


def test_csv_offsets_across_a_dst_change_are_one_regular_series() -> None:
    text = "time,ghi_w_m2\n2026-03-29T01:00+01:00,0\n2026-03-29T03:00+02:00,0\n2026-03-29T04:00+02:00,10\n"
    weather = read_weather_csv(_csv(text), tz="Europe/Berlin")
    assert weather.step == pd.Timedelta(hours=1)  # 01:00+01:00 -> 03:00+02:00 is one hour
    assert str(weather.data.index.tz) == "Europe/Berlin"
