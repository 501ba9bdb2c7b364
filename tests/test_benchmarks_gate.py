"""The benchmark gate's comparison logic (pure functions: nothing is timed or solved here)."""

from __future__ import annotations

import pytest

from benchmarks.gate import Figures, best_of, compare, failures, figures_from_rows, reference_from

REFERENCE = {
    "objectives": {"96": 6610.737180921051, "672": 42936.05081644736},
    "ratios": {
        "overhead_warm/96": 8.0,
        "ours_over_linopy_warm/96": 0.15,
        "ours_over_pypsa_warm/96": 0.025,
    },
}


def good_run() -> Figures:
    return Figures(
        objectives={"96": 6610.737180921051 * (1 + 1e-9), "672": 42936.05081644736},
        agreements={"linopy/96": 1e-10, "pypsa/96": 0.0},
        ratios={"overhead_warm/96": 9.5, "ours_over_linopy_warm/96": 0.2, "ours_over_pypsa_warm/96": 0.03},
        lp_ok={"96": True, "672": True},
    )


def failed_names(figures: Figures, reference: dict = REFERENCE) -> list[str]:
    return [c.name for c in failures(compare(figures, reference))]


def test_a_good_run_passes() -> None:
    checks = compare(good_run(), REFERENCE)
    assert failures(checks) == []
    assert {c.name for c in checks} >= {
        "objective/96",
        "objective/672",
        "agreement/linopy/96",
        "ratio/overhead_warm/96",
    }


def test_a_drifted_objective_fails() -> None:
    figures = good_run()
    figures.objectives["672"] = 42936.05081644736 * (1 + 1e-5)
    assert failed_names(figures) == ["objective/672"]


def test_a_missing_objective_fails() -> None:
    figures = good_run()
    del figures.objectives["96"]
    assert failed_names(figures) == ["objective/96"]


def test_a_peer_that_disagrees_fails() -> None:
    figures = good_run()
    figures.agreements["pypsa/96"] = 3e-6
    assert failed_names(figures) == ["agreement/pypsa/96"]


def test_a_model_that_is_no_longer_an_lp_fails() -> None:
    figures = good_run()
    figures.lp_ok["96"] = False
    assert failed_names(figures) == ["lp/96"]


@pytest.mark.parametrize("name", ["overhead_warm/96", "ours_over_linopy_warm/96", "ours_over_pypsa_warm/96"])
def test_a_ratio_three_times_worse_fails(name: str) -> None:
    figures = good_run()
    figures.ratios[name] = REFERENCE["ratios"][name] * 3.01
    assert failed_names(figures) == [f"ratio/{name}"]


def test_a_ratio_just_under_the_factor_passes() -> None:
    figures = good_run()
    figures.ratios["ours_over_linopy_warm/96"] = REFERENCE["ratios"]["ours_over_linopy_warm/96"] * 2.9
    assert failed_names(figures) == []


def test_missing_peers_are_skipped_not_failed() -> None:
    figures = good_run()
    figures.agreements = {}
    figures.ratios = {"overhead_warm/96": 8.0}
    figures.skipped = {"linopy": "linopy not installed", "pypsa": "pypsa not installed"}
    checks = compare(figures, REFERENCE)
    assert failures(checks) == []
    skipped = {c.name for c in checks if c.status == "skipped"}
    assert skipped >= {"peer/linopy", "ratio/ours_over_linopy_warm/96", "ratio/ours_over_pypsa_warm/96"}


def test_a_ratio_that_was_not_measured_without_reason_fails() -> None:
    figures = good_run()
    figures.ratios["overhead_warm/96"] = None  # e.g. no HiGHS time reported
    assert failed_names(figures) == ["ratio/overhead_warm/96"]


def test_figures_from_runner_rows_and_the_record_round_trip() -> None:
    rows = [
        {
            "case_key": "96",
            "tool": "ours",
            "status": "optimal",
            "binaries": 0,
            "objective_cny": 6610.737180921051,
            "overhead_ratio": 12.0,
            "warm_overhead_ratio": 8.0,
        },
        {
            "case_key": "96",
            "tool": "linopy",
            "rel_diff_vs_ours": 0.0,
            "ours_over_tool_cold": 0.1,
            "ours_over_tool_warm": 0.15,
        },
    ]
    figures = figures_from_rows(rows, {"pypsa": "pypsa not installed"})
    assert figures.objectives == {"96": 6610.737180921051}
    assert figures.lp_ok == {"96": True}
    assert figures.ratios["ours_over_linopy_warm/96"] == 0.15
    record = reference_from(figures, machine={"cores": 2})
    assert record["objectives"] == {"96": 6610.737180921051}
    assert failures(compare(figures, record)) == []


def test_a_second_run_counts_its_better_ratios_only() -> None:
    slow = good_run()
    slow.ratios["ours_over_linopy_warm/96"] = 0.6  # 4x the record: a busy moment
    again = Figures(ratios={"ours_over_linopy_warm/96": 0.18, "overhead_warm/96": 20.0}, objectives={"96": 1.0})
    merged = best_of(slow, again)
    assert merged.ratios["ours_over_linopy_warm/96"] == 0.18
    assert merged.ratios["overhead_warm/96"] == 9.5  # the first run's, lower
    assert merged.objectives == slow.objectives  # correctness figures are never retried
    assert failed_names(merged) == []
