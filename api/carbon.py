"""The carbon ledger through the API: a site's year from its daily account (``GET /v1/sites/{id}/carbon``) and a
what-if run's ledger (``POST /v1/scenarios/run``).

**A site's year.** The service keeps a daily account of a site (``account_days``, :mod:`scenarios.ems_state`): each
plan closes the days before it from readings and the plan in force, appending a row per day (a day closed again
after late readings gets a new row; the latest counts). A site with a carbon account (``Site.carbon``) has its days
kept from January 1; a site with targets or contract volumes over a month, a year or a date range over those
periods; any other site keeps none. :func:`site_ledger` turns the year's latest rows into one
:class:`~scenarios.ledger_activity.DayActivity` each (``DayActivity.from_account_day``) and builds the
:class:`~scenarios.ledger.Ledger` over the site's account (an empty ISO 14068-1 account without one), so every
allocation rule of the ledger holds (each lot at most once in total, earliest expiry first...). ``factors=``
restates the year with another bundled set (:meth:`~scenarios.ledger.Ledger.restate`): the response shows the
restated figures and the original ones. Nothing is stored: the ledger is rebuilt from the account on each call,
so it always rests on the latest rows.

**A run's ledger.** :func:`run_carbon` is :func:`scenarios.ledger.ledger_from_run` on the run and its case's site.

Numbers leave at their unit's precision (:func:`rounded`): money 0.01; kgCO2, tCO2, kWh, MWh, Nm3, GJ and a lot's
or a purchase's ``quantity`` (MWh or tCO2) 0.001; fractions 1e-6; emission factors, prices and counts as they are.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from api import repository
from api.errors import ProblemInputError
from api.plans import account_rows
from api.schemas import CarbonLedgerOut, CarbonPeriodsOut, CarbonTotalsOut, LedgerDaysOut, LotUseOut, RunCarbonOut
from scenarios.carbon import CarbonAccount, GecLot
from scenarios.emission_factors import FactorLibrary, FactorSet, bundled_library
from scenarios.ems_data import AccountDay
from scenarios.ledger import Ledger, ledger_from_run
from scenarios.ledger_activity import DayActivity
from scenarios.ledger_entries import KG_PER_T, KWH_PER_MWH, FactorSetRef, LedgerEntry, totals_of
from scenarios.rounding import AMOUNT, KPI_FRACTION, MONEY, Precision, round_number
from scenarios.site import Site
from scenarios.zero_carbon import ZeroCarbonStatus

NO_ACCOUNT_NOTE = (
    "no carbon account on the site (site.carbon): the ledger runs over an empty ISO 14068-1 account (no "
    "certificates, credits or quotes) with the default factor set (the national set of the latest year not after "
    "the ledger's)"
)
ACCOUNT_DAYS_NOTE = (
    "days are closed in the site's account as plans are made (each plan closes the days before it, from readings "
    "and the plan in force where a reading is missing; late readings close a day again); a site with a carbon "
    "account keeps every day from January 1, a site without one only the days of its targets' and contract "
    "volumes' periods over a month, a year or a date range"
)

_SUFFIXES: tuple[tuple[str, Precision], ...] = (
    ("_cny", MONEY),
    ("_kgco2", AMOUNT),
    ("_tco2", AMOUNT),
    ("_kwh", AMOUNT),
    ("_mwh", AMOUNT),
    ("_nm3", AMOUNT),
    ("_gj", AMOUNT),
    ("_frac", KPI_FRACTION),
)
_QUALIFIER = re.compile(r"_by_[a-z0-9_]+$")


def _precision(name: str) -> Precision | None:
    """The precision of a field by its name's unit (``scope1_kgco2_by_fuel`` -> kgCO2); None for an emission factor
    (``..._kgco2_per_kwh``: published to 4 decimals, kept as published) or a name without a unit."""
    if "_per_" in name:
        return None
    base = _QUALIFIER.sub("", name)
    if base == "quantity":  # a lot's or a purchase's MWh or tCO2
        return AMOUNT
    return next((p for suffix, p in _SUFFIXES if base.endswith(suffix) or base == suffix[1:]), None)


def rounded(value: Any, name: str = "") -> Any:
    """A record (model dump) with every number at the precision of the field it is held under; a mapping under a
    name with a unit (``scope2_market_kgco2_by_source``) holds amounts in that unit. Why by name: a ledger's record
    mixes money, emissions, energy and factors."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Mapping):
        if name and _precision(name) is not None:
            return {str(k): rounded(v, name) for k, v in value.items()}
        return {str(k): rounded(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, name) for v in value]
    precision = _precision(name) if name and isinstance(value, float) else None
    return value if precision is None else round_number(value, precision, tiny_to_zero=True)


# --- totals ------------------------------------------------------------------------------------------------------


