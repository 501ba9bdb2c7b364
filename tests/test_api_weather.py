"""Dispatch with weather instead of a PV series: the site's pv_arrays are forecast by pvlib."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.errors import ProblemError
from scenarios.ems import DispatchRequest, request_problem
from scenarios.site import Site
from tests.api_fixtures import HEADERS, api_client, create_site, small_site

WEATHER = json.loads((Path(__file__).parent / "data" / "forecasting" / "open_meteo_shenyang_hourly.json").read_text())
ARRAY = {"name": "pv", "dc_kwp": 500.0, "mount": {"kind": "fixed", "tilt_deg": 30.0, "azimuth_deg": 180.0}}


def site_with_array() -> dict:
    site = small_site(pv_kw=0.0)
    site["pv_arrays"] = [ARRAY]
    return site


def test_weather_drives_the_pv_available_power() -> None:
    site = Site.model_validate(site_with_array())
    problem = request_problem(site, DispatchRequest.model_validate({"date": "2026-07-15", "weather": WEATHER}))
    available = next(a for a in problem.assets if a.name == "pv").available_kw
    assert isinstance(available, list) and len(available) == 96
    # Night zeros, and a July noon output of a 500 kWp south array between 30 % and 100 % of its rating.
    assert available[:16] == [0.0] * 16 and available[-8:] == [0.0] * 8
    assert 150.0 < max(available) <= 500.0
    # A series in the request wins over the weather.
    explicit = DispatchRequest.model_validate(
        {"date": "2026-07-15", "weather": WEATHER, "series": {"pv.available_kw": [1.0] * 96}}
    )
    assert next(a for a in request_problem(site, explicit).assets if a.name == "pv").available_kw == [1.0] * 96


def test_weather_needs_an_array_named_after_a_pv_asset() -> None:
    site = site_with_array()
    site["pv_arrays"] = [{**ARRAY, "name": "roof"}]  # a valid site (a scenario's weather input may add it up)
    request = DispatchRequest.model_validate({"date": "2026-07-15", "weather": WEATHER})
    with pytest.raises(ProblemError) as raised:
        request_problem(Site.model_validate(site), request)
    [issue] = raised.value.issues
    assert (issue.field, issue.code) == ("body.weather", "no_pv_array")
    assert "named after the 'pv' assets" in issue.message


def test_dispatch_with_weather_over_http(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        site_id = create_site(client, site_with_array())
        response = client.post(
            f"/v1/sites/{site_id}/dispatch", json={"date": "2026-07-15", "weather": WEATHER}, headers=HEADERS
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "optimal"
        assert body["kpis"]["pv_available_kwh"] > 1000.0
        bad = {
            **WEATHER,
            "hourly": {**WEATHER["hourly"], "shortwave_radiation": WEATHER["hourly"]["shortwave_radiation"][:-5]},
        }
        response = client.post(
            f"/v1/sites/{site_id}/dispatch", json={"date": "2026-07-15", "weather": bad}, headers=HEADERS
        )
        assert response.status_code == 422, response.text
