"""Probabilistic forecasts: quantiles (P10/P50/P90 ...) from the empirical error distribution of a point forecast.

A point forecast says nothing about how wrong it may be, yet the error of a PV or load forecast depends on
what drives it: PV errs little under a clear sky and much under broken cloud, at noon more than at dawn; a
factory load errs more on working hours than at night. The quantiles here are the point forecast plus the
empirical quantiles of its past errors **under the same conditions**:

* :class:`ConditionalQuantiles`: quantiles of a residual per group of conditions (e.g. day type and hour), with
  coarser groups as fallbacks where a group has too few past errors. Quantiles of one sample are monotone in
  the level, so the result is monotone (and sorted once more after any clipping).
* :class:`PvErrorModel`: PV errors in clear-sky-index space, ``(measured - forecast) / clear sky``, conditioned on
  the forecast's own clear-sky index (how cloudy the forecast says it is), the local hour and the season; a
  clear-sky-only forecast has one index (1) and gets the climatological spread by hour and season. Quantiles
  are clipped to ``[0, capacity]``.
* :class:`Recalibration`: the levels remapped from the PITs of recent forecasts, so that a shift the error
  model's year did not have (2020's curtailment on the State Grid plant) does not leave P10 covering 20 %;
  :func:`fit_pv_quantiles` fits both (:class:`PvQuantileModel`), :func:`forecast_pv_quantiles` forecasts with
  them.
* load: :func:`forecasting.load.forecast_load` with ``quantiles=`` back-casts the recent days of the history
  with the same model and the same lead (each day from the days before it only) and conditions the errors
  on day type and hour (:func:`forecasting.load.load_quantiles`).

Errors are always from forecasts made on the past only (back-casts or stored forecasts); the benchmark
(``python -m benchmarks.forecast_quantile_validation``) fits on the past and scores the future.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecasting.timeaxis import HorizonLike

if TYPE_CHECKING:  # pv.py imports pvlib; the load model needs none of it
    from forecasting.pv import PvModelOptions
    from forecasting.specs import PvSiteSpec
    from forecasting.weather import Weather

DEFAULT_LEVELS: tuple[float, ...] = (0.1, 0.5, 0.9)
"""P10, P50, P90."""

DENSE_LEVELS: tuple[float, ...] = tuple(round(k / 100, 2) for k in range(1, 100))
"""0.01 ... 0.99: enough levels for the CRPS from quantiles (within a fraction of a percent)."""


def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """``levels`` sorted, without duplicates, each inside (0, 1); a ValueError names the bad one."""
    out = tuple(sorted({float(q) for q in levels}))
    if not out:
        raise ValueError("no quantile level given")
    for q in out:
        if not 0.0 < q < 1.0 or not np.isfinite(q):
            raise ValueError(f"quantile level {q} is not inside (0, 1); use e.g. 0.1, 0.5, 0.9")
    return out


def quantile_label(level: float) -> str:
    """Column name of a level: ``p10`` for 0.1, ``p2.5`` for 0.025, ``p50`` for 0.5."""
    percent = round(100.0 * level, 6)
    return f"p{percent:g}"


@dataclass(frozen=True)
class ConditionalQuantiles:
    """Empirical quantiles of a residual per group of conditions, finest grouping first.

    Attributes
    ----------
    levels : tuple of float
        Quantile levels, increasing, in (0, 1).
    groupings : tuple of tuple of str
        Condition columns per grouping, finest first; ``()`` is the pooled sample (always added last).
    tables : tuple of DataFrame
        Per grouping: index = the group's values, columns = levels, values = residual quantiles.
    counts : tuple of Series
        Per grouping: residuals per group.
    min_count : int
        A group with fewer residuals falls back to the next coarser grouping.
    """

    levels: tuple[float, ...]
    groupings: tuple[tuple[str, ...], ...]
    tables: tuple[pd.DataFrame, ...] = field(repr=False)
    counts: tuple[pd.Series, ...] = field(repr=False)
    min_count: int = 30

    @classmethod
    def fit(
        cls,
        residuals: pd.Series | np.ndarray,
        conditions: pd.DataFrame,
        levels: Sequence[float] = DEFAULT_LEVELS,
        groupings: Sequence[Sequence[str]] = (),
        min_count: int = 30,
    ) -> ConditionalQuantiles:
        """Quantiles of ``residuals`` per group of ``conditions`` (one row per residual; NaN residuals dropped).

        Parameters
        ----------
        residuals : Series or array
            Actual minus forecast (or any residual), one per row of ``conditions``.
        conditions : DataFrame
            Columns named in ``groupings`` (categorical or binned values).
        levels : sequence of float
        groupings : sequence of sequence of str
            Finest first, e.g. ``[("day_type", "hour"), ("day_type",)]``; the pooled sample is added last.
        min_count : int
            Fewest residuals a group needs to be used.
        """
        tau = check_levels(levels)
        values = np.asarray(residuals, dtype=float)
        if len(values) != len(conditions):
            raise ValueError(f"{len(values)} residuals for {len(conditions)} rows of conditions")
        keep = ~np.isnan(values)
        if not keep.any():
            raise ValueError("no residual to fit quantiles on (all NaN or empty)")
        frame = conditions.reset_index(drop=True).loc[keep].copy()
        frame["_residual"] = values[keep]
        chosen = [tuple(g) for g in groupings if tuple(g)]
        missing = sorted({c for g in chosen for c in g} - set(frame.columns))
        if missing:
            raise ValueError(f"conditions lack the column(s) {missing}")
        tables, counts = [], []
        for grouping in [*chosen, ()]:
            if grouping:
                grouped = frame.groupby(list(grouping), observed=True)["_residual"]
                table = grouped.quantile(list(tau)).unstack()
                count = grouped.size()
            else:
                table = pd.DataFrame([np.quantile(frame["_residual"], tau)], columns=list(tau))
                count = pd.Series([len(frame)])
            table.columns = list(tau)
            tables.append(table)
            counts.append(count)
        return cls(tau, (*chosen, ()), tuple(tables), tuple(counts), min_count)

    def predict(self, conditions: pd.DataFrame) -> np.ndarray:
        """Residual quantiles for each row of ``conditions``: array (rows, levels), each row increasing."""
        n = len(conditions)
        out = np.full((n, len(self.levels)), np.nan)
        todo = np.ones(n, dtype=bool)
        for grouping, table, count in zip(self.groupings, self.tables, self.counts, strict=True):
            if not todo.any():
                break
            if not grouping:
                out[todo] = table.to_numpy()[0]
                todo[:] = False
                break
            usable = table[count.reindex(table.index).to_numpy() >= self.min_count]
            if usable.empty:
                continue
            keys = pd.MultiIndex.from_frame(conditions[list(grouping)]) if len(grouping) > 1 else None
            index = keys if keys is not None else pd.Index(conditions[grouping[0]])
            if len(grouping) == 1:
                usable = usable.set_axis(pd.Index(usable.index.get_level_values(0)), axis=0)
            found = usable.reindex(index).to_numpy()
            hit = todo & ~np.isnan(found).any(axis=1)
            out[hit] = found[hit]
            todo &= ~hit
        return np.sort(out, axis=1)

    def summary(self) -> dict[str, object]:
        """Groups per grouping and how many have at least ``min_count`` residuals (for reports)."""
        return {
            ",".join(g) or "all": {"groups": len(c), "usable": int((c >= self.min_count).sum())}
            for g, c in zip(self.groupings, self.counts, strict=True)
        }


def season_of(index: pd.DatetimeIndex) -> np.ndarray:
    """Meteorological season of each label in its own zone: DJF, MAM, JJA, SON."""
    names = np.array(["DJF", "DJF", "MAM", "MAM", "MAM", "JJA", "JJA", "JJA", "SON", "SON", "SON", "DJF"])
    return names[np.asarray(index.month) - 1]


def hour_of(index: pd.DatetimeIndex) -> np.ndarray:
    """Local clock hour of each interval start (0-23)."""
    return np.asarray(index.hour)


def interpolate_levels(values: np.ndarray, grid: Sequence[float], levels: Sequence[float]) -> np.ndarray:
    """Quantiles at ``levels`` from quantiles on ``grid`` (rows x grid), linear in the level, held beyond the grid."""
    grid_arr = np.asarray(grid, dtype=float)
    wanted = np.asarray(levels, dtype=float)
    if wanted.ndim == 1:
        wanted = np.broadcast_to(wanted, (values.shape[0], len(wanted)))
    out = np.empty(wanted.shape)
    for i in range(values.shape[0]):
        out[i] = np.interp(wanted[i], grid_arr, values[i])
    return out


def mid_pit(values: np.ndarray, actual: np.ndarray, grid: Sequence[float]) -> np.ndarray:
    """Probability integral transform of each actual in its quantile forecast (rows x grid) [0-1].

    The level at which the actual sits, between the grid's neighbours, by the count of quantiles below it; ties
    (an actual equal to some quantiles, e.g. 0 kW at dawn) take the middle of the tied levels, and values outside
    the grid half a cell beyond its ends. Calibrated forecasts give uniform PITs.
    """
    grid_arr = np.asarray(grid, dtype=float)
    edges = np.concatenate([[0.0], (grid_arr[1:] + grid_arr[:-1]) / 2.0, [1.0]])
    below = (values < actual[:, None]).sum(axis=1)
    at_or_below = (values <= actual[:, None]).sum(axis=1)
    return 0.5 * (edges[below] + edges[at_or_below])


@dataclass(frozen=True)
class Recalibration:
    """Level mapping that makes recent quantile forecasts calibrated again (quantile recalibration).

    Fitted on the PITs of past forecasts against what happened (each forecast made before its outcome): the
    level ``tau`` is replaced by the ``tau``-quantile of those PITs, so that a forecast whose actuals fell below
    its P10 one time in five last month now uses its P05 or so as P10. Made on a trailing window, it follows
    shifts (a curtailment season, a bias the point forecast does not know) that a model fitted on a past year
    cannot (Kuleshov et al. 2018, recalibration of quantile forecasts).

    Attributes
    ----------
    grid : tuple of float
        Levels the mapping is tabulated on (0.01 ... 0.99).
    mapped : tuple of float
        The level to read for each level of ``grid``.
    n : int
        PITs it was fitted on.
    """

    grid: tuple[float, ...]
    mapped: tuple[float, ...]
    n: int

    @classmethod
    def fit(
        cls, values: np.ndarray, actual: np.ndarray, grid: Sequence[float] = DENSE_LEVELS, min_count: int = 200
    ) -> Recalibration:
        """From past quantile forecasts on ``grid`` (rows x grid) and their actuals; identity below ``min_count``."""
        tau = check_levels(grid)
        keep = ~np.isnan(values).any(axis=1) & ~np.isnan(actual)
        if keep.sum() < min_count:
            return cls(tau, tau, int(keep.sum()))
        return cls.from_pits(mid_pit(values[keep], actual[keep], tau), tau)

    @classmethod
    def from_pits(cls, pits: np.ndarray, grid: Sequence[float] = DENSE_LEVELS) -> Recalibration:
        """From PITs already computed (:func:`mid_pit`) on ``grid``."""
        tau = check_levels(grid)
        mapped = np.clip(np.quantile(pits, tau), 0.0, 1.0)
        return cls(tau, tuple(float(m) for m in mapped), len(pits))

    def level(self, levels: Sequence[float]) -> np.ndarray:
        """The level to read for each of ``levels``."""
        return np.interp(np.asarray(levels, dtype=float), self.grid, self.mapped)


PV_K_BINS: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 0.95, 1.05, np.inf)
"""Bins of the forecast's clear-sky index (forecast / clear-sky forecast): overcast ... clear ... above clear."""