def _lot_uses(
    entries: Sequence[LedgerEntry], account: CarbonAccount, residual: Callable[[LedgerEntry], float]
) -> tuple[list[LotUseOut], list[LotUseOut]]:
    """GEC and offset lots used by ``entries``, summed per lot in the order first used; a GEC's kgCO2 at
    ``residual(entry)`` [kgCO2/kWh] (the factor the figures rest on: the entry's own or its restatement's)."""
    certificates: dict[str, dict[str, Any]] = {}
    offsets: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for c in entry.certificates:
            use = certificates.setdefault(c.lot_id, {"quantity": 0.0, "kgco2": 0.0, "cost_cny": 0.0})
            use["quantity"] += c.mwh
            use["kgco2"] += c.mwh * KWH_PER_MWH * residual(entry)
            use["cost_cny"] += c.cost_cny
        for o in entry.offsets:
            use = offsets.setdefault(o.lot_id, {"quantity": 0.0, "kgco2": 0.0, "cost_cny": 0.0})
            use["quantity"] += o.tco2
            use["kgco2"] += o.kgco2
            use["cost_cny"] += o.cost_cny

    def out(uses: dict[str, dict[str, Any]]) -> list[LotUseOut]:
        found = []
        for lot_id, use in uses.items():
            lot = account.lot(lot_id)
            unit = "MWh" if isinstance(lot, GecLot) else "tCO2"
            found.append(LotUseOut(lot_id=lot_id, kind=lot.kind, unit=unit, **use))
        return found

    return out(certificates), out(offsets)


def _totals(
    entries: Sequence[LedgerEntry], label: str, account: CarbonAccount, residual: Callable[[LedgerEntry], float]
) -> CarbonTotalsOut:
    """The totals of ``entries`` (:func:`scenarios.ledger_entries.totals_of`), net tCO2 and the lots used, rounded."""
    totals = totals_of(entries, label)
    certificates, offsets = _lot_uses([e for e in entries if e.kind == "day"], account, residual)
    record = totals.model_dump() | {
        "net_tco2": totals.net_kgco2 / KG_PER_T,
        "certificate_lots": [c.model_dump() for c in certificates],
        "offset_lots": [o.model_dump() for o in offsets],
    }
    return CarbonTotalsOut.model_validate(rounded(record))


def _periods(
    entries: Sequence[LedgerEntry], year: int, account: CarbonAccount, residual: Callable[[LedgerEntry], float]
) -> CarbonPeriodsOut:
    """Totals per calendar month (``YYYY-MM``, in order) and for the year (``YYYY``)."""
    months: dict[str, list[LedgerEntry]] = {}
    for entry in sorted(entries, key=lambda e: e.date):
        months.setdefault(f"{entry.date.year:04d}-{entry.date.month:02d}", []).append(entry)
    return CarbonPeriodsOut(
        months=[_totals(group, label, account, residual) for label, group in months.items()],
        totals=_totals(entries, f"{year:04d}", account, residual),
    )


def _status(ledger: Ledger, year: int) -> ZeroCarbonStatus | None:
    if not any(e.date.year == year for e in ledger.entries):
        return None
    return ZeroCarbonStatus.model_validate(rounded(ledger.status(year)))


def _days(days: Iterable[AccountDay]) -> LedgerDaysOut:
    days = sorted(days, key=lambda d: d.day)
    sources = [d.ledger_source for d in days]
    return LedgerDaysOut(
        count=len(days),
        first=days[0].day if days else None,
        last=days[-1].day if days else None,
        from_readings=sources.count("readings"),
        from_plan=sources.count("plan"),
        mixed=sources.count("mixed"),
        without_fuels=sum(d.gas_nm3 is None or d.purchased_heat_gj is None for d in days),
        note=ACCOUNT_DAYS_NOTE,
    )


# --- a site's year -----------------------------------------------------------------------------------------------


def _factor_problem(field: str, message: str, value: Any) -> ProblemInputError:
    return ProblemInputError([{"field": field, "message": message, "type": "value_error", "input": value}])


def site_ledger(
    session: Session, site_id: int, year: int | None, factors: str | None, library: FactorLibrary | None = None
) -> CarbonLedgerOut:
    """The carbon ledger of a site's calendar ``year`` (default: the current year in the site's time zone) from the
    latest row of each day of its daily account, over the site's carbon account; with ``factors`` (a bundled factor
    set id) restated with that set. 404 for an unknown site (:class:`~api.repository.NotFoundError`); 422 naming
    ``query.factors`` for a set that is not bundled, ``query.year`` for a year no factor set covers (or
    ``site.carbon.factors`` when the site's own choice fits no year)."""
    row = repository.get_site(session, site_id)
    site = Site.model_validate(row.spec)
    library = library or bundled_library()
    year = _local_year(site) if year is None else year
    restate_set = None
    if factors is not None:
        try:
            restate_set = library.get(factors)
        except KeyError as error:
            known = ", ".join(s.id for s in library.sets)
            message = f"no bundled factor set {factors!r}; known: {known}"
            raise _factor_problem("query.factors", message, factors) from error
    account = site.carbon or CarbonAccount()
    try:
        account.factors.factor_set(year, library)
    except LookupError as error:
        try:
            account.factors.factor_set(2100, library)
            field, value = "query.year", year
        except LookupError:
            field, value = "site.carbon.factors", None
        raise _factor_problem(field, str(error), value) from error
    days = account_rows(session, site_id, dt.date(year, 1, 1), dt.date(year, 12, 31))
    return ledger_out(site_id, year, site.carbon, days, restate_set, library)


