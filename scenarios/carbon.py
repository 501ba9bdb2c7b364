"""A site's carbon account: certificate and credit lots, market quotes, the factor-set choice and the standard that
says what "zero-carbon" requires (``Site.carbon``; the ledger itself is :mod:`scenarios.ledger`).

- **Lots** are what the site owns: China green electricity certificates (GEC: 1 certificate = 1 MWh, valid
  ``validity_months`` = 24 from its production month) and offset credits (CCER or international credits: 1 credit
  = 1 tCO2, with a vintage year and, once retired in its registry, the retirement date). The ledger allocates each
  lot at most once in total: a lot of 100 GEC covers 100 MWh, whatever the days it is spread over.
- **Quotes** are market prices the least-cost closing purchase may buy at (no quantity limit): a GEC quote per
  MWh with its production month (or "produced in the month it covers"), an offset quote per tCO2.
- **Factors**: which versioned factor set the ledger uses (:mod:`scenarios.emission_factors`), with site
  overrides. The site's ``emission_factors`` block stays what the optimiser plans with.
- **Standard**: what a zero-carbon claim requires (:class:`ZeroCarbonStandard`; two presets, see
  :data:`PRESETS`).

On-site PV used on site is never a certificate here: the ledger reports it as its own metric, and GEC cover only
grid electricity that green contracts do not already cover.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from optimizer.errors import SpecError
from optimizer.types import Fraction, NonNegFloat
from scenarios.emission_factors import FactorChoice

Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
"""A calendar month, ``YYYY-MM``."""
LotId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
OffsetKind = Literal["ccer", "international", "other"]
"""``ccer``: China Certified Emission Reduction; ``international``: a credit of an international programme
(Verra, Gold Standard, Paris Agreement Article 6); ``other``: anything else, e.g. a local scheme."""
PresetName = Literal["iso14068", "china-2026-zero-carbon-factory"]

GEC_VALIDITY_MONTHS = 24
"""A China GEC is valid two years from its production month (the month counts)."""


def month_number(month: str) -> int:
    """``YYYY-MM`` as a month count (year x 12 + month - 1), so months compare and add as integers."""
    year, number = month.split("-")
    return int(year) * 12 + int(number) - 1


def month_of(day: dt.date) -> int:
    """The month count (see :func:`month_number`) of ``day``."""
    return day.year * 12 + day.month - 1


def month_label(number: int) -> str:
    """A month count back as ``YYYY-MM``."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def month_end(number: int) -> dt.date:
    """The last day of a month count."""
    year, month = number // 12, number % 12 + 1
    return dt.date(year, month, calendar.monthrange(year, month)[1])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GecLot(_Strict):
    """Green electricity certificates the site owns, of one production month and price."""

    kind: Literal["gec"] = "gec"
    id: LotId = Field(description="Unique among the account's lots (e.g. the registry's batch or trade number).")
    mwh: int = Field(ge=1, le=10**9, description="Certificates in the lot [MWh] (1 GEC = 1 MWh, so whole).")
    production_month: Month = Field(description="Month the certified electricity was generated, YYYY-MM.")
    validity_months: int = Field(GEC_VALIDITY_MONTHS, ge=1, le=120, description="Months valid from production.")
    price_cny_per_mwh: NonNegFloat = Field(le=1e5, description="Price paid [CNY/MWh] (2024 average about 5.6).")
    source: str = Field("", max_length=500, description="Seller, trading platform or registry reference.")

    @property
    def first_month(self) -> int:
        return month_number(self.production_month)

    @property
    def last_month(self) -> int:
        """Last month count the lot is valid in (production month + validity - 1)."""
        return self.first_month + self.validity_months - 1

    def valid_in(self, month: int) -> bool:
        """True if the certificates exist and have not expired in ``month`` (a month count)."""
        return self.first_month <= month <= self.last_month


class OffsetLot(_Strict):
    """Offset credits the site owns, of one programme, vintage and price."""

    kind: OffsetKind = Field(description="ccer, international or other.")
    id: LotId = Field(description="Unique among the account's lots (e.g. the registry's serial range).")
    tco2: int = Field(ge=1, le=10**9, description="Credits in the lot [tCO2] (1 credit = 1 tCO2, so whole).")
    vintage_year: int = Field(ge=1990, le=2100, description="Year the reductions or removals happened.")
    price_cny_per_tco2: NonNegFloat = Field(le=1e5, description="Price paid [CNY/tCO2].")
    retired_on: dt.date | None = Field(
        None, description="Date the credits were retired in their registry; none: still to retire."
    )
    source: str = Field("", max_length=500, description="Seller, programme or registry reference.")


Lot = Annotated[GecLot | OffsetLot, Field(discriminator="kind")]


