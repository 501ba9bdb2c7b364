"""Command line ``dispatch``: the embedded demo, and what-if scenario files.

- ``dispatch demo``: the embedded Shenyang factory day; says which site and day it solved, and writes the
  schedule, KPIs and an HTML report (default folder ``out/demo``);
- ``dispatch run SCENARIO.yaml``: one scenario (or one variant), one day or a range, day-ahead with state carried
  (``--annual``: also the annual report);
- ``dispatch annual SCENARIO.yaml``: a calendar year day by day, the run's files and the annual report
  (``annual.html``, ``annual.xlsx``): zero-carbon status and what closes it, money, months, ledger;
- ``dispatch compare SCENARIO.yaml``: the base (the file as written) and its variants side by side;
- ``dispatch sweep SCENARIO.yaml``: a parameter sweep, each point named by its values, against the base;
- ``dispatch validate SCENARIO.yaml``: check a file: every problem of the base, each variant and each sweep point
  in one pass (exit 1 with ``file:line: field: message`` lines);
- ``dispatch replay SCENARIO.yaml``: the EMS loop offline over a date range;
- ``dispatch schema``: the JSON Schema of scenario files;
- ``dispatch serve``: the HTTP API (uvicorn);
- ``dispatch keys create|list|revoke``: tenants' API keys on the service's database (:mod:`api.keys_cli`).

Exit codes: 0 done; 1 the scenario file (or an input it names) is wrong; 2 a
period fell back to the rule-based schedule (infeasible or no solution), or
``serve`` cannot start, or the Dask scheduler of ``--cluster`` cannot be reached. Outputs are written in every
case but 1 and an unreachable scheduler.

Tables are sized to the terminal (80 columns when the output is piped or redirected; ``COLUMNS`` overrides).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from api import keys_cli
from scenarios.factory import DEFAULT_DATE  # light: the optimizer, pandas and the compile path load per command

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Day-ahead dispatch for factory microgrids.")
app.add_typer(keys_cli.app, name="keys")  # dispatch keys create|list|revoke: tenants' API keys
PIPE_WIDTH = 80
"""Width of tables and wrapped text when the output is not a terminal (a pipe, a file) and COLUMNS is not set."""


def _console(stderr: bool = False) -> Console:
    """A console as wide as the terminal; :data:`PIPE_WIDTH` columns when the stream is piped or redirected (rich
    would otherwise take the width of whichever other stream is a terminal); ``COLUMNS`` wins over both."""
    stream = sys.stderr if stderr else sys.stdout
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        terminal = False
    width = None if os.environ.get("COLUMNS", "").isdigit() or terminal else PIPE_WIDTH
    return Console(stderr=stderr, width=width)


err = _console(stderr=True)
out_console = _console()

ScenarioPath = Annotated[Path, typer.Argument(help="Scenario file (YAML).", exists=False, dir_okay=False)]
StartOpt = Annotated[
    str | None, typer.Option("--start", help="First day, the site's local date (YYYY-MM-DD); default: the file's.")
]
EndOpt = Annotated[str | None, typer.Option("--end", help="Last day, inclusive, the site's local date (YYYY-MM-DD).")]
DaysOpt = Annotated[
    int | None, typer.Option("--days", min=1, help="Number of days from --start (or the file's start).")
]
FormatOpt = Annotated[str, typer.Option("--format", help="Schedule files: csv or parquet.")]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        help="Number of parallel solver processes (with --cluster local: Dask workers); default: one per CPU core. "
        "A small job runs in this process whatever the number (it says so).",
    ),
]
ClusterOpt = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Run the cases (and independent months) on Dask: a scheduler address (tcp://host:8786) or 'local' "
        "(a LocalCluster of --jobs workers); default: $DISPATCH_DASK_SCHEDULER unless --jobs is given, else local "
        "processes.",
    ),
]
DetailOpt = Annotated[
    int,
    typer.Option("--detail-days", min=1, help="Number of days shown step by step (time series) in the HTML report."),
]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar (on stderr).")]
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
    global err, out_console
    err, out_console = _console(stderr=True), _console()  # the streams of this invocation (tests replace them)


DEMO_OUT = Path("out") / "demo"
"""Where ``dispatch demo`` writes its files without ``--out`` (relative to the current folder)."""


def _place(site: Any) -> str:
    """``41.73° N, 123.45° E, Asia/Shanghai`` (what the site file says of where it is)."""
    parts = []
    if site.latitude is not None and site.longitude is not None:
        lat, lon = site.latitude, site.longitude
        parts.append(f"{abs(lat):.2f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.2f}° {'E' if lon >= 0 else 'W'}")
    parts.append(site.tz)
    return ", ".join(parts)


def _days_text(first: dt.date, days: int) -> str:
    if days == 1:
        return f"{first.isoformat()} ({first:%A})"
    last = first + dt.timedelta(days=days - 1)
    return f"{first.isoformat()} to {last.isoformat()} ({days} days as one horizon)"


def print_files(files: dict[str, Path], folder: Path) -> None:
    """``wrote FOLDER/: a, b, c`` (files in ``folder``), then any file elsewhere on its own line."""
    inside = [f.name for f in files.values() if f.parent == folder]
    if inside:
        out_console.print(
            f"wrote {folder}{'/' if not str(folder).endswith('/') else ''}: {', '.join(inside)}", highlight=False
        )
    for path in files.values():
        if path.parent != folder:
            out_console.print(f"wrote {path}", highlight=False, soft_wrap=True)


def print_open_hint(report: Path) -> None:
    """How to open an HTML report: a command that works on every system, and its ``file://`` address."""
    out_console.print(f"open the report: python -m webbrowser {report}", highlight=False, soft_wrap=True)
    out_console.print(f"  or in a browser: {report.resolve().as_uri()}", highlight=False, soft_wrap=True)


