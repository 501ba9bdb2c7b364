"""The EMS's service: a dispatch with only a date (or only 'from') plans from the service's own data, says where each
input came from, re-plans intraday as new versions, and refuses what it cannot fill, listing everything missing."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.models import ScheduleRecord
from api.weather import fetch_all, next_fetch
from scenarios.site import Site
from tests.api_fixtures import HEADERS, create_site, make_settings, small_site

TZ = "Asia/Shanghai"
DAY = "2026-07-15"
WEATHER = json.loads((Path(__file__).parent / "data" / "forecasting" / "open_meteo_shenyang_hourly.json").read_text())
ARRAY = {"name": "pv", "dc_kwp": 500.0, "mount": {"kind": "fixed", "tilt_deg": 30.0, "azimuth_deg": 180.0}}


def service_site() -> dict[str, Any]:
    """The small site with its load and PV as inputs the service must forecast."""
    site = small_site()
    for asset in site["assets"]:
        if asset["kind"] == "load":
            asset["power_kw"] = "$inputs.load"
        if asset["kind"] == "pv":
            asset["available_kw"] = "$inputs.pv"
    site["pv_arrays"] = [ARRAY]
    return site


@pytest.fixture
def client(tmp_path: Path):
    with TestClient(create_app(make_settings(tmp_path))) as test_client:
        yield test_client


def _post_readings(client: TestClient, site_id: int, rows: list[dict[str, Any]], kinds: dict | None = None) -> None:
    body = {"readings": rows, "series": {k: {"kind": v} for k, v in (kinds or {}).items()}}
    response = client.post(f"/v1/sites/{site_id}/readings", json=body, headers=HEADERS)
    assert response.status_code == 200, response.text


def _load_history(days: int = 28, end: str = DAY) -> pd.Series:
    """A load that is 200 kW at night and 400 kW from 08:00 to 18:00 every day."""
    index = pd.date_range(
        pd.Timestamp(end, tz=TZ) - pd.Timedelta(days=days), pd.Timestamp(end, tz=TZ), freq="15min", inclusive="left"
    )
    return pd.Series(np.where((index.hour >= 8) & (index.hour < 18), 400.0, 200.0), index=index)


def _rows(name: str, series: pd.Series) -> list[dict[str, Any]]:
    return [{"series": name, "time": t.isoformat(), "value": float(v)} for t, v in series.items()]


def _dispatch(client: TestClient, site_id: int, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/v1/sites/{site_id}/dispatch", json=body, headers=HEADERS)
    assert response.status_code == 201, response.text
    return response.json()


def test_date_only_plans_from_readings_weather_and_says_so(client: TestClient) -> None:
    site_id = create_site(client, service_site())
    _post_readings(client, site_id, _rows("load", _load_history()))
    soc_time = pd.Timestamp(DAY, tz=TZ) - pd.Timedelta(minutes=5)
    _post_readings(client, site_id, [{"series": "battery.soc_frac", "time": soc_time.isoformat(), "value": 0.8}])
    peak = [
        {"series": "grid.import_kw", "time": f"2026-07-0{d}T10:00:00+08:00", "value": v}
        for d, v in ((1, 300.0), (2, 650.0))
    ]
    _post_readings(client, site_id, peak)
    weather = client.post(
        f"/v1/sites/{site_id}/weather", json=WEATHER, headers=HEADERS, params={"issued_at": "2026-07-14T12:00:00+08:00"}
    )
    assert weather.status_code == 201, weather.text
    plan = _dispatch(client, site_id, {"date": DAY})
    sources = plan["sources"]
    assert sources["inputs.load"]["origin"] == "forecast:load-model"
    assert sources["inputs.pv"]["origin"] == "forecast:pvlib"
    assert sources["inputs.pv"]["as_of"].startswith("2026-07-14T04:00:00")  # the issue time, in UTC
    soc = sources["initial_state.battery.initial_soc_frac"]
    assert soc["origin"] == "reading" and pd.Timestamp(soc["as_of"]) == soc_time
    assert sources["initial_state.grid.month_to_date_peak_kw"]["origin"] == "reading"
    assert plan["plan_kind"] == "day-ahead"
    rows = plan["schedule"]
    # the load model on a load that is the same every day forecasts that day: 400 kW from 08:00 to 18:00
    assert [r["load.power_kw"] for r in rows[:32]] == [200.0] * 32
    assert [r["load.power_kw"] for r in rows[32:72]] == [400.0] * 40
    # the battery starts at the measured 80 % of 400 kWh
    first = rows[0]
    soc_end_first = first["battery.soc_kwh"]
    charge = first["battery.charge_kw"] * 0.25 * 0.95
    assert soc_end_first == pytest.approx(320.0 + charge - first["battery.discharge_kw"] * 0.25 / 0.95, abs=1e-3)
    with client.app.state.sessions() as session:  # the stored problem: the month's peak from the readings
        problem = session.get(ScheduleRecord, plan["schedule_id"]).problem
    grid = next(a for a in problem["assets"] if a["name"] == "grid")
    assert grid["month_to_date_peak_kw"] == 650.0


def test_missing_inputs_are_all_listed(client: TestClient) -> None:
    site = service_site()
    site["pv_arrays"] = []  # no array: PV can be neither forecast by pvlib nor found
    site_id = create_site(client, site)
    response = client.post(f"/v1/sites/{site_id}/dispatch", json={"date": DAY}, headers=HEADERS)
    assert response.status_code == 422
    fields = sorted(d["field"] for d in response.json()["errors"])
    assert fields == ["body.inputs.load", "body.inputs.pv"]
    assert all("no readings" in d["msg"] for d in response.json()["errors"])


def test_clear_sky_without_weather_and_the_request_still_wins(client: TestClient) -> None:
    site_id = create_site(client, service_site())
    plan = _dispatch(client, site_id, {"date": DAY, "inputs": {"load": [250.0] * 96}})
    assert plan["sources"]["inputs.pv"]["origin"] == "forecast:pvlib-clear-sky"
    assert plan["sources"]["inputs.load"]["origin"] == "request"
    assert plan["sources"]["initial_state.battery.initial_soc_frac"]["origin"] == "site"
    pv = [r["pv.available_kw"] for r in plan["schedule"]]
    assert pv[:16] == [0.0] * 16 and 300.0 < max(pv) <= 500.0  # clear July noon on a 500 kWp array


def test_stale_state_is_not_used_and_can_be_required(client: TestClient, tmp_path: Path) -> None:
    site_id = create_site(client, service_site())
    stale = (pd.Timestamp(DAY, tz=TZ) - pd.Timedelta(hours=3)).isoformat()
    _post_readings(client, site_id, [{"series": "battery.soc_frac", "time": stale, "value": 0.9}])
    plan = _dispatch(client, site_id, {"date": DAY, "inputs": {"load": [250.0] * 96}})
    assert plan["sources"]["initial_state.battery.initial_soc_frac"]["origin"] == "site"
    with TestClient(create_app(make_settings(tmp_path, require_measured_state=True))) as strict:
        response = strict.post(
            f"/v1/sites/{site_id}/dispatch", json={"date": DAY, "inputs": {"load": [250.0] * 96}}, headers=HEADERS
        )
    assert response.status_code == 422
    assert "site.assets.battery.initial_soc_frac" in [d["field"] for d in response.json()["errors"]]


def test_intraday_replan_supersedes_from_its_start_and_starts_where_the_plan_said(client: TestClient) -> None:
    site_id = create_site(client, service_site())
    load = {"load": [250.0] * 96}
    day_ahead = _dispatch(client, site_id, {"date": DAY, "inputs": load})
    # 10:07: the 10:00 quarter-hour runs as planned; the re-plan starts at 10:15 and runs to midnight (55 steps)
    replan = _dispatch(client, site_id, {"from": "2026-07-15T10:07:00+08:00", "inputs": {"load": [300.0] * 55}})
    assert replan["plan_kind"] == "intraday" and len(replan["schedule"]) == 55
    assert replan["schedule"][0]["interval_start"] == "2026-07-15T10:15:00+08:00"
    # no reading: the battery starts where the day-ahead plan said it would be at 10:15
    said = day_ahead["schedule"][40]["battery.soc_kwh"] / 400.0  # level at the end of 10:00-10:15
    assert replan["sources"]["initial_state.battery.initial_soc_frac"]["origin"] == "previous-plan"
    first = replan["schedule"][0]
    level = said * 400.0 + first["battery.charge_kw"] * 0.25 * 0.95 - first["battery.discharge_kw"] * 0.25 / 0.95
    assert first["battery.soc_kwh"] == pytest.approx(level, abs=1e-3)
    in_force = client.get(
        f"/v1/sites/{site_id}/plan",
        params={"start": "2026-07-15T00:00:00+08:00", "end": "2026-07-16T00:00:00+08:00"},
        headers=HEADERS,
    )
    assert in_force.status_code == 200, in_force.text
    steps = in_force.json()["schedule"]
    ids = [s["schedule_id"] for s in steps]
    assert ids == [day_ahead["schedule_id"]] * 41 + [replan["schedule_id"]] * 55
    assert steps[41]["load.power_kw"] == 300.0 and steps[40]["load.power_kw"] == 250.0


def test_intraday_needs_something_left_to_plan(client: TestClient) -> None:
    site_id = create_site(client, service_site())
    body = {"from": "2026-07-15T23:50:00+08:00", "inputs": {"load": [250.0]}}
    response = client.post(f"/v1/sites/{site_id}/dispatch", json=body, headers=HEADERS)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.from"
    Site.model_validate(service_site())  # the site itself is valid


def test_plan_vs_actual_by_hand(client: TestClient) -> None:
    """Plan: load 250 kW, no PV. Meters: load 260 kW and import 300 kW all day. Then the actual import is
    300 x 24 = 7,200 kWh at the plan's prices, the load forecast's MAE is 10 kW and its bias -10 kW; after an
    intraday re-plan each step is compared with the version in force then."""
    site_id = create_site(client, service_site())
    day_ahead = _dispatch(client, site_id, {"date": DAY, "inputs": {"load": [250.0] * 96, "pv": [0.0] * 96}})
    replan = _dispatch(
        client,
        site_id,
        {"from": "2026-07-15T10:07:00+08:00", "inputs": {"load": [250.0] * 55, "pv": [0.0] * 55}},
    )
    index = pd.date_range(DAY, periods=96, freq="15min", tz=TZ)
    _post_readings(client, site_id, _rows("load", pd.Series(260.0, index=index)))
    _post_readings(client, site_id, _rows("grid.import_kw", pd.Series(300.0, index=index)))
    params = {"start": "2026-07-15T00:00:00+08:00", "end": "2026-07-16T00:00:00+08:00"}
    response = client.get(f"/v1/sites/{site_id}/performance", params=params, headers=HEADERS)
    assert response.status_code == 200, response.text
    total = response.json()["total"]
    assert total["steps_compared"] == 96 and total["plan_versions"] == [day_ahead["schedule_id"], replan["schedule_id"]]
    prices = [r["grid.import_price_cny_per_kwh"] for r in day_ahead["schedule"]]
    assert total["actual"]["import_kwh"] == pytest.approx(7200.0)
    assert total["actual"]["energy_cost_cny"] == pytest.approx(300.0 * 0.25 * sum(prices), abs=0.01)
    assert total["actual"]["peak_import_kw"] == 300.0
    planned = day_ahead["schedule"][:41] + replan["schedule"]
    assert total["plan"]["import_kwh"] == pytest.approx(sum(r["grid.import_kw"] for r in planned) * 0.25, abs=1e-2)
    assert total["forecast_errors"]["load"] == {"column": "load.power_kw", "steps": 96, "mae": 10.0, "bias": -10.0}
    assert [d["date"] for d in response.json()["days"]] == [DAY]
    html = client.get(f"/v1/schedules/{day_ahead['schedule_id']}", headers={**HEADERS, "Accept": "text/html"})
    assert html.status_code == 200 and "Plan vs actual" in html.text and "7200.0" in html.text


class _ForecastHandler(http.server.BaseHTTPRequestHandler):
    """Serves the Open-Meteo test forecast at /forecast (any query) and records the paths asked for."""

    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        body = json.dumps(WEATHER).encode() if self.path.startswith("/forecast") else b"not found"
        self.send_response(200 if self.path.startswith("/forecast") else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def forecast_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ForecastHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()  # the listening socket, else a ResourceWarning when it is collected


def test_weather_read_from_a_configured_url(tmp_path: Path, forecast_server: str) -> None:
    template = forecast_server + "/forecast?latitude={latitude}&longitude={longitude}&timezone={tz}"
    with TestClient(create_app(make_settings(tmp_path, weather_url=template))) as local:
        site_id = create_site(local, service_site())
        fetched = local.post(f"/v1/sites/{site_id}/weather/fetch", headers=HEADERS)
        assert fetched.status_code == 201, fetched.text
        assert _ForecastHandler.paths[-1] == "/forecast?latitude=41.8&longitude=123.4&timezone=Asia/Shanghai"
        [stored] = local.get(f"/v1/sites/{site_id}/weather", headers=HEADERS).json()
        assert stored["source"].startswith(forecast_server + "/forecast?latitude=41.8")
        assert stored["valid_from"] == "2026-07-14T16:00:00Z"  # the forecast's 15 July, local midnight
        # issued now, it is not used for a past day (a backtest sees only forecasts issued before the day)
        plan = _dispatch(local, site_id, {"date": DAY, "inputs": {"load": [250.0] * 96}})
        assert plan["sources"]["inputs.pv"]["origin"] == "forecast:pvlib-clear-sky"
        # the morning job reads every site's forecast; a URL that fails is logged, not fatal
        assert fetch_all(local.app.state.sessions, template) == {site_id: "ok"}
        failing = fetch_all(local.app.state.sessions, forecast_server + "/missing")
        assert "failed" in failing[site_id]
    with TestClient(create_app(make_settings(tmp_path, weather_url=forecast_server + "/missing"))) as broken:
        assert broken.post(f"/v1/sites/{site_id}/weather/fetch", headers=HEADERS).status_code == 502
    with TestClient(create_app(make_settings(tmp_path))) as unconfigured:
        assert unconfigured.post(f"/v1/sites/{site_id}/weather/fetch", headers=HEADERS).status_code == 409


def test_the_morning_fetch_time() -> None:
    at = dt.time(21, 30)
    assert next_fetch(dt.datetime(2026, 7, 14, 20, 0, tzinfo=dt.UTC), at) == dt.datetime(
        2026, 7, 14, 21, 30, tzinfo=dt.UTC
    )
    assert next_fetch(dt.datetime(2026, 7, 14, 21, 30, tzinfo=dt.UTC), at) == dt.datetime(
        2026, 7, 15, 21, 30, tzinfo=dt.UTC
    )


def test_bad_weather_uploads_are_422(client: TestClient) -> None:
    site_id = create_site(client, service_site())
    for body, content_type in (
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"hourly": {"time": []}}', "application/json"),
        (b"a,b\n1,2\n", "text/csv"),
    ):
        response = client.post(
            f"/v1/sites/{site_id}/weather", content=body, headers={**HEADERS, "content-type": content_type}
        )
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == "body"
    assert client.get(f"/v1/sites/{site_id}/weather", headers=HEADERS).json() == []


def test_intraday_replan_holds_the_days_targets_over_the_morning_done(client: TestClient) -> None:
    """Readings since midnight: PV 100 kW and export 40 kW from 06:00 to 10:15 (17 quarter-hours), import 200 kW
    all morning (41). The re-plan from 10:07 gets so far: PV 425 kWh, export 170 kWh, import 2,050 kWh."""
    site = service_site()
    site["targets"] = {"pv_self_consumption": {"min_frac": 0.7, "hard": False}}
    site_id = create_site(client, site)
    morning = pd.date_range(DAY, "2026-07-15 10:15", freq="15min", tz=TZ, inclusive="left")
    sunny = morning[morning.hour >= 6]
    _post_readings(client, site_id, _rows("pv", pd.Series(100.0, index=sunny)))
    _post_readings(client, site_id, _rows("grid.export_kw", pd.Series(40.0, index=sunny)))
    _post_readings(client, site_id, _rows("grid.import_kw", pd.Series(200.0, index=morning)))
    replan = _dispatch(client, site_id, {"from": "2026-07-15T10:07:00+08:00", "inputs": {"load": [250.0] * 55}})
    assert replan["sources"]["targets.so_far"]["origin"] == "reading"
    with client.app.state.sessions() as session:
        problem = session.get(ScheduleRecord, replan["schedule_id"]).problem
    assert problem["targets"]["so_far"] == {
        "pv_available_kwh": 425.0,
        "pv_output_kwh": 425.0,
        "import_kwh": 2050.0,
        "export_kwh": 170.0,
        "green_kwh": 0.0,
        "contracts_kwh": {},
        "emissions_location_kgco2": 0.0,
        "emissions_market_kgco2": 0.0,
        "since": None,
    }
    (shortfall,) = replan["kpis"]["target_shortfalls"]  # over the whole day: the morning's PV counts
    pv_rest = sum(r["pv.available_kw"] for r in replan["schedule"]) * 0.25
    assert shortfall["required"] == pytest.approx(0.7 * (425.0 + pv_rest), abs=0.01)


def test_a_measured_level_is_carried_through_the_running_step_as_planned(client: TestClient) -> None:
    """SOC read at 11:37 while the battery charges; the re-plan starts at 11:45. The running step goes on as
    planned: the level moves by
    the plan's change over the last 8 of its 15 minutes, (L[11:45] - L[11:30]) x 8/15."""
    site_id = create_site(client, service_site())
    inputs = {"load": [250.0 if q < 40 else 150.0 for q in range(96)], "pv": [0.0] * 96}
    day_ahead = _dispatch(client, site_id, {"date": DAY, "inputs": inputs})
    levels = [r["battery.soc_kwh"] for r in day_ahead["schedule"]]
    assert abs(levels[47] - levels[46]) > 1.0, "the battery must move in the running step for this to test anything"
    _post_readings(client, site_id, [{"series": "battery.soc_kwh", "time": "2026-07-15T11:37:00+08:00", "value": 100}])
    replan = _dispatch(
        client, site_id, {"from": "2026-07-15T11:37:00+08:00", "inputs": {"load": [150.0] * 49, "pv": [0.0] * 49}}
    )
    assert replan["sources"]["initial_state.battery.initial_soc_frac"]["origin"] == "reading"
    with client.app.state.sessions() as session:
        problem = session.get(ScheduleRecord, replan["schedule_id"]).problem
    battery = next(a for a in problem["assets"] if a["name"] == "battery")
    expected = (100.0 + (levels[47] - levels[46]) * 8 / 15) / 400.0
    assert battery["initial_soc_frac"] == pytest.approx(min(max(expected, 0.1), 0.9), abs=1e-6)


