"""The reference LP in three tools, solved with HiGHS: ours (Pyomo), plain linopy and PyPSA.

Every formulation solves the same LP on the same data
(:class:`benchmarks.core.ReferenceInputs`; the import price series comes from
our TOU tariff and is handed to the peers as a plain array):

    min  sum_t dt_h * (price[t] * import[t] - 0.30 * export[t])
    s.t. import[t] - export[t] + pv[t] + discharge[t] - charge[t] = load[t]
         soc[t] = soc[t-1] + dt_h * (0.95 * charge[t] - discharge[t] / 0.95),  soc[-1] = 250 kWh
         soc[T-1] = 250 kWh (cyclic: ends where it started)
         0 <= import <= 3000, 0 <= export <= 400, 0 <= pv[t] <= pv_available[t],
         0 <= charge, discharge <= 250 (AC side), 50 <= soc <= 450

Mapping in PyPSA (``pypsa.Network``, one bus, snapshot weightings = dt_h so
that marginal costs in CNY/kWh times kW give CNY and store levels are kWh):
grid import = Generator (p_nom 3000, marginal cost = price series); export =
Generator with p_min_pu = -1, p_max_pu = 0, p_nom 400 and marginal cost 0.30
(its negative output earns 0.30 per kWh); PV = Generator (p_nom 1200, p_max_pu
= available / 1200); load = Load; battery = Store (e_nom 500, e_initial 250,
e_min_pu 0.1 / e_max_pu 0.9, both 0.5 at the last snapshot, which makes the end
level equal to the initial one) with a charge Link (bus -> battery, efficiency
0.95, p_nom 250 on the AC input) and a discharge Link (battery -> bus,
efficiency 0.95, p_nom 250 / 0.95 on the stored-energy input, i.e. 250 kW AC
out). PyPSA's ``e_cyclic`` is not used: it leaves the initial level free, while
ours fixes it at 50 %. Store levels are at snapshot ends, like ours.

Measured per run: build (from arrays to a model ready to solve), solve (wall
time of the solve call: hand-over to HiGHS, HiGHS, reading the solution back;
for ours also the schedule's extraction into a DataFrame, as linopy's includes
its solution arrays), HiGHS's own run time (``Highs.getRunTime()``), the
objective and the model size; for ours also where the solve call's time goes:
the hand-over (compiling the Pyomo model to arrays and passing them,
``optimizer.linear_form``), HiGHS, and the extraction (the solution into the
Pyomo variables, then the schedule). All three hand the model to HiGHS through
highspy as arrays (the peers with ``io_api="direct"``, their fastest path) with
HiGHS's console log off. HiGHS runs with its defaults in all three.

``ours-persistent`` is ours through Pyomo's persistent HiGHS interface (row by
row, the former path; ``optimizer.solve``'s ``interface="persistent"``), for an
A/B comparison (``python -m benchmarks.run --group peers --ab``).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.core import (
    BATTERY,
    EXPORT_LIMIT_KW,
    EXPORT_PRICE_CNY_PER_KWH,
    IMPORT_LIMIT_KW,
    INITIAL_SOC_FRAC,
    PV_KWP,
    ReferenceInputs,
    reference_problem_from,
)

TOOLS = ("ours", "linopy", "pypsa")
PEERS = ("linopy", "pypsa")
AB_TOOLS = ("ours-persistent",)
"""Ours through another interface to HiGHS, measured with ``--ab`` only (not by the gate)."""
Result = dict[str, Any]


def missing(tool: str) -> str | None:
    """Why ``tool`` cannot run here (a missing package), or None when it can."""
    needed = {"ours": ["pyomo", "highspy"], "linopy": ["linopy", "highspy"], "pypsa": ["pypsa", "linopy", "highspy"]}
    needed["ours-persistent"] = needed["ours"]
    absent = [p for p in needed[tool] if importlib.util.find_spec(p) is None]
    if absent:
        return f"{', '.join(absent)} not installed (pip install -e '.[bench]')"
    return None


def import_tool(tool: str) -> float:
    """Imports what ``tool`` needs; the seconds it took (the first call in a process is the real import cost)."""
    started = time.perf_counter()
    if tool.startswith("ours"):  # highspy as for the peers: the solver's bindings load with the tool
        import highspy

        import optimizer.model
        import optimizer.solve  # noqa: F401
    elif tool == "linopy":
        import highspy  # noqa: F401
        import linopy  # noqa: F401
    else:
        import pypsa  # noqa: F401
    return time.perf_counter() - started


def run_ours(inputs: ReferenceInputs, interface: str = "direct") -> Result:
    """Our model: DispatchProblem (validated) -> Pyomo model -> HiGHS (``interface``: ``optimizer.solve``'s) ->
    the schedule (a DataFrame of every flow)."""
    import scenarios.compile  # noqa: F401 - imports are reported apart (import_s), not in the cold run
    from optimizer import SolveOptions
    from optimizer.dispatch import extract_schedule
    from optimizer.model import build_model
    from optimizer.solve import solve_model

    started = time.perf_counter()
    problem = reference_problem_from(inputs)
    built = build_model(problem)
    built_at = time.perf_counter()
    report = solve_model(built.model, SolveOptions(time_limit_s=600), interface=interface)  # type: ignore[arg-type]
    reported_at = time.perf_counter()
    schedule = extract_schedule(built.ctx)
    solved_at = time.perf_counter()
    assert report.size is not None
    return {
        "status": report.status,
        "interface": report.interface,
        "end_soc_kwh": float(schedule["battery.soc_kwh"].iloc[-1]),
        "build_s": built_at - started,
        "solve_s": solved_at - built_at,
        "handover_s": report.handover_seconds,
        "highs_s": report.highs_seconds,
        "extract_s": (report.load_seconds or 0.0) + (solved_at - reported_at),
        "objective_cny": report.objective,
        "variables": report.size.variables,
        "binaries": report.size.binaries,
        "constraints": report.size.constraints,
    }


def run_linopy(inputs: ReferenceInputs) -> Result:
    """Plain linopy: vectorised variables and constraints over a ``time`` coordinate."""
    import linopy
    import pandas as pd
    import xarray as xr

    started = time.perf_counter()
    dt_h = inputs.dt_h
    b = BATTERY
    cap = b["capacity_kwh"]
    initial, end = inputs.initial_soc_frac * cap, INITIAL_SOC_FRAC * cap
    eta_c, eta_d = b["charge_efficiency"], b["discharge_efficiency"]
    time_index = pd.RangeIndex(inputs.n_steps, name="time")

    def series(values: np.ndarray) -> xr.DataArray:
        return xr.DataArray(values, coords=[time_index])

    m = linopy.Model()
    grid_import = m.add_variables(lower=0.0, upper=IMPORT_LIMIT_KW, coords=[time_index], name="import")
    grid_export = m.add_variables(lower=0.0, upper=EXPORT_LIMIT_KW, coords=[time_index], name="export")
    pv = m.add_variables(lower=0.0, upper=series(inputs.pv_kw), name="pv")
    charge = m.add_variables(lower=0.0, upper=b["charge_power_kw"], coords=[time_index], name="charge")
    discharge = m.add_variables(lower=0.0, upper=b["discharge_power_kw"], coords=[time_index], name="discharge")
    soc = m.add_variables(lower=b["soc_min_frac"] * cap, upper=b["soc_max_frac"] * cap, coords=[time_index], name="soc")
    m.add_constraints(grid_import - grid_export + pv + discharge - charge == series(inputs.load_kw), name="balance")
    initial_rhs = np.zeros(inputs.n_steps)
    initial_rhs[0] = initial
    m.add_constraints(
        soc - soc.shift(time=1) - eta_c * dt_h * charge + (dt_h / eta_d) * discharge == series(initial_rhs),
        name="soc_balance",
    )
    m.add_constraints(soc.isel(time=-1) == end, name="cyclic")
    energy = (series(inputs.import_price * dt_h) * grid_import).sum()
    m.add_objective(energy - EXPORT_PRICE_CNY_PER_KWH * dt_h * grid_export.sum())
    built_at = time.perf_counter()
    status, condition = m.solve(solver_name="highs", io_api="direct", output_flag=False)
    solved_at = time.perf_counter()
    return {
        "status": "optimal" if condition == "optimal" else f"{status}/{condition}",
        "build_s": built_at - started,
        "solve_s": solved_at - built_at,
        "highs_s": float(m.solver_model.getRunTime()),
        "objective_cny": float(m.objective.value),
        "end_soc_kwh": float(m.solution["soc"].values[-1]),
        "variables": int(m.nvars),
        "binaries": len(m.binaries),
        "constraints": int(m.ncons),
    }


def run_pypsa(inputs: ReferenceInputs) -> Result:
    """PyPSA: one bus with grid, export, PV, load and a Store with charge/discharge Links."""
    import pandas as pd
    import pypsa

    started = time.perf_counter()
    b = BATTERY
    cap = b["capacity_kwh"]
    eta_c, eta_d = b["charge_efficiency"], b["discharge_efficiency"]
    snapshots = inputs.index.tz_localize(None)
    n = pypsa.Network()
    n.set_snapshots(snapshots)
    # objective, stores and generators weighted by the hours per step
    n.snapshot_weightings = pd.DataFrame(dict.fromkeys(n.snapshot_weightings.columns, inputs.dt_h), index=snapshots)
    n.add("Bus", "site")
    n.add("Load", "load", bus="site", p_set=pd.Series(inputs.load_kw, index=snapshots))
    n.add(
        "Generator",
        "grid_import",
        bus="site",
        p_nom=IMPORT_LIMIT_KW,
        marginal_cost=pd.Series(inputs.import_price, index=snapshots),
    )
    n.add(
        "Generator",
        "grid_export",
        bus="site",
        p_nom=EXPORT_LIMIT_KW,
        p_min_pu=-1.0,
        p_max_pu=0.0,
        marginal_cost=EXPORT_PRICE_CNY_PER_KWH,
    )
    n.add("Generator", "pv", bus="site", p_nom=PV_KWP, p_max_pu=pd.Series(inputs.pv_kw / PV_KWP, index=snapshots))
    n.add("Bus", "battery")
    e_min = np.full(inputs.n_steps, b["soc_min_frac"])
    e_max = np.full(inputs.n_steps, b["soc_max_frac"])
    e_min[-1] = e_max[-1] = INITIAL_SOC_FRAC  # cyclic: the last level equals the initial one
    n.add(
        "Store",
        "battery",
        bus="battery",
        e_nom=cap,
        e_initial=inputs.initial_soc_frac * cap,
        e_cyclic=False,
        e_min_pu=pd.Series(e_min, index=snapshots),
        e_max_pu=pd.Series(e_max, index=snapshots),
    )
    n.add("Link", "charge", bus0="site", bus1="battery", efficiency=eta_c, p_nom=b["charge_power_kw"])
    n.add("Link", "discharge", bus0="battery", bus1="site", efficiency=eta_d, p_nom=b["discharge_power_kw"] / eta_d)
    model = n.optimize.create_model()
    built_at = time.perf_counter()
    status, condition = n.optimize.solve_model(solver_name="highs", io_api="direct", output_flag=False)
    solved_at = time.perf_counter()
    return {
        "status": "optimal" if condition == "optimal" else f"{status}/{condition}",
        "build_s": built_at - started,
        "solve_s": solved_at - built_at,
        "highs_s": float(model.solver_model.getRunTime()),
        "objective_cny": float(n.objective),
        "end_soc_kwh": float(n.stores_t.e["battery"].iloc[-1]),
        "variables": int(model.nvars),
        "binaries": len(model.binaries),
        "constraints": int(model.ncons),
    }


RUNNERS: dict[str, Callable[[ReferenceInputs], Result]] = {
    "ours": run_ours,
    "ours-persistent": lambda inputs: run_ours(inputs, interface="persistent"),
    "linopy": run_linopy,
    "pypsa": run_pypsa,
}


def run_tool(tool: str, inputs: ReferenceInputs) -> Result:
    """One build and solve of the reference problem with ``tool``; end-to-end = build + solve."""
    result = RUNNERS[tool](inputs)
    result["end_to_end_s"] = result["build_s"] + result["solve_s"]
    highs_s = result.get("highs_s")
    result["overhead_ratio"] = result["end_to_end_s"] / highs_s if highs_s else None
    return result
