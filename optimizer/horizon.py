"""The optimisation horizon: tz-aware start, step length, number of steps.

Labels are interval *starts*. Steps have a fixed absolute length, so a local day
that contains a DST change has 92 or 100 quarter-hours; use :meth:`Horizon.day`
to get the right count rather than counting hours.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from optimizer.limits import date_range_text, in_date_range

MAX_STEPS = 366 * 24 * 4 + 4 * 24
"""A leap year of quarter-hours plus a day of slack: the longest horizon one model holds."""


class Horizon(BaseModel):
    """Time axis of a dispatch problem."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: dt.datetime = Field(description="Start of the first interval; must carry a time zone.")
    step_minutes: int = Field(15, ge=1, le=1440, description="Interval length [min].")
    n_steps: int = Field(gt=0, le=MAX_STEPS, description="Number of intervals.")
    tz: str | None = Field(
        None,
        description="IANA time zone for local clock times (tariff bands); default: the start's zone.",
    )

    @field_validator("start")
    @classmethod
    def _start_is_tz_aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError("start must be tz-aware, e.g. 2026-07-15T00:00:00+08:00")
        if not in_date_range(value.date()):
            raise ValueError(f"{value.date()} is outside the dates a horizon may cover ({date_range_text()})")
        return value

    @classmethod
    def day(cls, date: dt.date | str, tz: str, step_minutes: int = 15) -> Horizon:
        """The local calendar day ``date`` in zone ``tz`` (92/96/100 quarter-hours)."""
        day_start = pd.Timestamp(date).normalize().tz_localize(tz)
        day_end = (pd.Timestamp(date).normalize() + pd.Timedelta(days=1)).tz_localize(tz)
        seconds = (day_end - day_start).total_seconds()
        n_steps, rest = divmod(int(seconds), step_minutes * 60)
        if rest:
            raise ValueError(f"step_minutes={step_minutes} does not divide the day {date} in {tz}")
        return cls(start=day_start.to_pydatetime(), step_minutes=step_minutes, n_steps=n_steps, tz=tz)

    @cached_property
    def index(self) -> pd.DatetimeIndex:
        """Interval-start labels in the local zone."""
        start = pd.Timestamp(self.start)
        if self.tz is not None:
            start = start.tz_convert(self.tz)
        return pd.date_range(start, periods=self.n_steps, freq=pd.Timedelta(minutes=self.step_minutes))

    @property
    def dt_h(self) -> float:
        """Interval length [h]."""
        return self.step_minutes / 60.0

    @property
    def end(self) -> pd.Timestamp:
        """End of the last interval."""
        return self.index[-1] + pd.Timedelta(minutes=self.step_minutes)