@pytest.mark.parametrize(("day", "steps"), [("2026-03-29", 92), ("2026-10-25", 100)])
def test_a_date_is_the_sites_local_day_on_dst_days(client: TestClient, day: str, steps: int) -> None:
    site = service_site()
    site["tz"] = "Europe/Berlin"
    site_id = create_site(client, site)
    end = pd.Timestamp(day, tz="Europe/Berlin")
    index = pd.date_range(end - pd.Timedelta(days=28), end, freq="15min", inclusive="left")
    _post_readings(client, site_id, _rows("load", pd.Series(300.0, index=index)))
    plan = _dispatch(client, site_id, {"date": day})
    assert len(plan["schedule"]) == steps
    assert plan["sources"]["inputs.load"]["origin"] == "forecast:load-model"
    assert {r["load.power_kw"] for r in plan["schedule"]} == {300.0}


def test_month_peak_from_readings_that_start_part_way_through_the_month(client: TestClient) -> None:
    """Import metered from 10 July only (300 kW): the month's peak is at least the site's 650 kW, labelled so.
    Metered from 1 July 00:00 (the same 300 kW), the readings are the month and win."""
    site = service_site()
    next(a for a in site["assets"] if a["kind"] == "grid")["month_to_date_peak_kw"] = 650.0
    site_id = create_site(client, site)
    late = pd.date_range("2026-07-10", DAY, freq="15min", tz=TZ, inclusive="left")
    _post_readings(client, site_id, _rows("grid.import_kw", pd.Series(300.0, index=late)))
    plan = _dispatch(client, site_id, {"date": DAY, "inputs": {"load": [250.0] * 96}})
    peak = plan["sources"]["initial_state.grid.month_to_date_peak_kw"]
    assert peak["origin"] == "site" and "metered only from 2026-07-10" in peak["detail"]
    whole = pd.date_range("2026-07-01", "2026-07-10", freq="15min", tz=TZ, inclusive="left")
    _post_readings(client, site_id, _rows("grid.import_kw", pd.Series(300.0, index=whole)))
    plan = _dispatch(client, site_id, {"date": DAY, "inputs": {"load": [250.0] * 96}})
    assert plan["sources"]["initial_state.grid.month_to_date_peak_kw"]["origin"] == "reading"
    with client.app.state.sessions() as session:
        problem = session.get(ScheduleRecord, plan["schedule_id"]).problem
    assert next(a for a in problem["assets"] if a["name"] == "grid")["month_to_date_peak_kw"] == 300.0


