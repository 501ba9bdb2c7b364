"""The full factory as it was built in Python before it became a scenario file: the oracle that
scenarios/examples/shenyang_factory.yaml must reproduce (tests/test_factory_scenario.py).

A mid-sized Shenyang factory, one day or several.

PV is forecast by pvlib (:mod:`forecasting`) for a 1,500 kWp fixed roof array
from the Shenyang typical-year weather re-dated to the horizon; the electric
load is the measured steel-plant day in ``data/default_day_shenyang.csv``
(real data, see ``data/SOURCES.md``), repeated each day. Everything else is a typical value (an estimate,
``[est]``) where the seeds are silent, or a figure from DOMAIN-FACTS.md:

- grid: Liaoning four-band TOU scaled to a flat 0.62 CNY/kWh [est], demand
  charge 35 CNY/kW-month [est], export at the coal benchmark price [2nd];
- battery 1,000 kWh / 500 kW, 95 %/95 %, SOC 10-90 % [est];
- green certificates at 5.6 CNY/MWh (2024 average) [2nd], up to 5 MWh a day [est];
- cold storage: two 500 kW_th chillers (COP 5.8; one makes ice at COP 3.8)
  and a 3,000 kWh_th ice tank; process cooling 200-600 kW_th by day [est];
- compressed air: two load/unload 24 m3/min units (6.4 kW per m3/min) and two
  VSD 20 m3/min units, each pair one group entry (``units=2``, identical
  machines, solved as a count), min up 30 min, start cost 5 CNY, 75 % heat
  recovery [2nd ranges]; 30 m3 receiver; 40-75 m3/min demand on shifts [est];
- heat: 1,000 kW_th gas boiler (92 %, 3.6 CNY/Nm3 [est], 2.162 kg/Nm3 [2nd]),
  300 kW_th air-source heat pump (COP 3.0, Taike's target), 1,000 kWh_th hot
  water tank; 150-450 kW_th demand [est];
- flexible loads: dryers (600 kWh between 08:00 and 20:00, <= 120 kW) and a
  2-hour 200 kW heat-treatment batch starting between 06:00 and 18:00 [est];
- a forklift fleet: 300 kWh by 07:30, <= 80 kW, plugged in from midnight [est];
- 70 % PV self-consumption target (Lingyun's) as a hard target.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources

import numpy as np
import pandas as pd

from forecasting import forecast_pv, shenyang_default_site, shenyang_typical_weather
from optimizer import (
    AirDemandSpec,
    AirReceiverSpec,
    BatterySpec,
    BlockLoadSpec,
    ChillerSpec,
    ColdTankSpec,
    CompressorSpec,
    CoolingDemandSpec,
    DispatchProblem,
    EnergyWindowLoadSpec,
    FleetChargingSpec,
    FractionTarget,
    GasBoilerSpec,
    GreenContractSpec,
    GridSpec,
    HeatDemandSpec,
    HeatPumpSpec,
    HeatTankSpec,
    Horizon,
    LoadSpec,
    ObjectiveSpec,
    PvSpec,
    Targets,
    liaoning_tou,
)

DEFAULT_DATE = dt.date(2026, 7, 15)
TIME_ZONE = "Asia/Shanghai"
STEPS_PER_DAY = 96
LIAONING_COAL_BENCHMARK_CNY_PER_KWH = 0.3749  # [2nd] price paid for surplus PV fed into the grid
GREEN_CERTIFICATES_KWH_PER_DAY = 5000.0  # [est] certificates bought per day


def default_day_profiles() -> pd.DataFrame:
    """PV available and electric load [kW] per quarter-hour of the default day (96 rows)."""
    with resources.files("scenarios.data").joinpath("default_day_shenyang.csv").open() as handle:
        return pd.read_csv(handle)


def _hours(horizon: Horizon) -> np.ndarray:
    index = horizon.index
    return np.asarray(index.hour + index.minute / 60.0)


def _shift_profile(hours: np.ndarray, off: float, on: float, start_h: float = 7.5, end_h: float = 22.0) -> np.ndarray:
    """``on`` during the working shifts, ``off`` otherwise [est]."""
    return np.where((hours >= start_h) & (hours < end_h), on, off)


def pv_forecast_kw(horizon: Horizon) -> np.ndarray:
    """The roof array's available AC power [kW] from the Shenyang typical year (pvlib)."""
    forecast = forecast_pv(shenyang_default_site(), shenyang_typical_weather(horizon.index), horizon.index)
    return forecast["total_kw"].to_numpy().round(3)


