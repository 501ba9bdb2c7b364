"""A week of an EMS's mornings against a running dispatch server, for the Shenyang factory example site.

What an EMS does each day, with the shipped example data standing in for its meters and weather service
(``scenarios/ems_demo_data.py``):

1. creates the site from ``scenarios/examples/shenyang_factory.yaml`` (or reuses the site of that name);
2. uploads 28 days of meter history before ``--start`` (``process_load``, ``process_cooling``, ``workshop_heat``,
   ``compressed_air``);
3. each day: uploads the previous day's readings, uploads that day's weather forecast (CSV, issued the day
   before at 12:00), and asks for a plan with only the date; the service forecasts PV (pvlib on the weather) and
   the loads (the site's load model on the readings) and takes the initial state from the latest readings;
4. prints the plan vs the readings over the week (``GET /performance``).

The demo has no battery or grid meter: the battery SOC (``battery.soc_frac``) and the grid import
(``grid.import_kw``) "measured" on a day are what that day's plan said they would be, as if the site had
followed its plan exactly. So the import's plan-vs-actual agrees by construction; the forecast errors of the loads
are real (the load model against the measured steel-plant load). PV output is not metered in the demo, so the
actual figures count no PV.

Start a server first (in another shell), then run this from the repository's environment::

    export DISPATCH_API_KEYS=change-me
    dispatch serve --host 127.0.0.1 --port 8000
    python examples/ems_week.py --url http://127.0.0.1:8000 --key change-me --start 2026-07-13 --days 7

Only the standard library talks to the server (``urllib.request``, ``json``); the data come from the repository.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from scenarios.ems_demo_data import TZ, history_frame, plan_as_readings, readings_rows, weather_csv
from scenarios.loader import load_scenario

REPO = Path(__file__).resolve().parents[1]
SITE_FILE = REPO / "scenarios" / "examples" / "shenyang_factory.yaml"
HISTORY_DAYS = 28
MAX_ROWS_PER_UPLOAD = 10_000
"""Readings per POST (about 0.8 MB of JSON; the server's default limit is 2 MB)."""
UTC_OFFSET = "+08:00"
"""Asia/Shanghai (no daylight saving time): local midnights as ISO 8601 for the query strings."""


class ApiError(RuntimeError):
    """The server answered with an error status."""


class Client:
    """The dispatch API over ``urllib.request``: JSON or text bodies, ``X-API-Key``, JSON answers."""

    def __init__(self, url: str, key: str, timeout_s: float) -> None:
        self.url, self.key, self.timeout_s = url.rstrip("/"), key, timeout_s

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """Sends one request; the answer's JSON (None when empty). :class:`ApiError` on a 4xx/5xx status."""
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers = {"X-API-Key": self.key, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            raise ApiError(f"{method} {path}: {error.code} {error.read().decode()[:2000]}") from error
        return json.loads(text) if text else None


def site_body() -> dict[str, Any]:
    """The example scenario's ``site:`` block as the JSON body of ``POST /v1/sites``."""
    return load_scenario(SITE_FILE).scenario.site.model_dump(mode="json", exclude_unset=True)


def find_or_create_site(client: Client, body: dict[str, Any]) -> tuple[int, bool]:
    """The id of the site named like ``body`` (the first one), creating it when there is none; and whether new."""
    for site in client.request("GET", "/v1/sites"):
        if site.get("name") == body["name"]:
            return int(site["id"]), False
    return int(client.request("POST", "/v1/sites", body)["id"]), True


def upload_readings(client: Client, site_id: int, rows: list[dict[str, Any]]) -> int:
    """Posts ``rows`` in batches of at most :data:`MAX_ROWS_PER_UPLOAD`; readings written."""
    written = 0
    for first in range(0, len(rows), MAX_ROWS_PER_UPLOAD):
        batch = {"readings": rows[first : first + MAX_ROWS_PER_UPLOAD]}
        written += client.request("POST", f"/v1/sites/{site_id}/readings", batch)["rows"]
    return written


def local_midnight(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00{UTC_OFFSET}"


def sources_summary(sources: dict[str, dict[str, Any]]) -> str:
    """``inputs: forecast:load-model x4, forecast:pvlib x1; state: reading x2, site x5``."""
    parts = []
    for group in ("inputs", "initial_state"):
        counts = Counter(s["origin"] for name, s in sources.items() if name.startswith(group + "."))
        text = ", ".join(f"{origin} x{n}" for origin, n in sorted(counts.items()))
        parts.append(f"{'state' if group == 'initial_state' else group}: {text or '-'}")
    return "; ".join(parts)


def battery_capacity_kwh(site: dict[str, Any], battery: str = "battery") -> float:
    return float(next(a for a in site["assets"] if a["name"] == battery)["capacity_kwh"])


def metered_day(day: dt.date, plan: dict[str, Any] | None, capacity_kwh: float) -> list[dict[str, Any]]:
    """A day's readings: the inputs from the shipped data; the battery SOC and the grid import from the day's
    plan as if metered (none without a plan)."""
    rows = readings_rows(history_frame(day, day + dt.timedelta(days=1)))
    if plan is not None:
        rows += readings_rows(plan_as_readings(plan["schedule"], capacity_kwh))
    return rows


def print_performance(report: dict[str, Any]) -> None:
    """Plan vs actual per day and in total: import, energy cost, peak and the load forecasts' errors."""
    print("\nplan vs readings (GET /performance; the actual import is the plan's, see the module docstring):")
    header = f"{'day':<12}{'steps':>6}{'import plan kWh':>17}{'actual kWh':>12}{'cost plan CNY':>15}{'actual CNY':>12}"
    print(header + "  load forecast MAE (bias)")
    for block in [*report["days"], {"date": "total", **report["total"]}]:
        plan, actual = block.get("plan", {}), block.get("actual", {})
        errors = ", ".join(
            f"{name} {e['mae']:.1f} ({e['bias']:+.1f})" for name, e in sorted(block.get("forecast_errors", {}).items())
        )
        print(
            f"{block['date']:<12}{block['steps_compared']:>6}"
            f"{plan.get('import_kwh', float('nan')):>17,.0f}{actual.get('import_kwh', float('nan')):>12,.0f}"
            f"{plan.get('energy_cost_cny', float('nan')):>15,.0f}{actual.get('energy_cost_cny', float('nan')):>12,.0f}"
            f"  {errors or '-'}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server (default %(default)s)")
    parser.add_argument("--key", required=True, help="an API key the server accepts (DISPATCH_API_KEYS)")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 7, 13), help="first day planned")
    parser.add_argument("--days", type=int, default=7, help="days planned (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=120.0, help="per request [s] (default %(default)s)")
    args = parser.parse_args()
    client = Client(args.url, args.key, args.timeout)
    days = [args.start + dt.timedelta(days=i) for i in range(args.days)]

    body = site_body()
    site_id, created = find_or_create_site(client, body)
    print(f"site {site_id} {body['name']!r} ({'created' if created else 'reused: found by name'})")
    capacity_kwh = battery_capacity_kwh(body)
    first = args.start - dt.timedelta(days=HISTORY_DAYS)
    history = readings_rows(history_frame(first, args.start))
    started = time.perf_counter()
    written = upload_readings(client, site_id, history)
    print(
        f"history {first} .. {args.start - dt.timedelta(days=1)}: {written:,} readings in "
        f"{time.perf_counter() - started:.1f} s"
    )
    print(
        "inputs from the shipped data; battery.soc_frac and grid.import_kw from the previous day's plan, as if metered"
    )

    plan: dict[str, Any] | None = None
    for day in days:
        yesterday = day - dt.timedelta(days=1)
        if plan is not None:  # the first day's were in the history
            upload_readings(client, site_id, metered_day(yesterday, plan, capacity_kwh))
        issued_at = dt.datetime.combine(yesterday, dt.time(12, 0)).isoformat() + UTC_OFFSET
        client.request(
            "POST",
            f"/v1/sites/{site_id}/weather",
            weather_csv(day),
            params={"issued_at": issued_at},
            content_type="text/csv",
        )
        started = time.perf_counter()
        plan = client.request("POST", f"/v1/sites/{site_id}/dispatch", {"date": day.isoformat()})
        latency_s = time.perf_counter() - started
        kpis = plan["kpis"]
        print(
            f"{day} {day.strftime('%a')}  plan {plan['schedule_id']:>4} {plan['status']:<8} "
            f"cost {kpis['energy_cost_cny']:>9,.0f} CNY  import {kpis['import_kwh']:>7,.0f} kWh  "
            f"{latency_s:5.2f} s (solve {plan['solver']['solve_seconds']:.2f} s)  {sources_summary(plan['sources'])}"
        )
    upload_readings(client, site_id, metered_day(days[-1], plan, capacity_kwh))  # the last day, for /performance

    end = days[-1] + dt.timedelta(days=1)
    params = {"start": local_midnight(args.start), "end": local_midnight(end)}
    print_performance(client.request("GET", f"/v1/sites/{site_id}/performance", params=params))
    print(f"(times: {TZ})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ApiError, urllib.error.URLError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
