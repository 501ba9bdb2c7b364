"""The EMS's morning against a real uvicorn server: 28 days of readings and tomorrow's weather for the shipped
Shenyang factory, then a dispatch with only a date; and a SIGKILL during reading uploads loses no acknowledged batch.

The PV and load forecasts are recomputed here from the same data without the API (pvlib on the weather, the
site's load model on the history), and the plan must carry exactly those.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from api.models import MeterSeriesRecord, ReadingRecord, ScheduleRecord
from forecasting import forecast_pv, read_open_meteo_json
from optimizer import Horizon
from scenarios.ems_demo_data import history_frame
from scenarios.loader import load_scenario
from tests.api_fixtures import HEADERS, REPO, Server
from tests.databases import assert_integrity, database_url

FACTORY = REPO / "scenarios" / "examples" / "shenyang_factory.yaml"
DATA = REPO / "scenarios" / "data"
WEATHER = json.loads((Path(__file__).parent / "data" / "forecasting" / "open_meteo_shenyang_hourly.json").read_text())
TZ = "Asia/Shanghai"
PLAN_DAY = "2026-07-15"


def history() -> pd.DataFrame:
    """28 days before the plan day (15 min): the real steel-plant load (x3, re-dated by whole weeks) and the
    factory's shift profiles of cooling, heat and air (:mod:`scenarios.ems_demo_data`)."""
    end = pd.Timestamp(PLAN_DAY)
    return history_frame(end - pd.Timedelta(days=28), end)


def _rows(name: str, values: pd.Series) -> list[dict[str, Any]]:
    return [{"series": name, "time": t.isoformat(), "value": float(v)} for t, v in values.items()]


def test_date_only_dispatch_of_the_factory_from_readings_and_weather(tmp_path: Path) -> None:
    site = load_scenario(FACTORY).scenario.site
    frame = history()
    with (
        Server(tmp_path / "ems.sqlite", tmp_path / "server.log") as server,
        httpx.Client(base_url=server.url, headers=HEADERS, timeout=120) as client,
    ):
        created = client.post("/v1/sites", json=site.model_dump(mode="json", exclude_unset=True))
        assert created.status_code == 201, created.text
        site_id = created.json()["id"]
        for name in frame.columns:  # one batch per series (each well under the body limit)
            response = client.post(f"/v1/sites/{site_id}/readings", json={"readings": _rows(name, frame[name])})
            assert response.status_code == 200, response.text
        state = [
            {"series": "battery.soc_frac", "time": "2026-07-14T23:55:00+08:00", "value": 0.62},
            {"series": "compressors_lu.on", "time": "2026-07-14T23:50:00+08:00", "value": 1},
        ]
        # the month's import as a cumulative register read hourly: 1,200 kW, with one hour at 2,100 kW on 3 July
        hours = pd.date_range("2026-07-01", "2026-07-15", freq="1h", tz=TZ, inclusive="left")
        power = pd.Series(1200.0, index=hours)
        power[pd.Timestamp("2026-07-03 10:00", tz=TZ)] = 2100.0
        register = pd.concat([pd.Series([5e5], index=hours[:1]), 5e5 + power.cumsum().shift(1).iloc[1:]])
        body = {
            "series": {"grid.import_kw": {"kind": "register"}},
            "readings": state + _rows("grid.import_kw", register),
        }
        assert client.post(f"/v1/sites/{site_id}/readings", json=body).status_code == 200
        weather = client.post(
            f"/v1/sites/{site_id}/weather", json=WEATHER, params={"issued_at": "2026-07-14T06:00:00+08:00"}
        )
        assert weather.status_code == 201, weather.text

        response = client.post(f"/v1/sites/{site_id}/dispatch", json={"date": PLAN_DAY})
        assert response.status_code == 201, response.text
        plan = response.json()
        # the same morning re-planned at 10:07 with nothing but the time: the windows that began are held
        replan = client.post(f"/v1/sites/{site_id}/dispatch", json={"from": f"{PLAN_DAY}T10:07:00+08:00"})
        assert replan.status_code == 201, replan.text
        held = {k for k, v in replan.json()["sources"].items() if k.startswith("committed.")}
        assert held == {"committed.dryers", "committed.heat_treatment", "committed.forklifts"}
        assert replan.json()["sources"]["initial_state.battery.initial_soc_frac"]["origin"] == "previous-plan"

    assert plan["status"] in ("optimal", "feasible")
    sources = {k: v["origin"] for k, v in plan["sources"].items()}
    assert sources["inputs.pv_roof"] == "forecast:pvlib"
    assert {sources[f"inputs.{n}"] for n in frame.columns} == {"forecast:load-model"}
    assert sources["initial_state.battery.initial_soc_frac"] == "reading"
    assert sources["initial_state.compressors_lu.initial_units_on"] == "reading"
    assert sources["initial_state.grid.month_to_date_peak_kw"] == "reading"
    assert sources["initial_state.ice_tank.initial_level_frac"] == "site"  # no reading of it: labelled
    engine = create_engine(database_url(tmp_path / "ems.sqlite"))
    with Session(engine) as session:  # the problem solved: state from the readings
        problem = session.get(ScheduleRecord, plan["schedule_id"]).problem
    engine.dispose()
    assets = {a["name"]: a for a in problem["assets"]}
    assert assets["grid"]["month_to_date_peak_kw"] == pytest.approx(2100.0)  # the register's peak hour
    assert assets["battery"]["initial_soc_frac"] == pytest.approx(0.62)
    assert assets["compressors_lu"]["initial_units_on"] == 1

    index = Horizon.day(pd.Timestamp(PLAN_DAY).date(), TZ).index
    schedule = pd.DataFrame(plan["schedule"])
    pv = forecast_pv(site.pv_site(), read_open_meteo_json(WEATHER), index)["pv_roof_kw"].to_numpy()
    np.testing.assert_allclose(schedule["pv_roof.available_kw"], pv, atol=1e-3)
    load = site.load_model.forecast(frame["process_load"], index).to_numpy()
    np.testing.assert_allclose(schedule["process_load.power_kw"], load, atol=1e-3)
    assert np.abs(load - np.tile(frame["process_load"].to_numpy()[-96:], 1)).max() > 1.0  # not just yesterday


