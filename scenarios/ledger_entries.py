"""The carbon ledger's records (:mod:`scenarios.ledger`): the factor set an entry used, a day's emissions, the
certificates and offsets allocated to it, the entry itself and the sums over entries.

**Entries.** One ``day`` entry per local day of a run (:func:`scenarios.ledger.ledger_from_run`), from the day's
KPIs (activity: grid import, green-contract energy, PV, gas) and the schedule (purchased heat,
:mod:`scenarios.ledger_activity`), times the factor set of the day's year (:mod:`scenarios.emission_factors`,
recorded on the entry: id, source, year, values):

- scope 1 by fuel: natural gas burnt x the gas factor [kgCO2];
- scope 2 location-based: all grid import x the grid average, purchased heat x the heat factor [kgCO2];
- scope 2 market-based *before certificates*: grid import not covered by green contracts x the residual
  factor, purchased heat x the heat factor [kgCO2] (the optimiser's market-based emissions, same rule);
- green-contract energy and PV used on site [kWh], apart from each other and from certificates;
- certificates retired: GEC lots (lot id, MWh, kgCO2 avoided = MWh x 1000 x the residual factor, cost);
- offsets retired: credit lots (lot id, tCO2, cost, the date they must be retired by);
- net emissions = scope 1 + scope 2 market-based - certificates - offsets.

Both scope 2 totals are always there (the GHG Protocol's Scope 2 Guidance asks for both); the zero-carbon status
is judged on the market-based inventory, where certificates count (:mod:`scenarios.zero_carbon`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from scenarios.emission_factors import FactorSet
from scenarios.ledger_activity import DayActivity, FrozenRecord

KG_PER_T = 1000.0
KWH_PER_MWH = 1000.0

FUEL_GAS = "natural_gas"
"""Scope 1 key of natural gas (the optimiser's emission source "gas")."""


class FactorSetRef(FrozenRecord):
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
        return cls(**{name: getattr(factor_set, name) for name in cls.model_fields})


class Emissions(FrozenRecord):
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


class CertificateRetirement(FrozenRecord):
    """Part of a GEC lot allocated to an entry."""

    lot_id: str
    production_month: str
    mwh: float = Field(gt=0)
    kgco2: float = Field(description="Avoided: MWh x 1000 x the entry's residual factor [kgCO2].")
    cost_cny: float = Field(description="MWh x the lot's price [CNY].")


class OffsetRetirement(FrozenRecord):
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


ACTIVITY_FIELDS = (
    "import_kwh",
    "green_contract_kwh",
    "uncovered_grid_kwh",
    "pv_available_kwh",
    "pv_output_kwh",
    "export_kwh",
    "pv_self_used_kwh",
    "consumption_kwh",
    "gas_nm3",
    "purchased_heat_gj",
)
"""An entry's activity [kWh, Nm3, GJ], in the order of the ledger's frame; :class:`LedgerTotals` sums each."""


class LedgerEntry(FrozenRecord):
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
        elif any(getattr(self, name) for name in ACTIVITY_FIELDS):
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
        return DayActivity(**self.model_dump(include=set(DayActivity.model_fields)))


def lot_use(entries: Iterable[LedgerEntry]) -> dict[str, float]:
    """What ``entries`` allocate of each lot, in order of first use [MWh for GEC, tCO2 for offsets]."""
    use: dict[str, float] = {}
    for e in entries:
        for c in e.certificates:
            use[c.lot_id] = use.get(c.lot_id, 0.0) + c.mwh
        for o in e.offsets:
            use[o.lot_id] = use.get(o.lot_id, 0.0) + o.tco2
    return use


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

    activity = {name: total(name) for name in ACTIVITY_FIELDS}
    certificates = total("certificates_kgco2")
    certificates_mwh = total("certificates_mwh")
    offsets = total("offsets_kgco2")
    pv_used, pv_available = activity["pv_self_used_kwh"], activity["pv_available_kwh"]
    consumption = activity["consumption_kwh"]
    s1, s2l, s2m = sum(scope1.values()), sum(location.values()), sum(market.values())
    return LedgerTotals(
        period=period,
        days=sum(e.kind == "day" for e in entries),
        restatements=sum(e.kind == "restatement" for e in entries),
        factor_set_ids=sorted(set(current.values())),
        **activity,
        scope1_kgco2_by_fuel=scope1,
        scope1_kgco2=s1,
        scope2_location_kgco2_by_source=location,
        scope2_location_kgco2=s2l,
        scope2_market_kgco2_by_source=market,
        scope2_market_kgco2=s2m,
        certificates_mwh=certificates_mwh,
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
        green_share_frac=(pv_used + activity["green_contract_kwh"]) / consumption if consumption > 0 else None,
        certificate_share_frac=certificates_mwh * KWH_PER_MWH / consumption if consumption > 0 else None,
    )
