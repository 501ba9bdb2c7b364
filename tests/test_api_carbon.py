"""The carbon ledger through the API (issue 15, point 2): ``GET /v1/sites/{id}/carbon`` builds a year's ledger from
the site's daily account (readings, the plan in force where a reading is missing; gas burnt and purchased heat
included), and every run of ``POST /v1/scenarios/run`` carries its carbon totals and zero-carbon status.

Every number by hand. Factors: the bundled set CN/2023/published, which a 2026 ledger takes (grid 0.5306 kgCO2/kWh
location-based, residual 0.6096 market-based, natural gas 2.162 kgCO2/Nm3); the site's grid and boiler plan with the
same values. Restated: CN/2022/published (0.5366 and 0.5856; gas the same). A GEC is 1 MWh: 609.6 kgCO2 of
residual grid power on the 2023 set, 585.6 on the 2022 set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.models import AccountDayRecord
from tests.api_fixtures import HEADERS, create_site, field_names, make_settings

TZ = "Asia/Shanghai"
GRID = {
    "kind": "grid",
    "name": "grid",
    "import_limit_kw": 1000.0,
    "import_price_cny_per_kwh": 0.5,
    "location_kgco2_per_kwh": 0.5306,
    "market_kgco2_per_kwh": 0.6096,
}
LOAD = {"kind": "load", "name": "plant", "power_kw": 100.0}  # 2,400 kWh a day
PV = {"kind": "pv", "name": "pv", "available_kw": "$inputs.pv"}
HEAT = {"kind": "heat_demand", "name": "process_heat", "heat_kw": 90.0}
BOILER = {  # 0.9 x 10 kWh/Nm3 = 9 kWh of heat per Nm3: 90 kW of heat burn 10 Nm3/h, 240 Nm3 a day
    "kind": "gas_boiler",
    "name": "boiler",
    "capacity_kw": 200.0,
    "efficiency": 0.9,
    "gas_lhv_kwh_per_nm3": 10.0,
    "gas_price_cny_per_nm3": 3.0,
    "location_kgco2_per_nm3": 2.162,
    "market_kgco2_per_nm3": 2.162,
}
CARBON = {  # ISO 14068-1 (the default standard); 3 GEC produced in May 2026 (valid 24 months) at 5 CNY/MWh
    "lots": [{"kind": "gec", "id": "gec-2026-05", "mwh": 3, "production_month": "2026-05", "price_cny_per_mwh": 5}],
    "quotes": {
        "gec": [{"id": "gec-market", "price_cny_per_mwh": 6}],
        "offsets": [{"id": "ccer-market", "kind": "ccer", "price_cny_per_tco2": 80}],
    },
}
PV_PLAN = [20.0] * 96


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path))) as test_client:
        yield test_client


def carbon_site(carbon: dict[str, Any] | None = CARBON) -> dict[str, Any]:
    site: dict[str, Any] = {"name": "boiler plant", "tz": TZ, "assets": [GRID, LOAD, PV, HEAT, BOILER]}
    if carbon is not None:
        site["carbon"] = carbon
    return site


def _steps(day: str) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(day, tz=TZ), periods=96, freq="15min")


def _post(client: TestClient, site_id: int, name: str, day: str, value: float) -> None:
    rows = [{"series": name, "time": t.isoformat(), "value": value} for t in _steps(day)]
    response = client.post(f"/v1/sites/{site_id}/readings", json={"readings": rows}, headers=HEADERS)
    assert response.status_code == 200, response.text


def _dispatch(client: TestClient, site_id: int, day: str) -> dict[str, Any]:
    response = client.post(
        f"/v1/sites/{site_id}/dispatch", json={"date": day, "inputs": {"pv": PV_PLAN}}, headers=HEADERS
    )
    assert response.status_code == 201, response.text
    return response.json()


def _carbon(client: TestClient, site_id: int, **params: Any) -> dict[str, Any]:
    response = client.get(f"/v1/sites/{site_id}/carbon", params=params, headers=HEADERS)
    assert response.status_code == 200, response.text
    return response.json()


def _account(client: TestClient, site_id: int) -> list[AccountDayRecord]:
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        query = select(AccountDayRecord).where(AccountDayRecord.site_id == site_id).order_by(AccountDayRecord.id)
        return list(session.scalars(query))


def _two_days(client: TestClient) -> int:
    """June 30 read in full: import 80 kW (1,920 kWh), PV 20 kW (480 kWh), no export, gas 12 Nm3/h (288 Nm3).
    July 1: import 100 kW (2,400 kWh), no PV, no export read; no gas reading, so the plan in force's 10 Nm3/h
    (240 Nm3). Each day is closed by the next morning's plan."""
    site_id = create_site(client, carbon_site())
    _dispatch(client, site_id, "2026-06-30")
    for name, value in (
        ("grid.import_kw", 80.0),
        ("grid.export_kw", 0.0),
        ("pv", 20.0),
        ("boiler.gas_nm3_per_h", 12.0),
    ):
        _post(client, site_id, name, "2026-06-30", value)
    _dispatch(client, site_id, "2026-07-01")
    for name, value in (("grid.import_kw", 100.0), ("grid.export_kw", 0.0), ("pv", 0.0)):
        _post(client, site_id, name, "2026-07-01", value)
    _dispatch(client, site_id, "2026-07-02")
    return site_id