def test_sigkill_during_reading_uploads_loses_no_acknowledged_batch(tmp_path: Path) -> None:
    db_path = tmp_path / "readings.sqlite"
    acknowledged: list[int] = []
    stop = threading.Event()
    batch_rows = 2000

    def batch(i: int) -> list[dict[str, Any]]:
        times = pd.date_range("2026-01-01", periods=batch_rows, freq="15min", tz=TZ) + pd.Timedelta(days=21 * i)
        return [{"series": "load", "time": t.isoformat(), "value": float(i)} for t in times]

    def upload(url: str, site_id: int) -> None:
        with httpx.Client(base_url=url, headers=HEADERS, timeout=60) as client:
            for i in range(1000):
                if stop.is_set():
                    return
                try:
                    response = client.post(f"/v1/sites/{site_id}/readings", json={"readings": batch(i)})
                except httpx.HTTPError:
                    return
                assert response.status_code == 200, response.text
                acknowledged.append(i)

    site = {
        "name": "meters",
        "tz": TZ,
        "assets": [
            {"kind": "grid", "name": "grid", "import_limit_kw": 1000, "tariff": {"preset": "liaoning"}},
            {"kind": "load", "name": "site_load", "power_kw": "$inputs.load"},
        ],
    }
    with Server(db_path, tmp_path / "server.log") as server:
        site_id = httpx.post(f"{server.url}/v1/sites", json=site, headers=HEADERS, timeout=30).json()["id"]
        thread = threading.Thread(target=upload, args=(server.url, site_id))
        thread.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()
        stop.set()
        thread.join(timeout=60)
    assert len(acknowledged) >= 4
    engine = create_engine(database_url(db_path))
    with Session(engine) as session:
        assert_integrity(session.connection())
        counts = dict(
            session.execute(
                select(ReadingRecord.value, func.count()).join(MeterSeriesRecord).group_by(ReadingRecord.value)
            ).all()
        )
    engine.dispose()
    for i in acknowledged:
        assert counts.get(float(i)) == batch_rows, f"acknowledged batch {i} lost or partial"
    assert all(n == batch_rows for n in counts.values()), f"a partial batch: {counts}"


def test_register_hourly_peak_is_the_hours_average() -> None:
    """The register in the factory test: 1,200 kWh per hour, 2,100 in one hour -> a 2,100 kW quarter-hour peak."""
    from scenarios.meters import interval_average

    hours = pd.date_range("2026-07-01", "2026-07-04", freq="1h", tz=TZ)
    power = pd.Series(1200.0, index=hours)
    power.iloc[58] = 2100.0
    register = pd.concat([pd.Series([0.0], index=hours[:1]), power.cumsum().shift(1).iloc[1:]])
    index = pd.date_range("2026-07-01", "2026-07-04", freq="15min", tz=TZ, inclusive="left")
    averages = interval_average(register, "register", index)
    assert averages.idxmax() == pd.Timestamp("2026-07-03 10:00", tz=TZ)
    assert averages.max() == pytest.approx(2100.0) and averages.min() == pytest.approx(1200.0)
