"""Emission factors as versioned data: which factor set a carbon ledger entry used, with its source and year.

The optimiser prices and reports emissions with the site's ``emission_factors`` block (what the day-ahead plan
uses). The carbon ledger (:mod:`scenarios.ledger`) needs more: the factors of a *reporting* year, who published
them, and the possibility to restate a year when final factors appear. China's Ministry of Ecology and
Environment (MEE) and National Bureau of Statistics (NBS) publish a year's electricity factors about two years
late (the 2022 factors in December 2024, the 2023 ones in January 2026), so a 2026 ledger is kept with the 2023
factors first and restated later.

A **factor set** is one (region, year, version): the grid's location-based average, the market-based residual
factor (grid purchases not covered by green contracts or certificates; "excluding market-traded non-fossil
power" in the MEE/NBS tables), natural gas, purchased heat and diesel, each with its unit, source and mark
(``src``: a public source; ``2nd``: a secondary source worth checking; ``derived``; ``site``: a site's own
value). The bundled sets are in ``scenarios/data/emission_factors.csv`` (long format, one factor per row);
its id is ``region/year/version`` (``CN/2023/published``).

Lookup (:meth:`FactorLibrary.select`): for a ledger year, the set of the latest year not after it (a 2026 ledger
takes the 2023 set), unless a year or version is asked for; among versions of one year the latest published.
A site overrides single factors (:class:`FactorOverrides`, with a source for them); the result is a new set
whose id ends in ``+site``.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.types import NonNegFloat

BUNDLED = Path(__file__).resolve().parent / "data" / "emission_factors.csv"
"""The factor sets shipped with the package."""

QUANTITIES: dict[str, str] = {
    "grid_location_kgco2_per_kwh": "kgCO2/kWh",
    "grid_market_kgco2_per_kwh": "kgCO2/kWh",
    "gas_kgco2_per_nm3": "kgCO2/Nm3",
    "purchased_heat_kgco2_per_gj": "kgCO2/GJ",
    "diesel_kgco2_per_kg": "kgCO2/kg",
}
"""Every quantity a factor set holds, with its unit. Each set must give all of them."""

SITE_FACTOR_FIELDS = (
    "grid_location_kgco2_per_kwh",
    "grid_market_kgco2_per_kwh",
    "gas_kgco2_per_nm3",
    "purchased_heat_kgco2_per_gj",
)
"""The quantities the optimiser's site ``emission_factors`` block also has (same names, same units)."""

Mark = Literal["src", "2nd", "derived", "est", "site"]
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


