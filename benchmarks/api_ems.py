"""HTTP API, the EMS service: bulk meter readings in and out, and date-only dispatch from stored data.

Starts a real uvicorn server on 127.0.0.1 (1 worker, a temporary SQLite database, WAL + synchronous=FULL as in
production; :class:`benchmarks.api_latency.Server`) with the Shenyang factory example site
(``scenarios/examples/shenyang_factory.yaml``), and measures:

- ``readings``: a year (2025) of 15-minute readings of 36 series of one site, uploaded as JSON in batches of at
  most 1.5 MB, one after the other, series by series (a back-fill): rows, seconds, rows/s. The series are the
  site's 5 inputs (``process_load``, ``process_cooling``, ``workshop_heat``, ``compressed_air`` from the shipped
  data, ``pv_roof`` from the bundled PV year), ``grid.import_kw``, ``grid.export_kw`` and the 29 other ``_kw``
  columns of the factory's plan as metered flows (seeded random values). Then range reads (``GET /readings``,
  JSON; and the year as CSV): one series for a year, all series for a day, one series for a week, p50 of 5 each;
  and the SQLite file size (database + WAL).
- ``dispatch``: another site of the same factory with 28 days of history (``scenarios.ems_demo_data``); for N
  consecutive days (from 2026-07-13), untimed: the previous day's readings (inputs, and the previous plan's
  battery SOC and grid import as if metered) and the day's weather CSV (issued the day before at 12:00); timed:
  ``POST /dispatch`` with only the date. p50, p95 and max of the call, and the server's solve time
  (``solver.solve_seconds``: build and HiGHS in the solver child). The solver child's forkserver is warmed first
  by a dispatch on the readings site.

Measured, never asserted.

    python -m benchmarks.api_ems            # 20 dispatch days (about 3 minutes on 2 cores)
    python -m benchmarks.api_ems --quick    # 3 dispatch days, writes api_ems_quick.* (CI)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from benchmarks.api_latency import HEADERS, Server
from benchmarks.core import RESULTS, cell, machine_info
from scenarios.ems_demo_data import TZ, history_frame, plan_as_readings, readings_body, weather_csv
from scenarios.loader import load_scenario

REPO = Path(__file__).resolve().parents[1]
SITE_FILE = REPO / "scenarios" / "examples" / "shenyang_factory.yaml"
PV_YEAR = REPO / "scenarios" / "data" / "shenyang_tmy_hourly.csv"
SEED = 20260715
YEAR = 2025
MAX_BATCH_BYTES = 1_500_000
"""Largest readings body sent [bytes] (the server's default limit is 2,000,000)."""
READ_REPEATS = 5
HISTORY_DAYS = 28
FIRST_DISPATCH_DAY = dt.date(2026, 7, 13)
PV_KWP = 1500.0
INPUT_SERIES = ("process_load", "process_cooling", "workshop_heat", "compressed_air", "pv_roof")
GRID_SERIES = ("grid.import_kw", "grid.export_kw")
FLOW_SERIES = (
    "pv_roof.available_kw",
    "pv_roof.output_kw",
    "process_load.power_kw",
    "battery.charge_kw",
    "battery.discharge_kw",
    "process_cooling.cooling_kw",
    "chiller_1.cooling_kw",
    "chiller_1.ice_kw",
    "chiller_1.power_kw",
    "chiller_2.cooling_kw",
    "chiller_2.power_kw",
    "ice_tank.charge_kw",
    "ice_tank.discharge_kw",
    "compressors_lu.power_kw",
    "compressors_lu.recovered_heat_kw",
    "compressors_lu.dumped_heat_kw",
    "compressors_vsd.power_kw",
    "compressors_vsd.recovered_heat_kw",
    "compressors_vsd.dumped_heat_kw",
    "workshop_heat.heat_kw",
    "gas_boiler.heat_kw",
    "heat_pump.heat_kw",
    "heat_pump.electricity_kw",
    "hot_water_tank.charge_kw",
    "hot_water_tank.discharge_kw",
    "dryers.power_kw",
    "heat_treatment.power_kw",
    "forklifts.power_kw",
    "green_certificates.power_kw",
)
"""The factory plan's other ``_kw`` columns, uploaded as metered flows ``<asset>.<column>``."""
SERIES = (*INPUT_SERIES, *GRID_SERIES, *FLOW_SERIES)
READING_COLUMNS = ("case", "requests", "rows", "mb", "seconds", "rows_per_s", "p50_s", "min_s", "max_s")
DISPATCH_COLUMNS = (
    "case",
    "calls",
    "statuses",
    "pv_source",
    "p50_s",
    "p95_s",
    "max_s",
    "mean_s",
    "solve_p50_s",
    "solve_p95_s",
    "solve_max_s",
    "overhead_p50_s",
)


def factory_site(name: str) -> dict[str, Any]:
    """The example scenario's site as the body of ``POST /v1/sites``, renamed."""
    site = load_scenario(SITE_FILE).scenario.site.model_dump(mode="json", exclude_unset=True)
    return {**site, "name": name}


def year_frame(year: int = YEAR) -> pd.DataFrame:
    """A year of the 36 series on quarter-hours [kW, kW_th, m3/min]: the inputs from the shipped data, the rest
    seeded random values within the assets' typical ranges (rounded to 0.01)."""
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    frame = history_frame(start, end)
    pv_hourly = pd.read_csv(PV_YEAR)["pv_fixed_kw_per_kwp"].to_numpy()
    frame["pv_roof"] = (np.repeat(pv_hourly, 4)[: len(frame)] * PV_KWP).round(2)
    rng = np.random.default_rng(SEED)
    for name in (*GRID_SERIES, *FLOW_SERIES):
        high_kw = 2500.0 if name.startswith("grid.") else 500.0
        frame[name] = rng.uniform(0.0, high_kw, len(frame)).round(2)
    return frame[list(SERIES)]


def json_batches(frame: pd.DataFrame, max_bytes: int = MAX_BATCH_BYTES) -> list[bytes]:
    """``frame`` as JSON readings bodies of at most ``max_bytes``, series by series, in time order."""
    times = [t.isoformat() for t in frame.index]
    opening, closing = b'{"readings":[', b"]}"
    batches: list[bytes] = []
    rows: list[bytes] = []
    size = len(opening) + len(closing)
    for name in frame.columns:
        for time_text, value in zip(times, frame[name].to_numpy(dtype=float).tolist(), strict=True):
            row = f'{{"series":"{name}","time":"{time_text}","value":{value!r}}}'.encode()
            if rows and size + len(row) + 1 > max_bytes:
                batches.append(opening + b",".join(rows) + closing)
                rows, size = [], len(opening) + len(closing)
            rows.append(row)
            size += len(row) + 1
    if rows:
        batches.append(opening + b",".join(rows) + closing)
    return batches


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def database_bytes(db: Path) -> dict[str, int]:
    """Sizes of the SQLite database and its WAL [bytes]."""
    sizes = {"db_bytes": db.stat().st_size if db.exists() else 0}
    wal = db.with_name(db.name + "-wal")
    sizes["wal_bytes"] = wal.stat().st_size if wal.exists() else 0
    return sizes


def upload_year(client: httpx.Client, site_id: int, frame: pd.DataFrame) -> dict[str, Any]:
    """Uploads the year in batches; one row of the readings table."""
    batches = json_batches(frame)
    rows = 0
    per_batch: list[float] = []
    started = time.perf_counter()
    for body in batches:
        sent = time.perf_counter()
        response = client.post(
            f"/v1/sites/{site_id}/readings", content=body, headers={**HEADERS, "Content-Type": "application/json"}
        )
        per_batch.append(time.perf_counter() - sent)
        response.raise_for_status()
        rows += response.json()["rows"]
    seconds = time.perf_counter() - started
    return {
        "case": f"upload a year of {len(frame.columns)} series (JSON batches <= {MAX_BATCH_BYTES / 1e6:g} MB)",
        "requests": len(batches),
        "rows": rows,
        "mb": sum(len(b) for b in batches) / 1e6,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "p50_s": statistics.median(per_batch),
        "min_s": min(per_batch),
        "max_s": max(per_batch),
        "batch_seconds": per_batch,
    }


def range_read(
    client: httpx.Client, site_id: int, case: str, params: dict[str, Any], repeats: int = READ_REPEATS
) -> dict[str, Any]:
    """``GET /readings`` ``repeats`` times; one row of the readings table."""
    times: list[float] = []
    rows = size = 0
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(f"/v1/sites/{site_id}/readings", params=params, headers=HEADERS)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
        size = len(response.content)
        rows = len(response.json()) if params.get("format", "json") == "json" else response.text.count("\n") - 1
    return {
        "case": case,
        "requests": repeats,
        "rows": rows,
        "mb": size / 1e6,
        "seconds": sum(times),
        "rows_per_s": rows / statistics.median(times),
        "p50_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
    }


def readings_case(client: httpx.Client, site_id: int) -> list[dict[str, Any]]:
    """(a): the year up, then the range reads."""
    frame = year_frame()
    out = [upload_year(client, site_id, frame)]
    year = {"start": f"{YEAR}-01-01T00:00:00+08:00", "end": f"{YEAR + 1}-01-01T00:00:00+08:00"}
    day = {"start": f"{YEAR}-07-15T00:00:00+08:00", "end": f"{YEAR}-07-16T00:00:00+08:00"}
    week = {"start": f"{YEAR}-07-14T00:00:00+08:00", "end": f"{YEAR}-07-21T00:00:00+08:00"}
    out.append(range_read(client, site_id, "read one series, a year (JSON)", {**year, "series": "process_load"}))
    csv_year = {**year, "series": "process_load", "format": "csv"}
    out.append(range_read(client, site_id, "read one series, a year (CSV)", csv_year))
    out.append(range_read(client, site_id, f"read all {len(frame.columns)} series, a day (JSON)", day))
    out.append(range_read(client, site_id, "read one series, a week (JSON)", {**week, "series": "grid.import_kw"}))
    return out


def post_readings(client: httpx.Client, site_id: int, frame: pd.DataFrame) -> None:
    response = client.post(f"/v1/sites/{site_id}/readings", json=readings_body(frame), headers=HEADERS)
    response.raise_for_status()


def post_weather(client: httpx.Client, site_id: int, day: dt.date) -> None:
    issued_at = f"{day - dt.timedelta(days=1)}T12:00:00+08:00"
    response = client.post(
        f"/v1/sites/{site_id}/weather",
        content=weather_csv(day).encode(),
        params={"issued_at": issued_at},
        headers={**HEADERS, "Content-Type": "text/csv"},
    )
    response.raise_for_status()


def dispatch_case(client: httpx.Client, site_id: int, calls: int, capacity_kwh: float) -> dict[str, Any]:
    """(b): 28 days of history, then ``calls`` consecutive days, each after its readings and weather."""
    first = FIRST_DISPATCH_DAY
    history = history_frame(first - dt.timedelta(days=HISTORY_DAYS), first)
    for name in history.columns:  # one batch per series (~0.2 MB each)
        post_readings(client, site_id, history[[name]])
    latencies: list[float] = []
    solves: list[float] = []
    statuses: Counter[str] = Counter()
    pv_sources: Counter[str] = Counter()
    days: list[dict[str, Any]] = []
    plan: dict[str, Any] | None = None
    for i in range(calls):
        day = first + dt.timedelta(days=i)
        if plan is not None:  # yesterday as metered: the inputs, and the plan's SOC and import
            yesterday = day - dt.timedelta(days=1)
            post_readings(client, site_id, history_frame(yesterday, day))
            post_readings(client, site_id, plan_as_readings(plan["schedule"], capacity_kwh))
        post_weather(client, site_id, day)
        started = time.perf_counter()
        response = client.post(f"/v1/sites/{site_id}/dispatch", json={"date": day.isoformat()}, headers=HEADERS)
        elapsed = time.perf_counter() - started
        if response.status_code != 201:
            statuses[f"http {response.status_code}"] += 1
            days.append({"date": day.isoformat(), "http": response.status_code, "latency_s": elapsed})
            plan = None
            continue
        plan = response.json()
        solve_s = float(plan["solver"]["solve_seconds"])
        latencies.append(elapsed)
        solves.append(solve_s)
        statuses[plan["status"]] += 1
        pv_sources[plan["sources"]["inputs.pv_roof"]["origin"]] += 1
        days.append(
            {
                "date": day.isoformat(),
                "status": plan["status"],
                "latency_s": elapsed,
                "solve_s": solve_s,
                "highs_s": plan["solver"].get("highs_seconds"),
                "energy_cost_cny": plan["kpis"]["energy_cost_cny"],
                "import_kwh": plan["kpis"]["import_kwh"],
                "sources": dict(Counter(s["origin"] for s in plan["sources"].values())),
            }
        )
        print(f"  {day} {plan['status']:<8} {elapsed:6.2f} s (solve {solve_s:5.2f} s)")
    overheads = [a - b for a, b in zip(latencies, solves, strict=True)]
    return {
        "case": f"date-only dispatch, full factory, {HISTORY_DAYS} d history + weather",
        "calls": calls,
        "statuses": " ".join(f"{k}x{v}" for k, v in sorted(statuses.items())),
        "pv_source": " ".join(f"{k}x{v}" for k, v in sorted(pv_sources.items())),
        "p50_s": percentile(latencies, 50),
        "p95_s": percentile(latencies, 95),
        "max_s": max(latencies) if latencies else None,
        "mean_s": statistics.fmean(latencies) if latencies else None,
        "solve_p50_s": percentile(solves, 50),
        "solve_p95_s": percentile(solves, 95),
        "solve_max_s": max(solves) if solves else None,
        "overhead_p50_s": percentile(overheads, 50),
        "days": days,
    }


def warm_up(client: httpx.Client, site_id: int) -> float:
    """A date-only dispatch on the readings site (history from its year): starts the solver child's forkserver
    and imports; its latency [s]."""
    started = time.perf_counter()
    response = client.post(f"/v1/sites/{site_id}/dispatch", json={"date": f"{YEAR + 1}-01-01"}, headers=HEADERS)
    response.raise_for_status()
    return time.perf_counter() - started


def table(title: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Table:
    out = Table(title=title)
    for column in columns:
        out.add_column(column, justify="right")
    for row in rows:
        out.add_row(*(cell(row.get(c)) for c in columns))
    return out


def markdown(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20, help="dispatch days (default 20)")
    parser.add_argument("--quick", action="store_true", help="3 dispatch days; writes api_ems_quick.* (CI)")
    args = parser.parse_args()
    calls = 3 if args.quick else max(1, args.calls)
    name = "api_ems_quick" if args.quick else "api_ems"
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="api-ems-") as folder:
        tmp = Path(folder)
        db = tmp / "ems.sqlite"
        server = Server(db, 1, tmp / "server.log", {"DISPATCH_MAX_CONCURRENT_SOLVES": "2"})
        try:
            with httpx.Client(base_url=server.url, timeout=600) as client:
                meters = client.post("/v1/sites", json=factory_site("readings benchmark"), headers=HEADERS)
                meters.raise_for_status()
                meters_id = meters.json()["id"]
                print(f"(a) readings: a year of {len(SERIES)} series ...")
                reading_rows = readings_case(client, meters_id)
                sizes_after_readings = database_bytes(db)
                warm_s = warm_up(client, meters_id)
                site = factory_site("dispatch benchmark")
                created = client.post("/v1/sites", json=site, headers=HEADERS)
                created.raise_for_status()
                capacity_kwh = float(next(a for a in site["assets"] if a["name"] == "battery")["capacity_kwh"])
                print(f"(b) date-only dispatch: {calls} days ...")
                dispatch_row = dispatch_case(client, created.json()["id"], calls, capacity_kwh)
                sizes_after_dispatch = database_bytes(db)
        finally:
            server.close()
    wall_s = time.perf_counter() - started

    upload = reading_rows[0]
    storage = {
        "after_readings": sizes_after_readings,
        "after_dispatch": sizes_after_dispatch,
        "bytes_per_reading": (sizes_after_readings["db_bytes"] + sizes_after_readings["wal_bytes"]) / upload["rows"],
    }
    console = Console(width=220)
    console.print(
        table("EMS readings: a year of 36 series of the factory site, 1 worker, SQLite", READING_COLUMNS, reading_rows)
    )
    db_mb = (sizes_after_readings["db_bytes"] + sizes_after_readings["wal_bytes"]) / 1e6
    print(
        f"SQLite after the year: {sizes_after_readings['db_bytes'] / 1e6:,.1f} MB database + "
        f"{sizes_after_readings['wal_bytes'] / 1e6:,.1f} MB WAL ({storage['bytes_per_reading']:.0f} bytes per reading)"
    )
    console.print(table("EMS date-only dispatch: full factory, 1 worker", DISPATCH_COLUMNS, [dispatch_row]))
    print(f"first (cold) dispatch, on the readings site: {warm_s:.2f} s; whole run {wall_s:.0f} s")
    load = {"before": load_before, "after": os.getloadavg()}
    print(f"load average (1, 5, 15 min) before {load['before']}, after {load['after']}: other work skews the times")

    RESULTS.mkdir(exist_ok=True)
    payload = {
        "group": name,
        "series": list(SERIES),
        "year": YEAR,
        "max_batch_bytes": MAX_BATCH_BYTES,
        "dispatch_calls": calls,
        "first_dispatch_day": FIRST_DISPATCH_DAY.isoformat(),
        "timezone": TZ,
        "readings": reading_rows,
        "storage": storage,
        "cold_dispatch_s": warm_s,
        "dispatch": dispatch_row,
        "wall_s": wall_s,
        "load_average": load,
        "machine": machine_info(),
    }
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(payload, indent=2, default=str))
    machine = payload["machine"]
    quick = " --quick" if args.quick else ""
    lines = [
        f"# EMS service: readings and date-only dispatch (`python -m benchmarks.api_ems{quick}`)",
        "",
        f"{machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, HiGHS {machine['highs']}, "
        f"commit {machine['commit']}, {machine['date']}; 1 uvicorn worker, SQLite (WAL, synchronous=FULL).",
        "",
        f"## Readings: a year ({YEAR}) of 15-minute data, {len(SERIES)} series of one site",
        "",
        *markdown(READING_COLUMNS, reading_rows),
        "",
        f"SQLite after the year: {db_mb:,.1f} MB (database {sizes_after_readings['db_bytes']:,} bytes, WAL "
        f"{sizes_after_readings['wal_bytes']:,} bytes), {storage['bytes_per_reading']:.0f} bytes per reading.",
        "",
        f"## Date-only dispatch: full factory, {calls} consecutive days from {FIRST_DISPATCH_DAY}",
        "",
        *markdown(DISPATCH_COLUMNS, [dispatch_row]),
        "",
        f"Cold first dispatch (forkserver start, on the readings site): {warm_s:.2f} s.",
    ]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out} and {RESULTS / f'{name}.md'}")


if __name__ == "__main__":
    main()
