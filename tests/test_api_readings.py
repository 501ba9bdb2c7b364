"""Meter readings through the API: bulk JSON/CSV upserts, all-or-nothing batches with every bad row named, range
reads, and what the values mean (power, energy, cumulative register with resets) checked by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from scenarios.loader import load_scenario
from scenarios.meters import interval_average, meter_series
from tests.api_fixtures import HEADERS, REPO, create_site, make_settings

FACTORY = REPO / "scenarios" / "examples" / "shenyang_factory.yaml"
TZ = "Asia/Shanghai"


def factory_site() -> dict[str, Any]:
    return load_scenario(FACTORY).scenario.site.model_dump(mode="json", exclude_unset=True)


@pytest.fixture
def client(tmp_path: Path):
    with TestClient(create_app(make_settings(tmp_path))) as test_client:
        yield test_client


def _rows(series: str, start: str, values: list[float], freq: str = "15min") -> list[dict[str, Any]]:
    times = pd.date_range(start, periods=len(values), freq=freq, tz=TZ)
    return [{"series": series, "time": t.isoformat(), "value": v} for t, v in zip(times, values, strict=True)]


def test_vocabulary_of_the_factory_site() -> None:
    series = meter_series(load_scenario(FACTORY).scenario.site)
    assert {"process_load", "pv_roof", "compressed_air", "grid.import_kw", "grid.export_kw"} <= set(series)
    assert series["battery.soc_kwh"].high == pytest.approx(1000 * 1.05)  # capacity x sensor tolerance
    assert series["compressors_lu.on"].high == 2  # a group of two units
    assert series["compressed_air"].unit == "m3/min" and series["compressed_air"].kinds == ("power",)


def test_power_energy_and_register_become_the_same_averages() -> None:
    """100 kW for an hour, sent three ways at three steps, is 100 kW in each quarter-hour; a register reset
    (a drop) counts the new reading from zero."""
    index = pd.date_range("2026-07-01", periods=4, freq="15min", tz=TZ)
    hourly_power = pd.Series([100.0], index=index[:1])
    five_min_energy = pd.Series(100.0 / 12, index=pd.date_range("2026-07-01", periods=12, freq="5min", tz=TZ))
    register_times = pd.date_range("2026-07-01", periods=5, freq="15min", tz=TZ)
    register = pd.Series([1000.0, 1025.0, 1050.0, 5.0, 30.0], index=register_times)  # reset before 00:45
    single = interval_average(hourly_power, "power", index)  # one reading: it holds for the site's step only
    assert single.iloc[0] == 100.0 and single.iloc[1:].isna().all()
    assert interval_average(five_min_energy, "energy", index).tolist() == pytest.approx([100.0] * 4)
    # 25 kWh per quarter-hour = 100 kW; across the reset the register went 1050 -> (0) -> 5: 5 kWh = 20 kW
    assert interval_average(register, "register", index).tolist() == pytest.approx([100.0, 100.0, 20.0, 100.0])


def test_upload_read_back_and_idempotent(client: TestClient) -> None:
    site_id = create_site(client, factory_site())
    rows = _rows("process_load", "2026-07-01", [800.0, 810.0, 820.0, 830.0])
    body = {"readings": [*rows, *_rows("battery.soc_frac", "2026-07-01 01:00", [0.42])]}
    response = client.post(f"/v1/sites/{site_id}/readings", json=body, headers=HEADERS)
    assert response.status_code == 200, response.text
    assert response.json()["series"] == {"process_load": 4, "battery.soc_frac": 1}
    again = client.post(f"/v1/sites/{site_id}/readings", json=body, headers=HEADERS)  # same batch: no change
    assert again.status_code == 200
    changed = {"readings": _rows("process_load", "2026-07-01 00:15", [999.0])}
    assert client.post(f"/v1/sites/{site_id}/readings", json=changed, headers=HEADERS).status_code == 200
    params = {"start": "2026-07-01T00:00:00+08:00", "end": "2026-07-02T00:00:00+08:00", "series": "process_load"}
    back = client.get(f"/v1/sites/{site_id}/readings", params=params, headers=HEADERS)
    assert back.status_code == 200
    assert [r["value"] for r in back.json()] == [800.0, 999.0, 820.0, 830.0]
    as_csv = client.get(f"/v1/sites/{site_id}/readings", params={**params, "format": "csv"}, headers=HEADERS)
    assert as_csv.text.splitlines()[0] == "series,time,value" and len(as_csv.text.splitlines()) == 5
    summary = client.get(f"/v1/sites/{site_id}/readings/series", headers=HEADERS).json()
    assert {(s["series"], s["kind"], s["readings"]) for s in summary} == {
        ("process_load", "power", 4),
        ("battery.soc_frac", "state", 1),
    }


def test_csv_upload_with_a_register(client: TestClient) -> None:
    site_id = create_site(client, factory_site())
    lines = ["series,time,value,kind"]
    lines += [f"grid.import_kw,2026-07-01T00:{m:02d}:00+08:00,{1000 + m * 10},register" for m in (0, 15, 30, 45)]
    response = client.post(
        f"/v1/sites/{site_id}/readings", content="\n".join(lines), headers={**HEADERS, "content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    # the kind stays: sending the series as power now is refused, naming the field
    bad = client.post(
        f"/v1/sites/{site_id}/readings",
        json={"series": {"grid.import_kw": {"kind": "power"}}, "readings": _rows("grid.import_kw", "2026-07-02", [1])},
        headers=HEADERS,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.series.grid.import_kw.kind"


def test_a_bad_batch_names_every_bad_row_and_writes_nothing(client: TestClient) -> None:
    site_id = create_site(client, factory_site())
    good = _rows("process_load", "2026-07-01", [800.0, 810.0])
    readings = [
        *good,
        {"series": "no_such_meter", "time": "2026-07-01T00:00:00+08:00", "value": 1.0},  # 2
        {"series": "process_load", "time": "2026-07-01T00:30:00", "value": 1.0},  # 3: naive
        {"series": "process_load", "time": "2026-07-01T00:45:00+08:00", "value": None},  # 4: null
        {"series": "battery.soc_kwh", "time": "2026-07-01T00:45:00+08:00", "value": 5000.0},  # 5: above capacity
        {**good[0], "value": 1.0},  # 6: the same series and time as row 0
        {"series": "process_load", "time": "2026-07-01T01:00:00+08:00", "value": -5.0},  # 7: negative load
    ]
    response = client.post(f"/v1/sites/{site_id}/readings", json={"readings": readings}, headers=HEADERS)
    assert response.status_code == 422
    fields = [d["field"] for d in response.json()["errors"]]
    assert fields == [
        "body.readings[2].series",
        "body.readings[3].time",
        "body.readings[4].value",
        "body.readings[5].value",
        "body.readings[6].time",
        "body.readings[7].value",
    ]
    params = {"start": "2026-06-01T00:00:00+08:00", "end": "2026-08-01T00:00:00+08:00"}
    assert client.get(f"/v1/sites/{site_id}/readings", params=params, headers=HEADERS).json() == []
    csv = "series,time,value\nprocess_load,2026-07-01T00:00:00+08:00,nan\nprocess_load,yesterday,1\n"
    response = client.post(
        f"/v1/sites/{site_id}/readings", content=csv, headers={**HEADERS, "content-type": "text/csv"}
    )
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["errors"]] == ["line 2.value", "line 3.time"]


def test_unknown_site_and_bad_range(client: TestClient) -> None:
    body = {"readings": _rows("process_load", "2026-07-01", [1.0])}
    assert client.post("/v1/sites/999/readings", json=body, headers=HEADERS).status_code == 404
    site_id = create_site(client, factory_site())
    params = {"start": "2026-07-02T00:00:00+08:00", "end": "2026-07-01T00:00:00+08:00"}
    assert client.get(f"/v1/sites/{site_id}/readings", params=params, headers=HEADERS).status_code == 422
    naive = {"start": "2026-07-01T00:00:00", "end": "2026-07-02T00:00:00+08:00"}
    assert client.get(f"/v1/sites/{site_id}/readings", params=naive, headers=HEADERS).status_code == 422


def test_averages_on_a_random_step_keep_the_energy() -> None:
    """Property: power readings at any regular step, averaged onto quarter-hours, keep the energy of the day."""
    rng = np.random.default_rng(3)
    index = pd.date_range("2026-07-01", periods=96, freq="15min", tz=TZ)
    for minutes in (1, 5, 10, 30, 60, 120):
        times = pd.date_range("2026-07-01", periods=24 * 60 // minutes, freq=f"{minutes}min", tz=TZ)
        readings = pd.Series(rng.uniform(0, 500, len(times)), index=times)
        averages = interval_average(readings, "power", index)
        assert averages.sum() * 0.25 == pytest.approx(readings.sum() * minutes / 60)
