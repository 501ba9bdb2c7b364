"""What the service knows about a site, as a plan reads it: the :class:`StoredData` protocol (readings, weather
forecasts, plans in force, the daily account of targets over longer periods), where a value came from
(:class:`Source`) and the operator's rules (:class:`FillRules`).

:mod:`scenarios.ems_inputs` fills forecasts and :mod:`scenarios.ems_state` the state at a plan's start from them;
the API implements the protocol over its database (``api.plans.DatabaseData``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import pandas as pd

from optimizer.dispatch import ColumnInfo
from scenarios.meters import ValuesKind
from scenarios.period_account import DayMeasures
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


AccountSource = Literal["readings", "plan", "mixed"]
"""Where a closed day's metered flows came from: all from readings, all from the plan in force (no reading), or
both (the plan where a reading is missing)."""


@dataclass(frozen=True, kw_only=True)
class AccountDay(DayMeasures):
    """One local day of a site's account: the energy totals that targets and contract volumes over a month, a year
    or a date range count (``Targets.so_far`` is the sum over the period to date), and the fuels the carbon ledger
    counts (``GET /v1/sites/{id}/carbon`` builds its day entries from these rows).

    PV, import and export are metered (readings, the plan in force where a reading is missing); green purchases are
    not metered, so they and each contract's energy are the plan in force's. Gas burnt [Nm3] and purchased heat
    [GJ] are read the same way: readings of a series named like the schedule column (``boiler.gas_nm3_per_h``
    [Nm3/h], ``steam.heat_kw`` [kW_th]) where the site meters them, the plan in force's column where not. Emissions
    are import x the grid's factors (location: all import; market: import less green purchases) plus gas and
    purchased heat x their asset's factors, as the optimiser counts them for an emission cap [kgCO2].
    ``source``/``detail``: where the metered electricity flows came from; ``fuel_source``: where gas and purchased
    heat came from (None when nothing said: then ``gas_nm3``/``purchased_heat_gj`` are 0 for a site that burns and
    buys none, None for a site that does but had neither a reading nor a plan that day, or a row recorded before
    fuels were kept); ``recorded_at``: when the row was written (None before it is).
    """

    day: dt.date
    source: AccountSource = "readings"
    detail: str = ""
    recorded_at: dt.datetime | None = None
    gas_nm3: float | None = 0.0
    purchased_heat_gj: float | None = 0.0
    fuel_source: AccountSource | None = None

    @property
    def ledger_source(self) -> AccountSource:
        """Where everything the carbon ledger counts came from: electricity and fuels together."""
        sources = {self.source} | ({self.fuel_source} if self.fuel_source is not None else set())
        return sources.pop() if len(sources) == 1 else "mixed"


@dataclass(frozen=True)
class PeriodStanding:
    """Where one target or contract volume over a longer period stands at a plan's start, and what the plan had to
    do for it (the response's ``period_account``).

    ``unit``: ``share`` (0-1), ``kWh`` (a contract's volume) or ``kgCO2`` (an emission cap). To date (from
    ``counted_from`` to the plan's start): ``required_to_date`` is the minimum share, the contract's minimum or the
    cap pro-rated to the part of the period counted (the pro-rata line), ``achieved_to_date`` what ``so_far`` says.
    In the plan (its steps in the period): ``plan_required`` is the volume to take (the pro-rata line to the plan's
    end less what was taken), the emissions allowed, or the share the plan's own energy had to reach for the period's
    share to hold; ``plan_achieved`` what the plan does."""

    item: str
    period: str
    unit: Literal["share", "kWh", "kgCO2"]
    counted_from: dt.date
    required_to_date: float
    achieved_to_date: float | None
    plan_required: float | None
    plan_achieved: float | None
    maximum_to_date: float | None = None
    plan_maximum: float | None = None
    origin: Origin = "reading"
    detail: str = ""


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

    def account(
        self, start: pd.Timestamp, end: pd.Timestamp, series: Sequence[str]
    ) -> tuple[dict[dt.date, AccountDay], set[dt.date]]:
        """The latest recorded row of each local day in ``[start, end)`` (local midnights; the account is append-only,
        so a day closed again has several rows and the newest counts), and the days among them for which readings of
        ``series`` timestamped in the day arrived after the row was recorded (to be closed again)."""
        ...

    def record_account(self, days: Sequence[AccountDay]) -> None:
        """Appends closed days to the account (never updates or deletes a row)."""
        ...


@dataclass(frozen=True)
class FillRules:
    """The operator's rules for what the service may use."""

    max_state_age: dt.timedelta = dt.timedelta(minutes=60)
    require_measured_state: bool = False
    history_days: int = 120  # the load model's lookback: 15 days of a type (weekends) need ~120 days


def site_step(period: Period) -> pd.Timedelta:
    return pd.Timedelta(minutes=period.horizon.step_minutes)
