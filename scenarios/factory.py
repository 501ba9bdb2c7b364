"""The embedded full-factory default: ``scenarios/examples/shenyang_factory.yaml`` through the one compile path.

A mid-sized Shenyang factory (rooftop PV forecast by pvlib, battery, green
certificates, cold storage, compressor groups with heat recovery, gas boiler,
heat pump and tank, flexible loads, forklift charging, 70 % PV
self-consumption). The site, its sources and estimates are in the scenario
file; this module only picks the days: ``dispatch demo`` and the factory
benchmarks call :func:`factory_problem`.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the optimizer and the compile path load on first use: ``dispatch --help`` reads DEFAULT_DATE
    from optimizer import DispatchProblem
    from scenarios.loader import Case

DEFAULT_DATE = dt.date(2026, 7, 15)
GREEN_CERTIFICATES = "green_certificates"
"""The contract whose ``max_energy_kwh`` is per day in the file and scales with the days of one horizon."""


def factory_scenario_path() -> Path:
    """The shipped scenario file of the full factory."""
    return Path(str(resources.files("scenarios").joinpath("examples", "shenyang_factory.yaml")))


@cache
def _base_case() -> Case:
    from scenarios.loader import load_scenario

    return load_scenario(factory_scenario_path()).base()


def factory_problem(date: dt.date = DEFAULT_DATE, days: int = 1) -> DispatchProblem:
    """The full factory over ``days`` local days starting at ``date`` as one horizon (15-minute steps)."""
    from scenarios.compile import compile_problem
    from scenarios.inputs import Inputs
    from scenarios.rolling import make_periods
    from scenarios.spec import HorizonSpec

    case = _base_case()
    site = case.scenario.site
    horizon = HorizonSpec(start=date, days=days, step_minutes=15, rolling=False)
    (period,) = make_periods(horizon, site.tz)
    daily_kwh = site.asset(GREEN_CERTIFICATES).max_energy_kwh
    return compile_problem(
        site,
        period,
        inputs=Inputs(case),
        state=case.scenario.initial_state,
        updates={GREEN_CERTIFICATES: {"max_energy_kwh": daily_kwh * days}},
        name=f"shenyang-factory-{date.isoformat()}-{days}d",
    )
