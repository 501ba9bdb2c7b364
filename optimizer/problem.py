"""The dispatch problem as data: horizon, assets, targets, objective settings."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.assets import AnyAsset
from optimizer.errors import SpecError
from optimizer.horizon import Horizon
from optimizer.limits import unit_limit_error
from optimizer.periods import Over
from optimizer.types import Fraction, NonNegFloat, series_length


class FractionTarget(BaseModel):
    """A lower bound on a horizon-wide share, hard or soft."""

    model_config = ConfigDict(extra="forbid")

    min_frac: Fraction = Field(description="Required share, 0-1.")
    hard: bool = Field(True, description="Hard: a constraint. Soft: shortfall allowed at a penalty.")
    penalty_cny_per_kwh: NonNegFloat = Field(2.0, description="Soft target: penalty per kWh of shortfall.")
    over: Over = Field(
        "horizon",
        description="Accounting period: the horizon, each local day/month/year it touches, or a date range "
        "(optimizer.periods). A month or year holds over what the horizon covers plus ``so_far``.",
    )


class EmissionCap(BaseModel):
    """An upper bound on the horizon's emissions, hard or soft."""

    model_config = ConfigDict(extra="forbid")

    max_kgco2: NonNegFloat = Field(description="Cap on emissions over the horizon [kgCO2].")
    accounting: Literal["location", "market"] = "market"
    hard: bool = True
    penalty_cny_per_kgco2: NonNegFloat = Field(1.0, description="Soft cap: penalty per kgCO2 above the cap.")
    over: Over = Field(
        "horizon",
        description="Accounting period of the cap (optimizer.periods); a month's or year's cap is pro-rated to the "
        "part the horizon covers, less ``so_far``'s emissions.",
    )


class TargetProgress(BaseModel):
    """Energy already metered in the targets' period before the horizon starts (an intraday re-plan of a day whose
    morning is done, or the days of a month or year already done) [kWh]: the targets then hold over that part and
    the horizon together. It belongs to the accounting period of the horizon's first step."""

    model_config = ConfigDict(extra="forbid")

    pv_available_kwh: NonNegFloat = Field(0.0, le=1e9)
    pv_output_kwh: NonNegFloat = Field(0.0, le=1e9)
    import_kwh: NonNegFloat = Field(0.0, le=1e9)
    export_kwh: NonNegFloat = Field(0.0, le=1e9)
    green_kwh: NonNegFloat = Field(0.0, le=1e9)
    contracts_kwh: dict[str, Annotated[float, Field(ge=0, le=1e10, allow_inf_nan=False)]] = Field(
        default_factory=dict, description="Energy taken so far from each green contract, by asset name [kWh]."
    )
    emissions_location_kgco2: NonNegFloat = Field(0.0, le=1e12)
    emissions_market_kgco2: NonNegFloat = Field(0.0, le=1e12)
    since: dt.date | None = Field(
        None,
        description="First local day this progress counts from; volumes over a month or year are pro-rated from "
        "it. Default: the start of the period.",
    )


class Targets(BaseModel):
    """Horizon-wide targets.

    - PV self-consumption = (PV output - export) / PV available. Exported energy
      counts as PV first and curtailed PV counts as not self-consumed, so
      curtailing cannot meet the target.
    - Green share = (PV output - export + green contracts) / consumption, where
      consumption = import + PV output - export (storage losses included).
    """

    model_config = ConfigDict(extra="forbid")

    pv_self_consumption: FractionTarget | None = None
    green_share: FractionTarget | None = None
    emission_cap: EmissionCap | None = None
    so_far: TargetProgress | None = Field(
        None, description="Energy already metered earlier in the targets' period; the shares hold over both."
    )

    @model_validator(mode="after")
    def _shares_share_a_period(self) -> Targets:
        shares = [t for t in (self.pv_self_consumption, self.green_share) if t is not None]
        if len(shares) == 2 and shares[0].over != shares[1].over:
            raise SpecError(
                f"must hold over the same period as pv_self_consumption ({shares[0].over!r}): the two shares are "
                "counted from the same energy so far",
                field="green_share.over",
            )
        return self


class ObjectiveSpec(BaseModel):
    """Weights of the objective beyond the money actually paid."""

    model_config = ConfigDict(extra="forbid")

    carbon_price_cny_per_tco2: NonNegFloat = Field(0.0, description="Internal carbon price [CNY/tCO2].")
    carbon_accounting: Literal["location", "market"] = Field(
        "market", description="Which emissions the carbon price applies to."
    )


class DispatchProblem(BaseModel):
    """Everything the optimiser needs for one horizon."""

    model_config = ConfigDict(extra="forbid")

    name: str = "dispatch"
    currency: str = Field("CNY", description="Currency of every price (labels only).")
    horizon: Horizon
    assets: list[AnyAsset]
    targets: Targets = Field(default_factory=Targets)
    objective: ObjectiveSpec = Field(default_factory=ObjectiveSpec)

    @model_validator(mode="after")
    def _consistent(self) -> DispatchProblem:
        for part, prefix in ((self.targets, "targets."), (self.objective, "objective.")):  # assets check themselves
            breach = unit_limit_error(part, prefix)
            if breach is not None:
                raise SpecError(breach.message, field=breach.path, code="out_of_range")
        names = [a.name for a in self.assets]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise SpecError(
                f"asset names must be unique, repeated: {duplicates}", field="assets", code="duplicate_name"
            )
        n_steps = self.horizon.n_steps
        for asset in self.assets:
            for field, value in asset.series_fields().items():
                length = series_length(value)
                if length is not None and length != n_steps:
                    raise SpecError(
                        f"has {length} values, the horizon has {n_steps} steps",
                        asset=asset.name,
                        field=field,
                        code="series_length",
                    )
            try:
                asset.check_horizon(self.horizon)
            except SpecError as err:
                err.asset = asset.name
                raise
            except ValueError as err:
                raise SpecError(str(err), asset=asset.name) from err
        return self