def test_a_two_day_forecast_plans_its_second_day_through_the_night_gap(client: TestClient) -> None:
    """Open-Meteo's 2-day forecast ends at 23:00 of its second day (radiation is labelled at the hour's end); the
    sun is down then, so the second day is still planned from it, and says so."""
    site_id = create_site(client, service_site())
    params = {"issued_at": "2026-07-14T12:00:00+08:00"}
    assert client.post(f"/v1/sites/{site_id}/weather", json=WEATHER, headers=HEADERS, params=params).status_code == 201
    plan = _dispatch(client, site_id, {"date": "2026-07-16", "inputs": {"load": [250.0] * 96}})
    source = plan["sources"]["inputs.pv"]
    assert source["origin"] == "forecast:pvlib" and "extended through the night" in source["detail"]
    assert [r["pv.available_kw"] for r in plan["schedule"][-8:]] == [0.0] * 8


def test_weather_is_not_extended_into_daylight() -> None:
    from forecasting import read_open_meteo_json
    from forecasting.errors import WeatherDataError
    from forecasting.weather_frame import extend_into_night

    weather = read_open_meteo_json(WEATHER)
    later = weather.end + pd.Timedelta(hours=2)
    extended = extend_into_night(weather, later, lambda times: np.zeros(len(times), dtype=bool))
    assert extended.end == later and extended.data["ghi_w_m2"].iloc[-1] == 0.0
    assert extended.data["temp_air_c"].iloc[-1] == weather.data["temp_air_c"].iloc[-1]
    with pytest.raises(WeatherDataError, match="the sun is up"):
        extend_into_night(weather, later, lambda times: np.ones(len(times), dtype=bool))


