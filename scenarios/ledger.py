"""The carbon ledger toward zero-carbon status: append-only entries per day, totals per day, month and year, the
zero-carbon status under the site's standard and the least-cost purchase that closes the gap.

What a day did is :mod:`scenarios.ledger_activity`; the entries, their emissions and totals are
:mod:`scenarios.ledger_entries`; the status and the closing purchase are :mod:`scenarios.zero_carbon`. This module
keeps the ledger itself: entries appended and checked, lots allocated, restatements, the frame and the snapshot.

**Allocation**, day by day in date order, each lot at most once in total (a lot's MWh or tCO2 are spread over
days until used up; the ledger refuses an entry that over-allocates a lot):

- GEC cover only grid electricity not already covered by green contracts, so never more than the day's (hence
  the year's) residual market-based grid emissions; only lots valid in the day's month (production month to
  production month + validity - 1) and produced within the reporting year +- the standard's window; the lot
  that expires first goes first;
- offsets then cover what is left, if the standard allows them: only credits the standard accepts (kind,
  vintage, retired in time), oldest vintage first; not grid electricity if the standard says so
  (``offsets_cover_electricity``); at most the standard's cap, accrued per day (a share of the day's scope 1 +
  scope 2 market-based before certificates, or the base year's emissions / days in that year). Credits the cap
  refuses are recorded (``offsets_refused_kgco2``) and the status names them.

Day-level allocations are fractions of certificates and credits; the registry retires whole ones
(:attr:`scenarios.zero_carbon.ZeroCarbonStatus.retirements` rounds each lot's use in a year up).

**Restatement.** Entries never change. When final factors are published, :meth:`Ledger.restate` appends one
``restatement`` entry per day entry of the year, holding the old and new factor sets and the deltas (scope 1,
scope 2 both ways, certificates' avoided emissions); totals sum every entry, so they become the restated ones
while the original entries stay.

**Status** (:meth:`Ledger.status`, :func:`scenarios.zero_carbon.zero_carbon_status`): met when net emissions
are <= 0 and the reduce-first rule holds; else the reasons and the least-cost closing purchase.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd
from pydantic import BaseModel

from scenarios.carbon import CarbonAccount, GecLot, OffsetLot, ZeroCarbonStandard, month_label, month_of
from scenarios.emission_factors import FactorLibrary, FactorSet, bundled_library
from scenarios.ledger_activity import DayActivity, activities_from_run
from scenarios.ledger_entries import (
    ACTIVITY_FIELDS,
    KG_PER_T,
    KWH_PER_MWH,
    CertificateRetirement,
    Emissions,
    FactorSetRef,
    LedgerEntry,
    LedgerTotals,
    OffsetRetirement,
    emissions_of,
    lot_use,
    totals_of,
)
from scenarios.zero_carbon import ZeroCarbonStatus, offset_cap, zero_carbon_status

TOL = 1e-9
"""Absolute tolerance of allocations and checks [MWh, tCO2, kgCO2]."""


class LedgerSnapshot(BaseModel):
    """A ledger as data (to store it and read it back with :meth:`Ledger.from_snapshot`)."""

    account: CarbonAccount
    entries: list[LedgerEntry]


class Ledger:
    """An append-only carbon ledger over a site's :class:`~scenarios.carbon.CarbonAccount`.

    Entries are frozen; :meth:`append` checks each one against the entries before it (unique ids, one day entry
    per date, restatements of existing entries from their current factor set, every lot allocated at most once
    and only where valid). Totals, statuses and frames are recomputed from the entries every time.
    """

    def __init__(
        self,
        account: CarbonAccount | None = None,
        entries: Iterable[LedgerEntry] = (),
        library: FactorLibrary | None = None,
    ) -> None:
        self.account = account or CarbonAccount()
        self.library = library or bundled_library()
        self._entries: list[LedgerEntry] = []
        self._ids: set[str] = set()
        self._dates: set[dt.date] = set()
        self._current: dict[str, FactorSetRef] = {}
        self._used: dict[str, float] = {}
        self._restatements: dict[str, int] = {}
        for entry in entries:
            self.append(entry)

    # -- entries --

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        return tuple(self._entries)

    def append(self, entry: LedgerEntry) -> None:
        """Adds ``entry`` at the end; ValueError (and nothing added) if it breaks an invariant of the ledger."""
        if entry.id in self._ids:
            raise ValueError(f"entry {entry.id} is already in the ledger")
        if entry.kind == "restatement":
            assert entry.restates is not None and entry.previous_factor_set is not None
            current = self._current.get(entry.restates)
            if current is None:
                raise ValueError(f"restatement {entry.id} restates {entry.restates}, which is no day entry")
            if current != entry.previous_factor_set:
                raise ValueError(
                    f"restatement {entry.id} replaces {entry.previous_factor_set.id}, but {entry.restates} now "
                    f"uses {current.id}"
                )
        else:
            if entry.date in self._dates:
                raise ValueError(f"{entry.date} already has a day entry")
            self._check_allocations(entry)
        self._entries.append(entry)
        self._ids.add(entry.id)
        if entry.kind == "restatement":
            assert entry.restates is not None
            self._current[entry.restates] = entry.factor_set
            self._restatements[entry.restates] = self._restatements.get(entry.restates, 0) + 1
        else:
            self._current[entry.id] = entry.factor_set
            self._dates.add(entry.date)
            for lot_id, amount in lot_use([entry]).items():
                self._used[lot_id] = self._used.get(lot_id, 0.0) + amount

    def _check_allocations(self, entry: LedgerEntry) -> None:
        standard = self.account.standard
        month, year = month_of(entry.date), entry.date.year
        for c in entry.certificates:
            lot = self._lot(c.lot_id, GecLot)
            if not self._gec_usable(lot, month, year):
                raise ValueError(f"GEC lot {lot.id} ({lot.production_month}) is not valid for {month_label(month)}")
            expected = c.mwh * KWH_PER_MWH * entry.factor_set.grid_market_kgco2_per_kwh
            if abs(c.kgco2 - expected) > 1e-6 * max(1.0, expected):
                raise ValueError(f"GEC lot {lot.id}: {c.kgco2} kgCO2 avoided, expected MWh x residual = {expected}")
        if entry.certificates_mwh * KWH_PER_MWH > entry.uncovered_grid_kwh * (1 + 1e-9) + TOL:
            raise ValueError(f"{entry.id}: certificates cover more than the grid import not covered by contracts")
        for o in entry.offsets:
            lot = self._lot(o.lot_id, OffsetLot)
            refusal = standard.offset_refusal(lot, year)
            if refusal is not None:
                raise ValueError(f"offset lot {lot.id}: {refusal}")
        if entry.offsets:
            emitted = _offsettable_kgco2(
                standard, entry.scope1_kgco2, entry.scope2_market_kgco2_by_source, entry.certificates_kgco2
            )
            gross = entry.scope1_kgco2 + entry.scope2_market_kgco2
            allowed = min(emitted, offset_cap(self.account, gross, 1, year))
            if entry.offsets_kgco2 > allowed + 1e-6 * max(1.0, allowed):
                raise ValueError(f"{entry.id}: offsets {entry.offsets_kgco2:g} kgCO2 exceed the {allowed:g} allowed")
        for lot_id, amount in lot_use([entry]).items():
            size = _lot_size(self.account.lot(lot_id))
            if self._used.get(lot_id, 0.0) + amount > size + TOL:
                raise ValueError(f"lot {lot_id} would be allocated {self._used.get(lot_id, 0.0) + amount:g} of {size}")

    def _lot(self, lot_id: str, kind: type[GecLot] | type[OffsetLot]) -> Any:
        try:
            lot = self.account.lot(lot_id)
        except KeyError:
            raise ValueError(f"lot {lot_id} is not in the account") from None
        if not isinstance(lot, kind):
            raise ValueError(f"lot {lot_id} is not a {'GEC' if kind is GecLot else 'offset'} lot")
        return lot

    def _gec_usable(self, lot: GecLot, month: int, year: int) -> bool:
        """Whether ``lot`` may cover grid electricity of ``month`` (a month count) in the reporting ``year``."""
        return lot.valid_in(month) and self.account.standard.certificate_vintage_ok(lot.first_month, year)

    def remaining(self, lot_id: str) -> float:
        """What is left of a lot after every allocation so far [MWh or tCO2]."""
        return _lot_size(self.account.lot(lot_id)) - self._used.get(lot_id, 0.0)

    def current_factor_set(self, entry_id: str) -> FactorSetRef:
        """The factor set a day entry's figures now rest on (the latest restatement's, else its own)."""
        return self._current[entry_id]

    def factor_set(self, year: int) -> FactorSet:
        """The set the account's choice gives for entries of ``year``."""
        return self.account.factors.factor_set(year, self.library)

    # -- building --

    def add_days(self, activities: Iterable[DayActivity]) -> list[LedgerEntry]:
        """Appends one day entry per activity, in date order, allocating certificates then offsets; returns them."""
        added = []
        for activity in sorted(activities, key=lambda a: a.date):
            entry = self._day_entry(activity)
            self.append(entry)
            added.append(entry)
        return added

    def _day_entry(self, activity: DayActivity) -> LedgerEntry:
        factors = FactorSetRef.of(self.factor_set(activity.date.year))
        emissions = emissions_of(activity, factors)
        certificates = self._allocate_certificates(activity, factors)
        certificates_kg = sum(c.kgco2 for c in certificates)
        offsets, refused = self._allocate_offsets(activity.date.year, emissions, certificates_kg)
        return LedgerEntry(
            id=activity.date.isoformat(),
            kind="day",
            factor_set=factors,
            **activity.model_dump(),
            uncovered_grid_kwh=activity.uncovered_grid_kwh,
            **emissions.model_dump(),
            certificates=tuple(certificates),
            certificates_kgco2=certificates_kg,
            offsets=tuple(offsets),
            offsets_refused_kgco2=refused if refused > 1e-6 else 0.0,
        )

    def _allocate_certificates(self, activity: DayActivity, factors: FactorSetRef) -> list[CertificateRetirement]:
        """GEC for a day's grid import not covered by contracts: lots usable that month, earliest expiry first."""
        year, month = activity.date.year, month_of(activity.date)
        certificates = []
        need_mwh = activity.uncovered_grid_kwh / KWH_PER_MWH
        gec = [lot for lot in self.account.gec_lots if self._gec_usable(lot, month, year)]
        for lot in sorted(gec, key=lambda lot: (lot.last_month, lot.first_month, lot.id)):
            take = min(self.remaining(lot.id), need_mwh)
            if take <= TOL:
                continue
            certificates.append(
                CertificateRetirement(
                    lot_id=lot.id,
                    production_month=lot.production_month,
                    mwh=take,
                    kgco2=take * KWH_PER_MWH * factors.grid_market_kgco2_per_kwh,
                    cost_cny=take * lot.price_cny_per_mwh,
                )
            )
            need_mwh -= take
        return certificates

    def _allocate_offsets(
        self, year: int, emissions: Emissions, certificates_kg: float
    ) -> tuple[list[OffsetRetirement], float]:
        """Credits for what a day of ``year`` emits after certificates, within the standard's rules and daily cap,
        oldest vintage first; with the eligible credits the cap refused [kgCO2]."""
        standard = self.account.standard
        scope1 = sum(emissions.scope1_kgco2_by_fuel.values())
        market = emissions.scope2_market_kgco2_by_source
        need_kg = max(0.0, _offsettable_kgco2(standard, scope1, market, certificates_kg))
        eligible = [
            lot
            for lot in self.account.offset_lots
            if standard.offset_refusal(lot, year) is None and self.remaining(lot.id) > TOL
        ]
        available_kg = sum(self.remaining(lot.id) for lot in eligible) * KG_PER_T
        allowed_kg = min(need_kg, offset_cap(self.account, scope1 + sum(market.values()), 1, year))
        offsets = []
        left_kg = allowed_kg
        retire_by = standard.offset_retire_by(year)
        for lot in sorted(eligible, key=lambda lot: (lot.vintage_year, lot.id)):
            take = min(self.remaining(lot.id), left_kg / KG_PER_T)
            if take <= TOL:
                break
            offsets.append(
                OffsetRetirement(
                    lot_id=lot.id,
                    kind=lot.kind,
                    vintage_year=lot.vintage_year,
                    tco2=take,
                    cost_cny=take * lot.price_cny_per_tco2,
                    retire_by=retire_by,
                )
            )
            left_kg -= take * KG_PER_T
        return offsets, max(0.0, min(need_kg, available_kg) - allowed_kg)

    def restate(self, new_set: FactorSet, year: int | None = None) -> list[LedgerEntry]:
        """Appends a restatement of every day entry of ``year`` (default: the set's year) whose figures rest on
        another set, with the deltas to ``new_set`` (the account's overrides applied); returns them."""
        year = new_set.year if year is None else year
        new = FactorSetRef.of(new_set.with_overrides(self.account.factors.overrides))
        added = []
        for entry in [e for e in self._entries if e.kind == "day" and e.date.year == year]:
            old = self._current[entry.id]
            if old == new:
                continue
            activity = entry.activity()
            before, after = emissions_of(activity, old), emissions_of(activity, new)
            number = self._restatements.get(entry.id, 0) + 1
            restatement = LedgerEntry(
                id=f"{entry.id}/restatement-{number}",
                kind="restatement",
                date=entry.date,
                period=entry.period,
                factor_set=new,
                previous_factor_set=old,
                restates=entry.id,
                **{name: _delta(getattr(after, name), getattr(before, name)) for name in Emissions.model_fields},
                certificates_kgco2=entry.certificates_mwh
                * KWH_PER_MWH
                * (new.grid_market_kgco2_per_kwh - old.grid_market_kgco2_per_kwh),
            )
            self.append(restatement)
            added.append(restatement)
        return added

    # -- totals --

    def totals(self) -> LedgerTotals:
        """Sums over every entry."""
        return totals_of(self._entries, "all")

    def _grouped(self, label: Callable[[dt.date], str]) -> list[LedgerTotals]:
        groups: dict[str, list[LedgerEntry]] = {}
        for entry in sorted(self._entries, key=lambda e: e.date):
            groups.setdefault(label(entry.date), []).append(entry)
        return [totals_of(entries, period) for period, entries in groups.items()]

    def by_day(self) -> list[LedgerTotals]:
        """Totals per date (a day entry with its restatements), in date order."""
        return self._grouped(lambda d: d.isoformat())

    def by_month(self) -> list[LedgerTotals]:
        """Totals per calendar month (``YYYY-MM``), in order."""
        return self._grouped(lambda d: f"{d.year:04d}-{d.month:02d}")

    def by_year(self) -> list[LedgerTotals]:
        """Totals per calendar year (``YYYY``), in order."""
        return self._grouped(lambda d: f"{d.year:04d}")

    def years(self) -> list[int]:
        return sorted({e.date.year for e in self._entries})

    # -- status --

    def statuses(self) -> list[ZeroCarbonStatus]:
        """The zero-carbon status of every year in the ledger."""
        return [self.status(year) for year in self.years()]

    def status(self, year: int | None = None) -> ZeroCarbonStatus:
        """The zero-carbon status of ``year`` (default: the ledger's last year) under the account's standard."""
        years = self.years()
        if not years:
            raise ValueError("the ledger has no entries")
        return zero_carbon_status(self.account, self._entries, years[-1] if year is None else year)

    # -- output --

    def to_frame(self) -> pd.DataFrame:
        """One row per entry, in the order appended, for CSV or Excel: ids, factor set (id, source, data year),
        activity [kWh, Nm3, GJ], emissions by scope, fuel and source [kgCO2], allocations (``lot:quantity``)."""
        rows = []
        for e in self._entries:
            row: dict[str, Any] = {
                "id": e.id,
                "kind": e.kind,
                "date": e.date.isoformat(),
                "period": e.period,
                "restates": e.restates,
                "factor_set": e.factor_set.id,
                "factor_set_year": e.factor_set.year,
                "factor_set_source": e.factor_set.source,
                "previous_factor_set": None if e.previous_factor_set is None else e.previous_factor_set.id,
            }
            row |= {name: getattr(e, name) for name in ACTIVITY_FIELDS}
            row |= {f"scope1_{fuel}_kgco2": v for fuel, v in e.scope1_kgco2_by_fuel.items()}
            row["scope1_kgco2"] = e.scope1_kgco2
            row |= {f"scope2_location_{s}_kgco2": v for s, v in e.scope2_location_kgco2_by_source.items()}
            row["scope2_location_kgco2"] = e.scope2_location_kgco2
            row |= {f"scope2_market_{s}_kgco2": v for s, v in e.scope2_market_kgco2_by_source.items()}
            row["scope2_market_kgco2"] = e.scope2_market_kgco2
            row |= {
                "certificate_lots": "; ".join(f"{c.lot_id}:{c.mwh:g}" for c in e.certificates),
                "certificates_mwh": e.certificates_mwh,
                "certificates_kgco2": e.certificates_kgco2,
                "emissions_location_kgco2": e.emissions_location_kgco2,
                "emissions_market_kgco2": e.emissions_market_kgco2,
                "offset_lots": "; ".join(f"{o.lot_id}:{o.tco2:g}" for o in e.offsets),
                "offsets_tco2": e.offsets_tco2,
                "offsets_refused_kgco2": e.offsets_refused_kgco2,
                "net_kgco2": e.net_kgco2,
            }
            rows.append(row)
        return pd.DataFrame(rows)

    def snapshot(self) -> LedgerSnapshot:
        """The ledger as data (account and entries)."""
        return LedgerSnapshot(account=self.account, entries=list(self._entries))

    @classmethod
    def from_snapshot(cls, snapshot: LedgerSnapshot, library: FactorLibrary | None = None) -> Ledger:
        """A ledger from :meth:`snapshot`'s data, every entry checked again on the way in."""
        return cls(snapshot.account, snapshot.entries, library)


