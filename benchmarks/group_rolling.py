"""Benchmark group ``rolling``: a year of day-ahead runs.

The reference LP (365 x 96 steps) rebuilt per day in each tool, and ours re-using one model
(:class:`KeptReference`, :mod:`optimizer.reuse`), cold and warm-started; and the shipped
factory scenario day by day (:func:`rolling_factory`), cost and emissions against the rule-based
baseline.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks.core import ReferenceInputs, reference_inputs
from benchmarks.measure import Row
from benchmarks.tables import markdown_table, print_table

ROLLING_DAYS, ROLLING_DAYS_QUICK = 365, 7

ROLLING_COLUMNS = [
    ("case", "case"),
    ("tool", "tool"),
    ("variant", "variant"),
    ("days", "days"),
    ("total_s", "total"),
    ("per_day_median_s", "per day (median)"),
    ("per_day_max_s", "per day (max)"),
    ("highs_total_s", "HiGHS total"),
    ("overhead_ratio", "overhead"),
    ("objective_cny", "cost CNY"),
    ("one_lp_objective_cny", "one LP CNY"),
    ("foresight_cost_rel", "rolling / one LP - 1"),
    ("max_day_rel_diff", "max day rel. diff"),
    ("days_reused", "days re-used"),
    ("not_optimal_days", "not optimal"),
]


class KeptReference:
    """Ours re-using one model (:mod:`optimizer.reuse`): each day's problem through the one compile path, its
    numbers pushed into the kept model and HiGHS, the schedule extracted, as ``run_ours`` does with a fresh build."""

    def __init__(self, *, warm_start: bool) -> None:
        from optimizer.reuse import ModelCache

        self.cache = ModelCache(warm_start=warm_start)
        self.reused = 0

    def solve_day(self, day: ReferenceInputs) -> tuple[float | None, float, float]:
        """Objective, HiGHS seconds and end SOC [kWh] of one day."""
        from benchmarks.core import reference_problem_from
        from optimizer import SolveOptions
        from optimizer.dispatch import extract_schedule

        model, how = self.cache.model_for(reference_problem_from(day))
        assert model is not None, how
        self.reused += how == "re-used"
        report = model.solve(SolveOptions(time_limit_s=600))
        schedule = extract_schedule(model.built.ctx)
        objective = report.objective if report.status == "optimal" else None
        return objective, report.highs_seconds or 0.0, float(schedule["battery.soc_kwh"].iloc[-1])


def rolling_reference(days: int, tools: list[str]) -> list[Row]:
    """``days`` day-ahead solves of the reference LP carrying the SOC; each day ends at 50 % (cyclic)."""
    from benchmarks.core import BATTERY, INITIAL_SOC_FRAC
    from benchmarks.peers import import_tool, missing, run_tool

    cap = BATTERY["capacity_kwh"]
    year = reference_inputs(96 * days)
    one_lp = run_tool("ours", year)["objective_cny"]

    def loop(solve: Callable[[ReferenceInputs], tuple[float | None, float, float]]) -> Row:
        soc = INITIAL_SOC_FRAC
        objectives, highs, per_day = [], [], []
        started = time.perf_counter()
        for d in range(days):
            day_started = time.perf_counter()
            day = year.window(96 * d, 96, initial_soc_frac=min(max(soc, 0.1), 0.9))
            objective, highs_s, end_kwh = solve(day)
            per_day.append(time.perf_counter() - day_started)
            objectives.append(objective)
            highs.append(highs_s)
            soc = end_kwh / cap
        total = time.perf_counter() - started
        solved = [o for o in objectives if o is not None]
        return {
            "case": f"reference LP, {days} x 96 steps",
            "days": days,
            "total_s": total,
            "per_day_median_s": statistics.median(per_day),
            "per_day_max_s": max(per_day),
            "highs_total_s": sum(highs),
            "overhead_ratio": total / sum(highs) if sum(highs) else None,
            "objective_cny": sum(solved),
            "one_lp_objective_cny": one_lp,
            "foresight_cost_rel": sum(solved) / one_lp - 1.0,
            "not_optimal_days": days - len(solved),
            "daily_objectives": objectives,
        }

    def via_tool(tool: str) -> Callable[[ReferenceInputs], tuple[float | None, float, float]]:
        def solve(day: ReferenceInputs) -> tuple[float | None, float, float]:
            result = run_tool(tool, day)
            ok = result["status"] == "optimal"
            return (result["objective_cny"] if ok else None), result["highs_s"] or 0.0, result["end_soc_kwh"]

        return solve

    rows = []
    for tool in tools:
        if missing(tool):
            continue
        import_tool(tool)
        print(f"  rolling reference LP, {days} days, {tool}: rebuilt per day")
        rows.append({**loop(via_tool(tool)), "tool": tool, "variant": "rebuild per day"})
    if not missing("ours"):
        for warm_start, variant in ((False, "kept model (optimizer.reuse)"), (True, "kept model, warm start")):
            print(f"  rolling reference LP, {days} days, ours: {variant}")
            kept = KeptReference(warm_start=warm_start)
            row = loop(kept.solve_day)
            rows.append({**row, "tool": "ours", "variant": variant, "days_reused": kept.reused})
    reference = next((r for r in rows if r["tool"] == "ours" and r["variant"] == "rebuild per day"), None)
    for row in rows:
        if reference is not None:
            pairs = zip(row["daily_objectives"], reference["daily_objectives"], strict=True)
            row["max_day_rel_diff"] = max(
                (abs(a - b) / max(abs(b), 1e-9) for a, b in pairs if a is not None and b is not None), default=None
            )
    for row in rows:
        del row["daily_objectives"]
    return rows


def rolling_factory(days: int) -> Row:
    """``days`` day-ahead runs of the shipped factory scenario from 1 January, carrying SOC and monthly peak.

    Each day is :func:`scenarios.factory.factory_problem` for that date with the
    battery starting at the previous day's end SOC and the grid's month-to-date
    peak carried within each calendar month (0 on the 1st). Other stores start
    from the scenario's levels every day and end at least there. The year's
    cost counts the demand charge once per month on the month's peak, for the
    optimised schedules and for the baseline alike.
    """
    import datetime as dt

    import numpy as np

    from optimizer import SolveOptions, solve
    from scenarios.factory import factory_problem

    options = SolveOptions(time_limit_s=120, mip_rel_gap=1e-4)
    first = dt.date(2026, 1, 1)
    soc_frac: float | None = None
    month_peak = {"optimised": 0.0, "baseline": 0.0}
    peaks: dict[tuple[int, int, str], float] = {}
    totals = dict.fromkeys(
        ("cost_ex_demand", "base_cost_ex_demand", "em_market", "base_em_market", "em_loc", "base_em_loc"), 0.0
    )
    per_day, highs, not_optimal, gaps = [], [], 0, []
    grid, rate = "grid", 0.0
    battery = ("battery.soc_kwh", 1.0)
    started = time.perf_counter()
    for d in range(days):
        date = first + dt.timedelta(days=d)
        if date.day == 1:
            month_peak = {"optimised": 0.0, "baseline": 0.0}
        day_started = time.perf_counter()
        problem = factory_problem(date)
        assets = []
        for asset in problem.assets:
            if asset.kind == "grid":
                grid, rate = asset.name, asset.demand_charge_cny_per_kw_month
                asset = asset.model_copy(update={"month_to_date_peak_kw": month_peak["optimised"]})
            elif asset.kind == "battery":
                battery = (f"{asset.name}.soc_kwh", asset.capacity_kwh)
                if soc_frac is not None:
                    soc_frac = min(max(soc_frac, asset.soc_min_frac), asset.soc_max_frac)
                    asset = asset.model_copy(update={"initial_soc_frac": soc_frac})
            assets.append(asset)
        result = solve(problem.model_copy(update={"assets": assets}), options)
        per_day.append(time.perf_counter() - day_started)
        highs.append(result.report.highs_seconds or 0.0)
        not_optimal += result.status != "optimal"
        if result.report.mip_gap is not None:
            gaps.append(result.report.mip_gap)
        for label, schedule, kpis in (
            ("optimised", result.schedule, result.kpis),
            ("baseline", result.baseline_schedule, result.baseline_kpis),
        ):
            prefix = "" if label == "optimised" else "base_"
            demand = kpis.cost_cny_by_component.get("demand_charge", 0.0)
            totals[f"{prefix}cost_ex_demand"] += kpis.energy_cost_cny - demand
            totals[f"{prefix}em_market"] += kpis.emissions_market_kgco2
            totals[f"{prefix}em_loc"] += kpis.emissions_location_kgco2
            month_peak[label] = max(month_peak[label], float(np.max(schedule[f"{grid}.import_kw"])))
            peaks[(date.year, date.month, label)] = month_peak[label]
        soc_frac = float(result.schedule[battery[0]].iloc[-1]) / battery[1]
        if (d + 1) % 30 == 0:
            print(f"    {d + 1} of {days} days, {time.perf_counter() - started:.0f} s")
    total = time.perf_counter() - started
    demand = {label: rate * sum(v for (_, _, lab), v in peaks.items() if lab == label) for label in month_peak}
    cost = totals["cost_ex_demand"] + demand["optimised"]
    base_cost = totals["base_cost_ex_demand"] + demand["baseline"]
    return {
        "case": f"factory scenario, {days} day-ahead runs from {first}",
        "tool": "ours",
        "variant": "rebuild per day (MILP)",
        "days": days,
        "total_s": total,
        "per_day_median_s": statistics.median(per_day),
        "per_day_max_s": max(per_day),
        "highs_total_s": sum(highs),
        "overhead_ratio": total / sum(highs) if sum(highs) else None,
        "not_optimal_days": not_optimal,
        "max_gap": max(gaps, default=None),
        "energy_cost_cny": cost,
        "baseline_cost_cny": base_cost,
        "saving_cny": base_cost - cost,
        "saving_frac": (base_cost - cost) / base_cost if base_cost else None,
        "demand_charge_cny": demand["optimised"],
        "baseline_demand_charge_cny": demand["baseline"],
        "emissions_market_kgco2": totals["em_market"],
        "baseline_emissions_market_kgco2": totals["base_em_market"],
        "emissions_location_kgco2": totals["em_loc"],
        "baseline_emissions_location_kgco2": totals["base_em_loc"],
    }


FACTORY_YEAR_COLUMNS = [
    ("case", "case"),
    ("days", "days"),
    ("total_s", "total"),
    ("per_day_median_s", "per day (median)"),
    ("per_day_max_s", "per day (max)"),
    ("highs_total_s", "HiGHS total"),
    ("overhead_ratio", "overhead"),
    ("not_optimal_days", "not optimal"),
    ("energy_cost_cny", "cost CNY"),
    ("baseline_cost_cny", "baseline CNY"),
    ("saving_cny", "saving CNY"),
    ("emissions_market_kgco2", "kgCO2 (market)"),
    ("baseline_emissions_market_kgco2", "baseline kgCO2 (market)"),
]


def group_rolling(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from benchmarks.peers import TOOLS

    days = args.days or (ROLLING_DAYS_QUICK if args.quick else ROLLING_DAYS)
    factory_days = args.factory_days or days
    rows = rolling_reference(days, [t for t in TOOLS if t != "pypsa"] if not args.all_tools else list(TOOLS))
    print(f"  rolling factory scenario, {factory_days} days")
    factory = rolling_factory(factory_days)
    print_table("Rolling day-ahead: reference LP", rows, ROLLING_COLUMNS)
    print_table("Rolling day-ahead: factory scenario", [factory], FACTORY_YEAR_COLUMNS)
    md = "\n\n".join(
        [
            "# A year of rolling day-ahead runs",
            ROLLING_NOTES,
            markdown_table(rows, ROLLING_COLUMNS),
            markdown_table([factory], FACTORY_YEAR_COLUMNS),
        ]
    )
    return {"rows": rows, "factory": factory}, md


ROLLING_NOTES = """\
Reference LP: one 96-step day-ahead solve per day, the battery starting at the previous day's end SOC
and ending at 50 %; *one LP* is the same span solved at once (perfect foresight), so *rolling / one
LP - 1* is the price of deciding a day at a time. *rebuild per day* builds and solves a new model each
day; *kept model* is `optimizer.reuse`, as rolling runs and sweeps use it: the model is built once, each
day's numbers go into its parameters and its compiled arrays, which go to a new HiGHS (the same solution as a
fresh build) or, *warm start*, as bound, cost and row changes into a kept HiGHS that starts from its previous
basis. Every
figure includes compiling each day's problem from the site, and extracting its schedule. *max day rel.
diff* compares each day's objective with ours rebuilt. Factory scenario: the
shipped factory (MILP) day by day, carrying battery SOC and the month-to-date peak; cost includes the
demand charge on each month's peak, for the baseline too."""