def _lot(totals: dict[str, Any]) -> tuple[str, float, float, float]:
    (lot,) = totals["certificate_lots"]
    return lot["lot_id"], lot["quantity"], lot["kgco2"], lot["cost_cny"]


def test_a_carbon_sites_account_keeps_gas_and_the_year_ledger_equals_the_hand_totals(client: TestClient) -> None:
    """The account (a carbon site keeps one from January 1, without any period target): June 30 from readings,
    emissions 1,920 x 0.5306 + 288 x 2.162 = 1,018.752 + 622.656 = 1,641.408 kgCO2 location-based and
    1,920 x 0.6096 + 622.656 = 1,793.088 market-based; July 1 electricity read, gas as planned: 1,273.44 + 518.88 =
    1,792.32 and 1,463.04 + 518.88 = 1,981.92.

    The ledger, per month: June 1,920 kWh x 0.5306 = 1,018.752 (location), x 0.6096 = 1,170.432 (market), gas
    288 x 2.162 = 622.656; the GEC lot's 3 MWh go to the days in date order: June takes 1.92 MWh (all its grid
    power, 1.92 x 609.6 = 1,170.432 kgCO2, 9.60 CNY), July the 1.08 left (658.368 kgCO2, 5.40 CNY), none twice;
    net June 622.656, July 518.88 + 1,463.04 - 658.368 = 1,323.552. The year: location 2,292.192, market
    2,633.472, certificates 1,828.8, net 1,946.208 kgCO2 (1.946 t). Not met under ISO 14068-1: July's grid power
    left, 2,400 - 1,080 = 1,320 kWh (804.672 kgCO2), is cheapest as GEC at 6 CNY/MWh (0.0098 CNY/kgCO2 against the
    credits' 0.08): 1.32 MWh, 2 certificates, 12 CNY; the rest, 1,946.208 - 804.672 = 1,141.536 kgCO2 (gas), by
    credits: 1.142 t, 2 credits, 160 CNY. Closing purchase 172 CNY."""
    site_id = _two_days(client)
    rows = _account(client, site_id)
    assert [(r.day, r.import_kwh, r.pv_output_kwh, r.gas_nm3, r.purchased_heat_gj) for r in rows] == [
        (dt.date(2026, 6, 30), 1920.0, 480.0, 288.0, 0.0),
        (dt.date(2026, 7, 1), 2400.0, 0.0, 240.0, 0.0),
    ]
    assert [(r.source, r.fuel_source) for r in rows] == [("readings", "readings"), ("readings", "plan")]
    assert [(r.emissions_location_kgco2, r.emissions_market_kgco2) for r in rows] == [
        (1641.408, 1793.088),
        (1792.32, 1981.92),
    ]
    assert "boiler.gas_nm3_per_h 0/96 steps read, the rest as planned" in rows[1].detail

    ledger = _carbon(client, site_id, year=2026)
    assert (ledger["site_id"], ledger["year"], ledger["account"], ledger["note"]) == (site_id, 2026, True, None)
    assert ledger["standard"] == "ISO 14068-1:2023 carbon neutrality"
    factor_set = ledger["factor_set"]
    assert (factor_set["id"], factor_set["year"], factor_set["grid_market_kgco2_per_kwh"]) == (
        "CN/2023/published",
        2023,
        0.6096,
    )
    assert "2023 electricity CO2 emission factors" in factor_set["source"]
    days = ledger["days"]
    assert (days["count"], days["first"], days["last"]) == (2, "2026-06-30", "2026-07-01")
    assert (days["from_readings"], days["mixed"], days["from_plan"], days["without_fuels"]) == (1, 1, 0, 0)

    june, july = ledger["months"]
    assert (june["period"], june["days"], july["period"], july["days"]) == ("2026-06", 1, "2026-07", 1)
    assert (june["import_kwh"], june["pv_self_used_kwh"], june["consumption_kwh"]) == (1920.0, 480.0, 2400.0)
    assert june["scope1_kgco2_by_fuel"] == {"natural_gas": 622.656}
    assert june["scope2_location_kgco2_by_source"] == {"grid": 1018.752, "heat": 0.0}
    assert june["scope2_market_kgco2_by_source"] == {"grid": 1170.432, "heat": 0.0}
    assert _lot(june) == ("gec-2026-05", 1.92, 1170.432, 9.6)
    assert (june["certificates_mwh"], june["certificates_kgco2"], june["net_kgco2"]) == (1.92, 1170.432, 622.656)
    assert _lot(july) == ("gec-2026-05", 1.08, 658.368, 5.4)
    assert (july["scope1_kgco2"], july["scope2_market_kgco2"], july["net_kgco2"]) == (518.88, 1463.04, 1323.552)

    year = ledger["totals"]
    assert (year["period"], year["days"], year["import_kwh"], year["gas_nm3"]) == ("2026", 2, 4320.0, 528.0)
    assert (year["green_contract_kwh"], year["offsets_tco2"]) == (0.0, 0.0)
    assert (year["scope1_kgco2"], year["scope2_location_kgco2"], year["scope2_market_kgco2"]) == (
        1141.536,
        2292.192,
        2633.472,
    )
    assert _lot(year) == ("gec-2026-05", 3.0, 1828.8, 15.0)  # the lot's 3 MWh, once in total
    assert (year["certificates_kgco2"], year["net_kgco2"], year["net_tco2"]) == (1828.8, 1946.208, 1.946)
    assert ledger["original"] is None and ledger["restated_with"] is None

    status = ledger["status"]
    assert (status["met"], [r["code"] for r in status["reasons"]], status["days_covered"]) == (
        False,
        ["net_positive"],
        2,
    )
    purchase = status["purchase"]
    assert [(i["quote_id"], i["quantity"], i["whole_units"], i["cost_cny"], i["kgco2"]) for i in purchase["items"]] == [
        ("gec-market", 1.32, 2, 12.0, 804.672),
        ("ccer-market", 1.142, 2, 160.0, 1141.536),
    ]
    assert (purchase["cost_cny"], purchase["closes_gap"]) == (172.0, True)
    assert [(r["lot_id"], r["quantity"], r["whole_units"]) for r in status["retirements"]] == [("gec-2026-05", 3.0, 3)]

    # Gas readings of July 1 arrive late, 11 Nm3/h (264 Nm3): the next plan closes July 1 again in a new row, now
    # all read; the ledger rests on the latest row: gas 288 + 264 = 552 Nm3, scope 1 552 x 2.162 = 1,193.424.
    _post(client, site_id, "boiler.gas_nm3_per_h", "2026-07-01", 11.0)
    _dispatch(client, site_id, "2026-07-02")
    rows = _account(client, site_id)
    assert [(r.day, r.gas_nm3, r.fuel_source) for r in rows[2:]] == [(dt.date(2026, 7, 1), 264.0, "readings")]
    again = _carbon(client, site_id, year=2026)
    assert (again["days"]["count"], again["days"]["from_readings"], again["days"]["mixed"]) == (2, 2, 0)
    assert (again["totals"]["gas_nm3"], again["totals"]["scope1_kgco2"]) == (552.0, 1193.424)
    assert _carbon(client, site_id, year=2025)["days"]["count"] == 0  # nothing of 2025: an empty year


