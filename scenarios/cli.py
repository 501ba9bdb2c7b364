"""Command line: ``dispatch demo`` runs the embedded full-factory day."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from optimizer import SolveOptions, solve
from scenarios.factory import DEFAULT_DATE, factory_problem
from scenarios.report import print_result

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Day-ahead dispatch for factory microgrids.")


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


if __name__ == "__main__":
    app()
