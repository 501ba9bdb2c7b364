"""Putting weather onto the horizon: the time-semantics rule in code.

The horizon is a tz-aware index of interval *starts*; every forecast value is
the average over its interval. Weather values are either averages over
``[label, label + step)`` or instants at the label (:class:`~forecasting.weather.Weather`).

* **Averages** are cut into cells on a common grid (the greatest common divisor
  of both steps and their offset), and each horizon interval gets the mean of
  its cells, so energy is conserved whatever the two steps are. Within one
  source interval the cells either all carry the interval's value (hold), or,
  when a *shape* is given (irradiance: the clear-sky value of the same
  component at the cell midpoints), the interval's energy is shared in
  proportion to the shape. Either way each source interval's energy is kept
  exactly; the shape only keeps the sunrise hour from lighting the night.
* **Instants** are interpolated linearly in time at the midpoint of each
  horizon interval (the average of a linear interpolant over an interval
  equals its value at the midpoint). Up to one source step beyond the first or
  last sample the nearest value is held; further is an error.

Time zones: both sides are compared in absolute time; the result carries the
horizon's labels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from forecasting.errors import WeatherDataError
from forecasting.timeaxis import index_step
from forecasting.weather import Weather

Shape = Callable[[pd.DatetimeIndex], np.ndarray]


def _ns(delta: pd.Timedelta) -> int:
    return int(delta.value)  # Timedelta.value is in nanoseconds whatever the resolution


def _epoch_s(index: pd.DatetimeIndex) -> np.ndarray:
    """Seconds since the epoch (float), independent of the index's resolution (s, ms, us, ns)."""
    return index.as_unit("ns").asi8.astype(float) / 1e9