def factory_problem(date: dt.date = DEFAULT_DATE, days: int = 1) -> DispatchProblem:
    """The full factory over ``days`` local days starting at ``date`` (15-minute steps)."""
    first = Horizon.day(date, TIME_ZONE)
    if first.n_steps != STEPS_PER_DAY:
        raise ValueError(f"the default profiles have 96 quarter-hours; {date} in {TIME_ZONE} has {first.n_steps}")
    horizon = Horizon(start=first.start, step_minutes=15, n_steps=STEPS_PER_DAY * days, tz=TIME_ZONE)
    profiles = default_day_profiles()
    hours = _hours(horizon)
    day_starts = [pd.Timestamp(date, tz=TIME_ZONE) + pd.Timedelta(days=d) for d in range(days)]

    def at(day_start: pd.Timestamp, hh_mm: str) -> dt.datetime:
        return (day_start + pd.Timedelta(hh_mm + ":00")).to_pydatetime()

    warm_season = date.month in (5, 6, 7, 8, 9)
    cooling_kw = _shift_profile(hours, 200.0, 600.0 if warm_season else 300.0)
    heat_kw = _shift_profile(hours, 150.0 if warm_season else 450.0, 250.0 if warm_season else 450.0, 6.0, 22.0)
    air_m3_per_min = _shift_profile(hours, 40.0, 75.0)
    unit = {"min_up_minutes": 30.0, "start_cost_cny": 5.0, "heat_recovery_frac": 0.75}

    assets: list = [
        GridSpec(
            name="grid",
            import_limit_kw=3000.0,
            export_limit_kw=1000.0,
            tariff=liaoning_tou(0.62),
            export_price_cny_per_kwh=LIAONING_COAL_BENCHMARK_CNY_PER_KWH,
            demand_charge_cny_per_kw_month=35.0,
            month_to_date_peak_kw=1500.0,
        ),
        PvSpec(name="pv_roof", available_kw=pv_forecast_kw(horizon)),
        LoadSpec(name="process_load", power_kw=np.tile(profiles["load_kw"].to_numpy(), days)),
        BatterySpec(
            name="battery",
            capacity_kwh=1000.0,
            charge_power_kw=500.0,
            discharge_power_kw=500.0,
            initial_soc_frac=0.30,
            degradation_cost_cny_per_kwh=0.062,  # LFP_THROUGHPUT_COST_CNY_PER_KWH, as the scenario file
        ),
        GreenContractSpec(
            name="green_certificates",
            pricing="certificate",
            price_cny_per_kwh=0.0056,
            max_energy_kwh=GREEN_CERTIFICATES_KWH_PER_DAY * days,
        ),
        CoolingDemandSpec(name="process_cooling", cooling_kw=cooling_kw),
        ChillerSpec(name="chiller_1", cooling_capacity_kw=500.0, chilled_water_cop=5.8, ice_cop=3.8, min_load_frac=0.3),
        ChillerSpec(name="chiller_2", cooling_capacity_kw=500.0, chilled_water_cop=5.8, min_load_frac=0.3),
        ColdTankSpec(
            name="ice_tank", medium="ice", capacity_kwh=3000.0, charge_power_kw=400.0, discharge_power_kw=600.0
        ),
        AirDemandSpec(name="compressed_air", flow_m3_per_min=air_m3_per_min),
        CompressorSpec(
            name="compressors_lu",
            units=2,
            rated_flow_m3_per_min=24.0,
            control="load_unload",
            cycle_loss_s=15.0,
            storage_m3=30.0,
            **unit,
        ),
        CompressorSpec(name="compressors_vsd", units=2, rated_flow_m3_per_min=20.0, control="vsd", **unit),
        AirReceiverSpec(name="air_receiver", capacity_m3=30.0),
        HeatDemandSpec(name="workshop_heat", heat_kw=heat_kw),
        GasBoilerSpec(name="gas_boiler", capacity_kw=1000.0, efficiency=0.92, gas_price_cny_per_nm3=3.6),
        HeatPumpSpec(name="heat_pump", capacity_kw=300.0, cop=3.0),
        HeatTankSpec(name="hot_water_tank", capacity_kwh=1000.0, charge_power_kw=300.0, discharge_power_kw=300.0),
    ]
    for d, day_start in enumerate(day_starts):
        suffix = f"_d{d + 1}" if days > 1 else ""
        assets += [
            EnergyWindowLoadSpec(
                name=f"dryers{suffix}",
                energy_kwh=600.0,
                window_start=at(day_start, "08:00"),
                window_end=at(day_start, "20:00"),
                max_power_kw=120.0,
            ),
            BlockLoadSpec(
                name=f"heat_treatment{suffix}",
                profile_kw=[200.0] * 8,
                earliest_start=at(day_start, "06:00"),
                latest_start=at(day_start, "18:00"),
            ),
            FleetChargingSpec(
                name=f"forklifts{suffix}",
                energy_kwh=300.0,
                max_power_kw=80.0,
                available_from=at(day_start, "00:00"),
                available_until=at(day_start, "07:30"),
            ),
        ]
    return DispatchProblem(
        name=f"shenyang-factory-{date.isoformat()}-{days}d",
        horizon=horizon,
        assets=assets,
        targets=Targets(pv_self_consumption=FractionTarget(min_frac=0.70, hard=True)),
        objective=ObjectiveSpec(carbon_price_cny_per_tco2=50.0),
    )
