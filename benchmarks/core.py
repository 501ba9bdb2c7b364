"""Core LP benchmark: the reference problem (PV + load + battery + TOU grid with export).

The reference problem (issue "benchmarks side by side with peer tools", case 1):
one site, PV from a seeded synthetic 1,200 kWp profile, a seeded load, a
battery of 500 kWh / 250 kW at 95 %/95 % with SOC 10-90 % that ends where it
started (50 %), Liaoning TOU import (valley 0.30, flat 0.60, peak 0.95, sharp
1.15 CNY/kWh) and export of up to 400 kW at 0.30 CNY/kWh. Sizes: 96, 672 and
35,040 quarter-hours and 8,760 hours.

Import and export are degenerate in the valley band, where both cost 0.30: the
LP may buy and sell the same kWh at once without changing the objective. The
benchmark runs the problem as a pure LP (``exclusive_import_export="never"``,
``exclusive_charge_discharge="never"``) so that it is the same LP the peer
tools (``benchmarks/peers.py``) solve: the objectives agree, the flows in the
valley may differ. With ``lp=False`` the optimiser's default ("auto") adds an
import/export binary on the valley steps; the optimum is the same (netting the
simultaneous flows never changes the cost).

Reports, per size: model build, solve call and HiGHS's own seconds, the
overhead (end-to-end over HiGHS), objective, gap and model size. The 96-step
case runs several times in one process; the first run is "cold", the median of
the rest "warm". Times are measured, never asserted: compare ratios within a run.
The side-by-side comparison with PyPSA and linopy is ``python -m benchmarks.run --group peers``.

    python -m benchmarks.core            # 96, 672, 8,760 (hourly), 35,040 steps
    python -m benchmarks.core --quick    # 96 and 672 steps (CI)
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # the optimizer is imported where it is used, so peer-tool processes never load Pyomo
    from optimizer import DispatchProblem, Horizon, TouTariff
    from scenarios.site import Site

RESULTS = Path(__file__).with_name("results")
SEED = 20260715
START = "2026-01-01"
TIME_ZONE = "Asia/Shanghai"
PV_KWP = 1200.0
IMPORT_LIMIT_KW = 3000.0
EXPORT_LIMIT_KW = 400.0
EXPORT_PRICE_CNY_PER_KWH = 0.30
BAND_PRICES_CNY_PER_KWH = {"sharp": 1.15, "peak": 0.95, "flat": 0.60, "valley": 0.30}
BATTERY = {
    "capacity_kwh": 500.0,
    "charge_power_kw": 250.0,
    "discharge_power_kw": 250.0,
    "charge_efficiency": 0.95,
    "discharge_efficiency": 0.95,
    "soc_min_frac": 0.1,
    "soc_max_frac": 0.9,
}
INITIAL_SOC_FRAC = 0.5

CASES: dict[str, tuple[int, int]] = {"96": (96, 15), "672": (672, 15), "8760": (8760, 60), "35040": (35040, 15)}
"""Case name -> (steps, step minutes): a day and a week of quarter-hours, a year of hours and of quarter-hours."""


def reference_tariff() -> TouTariff:
    """Liaoning's band periods with the reference band prices (valley 0.30 ... sharp 1.15 CNY/kWh)."""
    from optimizer import TouTariff, liaoning_tou

    return TouTariff(band_prices_cny_per_kwh=BAND_PRICES_CNY_PER_KWH, periods=liaoning_tou().periods)


