"""Bad input gets 422 naming the field (or 413, 401), never a 500, and never reaches the solver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.models import ScheduleRecord
from tests.api_fixtures import DAY, HEADERS, api_client, create_site, field_names, pv_profile, small_site

# On SQLite only: request validation answers before the database is read.
pytestmark = pytest.mark.sqlite_only

JSON = {**HEADERS, "content-type": "application/json"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with api_client(tmp_path, max_body_bytes=100_000) as test_client:
        yield test_client


@pytest.fixture
def site_id(client: TestClient) -> int:
    return create_site(client)


def post_dispatch(client: TestClient, site_id: int, body: dict[str, Any] | str):  # type: ignore[no-untyped-def]
    content = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"/v1/sites/{site_id}/dispatch", content=content, headers=JSON)


def stored_schedules(client: TestClient) -> int:
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(ScheduleRecord)) or 0)


def raw_series(token: str, n: int = 96, at: int = 7) -> str:
    """A dispatch body with a literal ``token`` (NaN, Infinity, 1e999) in a 96-value series: JSON libraries
    refuse to write these, so the body is built as text."""
    values = ["1.0"] * n
    values[at] = token
    return series_body(", ".join(values))


def series_body(values: str, path: str = "pv.available_kw") -> str:
    return f'{{"date": "{DAY}", "series": {{"{path}": [{values}]}}}}'


# --- numbers -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused_by_name(client: TestClient, site_id: int, token: str) -> None:
    response = post_dispatch(client, site_id, raw_series(token))
    assert field_names(response) == ["body.series.pv.available_kw[7]"]
    assert response.json()["errors"][0]["type"] == "finite_number"
    assert stored_schedules(client) == 0


@pytest.mark.parametrize("token", ["NaN", "Infinity"])
def test_non_finite_numbers_in_a_site_are_refused(client: TestClient, token: str) -> None:
    site = json.dumps(small_site()).replace('"capacity_kwh": 400.0', f'"capacity_kwh": {token}')
    response = client.post("/v1/sites", content=site, headers=JSON)
    assert field_names(response) == ["body.assets[3].capacity_kwh"]
    overrides = post_dispatch(
        client, create_site(client), f'{{"date": "{DAY}", "overrides": {{"grid.import_limit_kw": {token}}}}}'
    )
    assert field_names(overrides) == ["body.overrides.grid.import_limit_kw"]


def test_a_whole_series_of_nan_is_one_error_with_its_indexes(client: TestClient, site_id: int) -> None:
    body = series_body(", ".join(["NaN"] * 96))
    response = post_dispatch(client, site_id, body)
    assert field_names(response) == ["body.series.pv.available_kw"]
    assert "at 96 indexes: 0, 1, 2" in response.json()["errors"][0]["msg"]


def test_negative_forecast_values_name_the_series(client: TestClient, site_id: int) -> None:
    values = pv_profile()
    values[40] = -5.0
    response = post_dispatch(client, site_id, {"date": DAY, "series": {"pv.available_kw": values}})
    assert field_names(response) == ["body.series.pv.available_kw[40]"]
    assert "greater than or equal to 0" in response.json()["errors"][0]["msg"]


# --- timestamps and horizons ---------------------------------------------------------------------------------


def test_naive_timestamps_are_refused(client: TestClient, site_id: int) -> None:
    response = post_dispatch(client, site_id, {"horizon": {"start": "2026-07-15T00:00:00", "n_steps": 96}})
    assert field_names(response) == ["body.horizon.start"]
    assert response.json()["errors"][0]["type"] == "timezone_aware"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": "2026-02-30"}, "body.date"),
        ({"date": "15.07.2026"}, "body.date"),
        ({"date": "0001-01-01"}, "body.date"),
        ({"date": "9999-12-31"}, "body.date"),
        ({"horizon": {"start": "9999-12-31T00:00:00+14:00", "n_steps": 4}}, "body.horizon"),
        ({"horizon": {"start": "2026-07-15T00:00:00+08:00", "n_steps": 0}}, "body.horizon.n_steps"),
        ({"horizon": {"start": "2026-07-15T00:00:00+08:00", "n_steps": 10_000}}, "body.horizon.n_steps"),
        (
            {"horizon": {"start": "2026-07-15T00:00:00+08:00", "n_steps": 4, "step_minutes": 1}},
            "body.horizon.step_minutes",
        ),
        ({"date": DAY, "horizon": {"start": "2026-07-15T00:00:00+08:00", "n_steps": 4}}, "body"),
        ({}, "body"),
    ],
)
def test_bad_days_and_horizons_name_the_field(client: TestClient, site_id: int, body: dict, field: str) -> None:
    response = post_dispatch(client, site_id, body)
    assert response.status_code == 422, response.text
    assert field in field_names(response), response.json()


def test_series_length_must_equal_the_horizon(client: TestClient, site_id: int) -> None:
    for n in (95, 97, 1, 0):
        response = post_dispatch(
            client, site_id, {"date": DAY, "series": {"pv.available_kw": pv_profile(96)[:n] + [0.0] * max(0, n - 96)}}
        )
        assert field_names(response) == ["body.series.pv.available_kw"]
        assert response.json()["errors"][0]["msg"].startswith(f"has {n} values, the horizon has 96 steps")
    short = post_dispatch(
        client,
        site_id,
        {"horizon": {"start": "2026-07-15T06:00:00+08:00", "n_steps": 8}, "series": {"load.power_kw": [1.0] * 9}},
    )
    assert field_names(short) == ["body.series.load.power_kw"]
    override = post_dispatch(client, site_id, {"date": DAY, "overrides": {"load.power_kw": [100.0] * 95}})
    assert field_names(override) == ["body.overrides.load.power_kw"]
    assert stored_schedules(client) == 0


@pytest.mark.parametrize(("day", "steps"), [("2026-03-29", 92), ("2026-10-25", 100), ("2026-07-15", 96)])
def test_dst_days_have_92_or_100_quarter_hours(client: TestClient, day: str, steps: int) -> None:
    berlin = create_site(client, small_site("berlin", timezone="Europe/Berlin", pv_kw=0.0))
    ok = post_dispatch(client, berlin, {"date": day, "series": {"pv.available_kw": pv_profile(steps)}})
    assert ok.status_code == 201, ok.text
    out = ok.json()
    assert len(out["schedule"]) == steps
    assert out["schedule"][0]["interval_start"].endswith(
        "+01:00" if day < "2026-03-29" or day == "2026-03-29" else "+02:00"
    )
    if steps != 96:
        refused = post_dispatch(client, berlin, {"date": day, "series": {"pv.available_kw": pv_profile(96)}})
        assert field_names(refused) == ["body.series.pv.available_kw"]
        assert f"the horizon has {steps} steps" in refused.json()["errors"][0]["msg"]


def test_a_stored_96_value_series_on_a_dst_day_names_the_site_field(client: TestClient) -> None:
    berlin = create_site(client, small_site("berlin", timezone="Europe/Berlin"))  # pv: 96 values
    response = post_dispatch(client, berlin, {"date": "2026-03-29"})
    assert field_names(response) == ["site.assets.pv.available_kw"]
    assert "send body.series.pv.available_kw with one value per step" in response.json()["errors"][0]["msg"]
    fixed = post_dispatch(client, berlin, {"date": "2026-03-29", "series": {"pv.available_kw": pv_profile(92)}})
    assert fixed.status_code == 201


# --- physical bounds -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("initial_state", "field"),
    [
        ({"battery": {"initial_soc_frac": 1.5}}, "body.initial_state.battery.initial_soc_frac"),
        ({"battery": {"initial_soc_frac": -0.1}}, "body.initial_state.battery.initial_soc_frac"),
        ({"battery": {"initial_soc_frac": 0.95}}, "body.initial_state.battery.initial_soc_frac"),  # above soc_max 0.9
        ({"battery": {"initial_soc_frac": 0.05}}, "body.initial_state.battery.initial_soc_frac"),  # below soc_min 0.1
        ({"no_such_battery": {"initial_soc_frac": 0.5}}, "body.initial_state.no_such_battery.initial_soc_frac"),
        ({"battery": {"initial_level_frac": 0.5}}, "body.initial_state.battery.initial_level_frac"),  # not its state
        ({"battery": {"capacity_kwh": 10.0}}, "body.initial_state.battery.capacity_kwh"),  # design, not state
        ({"grid": {"initial_on": True}}, "body.initial_state.grid.initial_on"),
        ({"grid": {"initial_units_on": 1}}, "body.initial_state.grid.initial_units_on"),
        ({"grid": {"month_to_date_peak_kw": -1}}, "body.initial_state.grid.month_to_date_peak_kw"),
        ({"soc": 0.5}, "body.initial_state.soc"),
    ],
)
def test_initial_states_outside_physical_bounds(
    client: TestClient, site_id: int, initial_state: dict, field: str
) -> None:
    response = post_dispatch(client, site_id, {"date": DAY, "initial_state": initial_state})
    assert field_names(response) == [field], response.json()


@pytest.mark.parametrize(
    ("battery", "field"),
    [
        ({"charge_efficiency": 0.0}, "charge_efficiency"),
        ({"charge_efficiency": 1.01}, "charge_efficiency"),
        ({"discharge_efficiency": -0.5}, "discharge_efficiency"),
        ({"capacity_kwh": -1.0}, "capacity_kwh"),
        ({"charge_power_kw": -1.0}, "charge_power_kw"),
        ({"soc_min_frac": 1.2}, "soc_min_frac"),
        ({"initial_soc_frac": 0.95}, "initial_soc_frac"),  # outside the site's own SOC window: a cross-field check
    ],
)
def test_site_assets_outside_physical_bounds(client: TestClient, battery: dict, field: str | None) -> None:
    site = small_site()
    site["assets"][3].update(battery)
    response = client.post("/v1/sites", json=site, headers=HEADERS)
    names = field_names(response)
    assert names == [f"body.assets[3].{field}"], response.json()
    if "initial_soc_frac" in battery:
        assert "0.95 is outside the SOC window" in response.json()["errors"][0]["msg"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"battery.charge_efficiency": 0}, "body.overrides.battery.charge_efficiency"),
        ({"battery.discharge_efficiency": 1.5}, "body.overrides.battery.discharge_efficiency"),
        ({"battery.capacity_kwh": -5}, "body.overrides.battery.capacity_kwh"),
        ({"grid.import_limit_kw": "lots"}, "body.overrides.grid.import_limit_kw"),
        ({"battery.soc_max_frac": 0.05}, "body.overrides.battery.soc_max_frac"),  # window below the initial SOC
    ],
)
def test_overrides_outside_physical_bounds(client: TestClient, site_id: int, overrides: dict, field: str) -> None:
    response = post_dispatch(client, site_id, {"date": DAY, "overrides": overrides})
    assert field_names(response) == [field], response.json()
    assert response.json()["errors"][0]["msg"].startswith(f"{field.split('.')[2]}: ")


def test_solver_limits_within_server_bounds(client: TestClient, site_id: int) -> None:
    too_long = post_dispatch(client, site_id, {"date": DAY, "solver": {"time_limit_s": 1000}})
    assert field_names(too_long) == ["body.solver.time_limit_s"]
    assert "at most 60.0 s" in too_long.json()["errors"][0]["msg"]
    too_tight = post_dispatch(client, site_id, {"date": DAY, "solver": {"mip_rel_gap": 1e-9}})
    assert field_names(too_tight) == ["body.solver.mip_rel_gap"]
    for solver, field in (
        ({"time_limit_s": 0}, "time_limit_s"),
        ({"mip_rel_gap": 0.9}, "mip_rel_gap"),
        ({"threads": 4}, "threads"),
    ):
        assert field_names(post_dispatch(client, site_id, {"date": DAY, "solver": solver})) == [f"body.solver.{field}"]


# --- unknown fields and names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": DAY, "bogus": 1}, "body.bogus"),
        ({"date": DAY, "series": {"nope.available_kw": [1.0] * 96}}, "body.series.nope.available_kw"),
        ({"date": DAY, "series": {"pv.bogus_kw": [1.0] * 96}}, "body.series.pv.bogus_kw"),
        ({"date": DAY, "series": {"pv": [1.0] * 96}}, "body.series.pv"),
        ({"date": DAY, "series": {"pv.name": [1.0] * 96}}, "body.series.pv.name"),
        ({"date": DAY, "overrides": {"battery.kind": "pv"}}, "body.overrides.battery.kind"),
        ({"date": DAY, "overrides": {"battery.colour": "red"}}, "body.overrides.battery.colour"),
        ({"horizon": {"start": "2026-07-15T00:00:00+08:00", "n_steps": 4, "end": "x"}}, "body.horizon.end"),
    ],
)
def test_unknown_fields_and_names_are_refused(client: TestClient, site_id: int, body: dict, field: str) -> None:
    response = post_dispatch(client, site_id, body)
    assert field_names(response) == [field], response.json()


def test_unknown_fields_in_a_site_are_refused(client: TestClient) -> None:
    site = small_site()
    site["colour"] = "blue"
    site["assets"][2]["tilt_deg"] = 30
    response = client.post("/v1/sites", json=site, headers=HEADERS)
    assert sorted(field_names(response)) == ["body.assets[2].tilt_deg", "body.colour"]
    unknown_kind = small_site()
    unknown_kind["assets"][0]["kind"] = "nuclear"
    assert field_names(client.post("/v1/sites", json=unknown_kind, headers=HEADERS)) == ["body.assets[0]"]


def test_invalid_sites_name_the_field(client: TestClient) -> None:
    for change, field in (
        ({"tz": "Mars/Olympus"}, "body.tz"),
        ({"assets": []}, "body.assets"),
        ({"name": ""}, "body.name"),
        ({"latitude": 91}, "body.latitude"),
    ):
        response = client.post("/v1/sites", json={**small_site(), **change}, headers=HEADERS)
        assert field_names(response) == [field], (change, response.json())
    zone = client.post("/v1/sites", json={**small_site(), "tz": "Mars/Olympus"}, headers=HEADERS)
    assert "'Mars/Olympus' is not an IANA time zone" in zone.json()["errors"][0]["msg"]
    repeated = small_site()
    repeated["assets"][1]["name"] = "grid"
    assert "asset names must be unique" in client.post("/v1/sites", json=repeated, headers=HEADERS).text


# --- transport -----------------------------------------------------------------------------------------------


def test_invalid_json_is_422_on_the_body(client: TestClient, site_id: int) -> None:
    for content in ('{"date": ', "not json", b"\xff\xfe\x00{", "[1, 2]", '"2026-07-15"'):
        response = client.post(f"/v1/sites/{site_id}/dispatch", content=content, headers=JSON)
        assert response.status_code == 422, (content, response.text)
        assert field_names(response)[0].startswith("body"), content


def test_oversized_bodies_get_413(client: TestClient, site_id: int) -> None:
    huge = {"date": DAY, "series": {"pv.available_kw": [1.0] * 30_000}}  # ~150 kB > 100 kB
    declared = post_dispatch(client, site_id, huge)
    assert declared.status_code == 413 and declared.headers["content-type"] == "application/problem+json"
    assert declared.json()["detail"] == "request body larger than 100000 bytes"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        yield b'{"date": "2026-07-15", "series": {"pv.available_kw": ['
        for _ in range(5_000):
            yield b"1.0, " * 10
        yield b"1.0]}}"

    streamed = client.post(f"/v1/sites/{site_id}/dispatch", content=chunks(), headers=JSON)
    assert streamed.status_code == 413 and streamed.headers["content-type"] == "application/problem+json"
    assert streamed.json()["detail"] == "request body larger than 100000 bytes"
    site = client.post("/v1/sites", content=json.dumps({**small_site(), "name": "x" * 200_000}), headers=JSON)
    assert site.status_code == 413
    assert post_dispatch(client, site_id, {"date": DAY}).status_code == 201  # normal service afterwards
    assert stored_schedules(client) == 1


def test_missing_or_wrong_key_is_401_even_for_bad_bodies(client: TestClient, site_id: int) -> None:
    for headers in ({"content-type": "application/json"}, {"content-type": "application/json", "X-API-Key": "nope"}):
        response = client.post(f"/v1/sites/{site_id}/dispatch", content='{"date": NaN}', headers=headers)
        assert response.status_code == 401
        assert response.json()["detail"] in ("missing X-API-Key header", "invalid API key")
    assert stored_schedules(client) == 0


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/sites/99999999999999999999", "path.site_id"),
        ("/v1/sites/-1", "path.site_id"),
        ("/v1/sites/abc", "path.site_id"),
        ("/v1/schedules/99999999999999999999", "path.schedule_id"),
        ("/v1/schedules?site_id=99999999999999999999", "query.site_id"),
        ("/v1/schedules?date=2026-13-01", "query.date"),
        ("/v1/schedules?limit=0", "query.limit"),
        ("/v1/schedules?limit=100000", "query.limit"),
    ],
)
def test_bad_ids_and_query_parameters(client: TestClient, url: str, field: str) -> None:
    assert field_names(client.get(url, headers=HEADERS)) == [field]


def test_idempotency_key_length(client: TestClient, site_id: int) -> None:
    for key in ("k" * 201, ""):
        response = client.post(
            f"/v1/sites/{site_id}/dispatch", json={"date": DAY}, headers={**HEADERS, "Idempotency-Key": key}
        )
        assert field_names(response) == ["header.Idempotency-Key"]


@pytest.mark.parametrize(
    "content",
    [
        '{"date": "2026-07-15", "series": {"pv.available_kw": "sunny"}}',
        '{"date": "2026-07-15", "series": {"pv.available_kw": [[1.0]]}}',
        '{"date": "2026-07-15", "series": []}',
        '{"date": "2026-07-15", "initial_state": null}',
        '{"date": "2026-07-15", "overrides": {"grid.tariff": {"periods": "x"}}}',
        '{"date": "2026-07-15", "overrides": {"battery.reserve_hours": [25]}}',
        '{"date": 20260715}',
        '{"date": null, "horizon": null}',
        '{"horizon": {"start": "2026-07-15T00:00:00+08:00", "n_steps": 96.5}}',
        '{"horizon": {"start": "2026-07-15T00:00:00+99:00", "n_steps": 96}}',
    ],
)
def test_odd_bodies_are_422_never_500(client: TestClient, site_id: int, content: str) -> None:
    response = post_dispatch(client, site_id, content)
    assert response.status_code == 422, response.text
    assert all(d["field"].startswith("body") for d in response.json()["errors"])
    assert stored_schedules(client) == 0
