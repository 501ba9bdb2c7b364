"""Forecast error metrics over aligned series (NaN pairs are dropped).

``mase`` here is the *relative* MAE against a reference forecast on the same
points (MAE of the forecast / MAE of the reference, e.g. seasonal naive):
below 1 the forecast beats the reference.

Quantile forecasts (P10/P50/P90 ...) are scored by the coverage of each level,
the pinball loss and the CRPS from quantiles (see the section below).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def _pairs(forecast: pd.Series, actual: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if not forecast.index.equals(actual.index):
        raise ValueError("forecast and actual must share the same index")
    f, a = forecast.to_numpy(dtype=float), actual.to_numpy(dtype=float)
    keep = ~np.isnan(f) & ~np.isnan(a)
    if not keep.any():
        raise ValueError("no point where both forecast and actual are known")
    return f[keep], a[keep]


def mae(forecast: pd.Series, actual: pd.Series) -> float:
    """Mean absolute error [unit of the series]."""
    f, a = _pairs(forecast, actual)
    return float(np.mean(np.abs(f - a)))


def rmse(forecast: pd.Series, actual: pd.Series) -> float:
    """Root-mean-square error [unit of the series]."""
    f, a = _pairs(forecast, actual)
    return float(np.sqrt(np.mean((f - a) ** 2)))


def bias(forecast: pd.Series, actual: pd.Series) -> float:
    """Mean error, forecast minus actual [unit of the series]; positive = over-forecast."""
    f, a = _pairs(forecast, actual)
    return float(np.mean(f - a))


def relative_bias_pct(forecast: pd.Series, actual: pd.Series) -> float:
    """Energy bias: (sum forecast - sum actual) / sum actual [%]."""
    f, a = _pairs(forecast, actual)
    return float(100.0 * (f.sum() - a.sum()) / a.sum())


def nmae_pct(forecast: pd.Series, actual: pd.Series, capacity: float) -> float:
    """MAE normalised by a capacity (e.g. the plant's AC rating) [%]."""
    if capacity <= 0:
        raise ValueError(f"capacity must be > 0, got {capacity}")
    return 100.0 * mae(forecast, actual) / capacity


def mape_pct(forecast: pd.Series, actual: pd.Series, min_actual: float = 0.0) -> float:
    """Mean absolute percentage error over points with ``|actual| > min_actual`` [%]."""
    f, a = _pairs(forecast, actual)
    keep = np.abs(a) > min_actual
    if not keep.any():
        raise ValueError(f"no actual value above {min_actual}")
    return float(100.0 * np.mean(np.abs(f[keep] - a[keep]) / np.abs(a[keep])))


def wape_pct(forecast: pd.Series, actual: pd.Series) -> float:
    """Weighted absolute percentage error: sum |error| / sum |actual| [%]."""
    f, a = _pairs(forecast, actual)
    return float(100.0 * np.abs(f - a).sum() / np.abs(a).sum())


def mase(forecast: pd.Series, actual: pd.Series, reference: pd.Series) -> float:
    """MAE of ``forecast`` over MAE of ``reference`` on the points where all three are known [-]."""
    if not (forecast.index.equals(actual.index) and reference.index.equals(actual.index)):
        raise ValueError("forecast, actual and reference must share the same index")
    keep = forecast.notna() & actual.notna() & reference.notna()
    reference_mae = mae(reference[keep], actual[keep])
    if reference_mae == 0.0:
        raise ValueError("the reference forecast is perfect (MAE 0): MASE is undefined")
    return mae(forecast[keep], actual[keep]) / reference_mae


# --- probabilistic forecasts (quantiles) -----------------------------------------------------------
#
# A quantile forecast gives, per point, the values below which the actual should fall with probabilities
# ``levels`` (0.1, 0.5, 0.9, ...). Three scores, all out of sample in the benchmarks:
#
# * coverage of a level: the observed share of actuals below its quantile, ties counted half (calibrated: equal to
#   the level);
# * pinball loss of a level tau: mean of tau * (y - q) where y >= q, (1 - tau) * (q - y) where y < q
#   [unit of the series]; at tau = 0.5 it is half the absolute error;
# * CRPS from quantiles: 2 * the integral over tau of the pinball loss (Gneiting & Raftery 2007, Laio & Tamea
#   2007), approximated by letting each level stand for the levels nearest to it: its weight is the width of
#   its cell [midpoint to the level below (or 0), midpoint to the level above (or 1)]. One level at 0.5 gives
#   the MAE (the CRPS of a point forecast); 99 levels 0.01 ... 0.99 are within a fraction of a percent of the
#   exact CRPS [unit of the series].


def _quantile_arrays(
    forecasts: pd.DataFrame | np.ndarray, actual: pd.Series | np.ndarray, levels: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(forecasts n x K, actual n, levels K) as floats, rows with any NaN dropped, levels checked."""
    aligned = isinstance(forecasts, pd.DataFrame) and isinstance(actual, pd.Series)
    if aligned and not forecasts.index.equals(actual.index):  # type: ignore[union-attr]
        raise ValueError("forecasts and actual must share the same index")
    f = np.asarray(forecasts, dtype=float)
    a = np.asarray(actual, dtype=float)
    tau = np.asarray(levels, dtype=float)
    if f.ndim == 1:
        f = f[:, None]
    if f.shape != (len(a), len(tau)):
        raise ValueError(f"forecasts have shape {f.shape}; expected ({len(a)}, {len(tau)}) for {len(tau)} level(s)")
    if len(tau) == 0 or not ((tau > 0.0) & (tau < 1.0)).all() or (np.diff(tau) <= 0.0).any():
        raise ValueError(f"levels must be increasing and inside (0, 1), got {list(levels)}")
    keep = ~np.isnan(f).any(axis=1) & ~np.isnan(a)
    if not keep.any():
        raise ValueError("no point where both the quantiles and the actual are known")
    return f[keep], a[keep], tau


def pinball_losses(
    forecasts: pd.DataFrame | np.ndarray, actual: pd.Series | np.ndarray, levels: Sequence[float]
) -> np.ndarray:
    """Mean pinball loss of each level [unit of the series], in the order of ``levels``."""
    f, a, tau = _quantile_arrays(forecasts, actual, levels)
    diff = a[:, None] - f
    return np.mean(np.where(diff >= 0.0, tau * diff, (tau - 1.0) * diff), axis=0)


def pinball_loss(forecast: pd.Series | np.ndarray, actual: pd.Series | np.ndarray, level: float) -> float:
    """Mean pinball (quantile) loss of one quantile forecast at ``level`` [unit of the series]."""
    frame = forecast.to_frame() if isinstance(forecast, pd.Series) else np.asarray(forecast, dtype=float)
    return float(pinball_losses(frame, actual, [level])[0])


def coverage(
    forecasts: pd.DataFrame | np.ndarray, actual: pd.Series | np.ndarray, levels: Sequence[float]
) -> np.ndarray:
    """Observed share of actuals below each level's quantile [0-1]; calibrated: equal to ``levels``.

    An actual equal to the quantile counts one half: PV at dawn is 0 kW and so are its low quantiles, and
    counting such ties as all below (or all above) would skew the lower levels by the share of those steps.
    """
    f, a, _ = _quantile_arrays(forecasts, actual, levels)
    return np.mean((a[:, None] < f) + 0.5 * (a[:, None] == f), axis=0)


def level_weights(levels: Sequence[float]) -> np.ndarray:
    """Width of the cell of [0, 1] each level stands for (midpoints between neighbours; they add up to 1)."""
    tau = np.asarray(levels, dtype=float)
    edges = np.concatenate([[0.0], (tau[1:] + tau[:-1]) / 2.0, [1.0]])
    return np.diff(edges)


def crps_from_quantiles(
    forecasts: pd.DataFrame | np.ndarray, actual: pd.Series | np.ndarray, levels: Sequence[float]
) -> float:
    """Mean CRPS approximated from quantiles: 2 x the level-weighted pinball losses [unit of the series].

    Use many equally spaced levels (e.g. 0.01 ... 0.99) for a close approximation; a single level 0.5 gives the
    MAE of that forecast, which is the CRPS of a point forecast.
    """
    losses = pinball_losses(forecasts, actual, levels)
    return float(2.0 * np.sum(level_weights(levels) * losses))


def interval_coverage(
    lower: pd.Series | np.ndarray, upper: pd.Series | np.ndarray, actual: pd.Series | np.ndarray
) -> float:
    """Observed share of actuals inside ``[lower, upper]`` [0-1] (P10-P90: nominal 0.8)."""
    lo, hi, a = (np.asarray(x, dtype=float) for x in (lower, upper, actual))
    keep = ~np.isnan(lo) & ~np.isnan(hi) & ~np.isnan(a)
    if not keep.any():
        raise ValueError("no point where the interval and the actual are known")
    return float(np.mean((a[keep] >= lo[keep]) & (a[keep] <= hi[keep])))