class GecQuote(_Strict):
    """A market price for GEC, at which the closing purchase may buy any number."""

    id: LotId
    price_cny_per_mwh: NonNegFloat = Field(le=1e5, description="[CNY/MWh].")
    production_month: Month | None = Field(
        None, description="Production month of the certificates offered; none: produced in the month they cover."
    )
    validity_months: int = Field(GEC_VALIDITY_MONTHS, ge=1, le=120)
    source: str = Field("", max_length=500)

    def valid_in(self, month: int) -> bool:
        """True if the quoted certificates are valid in ``month`` (always, without a production month)."""
        if self.production_month is None:
            return True
        first = month_number(self.production_month)
        return first <= month <= first + self.validity_months - 1


class OffsetQuote(_Strict):
    """A market price for offset credits, at which the closing purchase may buy any number."""

    id: LotId
    kind: OffsetKind
    price_cny_per_tco2: NonNegFloat = Field(le=1e5, description="[CNY/tCO2].")
    vintage_year: int | None = Field(None, ge=1990, le=2100, description="None: the reporting year's vintage.")
    source: str = Field("", max_length=500)


class Quotes(_Strict):
    """Market prices for the least-cost purchase that closes a year's gap."""

    gec: list[GecQuote] = Field(default_factory=list)
    offsets: list[OffsetQuote] = Field(default_factory=list)


class BaseYear(_Strict):
    """The base year a reduce-first rule or an offset cap refers to."""

    year: int = Field(ge=1990, le=2100)
    tco2: NonNegFloat = Field(le=1e9, description="Scope 1 + scope 2 market-based emissions of the year [tCO2].")
    source: str = Field("", max_length=500, description="Inventory or verification report.")


PRESETS: dict[str, dict[str, Any]] = {
    "iso14068": {
        "name": "ISO 14068-1:2023 carbon neutrality",
        "offsets_allowed": True,
        "offset_kinds": None,
        "offsets_cover_electricity": True,
        "max_offset_share_of_gross": None,
        "max_offset_share_of_base_year": None,
        "offset_retire_within_months": 12,
        "offset_max_vintage_age_years": None,
        "certificate_vintage_window_months": 0,
        "min_reduction_frac": None,
    },
    "china-2026-zero-carbon-factory": {
        "name": "China zero-carbon factory guidance 2026 (MIIT et al., 工信部联节〔2026〕13号)",
        "offsets_allowed": True,
        "offset_kinds": ["ccer", "international"],
        "offsets_cover_electricity": False,
        "max_offset_share_of_gross": None,
        "max_offset_share_of_base_year": None,
        "offset_retire_within_months": 12,
        "offset_max_vintage_age_years": None,
        "certificate_vintage_window_months": 12,
        "min_reduction_frac": None,
    },
}
"""The standard presets and why each value (assumptions where the texts give no number):

``iso14068`` (ISO 14068-1:2023, carbon neutrality):

- offsets allowed, of any programme (the standard is GHG-programme neutral), for any emission left, electricity
  included; reductions first is a management-plan requirement without a fixed percentage, so no
  ``min_reduction_frac`` and no cap: set them from the site's carbon neutrality management plan;
- credits retired within 12 months after the end of the reporting period (its clause 11, as summarised by
  secondary sources);
- certificates produced within the reporting year (window 0): the strictest reading of the GHG Protocol Scope 2
  Quality Criteria ("issued and redeemed as close as possible to the period of consumption"), an assumption.

``china-2026-zero-carbon-factory`` (MIIT, NDRC, MEE, SASAC, NEA, 19 January 2026):

- emissions left after "sufficient reduction" may be offset with CCER or qualifying international credits
  (``offset_kinds``); the guidance states no numeric cap, so none;
- offsets do not cover grid electricity (``offsets_cover_electricity: false``), an assumption: grid emissions can
  be reduced to zero with green contracts and GEC, so under "reduce first, offset only what cannot be reduced"
  they are not a residual; offsets cover scope 1 and purchased heat;
- credits retired within 12 months after the reporting year, an assumption (the same as ISO 14068-1; the guidance
  asks for accounting by national or international standards);
- certificates produced in the reporting year or the 12 months before it (window 12), an assumption: a GEC is
  valid two years from its production month, so last year's certificates still valid may count.
"""


