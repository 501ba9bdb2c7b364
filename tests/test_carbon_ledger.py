"""The carbon ledger toward zero-carbon status (issue 15, point 2), every number computed by hand.

Factors unless a test says otherwise: the bundled set CN/2023/published (a 2026 ledger takes the latest year not
after it): grid average 0.5306 kgCO2/kWh (location-based), residual 0.6096 kgCO2/kWh (market-based), natural gas
2.162 kgCO2/Nm3, purchased heat 110 kgCO2/GJ. A GEC is 1 MWh; 1 MWh of residual grid power is 609.6 kgCO2.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from optimizer import Kpis
from scenarios.carbon import CarbonAccount, ZeroCarbonStandard
from scenarios.emission_factors import BUNDLED, Factor, FactorLibrary, FactorOverrides, FactorSet, bundled_library
from scenarios.ledger import Ledger, LedgerSnapshot, ledger_from_run
from scenarios.ledger_activity import DayActivity, activities_from_schedule, activity_from_kpis, heat_columns
from scenarios.ledger_entries import CertificateRetirement
from scenarios.loader import load_scenario
from scenarios.pipeline import run_case, with_dates
from scenarios.site import Site

ROOT = Path(__file__).resolve().parents[1]
JUL = dt.date(2026, 7, 15)


def kpis(**values: Any) -> Kpis:
    """Real KPIs of a day: the values given, zeros elsewhere."""
    fields: dict[str, Any] = {
        "cost_cny_by_component": {},
        "energy_cost_cny": 0.0,
        "objective_cny": 0.0,
        "emissions_location_kgco2": 0.0,
        "emissions_market_kgco2": 0.0,
        "consumption_kwh": 0.0,
        "import_kwh": 0.0,
        "export_kwh": 0.0,
        "green_contract_kwh": 0.0,
        "pv_available_kwh": 0.0,
        "pv_output_kwh": 0.0,
        "curtailment_kwh": 0.0,
        "pv_self_consumption_frac": None,
        "green_share_frac": None,
        "peak_import_kw": 0.0,
        "max_balance_residual_kw": 0.0,
    }
    return Kpis(**(fields | values))


def day(date: dt.date, **values: float) -> DayActivity:
    return DayActivity(date=date, period=date.isoformat(), **values)


def account(**values: Any) -> CarbonAccount:
    return CarbonAccount.model_validate(values)


def gec(lot_id: str, mwh: int, month: str, price: float = 5.0) -> dict[str, Any]:
    return {"kind": "gec", "id": lot_id, "mwh": mwh, "production_month": month, "price_cny_per_mwh": price}


def ccer(lot_id: str, tco2: int, vintage: int = 2026, price: float = 60.0) -> dict[str, Any]:
    return {"kind": "ccer", "id": lot_id, "tco2": tco2, "vintage_year": vintage, "price_cny_per_tco2": price}


# --- factor sets -------------------------------------------------------------------------------------------------


def test_a_ledger_year_takes_the_latest_factor_set_not_after_it_with_its_source() -> None:
    library = bundled_library()
    assert library.select("CN", 2026).id == "CN/2023/published"  # 2023 factors were published in January 2026
    assert library.select("CN", 2022).id == "CN/2022/published"
    assert library.select("CN-NE", 2026).grid_location_kgco2_per_kwh == 0.5122
    chosen = library.select("CN", 2026)
    assert (chosen.grid_location_kgco2_per_kwh, chosen.grid_market_kgco2_per_kwh) == (0.5306, 0.6096)
    assert (chosen.gas_kgco2_per_nm3, chosen.purchased_heat_kgco2_per_gj) == (2.162, 110.0)
    assert "2023 electricity CO2 emission factors" in chosen.source
    with pytest.raises(LookupError, match="CN not after 2021"):
        library.select("CN", 2021)
    with pytest.raises(LookupError, match="CN in 2024"):
        library.select("CN", 2024, exact_year=True)
    # A version published later for the same year wins.
    final = chosen.model_copy(update={"version": "final", "published": "2026-06"})
    assert library.with_set(final).select("CN", 2026).id == "CN/2023/final"
    assert len(library.sets) == len(FactorLibrary(library.sets).sets) == 5
    assert BUNDLED.name == "emission_factors.csv"


def test_a_site_overrides_single_factors_and_the_set_says_so() -> None:
    choice = account(
        factors={"region": "CN-NE", "overrides": {"gas_kgco2_per_nm3": 2.0, "source": "supplier gas analysis 2025"}}
    ).factors
    chosen = choice.factor_set(2026)
    assert chosen.id == "CN-NE/2023/published+site"
    assert chosen.gas_kgco2_per_nm3 == 2.0 and chosen.factors["gas_kgco2_per_nm3"].mark == "site"
    assert chosen.grid_location_kgco2_per_kwh == 0.5122  # the rest is the Northeast set's
    assert chosen.site_factors().gas_kgco2_per_nm3 == 2.0  # what the optimiser would plan with


# --- the account on the site -------------------------------------------------------------------------------------


def test_the_two_presets_and_a_site_with_a_carbon_block_round_trip() -> None:
    iso = ZeroCarbonStandard.from_preset("iso14068")
    china = ZeroCarbonStandard.from_preset("china-2026-zero-carbon-factory")
    assert (iso.offset_retire_within_months, iso.certificate_vintage_window_months) == (12, 0)
    assert iso.offsets_cover_electricity and iso.offset_kinds is None
    assert (china.offset_retire_within_months, china.certificate_vintage_window_months) == (12, 12)
    assert not china.offsets_cover_electricity and china.offset_kinds == ["ccer", "international"]
    assert ZeroCarbonStandard.from_preset("iso14068", max_offset_share_of_gross=0.1).max_offset_share_of_gross == 0.1
    # ISO 14068-1: credits for 2026 retired by 31 December 2027 (12 months after the year).
    assert iso.offset_retire_by(2026) == dt.date(2027, 12, 31)

    raw = {
        "name": "Carbon site",
        "assets": [{"kind": "grid", "name": "grid", "import_limit_kw": 100, "import_price_cny_per_kwh": 0.5}],
        "carbon": {
            "standard": {"preset": "china-2026-zero-carbon-factory"},
            "lots": [gec("gec-2026-03", 100, "2026-03"), ccer("ccer-1", 5) | {"retired_on": "2026-12-01"}],
            "quotes": {"gec": [{"id": "market", "price_cny_per_mwh": 5.6}]},
        },
    }
    site = Site.model_validate(raw)
    assert site.carbon is not None and site.carbon.lot("gec-2026-03").kind == "gec"
    assert Site.model_validate(site.model_dump(mode="json")) == site
    assert Site.model_validate({k: v for k, v in raw.items() if k != "carbon"}).carbon is None


def test_an_account_rejects_repeated_lots_and_a_base_year_rule_without_a_base_year() -> None:
    with pytest.raises(ValidationError, match="lots ids must be unique, repeated: a"):
        account(lots=[gec("a", 1, "2026-01"), ccer("a", 1)])
    with pytest.raises(ValidationError, match="base_year needed by the standard's min_reduction_frac"):
        account(standard={"preset": "iso14068", "min_reduction_frac": 0.2})


# --- totals ------------------------------------------------------------------------------------------------------


def test_totals_recompute_from_the_daily_kpis() -> None:
    """15 July: import 1,000 kWh of which 400 under a green contract, 100 Nm3 gas, 2 GJ heat, PV 500 of 600 kWh
    available with 100 exported (so 400 used on site), consumption 1,000 + 500 - 100 = 1,400 kWh.
    1 August: import 2,000 kWh, nothing else.

    Scope 1 gas: 100 x 2.162 = 216.2. Scope 2 location: 1,000 x 0.5306 + 2 x 110 = 750.6 and 2,000 x 0.5306 =
    1,061.2 (1,811.8 in all). Scope 2 market: (1,000 - 400) x 0.6096 + 220 = 585.76 and 2,000 x 0.6096 = 1,219.2
    (1,804.96). Green share (400 PV + 400 contract) / 3,400 = 0.2353; PV self-consumption 400 / 600."""
    ledger = Ledger()
    ledger.add_days(
        [
            activity_from_kpis(
                JUL,
                "2026-07-15",
                kpis(
                    import_kwh=1000,
                    green_contract_kwh=400,
                    gas_use_nm3=100,
                    pv_available_kwh=600,
                    pv_output_kwh=500,
                    export_kwh=100,
                    consumption_kwh=1400,
                ),
                purchased_heat_gj=2.0,
            ),
            activity_from_kpis(dt.date(2026, 8, 1), "2026-08-01", kpis(import_kwh=2000, consumption_kwh=2000)),
        ]
    )
    july, august = ledger.by_month()
    assert (july.period, august.period) == ("2026-07", "2026-08")
    assert july.scope1_kgco2_by_fuel == pytest.approx({"natural_gas": 216.2})
    assert july.scope2_location_kgco2_by_source == pytest.approx({"grid": 530.6, "heat": 220.0})
    assert july.scope2_market_kgco2 == pytest.approx(585.76)
    assert august.scope2_market_kgco2 == pytest.approx(1219.2)
    (year,) = ledger.by_year()
    assert year.period == "2026" and year.days == 2
    assert year.scope2_location_kgco2 == pytest.approx(1811.8)
    assert year.scope2_market_kgco2 == pytest.approx(1804.96)
    assert year.emissions_market_kgco2 == pytest.approx(216.2 + 1804.96)
    assert year.net_kgco2 == pytest.approx(2021.16)  # nothing retired
    assert year.pv_self_used_kwh == 400 and year.green_contract_kwh == 400
    assert year.green_share_frac == pytest.approx(800 / 3400)
    assert year.pv_self_consumption_frac == pytest.approx(400 / 600)
    assert year.certificate_share_frac == 0.0
    assert year.factor_set_ids == ["CN/2023/published"]
    assert ledger.totals().model_dump(exclude={"period"}) == year.model_dump(exclude={"period"})


def test_location_and_market_based_are_always_both_there() -> None:
    """A day on PV alone emits nothing either way, and both totals are still reported (as 0)."""
    ledger = Ledger()
    ledger.add_days([day(JUL, import_kwh=0, pv_available_kwh=100, pv_output_kwh=100, consumption_kwh=100)])
    frame = ledger.to_frame()
    for column in ("scope2_location_kgco2", "scope2_market_kgco2", "scope2_location_grid_kgco2"):
        assert frame[column].tolist() == [0.0]
    (month,) = ledger.by_month()
    assert (month.scope2_location_kgco2, month.scope2_market_kgco2) == (0.0, 0.0)
    status = ledger.status()
    assert (status.scope2_location_kgco2, status.scope2_market_kgco2, status.met) == (0.0, 0.0, True)


# --- certificates ------------------------------------------------------------------------------------------------


def test_a_certificate_lot_expired_before_the_month_is_not_used() -> None:
    """Lot "old" (10 MWh, produced June 2024) is valid for 24 months: through May 2026. Lot "fresh" (1 MWh, January
    2026). The standard admits certificates produced up to 24 months before the year, so only validity decides.
    31 May, 500 kWh: "old" expires first and covers 0.5 MWh (0.5 x 609.6 = 304.8 kgCO2). 1 June, 500 kWh: "old" has
    expired, "fresh" covers 0.5 MWh. 9.5 MWh of "old" are left and never used."""
    standard = {"preset": "iso14068", "certificate_vintage_window_months": 24}
    ledger = Ledger(account(standard=standard, lots=[gec("old", 10, "2024-06"), gec("fresh", 1, "2026-01")]))
    may, june = ledger.add_days([day(dt.date(2026, 5, 31), import_kwh=500), day(dt.date(2026, 6, 1), import_kwh=500)])
    assert [(c.lot_id, c.mwh, c.kgco2) for c in may.certificates] == [("old", 0.5, pytest.approx(304.8))]
    assert [(c.lot_id, c.mwh) for c in june.certificates] == [("fresh", 0.5)]
    assert ledger.remaining("old") == 9.5 and ledger.remaining("fresh") == 0.5
    assert may.net_kgco2 == pytest.approx(0.0) and june.net_kgco2 == pytest.approx(0.0)
    # Under ISO 14068 as preset (window 0) a certificate produced in December 2025 does not count in 2026; under
    # the China preset (window 12 months) it does.
    late_2025 = [gec("dec-2025", 1, "2025-12")]
    iso = Ledger(account(lots=late_2025)).add_days([day(JUL, import_kwh=500)])
    china = Ledger(account(standard={"preset": "china-2026-zero-carbon-factory"}, lots=late_2025))
    assert iso[0].certificates == ()
    assert [c.mwh for c in china.add_days([day(JUL, import_kwh=500)])[0].certificates] == [0.5]


def test_certificates_cover_only_grid_power_that_contracts_do_not() -> None:
    """Import 1,000 kWh, 800 of them under a green contract: a 10 MWh lot covers the other 200 kWh only (0.2 MWh,
    121.92 kgCO2), so market-based grid emissions end at 0, not below."""
    ledger = Ledger(account(lots=[gec("lot", 10, "2026-01")]))
    (entry,) = ledger.add_days([day(JUL, import_kwh=1000, green_contract_kwh=800)])
    assert entry.certificates_mwh == pytest.approx(0.2)
    assert entry.certificates_kgco2 == pytest.approx(121.92)
    assert entry.scope2_market_kgco2 - entry.certificates_kgco2 == pytest.approx(0.0)
    assert entry.scope2_location_kgco2 == pytest.approx(530.6)  # location-based ignores contracts and certificates


def test_the_same_lot_is_never_allocated_twice_across_months() -> None:
    """A 1 MWh lot and 600 kWh of grid power on 31 January and on 1 February: January takes 0.6 MWh, February the
    0.4 MWh left (243.84 kgCO2), and (600 - 400) x 0.6096 = 121.92 kgCO2 stay in February. An entry that
    allocates the lot again is refused and leaves the ledger as it was."""
    ledger = Ledger(account(lots=[gec("lot", 1, "2026-01")]))
    ledger.add_days([day(dt.date(2026, 1, 31), import_kwh=600), day(dt.date(2026, 2, 1), import_kwh=600)])
    january, february = ledger.by_month()
    assert (january.certificates_mwh, february.certificates_mwh) == pytest.approx((0.6, 0.4))
    assert february.certificates_kgco2 == pytest.approx(243.84)
    assert february.net_kgco2 == pytest.approx(121.92)
    assert ledger.remaining("lot") == pytest.approx(0.0)
    (retired,) = ledger.status().retirements
    assert (retired.lot_id, retired.quantity, retired.whole_units) == ("lot", pytest.approx(1.0), 1)

    again = ledger.entries[1].model_copy(
        update={
            "id": "2026-02-02",
            "date": dt.date(2026, 2, 2),
            "certificates": (
                CertificateRetirement(lot_id="lot", production_month="2026-01", mwh=0.1, kgco2=60.96, cost_cny=0.5),
            ),
            "certificates_kgco2": 60.96,
        }
    )
    with pytest.raises(ValueError, match=r"lot lot would be allocated 1\.1 of 1"):
        ledger.append(again)
    assert len(ledger.entries) == 2


# --- offsets and status ------------------------------------------------------------------------------------------


def test_offsets_beyond_the_cap_are_refused_and_the_status_says_so() -> None:
    """1,000 Nm3 of gas: 2,162 kgCO2. The standard caps offsets at 10 % of emissions: 216.2 kgCO2. A 10 tCO2 CCER
    lot could cover all 2,162; 0.2162 tCO2 are taken and 2,162 - 216.2 = 1,945.8 kgCO2 refused, which stay as net
    emissions. No purchase closes them: the cap leaves no room for more credits."""
    standard = {"preset": "iso14068", "max_offset_share_of_gross": 0.1}
    quotes = {"offsets": [{"id": "ccer-market", "kind": "ccer", "price_cny_per_tco2": 60}]}
    ledger = Ledger(account(standard=standard, lots=[ccer("ccer-1", 10)], quotes=quotes))
    (entry,) = ledger.add_days([day(JUL, import_kwh=0, gas_nm3=1000)])
    assert entry.offsets_tco2 == pytest.approx(0.2162)
    assert entry.offsets[0].retire_by == dt.date(2027, 12, 31)
    assert entry.offsets_refused_kgco2 == pytest.approx(1945.8)
    status = ledger.status()
    assert not status.met
    assert status.offset_cap_kgco2 == pytest.approx(216.2)
    assert status.net_kgco2 == pytest.approx(1945.8)
    assert {r.code for r in status.reasons} == {"net_positive", "offset_cap"}
    assert "refused 1.946 tCO2" in next(r.message for r in status.reasons if r.code == "offset_cap")
    assert not status.purchase.closes_gap and status.purchase.unclosed_kgco2 == pytest.approx(1945.8)
    assert status.purchase.reasons == ["the offset cap leaves no room for more credits"]
    assert ledger.remaining("ccer-1") == pytest.approx(10 - 0.2162)
    # An entry written by hand that offsets more than the cap is refused: 0.5 tCO2 on 17 July, cap 216.2 kgCO2.
    more = entry.model_copy(
        update={
            "id": "2026-07-17",
            "date": dt.date(2026, 7, 17),
            "offsets": (entry.offsets[0].model_copy(update={"tco2": 0.5}),),
            "offsets_refused_kgco2": 0.0,
        }
    )
    with pytest.raises(ValueError, match=r"offsets 500 kgCO2 exceed the 216\.2 allowed"):
        ledger.append(more)


def test_under_the_china_preset_offsets_do_not_cover_grid_electricity() -> None:
    """1,000 kWh from the grid (609.6 kgCO2 market-based) and 100 Nm3 gas (216.2): the 10 tCO2 CCER lot covers the
    gas only, and the status says the 609.6 kgCO2 of electricity need contracts or certificates."""
    china = account(standard={"preset": "china-2026-zero-carbon-factory"}, lots=[ccer("ccer-1", 10)])
    ledger = Ledger(china)
    (entry,) = ledger.add_days([day(JUL, import_kwh=1000, gas_nm3=100)])
    assert entry.offsets_kgco2 == pytest.approx(216.2)
    assert entry.net_kgco2 == pytest.approx(609.6)
    assert "electricity_not_offsettable" in {r.code for r in ledger.status().reasons}


def _gap_day() -> DayActivity:
    """10,000 kWh from the grid (10 MWh x 609.6 = 6,096 kgCO2) and 1,000 Nm3 gas (2,162): 8,258 kgCO2 to close."""
    return day(JUL, import_kwh=10_000, gas_nm3=1000)


def _quotes(gec_price: float, ccer_price: float) -> dict[str, Any]:
    return {
        "gec": [{"id": "gec-market", "price_cny_per_mwh": gec_price}],
        "offsets": [{"id": "ccer-market", "kind": "ccer", "price_cny_per_tco2": ccer_price}],
    }


def _purchase(standard: dict[str, Any], gec_price: float, ccer_price: float) -> list[tuple[str, float, int, float]]:
    ledger = Ledger(account(standard=standard, quotes=_quotes(gec_price, ccer_price)))
    ledger.add_days([_gap_day()])
    status = ledger.status()
    assert not status.met and status.net_kgco2 == pytest.approx(8258.0)
    assert status.purchase.closes_gap
    assert status.purchase.kgco2 == pytest.approx(8258.0)
    return [(i.kind, pytest.approx(i.quantity), i.whole_units, i.cost_cny) for i in status.purchase.items]


def test_the_least_cost_closing_purchase_takes_the_cheaper_of_gec_and_ccer_per_tco2() -> None:
    """GEC at 30 CNY/MWh cost 30 / 0.6096 = 49.2 CNY/tCO2, below CCER at 60: 10 MWh of GEC (300 CNY) for the grid
    power, then 2.162 tCO2 of CCER for the gas, bought as 3 whole credits (180 CNY).
    GEC at 50 CNY/MWh cost 82.0 CNY/tCO2, above CCER: 8.258 tCO2 of CCER for everything, 9 credits (540 CNY).
    The same with offsets capped at 50 % of the 8,258 kgCO2: 4.129 tCO2 of CCER (5 credits, 300 CNY), the other
    4,129 kgCO2 by GEC: 4,129 / 609.6 = 6.773 MWh, 7 certificates (350 CNY).
    Under the China preset offsets may not cover electricity: 10 MWh GEC at 50 (500 CNY) + 3 CCER (180 CNY)."""
    iso = {"preset": "iso14068"}
    assert _purchase(iso, 30, 60) == [("gec", 10.0, 10, 300.0), ("offset", 2.162, 3, 180.0)]
    assert _purchase(iso, 50, 60) == [("offset", 8.258, 9, 540.0)]
    capped = {"preset": "iso14068", "max_offset_share_of_gross": 0.5}
    assert _purchase(capped, 50, 60) == [("offset", 4.129, 5, 300.0), ("gec", 4129 / 609.6, 7, 350.0)]
    china = {"preset": "china-2026-zero-carbon-factory"}
    assert _purchase(china, 50, 60) == [("gec", 10.0, 10, 500.0), ("offset", 2.162, 3, 180.0)]


def test_reduce_first_offsets_do_not_make_up_for_missing_reductions() -> None:
    """Base year 2025: 3,650 tCO2, so 10,000 kgCO2 a day pro rata; the standard asks 20 % less before offsets,
    8,000 kgCO2. The day emits 8,258 (17.42 % less). A 20 tCO2 CCER lot brings net to 0, but the status is not met:
    258 kgCO2 more must be reduced, which only certificates can buy: 258 / 609.6 = 0.423 MWh, 1 certificate at
    30 CNY."""
    ledger = Ledger(
        account(
            standard={"preset": "iso14068", "min_reduction_frac": 0.2},
            base_year={"year": 2025, "tco2": 3650},
            lots=[ccer("ccer-1", 20)],
            quotes=_quotes(30, 60),
        )
    )
    ledger.add_days([_gap_day()])
    status = ledger.status()
    assert status.net_kgco2 == pytest.approx(0.0) and status.offsets_kgco2 == pytest.approx(8258.0)
    assert not status.met
    assert [r.code for r in status.reasons] == ["reduce_first"]
    assert status.base_year_kgco2 == pytest.approx(10_000.0)
    assert status.reduction_vs_base_frac == pytest.approx(0.1742)
    (item,) = status.purchase.items
    assert (item.kind, item.quantity, item.whole_units, item.cost_cny) == ("gec", pytest.approx(258 / 609.6), 1, 30.0)
    assert status.notes == ["covers 1 of the 365 days of 2026: status and purchase are for those days"]


# --- restatement -------------------------------------------------------------------------------------------------


def _final_2026() -> FactorSet:
    """Final 2026 factors (made up for the test): grid 0.5000 location, 0.5800 residual; the rest as 2023."""
    published = bundled_library().get("CN/2023/published")
    factors = dict(published.factors)
    for quantity, value in (("grid_location_kgco2_per_kwh", 0.5), ("grid_market_kgco2_per_kwh", 0.58)):
        factors[quantity] = Factor(value=value, unit="kgCO2/kWh", mark="src", source="final 2026 (test)")
    return FactorSet(region="CN", year=2026, version="final", published="2028-01", factors=factors)


def test_a_restatement_appends_entries_whose_sum_gives_the_new_totals_while_the_old_stay() -> None:
    """Two days of 1,000 kWh, the first with 400 kWh under contract, and a 1 MWh lot: day 1 takes 0.6 MWh (the
    600 kWh not under contract), day 2 the other 0.4.
    With 2023 factors: location 2,000 x 0.5306 = 1,061.2; market (600 + 1,000) x 0.6096 = 975.36; certificates
    1 MWh x 609.6; net 975.36 - 609.6 = 365.76.
    Final 2026 factors: location 2,000 x 0.5 = 1,000 (-61.2); market 1,600 x 0.58 = 928 (-47.36); certificates
    580 (-29.6); net 348 (-17.76)."""
    ledger = Ledger(account(lots=[gec("lot", 1, "2026-01")]))
    ledger.add_days([day(JUL, import_kwh=1000, green_contract_kwh=400), day(JUL.replace(day=16), import_kwh=1000)])
    before = ledger.entries
    old = ledger.totals()
    assert (old.scope2_location_kgco2, old.scope2_market_kgco2) == pytest.approx((1061.2, 975.36))
    assert (old.certificates_kgco2, old.net_kgco2) == pytest.approx((609.6, 365.76))

    added = ledger.restate(_final_2026())
    assert [e.kind for e in added] == ["restatement", "restatement"]
    assert [(e.restates, e.previous_factor_set.id, e.factor_set.id) for e in added] == [  # type: ignore[union-attr]
        ("2026-07-15", "CN/2023/published", "CN/2026/final"),
        ("2026-07-16", "CN/2023/published", "CN/2026/final"),
    ]
    assert ledger.entries[:2] == before  # the original entries stay as they were
    new = ledger.totals()
    assert (new.scope2_location_kgco2, new.scope2_market_kgco2) == pytest.approx((1000.0, 928.0))
    assert (new.certificates_kgco2, new.net_kgco2) == pytest.approx((580.0, 348.0))
    assert sum(e.net_kgco2 for e in added) == pytest.approx(-17.76)
    assert new.factor_set_ids == ["CN/2026/final"] and new.restatements == 2 and new.days == 2
    assert new.certificates_mwh == pytest.approx(1.0)  # restating changes factors, not what was retired
    assert ledger.restate(_final_2026()) == []  # already on those factors
    frame = ledger.to_frame()
    assert frame["kind"].tolist() == ["day", "day", "restatement", "restatement"]
    assert frame["net_kgco2"].sum() == pytest.approx(348.0)
    with pytest.raises(ValidationError):
        ledger.entries[0].import_kwh = 0.0  # type: ignore[misc]
    # Stored and read back, every entry is checked again and the totals are the same.
    stored = LedgerSnapshot.model_validate_json(ledger.snapshot().model_dump_json())
    assert Ledger.from_snapshot(stored).totals() == new


# --- a real run --------------------------------------------------------------------------------------------------


def test_the_ledger_of_a_shipped_example_equals_the_runs_kpis() -> None:
    """Lingyun (examples/lingyun.yaml) on 31 January and 1 February 2026: its site factors are the 2023 national
    set's, so the ledger's scope 2 per day equals the run's KPIs by source (grid + purchased heat), and its
    location-based grid emissions are the schedule's grid import x 0.5306 over 15-minute steps."""
    case = with_dates(
        load_scenario(ROOT / "scenarios" / "examples" / "lingyun.yaml").base(), dt.date(2026, 1, 31), days=2
    )
    site = case.scenario.site
    run = run_case(case)
    ledger = ledger_from_run(run, site)
    days = ledger.by_day()
    assert [d.period for d in days] == ["2026-01-31", "2026-02-01"]
    assert [m.period for m in ledger.by_month()] == ["2026-01", "2026-02"]
    for totals, k in zip(days, run.daily_kpis, strict=True):
        location, market = k.emissions_location_kgco2_by_source, k.emissions_market_kgco2_by_source
        assert totals.scope2_location_kgco2 == pytest.approx(location["grid"] + location.get("heat", 0.0))
        assert totals.scope2_market_kgco2 == pytest.approx(market["grid"] + market.get("heat", 0.0), abs=1e-6)
        assert totals.scope1_kgco2 == pytest.approx(location.get("gas", 0.0), abs=1e-9)
        assert totals.scope1_kgco2 + totals.scope2_location_kgco2 == pytest.approx(k.emissions_location_kgco2)
        assert totals.scope1_kgco2 + totals.scope2_market_kgco2 == pytest.approx(k.emissions_market_kgco2, abs=1e-6)
    grid_kwh = float(run.schedule["grid.import_kw"].sum()) * 0.25
    assert ledger.totals().scope2_location_kgco2_by_source["grid"] == pytest.approx(grid_kwh * 0.5306)
    assert ledger.totals().scope2_location_kgco2 == pytest.approx(
        run.kpis.emissions_location_kgco2 - run.kpis.emissions_location_kgco2_by_source.get("gas", 0.0)
    )
    # The split path (periods of several days) reads the same activity from the schedule.
    split = activities_from_schedule(run.schedule, run.flows, heat_columns(site), site.tz, "run")
    for from_schedule, entry in zip(split, ledger.entries, strict=True):
        assert from_schedule.date == entry.date
        assert from_schedule.import_kwh == pytest.approx(entry.import_kwh)
        assert from_schedule.green_contract_kwh == pytest.approx(entry.green_contract_kwh)
        assert from_schedule.purchased_heat_gj == pytest.approx(entry.purchased_heat_gj)
        assert from_schedule.pv_output_kwh == pytest.approx(entry.pv_output_kwh)
    assert isinstance(ledger.to_frame(), pd.DataFrame) and len(ledger.to_frame()) == 2


def test_factor_overrides_need_a_source() -> None:
    with pytest.raises(ValidationError, match="source"):
        FactorOverrides.model_validate({"gas_kgco2_per_nm3": 2.0})
