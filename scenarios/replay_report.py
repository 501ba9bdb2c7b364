"""A replay's outputs: the day and total tables on the console, ``replay.csv`` and ``replay.json``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scenarios.replay_costs import DayCost, ReplayResult
from scenarios.replay_options import DAY_AHEAD, INTRADAY, PERFECT_FORESIGHT, STRATEGIES

_LABELS = {DAY_AHEAD: "day-ahead", INTRADAY: "intraday", PERFECT_FORESIGHT: "perfect foresight"}
_SHORT = {DAY_AHEAD: "DA", INTRADAY: "ID", PERFECT_FORESIGHT: "PF"}


def replay_payload(result: ReplayResult) -> dict[str, Any]:
    """The replay as JSON-ready data: settings, totals per strategy, days, notes."""
    return {
        "scenario": result.scenario,
        "case": result.label,
        "currency": result.currency,
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "every_minutes": result.every_minutes,
        "forecast_inputs": result.forecast,
        "known_inputs": result.known,
        "clock_time_assets": result.committed,
        "seconds": result.seconds,
        "totals": {s: dataclasses.asdict(t) for s, t in result.totals().items()},
        "days": [dataclasses.asdict(d) for d in result.days],
        "notes": result.notes(),
    }


def write_replay(result: ReplayResult, folder: Path) -> dict[str, Path]:
    """``replay.csv`` (a row per day and strategy, then the totals) and ``replay.json`` in ``folder``."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    files = {"csv": folder / "replay.csv", "json": folder / "replay.json"}
    result.frame().to_csv(files["csv"], index=False)
    files["json"].write_text(json.dumps(replay_payload(result), indent=2), encoding="utf-8")
    return files


def print_replay(result: ReplayResult, console: Console | None = None) -> None:
    """Daily costs and peaks side by side, the totals per strategy, and the notes."""
    console = console or Console()
    legend = ", ".join(f"{_SHORT[s]} {_LABELS[s]}" for s in STRATEGIES)
    title = escape(f"{result.scenario}: cost [{result.currency}] and peak import [kW] per day")
    days = Table(title=title, box=box.SIMPLE)
    days.add_column("day")
    for prefix in ("cost", "peak"):
        for strategy in STRATEGIES:
            days.add_column(f"{prefix} {_SHORT[strategy]}", justify="right")
    by_day: dict[str, dict[str, DayCost]] = {}
    for d in result.days:
        by_day.setdefault(d.date, {})[d.strategy] = d
    for date, row in by_day.items():
        costs = [f"{row[s].total_cny:,.0f}" for s in STRATEGIES]
        days.add_row(date, *costs, *[f"{row[s].peak_import_kw:,.0f}" for s in STRATEGIES])
    console.print(days)
    console.print(legend, highlight=False)
    console.print(_totals_table(result))
    for note in result.notes():
        console.print(f"- {note}" if not note.startswith(" ") else f"  {note}", highlight=False, soft_wrap=True)


def _totals_table(result: ReplayResult) -> Table:
    every = f"re-plan every {result.every_minutes} min"
    title = f"{result.start} to {result.end}, {every} [{result.currency}]"
    table = Table(title=escape(title), box=box.SIMPLE)
    for name in ("", "total", "energy", "demand", "other", "peak kW", "solves", "solve s", "wall s"):
        table.add_column(name, justify="left" if not name else "right")
    for strategy, t in result.totals().items():
        table.add_row(
            _SHORT[strategy],
            f"{t.total_cny:,.0f}",
            f"{t.energy_cny:,.0f}",
            f"{t.demand_charge_cny:,.0f}",
            f"{t.other_cny:,.0f}",
            f"{t.peak_import_kw:,.0f}",
            str(t.solves),
            f"{t.solve_seconds:,.1f}",
            f"{t.wall_seconds:,.1f}",
        )
    return table
