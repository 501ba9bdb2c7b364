"""Writes a database through a release's own API, then dumps its rows as stored (see README.md).

Run inside an export of the release (its ``api`` package on ``sys.path``): ``python write_release_rows.py OUT.json
full`` (release 0.1.0: a carbon site, readings, a weather forecast, two plans) or ``minimal`` (older releases: a
site without ``tz`` and a fixed PV power, one plan).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

KEY = {"X-API-Key": "release-key"}
TZ = "Asia/Shanghai"
GRID = {
    "kind": "grid",
    "name": "grid",
    "import_limit_kw": 1000.0,
    "import_price_cny_per_kwh": 0.5,
    "location_kgco2_per_kwh": 0.5306,
    "market_kgco2_per_kwh": 0.6096,
}
LOAD = {"kind": "load", "name": "plant", "power_kw": 100.0}
BATTERY = {
    "kind": "battery",
    "name": "battery",
    "capacity_kwh": 200.0,
    "charge_power_kw": 100.0,
    "discharge_power_kw": 100.0,
    "initial_soc_frac": 0.5,
}
GEC = {"kind": "gec", "id": "gec-2026-05", "mwh": 3, "production_month": "2026-05", "price_cny_per_mwh": 5}


def write(client: TestClient, full: bool) -> None:
    pv = {"kind": "pv", "name": "pv", "available_kw": "$inputs.pv" if full else 20.0}
    site: dict[str, Any] = {"name": "release plant", "latitude": 41.8, "longitude": 123.4}
    site |= {"tz": TZ, "carbon": {"lots": [GEC]}} if full else {}
    site["assets"] = [GRID, LOAD, pv, BATTERY]
    response = client.post("/v1/sites", json=site, headers=KEY)
    assert response.status_code == 201, response.text
    site_id = response.json()["id"]

    def dispatch(day: str) -> None:
        body = {"date": day, **({"inputs": {"pv": [20.0] * 96}} if full else {})}
        headers = {**KEY, "Idempotency-Key": f"release-{day}"}
        response = client.post(f"/v1/sites/{site_id}/dispatch", json=body, headers=headers)
        assert response.status_code == 201, response.text

    dispatch("2026-06-30")
    if not full:
        return
    steps = pd.date_range(pd.Timestamp("2026-06-30", tz=TZ), periods=96, freq="15min")
    for name, value in (("grid.import_kw", 80.0), ("grid.export_kw", 0.0), ("pv", 20.0)):
        rows = [{"series": name, "time": t.isoformat(), "value": value} for t in steps]
        response = client.post(f"/v1/sites/{site_id}/readings", json={"readings": rows}, headers=KEY)
        assert response.status_code == 200, response.text
    weather = json.loads(Path("tests/data/forecasting/open_meteo_shenyang_hourly.json").read_text())
    params = {"issued_at": "2026-07-14T06:00:00+08:00"}
    response = client.post(f"/v1/sites/{site_id}/weather", json=weather, headers=KEY, params=params)
    assert response.status_code == 201, response.text
    dispatch("2026-07-01")  # closes 30 June in the account


def main(out: Path, full: bool) -> None:
    database = Path(tempfile.mkdtemp()) / "release.sqlite"
    settings = Settings(api_keys=["release-key"], database_url=f"sqlite:///{database}", default_time_limit_s=20.0)
    with TestClient(create_app(settings)) as client:
        write(client, full)
    connection = sqlite3.connect(database)
    tables = {}
    for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        cursor = connection.execute(f'SELECT * FROM "{name}"')
        tables[name] = {"columns": [d[0] for d in cursor.description], "rows": [list(row) for row in cursor]}
    out.write_text(json.dumps(tables, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":  # the solver's forkserver imports this module again
    main(Path(sys.argv[1]), sys.argv[2] == "full")
