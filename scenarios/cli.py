"""Command line ``dispatch``: the embedded demo, and what-if scenario files.

- ``dispatch demo``: the embedded Shenyang factory day;
- ``dispatch run SCENARIO.yaml``: one scenario (or one variant), one day or a range, day-ahead with state carried;
- ``dispatch compare SCENARIO.yaml``: the base and its variants side by side;
- ``dispatch sweep SCENARIO.yaml``: a parameter sweep;
- ``dispatch validate SCENARIO.yaml``: check a file (exit 1 with ``file:line: field: message``);
- ``dispatch schema``: the JSON Schema of scenario files;
- ``dispatch serve``: the HTTP API (uvicorn).

Exit codes: 0 done; 1 the scenario file (or an input it names) is wrong; 2 a
period fell back to the rule-based schedule (infeasible or no solution), or
``serve`` cannot start. Outputs are written in every case but 1.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import time
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from optimizer import SolveOptions, solve
from scenarios.factory import DEFAULT_DATE, factory_problem
from scenarios.report import print_result

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Day-ahead dispatch for factory microgrids.")
err = Console(stderr=True)
out_console = Console()

ScenarioPath = Annotated[Path, typer.Argument(help="Scenario file (YAML).", exists=False, dir_okay=False)]
StartOpt = Annotated[str | None, typer.Option("--start", help="First day (YYYY-MM-DD); default: the file's.")]
EndOpt = Annotated[str | None, typer.Option("--end", help="Last day, inclusive (YYYY-MM-DD).")]
DaysOpt = Annotated[
    int | None, typer.Option("--days", min=1, help="Number of days from --start (or the file's start).")
]
FormatOpt = Annotated[str, typer.Option("--format", help="Schedule files: csv or parquet.")]
JobsOpt = Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Parallel processes; default: all cores.")]
DetailOpt = Annotated[int, typer.Option("--detail-days", min=1, help="Days of time series in the HTML report.")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")]
SplitOpt = Annotated[
    bool,
    typer.Option(
        "--split-months",
        help="Also run calendar months in parallel (each month starts from the file's initial state).",
    ),
]


@app.callback()
def main() -> None:
    """Day-ahead dispatch for factory microgrids."""


@app.command()
def demo(
    date: Annotated[str, typer.Option(help="Day to label the default profiles with (YYYY-MM-DD).")] = str(DEFAULT_DATE),
    days: Annotated[int, typer.Option(min=1, max=31, help="Number of days in one horizon.")] = 1,
    out: Annotated[Path | None, typer.Option(help="Folder for schedule.csv and kpis.json.")] = None,
    time_limit: Annotated[float, typer.Option(help="Solver time limit [s].")] = 30.0,
    gap: Annotated[float, typer.Option(help="Relative MIP gap.")] = 1e-4,
) -> None:
    """Optimise the embedded Shenyang factory day; print KPIs and the saving over the rule-based baseline."""
    try:
        day = dt.date.fromisoformat(date)
    except ValueError as error:
        raise typer.BadParameter(f"{date!r} is not a date (YYYY-MM-DD): {error}", param_hint="--date") from error
    problem = factory_problem(day, days=days)
    result = solve(problem, SolveOptions(time_limit_s=time_limit, mip_rel_gap=gap))
    print_result(result)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        result.schedule.to_csv(out / "schedule.csv", index_label="interval_start")
        payload = {
            "status": result.status,
            "schedule_source": result.schedule_source,
            "kpis": result.kpis.model_dump(),
            "baseline_kpis": result.baseline_kpis.model_dump(),
            "saving_cny": result.saving_cny,
            "solver": result.report.model_dump(),
        }
        (out / "kpis.json").write_text(json.dumps(payload, indent=2))
        typer.echo(f"wrote {out / 'schedule.csv'} and {out / 'kpis.json'}")
    if result.schedule_source != "optimizer":
        raise typer.Exit(code=2)


# --- scenario files ----------------------------------------------------------------------------


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD): {error}", param_hint=option) from error


def _format(value: str) -> Literal["csv", "parquet"]:
    if value not in ("csv", "parquet"):
        raise typer.BadParameter(f"{value!r}: use csv or parquet", param_hint="--format")
    if value == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise typer.BadParameter("parquet files need pyarrow: pip install pyarrow", param_hint="--format")
    return value  # type: ignore[return-value]


def _fail(error: Exception) -> typer.Exit:
    """Prints scenario issues (file:line: field: message) and returns the exit to raise."""
    from scenarios.errors import ScenarioError

    issues = error.issues if isinstance(error, ScenarioError) else [error]
    for issue in issues:
        err.print(f"[red]error[/red] {issue}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


def _load(path: Path):
    from scenarios.errors import ScenarioError
    from scenarios.loader import load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as error:
        raise _fail(error) from error


def _dated(cases: list, start: str | None, end: str | None, days: int | None) -> list:
    from scenarios.pipeline import with_dates

    first, last = _date(start, "--start"), _date(end, "--end")
    if last is not None and days is not None:
        raise typer.BadParameter("give --end or --days, not both", param_hint="--days")
    return [with_dates(c, first, last, days) for c in cases]


def _run_all(cases: list, jobs: int | None, progress: bool, split_months: bool) -> list:
    from scenarios.errors import ScenarioError
    from scenarios.parallel import run_cases
    from scenarios.pipeline import check_case

    try:
        for case in cases:
            check_case(case)
        return run_cases(cases, jobs=jobs, show_progress=progress, split_months=split_months)
    except ScenarioError as error:
        raise _fail(error) from error


def _report_fallbacks(runs: list) -> None:
    failed = [(r.label, r.fallback_days) for r in runs if r.fallback_days]
    for label, periods in failed:
        err.print(
            f"[yellow]{label}: {len(periods)} period(s) fell back to the rule-based schedule: "
            f"{', '.join(periods[:8])}{' ...' if len(periods) > 8 else ''}[/yellow]"
        )
    if failed:
        raise typer.Exit(code=2)


@app.command()
def run(
    scenario: ScenarioPath,
    variant: Annotated[str, typer.Option(help="Variant to run (default: the base scenario).")] = "base",
    start: StartOpt = None,
    end: EndOpt = None,
    days: DaysOpt = None,
    out: Annotated[Path | None, typer.Option(help="Output folder; default out/<scenario>/<variant>.")] = None,
    fmt: FormatOpt = "csv",
    split_months: SplitOpt = False,
    jobs: JobsOpt = None,
    detail_days: DetailOpt = 7,
    progress: ProgressOpt = True,
) -> None:
    """Run a scenario (or one variant) over its days; write schedules, KPIs and the HTML report."""
    from scenarios.compare import print_comparison
    from scenarios.errors import ScenarioError
    from scenarios.outputs import folder_name, write_run

    table_format = _format(fmt)
    document = _load(scenario)
    try:
        case = document.variant(variant)
    except ScenarioError as error:
        raise _fail(error) from error
    started = time.perf_counter()
    (result,) = _run_all(_dated([case], start, end, days), jobs, progress, split_months)
    wall = time.perf_counter() - started
    print_comparison([result], out_console, base=result.label)
    folder = out or Path("out") / document.scenario.name / folder_name(variant)
    files = write_run(result, folder, fmt=table_format, detail_days=detail_days)
    out_console.print(
        f"{len(result.days)} period(s) in {wall:.1f} s ({result.seconds:.1f} s summed over solver processes); "
        "wrote " + ", ".join(map(str, files.values())),
        soft_wrap=True,
    )
    _report_fallbacks([result])


@app.command()
def compare(
    scenario: ScenarioPath,
    variants: Annotated[
        str | None, typer.Option(help="Comma-separated variants to compare with the base; default: all.")
    ] = None,
    start: StartOpt = None,
    end: EndOpt = None,
    days: DaysOpt = None,
    out: Annotated[Path | None, typer.Option(help="Output folder; default out/<scenario>/compare.")] = None,
    fmt: FormatOpt = "csv",
    jobs: JobsOpt = None,
    split_months: SplitOpt = False,
    detail_days: DetailOpt = 7,
    progress: ProgressOpt = True,
) -> None:
    """Run the base and its variants side by side: KPI table with deltas, per-variant reports, comparison.html."""
    from scenarios.compare import print_comparison
    from scenarios.errors import ScenarioError
    from scenarios.outputs import write_comparison

    table_format = _format(fmt)
    document = _load(scenario)
    names = None if variants is None else ["base", *[v.strip() for v in variants.split(",") if v.strip() != "base"]]
    try:
        cases = document.variants(names)
    except ScenarioError as error:
        raise _fail(error) from error
    runs = _run_all(_dated(cases, start, end, days), jobs, progress, split_months)
    print_comparison(runs, out_console)
    folder = out or Path("out") / document.scenario.name / "compare"
    files = write_comparison(runs, folder, fmt=table_format, detail_days=detail_days)
    out_console.print("wrote " + ", ".join(map(str, files.values())) + f" and one folder per variant in {folder}")
    _report_fallbacks(runs)


@app.command()
def sweep(
    scenario: ScenarioPath,
    name: Annotated[str | None, typer.Option("--sweep", help="Sweep to run; default: every sweep of the file.")] = None,
    start: StartOpt = None,
    end: EndOpt = None,
    days: DaysOpt = None,
    out: Annotated[Path | None, typer.Option(help="Output folder; default out/<scenario>/sweep-<name>.")] = None,
    schedules: Annotated[bool, typer.Option(help="Also write every point's schedules and report.")] = False,
    fmt: FormatOpt = "csv",
    jobs: JobsOpt = None,
    progress: ProgressOpt = True,
) -> None:
    """Run a parameter sweep; write sweep.csv/json/html (KPIs per point)."""
    from scenarios.compare import print_comparison
    from scenarios.errors import ScenarioError
    from scenarios.outputs import write_sweep

    table_format = _format(fmt)
    document = _load(scenario)
    names = [name] if name is not None else list(document.scenario.sweeps)
    if not names:
        err.print(f"{document.source.file}: no sweeps in the file (add a sweeps: section)")
        raise typer.Exit(code=1)
    all_runs = []
    for sweep_name in names:
        try:
            cases = document.sweep(sweep_name)
        except ScenarioError as error:
            raise _fail(error) from error
        runs = _run_all(_dated(cases, start, end, days), jobs, progress, False)
        print_comparison(runs, out_console, base=runs[0].label)
        folder = out if out is not None and len(names) == 1 else None
        folder = folder or (out or Path("out") / document.scenario.name) / f"sweep-{sweep_name}"
        files = write_sweep(runs, folder, fmt=table_format, schedules=schedules)
        out_console.print("wrote " + ", ".join(map(str, files.values())))
        all_runs += runs
    _report_fallbacks(all_runs)


@app.command()
def replay(
    scenario: ScenarioPath,
    variant: Annotated[str, typer.Option(help="Variant to replay (default: the base scenario).")] = "base",
    start: StartOpt = None,
    end: EndOpt = None,
    every: Annotated[str, typer.Option("--every", help="Intraday re-plan interval (1h, 30min, 2h).")] = "1h",
    out: Annotated[Path | None, typer.Option(help="Output folder; default out/<scenario>/replay.")] = None,
    progress: ProgressOpt = True,
) -> None:
    """Replay the EMS loop over the days: day-ahead only, intraday re-plans, perfect foresight; cost each."""
    from scenarios.errors import ScenarioError
    from scenarios.replay import ReplayOptions, parse_every, print_replay, replay_case, write_replay

    document = _load(scenario)
    try:
        (case,) = _dated([document.variant(variant)], start, end, None)
        every_minutes = parse_every(every, case.scenario.horizon.step_minutes)
        show = (lambda day: err.print(f"replayed {day}", highlight=False)) if progress else None
        result = replay_case(case, ReplayOptions(every_minutes=every_minutes), progress=show)
    except ScenarioError as error:
        raise _fail(error) from error
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    print_replay(result, out_console)
    folder = out or Path("out") / document.scenario.name / "replay"
    files = write_replay(result, folder)
    out_console.print("wrote " + ", ".join(map(str, files.values())), soft_wrap=True)
    if result.fallback_solves:
        err.print(f"[yellow]{result.fallback_solves} plan(s) fell back to the rule-based schedule[/yellow]")
        raise typer.Exit(code=2)


def _check_file(path: Path, deep: bool) -> tuple[list, str]:
    """Every issue of a scenario file (base, each variant, each sweep point) and a summary line."""
    from scenarios.errors import ScenarioError
    from scenarios.loader import load_scenario
    from scenarios.pipeline import check_case

    try:
        document = load_scenario(path)
    except ScenarioError as error:
        return error.issues, ""
    issues: list = []
    periods = 0
    cases = 0
    for kind, name in document.case_names():
        try:
            chosen = [document.variant(name)] if kind == "variant" else document.sweep(name)
        except ScenarioError as error:
            issues += [i for i in error.issues if i not in issues]
            continue
        for case in chosen:
            cases += 1
            if not deep:
                continue
            try:
                periods = max(periods, check_case(case))
            except ScenarioError as error:
                issues += [i for i in error.issues if i not in issues]
    scenario = document.scenario
    points = sum(len(s.points()) for s in scenario.sweeps.values())
    summary = (
        f"{path}: ok ({len(scenario.variants)} variant(s), {points} sweep point(s)"
        + (f", {periods} period(s) per run" if deep else "")
        + ")"
    )
    return issues, summary


@app.command()
def validate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files (YAML).")],
    deep: Annotated[
        bool, typer.Option(help="Also build the first day of every variant and sweep point and read all inputs.")
    ] = True,
) -> None:
    """Check scenario files; print file:line: field: message for every problem (exit 1)."""
    from scenarios.errors import ScenarioError

    failed = False
    for path in scenarios:
        issues, summary = _check_file(path, deep)
        if issues:
            failed = True
            _fail(ScenarioError(issues))
        else:
            out_console.print(summary, soft_wrap=True)
    if failed:
        raise typer.Exit(code=1)


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option(help="Write the JSON Schema here instead of printing it.")] = None,
) -> None:
    """Print (or write) the JSON Schema of scenario files, for editors (yaml-language-server) and CI."""
    from scenarios.spec import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        err.print(f"wrote {out}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Start the HTTP API (api.app:app) with uvicorn."""
    try:
        import uvicorn
    except ImportError as error:
        err.print(f"[red]uvicorn is not installed ({error}); install it with: pip install uvicorn[/red]")
        raise typer.Exit(code=2) from error
    if importlib.util.find_spec("api") is None or importlib.util.find_spec("api.app") is None:
        err.print("[red]the HTTP API (api/app.py) is not part of this installation yet[/red]")
        raise typer.Exit(code=2)
    uvicorn.run("api.app:app", host=host, port=port, reload=reload)


if __name__ == "__main__":
    app()