class Factor(BaseModel):
    """One emission factor: its value [unit], unit, mark and source (a citation a reader can follow)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: NonNegFloat = Field(le=1e4)
    unit: str
    mark: Mark
    source: str = Field(min_length=1)


class FactorSet(BaseModel):
    """The emission factors of one region, data year and version, each with its source.

    ``year`` is the year the factors describe (the MEE/NBS "2023 factors"), not the year they were published
    (``published``, ``YYYY-MM``), which orders versions of one year.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str = Field(min_length=1, max_length=32, description="CN (national), CN-NE (Northeast grid), ...")
    year: int = Field(ge=1990, le=2100, description="Year the factors describe.")
    version: str = Field(min_length=1, max_length=64, description="published, final, published+site, ...")
    published: str = Field(description="Month of publication, YYYY-MM (orders versions of one year).")
    factors: dict[str, Factor]

    @model_validator(mode="after")
    def _complete(self) -> FactorSet:
        for name, text in (("region", self.region), ("version", self.version)):
            if not _NAME.match(text):
                raise ValueError(f"{name} {text!r}: letters, digits and _.+- only")
        if not _MONTH.match(self.published):
            raise ValueError(f"published {self.published!r} is not a month YYYY-MM")
        missing = [q for q in QUANTITIES if q not in self.factors]
        unknown = [q for q in self.factors if q not in QUANTITIES]
        if missing or unknown:
            raise ValueError(f"factor set {self.id}: missing {missing}, unknown {unknown}")
        for quantity, factor in self.factors.items():
            if factor.unit != QUANTITIES[quantity]:
                raise ValueError(f"factor set {self.id}: {quantity} is in {QUANTITIES[quantity]}, not {factor.unit}")
        return self

    @property
    def id(self) -> str:
        """``region/year/version``, e.g. ``CN/2023/published``."""
        return f"{self.region}/{self.year}/{self.version}"

    @property
    def source(self) -> str:
        """The distinct sources of the set's factors, grid first, joined by ``; ``."""
        return "; ".join(dict.fromkeys(f.source for f in self.factors.values()))

    def value(self, quantity: str) -> float:
        """The factor of ``quantity`` in its unit (see :data:`QUANTITIES`)."""
        return self.factors[quantity].value

    @property
    def grid_location_kgco2_per_kwh(self) -> float:
        """Grid average, location-based [kgCO2/kWh]."""
        return self.value("grid_location_kgco2_per_kwh")

    @property
    def grid_market_kgco2_per_kwh(self) -> float:
        """Residual factor of grid purchases not covered by contracts or certificates, market-based [kgCO2/kWh]."""
        return self.value("grid_market_kgco2_per_kwh")

    @property
    def gas_kgco2_per_nm3(self) -> float:
        """Natural gas combustion [kgCO2/Nm3]."""
        return self.value("gas_kgco2_per_nm3")

    @property
    def purchased_heat_kgco2_per_gj(self) -> float:
        """Purchased heat or steam [kgCO2/GJ]."""
        return self.value("purchased_heat_kgco2_per_gj")

    @property
    def diesel_kgco2_per_kg(self) -> float:
        """Diesel combustion [kgCO2/kg]."""
        return self.value("diesel_kgco2_per_kg")

    def with_overrides(self, overrides: FactorOverrides | None) -> FactorSet:
        """This set with the site's values put in (marked ``site``, cited as ``overrides.source``); id ``...+site``.

        Unchanged when ``overrides`` is None or sets nothing.
        """
        values = {} if overrides is None else overrides.values()
        if not values:
            return self
        assert overrides is not None
        factors = dict(self.factors)
        for quantity, value in values.items():
            factors[quantity] = Factor(value=value, unit=QUANTITIES[quantity], mark="site", source=overrides.source)
        return self.model_copy(update={"version": f"{self.version}+site", "factors": factors})

    def site_factors(self) -> Any:
        """The set as the optimiser's site block (:class:`scenarios.site.EmissionFactors`), to plan with it."""
        from scenarios.site import EmissionFactors  # site imports this module through scenarios.carbon

        return EmissionFactors(**{q: self.value(q) for q in SITE_FACTOR_FIELDS})


class FactorOverrides(BaseModel):
    """A site's own factors, replacing those of the chosen set; ``source`` says where they come from."""

    model_config = ConfigDict(extra="forbid")

    grid_location_kgco2_per_kwh: NonNegFloat | None = Field(None, le=10, description="[kgCO2/kWh].")
    grid_market_kgco2_per_kwh: NonNegFloat | None = Field(None, le=10, description="[kgCO2/kWh].")
    gas_kgco2_per_nm3: NonNegFloat | None = Field(None, le=100, description="[kgCO2/Nm3].")
    purchased_heat_kgco2_per_gj: NonNegFloat | None = Field(None, le=1000, description="[kgCO2/GJ].")
    diesel_kgco2_per_kg: NonNegFloat | None = Field(None, le=100, description="[kgCO2/kg].")
    source: str = Field(min_length=1, max_length=500, description="Where the site's values come from.")

    def values(self) -> dict[str, float]:
        """The quantities set, by name."""
        return {q: v for q in QUANTITIES if (v := getattr(self, q)) is not None}