@dataclass(frozen=True)
class ReferenceInputs:
    """The data of the reference problem as plain arrays, shared by our model and the peers'.

    ``import_price`` comes from :func:`reference_tariff` (time-weighted within a
    step); the peers get it as a series. Saved to and loaded from ``.npz`` so
    that a peer's process never imports the optimizer.
    """

    start: pd.Timestamp
    step_minutes: int
    pv_kw: np.ndarray
    load_kw: np.ndarray
    import_price: np.ndarray
    initial_soc_frac: float = INITIAL_SOC_FRAC

    @property
    def n_steps(self) -> int:
        return len(self.pv_kw)

    @property
    def dt_h(self) -> float:
        return self.step_minutes / 60.0

    @property
    def index(self) -> pd.DatetimeIndex:
        """Interval starts, local time (as :attr:`optimizer.Horizon.index`)."""
        return pd.date_range(self.start, periods=self.n_steps, freq=pd.Timedelta(minutes=self.step_minutes))

    def horizon(self) -> Horizon:
        from optimizer import Horizon

        return Horizon(start=self.start.to_pydatetime(), step_minutes=self.step_minutes, n_steps=self.n_steps)

    def window(self, first: int, n_steps: int, initial_soc_frac: float | None = None) -> ReferenceInputs:
        """Steps ``first .. first + n_steps - 1`` as a problem of their own (a day of a rolling run)."""
        cut = slice(first, first + n_steps)
        return replace(
            self,
            start=self.index[first],
            pv_kw=self.pv_kw[cut],
            load_kw=self.load_kw[cut],
            import_price=self.import_price[cut],
            initial_soc_frac=self.initial_soc_frac if initial_soc_frac is None else initial_soc_frac,
        )

    def save(self, path: Path) -> None:
        np.savez(
            path,
            start=str(self.start.isoformat()),
            tz=str(self.start.tz),
            step_minutes=self.step_minutes,
            pv_kw=self.pv_kw,
            load_kw=self.load_kw,
            import_price=self.import_price,
            initial_soc_frac=self.initial_soc_frac,
        )

    @classmethod
    def load(cls, path: Path) -> ReferenceInputs:
        with np.load(path) as data:
            return cls(
                start=pd.Timestamp(str(data["start"])).tz_convert(str(data["tz"])),
                step_minutes=int(data["step_minutes"]),
                pv_kw=data["pv_kw"],
                load_kw=data["load_kw"],
                import_price=data["import_price"],
                initial_soc_frac=float(data["initial_soc_frac"]),
            )