class ZeroCarbonStandard(_Strict):
    """What a zero-carbon claim requires. ``preset`` fills every field not given (see :data:`PRESETS`)."""

    preset: PresetName | None = Field(None, description="iso14068 or china-2026-zero-carbon-factory.")
    name: str = Field("custom", min_length=1, max_length=200)
    offsets_allowed: bool = Field(True, description="Whether offset credits may count at all.")
    offset_kinds: list[OffsetKind] | None = Field(None, description="Credit kinds accepted; none: any.")
    offsets_cover_electricity: bool = Field(
        True, description="Whether offsets may counterbalance grid electricity (else only scope 1 and heat)."
    )
    max_offset_share_of_gross: Fraction | None = Field(
        None, description="Offsets at most this share of scope 1 + scope 2 market-based before certificates."
    )
    max_offset_share_of_base_year: Fraction | None = Field(
        None, description="Offsets at most this share of the base year's emissions, pro rata to the days covered."
    )
    offset_retire_within_months: int | None = Field(
        None, ge=0, le=120, description="Credits retired at the latest this many months after the year ends."
    )
    offset_max_vintage_age_years: int | None = Field(
        None, ge=0, le=50, description="Credit vintage at most this many years before the reporting year."
    )
    certificate_vintage_window_months: int = Field(
        0, ge=0, le=60, description="Certificates produced within the reporting year +- this many months."
    )
    min_reduction_frac: Fraction | None = Field(
        None, description="Reduce first: emissions before offsets at least this far below the base year's."
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_from_preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset") is not None:
            preset = PRESETS.get(data["preset"])
            if preset is None:
                return data  # the Literal names the allowed presets
            return {**preset, **data}
        return data

    @classmethod
    def from_preset(cls, name: PresetName, **changes: Any) -> ZeroCarbonStandard:
        """The preset ``name`` with ``changes`` on top."""
        return cls.model_validate({"preset": name, **changes})

    def certificate_vintage_ok(self, production_month: int, year: int) -> bool:
        """True if certificates produced in ``production_month`` (a month count) may count in ``year``."""
        window = self.certificate_vintage_window_months
        return year * 12 - window <= production_month <= year * 12 + 11 + window

    def offset_retire_by(self, year: int) -> dt.date | None:
        """The last day credits for ``year`` may be retired (end of the year + the allowed months)."""
        if self.offset_retire_within_months is None:
            return None
        return month_end(year * 12 + 11 + self.offset_retire_within_months)

    def offset_refusal(self, lot: OffsetLot | OffsetQuote, year: int) -> str | None:
        """Why credits of ``lot`` may not count in ``year``, or None if they may."""
        if not self.offsets_allowed:
            return f"{self.name} allows no offsets"
        if self.offset_kinds is not None and lot.kind not in self.offset_kinds:
            return f"{lot.kind} credits are not accepted (only {', '.join(self.offset_kinds)})"
        vintage = year if lot.vintage_year is None else lot.vintage_year
        if vintage > year:
            return f"vintage {vintage} is after the reporting year {year}"
        if self.offset_max_vintage_age_years is not None and vintage < year - self.offset_max_vintage_age_years:
            return f"vintage {vintage} is older than {self.offset_max_vintage_age_years} years before {year}"
        retire_by = self.offset_retire_by(year)
        retired_on = getattr(lot, "retired_on", None)
        if retire_by is not None and retired_on is not None and retired_on > retire_by:
            months = self.offset_retire_within_months
            return f"retired on {retired_on}, after {retire_by} ({months} months after {year})"
        return None


class CarbonAccount(_Strict):
    """The site's certificates, credits, quotes, factor-set choice, base year and zero-carbon standard."""

    standard: ZeroCarbonStandard = Field(
        default_factory=lambda: ZeroCarbonStandard.from_preset("iso14068"),
        description="What zero-carbon requires; {preset: iso14068} or {preset: china-2026-zero-carbon-factory}.",
    )
    factors: FactorChoice = Field(default_factory=FactorChoice, description="Emission factor set of the ledger.")
    base_year: BaseYear | None = Field(None, description="Needed by min_reduction_frac and a base-year offset cap.")
    lots: list[Lot] = Field(default_factory=list, description="Certificates and credits owned.")  # type: ignore[valid-type]
    quotes: Quotes = Field(default_factory=Quotes, description="Market prices for the closing purchase.")

    @model_validator(mode="after")
    def _consistent(self) -> CarbonAccount:
        for name, ids in (
            ("lots", [lot.id for lot in self.lots]),
            ("quotes", [q.id for q in (*self.quotes.gec, *self.quotes.offsets)]),
        ):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise SpecError(f"ids must be unique, repeated: {', '.join(repeated)}", field=name)
        standard = self.standard
        needs_base = standard.min_reduction_frac is not None or standard.max_offset_share_of_base_year is not None
        if needs_base and self.base_year is None:
            raise SpecError(
                "needed by the standard's min_reduction_frac or max_offset_share_of_base_year", field="base_year"
            )
        return self

    @property
    def gec_lots(self) -> list[GecLot]:
        return [lot for lot in self.lots if isinstance(lot, GecLot)]

    @property
    def offset_lots(self) -> list[OffsetLot]:
        return [lot for lot in self.lots if isinstance(lot, OffsetLot)]

    def lot(self, lot_id: str) -> GecLot | OffsetLot:
        """The lot called ``lot_id`` (KeyError if none)."""
        for lot in self.lots:
            if lot.id == lot_id:
                return lot
        raise KeyError(lot_id)
