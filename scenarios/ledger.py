"""The carbon ledger toward zero-carbon status: append-only entries per day, totals per day, month and year, the
zero-carbon status under the site's standard and the least-cost purchase that closes the gap.

**Entries.** One ``day`` entry per local day of a run (:func:`ledger_from_run`), from the day's KPIs (activity:
grid import, green-contract energy, PV, gas) and the schedule (purchased heat), times the factor set of the
day's year (:mod:`scenarios.emission_factors`, recorded on the entry: id, source, year, values):

- scope 1 by fuel: natural gas burnt x the gas factor [kgCO2];
- scope 2 location-based: all grid import x the grid average, purchased heat x the heat factor [kgCO2];
- scope 2 market-based *before certificates*: grid import not covered by green contracts x the residual
  factor, purchased heat x the heat factor [kgCO2] (the optimiser's market-based emissions, same rule);
- green-contract energy and PV used on site [kWh], apart from each other and from certificates;
- certificates retired: GEC lots (lot id, MWh, kgCO2 avoided = MWh x 1000 x the residual factor, cost);
- offsets retired: credit lots (lot id, tCO2, cost, the date they must be retired by);
- net emissions = scope 1 + scope 2 market-based - certificates - offsets.

Both scope 2 totals are always there (the GHG Protocol's Scope 2 Guidance asks for both); the zero-carbon status
is judged on the market-based inventory, where certificates count.

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
(:attr:`ZeroCarbonStatus.retirements` rounds each lot's use in a year up).

**Restatement.** Entries never change. When final factors are published, :meth:`Ledger.restate` appends one
``restatement`` entry per day entry of the year, holding the old and new factor sets and the deltas (scope 1,
scope 2 both ways, certificates' avoided emissions); totals sum every entry, so they become the restated ones
while the original entries stay.

**Status** (:meth:`Ledger.status`): met when net emissions are <= 0 and the reduce-first rule holds (emissions
before offsets at least ``min_reduction_frac`` below the base year's, pro rata to the days covered); else the
reasons, and the least-cost purchase from the account's quotes that closes the gap: GEC for the grid
electricity left (per month at the cheapest quote valid that month), offsets for the rest within the cap,
cheapest per tCO2 first, GEC first on a tie; a reduce-first shortfall can only be closed by GEC.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer import Kpis
from optimizer.assets.grid import GREEN_PURCHASE, GRID_EXPORT, GRID_IMPORT
from optimizer.assets.heat import GAS_USE, KWH_PER_GJ
from optimizer.assets.pv import PV_AVAILABLE, PV_OUTPUT
from optimizer.types import NonNegFloat
from scenarios.carbon import CarbonAccount, GecLot, OffsetLot, month_label, month_number, month_of
from scenarios.emission_factors import FactorLibrary, FactorSet, bundled_library

if TYPE_CHECKING:
    from scenarios.ems_data import AccountDay

KG_PER_T = 1000.0
KWH_PER_MWH = 1000.0
TOL = 1e-9
"""Absolute tolerance of allocations and checks [MWh, tCO2, kgCO2]."""

FUEL_GAS = "natural_gas"
"""Scope 1 key of natural gas (the optimiser's emission source "gas")."""


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- activity --------------------------------------------------------------------------------------------------


class DayActivity(_Frozen):
    """What one local day metered or planned, as the ledger needs it [kWh, Nm3, GJ]."""

    date: dt.date
    period: str = Field(description="Label of the run period the day belongs to (an ISO date, or a..b).")
    import_kwh: NonNegFloat = Field(description="Everything through the grid meter, green contracts included.")
    green_contract_kwh: NonNegFloat = Field(0.0, description="Part of the import covered by green contracts.")
    pv_available_kwh: NonNegFloat = 0.0
    pv_output_kwh: NonNegFloat = 0.0
    export_kwh: NonNegFloat = 0.0
    consumption_kwh: NonNegFloat = Field(0.0, description="Import + PV output - export.")
    gas_nm3: NonNegFloat = Field(0.0, description="Natural gas burnt [Nm3].")
    purchased_heat_gj: NonNegFloat = Field(0.0, description="Purchased heat or steam [GJ].")

    @property
    def uncovered_grid_kwh(self) -> float:
        """Grid import not covered by green contracts: what certificates may cover [kWh]."""
        return max(0.0, self.import_kwh - self.green_contract_kwh)

    @classmethod
    def from_account_day(cls, day: AccountDay) -> DayActivity:
        """The activity of one day of the EMS service's daily account (:class:`~scenarios.ems_data.AccountDay`,
        the latest row of the day): metered or planned energy, green purchases as planned, gas and purchased heat
        (0 for a row recorded before fuels were kept). Period: the day itself. Consumption = import + PV output -
        export, as the optimiser counts it."""
        return cls(
            date=day.day,
            period=day.day.isoformat(),
            import_kwh=day.import_kwh,
            green_contract_kwh=day.green_kwh,
            pv_available_kwh=day.pv_available_kwh,
            pv_output_kwh=day.pv_output_kwh,
            export_kwh=day.export_kwh,
            consumption_kwh=max(0.0, day.import_kwh + day.pv_output_kwh - day.export_kwh),
            gas_nm3=day.gas_nm3 or 0.0,
            purchased_heat_gj=day.purchased_heat_gj or 0.0,
        )


def activity_from_kpis(day: dt.date, period: str, kpis: Kpis, purchased_heat_gj: float = 0.0) -> DayActivity:
    """The activity of one day from its KPIs (``purchased_heat_gj`` from the schedule: KPIs have no heat energy)."""
    return DayActivity(
        date=day,
        period=period,
        import_kwh=kpis.import_kwh,
        green_contract_kwh=kpis.green_contract_kwh,
        pv_available_kwh=kpis.pv_available_kwh,
        pv_output_kwh=kpis.pv_output_kwh,
        export_kwh=kpis.export_kwh,
        consumption_kwh=kpis.consumption_kwh,
        gas_nm3=kpis.gas_use_nm3 or 0.0,
        purchased_heat_gj=purchased_heat_gj,
    )


def step_hours(index: pd.DatetimeIndex) -> float:
    """The step of a schedule index [h] (the median spacing; a run has one step)."""
    if len(index) < 2:
        raise ValueError("a schedule needs two rows to tell its step")
    spacing = pd.Series(index[1:] - index[:-1]).dt.total_seconds()
    return float(spacing.median()) / 3600.0


def _local_dates(index: pd.DatetimeIndex, tz: str) -> pd.Index:
    local = index.tz_convert(tz) if index.tz is not None else index
    return pd.Index([ts.date() for ts in local])


def heat_columns(site: Any) -> list[str]:
    """Schedule columns of the site's purchased heat (``<asset>.heat_kw``) [kW_th]."""
    return [f"{a.name}.heat_kw" for a in site.assets if getattr(a, "kind", None) == "purchased_heat"]


def activities_from_schedule(
    schedule: pd.DataFrame, flows: Mapping[str, Any], heat: Sequence[str], tz: str, period: str
) -> list[DayActivity]:
    """The activity of every local day of ``schedule`` from its columns by role (``flows``: column -> ColumnInfo
    with a ``role``) and the purchased-heat columns ``heat``; used for periods longer than a day."""
    dt_h = step_hours(pd.DatetimeIndex(schedule.index))
    dates = _local_dates(pd.DatetimeIndex(schedule.index), tz)

    def total(rows: pd.DataFrame, columns: Sequence[str]) -> float:
        present = [c for c in columns if c in rows.columns]
        return float(rows[present].to_numpy().sum() * dt_h) if present else 0.0

    by_role: dict[str, list[str]] = {}
    for column, info in flows.items():
        if getattr(info, "role", None) is not None:
            by_role.setdefault(info.role, []).append(column)
    out = []
    for day in dict.fromkeys(dates):
        rows = schedule[dates == day]
        imported = total(rows, by_role.get(GRID_IMPORT, []))
        output = total(rows, by_role.get(PV_OUTPUT, []))
        exported = total(rows, by_role.get(GRID_EXPORT, []))
        out.append(
            DayActivity(
                date=day,
                period=period,
                import_kwh=imported,
                green_contract_kwh=total(rows, by_role.get(GREEN_PURCHASE, [])),
                pv_available_kwh=total(rows, by_role.get(PV_AVAILABLE, [])),
                pv_output_kwh=output,
                export_kwh=exported,
                consumption_kwh=max(0.0, imported + output - exported),
                gas_nm3=total(rows, by_role.get(GAS_USE, [])),
                purchased_heat_gj=total(rows, heat) / KWH_PER_GJ,
            )
        )
    return out


def _period_dates(label: str) -> list[dt.date]:
    first, _, last = label.partition("..")
    start = dt.date.fromisoformat(first)
    end = dt.date.fromisoformat(last) if last else start
    return [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]


def activities_from_run(run: Any, site: Any) -> list[DayActivity]:
    """One :class:`DayActivity` per local day of a :class:`~scenarios.pipeline.ScenarioRun`: from the day's KPIs
    (purchased heat from the schedule), or split from the schedule for a period of several days."""
    heat = heat_columns(site)
    schedule = run.schedule
    index = pd.DatetimeIndex(schedule.index)
    dates = _local_dates(index, site.tz)
    dt_h = step_hours(index)
    out: list[DayActivity] = []
    for record, kpis in zip(run.days, run.daily_kpis, strict=True):
        days = _period_dates(record.period)
        if len(days) == 1:
            rows = schedule[dates == days[0]]
            present = [c for c in heat if c in rows.columns]
            heat_gj = float(rows[present].to_numpy().sum() * dt_h) / KWH_PER_GJ if present else 0.0
            out.append(activity_from_kpis(days[0], record.period, kpis, heat_gj))
        else:
            rows = schedule[dates.isin(days)]
            out.extend(activities_from_schedule(rows, run.flows, heat, site.tz, record.period))
    return out


# --- entries ---------------------------------------------------------------------------------------------------


class FactorSetRef(_Frozen):
    """The factor set an entry used: id, source and data year, and the values themselves (so an entry is
    self-contained and a restatement's delta can be recomputed from it)."""

    id: str
    region: str
    year: int
    version: str
    source: str
    grid_location_kgco2_per_kwh: float
    grid_market_kgco2_per_kwh: float
    gas_kgco2_per_nm3: float
    purchased_heat_kgco2_per_gj: float

    @classmethod
    def of(cls, factor_set: FactorSet) -> FactorSetRef:
        return cls(
            id=factor_set.id,
            region=factor_set.region,
            year=factor_set.year,
            version=factor_set.version,
            source=factor_set.source,
            grid_location_kgco2_per_kwh=factor_set.grid_location_kgco2_per_kwh,
            grid_market_kgco2_per_kwh=factor_set.grid_market_kgco2_per_kwh,
            gas_kgco2_per_nm3=factor_set.gas_kgco2_per_nm3,
            purchased_heat_kgco2_per_gj=factor_set.purchased_heat_kgco2_per_gj,
        )


class Emissions(_Frozen):
    """Scope 1 by fuel and scope 2 by source (grid, heat), both ways [kgCO2]."""

    scope1_kgco2_by_fuel: dict[str, float]
    scope2_location_kgco2_by_source: dict[str, float]
    scope2_market_kgco2_by_source: dict[str, float]


def emissions_of(activity: DayActivity, factors: FactorSetRef) -> Emissions:
    """The emissions of a day's activity with a factor set, before certificates and offsets [kgCO2]."""
    heat = activity.purchased_heat_gj * factors.purchased_heat_kgco2_per_gj
    return Emissions(
        scope1_kgco2_by_fuel={FUEL_GAS: activity.gas_nm3 * factors.gas_kgco2_per_nm3},
        scope2_location_kgco2_by_source={
            "grid": activity.import_kwh * factors.grid_location_kgco2_per_kwh,
            "heat": heat,
        },
        scope2_market_kgco2_by_source={
            "grid": activity.uncovered_grid_kwh * factors.grid_market_kgco2_per_kwh,
            "heat": heat,
        },
    )


class CertificateRetirement(_Frozen):
    """Part of a GEC lot allocated to an entry."""

    lot_id: str
    production_month: str
    mwh: float = Field(gt=0)
    kgco2: float = Field(description="Avoided: MWh x 1000 x the entry's residual factor [kgCO2].")
    cost_cny: float = Field(description="MWh x the lot's price [CNY].")


class OffsetRetirement(_Frozen):
    """Part of an offset lot allocated to an entry."""

    lot_id: str
    kind: str
    vintage_year: int
    tco2: float = Field(gt=0)
    cost_cny: float = Field(description="tCO2 x the lot's price [CNY].")
    retire_by: dt.date | None = Field(description="Last day to retire it in the registry under the standard.")

    @property
    def kgco2(self) -> float:
        return self.tco2 * KG_PER_T


_ACTIVITY = (
    "import_kwh",
    "green_contract_kwh",
    "uncovered_grid_kwh",
    "pv_available_kwh",
    "pv_output_kwh",
    "export_kwh",
    "consumption_kwh",
    "gas_nm3",
    "purchased_heat_gj",
)


class LedgerEntry(_Frozen):
    """One immutable ledger line: a day, or a restatement of a day with other factors (deltas only)."""

    id: str = Field(description="The date for a day; <date>/restatement-<n> for its n-th restatement.")
    kind: Literal["day", "restatement"]
    date: dt.date
    period: str
    factor_set: FactorSetRef = Field(description="The set used (a restatement: the new one).")
    previous_factor_set: FactorSetRef | None = Field(None, description="A restatement: the set it replaces.")
    restates: str | None = Field(None, description="A restatement: the id of the day entry.")
    import_kwh: float = 0.0
    green_contract_kwh: float = 0.0
    uncovered_grid_kwh: float = 0.0
    pv_available_kwh: float = 0.0
    pv_output_kwh: float = 0.0
    export_kwh: float = 0.0
    consumption_kwh: float = 0.0
    gas_nm3: float = 0.0
    purchased_heat_gj: float = 0.0
    scope1_kgco2_by_fuel: dict[str, float]
    scope2_location_kgco2_by_source: dict[str, float]
    scope2_market_kgco2_by_source: dict[str, float] = Field(description="Before certificates.")
    certificates: tuple[CertificateRetirement, ...] = ()
    certificates_kgco2: float = Field(0.0, description="Avoided by certificates (a restatement: the delta).")
    offsets: tuple[OffsetRetirement, ...] = ()
    offsets_refused_kgco2: float = Field(0.0, ge=0, description="Eligible credits the offset cap refused.")

    @model_validator(mode="after")
    def _consistent(self) -> LedgerEntry:
        if self.kind == "day":
            if self.restates is not None or self.previous_factor_set is not None:
                raise ValueError("a day entry restates nothing")
            if abs(self.uncovered_grid_kwh - max(0.0, self.import_kwh - self.green_contract_kwh)) > 1e-6:
                raise ValueError("uncovered_grid_kwh must be import_kwh - green_contract_kwh")
            total = sum(c.kgco2 for c in self.certificates)
            if abs(total - self.certificates_kgco2) > 1e-6 * max(1.0, abs(total)):
                raise ValueError(f"certificates_kgco2 {self.certificates_kgco2} is not their sum {total}")
        elif self.restates is None or self.previous_factor_set is None or self.certificates or self.offsets:
            raise ValueError("a restatement names the entry and the previous set, and allocates nothing")
        elif any(getattr(self, name) for name in _ACTIVITY):
            raise ValueError("a restatement changes factors, not activity: its energies are 0")
        return self

    @property
    def pv_self_used_kwh(self) -> float:
        """PV output minus export: PV used on site [kWh] (the optimiser's definition)."""
        return self.pv_output_kwh - self.export_kwh

    @property
    def scope1_kgco2(self) -> float:
        return sum(self.scope1_kgco2_by_fuel.values())

    @property
    def scope2_location_kgco2(self) -> float:
        return sum(self.scope2_location_kgco2_by_source.values())

    @property
    def scope2_market_kgco2(self) -> float:
        """Market-based scope 2 before certificates [kgCO2]."""
        return sum(self.scope2_market_kgco2_by_source.values())

    @property
    def certificates_mwh(self) -> float:
        return float(sum(c.mwh for c in self.certificates))

    @property
    def offsets_tco2(self) -> float:
        return float(sum(o.tco2 for o in self.offsets))

    @property
    def offsets_kgco2(self) -> float:
        return self.offsets_tco2 * KG_PER_T

    @property
    def emissions_location_kgco2(self) -> float:
        """Scope 1 + scope 2 location-based [kgCO2]."""
        return self.scope1_kgco2 + self.scope2_location_kgco2

    @property
    def emissions_market_kgco2(self) -> float:
        """Scope 1 + scope 2 market-based after certificates: the inventory offsets count against [kgCO2]."""
        return self.scope1_kgco2 + self.scope2_market_kgco2 - self.certificates_kgco2

    @property
    def net_kgco2(self) -> float:
        return self.emissions_market_kgco2 - self.offsets_kgco2

    def activity(self) -> DayActivity:
        """A day entry's activity (to recompute its emissions with other factors)."""
        return DayActivity(
            date=self.date,
            period=self.period,
            import_kwh=self.import_kwh,
            green_contract_kwh=self.green_contract_kwh,
            pv_available_kwh=self.pv_available_kwh,
            pv_output_kwh=self.pv_output_kwh,
            export_kwh=self.export_kwh,
            consumption_kwh=self.consumption_kwh,
            gas_nm3=self.gas_nm3,
            purchased_heat_gj=self.purchased_heat_gj,
        )


# --- totals ----------------------------------------------------------------------------------------------------


class LedgerTotals(BaseModel):
    """Sums over the entries of a day, month, year or the whole ledger (restatements included).

    The shares stay separate metrics: PV self-consumption = PV used on site / PV available; green share =
    (PV used on site + green contracts) / consumption; certificate share = certificate MWh / consumption.
    """

    period: str
    days: int = Field(description="Day entries summed.")
    restatements: int = Field(description="Restatement entries summed.")
    factor_set_ids: list[str] = Field(description="The factor sets the totals rest on (after restatements).")
    import_kwh: float
    green_contract_kwh: float
    uncovered_grid_kwh: float
    pv_available_kwh: float
    pv_output_kwh: float
    export_kwh: float
    pv_self_used_kwh: float
    consumption_kwh: float
    gas_nm3: float
    purchased_heat_gj: float
    scope1_kgco2_by_fuel: dict[str, float]
    scope1_kgco2: float
    scope2_location_kgco2_by_source: dict[str, float]
    scope2_location_kgco2: float
    scope2_market_kgco2_by_source: dict[str, float] = Field(description="Before certificates.")
    scope2_market_kgco2: float = Field(description="Before certificates.")
    certificates_mwh: float
    certificates_kgco2: float
    certificates_cost_cny: float
    scope2_market_after_certificates_kgco2: float
    emissions_location_kgco2: float = Field(description="Scope 1 + scope 2 location-based.")
    emissions_market_kgco2: float = Field(description="Scope 1 + scope 2 market-based after certificates.")
    offsets_tco2: float
    offsets_kgco2: float
    offsets_cost_cny: float
    offsets_refused_kgco2: float
    net_kgco2: float = Field(description="Market-based emissions after certificates minus offsets.")
    pv_self_consumption_frac: float | None
    green_share_frac: float | None
    certificate_share_frac: float | None


def _add(into: dict[str, float], values: Mapping[str, float]) -> None:
    for key, value in values.items():
        into[key] = into.get(key, 0.0) + value


def totals_of(entries: Sequence[LedgerEntry], period: str) -> LedgerTotals:
    """The sums of ``entries`` (see :class:`LedgerTotals`)."""
    scope1: dict[str, float] = {}
    location: dict[str, float] = {}
    market: dict[str, float] = {}
    current: dict[str, str] = {}
    for e in entries:
        _add(scope1, e.scope1_kgco2_by_fuel)
        _add(location, e.scope2_location_kgco2_by_source)
        _add(market, e.scope2_market_kgco2_by_source)
        current[e.restates or e.id] = e.factor_set.id

    def total(name: str) -> float:
        return float(sum(getattr(e, name) for e in entries))

    certificates = total("certificates_kgco2")
    offsets = total("offsets_kgco2")
    pv_used = total("pv_self_used_kwh")
    consumption = total("consumption_kwh")
    pv_available = total("pv_available_kwh")
    s1, s2l, s2m = sum(scope1.values()), sum(location.values()), sum(market.values())
    return LedgerTotals(
        period=period,
        days=sum(e.kind == "day" for e in entries),
        restatements=sum(e.kind == "restatement" for e in entries),
        factor_set_ids=sorted(set(current.values())),
        import_kwh=total("import_kwh"),
        green_contract_kwh=total("green_contract_kwh"),
        uncovered_grid_kwh=total("uncovered_grid_kwh"),
        pv_available_kwh=pv_available,
        pv_output_kwh=total("pv_output_kwh"),
        export_kwh=total("export_kwh"),
        pv_self_used_kwh=pv_used,
        consumption_kwh=consumption,
        gas_nm3=total("gas_nm3"),
        purchased_heat_gj=total("purchased_heat_gj"),
        scope1_kgco2_by_fuel=scope1,
        scope1_kgco2=s1,
        scope2_location_kgco2_by_source=location,
        scope2_location_kgco2=s2l,
        scope2_market_kgco2_by_source=market,
        scope2_market_kgco2=s2m,
        certificates_mwh=total("certificates_mwh"),
        certificates_kgco2=certificates,
        certificates_cost_cny=float(sum(c.cost_cny for e in entries for c in e.certificates)),
        scope2_market_after_certificates_kgco2=s2m - certificates,
        emissions_location_kgco2=s1 + s2l,
        emissions_market_kgco2=s1 + s2m - certificates,
        offsets_tco2=total("offsets_tco2"),
        offsets_kgco2=offsets,
        offsets_cost_cny=float(sum(o.cost_cny for e in entries for o in e.offsets)),
        offsets_refused_kgco2=total("offsets_refused_kgco2"),
        net_kgco2=s1 + s2m - certificates - offsets,
        pv_self_consumption_frac=pv_used / pv_available if pv_available > 0 else None,
        green_share_frac=(pv_used + total("green_contract_kwh")) / consumption if consumption > 0 else None,
        certificate_share_frac=total("certificates_mwh") * KWH_PER_MWH / consumption if consumption > 0 else None,
    )


# --- status ----------------------------------------------------------------------------------------------------


class StatusReason(BaseModel):
    """Why a year is not zero-carbon: a code to act on and a sentence with the numbers."""

    code: Literal["net_positive", "offsets_not_allowed", "offset_cap", "electricity_not_offsettable", "reduce_first"]
    message: str


class PurchaseItem(BaseModel):
    """One line of the closing purchase."""

    kind: Literal["gec", "offset"]
    quote_id: str
    quantity: float = Field(description="What the gap needs [MWh or tCO2].")
    whole_units: int = Field(description="Certificates or credits to buy: the quantity rounded up.")
    unit: Literal["MWh", "tCO2"]
    price_cny_per_unit: float
    cost_cny: float = Field(description="whole_units x price [CNY].")
    kgco2: float = Field(description="Emissions it closes [kgCO2].")
    months: list[str] = Field(default_factory=list, description="GEC: the months of grid electricity it covers.")


class ClosingPurchase(BaseModel):
    """The least-cost purchase from the account's quotes that closes a year's gap (as far as it can)."""

    items: list[PurchaseItem] = Field(default_factory=list)
    cost_cny: float = 0.0
    kgco2: float = Field(0.0, description="Emissions the purchase closes [kgCO2].")
    closes_gap: bool = True
    unclosed_kgco2: float = Field(0.0, description="What no eligible quote can close [kgCO2].")
    reasons: list[str] = Field(default_factory=list, description="Why part of the gap stays open.")


class LotRetirement(BaseModel):
    """A lot's use in a year, and what to retire in its registry."""

    lot_id: str
    kind: str
    quantity: float = Field(description="Allocated in the year [MWh or tCO2].")
    whole_units: int = Field(description="Certificates or credits to retire: the quantity rounded up.")
    unit: Literal["MWh", "tCO2"]
    retire_by: dt.date | None = None


class ZeroCarbonStatus(BaseModel):
    """A year's zero-carbon status under the site's standard, with what closes the gap."""

    year: int
    standard: str
    met: bool
    days_covered: int
    days_in_year: int
    scope1_kgco2: float
    scope2_location_kgco2: float
    scope2_market_kgco2: float = Field(description="Before certificates.")
    certificates_kgco2: float
    emissions_location_kgco2: float
    emissions_market_kgco2: float = Field(description="After certificates, before offsets.")
    offsets_kgco2: float
    net_kgco2: float
    offset_cap_kgco2: float | None = Field(description="The standard's cap over the days covered; none: no cap.")
    offsets_refused_kgco2: float
    base_year_kgco2: float | None = Field(description="The base year's emissions pro rata to the days covered.")
    reduction_vs_base_frac: float | None
    required_reduction_frac: float | None
    reasons: list[StatusReason] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    purchase: ClosingPurchase
    retirements: list[LotRetirement] = Field(default_factory=list)


@dataclasses.dataclass
class _Option:
    """A way to close part of a gap: GEC of one month at a quote, or credits at a quote."""

    kind: str
    quote_id: str
    price: float  # [CNY/MWh] or [CNY/tCO2]
    kg_per_unit: float  # kgCO2 closed per MWh or per tCO2
    room_kg: float  # how much it can close [kgCO2]
    month: int | None  # GEC: the month count covered


# --- the ledger ------------------------------------------------------------------------------------------------


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
            for c in entry.certificates:
                self._used[c.lot_id] = self._used.get(c.lot_id, 0.0) + c.mwh
            for o in entry.offsets:
                self._used[o.lot_id] = self._used.get(o.lot_id, 0.0) + o.tco2

    def _check_allocations(self, entry: LedgerEntry) -> None:
        standard = self.account.standard
        month, year = month_of(entry.date), entry.date.year
        use: dict[str, float] = {}
        for c in entry.certificates:
            lot = self._lot(c.lot_id, GecLot)
            if not lot.valid_in(month) or not standard.certificate_vintage_ok(lot.first_month, year):
                raise ValueError(f"GEC lot {lot.id} ({lot.production_month}) is not valid for {month_label(month)}")
            expected = c.mwh * KWH_PER_MWH * entry.factor_set.grid_market_kgco2_per_kwh
            if abs(c.kgco2 - expected) > 1e-6 * max(1.0, expected):
                raise ValueError(f"GEC lot {lot.id}: {c.kgco2} kgCO2 avoided, expected MWh x residual = {expected}")
            use[c.lot_id] = use.get(c.lot_id, 0.0) + c.mwh
        if entry.certificates_mwh * KWH_PER_MWH > entry.uncovered_grid_kwh * (1 + 1e-9) + TOL:
            raise ValueError(f"{entry.id}: certificates cover more than the grid import not covered by contracts")
        for o in entry.offsets:
            lot = self._lot(o.lot_id, OffsetLot)
            refusal = standard.offset_refusal(lot, year)
            if refusal is not None:
                raise ValueError(f"offset lot {lot.id}: {refusal}")
            use[o.lot_id] = use.get(o.lot_id, 0.0) + o.tco2
        if entry.offsets:
            emitted = entry.emissions_market_kgco2
            if not standard.offsets_cover_electricity:
                emitted -= entry.scope2_market_kgco2_by_source.get("grid", 0.0) - entry.certificates_kgco2
            gross = entry.scope1_kgco2 + entry.scope2_market_kgco2
            allowed = min(emitted, self._day_offset_cap(gross, year))
            if entry.offsets_kgco2 > allowed + 1e-6 * max(1.0, allowed):
                raise ValueError(f"{entry.id}: offsets {entry.offsets_kgco2:g} kgCO2 exceed the {allowed:g} allowed")
        for lot_id, amount in use.items():
            lot = self.account.lot(lot_id)
            size = lot.mwh if isinstance(lot, GecLot) else lot.tco2
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

    def remaining(self, lot_id: str) -> float:
        """What is left of a lot after every allocation so far [MWh or tCO2]."""
        lot = self.account.lot(lot_id)
        size = lot.mwh if isinstance(lot, GecLot) else lot.tco2
        return size - self._used.get(lot_id, 0.0)

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

    def _day_offset_cap(self, gross_kgco2: float, year: int) -> float:
        """The offsets a day may take under the standard's caps [kgCO2]; inf without a cap."""
        standard = self.account.standard
        cap = math.inf
        if standard.max_offset_share_of_gross is not None:
            cap = min(cap, standard.max_offset_share_of_gross * gross_kgco2)
        if standard.max_offset_share_of_base_year is not None:
            assert self.account.base_year is not None
            base_kg = self.account.base_year.tco2 * KG_PER_T
            cap = min(cap, standard.max_offset_share_of_base_year * base_kg / days_in_year(year))
        return cap

    def _day_entry(self, activity: DayActivity) -> LedgerEntry:
        standard = self.account.standard
        year, month = activity.date.year, month_of(activity.date)
        factors = FactorSetRef.of(self.factor_set(year))
        emissions = emissions_of(activity, factors)

        certificates = []
        need_mwh = activity.uncovered_grid_kwh / KWH_PER_MWH
        gec = [
            lot
            for lot in self.account.gec_lots
            if lot.valid_in(month) and standard.certificate_vintage_ok(lot.first_month, year)
        ]
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
        certificates_kg = sum(c.kgco2 for c in certificates)

        scope1 = sum(emissions.scope1_kgco2_by_fuel.values())
        market = emissions.scope2_market_kgco2_by_source
        emitted = scope1 + sum(market.values()) - certificates_kg
        grid_left = market["grid"] - certificates_kg
        need_kg = max(0.0, emitted if standard.offsets_cover_electricity else emitted - grid_left)
        eligible = [
            lot
            for lot in self.account.offset_lots
            if standard.offset_refusal(lot, year) is None and self.remaining(lot.id) > TOL
        ]
        available_kg = sum(self.remaining(lot.id) for lot in eligible) * KG_PER_T
        allowed_kg = min(need_kg, self._day_offset_cap(scope1 + sum(market.values()), year))
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
        refused = max(0.0, min(need_kg, available_kg) - allowed_kg)

        return LedgerEntry(
            id=activity.date.isoformat(),
            kind="day",
            date=activity.date,
            period=activity.period,
            factor_set=factors,
            import_kwh=activity.import_kwh,
            green_contract_kwh=activity.green_contract_kwh,
            uncovered_grid_kwh=activity.uncovered_grid_kwh,
            pv_available_kwh=activity.pv_available_kwh,
            pv_output_kwh=activity.pv_output_kwh,
            export_kwh=activity.export_kwh,
            consumption_kwh=activity.consumption_kwh,
            gas_nm3=activity.gas_nm3,
            purchased_heat_gj=activity.purchased_heat_gj,
            scope1_kgco2_by_fuel=emissions.scope1_kgco2_by_fuel,
            scope2_location_kgco2_by_source=emissions.scope2_location_kgco2_by_source,
            scope2_market_kgco2_by_source=market,
            certificates=tuple(certificates),
            certificates_kgco2=certificates_kg,
            offsets=tuple(offsets),
            offsets_refused_kgco2=refused if refused > 1e-6 else 0.0,
        )

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
                scope1_kgco2_by_fuel=_delta(after.scope1_kgco2_by_fuel, before.scope1_kgco2_by_fuel),
                scope2_location_kgco2_by_source=_delta(
                    after.scope2_location_kgco2_by_source, before.scope2_location_kgco2_by_source
                ),
                scope2_market_kgco2_by_source=_delta(
                    after.scope2_market_kgco2_by_source, before.scope2_market_kgco2_by_source
                ),
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

    def _grouped(self, label: Any) -> list[LedgerTotals]:
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
        year = years[-1] if year is None else year
        entries = [e for e in self._entries if e.date.year == year]
        if not entries:
            raise ValueError(f"the ledger has no entries in {year}")
        standard = self.account.standard
        t = totals_of(entries, str(year))
        n_days, year_days = t.days, days_in_year(year)
        tol = 1e-6
        reasons: list[StatusReason] = []
        notes: list[str] = []
        if n_days < year_days:
            notes.append(f"covers {n_days} of the {year_days} days of {year}: status and purchase are for those days")

        base_kg = reduction = allowed_emissions = None
        base = self.account.base_year
        if base is not None:
            base_kg = base.tco2 * KG_PER_T * n_days / year_days
            reduction = 1.0 - t.emissions_market_kgco2 / base_kg if base_kg > 0 else None
        if standard.min_reduction_frac is not None and base is not None and base_kg is not None:
            allowed_emissions = base_kg * (1.0 - standard.min_reduction_frac)
            if t.emissions_market_kgco2 > allowed_emissions + tol:
                reasons.append(
                    StatusReason(
                        code="reduce_first",
                        message=f"emissions before offsets {t.emissions_market_kgco2 / KG_PER_T:,.3f} tCO2 are "
                        f"{(reduction or 0.0):.1%} below the base year {base.year} "
                        f"({base_kg / KG_PER_T:,.3f} tCO2 pro rata); {standard.name} requires "
                        f"{standard.min_reduction_frac:.1%} before offsets count",
                    )
                )

        cap = self._year_offset_cap(t, n_days, year)
        if t.net_kgco2 > tol:
            reasons.append(
                StatusReason(code="net_positive", message=f"net emissions are {t.net_kgco2 / KG_PER_T:,.3f} tCO2")
            )
            if not standard.offsets_allowed:
                reasons.append(StatusReason(code="offsets_not_allowed", message=f"{standard.name} allows no offsets"))
            grid_left = t.scope2_market_kgco2_by_source.get("grid", 0.0) - t.certificates_kgco2
            if not standard.offsets_cover_electricity and grid_left > tol:
                reasons.append(
                    StatusReason(
                        code="electricity_not_offsettable",
                        message=f"{grid_left / KG_PER_T:,.3f} tCO2 of grid electricity need green contracts or "
                        f"certificates: {standard.name} does not let offsets cover electricity",
                    )
                )
        if t.offsets_refused_kgco2 > tol:
            reasons.append(
                StatusReason(
                    code="offset_cap",
                    message=f"the offset cap ({cap / KG_PER_T:,.3f} tCO2 over the days covered) refused "
                    f"{t.offsets_refused_kgco2 / KG_PER_T:,.3f} tCO2 of eligible credits",
                )
            )
        met = t.net_kgco2 <= tol and not any(r.code == "reduce_first" for r in reasons)
        return ZeroCarbonStatus(
            year=year,
            standard=standard.name,
            met=met,
            days_covered=n_days,
            days_in_year=year_days,
            scope1_kgco2=t.scope1_kgco2,
            scope2_location_kgco2=t.scope2_location_kgco2,
            scope2_market_kgco2=t.scope2_market_kgco2,
            certificates_kgco2=t.certificates_kgco2,
            emissions_location_kgco2=t.emissions_location_kgco2,
            emissions_market_kgco2=t.emissions_market_kgco2,
            offsets_kgco2=t.offsets_kgco2,
            net_kgco2=t.net_kgco2,
            offset_cap_kgco2=None if math.isinf(cap) else cap,
            offsets_refused_kgco2=t.offsets_refused_kgco2,
            base_year_kgco2=base_kg,
            reduction_vs_base_frac=reduction,
            required_reduction_frac=standard.min_reduction_frac,
            reasons=reasons,
            notes=notes,
            purchase=self._closing_purchase(year, entries, t, cap, allowed_emissions),
            retirements=self._retirements(entries, year),
        )

    def _year_offset_cap(self, t: LedgerTotals, n_days: int, year: int) -> float:
        """The standard's offset cap over the days covered [kgCO2]: the sum of the daily caps; inf without one."""
        standard = self.account.standard
        if not standard.offsets_allowed:
            return 0.0
        cap = math.inf
        if standard.max_offset_share_of_gross is not None:
            cap = min(cap, standard.max_offset_share_of_gross * (t.scope1_kgco2 + t.scope2_market_kgco2))
        if standard.max_offset_share_of_base_year is not None and self.account.base_year is not None:
            base_kg = self.account.base_year.tco2 * KG_PER_T * n_days / days_in_year(year)
            cap = min(cap, standard.max_offset_share_of_base_year * base_kg)
        return cap

    def _closing_purchase(
        self,
        year: int,
        entries: Sequence[LedgerEntry],
        t: LedgerTotals,
        cap: float,
        allowed_emissions: float | None,
    ) -> ClosingPurchase:
        standard = self.account.standard
        tol = 1e-6
        # GEC: per month, the grid electricity left after contracts and certificates, at the cheapest valid quote.
        left_kwh: dict[int, float] = {}
        left_kg: dict[int, float] = {}
        for e in entries:
            if e.kind == "day":
                kwh = max(0.0, e.uncovered_grid_kwh - e.certificates_mwh * KWH_PER_MWH)
                month = month_of(e.date)
                left_kwh[month] = left_kwh.get(month, 0.0) + kwh
                left_kg[month] = left_kg.get(month, 0.0) + kwh * self._current[e.id].grid_market_kgco2_per_kwh
        reasons: list[str] = []
        gec_options: list[_Option] = []
        unquoted = []
        for month, kg in sorted(left_kg.items()):
            if kg <= tol:
                continue
            quotes = [
                q
                for q in self.account.quotes.gec
                if q.valid_in(month)
                and (
                    q.production_month is None
                    or standard.certificate_vintage_ok(month_number(q.production_month), year)
                )
            ]
            if not quotes:
                unquoted.append(month_label(month))
                continue
            quote = min(quotes, key=lambda q: (q.price_cny_per_mwh, q.id))
            kg_per_mwh = kg / left_kwh[month] * KWH_PER_MWH
            gec_options.append(_Option("gec", quote.id, quote.price_cny_per_mwh, kg_per_mwh, kg, month))
        if unquoted:
            reasons.append(f"no eligible GEC quote for {', '.join(unquoted)}")

        grid_left = sum(left_kg.values())
        offset_room = max(0.0, cap - t.offsets_kgco2)
        if not standard.offsets_cover_electricity:
            other = t.scope1_kgco2 + t.scope2_market_kgco2_by_source.get("heat", 0.0)
            offset_room = min(offset_room, max(0.0, other - t.offsets_kgco2))
        offset_options: list[_Option] = []
        eligible = [q for q in self.account.quotes.offsets if standard.offset_refusal(q, year) is None]
        if eligible and offset_room > tol:
            quote = min(eligible, key=lambda q: (q.price_cny_per_tco2, q.id))
            offset_options.append(_Option("offset", quote.id, quote.price_cny_per_tco2, KG_PER_T, offset_room, None))

        bought: list[tuple[_Option, float]] = []

        def buy(options: list[_Option], amount: float) -> float:
            """Buys up to ``amount`` kgCO2 from ``options``, cheapest per kgCO2 first (GEC first on a tie);
            returns what is left."""
            for option in sorted(options, key=lambda o: (o.price / o.kg_per_unit, o.kind != "gec")):
                take = min(option.room_kg, amount)
                if take > tol:
                    option.room_kg -= take
                    bought.append((option, take))
                    amount -= take
            return max(0.0, amount)

        gap = max(0.0, t.net_kgco2)
        unclosed = 0.0
        if allowed_emissions is not None:  # reduce first: only certificates lower the emissions before offsets
            forced = max(0.0, t.emissions_market_kgco2 - allowed_emissions)
            short = buy(gec_options, forced)
            if short > tol:
                reasons.append(
                    f"{short / KG_PER_T:,.3f} tCO2 of the reduction the standard requires cannot be bought: "
                    "reduce scope 1 and heat, or cover more grid electricity"
                )
                unclosed += short
            gap = max(0.0, gap - (forced - short))
        if standard.offsets_cover_electricity:
            left = buy([*gec_options, *offset_options], gap)
        else:
            grid_gap = min(gap, max(0.0, grid_left - sum(k for o, k in bought if o.kind == "gec")))
            left = buy(gec_options, grid_gap) + buy(offset_options, gap - grid_gap)
        if left > tol:
            if not standard.offsets_allowed:
                reasons.append(f"{standard.name} allows no offsets")
            elif offset_room <= tol:
                reasons.append("the offset cap leaves no room for more credits")
            elif not self.account.quotes.offsets:
                reasons.append("no offset quote in the account")
            elif not eligible:
                reasons.append(f"no offset quote eligible under {standard.name}")
            unclosed += left
        items = _purchase_items(bought)
        return ClosingPurchase(
            items=items,
            cost_cny=sum(i.cost_cny for i in items),
            kgco2=sum(i.kgco2 for i in items),
            closes_gap=unclosed <= tol,
            unclosed_kgco2=unclosed if unclosed > tol else 0.0,
            reasons=reasons if unclosed > tol else [],
        )

    def _retirements(self, entries: Sequence[LedgerEntry], year: int) -> list[LotRetirement]:
        use: dict[str, float] = {}
        for e in entries:
            for c in e.certificates:
                use[c.lot_id] = use.get(c.lot_id, 0.0) + c.mwh
            for o in e.offsets:
                use[o.lot_id] = use.get(o.lot_id, 0.0) + o.tco2
        out = []
        for lot_id, quantity in use.items():
            lot = self.account.lot(lot_id)
            gec = isinstance(lot, GecLot)
            out.append(
                LotRetirement(
                    lot_id=lot_id,
                    kind=lot.kind,
                    quantity=quantity,
                    whole_units=math.ceil(quantity - 1e-9),
                    unit="MWh" if gec else "tCO2",
                    retire_by=None if gec else self.account.standard.offset_retire_by(year),
                )
            )
        return out

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
                "import_kwh": e.import_kwh,
                "green_contract_kwh": e.green_contract_kwh,
                "uncovered_grid_kwh": e.uncovered_grid_kwh,
                "pv_available_kwh": e.pv_available_kwh,
                "pv_output_kwh": e.pv_output_kwh,
                "export_kwh": e.export_kwh,
                "pv_self_used_kwh": e.pv_self_used_kwh,
                "consumption_kwh": e.consumption_kwh,
                "gas_nm3": e.gas_nm3,
                "purchased_heat_gj": e.purchased_heat_gj,
            }
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


def _delta(after: Mapping[str, float], before: Mapping[str, float]) -> dict[str, float]:
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in dict.fromkeys([*before, *after])}


def _purchase_items(bought: Sequence[tuple[_Option, float]]) -> list[PurchaseItem]:
    """Purchases per quote: quantity, whole units rounded up, cost, kgCO2 and, for GEC, the months covered."""
    merged: dict[tuple[str, str], list[tuple[_Option, float]]] = {}
    for option, kg in bought:
        merged.setdefault((option.kind, option.quote_id), []).append((option, kg))
    items = []
    for (kind, quote_id), parts in merged.items():
        quantity = sum(kg / option.kg_per_unit for option, kg in parts)
        whole = math.ceil(quantity - 1e-9)
        price = parts[0][0].price
        items.append(
            PurchaseItem(
                kind="gec" if kind == "gec" else "offset",
                quote_id=quote_id,
                quantity=quantity,
                whole_units=whole,
                unit="MWh" if kind == "gec" else "tCO2",
                price_cny_per_unit=price,
                cost_cny=whole * price,
                kgco2=sum(kg for _, kg in parts),
                months=[month_label(o.month) for o, _ in parts if o.month is not None],
            )
        )
    return items


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
