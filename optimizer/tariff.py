"""Time-of-use tariffs: band tables by month and local clock time.

A :class:`TouTariff` names bands (sharp, peak, flat, valley) with prices and
lists periods (clock-time windows, optionally limited to some months). Later
periods override earlier ones, so "sharp 17:00-19:00 in Jan/Jul/Aug/Dec" can be
listed after the peak windows it lies in. Times not covered by any period fall
in ``default_band``. Prices of steps that straddle a band edge are
time-weighted averages over the step, so hourly steps stay correct.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.errors import SpecError
from optimizer.horizon import Horizon
from optimizer.types import FiniteFloat

MINUTES_PER_DAY = 1440


class TouPeriod(BaseModel):
    """A clock-time window ``[start, end)`` that belongs to a band."""

    model_config = ConfigDict(extra="forbid")

    band: str
    start: dt.time = Field(description="Local clock time the window starts (inclusive).")
    end: dt.time = Field(description="Local clock time the window ends (exclusive); 00:00 means midnight.")
    months: list[int] | None = Field(None, description="Months 1-12 the window applies to; all if omitted.")

    @model_validator(mode="after")
    def _check_months(self) -> TouPeriod:
        if self.months is not None and any(m < 1 or m > 12 for m in self.months):
            raise SpecError(f"must be between 1 and 12, got {self.months}", field="months")
        return self

    def minute_range(self) -> tuple[int, int]:
        """Start and end as minutes of the day; a window ending at 00:00 ends at 1440."""
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        return start, end or MINUTES_PER_DAY


class TouTariff(BaseModel):
    """Band prices and the periods where each band applies."""

    model_config = ConfigDict(extra="forbid")

    band_prices_cny_per_kwh: dict[str, FiniteFloat] = Field(description="Energy price per band [CNY/kWh].")
    periods: list[TouPeriod]
    default_band: str = Field("flat", description="Band for times no period covers.")

    @model_validator(mode="after")
    def _bands_are_priced(self) -> TouTariff:
        named = {p.band for p in self.periods} | {self.default_band}
        missing = sorted(named - set(self.band_prices_cny_per_kwh))
        if missing:
            raise SpecError(f"bands without a price: {missing}", field="band_prices_cny_per_kwh")
        return self

    def band_table(self) -> tuple[list[str], np.ndarray]:
        """Band names and a (12 months x 1440 minutes) table of band numbers (read-only: shared by equal tariffs)."""
        names, table = _band_table(self.model_dump_json())
        return list(names), table

    def _build_band_table(self) -> tuple[list[str], np.ndarray]:
        names = list(self.band_prices_cny_per_kwh)
        table = np.full((12, MINUTES_PER_DAY), names.index(self.default_band), dtype=np.int8)
        for period in self.periods:
            months = [m - 1 for m in (period.months or range(1, 13))]
            start, end = period.minute_range()
            minutes = np.arange(start, end) if start < end else np.r_[start:MINUTES_PER_DAY, 0:end]
            table[np.ix_(months, minutes)] = names.index(period.band)
        table.flags.writeable = False
        return names, table

    def bands(self, index: pd.DatetimeIndex) -> pd.Series:
        """Band name at each label's local time (the band the interval starts in)."""
        names, table = self.band_table()
        codes = table[index.month - 1, index.hour * 60 + index.minute]
        return pd.Series(np.asarray(names)[codes], index=index, name="band")

    def prices(self, horizon: Horizon) -> pd.Series:
        """Import energy price per step [CNY/kWh], time-weighted within each step."""
        per_step = _step_prices(
            self.model_dump_json(),
            horizon.start,
            str(horizon.start.tzinfo),  # equal instants in other zones have other clock times: part of the key
            horizon.tz,
            horizon.step_minutes,
            horizon.n_steps,
        )
        return pd.Series(per_step.copy(), index=horizon.index, name="import_price_cny_per_kwh")

    def _prices(self, horizon: Horizon) -> np.ndarray:
        names, table = self.band_table()
        price_by_band = np.array([self.band_prices_cny_per_kwh[n] for n in names])
        minute_labels = pd.date_range(horizon.index[0], periods=horizon.n_steps * horizon.step_minutes, freq="1min")
        minute_prices = price_by_band[table[minute_labels.month - 1, minute_labels.hour * 60 + minute_labels.minute]]
        per_step = minute_prices.reshape(horizon.n_steps, horizon.step_minutes).mean(axis=1)
        per_step.flags.writeable = False
        return per_step


@lru_cache(maxsize=16)
def _step_prices(
    tariff_json: str, start: dt.datetime, zone: str, tz: str | None, step_minutes: int, n_steps: int
) -> np.ndarray:
    """:meth:`TouTariff.prices`' numbers (read-only), once per tariff and horizon: a re-used model asks for a day's
    prices twice, for its shape and for its parameters (``zone``: only for the key)."""
    horizon = Horizon(start=start, step_minutes=step_minutes, n_steps=n_steps, tz=tz)
    return TouTariff.model_validate_json(tariff_json)._prices(horizon)


@lru_cache(maxsize=32)
def _band_table(tariff_json: str) -> tuple[list[str], np.ndarray]:
    """:meth:`TouTariff.band_table`, once per distinct tariff (a rolling run compiles the same one every day)."""
    return TouTariff.model_validate_json(tariff_json)._build_band_table()


def _period(band: str, start: str, end: str, months: list[int] | None = None) -> TouPeriod:
    return TouPeriod(band=band, start=dt.time.fromisoformat(start), end=dt.time.fromisoformat(end), months=months)


LIAONING_SHARP_MONTHS = [1, 7, 8, 12]
LIAONING_BAND_RATIOS = {"sharp": 1.875, "peak": 1.5, "flat": 1.0, "valley": 0.5}
"""Price ratios to flat, Liaoning NDRC 辽发改价格〔2023〕441号 (consultation draft figures)."""

DEFAULT_FLAT_PRICE_CNY_PER_KWH = 0.62
"""Typical 1-10 kV industrial flat price in Liaoning (estimate, 0.55-0.70)."""


def liaoning_tou(flat_price_cny_per_kwh: float = DEFAULT_FLAT_PRICE_CNY_PER_KWH) -> TouTariff:
    """Liaoning's industrial four-band tariff scaled to a flat price [CNY/kWh]."""
    return TouTariff(
        band_prices_cny_per_kwh={b: r * flat_price_cny_per_kwh for b, r in LIAONING_BAND_RATIOS.items()},
        default_band="flat",
        periods=[
            _period("peak", "07:30", "10:30"),
            _period("peak", "16:00", "21:00"),
            _period("valley", "11:30", "12:30"),
            _period("valley", "22:00", "05:00"),
            _period("sharp", "17:00", "19:00", LIAONING_SHARP_MONTHS),
        ],
    )
