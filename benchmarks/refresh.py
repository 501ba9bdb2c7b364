"""Regenerates the quick benchmark results kept in the repository, each stamped with its date and commit.

    python -m benchmarks.refresh                   # core, factory, peers, rolling (--quick) and api_ems --quick
    python -m benchmarks.refresh --only core peers # some of them
    python -m benchmarks.refresh --index           # only rewrite benchmarks/results/README.md (the dated index)

Each target runs in a fresh process, exactly as its own command would (``python -m benchmarks.run --group
<group> --quick``, ``python -m benchmarks.api_ems --quick``), and writes ``benchmarks/results/<name>_quick.md``
and ``.json``. The Markdown then gets a line under its title naming the date, the commit (and whether the
working tree had uncommitted changes) and this command; the JSON a ``refreshed`` entry with the same. Finally
``benchmarks/results/README.md`` lists every result file with the date and commit it was measured at, so
a stale one shows. The long full runs (``python -m benchmarks.run --group all``, ``python -m benchmarks.api_ems``,
``python -m benchmarks.api_latency``) are never started from here: their files keep their own dates.

linopy and PyPSA must be installed (``pip install -e ".[bench]"``): the side-by-side tables are only worth
keeping with both peers in them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")
ROOT = Path(__file__).resolve().parent.parent
COMMAND = "python -m benchmarks.refresh"
STAMP_PREFIX = "> Regenerated "


@dataclass(frozen=True)
class Target:
    name: str  # the stem of the result files: <name>.md, <name>.json
    args: tuple[str, ...]  # python -m ...
    needs_peers: bool = False


TARGETS = {
    "core": Target("core_quick", ("benchmarks.run", "--group", "core", "--quick")),
    "factory": Target("factory_quick", ("benchmarks.run", "--group", "factory", "--quick")),
    "peers": Target("peers_quick", ("benchmarks.run", "--group", "peers", "--quick"), needs_peers=True),
    "rolling": Target("rolling_quick", ("benchmarks.run", "--group", "rolling", "--quick")),
    "api_ems": Target("api_ems_quick", ("benchmarks.api_ems", "--quick")),
}

#: How each full result is regenerated (not by this module: they take from minutes to about an hour).
FULL_COMMANDS = {
    "core": "python -m benchmarks.run --group core",
    "factory": "python -m benchmarks.run --group factory",
    "peers": "python -m benchmarks.run --group peers",
    "rolling": "python -m benchmarks.run --group rolling",
    "forecast": "python -m benchmarks.run --group forecast",
    "api_ems": "python -m benchmarks.api_ems",
    "api_latency": "python -m benchmarks.api_latency",
}


def _git(*args: str) -> subprocess.CompletedProcess[str] | None:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # read only: never refresh the index
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False, env=env
        )
    except OSError:
        return None


def provenance() -> dict[str, Any]:
    """The date (UTC), the commit and whether tracked files differ from it."""
    head = _git("rev-parse", "--short", "HEAD")
    diff = _git("diff", "--quiet", "HEAD", "--")
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "commit": head.stdout.strip() if head is not None and head.returncode == 0 else None,
        "uncommitted_changes": diff is not None and diff.returncode == 1,
        "command": COMMAND,
    }


def stamp_line(stamp: dict[str, Any], target: str) -> str:
    commit = stamp["commit"] or "unknown"
    if stamp["uncommitted_changes"]:
        commit += " with uncommitted changes"
    full = FULL_COMMANDS.get(target)
    tail = f"; full sizes: `{target}.md`, by `{full}`" if full else ""
    return f"{STAMP_PREFIX}{stamp['date']} at commit {commit} by `{stamp['command']}` (quick sizes{tail})."


def stamp_markdown(text: str, line: str) -> str:
    """``text`` with ``line`` under its first heading (at the top without one); an earlier stamp is replaced."""
    lines = [x for x in text.splitlines() if not x.startswith(STAMP_PREFIX)]
    title = lines[:1] if lines and lines[0].startswith("#") else []
    rest = lines[len(title) :]
    while rest and not rest[0].strip():
        rest.pop(0)
    return "\n".join([*title, *([""] if title else []), line, "", *rest]) + "\n"


def stamp_files(name: str, target: str, stamp: dict[str, Any]) -> list[Path]:
    stamped = []
    md, js = RESULTS / f"{name}.md", RESULTS / f"{name}.json"
    if md.exists():
        md.write_text(stamp_markdown(md.read_text(), stamp_line(stamp, target)))
        stamped.append(md)
    if js.exists():
        payload = json.loads(js.read_text())
        if isinstance(payload, dict):
            payload["refreshed"] = stamp
            js.write_text(json.dumps(payload, indent=2, default=str) + "\n")
            stamped.append(js)
    return stamped


_COMMIT = re.compile(r"\bcommit ([0-9a-f]{7,40})\b")
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})(?:T[\d:+-]+)?\b")


def dated(path: Path) -> tuple[str | None, str | None]:
    """(date, commit) a result file names: its refresh stamp, else its machine line; None when it names none."""
    lines = path.read_text().splitlines()
    stamp = [x for x in lines if x.startswith(STAMP_PREFIX)]
    about = stamp or [x for x in lines if x.startswith("Machine:") or _COMMIT.search(x)]
    for line in about:
        commit, date = _COMMIT.search(line), _DATE.search(line)
        if commit or date:
            return (date.group(1) if date else None), (commit.group(1) if commit else None)
    return None, None


def write_index() -> Path:
    """``benchmarks/results/README.md``: every Markdown result with its date, commit and the command behind it."""
    rows = []
    for md in sorted(RESULTS.glob("*.md")):
        if md.name == "README.md":
            continue
        stem = md.stem
        quick = stem.endswith("_quick")
        base = stem.removesuffix("_quick")
        date, commit = dated(md)
        if quick:
            command = f"`{COMMAND}`" if base in TARGETS else "-"
        else:
            command = f"`{FULL_COMMANDS[base]}`" if base in FULL_COMMANDS else "-"
        rows.append(
            f"| [`{md.name}`]({md.name}) | {'quick' if quick else 'full'} | {date or 'not dated'} | "
            f"{commit or '-'} | {command} |"
        )
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            "Each result file with the date and commit it was measured at (written by",
            f"`{COMMAND}`, or `{COMMAND} --index` alone). The quick results are regenerated together",
            f"by `{COMMAND}`; the full ones by their own commands (minutes to an hour each, see",
            "`benchmarks/README.md`). Timings are from the machine named in each file: compare ratios, not times.",
            "",
            "| file | sizes | measured | commit | regenerate with |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    path = RESULTS / "README.md"
    path.write_text(text)
    return path


def run_target(key: str, target: Target) -> tuple[bool, float]:
    print(f"== {key}: python -m {' '.join(target.args)}", flush=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", *target.args], cwd=ROOT, check=False)
    return done.returncode == 0, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(TARGETS), help="these targets only (default: all)")
    parser.add_argument("--index", action="store_true", help="only rewrite benchmarks/results/README.md")
    args = parser.parse_args(argv)
    if args.index:
        print(f"wrote {write_index().relative_to(ROOT)}")
        return 0

    keys = args.only or list(TARGETS)
    if any(TARGETS[k].needs_peers for k in keys):
        from benchmarks.peers import missing

        absent = {tool: reason for tool in ("linopy", "pypsa") if (reason := missing(tool))}
        if absent:
            for tool, reason in absent.items():
                print(f"cannot refresh the side-by-side results: {tool}: {reason}")
            return 1
    stamp = provenance()
    failed = []
    for key in keys:
        ok, seconds = run_target(key, TARGETS[key])
        if not ok:
            failed.append(key)
            print(f"{key} failed after {seconds:.0f} s: its files are not stamped", flush=True)
            continue
        for path in stamp_files(TARGETS[key].name, key, stamp):
            print(f"stamped {path.relative_to(ROOT)} ({seconds:.0f} s)", flush=True)
    print(f"wrote {write_index().relative_to(ROOT)}")
    if failed:
        print(f"refresh FAILED for {', '.join(failed)}")
        return 1
    commit = stamp["commit"] or "unknown commit"
    print(f"refreshed {', '.join(keys)} on {stamp['date']} at {commit}: review with git diff benchmarks/results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