@app.command()
def demo(
    date: Annotated[
        str,
        typer.Option(
            help="Day to plan, the site's local date (YYYY-MM-DD): PV is forecast for it from the typical-year "
            "weather, the load is the measured day."
        ),
    ] = str(DEFAULT_DATE),
    days: Annotated[
        int, typer.Option(min=1, max=31, help="Number of days in one horizon (1-31), solved as one problem.")
    ] = 1,
    out: Annotated[
        Path | None,
        typer.Option(help=f"Folder for the schedules, kpis.json and report.html; default: {DEMO_OUT}."),
    ] = None,
    time_limit: Annotated[float, typer.Option(min=0.0, help="Solver time limit, in seconds.")] = 30.0,
    gap: Annotated[
        float,
        typer.Option(min=0.0, help="Relative MIP gap at which the solver stops, as a fraction (1e-4 = 0.01 %)."),
    ] = 1e-4,
) -> None:
    """Optimise the embedded Shenyang factory day; print KPIs and the saving over the rule-based baseline, write the
    schedule, KPIs and an HTML report."""
    from optimizer import SolveOptions, solve
    from scenarios.factory import factory_problem, factory_scenario_path
    from scenarios.loader import load_scenario
    from scenarios.outputs import run_payload, write_json, write_run
    from scenarios.pipeline import run_from_result
    from scenarios.report import print_result
    from scenarios.report_tables import RunCarbon

    try:
        day = dt.date.fromisoformat(date)
    except ValueError as error:
        raise typer.BadParameter(f"{date!r} is not a date (YYYY-MM-DD): {error}", param_hint="--date") from error
    scenario_path = factory_scenario_path()
    site = load_scenario(scenario_path).scenario.site
    problem = factory_problem(day, days=days)
    steps = problem.horizon.n_steps
    out_console.print(f"[bold]Site[/bold]: {escape(site.name)}; {_place(site)}", highlight=False)
    out_console.print(f"[bold]Site file[/bold]: {escape(_shown_path(scenario_path))}", highlight=False, soft_wrap=True)
    out_console.print(
        f"[bold]Day[/bold]: {_days_text(day, days)}, {steps} steps of {problem.horizon.step_minutes} min",
        highlight=False,
    )
    result = solve(problem, SolveOptions(time_limit_s=time_limit, mip_rel_gap=gap))
    print_result(dataclasses.replace(result, baseline_warnings=[]), out_console)
    if result.baseline_warnings:
        out_console.print(
            "[yellow]About the rule-based baseline[/yellow] (what the site would do without the optimiser; the "
            "saving is measured against it):",
            highlight=False,
        )
        notes = Table.grid(padding=(0, 1))
        notes.add_column(no_wrap=True)
        notes.add_column()
        for warning in result.baseline_warnings:
            notes.add_row("  -", escape(warning))
        out_console.print(notes, highlight=False)
    out_console.print(result_line(result, problem.currency, days), highlight=False)
    folder = out if out is not None else DEMO_OUT
    run = run_from_result(result, problem, label="demo")
    carbon = RunCarbon.of(run, site)
    files = write_run(run, folder, carbon=carbon)
    payload = run_payload(run, carbon) | {
        "site": {"name": site.name, "latitude": site.latitude, "longitude": site.longitude, "tz": site.tz},
        "status": result.status,
        "schedule_source": result.schedule_source,
        "solver": result.report.model_dump(),
        "baseline_warnings": result.baseline_warnings,
    }
    write_json(files["kpis"], payload)
    print_files(files, folder)
    if "report" in files:
        print_open_hint(files["report"])
    if result.schedule_source != "optimizer":
        raise typer.Exit(code=2)


