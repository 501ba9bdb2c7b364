"""Targets and contract volumes over a month through the API, across mornings: the service keeps a daily account of
each site in the database (readings, the plan in force where a reading is missing, green purchases as planned),
closes the days before each plan, and carries the period to date into the plan (``Targets.so_far``), so a one-day
plan paces the month. Hand-computed numbers on small sites: a flat 100 kW load, a flat grid price."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.models import AccountDayRecord, ReadingUploadRecord, ScheduleRecord
from tests.api_fixtures import HEADERS, create_site, make_settings

TZ = "Asia/Shanghai"
GRID = {
    "kind": "grid",
    "name": "grid",
    "import_limit_kw": 1000.0,
    "import_price_cny_per_kwh": 0.5,
    "location_kgco2_per_kwh": 0.5,
    "market_kgco2_per_kwh": 0.6,
}
LOAD = {"kind": "load", "name": "plant", "power_kw": 100.0}  # 2,400 kWh a day


@pytest.fixture
def client(tmp_path: Path):
    with TestClient(create_app(make_settings(tmp_path))) as test_client:
        yield test_client


def contract_site() -> dict[str, Any]:
    """A PPA of 3,100 kWh a month (100 kWh a day in July's 31 days) at 0.6 CNY/kWh against the grid's 0.5: the
    plan takes what the month's pro-rata line asks and no more. Take-or-pay at 1 CNY/kWh (a soft minimum)."""
    ppa = {
        "kind": "green_contract",
        "name": "ppa",
        "price_cny_per_kwh": 0.6,
        "min_energy_kwh": 3100.0,
        "energy_over": "month",
        "shortfall_price_cny_per_kwh": 1.0,
    }
    return {"name": "ppa plant", "tz": TZ, "assets": [GRID, LOAD, ppa]}


def share_site(over: str = "month") -> dict[str, Any]:
    """A green share of 20 % over ``over``: PV (an input) counts, else green certificates at 0.05 CNY/kWh on top of
    the grid price, so the plan buys exactly the certificates the share needs."""
    pv = {"kind": "pv", "name": "pv", "available_kw": "$inputs.pv"}
    gec = {"kind": "green_contract", "name": "gec", "pricing": "certificate", "price_cny_per_kwh": 0.05}
    return {
        "name": "share plant",
        "tz": TZ,
        "targets": {"green_share": {"min_frac": 0.2, "over": over}},
        "assets": [GRID, LOAD, pv, gec],
    }


def _steps(day: str, first: int = 0, last: int = 96) -> pd.DatetimeIndex:
    """Quarter-hours ``first``..``last - 1`` of a local day."""
    return pd.date_range(pd.Timestamp(day, tz=TZ), periods=96, freq="15min")[first:last]


def _post(client: TestClient, site_id: int, name: str, values: pd.Series) -> None:
    rows = [{"series": name, "time": t.isoformat(), "value": float(v)} for t, v in values.items()]
    response = client.post(f"/v1/sites/{site_id}/readings", json={"readings": rows}, headers=HEADERS)
    assert response.status_code == 200, response.text


def _dispatch(client: TestClient, site_id: int, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/v1/sites/{site_id}/dispatch", json=body, headers=HEADERS)
    assert response.status_code == 201, response.text
    return response.json()


def _taken_kwh(plan: dict[str, Any], column: str) -> float:
    return sum(r[column] for r in plan["schedule"]) * 0.25


def _so_far(client: TestClient, plan: dict[str, Any]) -> dict[str, Any]:
    with client.app.state.sessions() as session:
        return session.get(ScheduleRecord, plan["schedule_id"]).problem["targets"]["so_far"]


def _account(client: TestClient, site_id: int) -> list[AccountDayRecord]:
    with client.app.state.sessions() as session:
        query = select(AccountDayRecord).where(AccountDayRecord.site_id == site_id).order_by(AccountDayRecord.id)
        return list(session.scalars(query))


def _read_a_day(client: TestClient, site_id: int, day: str) -> None:
    """A day's readings: import 100 kW (the load), export 0."""
    _post(client, site_id, "grid.import_kw", pd.Series(100.0, index=_steps(day)))
    _post(client, site_id, "grid.export_kw", pd.Series(0.0, index=_steps(day)))


def _item(plan: dict[str, Any], item: str) -> dict[str, Any]:
    (found,) = [a for a in plan["period_account"] if a["item"] == item]
    return found


def test_a_monthly_ppa_minimum_follows_the_pro_rata_line_across_mornings(client: TestClient) -> None:
    """Morning 1 (July 1, nothing before): 3,100 x 1/31 = 100 kWh. Morning 2 the PPA is held to 2.5 kW (60 kWh):
    the line asks 200 - 100 = 100, the day takes 60. Morning 3: the line is at 3 x 100 = 300, the account has
    taken 100 + 60 = 160 (the plans in force: green purchases have no meter), so the day takes 140. The account's
    days come from the readings (2,400 kWh import a day); emissions: location 2,400 x 0.5 = 1,200 kgCO2, market
    (2,400 - green) x 0.6 = 1,380 and 1,404. A re-plan at 12:07 on July 3 counts the morning's planned PPA energy x
    too and takes 140 - x: the day still takes 140. A request that sends its own so_far (300 kWh taken) wins: the
    day takes 300 - 300 = 0."""
    site_id = create_site(client, contract_site())
    first = _dispatch(client, site_id, {"date": "2026-07-01"})
    assert _taken_kwh(first, "ppa.power_kw") == pytest.approx(100.0, abs=1e-3)
    assert _so_far(client, first)["since"] == "2026-07-01" and _so_far(client, first)["contracts_kwh"] == {"ppa": 0.0}
    ppa = _item(first, "ppa.energy")
    assert (ppa["period"], ppa["unit"], ppa["counted_from"]) == ("2026-07", "kWh", "2026-07-01")
    assert (ppa["required_to_date"], ppa["achieved_to_date"], ppa["plan_required"]) == (0.0, 0.0, 100.0)

    _read_a_day(client, site_id, "2026-07-01")
    second = _dispatch(client, site_id, {"date": "2026-07-02", "overrides": {"ppa.max_kw": 2.5}})
    assert _taken_kwh(second, "ppa.power_kw") == pytest.approx(60.0, abs=1e-3)
    assert _item(second, "ppa.energy")["plan_required"] == 100.0
    assert second["kpis"]["cost_cny_by_component"]["take_or_pay"] == pytest.approx(40.0, abs=1e-3)  # 40 kWh x 1

    _read_a_day(client, site_id, "2026-07-02")
    third = _dispatch(client, site_id, {"date": "2026-07-03"})
    assert _taken_kwh(third, "ppa.power_kw") == pytest.approx(140.0, abs=1e-3)
    ppa = _item(third, "ppa.energy")
    assert ppa["required_to_date"] == 200.0 and ppa["achieved_to_date"] == 160.0
    assert ppa["plan_required"] == 140.0 and ppa["plan_achieved"] == pytest.approx(140.0, abs=1e-3)
    assert ppa["origin"] == "previous-plan"  # green purchases are not metered
    assert third["sources"]["targets.so_far"]["origin"] == "reading"  # the metered flows all came from readings
    so_far = _so_far(client, third)
    assert so_far["contracts_kwh"] == {"ppa": 160.0} and so_far["since"] == "2026-07-01"

    rows = _account(client, site_id)
    assert [(r.day, r.source, r.import_kwh, r.export_kwh) for r in rows] == [
        (dt.date(2026, 7, 1), "readings", 2400.0, 0.0),
        (dt.date(2026, 7, 2), "readings", 2400.0, 0.0),
    ]
    assert [(r.contracts_kwh, r.green_kwh) for r in rows] == [({"ppa": 100.0}, 100.0), ({"ppa": 60.0}, 60.0)]
    assert [(r.emissions_location_kgco2, r.emissions_market_kgco2) for r in rows] == [
        (1200.0, 1380.0),
        (1200.0, 1404.0),
    ]

    replan = _dispatch(client, site_id, {"from": "2026-07-03T12:07:00+08:00"})
    morning = sum(r["ppa.power_kw"] for r in third["schedule"][:49]) * 0.25  # 00:00 to 12:15, as planned
    assert _so_far(client, replan)["contracts_kwh"] == {"ppa": pytest.approx(160.0 + morning, abs=1e-3)}
    assert _taken_kwh(replan, "ppa.power_kw") == pytest.approx(140.0 - morning, abs=1e-3)
    assert replan["sources"]["targets.so_far"]["origin"] == "previous-plan"  # no readings yet today: the plan
    assert len(_account(client, site_id)) == 2  # today is not closed

    stored = client.get(f"/v1/schedules/{third['schedule_id']}", headers=HEADERS).json()
    assert stored["period_account"] == third["period_account"]

    # the request's own progress wins: 300 kWh taken says the line is met, so the day takes nothing
    told = _dispatch(client, site_id, {"date": "2026-07-03", "so_far": {"contracts_kwh": {"ppa": 300.0}}})
    assert _taken_kwh(told, "ppa.power_kw") == pytest.approx(0.0, abs=1e-3)
    assert told["sources"]["targets.so_far"]["origin"] == "request"
    ppa = _item(told, "ppa.energy")
    assert (ppa["origin"], ppa["achieved_to_date"], ppa["plan_required"]) == ("request", 300.0, 0.0)


def test_a_site_whose_data_starts_mid_month_paces_from_its_first_day(client: TestClient) -> None:
    """Readings only from July 11 (no plan before): July 1-10 are not closed, the account starts on July 11 and
    the plan of July 12 takes 3,100 x 2/31 = 200 kWh, not the 3,100 x 12/31 = 1,200 of a month since July 1."""
    site_id = create_site(client, contract_site())
    _post(client, site_id, "grid.import_kw", pd.Series(100.0, index=_steps("2026-07-11")))
    plan = _dispatch(client, site_id, {"date": "2026-07-12"})
    assert _taken_kwh(plan, "ppa.power_kw") == pytest.approx(200.0, abs=1e-3)
    ppa = _item(plan, "ppa.energy")
    assert (ppa["counted_from"], ppa["required_to_date"], ppa["achieved_to_date"]) == ("2026-07-11", 100.0, 0.0)
    assert [(r.day, r.contracts_kwh) for r in _account(client, site_id)] == [(dt.date(2026, 7, 11), {})]
    uploads = select(ReadingUploadRecord).where(ReadingUploadRecord.site_id == site_id)
    with client.app.state.sessions() as session:
        assert [u.n_readings for u in session.scalars(uploads)] == [96]
    assert client.delete(f"/v1/sites/{site_id}", headers=HEADERS).status_code == 204
    assert _account(client, site_id) == []  # the account goes with its site, and so does the upload log
    with client.app.state.sessions() as session:
        assert session.scalars(uploads).all() == []


def _first_day(client: TestClient, site_id: int) -> dict[str, Any]:
    """July 1 planned with PV 50 kW from 06:00 to 18:00 (600 kWh of 2,400 consumed: 25 %, no certificate needed),
    then its readings: PV as planned, export 0, import 100 kW at night and 50 kW by day but only until 18:00."""
    pv = pd.Series(0.0, index=_steps("2026-07-01"))
    pv.iloc[24:72] = 50.0
    plan = _dispatch(client, site_id, {"date": "2026-07-01", "inputs": {"pv": pv.tolist()}})
    assert _taken_kwh(plan, "gec.power_kw") == pytest.approx(0.0, abs=1e-3)
    _post(client, site_id, "pv", pv)
    _post(client, site_id, "grid.export_kw", pd.Series(0.0, index=_steps("2026-07-01")))
    _post(client, site_id, "grid.import_kw", (100.0 - pv).iloc[:72])
    return plan


def test_a_monthly_green_share_ahead_after_yesterday_asks_less_of_today(client: TestClient) -> None:
    """July 1 (readings; the evening's import, 18:00-24:00, not read yet: the plan in force's 100 kW): import
    6 x 100 + 12 x 50 + 6 x 100 = 1,800 kWh, PV 600, consumption 2,400, green 25 %. July 2 is dark: consumption
    2,400 with no PV. The month must reach 0.2 x (2,400 + 2,400) = 960 kWh green: July 2 buys 960 - 600 = 360 kWh
    of certificates, a share of 15 % (alone, 20 % = 480 kWh).

    The evening's readings then arrive, 120 kW (720 kWh, not 600): July 1 is closed again in a new row (the first
    is kept): import 1,920, consumption 2,520, share 600/2,520 = 23.81 %. The re-plan of July 2 needs
    0.2 x (2,520 + 2,400) - 600 = 384 kWh (16 %)."""
    site_id = create_site(client, share_site())
    _first_day(client, site_id)
    dark = {"date": "2026-07-02", "inputs": {"pv": [0.0] * 96}}
    plan = _dispatch(client, site_id, dark)
    assert _taken_kwh(plan, "gec.power_kw") == pytest.approx(360.0, abs=1e-3)
    assert _so_far(client, plan) == {
        "pv_available_kwh": 600.0,
        "pv_output_kwh": 600.0,
        "import_kwh": 1800.0,
        "export_kwh": 0.0,
        "green_kwh": 0.0,
        "contracts_kwh": {},
        "emissions_location_kgco2": 0.0,
        "emissions_market_kgco2": 0.0,
        "since": "2026-07-01",
    }
    share = _item(plan, "green_share")
    assert (share["period"], share["unit"], share["required_to_date"], share["achieved_to_date"]) == (
        "2026-07",
        "share",
        0.2,
        0.25,
    )
    assert share["plan_required"] == 0.15 and share["plan_achieved"] == pytest.approx(0.15, abs=1e-4)
    assert share["origin"] == "previous-plan"  # the evening's import came from the plan in force
    (shortfall,) = plan["kpis"]["target_shortfalls"]  # the optimiser's own figure over the month to date
    assert (shortfall["period"], shortfall["required"]) == ("2026-07", pytest.approx(960.0, abs=1e-3))
    (first_row,) = _account(client, site_id)
    assert (first_row.source, first_row.import_kwh, first_row.pv_output_kwh) == ("mixed", 1800.0, 600.0)

    _post(client, site_id, "grid.import_kw", pd.Series(120.0, index=_steps("2026-07-01", 72)))
    again = _dispatch(client, site_id, dark)
    assert _taken_kwh(again, "gec.power_kw") == pytest.approx(384.0, abs=1e-3)
    share = _item(again, "green_share")
    assert share["achieved_to_date"] == 0.2381 and share["plan_required"] == 0.16
    assert share["origin"] == "reading"
    rows = _account(client, site_id)
    assert [(r.day, r.source, r.import_kwh) for r in rows] == [
        (dt.date(2026, 7, 1), "mixed", 1800.0),  # appended, not updated: the first row is as it was
        (dt.date(2026, 7, 1), "readings", 1920.0),
    ]
    assert rows[0].recorded_at <= rows[1].recorded_at and rows[0].uploads_seen < rows[1].uploads_seen

    third = _dispatch(client, site_id, dark)  # nothing new arrived: nothing is closed again
    assert _taken_kwh(third, "gec.power_kw") == pytest.approx(384.0, abs=1e-3)
    assert len(_account(client, site_id)) == 2


def test_a_site_without_period_items_plans_the_day_alone_and_keeps_no_account(client: TestClient) -> None:
    """The same site with its green share over the horizon (the default): the account is not kept and nothing is
    carried into the day-ahead plan, which buys 0.2 x 2,400 = 480 kWh of certificates whatever July 1 did."""
    site_id = create_site(client, share_site(over="horizon"))
    _first_day(client, site_id)
    plan = _dispatch(client, site_id, {"date": "2026-07-02", "inputs": {"pv": [0.0] * 96}})
    assert _taken_kwh(plan, "gec.power_kw") == pytest.approx(480.0, abs=1e-3)
    assert _so_far(client, plan) is None
    assert "targets.so_far" not in plan["sources"] and plan["period_account"] == []
    assert _account(client, site_id) == []