PV_GROUPINGS: tuple[tuple[str, ...], ...] = (
    ("k_bin", "hour", "season"),
    ("k_bin", "hour"),
    ("k_bin", "season"),
    ("k_bin",),
)


@dataclass(frozen=True)
class PvErrorModel:
    """PV forecast errors in clear-sky-index space, conditioned on the forecast's clear-sky index, hour and season.

    Residual: ``(measured - forecast) / clear_sky`` on every step with some clear-sky power (the scoring counts
    every step with the sun up, dawn included). The residual quantiles are tabulated on 0.01 ... 0.99 per group,
    finest first: (k bin, hour, season), (k bin, hour), (k bin, season), (k bin), all. A forecast's quantile
    ``q``: ``forecast + clear_sky * residual_quantile(q | groups)``, clipped to ``[0, capacity_kw]``, read at
    the level a :class:`Recalibration` maps ``q`` to, if given.
    """

    quantiles: ConditionalQuantiles
    capacity_kw: float | None = None
    k_bins: tuple[float, ...] = PV_K_BINS

    @staticmethod
    def conditions(
        forecast_kw: pd.Series, clear_sky_kw: pd.Series, k_bins: Sequence[float] = PV_K_BINS
    ) -> pd.DataFrame:
        """The conditions of each step: ``k_bin`` (index of the forecast's clear-sky index bin), hour, season."""
        index = pd.DatetimeIndex(forecast_kw.index)
        clear = clear_sky_kw.to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.where(clear > 0.0, forecast_kw.to_numpy(dtype=float) / clear, 0.0)
        return pd.DataFrame(
            {
                "k_bin": np.digitize(k, np.asarray(k_bins)[1:-1]),
                "hour": hour_of(index),
                "season": season_of(index),
            }
        )

    @classmethod
    def fit(
        cls,
        forecast_kw: pd.Series,
        measured_kw: pd.Series,
        clear_sky_kw: pd.Series,
        *,
        capacity_kw: float | None = None,
        min_count: int = 40,
    ) -> PvErrorModel:
        """The error model of ``forecast_kw`` from its past pairs with ``measured_kw`` [kW, same index].

        ``clear_sky_kw`` is the same PV model run on the clear sky (``forecast_pv(site, None, index)``); every
        step counts, curtailed or not (a day-ahead forecast cannot know either). NaN measurements are skipped.
        """
        if not (forecast_kw.index.equals(measured_kw.index) and forecast_kw.index.equals(clear_sky_kw.index)):
            raise ValueError("forecast, measured and clear-sky series must share the same index")
        clear = clear_sky_kw.to_numpy(dtype=float)
        day = clear > 0.0
        residual = (measured_kw.to_numpy(dtype=float) - forecast_kw.to_numpy(dtype=float)) / np.where(day, clear, 1.0)
        conditions = cls.conditions(forecast_kw, clear_sky_kw)
        fitted = ConditionalQuantiles.fit(residual[day], conditions.loc[day], DENSE_LEVELS, PV_GROUPINGS, min_count)
        return cls(fitted, capacity_kw)

    def grid_values(self, forecast_kw: pd.Series, clear_sky_kw: pd.Series) -> np.ndarray:
        """Quantiles [kW] on the model's grid (0.01 ... 0.99), rows x levels; the point forecast where dark."""
        if not forecast_kw.index.equals(clear_sky_kw.index):
            raise ValueError("forecast and clear-sky series must share the same index")
        clear = clear_sky_kw.to_numpy(dtype=float)
        point = forecast_kw.to_numpy(dtype=float)
        residual = self.quantiles.predict(self.conditions(forecast_kw, clear_sky_kw, self.k_bins))
        values = point[:, None] + clear[:, None] * residual
        dark = ~(clear > 0.0)
        values[dark] = point[dark, None]
        upper = self.capacity_kw if self.capacity_kw is not None else np.inf
        return np.sort(np.clip(values, 0.0, upper), axis=1)

    def predict(
        self,
        forecast_kw: pd.Series,
        clear_sky_kw: pd.Series,
        levels: Sequence[float] = DEFAULT_LEVELS,
        recalibration: Recalibration | None = None,
    ) -> pd.DataFrame:
        """Quantiles [kW] on the forecast's index, one column per level (``p10`` ...), increasing across levels."""
        tau = check_levels(levels)
        grid = self.quantiles.levels
        wanted = recalibration.level(tau) if recalibration is not None else np.asarray(tau)
        values = interpolate_levels(self.grid_values(forecast_kw, clear_sky_kw), grid, wanted)
        return pd.DataFrame(np.sort(values, axis=1), index=forecast_kw.index, columns=[quantile_label(q) for q in tau])


