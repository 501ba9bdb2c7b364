"""What the service knows about a site, as a plan reads it: the :class:`StoredData` protocol (readings, weather
forecasts, plans in force), where a value came from (:class:`Source`) and the operator's rules (:class:`FillRules`).

:mod:`scenarios.ems_inputs` fills forecasts and :mod:`scenarios.ems_state` the state at a plan's start from them;
the API implements the protocol over its database (``api.plans.DatabaseData``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import pandas as pd

from optimizer.dispatch import ColumnInfo
from scenarios.meters import ValuesKind
from scenarios.rolling import Period

Origin = Literal[
    "request",
    "reading",
    "forecast:pvlib",
    "forecast:pvlib-clear-sky",
    "forecast:load-model",
    "previous-plan",
    "site",
]


@dataclass(frozen=True)
class Source:
    """Where one input or state value of a plan came from, and as of when (a reading's time, a forecast's issue)."""

    origin: Origin
    as_of: dt.datetime | None = None
    detail: str = ""


@dataclass(frozen=True)
class StoredWeather:
    weather: Any  # forecasting.Weather
    issued_at: dt.datetime
    label: str


class StoredData(Protocol):
    """The service's data about one site, read as the plan needs it."""

    def readings(self, name: str, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.Series, ValuesKind] | None:
        """Raw readings of a series in ``[start, end)`` (tz-aware index) and their kind; None for no series."""
        ...

    def latest(self, name: str, at: pd.Timestamp) -> tuple[pd.Timestamp, float] | None:
        """The last reading of a series at or before ``at``."""
        ...

    def weather(self, issued_by: pd.Timestamp, start: pd.Timestamp, end: pd.Timestamp) -> StoredWeather | None:
        """The latest forecast issued by ``issued_by`` covering ``[start, end)``."""
        ...

    def planned_state(self, at: pd.Timestamp) -> tuple[dict[str, dict[str, Any]], str] | None:
        """The state the plan in force said the site would be in at ``at`` (by asset), and the plan's label."""
        ...

    def planned(self, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, ColumnInfo]]:
        """The plan in force on ``[start, end)`` (columns by name, index of interval starts) and what its columns
        are (bus, sign, role)."""
        ...


@dataclass(frozen=True)
class FillRules:
    """The operator's rules for what the service may use."""

    max_state_age: dt.timedelta = dt.timedelta(minutes=60)
    require_measured_state: bool = False
    history_days: int = 28


def site_step(period: Period) -> pd.Timedelta:
    return pd.Timedelta(minutes=period.horizon.step_minutes)
