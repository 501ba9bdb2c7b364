"""Holiday calendars: which days a factory stops, and which weekend days it works.

China moves working days around its public holidays (调休): a Saturday or
Sunday next to a holiday block becomes a working day. The bundled table
``data/holidays_cn.csv`` lists the State Council's official holiday days and
adjusted working days for 2018-2026 (see ``data/SOURCES.md``); outside these
years only weekends count, and :meth:`HolidayCalendar.covers` says so.

A calendar is a parameter of the load forecast: data from another country (the
steel-plant benchmark is Korean) get their own calendar, and a plant's own
shutdowns can be added with :meth:`HolidayCalendar.with_off_days`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import pandas as pd


@dataclass(frozen=True)
class HolidayCalendar:
    """Days off and adjusted working days.

    Attributes
    ----------
    name : str
        For messages and reports.
    off_days : frozenset of date
        Public holidays (and plant shutdowns): no regular work.
    working_days : frozenset of date
        Weekend days that are working days (China's adjusted days).
    years : tuple of int, optional
        First and last year the table is complete for; ``None``: complete as given
        (e.g. weekends only, or a list that covers the data).
    weekend : frozenset of int
        Weekdays off (Monday = 0); Saturday and Sunday by default.
    """

    name: str
    off_days: frozenset[dt.date] = frozenset()
    working_days: frozenset[dt.date] = frozenset()
    years: tuple[int, int] | None = None
    weekend: frozenset[int] = field(default_factory=lambda: frozenset({5, 6}))

    def is_off(self, day: dt.date) -> bool:
        """True on a public holiday or an ordinary weekend day that is not an adjusted working day."""
        if day in self.working_days:
            return False
        return day in self.off_days or day.weekday() in self.weekend

    def is_holiday(self, day: dt.date) -> bool:
        """True on a listed holiday or shutdown (not on an ordinary weekend)."""
        return day in self.off_days

    def is_working_weekend(self, day: dt.date) -> bool:
        """True on a weekend day that is a working day."""
        return day in self.working_days

    def covers(self, day: dt.date) -> bool:
        """Whether the calendar knows the holidays of ``day``'s year."""
        return self.years is None or self.years[0] <= day.year <= self.years[1]

    def with_off_days(self, days: Iterable[dt.date | str], name: str | None = None) -> HolidayCalendar:
        """This calendar plus extra days off (e.g. a plant's planned shutdowns)."""
        extra = frozenset(pd.Timestamp(d).date() for d in days)
        return HolidayCalendar(
            name=name or f"{self.name} + {len(extra)} day(s) off",
            off_days=self.off_days | extra,
            working_days=self.working_days - extra,
            years=self.years,
            weekend=self.weekend,
        )


def calendar_from_dates(
    name: str,
    off_days: Iterable[dt.date | str],
    working_days: Iterable[dt.date | str] = (),
    years: tuple[int, int] | None = None,
) -> HolidayCalendar:
    """A calendar from lists of dates (ISO strings or dates)."""
    return HolidayCalendar(
        name=name,
        off_days=frozenset(pd.Timestamp(d).date() for d in off_days),
        working_days=frozenset(pd.Timestamp(d).date() for d in working_days),
        years=years,
    )


def weekends_only() -> HolidayCalendar:
    """Saturdays and Sundays off, no holidays."""
    return HolidayCalendar(name="weekends only")


@cache
def china_calendar() -> HolidayCalendar:
    """Official public holidays and adjusted working days of mainland China, 2018-2026."""
    with resources.files("forecasting.data").joinpath("holidays_cn.csv").open(encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype=str)
    dates = pd.to_datetime(table["date"]).dt.date
    kinds = table["kind"].str.strip()
    unknown = sorted(set(kinds) - {"holiday", "working_day"})
    if unknown:
        raise ValueError(f"holidays_cn.csv: unknown kind(s) {unknown}")
    years = pd.to_datetime(table["date"]).dt.year
    return HolidayCalendar(
        name="China (State Council)",
        off_days=frozenset(dates[kinds == "holiday"]),
        working_days=frozenset(dates[kinds == "working_day"]),
        years=(int(years.min()), int(years.max())),
    )