def test_a_day_read_without_gas_or_a_plan_is_in_the_ledger_without_fuels(client: TestClient) -> None:
    """June 29 has import readings (100 kW: 2,400 kWh) but no gas reading and no plan in force: the boiler's gas is
    not known, so the row keeps none (null, not 0) and the ledger counts the day with no scope 1 and says so;
    location-based 2,400 x 0.5306 = 1,273.44 kgCO2."""
    site_id = create_site(client, carbon_site())
    _post(client, site_id, "grid.import_kw", "2026-06-29", 100.0)
    _dispatch(client, site_id, "2026-06-30")
    (row,) = _account(client, site_id)
    assert (row.day, row.import_kwh, row.gas_nm3, row.fuel_source, row.source) == (
        dt.date(2026, 6, 29),
        2400.0,
        None,
        None,
        "readings",
    )
    ledger = _carbon(client, site_id, year=2026)
    assert (ledger["days"]["count"], ledger["days"]["without_fuels"], ledger["days"]["from_readings"]) == (1, 1, 1)
    assert (ledger["totals"]["scope1_kgco2"], ledger["totals"]["scope2_location_kgco2"]) == (0.0, 1273.44)


def test_restating_with_another_bundled_set_changes_the_totals_by_the_hand_delta(client: TestClient) -> None:
    """``factors=CN/2022/published``: per kWh, location +0.006 and residual -0.024. June: location 1,920 x 0.5366 =
    1,030.272, market 1,920 x 0.5856 = 1,124.352, its 1.92 GEC now 1.92 x 585.6 = 1,124.352, net unchanged at
    622.656 (all its grid power is covered). July: location 2,400 x 0.5366 = 1,287.84, market 2,400 x 0.5856 =
    1,405.44, 1.08 GEC = 632.448, net 518.88 + 1,405.44 - 632.448 = 1,291.872. The year: location 2,292.192 + 25.92
    = 2,318.112, market 2,633.472 - 103.68 = 2,529.792, certificates 1,828.8 - 72 = 1,756.8, net 1,946.208 - 31.68
    (1,320 uncovered kWh x -0.024) = 1,914.528. The original figures are kept beside them; the closing purchase
    closes the restated gap: 1,320 kWh x 0.5856 = 772.992 kgCO2 by GEC, 1,141.536 by credits, 172 CNY again."""
    site_id = _two_days(client)
    ledger = _carbon(client, site_id, year=2026, factors="CN/2022/published")
    assert ledger["factor_set"]["id"] == "CN/2023/published"
    restated = ledger["restated_with"]
    assert (restated["id"], restated["grid_location_kgco2_per_kwh"], restated["grid_market_kgco2_per_kwh"]) == (
        "CN/2022/published",
        0.5366,
        0.5856,
    )
    june, july = ledger["months"]
    assert (june["scope2_location_kgco2"], june["scope2_market_kgco2"], june["certificates_kgco2"]) == (
        1030.272,
        1124.352,
        1124.352,
    )
    assert (june["net_kgco2"], june["restatements"], june["factor_set_ids"]) == (622.656, 1, ["CN/2022/published"])
    assert (july["scope2_location_kgco2"], july["scope2_market_kgco2"], july["net_kgco2"]) == (
        1287.84,
        1405.44,
        1291.872,
    )
    assert _lot(july) == ("gec-2026-05", 1.08, 632.448, 5.4)
    year = ledger["totals"]
    assert (year["scope1_kgco2"], year["scope2_location_kgco2"], year["scope2_market_kgco2"]) == (
        1141.536,
        2318.112,
        2529.792,
    )
    assert (year["certificates_kgco2"], year["net_kgco2"], year["days"], year["restatements"]) == (
        1756.8,
        1914.528,
        2,
        2,
    )

    original = ledger["original"]
    assert [m["period"] for m in original["months"]] == ["2026-06", "2026-07"]
    before = original["totals"]
    assert (before["scope2_location_kgco2"], before["scope2_market_kgco2"], before["net_kgco2"]) == (
        2292.192,
        2633.472,
        1946.208,
    )
    assert (before["restatements"], before["factor_set_ids"]) == (0, ["CN/2023/published"])
    assert _lot(before) == ("gec-2026-05", 3.0, 1828.8, 15.0)

    purchase = ledger["status"]["purchase"]
    assert [(i["quote_id"], i["whole_units"], i["kgco2"]) for i in purchase["items"]] == [
        ("gec-market", 2, 772.992),
        ("ccer-market", 2, 1141.536),
    ]
    assert (purchase["cost_cny"], purchase["kgco2"], ledger["status"]["net_kgco2"]) == (172.0, 1914.528, 1914.528)
    assert _carbon(client, site_id, year=2026)["totals"]["net_kgco2"] == 1946.208  # nothing was stored


