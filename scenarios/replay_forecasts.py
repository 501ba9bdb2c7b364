"""The replay's data: the actual inputs of each day, and the day-ahead and corrected intraday forecasts of them.

Only inputs that feed the electricity bus are forecast (:data:`FORECAST_FIELDS`); every other input is taken as
known. The forecast rules (day-ahead load model, PV persistence, the intraday correction) are defined in the
docstring of :mod:`scenarios.replay`.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from optimizer import Horizon
from scenarios.assets import input_refs
from scenarios.inputs import Inputs
from scenarios.loader import Case
from scenarios.replay_options import ReplayOptions
from scenarios.site import Site

FORECAST_FIELDS: dict[str, tuple[str, str]] = {"load": ("power_kw", "load"), "pv": ("available_kw", "pv")}
"""Asset kind -> (field whose input is forecast, forecast method): the inputs that feed the electricity bus."""


def forecast_inputs(site: Site) -> dict[str, str]:
    """Input name -> forecast method (``"load"`` or ``"pv"``) of the inputs feeding the electricity bus."""
    methods: dict[str, str] = {}
    for asset in site.assets:
        if asset.kind not in FORECAST_FIELDS:
            continue
        field_name, method = FORECAST_FIELDS[asset.kind]
        ref = input_refs(asset).get(field_name)
        if ref is not None:
            if methods.get(ref, method) != method:
                raise ValueError(f"input {ref!r} feeds both a load and a PV asset: it cannot be forecast as both")
            methods[ref] = method
    return methods


class CachedInputs(Inputs):
    """A case's inputs, each resolved once per time axis (the replay reads every day several times)."""

    def __init__(self, case: Case) -> None:
        super().__init__(case)
        self.cache: dict[tuple[str, int, int, int], np.ndarray] = {}

    def values(self, name: str, index: pd.DatetimeIndex, _seen: tuple[str, ...] = ()) -> np.ndarray:
        key = (name, int(index[0].value), int(index[-1].value), len(index))
        if key not in self.cache:
            self.cache[key] = super().values(name, index, _seen)
        return self.cache[key]


class ForecastInputs(Inputs):
    """The actual inputs with some replaced by forecasts (series on the day's axis, read on any part of it)."""

    def __init__(self, actual: CachedInputs, forecasts: Mapping[str, pd.Series]) -> None:
        super().__init__(actual.case)
        self.actual = actual
        self.forecasts = dict(forecasts)

    def values(self, name: str, index: pd.DatetimeIndex, _seen: tuple[str, ...] = ()) -> np.ndarray:
        if name not in self.forecasts:
            return self.actual.values(name, index, _seen)
        values = self.forecasts[name].reindex(index).to_numpy(dtype=float)
        if np.isnan(values).any():
            raise ValueError(f"the forecast of input {name!r} does not cover {index[0]} to {index[-1]}")
        return values


class ActualData:
    """Actual input values per local day [the input's unit], as the pipeline resolves them."""

    def __init__(self, inputs: CachedInputs, tz: str, step_minutes: int) -> None:
        self.inputs = inputs
        self.tz = tz
        self.step_minutes = step_minutes

    def day_index(self, date: dt.date) -> pd.DatetimeIndex:
        """Interval starts of the local day ``date``."""
        return Horizon.day(date, self.tz, self.step_minutes).index

    def day(self, name: str, date: dt.date) -> pd.Series:
        """Input ``name`` on the local day ``date``."""
        index = self.day_index(date)
        return pd.Series(self.inputs.values(name, index), index=index, name=name)

    def history(self, name: str, date: dt.date, days: int) -> pd.Series:
        """Input ``name`` over the ``days`` local days before ``date``."""
        return pd.concat([self.day(name, date - dt.timedelta(days=k)) for k in range(days, 0, -1)])


def by_clock_time(values: pd.Series, index: pd.DatetimeIndex) -> pd.Series:
    """``values`` (one day) moved onto ``index`` (another day) by local clock time (nearest; DST-safe)."""
    source = pd.Series(values.to_numpy(dtype=float), index=_clock(values.index))
    source = source[~source.index.duplicated()]
    return pd.Series(source.reindex(_clock(index), method="nearest").to_numpy(), index=index)


def _clock(index: pd.DatetimeIndex) -> pd.TimedeltaIndex:
    wall = index.tz_localize(None)
    return pd.TimedeltaIndex(wall - wall.normalize())


def load_forecast(site: Site, actual: ActualData, name: str, date: dt.date, history_days: int) -> pd.Series:
    """Day-ahead forecast of a load input on ``date`` [kW]: the site's load model on the actual history."""
    history = actual.history(name, date, history_days)
    index = actual.day_index(date)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fallbacks of the profile model (short history) are expected here
        forecast = site.load_model.forecast(history, index)
    return pd.Series(np.maximum(np.asarray(forecast, dtype=float), 0.0), index=index, name=name)


def pv_forecast(actual: ActualData, name: str, date: dt.date) -> pd.Series:
    """Day-ahead PV forecast on ``date`` [kW]: persistence, the previous day's actual profile by clock time."""
    previous = actual.day(name, date - dt.timedelta(days=1))
    return by_clock_time(previous, actual.day_index(date)).rename(name)


def day_ahead_forecasts(
    site: Site, actual: ActualData, methods: Mapping[str, str], date: dt.date, history_days: int
) -> dict[str, pd.Series]:
    """The day-ahead forecast of every forecast input on ``date``, by input name."""
    return {
        name: load_forecast(site, actual, name, date, history_days)
        if method == "load"
        else pv_forecast(actual, name, date)
        for name, method in methods.items()
    }


def corrected_forecast(
    day_ahead: pd.Series,
    actual: pd.Series,
    at: pd.Timestamp,
    options: ReplayOptions,
    upper: float | None = None,
) -> pd.Series:
    """The day-ahead forecast corrected at re-plan time ``at`` by the recent error, fading with hours ahead.

    ``upper``: a cap (PV: the largest value seen); a PV forecast (``upper`` given) stays 0 where it is 0.
    """
    since = at - pd.Timedelta(minutes=options.correction_window_minutes)
    window = (day_ahead.index >= since) & (day_ahead.index < at)
    error_kw = float((actual[window] - day_ahead[window]).mean()) if window.any() else 0.0
    hours_ahead = np.asarray((day_ahead.index - at).total_seconds(), dtype=float) / 3600.0
    fade = np.where(hours_ahead >= 0.0, np.exp(-np.maximum(hours_ahead, 0.0) / options.correction_decay_h), 0.0)
    base = day_ahead.to_numpy(dtype=float)
    corrected = np.maximum(base + error_kw * fade, 0.0)
    if upper is not None:
        corrected = np.where(base > 0.0, np.minimum(corrected, upper), 0.0)
    return pd.Series(corrected, index=day_ahead.index, name=day_ahead.name)


def pv_seen(actual: ActualData, methods: Mapping[str, str], date: dt.date, days: int) -> dict[str, float]:
    """The largest actual value of each PV input over the history window before ``date`` [kW]."""
    return {n: float(actual.history(n, date, days).max()) for n, m in methods.items() if m == "pv"}