def reference_inputs(n_steps: int, step_minutes: int = 15, seed: int = SEED) -> ReferenceInputs:
    """Seeded synthetic PV (1,200 kWp, daily clouds, seasonal) and load (shifts) profiles [kW], reference prices."""
    from optimizer import Horizon

    start = pd.Timestamp(START, tz=TIME_ZONE)
    horizon = Horizon(start=start.to_pydatetime(), step_minutes=step_minutes, n_steps=n_steps)
    index = horizon.index
    steps_per_day = 1440 // step_minutes
    rng = np.random.default_rng(seed)
    hour = index.hour + index.minute / 60.0
    day_of_year = index.day_of_year.to_numpy()
    daylight = np.clip(np.sin(np.pi * (hour - 5.0) / 14.0), 0.0, None)
    season = 0.75 + 0.25 * np.sin(2 * np.pi * (day_of_year - 80) / 365.0)
    clouds = np.repeat(rng.uniform(0.3, 1.0, size=len(index) // steps_per_day + 1), steps_per_day)[: len(index)]
    pv_kw = PV_KWP * 0.8 * daylight * season * clouds
    working = ((hour >= 7.5) & (hour < 20.0)).astype(float)
    load_kw = 250.0 + 450.0 * working + rng.normal(0.0, 30.0, len(index)).clip(-80.0, 80.0)
    price = reference_tariff().prices(horizon).to_numpy()
    return ReferenceInputs(start, step_minutes, np.asarray(pv_kw).round(3), np.asarray(load_kw).round(3), price)


def reference_site(*, lp: bool = True, name: str = "reference") -> Site:
    """The reference site: grid, PV, load and battery; PV and load are the inputs ``pv`` and ``load``."""
    from scenarios.site import Site

    exclusive = "never" if lp else "auto"
    return Site.model_validate(
        {
            "name": name,
            "tz": TIME_ZONE,
            "assets": [
                {
                    "kind": "grid",
                    "name": "grid",
                    "import_limit_kw": IMPORT_LIMIT_KW,
                    "export_limit_kw": EXPORT_LIMIT_KW,
                    "export_price_cny_per_kwh": EXPORT_PRICE_CNY_PER_KWH,
                    "tariff": reference_tariff(),
                    "exclusive_import_export": exclusive,
                },
                {"kind": "pv", "name": "pv", "available_kw": "$inputs.pv"},
                {"kind": "load", "name": "load", "power_kw": "$inputs.load"},
                {
                    "kind": "battery",
                    "name": "battery",
                    "end_soc_frac": INITIAL_SOC_FRAC,
                    "end_soc_rule": "==",
                    "exclusive_charge_discharge": exclusive,
                    **BATTERY,
                },
            ],
        }
    )


def reference_problem_from(inputs: ReferenceInputs, *, lp: bool = True, name: str | None = None) -> DispatchProblem:
    """Our formulation of the reference problem, through the one compile path; ``lp=True`` keeps it a pure LP."""
    from scenarios.compile import SeriesByName, compile_problem
    from scenarios.rolling import Period

    horizon = inputs.horizon()
    dates = tuple(horizon.index.tz_localize(None).normalize().unique().date)  # not a Timestamp per step
    return compile_problem(
        reference_site(lp=lp),
        Period(horizon, dates),
        inputs=SeriesByName({"pv": inputs.pv_kw, "load": inputs.load_kw}),
        state={"battery": {"initial_soc_frac": inputs.initial_soc_frac}},
        name=name or f"reference-{inputs.n_steps}",
    )


def reference_problem(n_steps: int, seed: int = SEED, step_minutes: int = 15, *, lp: bool = True) -> DispatchProblem:
    """The reference problem over ``n_steps`` steps of ``step_minutes`` (see the module docstring)."""
    return reference_problem_from(reference_inputs(n_steps, step_minutes, seed), lp=lp)


def run_case(problem: DispatchProblem) -> dict[str, float | int | str | None]:
    """Build and solve once; the times and figures of that run."""
    from optimizer import SolveOptions
    from optimizer.model import build_model
    from optimizer.solve import solve_model

    started = time.perf_counter()
    built = build_model(problem)
    report = solve_model(built.model, SolveOptions(time_limit_s=600, mip_rel_gap=1e-6))
    total = time.perf_counter() - started
    assert report.size is not None
    return {
        "steps": problem.horizon.n_steps,
        "step_minutes": problem.horizon.step_minutes,
        "status": report.status,
        "build_s": built.build_seconds,
        "solve_s": report.solve_seconds,
        "highs_s": report.highs_seconds,
        "end_to_end_s": total,
        "overhead_ratio": total / report.highs_seconds if report.highs_seconds else None,
        "objective_cny": report.objective,
        "gap": report.mip_gap,
        "variables": report.size.variables,
        "binaries": report.size.binaries,
        "constraints": report.size.constraints,
    }


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def machine_info() -> dict[str, object]:
    """What the timings were measured on."""
    import highspy

    highs_lib = ".".join(str(getattr(highspy, f"HIGHS_VERSION_{p}", "?")) for p in ("MAJOR", "MINOR", "PATCH"))
    return {
        "python": platform.python_version(),
        "pyomo": _version("pyomo"),
        "highs": highs_lib,
        "highspy": _version("highspy"),
        "pypsa": _version("pypsa"),
        "linopy": _version("linopy"),
        "numpy": _version("numpy"),
        "pandas": _version("pandas"),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "commit": _git_commit(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


COLUMNS = (
    "case",
    "status",
    "build_s",
    "solve_s",
    "highs_s",
    "end_to_end_s",
    "overhead_ratio",
    "objective_cny",
    "gap",
    "variables",
    "binaries",
    "constraints",
)


def core_rows(quick: bool = False, repeats: int = 5) -> list[dict[str, object]]:
    """The core benchmark's rows: 96 steps cold and warm (median of ``repeats``), then the larger cases."""
    rows: list[dict[str, object]] = []
    runs = [run_case(reference_problem(96)) for _ in range(repeats + 1)]
    cold, warm_runs = runs[0], runs[1:]
    rows.append({**cold, "case": "96 (cold)"})
    median = {k: statistics.median(r[k] for r in warm_runs) for k in ("build_s", "solve_s", "highs_s", "end_to_end_s")}
    rows.append(
        {
            **warm_runs[-1],
            **median,
            "overhead_ratio": median["end_to_end_s"] / median["highs_s"],
            "case": "96 (warm median)",
        }
    )
    rows.append({**run_case(reference_problem(96, lp=False)), "case": "96 (auto: MILP)"})
    sizes = ["672"] if quick else ["672", "8760", "35040"]
    for name in sizes:
        steps, minutes = CASES[name]
        label = f"{steps} x {minutes} min"
        rows.append({**run_case(reference_problem(steps, step_minutes=minutes)), "case": label})
    return rows


def print_rows(rows: list[dict[str, object]], title: str, columns: tuple[str, ...] = COLUMNS) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*(cell(row.get(c)) for c in columns))
    Console(width=250).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="96 and 672 steps only")
    parser.add_argument("--repeats", type=int, default=5, help="warm repeats of the 96-step case")
    args = parser.parse_args()

    rows = core_rows(args.quick, args.repeats)
    print_rows(rows, "Core LP benchmark (PV + load + battery + TOU grid with export)")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("core_quick.json" if args.quick else "core.json")
    out.write_text(json.dumps({"machine": machine_info(), "rows": rows}, indent=2, default=str))
    print(f"wrote {out}")


def cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 100 else f"{value:,.1f}"
    return "-" if value is None else str(value)


if __name__ == "__main__":
    main()