def test_bad_requests_name_the_field_and_an_unknown_site_is_404(client: TestClient) -> None:
    site_id = create_site(client, carbon_site())
    unknown = client.get(f"/v1/sites/{site_id}/carbon", params={"factors": "CN/2030/final"}, headers=HEADERS)
    assert field_names(unknown) == ["query.factors"]
    assert "CN/2023/published" in unknown.json()["errors"][0]["msg"]  # the known sets are listed
    for year in (1989, 2101, "twenty"):  # outside 1990-2100, not a number
        response = client.get(f"/v1/sites/{site_id}/carbon", params={"year": year}, headers=HEADERS)
        assert field_names(response) == ["query.year"], response.text
    no_set = client.get(f"/v1/sites/{site_id}/carbon", params={"year": 2020}, headers=HEADERS)
    assert field_names(no_set) == ["query.year"]  # the oldest bundled set is 2022's
    assert "no emission factor set for CN not after 2020" in no_set.json()["errors"][0]["msg"]
    lost = client.get("/v1/sites/999/carbon", params={"year": 2026}, headers=HEADERS)
    assert lost.status_code == 404 and lost.json()["detail"] == "site 999 not found"
    assert client.get(f"/v1/sites/{site_id}/carbon", params={"year": 2026}).status_code == 401
    # a stored site whose factor choice fits no year: the site's field, not the query's
    region = carbon_site({**CARBON, "factors": {"region": "XX"}})
    odd = create_site(client, region)
    assert field_names(client.get(f"/v1/sites/{odd}/carbon", params={"year": 2026}, headers=HEADERS)) == [
        "site.carbon.factors"
    ]


