"""PV forecasts: hand-checkable physics (night, solar noon, clear-sky bound), every mounting type, every reader."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
from pydantic import ValidationError

from forecasting import (
    BifacialSpec,
    FixedMount,
    ForecastWarning,
    PvArraySpec,
    PvModelOptions,
    PvSiteSpec,
    SingleAxisTrackerMount,
    WeatherDataError,
    forecast_pv,
    read_open_meteo_json,
    read_weather_csv,
    shenyang_default_site,
    shenyang_typical_weather,
    weather_from_frame,
)
from forecasting.irradiance import solar_position
from forecasting.pv import surface_orientation

DATA = Path(__file__).parent / "data" / "forecasting"
SHANGHAI = "Asia/Shanghai"
JULY_DAY = pd.date_range("2026-07-15", periods=96, freq="15min", tz=SHANGHAI)


def _site(*arrays: PvArraySpec) -> PvSiteSpec:
    return PvSiteSpec(latitude_deg=41.73, longitude_deg=123.45, altitude_m=45.0, tz=SHANGHAI, arrays=list(arrays))


def _fixed(name: str = "south", tilt: float = 30.0, **kwargs: object) -> PvArraySpec:
    return PvArraySpec(name=name, dc_kwp=100.0, mount=FixedMount(tilt_deg=tilt, azimuth_deg=180.0), **kwargs)


TRACKER = PvArraySpec(name="tracker", dc_kwp=100.0, mount=SingleAxisTrackerMount())
BIFACIAL = PvArraySpec(
    name="bifacial", dc_kwp=100.0, mount=SingleAxisTrackerMount(), bifacial=BifacialSpec(bifaciality_frac=0.8)
)
ALL_MOUNTS = [_fixed(), _fixed("flat", tilt=0.0), TRACKER, BIFACIAL]


def _clear(site: PvSiteSpec, index: pd.DatetimeIndex = JULY_DAY) -> pd.DataFrame:
    with pytest.warns(ForecastWarning, match="CLEAR-SKY"):
        return forecast_pv(site, None, index)


def _cloudy(cloud_cover: float, index: pd.DatetimeIndex = JULY_DAY) -> pd.DataFrame:
    hourly = pd.date_range(index[0].floor("h"), index[-1].ceil("h") + pd.Timedelta(hours=1), freq="h")
    frame = pd.DataFrame({"cloud_cover_frac": cloud_cover, "temp_air_c": 20.0, "wind_speed_m_s": 1.0}, index=hourly)
    return weather_from_frame(frame, label="instant")


# --- hand-checkable physics ----------------------------------------------------------------------------


@pytest.mark.parametrize("array", ALL_MOUNTS, ids=lambda a: a.name)
def test_night_is_zero(array: PvArraySpec) -> None:
    site = _site(array)
    result = _clear(site)
    position = site.location().get_solarposition(JULY_DAY)
    after = site.location().get_solarposition(JULY_DAY + pd.Timedelta(minutes=15))
    night = (position["apparent_elevation"] < -1.0).to_numpy() & (after["apparent_elevation"] < -1.0).to_numpy()
    assert night.sum() > 30
    assert (result.loc[night, "total_kw"] == 0.0).all()
    assert result["total_kw"].max() > 50.0


@pytest.mark.parametrize("step_minutes", [15, 60])
def test_south_facing_array_peaks_within_one_step_of_solar_noon(step_minutes: int) -> None:
    site = _site(_fixed())
    index = pd.date_range("2026-07-15", periods=24 * 60 // step_minutes, freq=f"{step_minutes}min", tz=SHANGHAI)
    result = _clear(site, index)
    transit = site.location().get_sun_rise_set_transit(index[:1], method="spa")["transit"].iloc[0]
    peak_mid = result["total_kw"].idxmax() + pd.Timedelta(minutes=step_minutes) / 2
    assert abs(peak_mid - transit) <= pd.Timedelta(minutes=step_minutes)
    # Shenyang, 15 July: solar noon about 11:52 Beijing time (123.45 E, equation of time -6 min)
    assert transit.strftime("%H:%M") in {"11:51", "11:52", "11:53"}


def test_tracker_is_symmetric_about_solar_noon_and_flat_at_noon() -> None:
    site = _site(TRACKER)
    position = solar_position(site.location(), JULY_DAY)
    orientation = surface_orientation(TRACKER, position)
    noon = orientation.loc["2026-07-15 11:45", "surface_tilt"]
    assert noon < 10.0  # nearly flat when the sun is high in the south
    assert orientation["surface_tilt"].max() == pytest.approx(60.0)  # max angle


def test_backtracking_lies_flatter_at_low_sun() -> None:
    site = _site(TRACKER)
    position = solar_position(site.location(), JULY_DAY)
    no_backtrack = TRACKER.model_copy(update={"mount": SingleAxisTrackerMount(backtrack=False, gcr=0.5)})
    backtrack = TRACKER.model_copy(update={"mount": SingleAxisTrackerMount(backtrack=True, gcr=0.5)})
    at = "2026-07-15 05:00"
    assert surface_orientation(backtrack, position).loc[at, "surface_tilt"] < 30.0
    assert surface_orientation(no_backtrack, position).loc[at, "surface_tilt"] == pytest.approx(60.0)


@pytest.mark.parametrize("cloud_cover", [0.0, 0.1, 0.25, 0.5, 0.75, 1.0])
def test_clear_sky_is_an_upper_bound_per_step_for_a_horizontal_array(cloud_cover: float) -> None:
    site = _site(_fixed("flat", tilt=0.0))
    clear = _clear(site)["total_kw"]
    cloudy = forecast_pv(site, _cloudy(cloud_cover), JULY_DAY)["total_kw"]
    assert (cloudy <= clear + 1e-9).all()
    if cloud_cover == 0.0:
        np.testing.assert_allclose(cloudy, clear, atol=1e-9)  # no cloud is the clear sky
    else:
        assert cloudy.sum() < clear.sum()


@pytest.mark.parametrize("cloud_cover", [0.0, 0.5, 1.0])
def test_clear_sky_bounds_the_daily_energy_of_every_mount(cloud_cover: float) -> None:
    """Per step a panel facing away from a low sun can see more under a brighter diffuse sky; per day it cannot."""
    site = _site(*ALL_MOUNTS)
    clear = _clear(site).sum()
    cloudy = forecast_pv(site, _cloudy(cloud_cover), JULY_DAY).sum()
    assert (cloudy <= clear * (1 + 1e-9)).all()


def test_more_cloud_never_gives_more_energy() -> None:
    site = _site(*ALL_MOUNTS)
    energies = [forecast_pv(site, _cloudy(c), JULY_DAY)["total_kw"].sum() for c in (0.0, 0.3, 0.6, 1.0)]
    assert energies == sorted(energies, reverse=True)


def test_clear_sky_fallback_is_flagged_in_the_result() -> None:
    with pytest.warns(ForecastWarning, match="CLEAR-SKY forecast"):
        result = forecast_pv(_site(_fixed()), None, JULY_DAY)
    assert any("CLEAR-SKY" in note for note in result.attrs["warnings"])
    assert result.attrs["irradiance_source"].startswith("clear sky")


def test_mount_types_are_ordered_on_a_clear_summer_day() -> None:
    result = _clear(_site(_fixed(), TRACKER, BIFACIAL)).sum() / 4  # kWh per 100 kWp
    assert result["tracker_kw"] > 1.1 * result["south_kw"]
    assert result["bifacial_kw"] > result["tracker_kw"]
    assert result["bifacial_kw"] < 1.15 * result["tracker_kw"]  # rear gain of a few percent on grass albedo


def test_columns_per_array_sum_to_total() -> None:
    result = _clear(_site(*ALL_MOUNTS))
    assert list(result.columns) == ["south_kw", "flat_kw", "tracker_kw", "bifacial_kw", "total_kw"]
    np.testing.assert_allclose(result.drop(columns="total_kw").sum(axis=1), result["total_kw"])
    assert result.index.equals(JULY_DAY)


def test_inverter_clips_at_its_ac_limit() -> None:
    big = _fixed(inverter_ac_kw=60.0)
    result = _clear(_site(big))["total_kw"]
    assert result.max() == pytest.approx(60.0)
    assert (result >= 60.0 - 1e-9).sum() >= 8  # a flat top of at least two hours


def test_output_scales_with_size_below_clipping() -> None:
    small = _clear(_site(_fixed()))["total_kw"]
    double = _clear(_site(_fixed().model_copy(update={"dc_kwp": 200.0, "inverter_ac_kw": 200.0})))["total_kw"]
    np.testing.assert_allclose(double, 2 * small, rtol=1e-9, atol=1e-9)


def test_hot_modules_give_less_and_the_coefficient_decides_how_much() -> None:
    def run(temp_air_c: float, coefficient: float) -> float:
        hourly = pd.date_range("2026-07-15", periods=26, freq="h", tz=SHANGHAI)
        frame = pd.DataFrame({"cloud_cover_frac": 0.0, "temp_air_c": temp_air_c, "wind_speed_m_s": 1.0}, index=hourly)
        array = _fixed(temp_coeff_pct_per_c=coefficient)
        return forecast_pv(_site(array), weather_from_frame(frame, label="instant"), JULY_DAY)["total_kw"].sum()

    assert run(0.0, -0.30) > run(40.0, -0.30)
    assert run(0.0, -0.45) - run(40.0, -0.45) > run(0.0, -0.30) - run(40.0, -0.30)
    assert run(0.0, 0.0) == pytest.approx(run(40.0, 0.0))


# --- every reader feeds the model -------------------------------------------------------------------


def test_typical_year_default_site_day() -> None:
    weather = shenyang_typical_weather(JULY_DAY)
    result = forecast_pv(shenyang_default_site(), weather, JULY_DAY)
    assert result.attrs["warnings"] == ()
    assert "DNI from the other two" in result.attrs["irradiance_source"]
    kwh_per_kwp = result["total_kw"].sum() / 4 / 1500.0
    assert 2.0 < kwh_per_kwp < 8.0
    assert result["pv_roof_kw"].max() <= 1300.0 + 1e-9


def test_csv_ghi_only_is_decomposed() -> None:
    weather = read_weather_csv(DATA / "shenyang_ghi_hourly.csv")
    site = _site(_fixed(), TRACKER)
    erbs = forecast_pv(site, weather, JULY_DAY)
    assert "decomposed" in erbs.attrs["irradiance_source"] and "erbs" in erbs.attrs["irradiance_source"]
    dirint = forecast_pv(site, weather, JULY_DAY, options=PvModelOptions(decomposition="dirint"))
    assert "dirint" in dirint.attrs["irradiance_source"]
    assert dirint["total_kw"].sum() == pytest.approx(erbs["total_kw"].sum(), rel=0.15)
    assert erbs["total_kw"].sum() < _clear(site)["total_kw"].sum()


def test_open_meteo_forecast_with_three_components() -> None:
    weather = read_open_meteo_json(DATA / "open_meteo_shenyang_hourly.json")
    site = _site(_fixed())
    day1 = forecast_pv(site, weather, JULY_DAY)
    day2 = forecast_pv(site, weather, JULY_DAY[:92] + pd.Timedelta(days=1))  # the response ends at 23:00 on the 16th
    assert day1.attrs["irradiance_source"].startswith("measured/forecast GHI, DNI and DHI")
    assert day2["total_kw"].sum() < day1["total_kw"].sum()  # day 2 is cloudier


def test_open_meteo_cloud_cover_only() -> None:
    weather = read_open_meteo_json(DATA / "open_meteo_shenyang_hourly.json").drop("ghi_w_m2", "dni_w_m2", "dhi_w_m2")
    result = forecast_pv(_site(_fixed()), weather, JULY_DAY)
    assert result.attrs["irradiance_source"].startswith("cloud cover")
    assert result.attrs["warnings"] == ()


def test_optimizer_horizon_objects_and_dst_days_are_accepted() -> None:
    from optimizer import Horizon

    horizon = Horizon.day("2026-07-15", SHANGHAI)
    assert _clear(_site(_fixed()), horizon.index).index.equals(horizon.index)
    with pytest.warns(ForecastWarning):
        result = forecast_pv(_site(_fixed()), None, horizon)
    assert len(result) == 96
    berlin = PvSiteSpec(latitude_deg=52.5, longitude_deg=13.4, tz="Europe/Berlin", arrays=[_fixed()])
    spring = Horizon.day("2026-03-29", "Europe/Berlin")
    with pytest.warns(ForecastWarning):
        dst = forecast_pv(berlin, None, spring)
    assert len(dst) == 92 and dst["total_kw"].max() > 0


# --- errors -------------------------------------------------------------------------------------------


def test_weather_that_ends_too_early_names_column_and_time() -> None:
    weather = read_weather_csv(DATA / "shenyang_ghi_hourly.csv")
    with pytest.raises(WeatherDataError) as info:
        forecast_pv(_site(_fixed()), weather, JULY_DAY + pd.Timedelta(hours=6))
    message = str(info.value)
    assert "ghi_w_m2" in message and "first uncovered interval starts 2026-07-16 01:00:00+08:00" in message


def test_weather_in_the_wrong_time_zone_is_caught() -> None:
    weather = read_weather_csv(DATA / "shenyang_ghi_hourly.csv")
    frame = weather.data.copy()
    frame.index = frame.index.tz_localize(None).tz_localize("UTC")  # local clock times mislabelled as UTC
    with pytest.raises(WeatherDataError, match="sun is below the horizon then: check the time zone"):
        forecast_pv(_site(_fixed()), weather_from_frame(frame), JULY_DAY)


def test_irradiance_as_wh_per_longer_interval_is_caught() -> None:
    hourly = pd.date_range("2026-07-15", periods=26, freq="h", tz=SHANGHAI)
    clear = pvlib.location.Location(41.73, 123.45, SHANGHAI).get_clearsky(hourly + pd.Timedelta(minutes=30))
    frame = pd.DataFrame({"ghi_w_m2": (clear["ghi"] * 1.4 + 450).clip(upper=1499.0).to_numpy()}, index=hourly)
    frame.loc[clear["ghi"].to_numpy() == 0, "ghi_w_m2"] = 0.0
    with pytest.raises(WeatherDataError, match=r"ghi_w_m2 = \d+ W/m2 at 2026-07-15 .* exceeds the clear-sky bound"):
        forecast_pv(_site(_fixed()), weather_from_frame(frame), JULY_DAY)


def test_specs_reject_bad_numbers_and_names() -> None:
    with pytest.raises(ValidationError, match="dc_kwp"):
        PvArraySpec(name="a", dc_kwp=math.nan, mount=FixedMount(tilt_deg=30))
    with pytest.raises(ValidationError, match="tilt_deg"):
        FixedMount(tilt_deg=120)
    with pytest.raises(ValidationError, match="unknown time zone"):
        PvSiteSpec(latitude_deg=41.7, longitude_deg=123.4, tz="Beijing", arrays=[_fixed()])
    with pytest.raises(ValidationError, match="repeated"):
        _site(_fixed(), _fixed())
    with pytest.raises(ValidationError, match=r"bifacial\.gcr"):
        PvArraySpec(name="b", dc_kwp=1, mount=FixedMount(tilt_deg=20), bifacial=BifacialSpec())
    with pytest.raises(ValidationError, match="extra"):
        PvArraySpec(name="c", dc_kwp=1, mount=FixedMount(tilt_deg=20), kwp=3)
