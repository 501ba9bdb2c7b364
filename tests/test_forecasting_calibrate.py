"""Learning a plant from data: a synthetic clear-sky plant's location and orientation are recovered."""

from __future__ import annotations

import pandas as pd
import pvlib
import pytest

from forecasting.calibrate import clear_sky_poa, estimate_location, fit_orientation, select_clear_days

SHANGHAI = "Asia/Shanghai"
TRUE = pvlib.location.Location(38.0, 100.0, SHANGHAI, 1000.0)  # a western site on Beijing time


YEAR = pd.date_range("2026-01-01", "2027-01-01", freq="15min", tz=SHANGHAI, inclusive="left")


@pytest.fixture(scope="module")
def year_of_poa() -> pd.Series:
    return clear_sky_poa(TRUE, YEAR, tilt_deg=25.0, azimuth_deg=170.0)


def test_location_from_first_and_last_light_of_a_horizontal_sensor() -> None:
    ghi = clear_sky_poa(TRUE, YEAR, tilt_deg=0.0, azimuth_deg=180.0)
    estimate = estimate_location(ghi, threshold=5.0, winter_half_only=False)
    assert estimate.latitude_deg == pytest.approx(38.0, abs=0.75)
    assert estimate.longitude_deg == pytest.approx(100.0, abs=0.5)  # 0.5 deg = 2 min of clock
    assert estimate.n_days == 365


def test_a_tilted_sensor_gives_the_longitude_and_a_low_latitude(year_of_poa: pd.Series) -> None:
    """A south-tilted plane is lit late in summer mornings: its days look short, its latitude low."""
    estimate = estimate_location(year_of_poa, threshold=1.0)
    assert estimate.longitude_deg == pytest.approx(100.0, abs=0.5)
    assert 34.0 < estimate.latitude_deg < 38.5
    assert 170 <= estimate.n_days <= 190  # the winter half-year


def test_orientation_from_clear_days(year_of_poa: pd.Series) -> None:
    days = select_clear_days(year_of_poa, n_days=24)
    days = [d for d in days if d.day % 15 == 1][:12] or days[:12]
    fit = fit_orientation(year_of_poa, TRUE, days)
    assert fit.tilt_deg == pytest.approx(25.0, abs=1.0)
    assert fit.azimuth_deg == pytest.approx(170.0, abs=1.5)
    assert fit.scale == pytest.approx(1.0, abs=0.02)
    assert fit.nrmse_frac < 0.02
