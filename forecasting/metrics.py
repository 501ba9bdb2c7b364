"""Forecast error metrics over aligned series (NaN pairs are dropped).

``mase`` here is the *relative* MAE against a reference forecast on the same
points (MAE of the forecast / MAE of the reference, e.g. seasonal naive):
below 1 the forecast beats the reference.
"""

from __future__ import annotations

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