def test_intraday_replan_holds_a_window_that_began_to_the_plan_in_force(client: TestClient) -> None:
    """Dryers: 600 kWh between 08:00 and 20:00 at up to 120 kW. Re-planned at 10:07, their window has begun, so
    they run as the day-ahead plan said from 10:15 on (progress inside a window is not state the optimiser has)."""
    site = service_site()
    dryers = {"kind": "energy_window_load", "name": "dryers", "energy_kwh": 600, "max_power_kw": 120,
              "window_start": "08:00", "window_end": "20:00"}  # fmt: skip
    site["assets"].append(dryers)
    site_id = create_site(client, site)
    body = {"from": "2026-07-15T10:07:00+08:00", "inputs": {"load": [250.0] * 55, "pv": [0.0] * 55}}
    refused = client.post(f"/v1/sites/{site_id}/dispatch", json=body, headers=HEADERS)
    assert refused.status_code == 422 and "body.committed.dryers" in refused.json()["errors"][0]["msg"]
    day_ahead = _dispatch(client, site_id, {"date": DAY, "inputs": {"load": [250.0] * 96, "pv": [0.0] * 96}})
    replan = _dispatch(client, site_id, body)
    assert replan["sources"]["committed.dryers"]["origin"] == "previous-plan"
    planned = [r["dryers.power_kw"] for r in day_ahead["schedule"][41:]]
    assert [r["dryers.power_kw"] for r in replan["schedule"]] == pytest.approx(planned, abs=1e-3)
    assert sum(r["dryers.power_kw"] for r in day_ahead["schedule"]) * 0.25 == pytest.approx(600.0)


def test_a_price_series_replaces_the_tariff(client: TestClient) -> None:
    """A request that sends the grid's import price per step needs no 'grid.tariff': null: the series replaces the
    site's tariff (its alternative)."""
    site_id = create_site(client, service_site())
    prices = [0.3 if q < 32 else 0.9 for q in range(96)]
    body = {"date": DAY, "inputs": {"load": [250.0] * 96}, "series": {"grid.import_price_cny_per_kwh": prices}}
    plan = _dispatch(client, site_id, body)
    assert [r["grid.import_price_cny_per_kwh"] for r in plan["schedule"]] == prices