@dataclass(frozen=True)
class PvQuantileModel:
    """An error model and the recalibration fitted after it (see :func:`fit_pv_quantiles`)."""

    errors: PvErrorModel
    recalibration: Recalibration | None

    def predict(
        self, forecast_kw: pd.Series, clear_sky_kw: pd.Series, levels: Sequence[float] = DEFAULT_LEVELS
    ) -> pd.DataFrame:
        """Quantiles [kW]: ``point`` (the forecast as given) and one column per level; ``attrs["levels"]``."""
        frame = self.errors.predict(forecast_kw, clear_sky_kw, levels, self.recalibration)
        frame.insert(0, "point", forecast_kw.to_numpy(dtype=float))
        frame.attrs["levels"] = check_levels(levels)
        return frame


def fit_pv_quantiles(
    forecast_kw: pd.Series,
    measured_kw: pd.Series,
    clear_sky_kw: pd.Series,
    *,
    capacity_kw: float | None = None,
    recalibration_days: int = 60,
    min_count: int = 40,
) -> PvQuantileModel:
    """PV quantile model from past forecasts and measurements [kW, same tz-aware index].

    The error model is fitted on all but the last ``recalibration_days`` days, and the recalibration on the
    PITs of those last days (forecasts the error model did not see), so recent shifts in the error (curtailment
    seasons, a drifting bias) are followed. With less than two such spans of data, no recalibration.
    """
    index = pd.DatetimeIndex(forecast_kw.index)
    if recalibration_days <= 0 or index[-1] - index[0] < pd.Timedelta(days=2 * recalibration_days):
        errors = PvErrorModel.fit(forecast_kw, measured_kw, clear_sky_kw, capacity_kw=capacity_kw, min_count=min_count)
        return PvQuantileModel(errors, None)
    split = index[-1] - pd.Timedelta(days=recalibration_days)
    early, late = index <= split, index > split
    errors = PvErrorModel.fit(
        forecast_kw[early], measured_kw[early], clear_sky_kw[early], capacity_kw=capacity_kw, min_count=min_count
    )
    recent_clear = clear_sky_kw[late]
    lit = recent_clear.to_numpy(dtype=float) > 0.0
    values = errors.grid_values(forecast_kw[late], recent_clear)[lit]
    recalibration = Recalibration.fit(values, measured_kw[late].to_numpy(dtype=float)[lit], errors.quantiles.levels)
    return PvQuantileModel(errors, recalibration)