def test_a_site_without_a_carbon_account_gets_the_default_ledger_and_is_told_so(client: TestClient) -> None:
    """No ``carbon`` block and no period target: the service keeps no account for the site (as before), so the year
    is empty; the answer says the ledger runs over an empty ISO 14068-1 account."""
    site_id = create_site(client, carbon_site(carbon=None))
    _dispatch(client, site_id, "2026-06-30")
    _post(client, site_id, "grid.import_kw", "2026-06-30", 80.0)
    _dispatch(client, site_id, "2026-07-01")
    assert _account(client, site_id) == []
    ledger = _carbon(client, site_id, year=2026)
    assert (ledger["account"], ledger["standard"]) == (False, "ISO 14068-1:2023 carbon neutrality")
    assert "no carbon account on the site" in ledger["note"]
    assert (ledger["days"]["count"], ledger["months"], ledger["status"]) == (0, [], None)
    assert (ledger["totals"]["days"], ledger["totals"]["net_kgco2"]) == (0, 0.0)
    assert ledger["factor_set"]["id"] == "CN/2023/published"


def test_the_endpoint_is_documented_with_its_errors_and_an_example(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/sites/{site_id}/carbon"]["get"]
    assert {"200", "401", "404", "422"} <= set(operation["responses"])
    example = operation["responses"]["200"]["content"]["application/json"]["example"]
    assert example["totals"]["net_kgco2"] == 1946.208 and example["status"]["purchase"]["cost_cny"] == 172.0
    assert [p["name"] for p in operation["parameters"]] == ["site_id", "year", "factors"]


# --- what-if runs ------------------------------------------------------------------------------------------------

SCENARIO = """\
name: carbon_demo
site:
  name: boiler plant
  tz: Asia/Shanghai
  assets:
    - {kind: grid, name: grid, import_limit_kw: 1000, import_price_cny_per_kwh: 0.5,
       location_kgco2_per_kwh: 0.5306, market_kgco2_per_kwh: 0.6096}
    - {kind: load, name: plant, power_kw: 100}
    - {kind: heat_demand, name: process_heat, heat_kw: 90}
    - {kind: gas_boiler, name: boiler, capacity_kw: 200, efficiency: 0.9, gas_lhv_kwh_per_nm3: 10,
       gas_price_cny_per_nm3: 3}
    - {kind: green_contract, name: ppa, price_cny_per_kwh: 0.6, min_energy_kwh: 3100, energy_over: month,
       shortfall_price_cny_per_kwh: 1.0}
  carbon:
    lots: [{kind: gec, id: gec-2026-05, mwh: 1, production_month: 2026-05, price_cny_per_mwh: 5}]
    quotes:
      gec: [{id: gec-market, price_cny_per_mwh: 6}]
      offsets: [{id: ccer-market, kind: ccer, price_cny_per_tco2: 80}]
horizon: {start: 2026-07-15, days: 1, step_minutes: 60}
variants:
  no_account:
    set: {site.carbon: null}
"""


def test_a_scenario_run_carries_its_savings_period_figures_and_carbon(client: TestClient) -> None:
    """One July day, hourly: load 2,400 kWh, gas 240 Nm3 (90 kW of heat at 9 kWh/Nm3), the PPA's monthly 3,100 kWh
    paced to 3,100 / 31 = 100 kWh. Money: the plan pays 2,300 x 0.5 + 100 x 0.6 + 240 x 3 = 1,930 CNY, the
    rule-based baseline (all its power through the PPA at 0.6) 2,400 x 0.6 + 720 = 2,160: a saving of 230 CNY, all
    energy, 230 x 365 = 83,950 a year. Carbon: location 2,400 x 0.5306 = 1,273.44; market (2,400 - 100) x 0.6096 =
    1,402.08; gas 240 x 2.162 = 518.88; the GEC lot's 1 MWh = 609.6; net 518.88 + 1,402.08 - 609.6 = 1,311.36.
    Closing purchase: 1,300 kWh of grid power left (792.48 kgCO2) as GEC, 2 at 6 CNY; 518.88 kgCO2 as credits, 1
    at 80 CNY: 92 CNY. Without the account (the variant): no certificates, net 1,920.96, the note says so."""
    response = client.post("/v1/scenarios/run", json={"scenario": SCENARIO}, headers=HEADERS)
    assert response.status_code == 200, response.text
    base, bare = response.json()["runs"]
    assert (base["run"], bare["run"]) == ("base", "no_account")
    # the savings and the baseline's feasibility, as kpis.json has them
    assert base["baseline_feasible"] is True and base["saving_label"] is None and base["baseline_shortfalls"] == []
    assert (base["kpis"]["energy_cost_cny"], base["baseline_kpis"]["energy_cost_cny"]) == (1930.0, 2160.0)
    savings = base["savings"]
    assert (base["saving_cny"], savings["total_cny"], savings["per_day_cny"]) == (230.0, 230.0, 230.0)
    assert savings["by_group_cny"] == {
        "energy": 230.0,
        "demand_charge": 0.0,
        "gas": 0.0,
        "heat": 0.0,
        "certificates": 0.0,
        "other": 0.0,
    }
    assert savings["annualised_estimate_cny"] == 230.0 * 365
    # the PPA's month, paced
    (figure,) = base["period_figures"]
    assert (figure["item"], figure["period"], figure["unit"]) == ("ppa.energy", "2026-07", "kWh")
    assert (figure["required"], figure["achieved"], figure["met"]) == (100.0, pytest.approx(100.0, abs=1e-3), True)

    carbon = base["carbon"]
    assert (carbon["account"], carbon["note"], [s["id"] for s in carbon["factor_sets"]]) == (
        True,
        None,
        ["CN/2023/published"],
    )
    totals = carbon["totals"]
    assert (totals["import_kwh"], totals["green_contract_kwh"], totals["gas_nm3"]) == (2400.0, 100.0, 240.0)
    assert (totals["scope1_kgco2"], totals["scope2_location_kgco2"], totals["scope2_market_kgco2"]) == (
        518.88,
        1273.44,
        1402.08,
    )
    assert (totals["certificates_mwh"], totals["certificates_kgco2"], totals["net_kgco2"]) == (1.0, 609.6, 1311.36)
    (status,) = carbon["statuses"]
    assert (status["year"], status["met"], status["purchase"]["cost_cny"]) == (2026, False, 92.0)
    assert [(i["quote_id"], i["whole_units"], i["kgco2"]) for i in status["purchase"]["items"]] == [
        ("gec-market", 2, 792.48),
        ("ccer-market", 1, 518.88),
    ]

    assert bare["carbon"]["account"] is False and "no carbon account" in bare["carbon"]["note"]
    assert (bare["carbon"]["totals"]["certificates_kgco2"], bare["carbon"]["totals"]["net_kgco2"]) == (0.0, 1920.96)


def test_a_scenario_whose_carbon_account_fits_no_factor_set_names_the_field(client: TestClient) -> None:
    """A region the bundled factor sets do not have: the run's ledger cannot be built, so a 422 names the account's
    factor choice (nothing of the run is returned)."""
    scenario = SCENARIO.replace("  carbon:\n", "  carbon:\n    factors: {region: XX}\n")
    response = client.post("/v1/scenarios/run", json={"scenario": scenario, "variants": ["base"]}, headers=HEADERS)
    assert field_names(response) == ["body.scenario.site.carbon.factors"]
    assert "no emission factor set for XX" in response.json()["errors"][0]["msg"]
