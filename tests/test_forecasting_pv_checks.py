"""Checks of a PV plant's history: each on data that has the problem and on data that does not.

Synthetic series (pvlib clear sky with injected clouds, shifts, outages, set-points, snow and soiling) for the
detection, and an excerpt of the real State Grid plant (March-April 2019, ``tests/data/forecasting``) where the
check is about real data (its tilted ``tsi`` column and its unusable ``ghi`` column).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from forecasting import FixedMount, PvArraySpec, PvModelOptions, PvSiteSpec, forecast_pv, weather_from_frame
from forecasting.calibrate import clear_sky_poa
from forecasting.pv_checks import (
    check_clock_alignment,
    check_irradiance_column,
    check_outages_and_curtailment,
    check_snow,
    check_soiling,
    check_timestamp_convention,
    shift_series,
    trailing_clock_shift,
)
from forecasting.pv_correction import apply_output_cap, fit_correction, identity_correction, output_caps_by_day
from forecasting.pv_fit import fit_pv_plant

DATA = Path(__file__).parent / "data" / "forecasting"
SHANGHAI = "Asia/Shanghai"
SITE = pvlib.location.Location(38.0, 100.0, SHANGHAI, 1000.0)  # a western site on Beijing time
STATE_GRID = pvlib.location.Location(41.25, 94.66, SHANGHAI, 870.0)  # estimated in docs/forecasting.md
CAPACITY = 1000.0
DAYS = pd.date_range("2026-03-01", periods=60, freq="15min", tz=SHANGHAI)


def _index(days: int = 60, start: str = "2026-03-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=days * 96, freq="15min", tz=SHANGHAI)


def _cloudy_power(index: pd.DatetimeIndex, seed: int = 1) -> pd.Series:
    """Clear-sky POA (25 deg, south) x a cloud index that changes by day and within the day [kW of 1 MW]."""
    rng = np.random.default_rng(seed)
    clear = clear_sky_poa(SITE, index, tilt_deg=25.0, azimuth_deg=180.0)
    days = index.normalize()
    level = pd.Series(rng.uniform(0.35, 1.0, len(days.unique())), index=days.unique()).reindex(days).to_numpy()
    hours = (index - days) / pd.Timedelta(hours=1)
    wobble = 1.0 + 0.25 * np.sin(hours.to_numpy() * rng.uniform(0.8, 2.5) + rng.uniform(0, 6))
    return pd.Series(np.clip(clear.to_numpy() * level * wobble, 0, None), index=index)


# --- shift_series ---------------------------------------------------------------------------------------------


def test_shift_keeps_energy_and_moves_by_fractions_of_a_step() -> None:
    index = _index(3)
    power = _cloudy_power(index)
    moved = shift_series(power, pd.Timedelta(minutes=5))
    assert moved.sum() == pytest.approx(power.sum(), rel=1e-9)
    back = shift_series(moved, pd.Timedelta(minutes=-5))
    inner = slice(10, -10)
    assert np.abs(back.iloc[inner] - power.iloc[inner]).max() < 0.06 * power.max()  # linear interpolation blurs


# --- irradiance column ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def state_grid() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "state_grid_site1_2019_03_04.csv", parse_dates=["time"], index_col="time")
    frame.index = pd.DatetimeIndex(frame.index).tz_localize(SHANGHAI)
    return frame


def test_real_tilted_sensor_is_found_tilted(state_grid: pd.DataFrame) -> None:
    result = check_irradiance_column(state_grid["tsi_w_m2"].clip(lower=0), STATE_GRID, "tsi_w_m2", n_clear_days=15)
    assert result.found and result.details["verdict"] == "tilted"
    assert 20.0 < float(result.details["tilt_deg"]) < 45.0  # 32-37 deg from a whole year  # type: ignore[arg-type]


def test_real_logger_ghi_is_unusable(state_grid: pd.DataFrame) -> None:
    result = check_irradiance_column(state_grid["ghi_w_m2"].clip(lower=0), STATE_GRID, "ghi_w_m2", n_clear_days=15)
    assert result.found and result.details["verdict"] == "low"
    assert "not used" in result.action


def test_horizontal_ghi_passes_and_wrong_unit_or_constant_is_found() -> None:
    index = _index(40)
    ghi = clear_sky_poa(SITE, index, tilt_deg=0.0, azimuth_deg=180.0) * 0.95
    ok = check_irradiance_column(ghi, SITE, n_clear_days=15)
    assert not ok.found and ok.details["verdict"] == "ok"
    kilowatts = check_irradiance_column(ghi / 1000.0, SITE, n_clear_days=15)
    assert kilowatts.found and kilowatts.details["verdict"] == "unit" and kilowatts.details["factor"] == 1e-3
    constant = check_irradiance_column(pd.Series(400.0, index=index), SITE)
    assert constant.found and constant.details["verdict"] == "constant"


# --- timing ---------------------------------------------------------------------------------------------------


def test_interval_end_labels_are_found_and_start_labels_pass() -> None:
    index = _index(20)
    power = clear_sky_poa(SITE, index, tilt_deg=25.0, azimuth_deg=180.0)
    days = list(index.normalize().unique())
    starts = check_timestamp_convention(power, SITE, clear_days=days, surface_tilt=25.0)
    assert not starts.found and starts.details["convention"] == "start"
    ends = power.copy()
    ends.index = ends.index + pd.Timedelta(minutes=15)  # the value of [t, t + 15 min) labelled t + 15 min
    found = check_timestamp_convention(ends, SITE, clear_days=days[1:], surface_tilt=25.0)
    assert found.found and found.details["convention"] == "end"
    assert found.value == pytest.approx(-15.0, abs=2.0)


def test_clock_offset_and_drift_between_meter_and_weather() -> None:
    index = _index(120)
    modelled = _cloudy_power(index)
    same, shift = check_clock_alignment(modelled * 0.97, modelled, CAPACITY)
    assert not same.found and (shift == pd.Timedelta(0)).all()
    late = shift_series(modelled, pd.Timedelta(minutes=10)).fillna(0.0)
    offset, shift = check_clock_alignment(late, modelled, CAPACITY)
    assert offset.found and offset.details["kind"] == "offset"
    assert offset.value == pytest.approx(10.0, abs=1.5)
    realigned = shift_series(modelled, shift).fillna(0.0)
    assert (realigned - late).abs().mean() < 0.2 * (modelled - late).abs().mean()
    drift_minutes = pd.Series(np.linspace(0.0, 20.0, len(index)), index=index)
    drifting = shift_series(modelled, pd.to_timedelta(drift_minutes, unit="min")).fillna(0.0)
    drift, _ = check_clock_alignment(drifting, modelled, CAPACITY)
    assert drift.found and drift.details["kind"] == "drift"
    assert float(drift.details["drift_min_per_year"]) == pytest.approx(20.0 * 365 / 120, rel=0.2)  # type: ignore[arg-type]
    trailing = trailing_clock_shift(drifting, modelled, CAPACITY, index)
    last_day = trailing[index.normalize() == index.normalize()[-1]].iloc[0] / pd.Timedelta(minutes=1)
    assert 15.0 < last_day < 20.0  # the 31 days before the last one: about 17.5 min late


# --- availability ---------------------------------------------------------------------------------------------


def test_outages_curtailment_and_an_export_limit_are_found() -> None:
    index = _index(60)
    modelled = _cloudy_power(index) * 0 + clear_sky_poa(SITE, index, 25.0, 180.0)  # clear days: the model is high
    clean = modelled * 0.97
    nothing = check_outages_and_curtailment(clean, modelled, CAPACITY)
    assert not any(r.found for r in nothing.results())
    measured = clean.copy()
    days = index.normalize().unique()
    measured[index.normalize() == days[5]] = 0.0  # a full outage
    on_day = index.normalize() == days[9]
    measured[on_day] = np.minimum(measured[on_day], 300.0)  # a set-point at 30 %
    for day in days[20:32]:  # an export limit at 80 % of capacity on twelve days
        sel = index.normalize() == day
        measured[sel] = np.minimum(measured[sel], 0.8 * modelled.max())
    found = check_outages_and_curtailment(measured, modelled, CAPACITY)
    assert found.outages.found and found.outages.days == (days[5],)
    assert found.curtailment.found and found.curtailment.days == (days[9],)
    assert found.export_limit.found and found.export_limit.value == pytest.approx(0.8 * modelled.max(), rel=0.02)
    assert len(found.export_limit.days) == 12
    assert found.day_max_kw[days[9]] == pytest.approx(300.0)
    caps = output_caps_by_day(found.day_max_kw, index, lag_days=1)
    assert caps[index.normalize() == days[10]].iloc[0] == pytest.approx(300.0)
    assert caps[index.normalize() == days[11]].isna().all()


# --- snow and soiling -----------------------------------------------------------------------------------------


def _daily(values: np.ndarray, start: str) -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D", tz=SHANGHAI))


def test_snow_after_a_freezing_dark_day_is_found_and_summer_curtailment_is_not() -> None:
    rng = np.random.default_rng(3)
    ratio = _daily(1.0 + rng.normal(0, 0.03, 60), "2026-01-01")
    temp = _daily(np.full(60, -8.0), "2026-01-01")
    sky = _daily(np.full(60, 0.9), "2026-01-01")
    assert not check_snow(ratio, temp, sky).found
    sky.iloc[20] = 0.2  # snowfall: freezing and dark
    ratio.iloc[21:24] = [0.1, 0.3, 0.6]  # covered modules, then sliding clear
    found = check_snow(ratio, temp, sky)
    assert found.found and [d.day for d in found.days] == [22, 23, 24]
    warm = check_snow(ratio, temp + 25.0, sky)
    assert not warm.found


def test_soiling_decline_and_recovery_is_found_and_noise_is_not() -> None:
    rng = np.random.default_rng(4)
    noise = rng.normal(0, 0.01, 120)
    assert not check_soiling(_daily(1.0 + noise, "2026-04-01")).found
    loss = np.r_[np.zeros(20), np.linspace(0.0, 0.12, 40), np.zeros(60)]  # 0.3 %/day, washed off by rain
    found = check_soiling(_daily(1.0 - loss + noise, "2026-04-01"))
    assert found.found
    episode = found.details["episodes"][0]  # type: ignore[index]
    assert 0.06 < episode["loss_frac"] < 0.16
    assert found.days and pd.Timestamp("2026-04-10", tz=SHANGHAI) < found.days[0]  # losing > 3 %
    assert found.days[-1] <= pd.Timestamp("2026-05-31", tz=SHANGHAI)  # none after the rain


# --- correction and fit ---------------------------------------------------------------------------------------


def test_correction_and_output_cap_through_forecast_pv() -> None:
    site = PvSiteSpec(
        latitude_deg=38.0,
        longitude_deg=100.0,
        arrays=[PvArraySpec(name="a", dc_kwp=1000.0, mount=FixedMount(tilt_deg=25.0))],
    )
    index = _index(2)
    weather = weather_from_frame(
        pd.DataFrame({"ghi_w_m2": clear_sky_poa(SITE, index, 0.0, 180.0) * 0.9, "temp_air_c": 10.0}, index=index),
        label={"ghi_w_m2": "start", "temp_air_c": "instant"},
    )
    plain = forecast_pv(site, weather, index)
    half = fit_correction(plain["total_kw"] * 0.5, plain["total_kw"])
    assert np.allclose(np.asarray(half.factors)[2][8:17], 0.5)
    corrected = forecast_pv(site, weather, index, options=PvModelOptions(correction=half))
    lit = plain["total_kw"] > 50.0
    assert np.allclose(corrected["total_kw"][lit], 0.5 * plain["total_kw"][lit])
    assert forecast_pv(site, weather, index, options=PvModelOptions(correction=identity_correction())).equals(plain)
    capped = forecast_pv(site, weather, index, options=PvModelOptions(output_cap_kw=200.0))
    assert capped["total_kw"].max() == pytest.approx(200.0)
    assert apply_output_cap(plain, None) is plain


def test_fit_reports_what_it_found_on_a_plant_with_problems() -> None:
    """A synthetic plant whose meter labels interval ends and that had an outage: the fit says so and fits."""
    site = PvSiteSpec(
        latitude_deg=38.0,
        longitude_deg=100.0,
        altitude_m=1000.0,
        arrays=[PvArraySpec(name="a", dc_kwp=CAPACITY, mount=FixedMount(tilt_deg=25.0))],
    )
    index = _index(45)
    ghi = clear_sky_poa(SITE, index, 0.0, 180.0)
    sky = _cloudy_power(index, seed=7) / clear_sky_poa(SITE, index, 25.0, 180.0).where(lambda s: s > 0)
    ghi = (ghi * sky.fillna(1.0).clip(0.3, 1.0)).where(ghi > 0, 0.0)
    weather = weather_from_frame(
        pd.DataFrame({"ghi_w_m2": ghi, "temp_air_c": 12.0}, index=index),
        label={"ghi_w_m2": "start", "temp_air_c": "instant"},
    )
    truth = forecast_pv(site, weather, index)["total_kw"] * 0.9
    truth[index.normalize() == index.normalize().unique()[12]] = 0.0
    metered = truth.copy()
    metered.index = metered.index + pd.Timedelta(minutes=15)  # the meter labels interval ends
    metered = metered.reindex(index).fillna(0.0)
    fit = fit_pv_plant(site, metered, weather, smoothing_candidates=(1,))
    summary = fit.summary
    assert summary.check("timestamp_convention").found
    assert summary.check("timestamp_convention").details["convention"] == "end"
    assert summary.check("outages").days == (index.normalize().unique()[12],)
    assert not summary.check("irradiance_column").found
    assert summary.excluded_days == (index.normalize().unique()[12],)
    assert np.mean(list(summary.correction.monthly().values())[2:4]) == pytest.approx(0.9, abs=0.05)
    assert any("outages [FOUND]" in line for line in summary.lines())
    assert summary.to_dict()["checks"][1]["name"] == "timestamp_convention"