class FactorChoice(BaseModel):
    """Which factor set a site's ledger uses for a year: region, optionally a fixed year and version, overrides.

    Default: the national set (``CN``) of the latest year not after the ledger year, the latest published version.
    National, because China's MEE guidance for enterprise reporting applies the national average to purchased
    electricity; ``CN-NE`` (Northeast grid) and ``CN-LN`` (Liaoning) are in the data file for a site that reports
    regionally.
    """

    model_config = ConfigDict(extra="forbid")

    region: str = Field("CN", min_length=1, max_length=32, description="Region of the factors (CN, CN-NE, CN-LN).")
    year: int | None = Field(None, ge=1990, le=2100, description="Data year; none: latest not after the ledger's.")
    version: str | None = Field(None, max_length=64, description="Version; none: the latest published.")
    overrides: FactorOverrides | None = Field(None, description="Site values replacing single factors.")

    def factor_set(self, ledger_year: int, library: FactorLibrary | None = None) -> FactorSet:
        """The set for entries of ``ledger_year``, with the site's overrides applied."""
        library = library or bundled_library()
        chosen = library.select(self.region, self.year or ledger_year, self.version, exact_year=self.year is not None)
        return chosen.with_overrides(self.overrides)


class FactorLibrary:
    """Factor sets by id, with the lookup the ledger uses."""

    def __init__(self, sets: Iterable[FactorSet]) -> None:
        self._sets: dict[str, FactorSet] = {}
        for factor_set in sets:
            if factor_set.id in self._sets:
                raise ValueError(f"factor set {factor_set.id} is given twice")
            self._sets[factor_set.id] = factor_set

    @property
    def sets(self) -> tuple[FactorSet, ...]:
        return tuple(self._sets.values())

    def get(self, set_id: str) -> FactorSet:
        """The set ``region/year/version``; KeyError naming the known ids if there is none."""
        try:
            return self._sets[set_id]
        except KeyError:
            raise KeyError(f"no factor set {set_id!r}; known: {', '.join(self._sets)}") from None

    def select(self, region: str, year: int, version: str | None = None, *, exact_year: bool = False) -> FactorSet:
        """The set of ``region`` for ``year``: that year's if ``exact_year``, else the latest year not after it;
        ``version`` if given, else the latest published version of that year. LookupError if none fits."""
        candidates = [
            s
            for s in self._sets.values()
            if s.region == region
            and (s.year == year if exact_year else s.year <= year)
            and (version is None or s.version == version)
        ]
        if not candidates:
            wanted = f"{region} {'in' if exact_year else 'not after'} {year}"
            wanted += f", version {version}" if version else ""
            raise LookupError(f"no emission factor set for {wanted}; known: {', '.join(self._sets)}")
        return max(candidates, key=lambda s: (s.year, s.published))

    def with_set(self, factor_set: FactorSet) -> FactorLibrary:
        """A library with ``factor_set`` added (e.g. final factors published after the shipped file)."""
        return FactorLibrary([*self._sets.values(), factor_set])


def read_factor_sets(path: Path) -> list[FactorSet]:
    """The factor sets of a CSV file in the bundled format (columns region, year, version, published, quantity,
    value, unit, mark, source; one factor per row). ValueError naming the file and row for a bad row."""
    rows: dict[tuple[str, int, str], dict[str, Any]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                key = (row["region"], int(row["year"]), row["version"])
                entry = rows.setdefault(key, {"published": row["published"], "factors": {}})
                if row["published"] != entry["published"]:
                    raise ValueError(f"published {row['published']} differs from {entry['published']} of the set")
                if row["quantity"] in entry["factors"]:
                    raise ValueError(f"{row['quantity']} is given twice for the set")
                entry["factors"][row["quantity"]] = Factor(
                    value=float(row["value"]), unit=row["unit"], mark=row["mark"], source=row["source"]
                )
            except (KeyError, ValueError, TypeError) as error:
                raise ValueError(f"{path}:{number}: {error}") from error
    sets = []
    for (region, year, version), entry in rows.items():
        try:
            sets.append(FactorSet(region=region, year=year, version=version, **entry))
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from error
    return sets


@functools.cache
def bundled_library() -> FactorLibrary:
    """The factor sets shipped in ``scenarios/data/emission_factors.csv``."""
    return FactorLibrary(read_factor_sets(BUNDLED))
