"""The shipped example scenarios stand on their own: every path they cite, in a value or a comment, is inside the
repository and exists, so a copy of the repository (or of the installed package) is all a reader needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "scenarios" / "examples").glob("*.yaml"))
RELATIVE = re.compile(r"(?:\.\./)+[\w./-]*\w")  # ../schema/scenario.schema.json, ../../x.md, ...


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_cites_no_path_outside_the_repository(path: Path) -> None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for cited in RELATIVE.findall(line):
            target = (path.parent / cited).resolve()
            where = f"{path.relative_to(ROOT)}:{number} cites {cited}"
            assert target.is_relative_to(ROOT), f"{where}, outside the repository"
            assert target.exists(), f"{where}, which does not exist"


def test_the_examples_are_found() -> None:
    assert len(EXAMPLES) >= 5
