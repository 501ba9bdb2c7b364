"""The embedded default: one July day of a mid-sized Shenyang factory.

PV and load come from ``data/default_day_shenyang.csv`` (real data, see
``data/SOURCES.md``); the assets and prices are typical values, marked as
estimates where the seeds are silent (DOMAIN-FACTS.md).
"""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pandas as pd

from optimizer import (
    BatterySpec,
    DispatchProblem,
    FractionTarget,
    GreenContractSpec,
    GridSpec,
    Horizon,
    LoadSpec,
    ObjectiveSpec,
    PvSpec,
    Targets,
    liaoning_tou,
)

DEFAULT_DATE = dt.date(2026, 7, 15)
TIME_ZONE = "Asia/Shanghai"
LIAONING_COAL_BENCHMARK_CNY_PER_KWH = 0.3749  # [2nd] price paid for surplus PV fed into the grid


def default_day_profiles() -> pd.DataFrame:
    """PV available and load [kW] per quarter-hour of the default day."""
    with resources.files("scenarios.data").joinpath("default_day_shenyang.csv").open() as handle:
        return pd.read_csv(handle)


def default_problem(date: dt.date = DEFAULT_DATE) -> DispatchProblem:
    """The default Shenyang factory day as a dispatch problem (profiles re-dated to ``date``)."""
    horizon = Horizon.day(date, TIME_ZONE)
    profiles = default_day_profiles()
    if len(profiles) != horizon.n_steps:
        raise ValueError(f"the default profiles have 96 quarter-hours; {date} in {TIME_ZONE} has {horizon.n_steps}")
    return DispatchProblem(
        name=f"shenyang-factory-{date.isoformat()}",
        horizon=horizon,
        assets=[
            GridSpec(
                name="grid",
                import_limit_kw=2000.0,
                export_limit_kw=1000.0,
                tariff=liaoning_tou(0.62),
                export_price_cny_per_kwh=LIAONING_COAL_BENCHMARK_CNY_PER_KWH,
                demand_charge_cny_per_kw_month=35.0,
                month_to_date_peak_kw=900.0,
            ),
            PvSpec(name="pv_roof", available_kw=profiles["pv_available_kw"]),
            LoadSpec(name="factory_load", power_kw=profiles["load_kw"]),
            BatterySpec(
                name="battery",
                capacity_kwh=1000.0,
                charge_power_kw=500.0,
                discharge_power_kw=500.0,
                charge_efficiency=0.95,
                discharge_efficiency=0.95,
                soc_min_frac=0.10,
                soc_max_frac=0.90,
                initial_soc_frac=0.30,
                degradation_cost_cny_per_kwh=0.02,
            ),
            GreenContractSpec(
                name="green_certificates",
                pricing="certificate",
                price_cny_per_kwh=0.0056,  # 2024 average GEC price, 5.6 CNY/MWh [2nd]
                max_energy_kwh=3000.0,
            ),
        ],
        targets=Targets(pv_self_consumption=FractionTarget(min_frac=0.70, hard=False, penalty_cny_per_kwh=1.0)),
        objective=ObjectiveSpec(carbon_price_cny_per_tco2=50.0),
    )