def result_line(result: Any, currency: str, days: int) -> str:
    """The demo's ``Result`` line (rich markup): status, energy cost over the days and the saving against the
    rule-based baseline with its share; against a baseline that leaves demand unmet, what it leaves unmet instead of
    a saving (``saving_cny`` is None then); for a fallback, that the files hold the rule-based schedule."""
    if result.schedule_source != "optimizer":
        return (
            f"[bold red]Result[/bold red]: {result.status}; no optimised schedule, the files hold the rule-based "
            "fallback"
        )
    cost = f"[bold]Result[/bold]: {result.status}; energy cost {result.kpis.energy_cost_cny:,.2f} {currency} "
    cost += f"over {days} day(s)"
    saving = result.saving_cny
    if saving is None:
        return f"{cost}; {escape(result.savings.label or '')}: no saving is stated against it"
    base = result.baseline_kpis.energy_cost_cny
    share = saving / base if base else 0.0
    return f"{cost}, {saving:,.2f} {currency} ({100 * share:.1f} %) less than the rule-based baseline"


def _shown_path(path: Path) -> str:
    """``path`` relative to the current folder when it is under it, else as is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


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
        err.print(f"[red]error[/red] {escape(str(issue))}", markup=True, highlight=False, soft_wrap=True)
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


def _run_all(cases: list, jobs: int | None, progress: bool, split_months: bool, cluster: str | None = None) -> list:
    """Checks every case, then runs them (:func:`scenarios.parallel.run_cases`); how the work was cut and where
    it ran goes to stderr."""
    from scenarios.errors import ScenarioError
    from scenarios.executors import ClusterError
    from scenarios.parallel import run_cases
    from scenarios.pipeline import check_case

    def note(text: str) -> None:
        err.print(escape(text), highlight=False, soft_wrap=True)

    try:
        for case in cases:
            check_case(case)
        return run_cases(
            cases, jobs=jobs, cluster=cluster, show_progress=progress, split_months=split_months, notes=note
        )
    except ScenarioError as error:
        raise _fail(error) from error
    except ClusterError as error:
        err.print(f"[red]error[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from error


def _report_fallbacks(runs: list) -> None:
    failed = [(r.label, r.fallback_days) for r in runs if r.fallback_days]
    for label, periods in failed:
        err.print(
            f"[yellow]{label}: {len(periods)} period(s) fell back to the rule-based schedule: "
            f"{', '.join(periods[:8])}{' ...' if len(periods) > 8 else ''}[/yellow]"
        )
    if failed:
        raise typer.Exit(code=2)


def _title(run: Any, what: str = "") -> str:
    """``<scenario>[ what]: 2026-07-15`` or ``... 2026-07-15 to 2026-07-21, 7 days`` (periods when they are not
    days)."""
    first, last = run.days[0].period, run.days[-1].period
    unit = "days" if all(len(str(d.period)) == len("2026-07-15") for d in run.days) else "periods"
    span = str(first) if len(run.days) == 1 else f"{first} to {last}, {len(run.days)} {unit}"
    return f"{run.scenario}{' ' + what if what else ''}: {span}"


def print_targets_and_carbon(runs: list, carbons: list) -> None:
    """Under the summary table: each run's targets and contract volumes over their periods (met or not, achieved
    against required) and its carbon line (net tCO2, zero-carbon status, the closing purchase's cost); prefixed by
    the run's label when there are several."""
    from scenarios.report_tables import carbon_lines, period_lines

    for run, carbon in zip(runs, carbons, strict=True):
        prefix = f"{run.label}: " if len(runs) > 1 else ""
        lines = period_lines(run) + ([] if carbon is None else carbon_lines(carbon, run.currency))
        for line in lines:
            out_console.print(escape(prefix + line), highlight=False)


AnnualOpt = Annotated[
    bool,
    typer.Option(
        "--annual",
        help="Also write the annual report (annual.html, annual.xlsx: zero-carbon status, money, months, ledger).",
    ),
]


def _run_and_write(
    case: Any,
    folder: Path,
    *,
    table_format: Literal["csv", "parquet"],
    jobs: int | None,
    progress: bool,
    split_months: bool,
    detail_days: int,
    annual: bool,
    title: str = "",
    cluster: str | None = None,
) -> None:
    """Runs one case and writes its files (and, with ``annual``, the annual report) into ``folder``: what ``run``
    and ``annual`` share. Prints the summary, the targets and carbon lines, the time taken and the files."""
    from scenarios.compare import print_comparison
    from scenarios.outputs import write_run
    from scenarios.report_tables import RunCarbon

    started = time.perf_counter()
    (result,) = _run_all([case], jobs, progress, split_months, cluster)
    wall = time.perf_counter() - started
    print_comparison([result], out_console, base=result.label, title=_title(result, title or result.label))
    site = case.scenario.site
    carbon = RunCarbon.of(result, site)
    print_targets_and_carbon([result], [carbon])
    files = write_run(result, folder, fmt=table_format, detail_days=detail_days, carbon=carbon)
    if annual:
        from scenarios.annual_report import write_annual_report  # openpyxl: only for the annual report

        files |= write_annual_report(result, site, folder, carbon=carbon)
    out_console.print(
        f"{len(result.days)} period(s) in {wall:.1f} s ({result.seconds:.1f} s summed over solver processes); "
        f"files in {time.perf_counter() - started - wall:.1f} s",
        highlight=False,
    )
    print_files(files, folder)
    if "annual_html" in files:
        print_open_hint(files["annual_html"])
    elif "report" in files:
        print_open_hint(files["report"])
    _report_fallbacks([result])


@app.command()
def run(
    scenario: ScenarioPath,
    variant: Annotated[str, typer.Option(help="Variant to run (default: the base scenario).")] = "base",
    start: StartOpt = None,
    end: EndOpt = None,
    days: DaysOpt = None,
    out: Annotated[Path | None, typer.Option(help="Output folder; default: out/<scenario>/<variant>.")] = None,
    fmt: FormatOpt = "csv",
    split_months: SplitOpt = False,
    jobs: JobsOpt = None,
    detail_days: DetailOpt = 7,
    progress: ProgressOpt = True,
    annual: AnnualOpt = False,
    cluster: ClusterOpt = None,
) -> None:
    """Run a scenario (or one variant) over its days; write schedules, KPIs, the carbon ledger and the HTML report
    (with --annual also the annual report)."""
    from scenarios.errors import ScenarioError
    from scenarios.outputs import folder_name

    table_format = _format(fmt)
    document = _load(scenario)
    try:
        case = document.variant(variant)
    except ScenarioError as error:
        raise _fail(error) from error
    (case,) = _dated([case], start, end, days)
    folder = out or Path("out") / document.scenario.name / folder_name(variant)
    _run_and_write(
        case,
        folder,
        table_format=table_format,
        jobs=jobs,
        progress=progress,
        split_months=split_months,
        detail_days=detail_days,
        annual=annual,
        cluster=cluster,
    )


def _year_case(case: Any, year: int, last: dt.date | None = None) -> Any:
    """``case`` over the calendar year ``year`` (1 January to 31 December, or to ``last``), day-ahead day after day
    (rolling, even where the file runs one horizon: a year in one horizon is far too large a problem)."""
    from scenarios.pipeline import with_dates

    dated = with_dates(case, dt.date(year, 1, 1), last or dt.date(year, 12, 31))
    horizon = dated.scenario.horizon
    if horizon.rolling:
        return dated
    horizon = horizon.model_copy(update={"rolling": True})
    data = {**dated.data, "horizon": horizon.model_dump(mode="json", exclude_none=True)}
    return dataclasses.replace(dated, scenario=dated.scenario.model_copy(update={"horizon": horizon}), data=data)


@app.command()
def annual(
    scenario: ScenarioPath,
    year: Annotated[
        int | None,
        typer.Option(min=1990, max=2100, help="Calendar year to run, 1 January to 31 December; default: the file's."),
    ] = None,
    variant: Annotated[str, typer.Option(help="Variant to run (default: the base scenario).")] = "base",
    end: Annotated[
        str | None,
        typer.Option(
            "--end",
            help="Last day run, inclusive, the site's local date (YYYY-MM-DD) in the year, e.g. the year to date; "
            "default: 31 December.",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder; default: out/<scenario>/<variant>-<year>.")] = None,
    fmt: FormatOpt = "csv",
    split_months: SplitOpt = False,
    jobs: JobsOpt = None,
    detail_days: DetailOpt = 7,
    progress: ProgressOpt = True,
    cluster: ClusterOpt = None,
) -> None:
    """Run a scenario (or one variant) over a calendar year, day-ahead day after day; write the run's files and the
    annual report: annual.html (zero-carbon status and the cost of the purchase that closes it, money against the
    rule-based baseline, targets over their periods, months, ledger) and annual.xlsx (Summary, a sheet per month,
    Ledger, Daily, Targets)."""
    from scenarios.errors import ScenarioError
    from scenarios.outputs import folder_name

    table_format = _format(fmt)
    document = _load(scenario)
    try:
        case = document.variant(variant)
    except ScenarioError as error:
        raise _fail(error) from error
    start = case.scenario.horizon.start
    chosen = year if year is not None else (start.year if isinstance(start, (dt.date, dt.datetime)) else None)
    if chosen is None:
        raise typer.BadParameter("the file gives no start date: give --year", param_hint="--year")
    last = _date(end, "--end")
    if last is not None and last.year != chosen:
        raise typer.BadParameter(f"{last} is not in {chosen}", param_hint="--end")
    folder = out or Path("out") / document.scenario.name / f"{folder_name(variant)}-{chosen}"
    _run_and_write(
        _year_case(case, chosen, last),
        folder,
        table_format=table_format,
        jobs=jobs,
        progress=progress,
        split_months=split_months,
        detail_days=detail_days,
        annual=True,
        title=f"{case.label}, year {chosen}",
        cluster=cluster,
    )


@app.command()
def compare(
    scenario: ScenarioPath,
    variants: Annotated[
        str | None, typer.Option(help="Comma-separated variants to compare with the base; default: all.")
    ] = None,
    start: StartOpt = None,
    end: EndOpt = None,
    days: DaysOpt = None,
    out: Annotated[Path | None, typer.Option(help="Output folder; default: out/<scenario>/compare.")] = None,
    fmt: FormatOpt = "csv",
    jobs: JobsOpt = None,
    split_months: SplitOpt = False,
    detail_days: DetailOpt = 7,
    progress: ProgressOpt = True,
    cluster: ClusterOpt = None,
) -> None:
    """Run the base and its variants side by side: KPI table with changes against the base (the file as written),
    per-variant reports, comparison.html."""
    from scenarios.compare import print_comparison
    from scenarios.errors import ScenarioError
    from scenarios.loader import BASE
    from scenarios.outputs import write_comparison
    from scenarios.report_tables import RunCarbon

    table_format = _format(fmt)
    document = _load(scenario)
    names = None if variants is None else [BASE, *[v.strip() for v in variants.split(",") if v.strip() != BASE]]
    try:
        cases = document.variants(names)
    except ScenarioError as error:
        raise _fail(error) from error
    runs = _run_all(_dated(cases, start, end, days), jobs, progress, split_months, cluster)
    title = _title(runs[0]) + "; changes vs base, the file as written"
    print_comparison(runs, out_console, base=BASE, title=title)
    carbons = [RunCarbon.of(r, c.scenario.site) for r, c in zip(runs, cases, strict=True)]
    print_targets_and_carbon(runs, carbons)
    folder = out or Path("out") / document.scenario.name / "compare"
    sites = [c.scenario.site for c in cases]
    files = write_comparison(runs, folder, fmt=table_format, detail_days=detail_days, sites=sites)
    print_files(files, folder)
    out_console.print(
        f"and one folder per variant in {folder}/ (schedules, kpis.json, ledger.csv, report.html)", highlight=False
    )
    if "report" in files:
        print_open_hint(files["report"])
    _report_fallbacks(runs)


def _labelled_points(cases: list) -> list:
    """Sweep points labelled by their values (``battery.capacity_kwh=500``) rather than by index; unique labels."""
    from scenarios.compare import sweep_point_label
    from scenarios.loader import BASE

    labelled = []
    seen: set[str] = {BASE}
    for i, case in enumerate(cases):
        label = sweep_point_label(case.parameters) or case.label
        if label in seen:
            label = f"{label} #{i}"
        seen.add(label)
        labelled.append(dataclasses.replace(case, label=label))
    return labelled


def _sweep_headers(runs: list) -> tuple[str, dict[str, str]]:
    """The parameters a sweep table names in its title (``battery.capacity_kwh / battery.charge_power_kw``) and
    each point's column header: its values in the same order (``1000 / 500``)."""
    from scenarios.compare import parameter_text

    points = [r for r in runs if r.parameters]
    names = list(points[0].parameters) if points else []
    headers = {r.label: " / ".join(parameter_text(r.parameters.get(n)) for n in names) for r in points}
    return " / ".join(n.removeprefix("site.") for n in names), headers


@app.command()
def sweep(
    scenario: ScenarioPath,
    name: Annotated[str | None, typer.Option("--sweep", help="Sweep to run; default: every sweep of the file.")] = None,
    start: StartOpt = None,
    end: EndOpt = None,
    days: DaysOpt = None,
    out: Annotated[Path | None, typer.Option(help="Output folder; default: out/<scenario>/sweep-<name>.")] = None,
    schedules: Annotated[bool, typer.Option(help="Also write every point's schedules and report.")] = False,
    fmt: FormatOpt = "csv",
    jobs: JobsOpt = None,
    progress: ProgressOpt = True,
    cluster: ClusterOpt = None,
) -> None:
    """Run a parameter sweep; write sweep.csv/json/html: KPIs per point, labelled by its values, with changes
    against the base (the file as written, run once too and written as the first row)."""
    from scenarios.compare import print_comparison
    from scenarios.errors import ScenarioError
    from scenarios.outputs import write_sweep

    table_format = _format(fmt)
    document = _load(scenario)
    names = [name] if name is not None else list(document.scenario.sweeps)
    if not names:
        err.print(f"{document.source.file}: no sweeps in the file (add a sweeps: section)", highlight=False)
        raise typer.Exit(code=1)
    try:
        points = {sweep_name: _labelled_points(document.sweep(sweep_name)) for sweep_name in names}
    except ScenarioError as error:
        raise _fail(error) from error
    cases = [document.base(), *[case for chosen in points.values() for case in chosen]]
    runs = _run_all(_dated(cases, start, end, days), jobs, progress, False, cluster)
    base_run, rest = runs[0], runs[1:]
    for sweep_name, chosen in points.items():
        sweep_runs, rest = rest[: len(chosen)], rest[len(chosen) :]
        shown = [base_run, *sweep_runs]
        swept, headers = _sweep_headers(shown)
        title = _title(base_run, f"sweep {sweep_name} of {swept}") + "; changes vs base, the file as written"
        print_comparison(shown, out_console, base=base_run.label, title=title, headers=headers)
        folder = out if out is not None and len(names) == 1 else None
        folder = folder or (out or Path("out") / document.scenario.name) / f"sweep-{sweep_name}"
        sites = [c.scenario.site for c in (cases[0], *chosen)]
        files = write_sweep(shown, folder, fmt=table_format, schedules=schedules, sites=sites)
        print_files(files, folder)
        if "report" in files:
            print_open_hint(files["report"])
    _report_fallbacks(runs)


@app.command()
def replay(
    scenario: ScenarioPath,
    variant: Annotated[str, typer.Option(help="Variant to replay (default: the base scenario).")] = "base",
    start: StartOpt = None,
    end: EndOpt = None,
    every: Annotated[
        str,
        typer.Option(
            "--every",
            help="Intraday re-plan interval, a duration (1h, 30min, 2h): a multiple of the file's step, at most 1 day.",
        ),
    ] = "1h",
    out: Annotated[Path | None, typer.Option(help="Output folder; default: out/<scenario>/replay.")] = None,
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
    print_files(files, folder)
    if result.fallback_solves:
        err.print(f"[yellow]{result.fallback_solves} plan(s) fell back to the rule-based schedule[/yellow]")
        raise typer.Exit(code=2)


@dataclasses.dataclass
class _FileCheck:
    """What ``validate`` found in one file: every problem (with the cases it was found in) and what it checked."""

    found: dict[Any, list[str | None]] = dataclasses.field(default_factory=dict)
    variants: int = 0
    points: int = 0
    periods: int = 0

    def note(self, issues: list, label: str, shown: str) -> None:
        """Records ``issues`` of case ``label`` (shown as ``shown``): the same problem in several cases once."""
        from scenarios.loader import BASE

        suffix = f" (in {label})"
        for issue in issues:
            if label != BASE and issue.message.endswith(suffix):
                key = dataclasses.replace(issue, message=issue.message.removesuffix(suffix))
                where: str | None = shown
            else:
                key, where = issue, None
            cases = self.found.setdefault(key, [])
            if where not in cases:
                cases.append(where)

    def lines(self) -> list[str]:
        """One line per problem: ``file:line: field: message (in variant_a, sweep s at x=1)``."""
        lines = []
        for issue, cases in self.found.items():
            if None in cases:  # the file as written (so every case), or not tied to a case
                lines.append(str(issue))
                continue
            shown = ", ".join(str(c) for c in cases[:4]) + (f" and {len(cases) - 4} more" if len(cases) > 4 else "")
            lines.append(f"{issue} (in {shown})")
        return lines


def _check_file(path: Path, deep: bool) -> tuple[list[str], str]:
    """Every problem of a scenario file (the base, each variant, each sweep point; all of them, in one pass) as
    ``file:line: field: message`` lines, and a summary line."""
    from scenarios.compare import sweep_point_label
    from scenarios.errors import ScenarioError
    from scenarios.loader import BASE, load_scenario
    from scenarios.pipeline import check_case

    try:
        document = load_scenario(path)
    except ScenarioError as error:
        return [str(i) for i in error.issues], f"{path}: {len(error.issues)} problem(s) in the file as written"
    check = _FileCheck()
    outcomes: list[tuple[str, str, Any]] = []
    for kind, name in document.case_names():
        if kind == "variant":
            try:
                outcomes.append((name, name, document.variant(name)))
            except ScenarioError as error:
                outcomes.append((name, name, error))
            check.variants += name != BASE
            continue
        sweep_spec = document.scenario.sweeps[name]
        points = sweep_spec.points()
        check.points += len(points)
        for i, (point, outcome) in enumerate(zip(points, document.sweep_points(name), strict=True)):
            outcomes.append((f"{name}[{i}]", f"sweep {name} at {sweep_point_label(point)}", outcome))
    for label, shown, outcome in outcomes:
        if isinstance(outcome, ScenarioError):
            check.note(outcome.issues, label, shown)
            continue
        if not deep:
            continue
        try:
            check.periods = max(check.periods, check_case(outcome))
        except ScenarioError as error:
            check.note(error.issues, label, shown)
    checked = f"the base, {check.variants} variant(s), {check.points} sweep point(s)"
    lines = check.lines()
    if lines:
        return lines, f"{path}: {len(lines)} problem(s); checked {checked}"
    periods = f", {check.periods} period(s) per run" if deep else ""
    return [], f"{path}: ok ({checked}{periods})"


@app.command()
def validate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files (YAML).")],
    deep: Annotated[
        bool,
        typer.Option(
            help="Also build the first day of the base, every variant and every sweep point, and read all inputs."
        ),
    ] = True,
) -> None:
    """Check scenario files: print every problem of the base, every variant and every sweep point in one pass, as
    file:line: field: message (exit 1 if any)."""
    failed = False
    for path in scenarios:
        lines, summary = _check_file(path, deep)
        if lines:
            failed = True
            for line in lines:
                err.print(f"[red]error[/red] {escape(line)}", highlight=False, soft_wrap=True)
            err.print(summary, highlight=False, soft_wrap=True)
        else:
            out_console.print(summary, highlight=False, soft_wrap=True)
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
    port: Annotated[int, typer.Option(help="TCP port to listen on (1-65535).")] = 8000,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Start the HTTP API (api.app:app) with uvicorn, with its connection limits (api.limits.UVICORN_LIMITS)."""
    try:
        import uvicorn
    except ImportError as error:
        err.print(f"[red]uvicorn is not installed ({error}); install it with: pip install uvicorn[/red]")
        raise typer.Exit(code=2) from error
    if importlib.util.find_spec("api") is None or importlib.util.find_spec("api.app") is None:
        err.print("[red]the HTTP API (api/app.py) is not part of this installation yet[/red]")
        raise typer.Exit(code=2)
    from api.limits import UVICORN_LIMITS

    uvicorn.run("api.app:app", host=host, port=port, reload=reload, **UVICORN_LIMITS)


if __name__ == "__main__":
    app()
