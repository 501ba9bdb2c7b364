"""The horizon as forecasting sees it: a tz-aware index of interval starts with a fixed step.

``forecasting`` never imports ``optimizer``; anything with an ``index`` attribute
holding such an index (``optimizer.Horizon`` does) or the index itself is accepted.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import pandas as pd


@runtime_checkable
class HasIndex(Protocol):
    """Anything with a tz-aware ``DatetimeIndex`` of interval starts, e.g. ``optimizer.Horizon``."""

    @property
    def index(self) -> pd.DatetimeIndex: ...


HorizonLike = pd.DatetimeIndex | HasIndex


def index_step(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The fixed step of ``index``.

    Parameters
    ----------
    index : DatetimeIndex
        Regular labels; a one-label index needs a ``freq``.

    Returns
    -------
    Timedelta
        Step between labels (absolute time).

    Raises
    ------
    ValueError
        If the labels are not equally spaced (the message names where) or the
        step of a one-label index is unknown.
    """
    if len(index) < 2:
        if index.freq is None:
            raise ValueError("cannot tell the step of a one-label index; build it with pd.date_range(..., freq=...)")
        return pd.Timedelta(index[0] + index.freq - index[0])
    diffs = index[1:] - index[:-1]
    step = diffs[0]
    bad = diffs != step
    if step <= pd.Timedelta(0) or bad.any():
        i = int(bad.argmax()) if bad.any() else 0
        raise ValueError(f"labels are not equally spaced: {index[i]} -> {index[i + 1]} after a step of {step}")
    return pd.Timedelta(step)


def horizon_index(horizon: HorizonLike) -> pd.DatetimeIndex:
    """The validated index of interval starts of ``horizon``.

    Parameters
    ----------
    horizon : DatetimeIndex or object with ``.index``
        Interval starts, tz-aware, equally spaced.

    Returns
    -------
    DatetimeIndex
        The same labels.
    """
    index = horizon if isinstance(horizon, pd.DatetimeIndex) else getattr(horizon, "index", None)
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"horizon must be a DatetimeIndex or have a DatetimeIndex .index, got {type(horizon).__name__}")
    if len(index) == 0:
        raise ValueError("the horizon is empty")
    if index.tz is None:
        raise ValueError(f"the horizon must be tz-aware (e.g. Asia/Shanghai); its first label {index[0]} is naive")
    index_step(index)
    return index


def interval_midpoints(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Midpoints of the intervals that start at ``index`` (where solar positions are evaluated)."""
    return index + index_step(index) / 2