def ledger_out(
    site_id: int,
    year: int,
    carbon: CarbonAccount | None,
    days: Sequence[AccountDay],
    restate_set: FactorSet | None = None,
    library: FactorLibrary | None = None,
) -> CarbonLedgerOut:
    """The response of ``GET /v1/sites/{id}/carbon``: the ledger of ``year`` built from ``days`` (the account's
    latest row of each day) over ``carbon`` (None: an empty ISO 14068-1 account, said in ``note``), restated with
    ``restate_set`` if given (its year's day entries get restatement entries; ``original`` keeps the figures
    before)."""
    account = carbon or CarbonAccount()
    ledger = Ledger(account, library=library)
    used = FactorSetRef.of(ledger.factor_set(year))
    ledger.add_days(DayActivity.from_account_day(d) for d in days)
    original = list(ledger.entries)
    restated_with = None
    if restate_set is not None:
        ledger.restate(restate_set, year=year)
        restated_with = FactorSetRef.of(restate_set.with_overrides(account.factors.overrides))

    def current(entry: LedgerEntry) -> float:
        return ledger.current_factor_set(entry.id).grid_market_kgco2_per_kwh

    def own(entry: LedgerEntry) -> float:
        return entry.factor_set.grid_market_kgco2_per_kwh

    now = _periods(ledger.entries, year, account, current)
    return CarbonLedgerOut(
        site_id=site_id,
        year=year,
        account=carbon is not None,
        standard=account.standard.name,
        note=None if carbon is not None else NO_ACCOUNT_NOTE,
        factor_set=used,
        restated_with=restated_with,
        days=_days(days),
        months=now.months,
        totals=now.totals,
        original=None if restate_set is None else _periods(original, year, account, own),
        status=_status(ledger, year),
    )


def example() -> dict[str, Any]:
    """The documented answer (OpenAPI example): two days of July 2026 on the 2023 national factors (import 1,920
    and 2,400 kWh, 288 and 240 Nm3 of gas, one read, one with the gas as planned), a lot of 3 GEC spread over both
    days, quotes for the rest; built by :func:`ledger_out`, so it always has the response's shape."""
    carbon = CarbonAccount.model_validate(
        {
            "lots": [
                {"kind": "gec", "id": "gec-2026-05", "mwh": 3, "production_month": "2026-05", "price_cny_per_mwh": 5}
            ],
            "quotes": {
                "gec": [{"id": "gec-market", "price_cny_per_mwh": 6}],
                "offsets": [{"id": "ccer-market", "kind": "ccer", "price_cny_per_tco2": 80}],
            },
        }
    )
    days = [
        AccountDay(
            day=dt.date(2026, 7, 1),
            pv_available_kwh=480.0,
            pv_output_kwh=480.0,
            import_kwh=1920.0,
            gas_nm3=288.0,
            fuel_source="readings",
        ),
        AccountDay(day=dt.date(2026, 7, 2), import_kwh=2400.0, gas_nm3=240.0, fuel_source="plan"),
    ]
    return ledger_out(1, 2026, carbon, days).model_dump(mode="json")


def _local_year(site: Site) -> int:
    """The current calendar year in the site's time zone."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(site.tz)).year


# --- a run's ledger ----------------------------------------------------------------------------------------------


def run_carbon(run: Any, site: Site, library: FactorLibrary | None = None) -> RunCarbonOut:
    """The carbon of a :class:`~scenarios.pipeline.ScenarioRun` of ``site``: the ledger's totals over the run and
    each calendar year's zero-carbon status, over the site's carbon account (an empty ISO 14068-1 account if none,
    which the ``note`` says). LookupError when the site's factor choice fits no year of the run."""
    ledger = ledger_from_run(run, site, library=library)
    account = ledger.account
    sets: dict[str, FactorSetRef] = {}
    for entry in ledger.entries:
        sets.setdefault(entry.factor_set.id, entry.factor_set)

    def own(entry: LedgerEntry) -> float:
        return entry.factor_set.grid_market_kgco2_per_kwh

    return RunCarbonOut(
        account=site.carbon is not None,
        standard=account.standard.name,
        note=None if site.carbon is not None else NO_ACCOUNT_NOTE,
        factor_sets=list(sets.values()),
        totals=_totals(ledger.entries, "all", account, own),
        statuses=[ZeroCarbonStatus.model_validate(rounded(s)) for s in ledger.statuses()],
    )