def _lot_size(lot: GecLot | OffsetLot) -> float:
    """A lot's size [MWh for GEC, tCO2 for offsets]."""
    return lot.mwh if isinstance(lot, GecLot) else lot.tco2


def _offsettable_kgco2(
    standard: ZeroCarbonStandard,
    scope1_kgco2: float,
    market_kgco2_by_source: Mapping[str, float],
    certificates_kgco2: float,
) -> float:
    """What offsets may cover of a day's emissions [kgCO2]: scope 1 + scope 2 market-based after certificates,
    less the grid electricity left if the standard does not let offsets cover electricity."""
    emitted = scope1_kgco2 + sum(market_kgco2_by_source.values()) - certificates_kgco2
    if not standard.offsets_cover_electricity:
        emitted -= market_kgco2_by_source.get("grid", 0.0) - certificates_kgco2
    return emitted


def _delta(after: Mapping[str, float], before: Mapping[str, float]) -> dict[str, float]:
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in dict.fromkeys([*before, *after])}


def ledger_from_run(
    run: Any, site: Any, *, ledger: Ledger | None = None, library: FactorLibrary | None = None
) -> Ledger:
    """The carbon ledger of a :class:`~scenarios.pipeline.ScenarioRun` of ``site`` (a :class:`~scenarios.site.Site`):
    one day entry per local day, over ``site.carbon`` (an empty ISO 14068 account if none). With ``ledger``, the
    days are appended to it (lots already allocated there stay allocated)."""
    if ledger is None:
        ledger = Ledger(getattr(site, "carbon", None) or CarbonAccount(), library=library)
    ledger.add_days(activities_from_run(run, site))
    return ledger
