"""Scores of quantile forecasts for the forecast benchmarks: coverage, pinball, CRPS, overall and by hour.

Shared by ``benchmarks.forecast_load_validation`` and ``benchmarks.forecast_quantile_validation``; the figures
are drawn by ``benchmarks.forecast_report_quantiles`` from the dictionaries made here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecasting.metrics import coverage, crps_from_quantiles, interval_coverage, mae, pinball_losses
from forecasting.quantiles import quantile_label

REPORTED_LEVELS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
"""Levels whose coverage the tables show (the figures show every level of the grid)."""


def summarise_quantiles(
    frame: pd.DataFrame,
    actual: pd.Series,
    levels: Sequence[float],
    mask: pd.Series | np.ndarray | None = None,
    scale: float = 1.0,
    groups: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Scores of a quantile forecast ``frame`` (``point`` and one ``p..`` column per level) against ``actual``.

    Parameters
    ----------
    frame : DataFrame
        ``point`` and the columns of ``levels`` (``quantile_label``), on ``actual``'s index.
    actual : Series
        What happened.
    levels : sequence of float
        The levels of ``frame``; many equally spaced ones (0.01 ... 0.99) for the CRPS.
    mask : bool array, optional
        The steps scored (e.g. daylight); all by default.
    scale : float
        Losses are divided by it (PV: the capacity / 100, to give % of capacity; load: 1, kW).
    groups : dict of str to array, optional
        Extra labels per step (e.g. ``{"day_type": ...}``): coverage of P10 and P90 per group.

    Returns
    -------
    dict
        ``n``, ``levels``, ``coverage`` (per level, %), ``pinball`` (per level, scaled), ``crps``, ``point_crps``
        (= MAE of ``point``, the CRPS of the point forecast alone), ``point_coverage`` (share of actuals below the
        point, %), ``interval_80`` (P10-P90, %), ``by_hour`` (pinball of P10/P50/P90 and coverage of P10/P90
        per local hour) and ``by_group``.
    """
    keep = np.ones(len(frame), dtype=bool) if mask is None else np.array(mask, dtype=bool)
    keep &= frame.notna().all(axis=1).to_numpy() & actual.notna().to_numpy()
    cols = [quantile_label(q) for q in levels]
    f, a = frame.loc[keep], actual.loc[keep]
    tau = list(levels)
    cov = coverage(f[cols], a, tau)
    pin = pinball_losses(f[cols], a, tau)
    out: dict[str, Any] = {
        "n": int(keep.sum()),
        "levels": tau,
        "coverage_pct": [float(100.0 * c) for c in cov],
        "pinball": [float(p / scale) for p in pin],
        "crps": crps_from_quantiles(f[cols], a, tau) / scale,
        "point_crps": mae(f["point"], a) / scale,
        "point_coverage_pct": float(100.0 * coverage(f[["point"]], a, [0.5])[0]),
    }
    if {"p10", "p90"} <= set(f.columns):
        out["interval_80_pct"] = 100.0 * interval_coverage(f["p10"], f["p90"], a)
    main = [q for q in (0.1, 0.5, 0.9) if quantile_label(q) in f.columns]
    hours = np.asarray(pd.DatetimeIndex(f.index).hour)
    by_hour: dict[str, list[float | None]] = {f"pinball_{quantile_label(q)}": [] for q in main}
    by_hour |= {f"coverage_{quantile_label(q)}_pct": [] for q in main}
    for hour in range(24):
        sel = hours == hour
        for q in main:
            label = quantile_label(q)
            if sel.sum() == 0:
                by_hour[f"pinball_{label}"].append(None)
                by_hour[f"coverage_{label}_pct"].append(None)
                continue
            by_hour[f"pinball_{label}"].append(float(pinball_losses(f.loc[sel, [label]], a[sel], [q])[0] / scale))
            by_hour[f"coverage_{label}_pct"].append(float(100.0 * coverage(f.loc[sel, [label]], a[sel], [q])[0]))
    out["by_hour"] = by_hour
    if groups:
        out["by_group"] = {}
        for name, labels in groups.items():
            values = np.asarray(labels)[keep]
            out["by_group"][name] = {
                str(g): {
                    "n": int((values == g).sum()),
                    **{
                        f"coverage_{quantile_label(q)}_pct": float(
                            100.0 * coverage(f.loc[values == g, [quantile_label(q)]], a[values == g], [q])[0]
                        )
                        for q in main
                    },
                }
                for g in sorted(set(values))
            }
    return out


def reported(summary: dict[str, Any], levels: Sequence[float] = REPORTED_LEVELS) -> dict[float, float]:
    """Coverage [%] of the levels shown in the tables (from a summary on a finer grid)."""
    lookup = {round(q, 6): c for q, c in zip(summary["levels"], summary["coverage_pct"], strict=True)}
    return {q: lookup[round(q, 6)] for q in levels if round(q, 6) in lookup}


def pinball_at(summary: dict[str, Any], level: float) -> float:
    """Pinball loss of one level (scaled as the summary)."""
    lookup = {round(q, 6): p for q, p in zip(summary["levels"], summary["pinball"], strict=True)}
    return lookup[round(level, 6)]