def average_to_index(
    values: pd.Series, step: pd.Timedelta, index: pd.DatetimeIndex, shape: Shape | None = None
) -> pd.Series:
    """Interval averages labelled at starts -> averages over the intervals of ``index``.

    Parameters
    ----------
    values : Series
        Averages over ``[label, label + step)``, equally spaced, tz-aware.
    step : Timedelta
        Interval length of ``values``.
    index : DatetimeIndex
        Target interval starts (equally spaced, tz-aware).
    shape : callable, optional
        ``shape(times) -> weights >= 0`` at cell midpoints; shares each source
        interval's energy within it (hold where the weights sum to zero).

    Returns
    -------
    Series
        Averages on ``index`` (same unit as ``values``).

    Raises
    ------
    WeatherDataError
        If ``values`` do not cover every target interval (names the column and time).
    """
    target_step = index_step(index)
    name = values.name or "values"
    first, t0 = values.index[0], index[0]
    data_end, target_end = values.index[-1] + step, index[-1] + target_step
    if t0 < first:
        raise WeatherDataError(f"column {name} starts at {first}, after the horizon's first interval {t0}")
    if target_end > data_end:
        missing = index[index + target_step > data_end][0]
        raise WeatherDataError(
            f"column {name} ends at {data_end.tz_convert(index.tz)}; the horizon needs it until "
            f"{target_end} (first uncovered interval starts {missing})"
        )
    src_ns, tgt_ns = _ns(step), _ns(target_step)
    offset_ns = _ns(t0 - first) % src_ns
    cell_ns = math.gcd(math.gcd(src_ns, tgt_ns), offset_ns) if offset_ns else math.gcd(src_ns, tgt_ns)
    i0 = _ns(t0 - first) // src_ns
    i1 = -(-_ns(target_end - first) // src_ns)  # ceil
    per_src = src_ns // cell_ns
    source = values.to_numpy(dtype=float)[i0:i1]
    cells = np.repeat(source[:, None], per_src, axis=1)
    if shape is not None:
        starts = (
            first + pd.Timedelta(i0 * src_ns, unit="ns") + pd.to_timedelta(np.arange(cells.size) * cell_ns, unit="ns")
        )
        weights = np.clip(np.nan_to_num(np.asarray(shape(starts + pd.Timedelta(cell_ns // 2, unit="ns")))), 0, None)
        weights = weights.reshape(cells.shape)
        mean_w = weights.mean(axis=1, keepdims=True)
        factor = np.divide(weights, mean_w, out=np.ones_like(weights), where=mean_w > 0)
        cells = cells * factor
    k0 = (_ns(t0 - first) - i0 * src_ns) // cell_ns
    per_tgt = tgt_ns // cell_ns
    flat = cells.ravel()[k0 : k0 + len(index) * per_tgt]
    return pd.Series(flat.reshape(len(index), per_tgt).mean(axis=1), index=index, name=values.name)


def instant_to_index(values: pd.Series, step: pd.Timedelta, index: pd.DatetimeIndex) -> pd.Series:
    """Instant samples -> interval averages on ``index`` by linear interpolation at interval midpoints.

    Parameters
    ----------
    values : Series
        Samples at their labels, equally spaced by ``step``, tz-aware.
    step : Timedelta
        Spacing of the samples; the nearest sample is held up to one step beyond the data.
    index : DatetimeIndex
        Target interval starts.

    Returns
    -------
    Series
        Values on ``index``.
    """
    name = values.name or "values"
    mid = index + index_step(index) / 2
    x, xp = _epoch_s(mid), _epoch_s(pd.DatetimeIndex(values.index))
    early, late = mid < values.index[0] - step, mid > values.index[-1] + step
    if early.any() or late.any():
        bad = index[early | late][0]
        raise WeatherDataError(
            f"column {name} has samples from {values.index[0]} to {values.index[-1]}; "
            f"the horizon interval starting {bad} is more than one step ({step}) outside"
        )
    return pd.Series(np.interp(x, xp, values.to_numpy(dtype=float)), index=index, name=values.name)


def weather_on_index(
    weather: Weather, index: pd.DatetimeIndex, shapes: Mapping[str, Shape] | None = None
) -> pd.DataFrame:
    """Every column of ``weather`` as averages over the intervals of ``index``.

    Parameters
    ----------
    weather : Weather
        Validated weather (any step, any zone).
    index : DatetimeIndex
        Horizon interval starts.
    shapes : mapping of column -> shape, optional
        Shapes for averaged columns (see :func:`average_to_index`).

    Returns
    -------
    DataFrame
        Same columns, indexed by ``index``.
    """
    shapes = shapes or {}
    columns = {}
    for column in weather.data.columns:
        series = weather.data[column]
        if weather.sampling[column] == "instant":
            columns[column] = instant_to_index(series, weather.step, index)
        else:
            columns[column] = average_to_index(series, weather.step, index, shapes.get(column))
    return pd.DataFrame(columns, index=index)


def shift_averages(weather: Weather, offset: pd.Timedelta, cyclic: bool = False) -> Weather:
    """Move the averaged columns of ``weather`` by ``offset``; instants stay where they are.

    Used when a source's averages are known to cover ``[label + offset,
    label + offset + step)`` rather than ``[label, label + step)`` (e.g. the
    CSWD typical year, see ``forecasting.defaults``). The result is on a grid
    of ``gcd(step, offset)``: averages are held over the finer cells (energy
    per source interval is kept), instants are interpolated onto it.

    Parameters
    ----------
    weather : Weather
    offset : Timedelta
        Positive: the data describe later times than their labels say.
    cyclic : bool
        The data are one period of a cycle (a typical year): what is moved out
        at one end comes back at the other, and the span is kept. Otherwise
        the partial intervals at the ends are dropped.

    Returns
    -------
    Weather
    """
    if offset == pd.Timedelta(0):
        return weather
    cell = pd.Timedelta(math.gcd(_ns(weather.step), abs(_ns(offset))), unit="ns")
    data = weather.data
    if cyclic:
        start, end = data.index[0], data.index[-1] + weather.step
        period = end - start
        head, tail = data.iloc[:1].copy(), data.iloc[-1:].copy()
        head.index, tail.index = head.index + period, tail.index - period
        data = pd.concat([tail, data, head])
    else:
        start = data.index[0] + max(offset, pd.Timedelta(0))
        end = data.index[-1] + weather.step + min(offset, pd.Timedelta(0))
    index = pd.date_range(start, end, freq=cell, inclusive="left")
    columns = {}
    for column in data.columns:
        series = data[column]
        if weather.sampling[column] == "average":
            moved = series.copy()
            moved.index = moved.index + offset
            columns[column] = average_to_index(moved, weather.step, index)
        else:
            columns[column] = pd.Series(
                np.interp(_epoch_s(index), _epoch_s(pd.DatetimeIndex(series.index)), series.to_numpy(dtype=float)),
                index=index,
            )
    return Weather(
        data=pd.DataFrame(columns, index=index),
        step=cell,
        sampling=weather.sampling,
        source=weather.source,
        meta=weather.meta,
    )
