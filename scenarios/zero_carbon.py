"""A year's zero-carbon status under the site's standard and the least-cost purchase that closes the gap, from the
carbon ledger's entries (:mod:`scenarios.ledger_entries`) and the site's :class:`~scenarios.carbon.CarbonAccount`.

**Status** (:func:`zero_carbon_status`, :meth:`scenarios.ledger.Ledger.status`): met when net emissions are <= 0
and the reduce-first rule holds (emissions before offsets at least ``min_reduction_frac`` below the base year's,
pro rata to the days covered); else the reasons, and the least-cost purchase from the account's quotes that closes
the gap: GEC for the grid electricity left (per month at the cheapest quote valid that month), offsets for the rest
within the cap, cheapest per tCO2 first, GEC first on a tie; a reduce-first shortfall can only be closed by GEC.

The standard's offset cap (:func:`offset_cap`) is the same rule for a day (the ledger's allocation) and for the
days of a year covered (the status).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from scenarios.carbon import CarbonAccount, GecLot, month_label, month_number, month_of
from scenarios.ledger_entries import KG_PER_T, KWH_PER_MWH, LedgerEntry, LedgerTotals, lot_use, totals_of


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def base_year_kgco2(account: CarbonAccount, days: int, year: int) -> float | None:
    """The account's base-year emissions pro rata to ``days`` days of ``year`` [kgCO2]; None without a base year."""
    base = account.base_year
    return None if base is None else base.tco2 * KG_PER_T * days / days_in_year(year)


def offset_cap(account: CarbonAccount, gross_kgco2: float, days: int, year: int) -> float:
    """The offsets the standard allows over ``days`` days of ``year`` whose scope 1 + scope 2 market-based before
    certificates are ``gross_kgco2`` [kgCO2]: the smaller of its caps (a share of that gross, a share of the base
    year's emissions pro rata to the days); 0 if it allows no offsets, inf without a cap. For one day, what the day
    may take; for the days of a year covered, the sum of the daily caps."""
    standard = account.standard
    if not standard.offsets_allowed:
        return 0.0
    cap = math.inf
    if standard.max_offset_share_of_gross is not None:
        cap = min(cap, standard.max_offset_share_of_gross * gross_kgco2)
    base_kg = base_year_kgco2(account, days, year)
    if standard.max_offset_share_of_base_year is not None and base_kg is not None:
        cap = min(cap, standard.max_offset_share_of_base_year * base_kg)
    return cap


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


def zero_carbon_status(account: CarbonAccount, entries: Sequence[LedgerEntry], year: int) -> ZeroCarbonStatus:
    """The zero-carbon status of ``year`` under the account's standard, from the ledger's ``entries`` (those of
    other years are left out); ValueError if none is of ``year``."""
    entries = [e for e in entries if e.date.year == year]
    if not entries:
        raise ValueError(f"the ledger has no entries in {year}")
    standard = account.standard
    t = totals_of(entries, str(year))
    n_days, year_days = t.days, days_in_year(year)
    tol = 1e-6
    reasons: list[StatusReason] = []
    notes: list[str] = []
    if n_days < year_days:
        notes.append(f"covers {n_days} of the {year_days} days of {year}: status and purchase are for those days")

    reduction = allowed_emissions = None
    base = account.base_year
    base_kg = base_year_kgco2(account, n_days, year)
    if base_kg is not None:
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

    cap = offset_cap(account, t.scope1_kgco2 + t.scope2_market_kgco2, n_days, year)
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
        purchase=closing_purchase(account, year, entries, t, cap, allowed_emissions),
        retirements=lot_retirements(account, entries, year),
    )


# --- the closing purchase --------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Option:
    """A way to close part of a gap: GEC of one month at a quote, or credits at a quote."""

    kind: str
    quote_id: str
    price: float  # [CNY/MWh] or [CNY/tCO2]
    kg_per_unit: float  # kgCO2 closed per MWh or per tCO2
    room_kg: float  # how much it can close [kgCO2]
    month: int | None  # GEC: the month count covered


def closing_purchase(
    account: CarbonAccount,
    year: int,
    entries: Sequence[LedgerEntry],
    t: LedgerTotals,
    cap: float,
    allowed_emissions: float | None,
) -> ClosingPurchase:
    """The least-cost purchase from the account's quotes that closes the gap of ``year``'s ``entries`` (totals
    ``t``, offset cap ``cap``, emissions before offsets the reduce-first rule allows ``allowed_emissions``)."""
    standard = account.standard
    tol = 1e-6
    current = {e.restates or e.id: e.factor_set for e in entries}  # each day's set after its restatements
    # GEC: per month, the grid electricity left after contracts and certificates, at the cheapest valid quote.
    left_kwh: dict[int, float] = {}
    left_kg: dict[int, float] = {}
    for e in entries:
        if e.kind == "day":
            kwh = max(0.0, e.uncovered_grid_kwh - e.certificates_mwh * KWH_PER_MWH)
            month = month_of(e.date)
            left_kwh[month] = left_kwh.get(month, 0.0) + kwh
            left_kg[month] = left_kg.get(month, 0.0) + kwh * current[e.id].grid_market_kgco2_per_kwh
    reasons: list[str] = []
    gec_options: list[_Option] = []
    unquoted = []
    for month, kg in sorted(left_kg.items()):
        if kg <= tol:
            continue
        quotes = [
            q
            for q in account.quotes.gec
            if q.valid_in(month)
            and (q.production_month is None or standard.certificate_vintage_ok(month_number(q.production_month), year))
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
    eligible = [q for q in account.quotes.offsets if standard.offset_refusal(q, year) is None]
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
        elif not account.quotes.offsets:
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


def lot_retirements(account: CarbonAccount, entries: Sequence[LedgerEntry], year: int) -> list[LotRetirement]:
    """Each lot's use in ``year``'s ``entries`` and the whole certificates or credits to retire for it."""
    out = []
    for lot_id, quantity in lot_use(entries).items():
        lot = account.lot(lot_id)
        gec = isinstance(lot, GecLot)
        out.append(
            LotRetirement(
                lot_id=lot_id,
                kind=lot.kind,
                quantity=quantity,
                whole_units=math.ceil(quantity - 1e-9),
                unit="MWh" if gec else "tCO2",
                retire_by=None if gec else account.standard.offset_retire_by(year),
            )
        )
    return out