def forecast_pv_quantiles(
    site: PvSiteSpec,
    weather: Weather | None,
    horizon: HorizonLike,
    model: PvQuantileModel,
    quantiles: Sequence[float] = DEFAULT_LEVELS,
    *,
    options: PvModelOptions | None = None,
) -> pd.DataFrame:
    """PV quantiles of a site on the horizon [kW]: ``forecast_pv``'s total, its clear-sky counterpart and ``model``.

    Parameters
    ----------
    site, weather, horizon, options
        As for :func:`forecasting.forecast_pv` (the model must have been fitted on the errors of forecasts made
        the same way, e.g. from the same weather provider).
    model : PvQuantileModel
        From :func:`fit_pv_quantiles` on past forecasts and measurements of this site.
    quantiles : sequence of float
        Levels in (0, 1).

    Returns
    -------
    DataFrame
        ``point`` (the forecast's ``total_kw``) and one column per level (``p10`` ...), on the horizon;
        ``attrs["warnings"]`` from the point forecast.
    """
    import warnings

    from forecasting.errors import ForecastWarning
    from forecasting.pv import forecast_pv

    point = forecast_pv(site, weather, horizon, options=options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastWarning)  # the clear sky on purpose: the quantiles scale with it
        clear = forecast_pv(site, None, horizon, options=options)
    frame = model.predict(point["total_kw"], clear["total_kw"], quantiles)
    frame.attrs["warnings"] = point.attrs.get("warnings", ())
    return frame
