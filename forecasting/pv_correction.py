"""Statistical corrections of modelled PV power, fitted on a plant's metered history.

* :class:`PvCorrection`: a multiplier of modelled power per local month and hour, the ratio of metered to
  modelled power on the fit period's usable days. It absorbs what the physical chain leaves out and is
  steady from year to year at a site: row-to-row shading and snow at low winter sun, soiling, the real DC size
  and losses, a sensor not quite in the array's plane. Fitted on the power modelled from weather it corrects a
  weather-driven forecast; fitted on the clear-sky model it is the day-ahead climatology of the clear-sky
  index by month and hour. ``statistic="energy"`` (sum of metered over sum of modelled) keeps the energy
  unbiased on the fit period; ``"median"`` (median of the per-step ratios) minimises the absolute error, at
  the price of an energy bias where the ratio's distribution is skewed (cloudy hours under a clear-sky model).
* :func:`output_caps_by_day` / :func:`apply_output_cap`: a curtailment set-point or outage seen on the last
  metered day carried into the next day's forecast (curtailment and outages persist: in the State Grid data
  a flagged day follows a flagged day 40 % of the time against 6 % on average).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from forecasting.timeaxis import index_step

Statistic = Literal["energy", "median"]

#: Cells (month x hour) with fewer usable points fall back to the month's factor, then to 1.
MIN_POINTS_PER_CELL = 20


@dataclass(frozen=True)
class PvCorrection:
    """Multipliers of modelled PV power by local month (1-12) and local hour (0-23) of the interval start.

    Attributes
    ----------
    factors : tuple of 12 tuples of 24 floats
        ``factors[month - 1][hour]`` [-]; 1.0 where nothing was fitted (night).
    statistic : "energy" or "median"
        How each cell was fitted (see the module's docstring).
    basis : str
        What the factors multiply (e.g. ``"weather"``, ``"clear sky"``), for reports.
    fit_days : int
        Days the factors were fitted on.
    fit_period : str
        First and last fitted day, ISO dates.
    """

    factors: tuple[tuple[float, ...], ...]
    statistic: Statistic = "energy"
    basis: str = "weather"
    fit_days: int = 0
    fit_period: str = ""

    def __post_init__(self) -> None:
        if len(self.factors) != 12 or any(len(row) != 24 for row in self.factors):
            raise ValueError("factors must be 12 months x 24 hours")
        if not all(np.isfinite(v) and v >= 0.0 for row in self.factors for v in row):
            raise ValueError("factors must be finite and >= 0")

    def factor_on(self, index: pd.DatetimeIndex) -> np.ndarray:
        """The multiplier at each label (its local month and hour) [-]."""
        table = np.asarray(self.factors, dtype=float)
        return table[index.month.to_numpy() - 1, index.hour.to_numpy()]

    def monthly(self) -> dict[int, float]:
        """Mean factor over the hours fitted, per month (for reports)."""
        table = np.asarray(self.factors, dtype=float)
        out = {}
        for m in range(12):
            fitted = table[m][table[m] != 1.0]
            out[m + 1] = float(fitted.mean()) if fitted.size else 1.0
        return out


def identity_correction() -> PvCorrection:
    """A correction that changes nothing."""
    return PvCorrection(factors=tuple(tuple(1.0 for _ in range(24)) for _ in range(12)), basis="none")


def fit_correction(
    measured: pd.Series,
    modelled: pd.Series,
    exclude_days: tuple[pd.Timestamp, ...] = (),
    statistic: Statistic = "energy",
    min_modelled_kw: float = 0.0,
    basis: str = "weather",
    min_points: int = MIN_POINTS_PER_CELL,
) -> PvCorrection:
    """Fit month x hour multipliers of ``modelled`` to ``measured`` on the days not excluded.

    Parameters
    ----------
    measured, modelled : Series
        Metered and modelled power [kW] on one tz-aware index (local months and hours are those of its zone).
    exclude_days : tuple of Timestamp
        Local midnights of days whose output the weather does not explain (outages, curtailment, snow ...):
        found from the data by :mod:`forecasting.pv_checks`, never chosen by how well the model did.
    statistic : "energy" or "median"
        See the module's docstring.
    min_modelled_kw : float
        Steps where the model gives less are not used (dawn and dusk ratios are noise) [kW].
    basis : str
        Label for reports.
    min_points : int
        Cells with fewer usable steps take the month's factor (or 1).

    Returns
    -------
    PvCorrection
    """
    index = pd.DatetimeIndex(measured.index)
    frame = pd.DataFrame({"m": measured.to_numpy(dtype=float), "p": modelled.reindex(index).to_numpy(dtype=float)})
    frame["month"], frame["hour"] = index.month, index.hour
    days = index.normalize()
    usable = (
        np.isfinite(frame["m"].to_numpy())
        & np.isfinite(frame["p"].to_numpy())
        & (frame["p"].to_numpy() > max(min_modelled_kw, 0.0))
        & ~days.isin(pd.DatetimeIndex(exclude_days))
    )
    used = frame[usable]
    table = np.ones((12, 24))
    if not used.empty:
        cells = used.groupby(["month", "hour"])
        months = used.groupby("month")
        if statistic == "energy":
            cell_factor = cells["m"].sum() / cells["p"].sum()
            month_factor = months["m"].sum() / months["p"].sum()
        else:
            ratio = used["m"] / used["p"]
            cell_factor = ratio.groupby([used["month"], used["hour"]]).median()
            month_factor = ratio.groupby(used["month"]).median()
        counts = cells.size()
        for (month, hour), value in cell_factor.items():  # type: ignore[misc]
            if counts[(month, hour)] >= min_points and np.isfinite(value):
                table[int(month) - 1, int(hour)] = float(value)
            elif np.isfinite(month_factor.get(month, np.nan)):
                table[int(month) - 1, int(hour)] = float(month_factor[month])
    fitted_days = pd.DatetimeIndex(days[usable]).unique()
    period = f"{fitted_days.min():%Y-%m-%d} to {fitted_days.max():%Y-%m-%d}" if len(fitted_days) else ""
    return PvCorrection(
        factors=tuple(tuple(float(v) for v in row) for row in table),
        statistic=statistic,
        basis=basis,
        fit_days=len(fitted_days),
        fit_period=period,
    )


def apply_output_cap(frame: pd.DataFrame, cap_kw: float | pd.Series | None) -> pd.DataFrame:
    """Cap a forecast's ``total_kw`` at ``cap_kw`` (scalar, or per label), scaling every array alike.

    Parameters
    ----------
    frame : DataFrame
        :func:`forecasting.forecast_pv`'s result: ``<array>_kw`` columns and ``total_kw`` [kW].
    cap_kw : float, Series or None
        The cap [kW]; NaN or None: no cap.

    Returns
    -------
    DataFrame
        A copy with the cap applied (attrs kept).
    """
    if cap_kw is None:
        return frame
    cap = cap_kw.reindex(frame.index) if isinstance(cap_kw, pd.Series) else pd.Series(cap_kw, index=frame.index)
    total = frame["total_kw"]
    scale = (cap / total).where((total > cap) & cap.notna() & (total > 0), 1.0).clip(lower=0.0)
    out = frame.mul(scale, axis=0)
    out.attrs = dict(frame.attrs)
    return out


def output_caps_by_day(
    flagged_day_max_kw: pd.Series, index: pd.DatetimeIndex, lag_days: int = 1, margin_frac: float = 0.0
) -> pd.Series:
    """Per label of ``index``: the highest metered power of the day ``lag_days`` before, if that day was flagged.

    A day flagged as an outage or curtailment (:func:`forecasting.pv_checks.check_outages_and_curtailment`)
    most often continues: its highest metered power (0 for a full outage) caps the forecast of the next day.
    ``lag_days=1`` suits a forecast issued after sunset the day before, ``2`` one issued in the morning.

    Parameters
    ----------
    flagged_day_max_kw : Series
        Local midnight -> the day's highest metered power [kW], for flagged days only
        (:attr:`forecasting.pv_checks.AvailabilityFindings.day_max_kw`).
    index : DatetimeIndex
        Forecast labels.
    lag_days : int
        How many days back the last metered day is.
    margin_frac : float
        The cap is that maximum times ``1 + margin_frac``.

    Returns
    -------
    Series
        Cap [kW] per label; NaN where the day before was not flagged.
    """
    if index_step(index) > pd.Timedelta(days=1):
        raise ValueError("index must be sub-daily")
    caps = flagged_day_max_kw * (1.0 + margin_frac)
    days = index.normalize()
    unique = days.unique()
    # calendar days back in local time (a DST day is still one day)
    source = pd.DatetimeIndex([d - pd.DateOffset(days=lag_days) for d in unique])
    per_day = pd.Series(caps.reindex(source).to_numpy(dtype=float), index=unique)
    return pd.Series(per_day.reindex(days).to_numpy(), index=index, dtype=float, name="cap_kw")
