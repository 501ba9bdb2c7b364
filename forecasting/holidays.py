"""Holiday calendars: which days a factory stops, and which weekend days it works.

China moves working days around its public holidays (调休): a Saturday or
Sunday next to a holiday block becomes a working day. :func:`china_calendar`
takes the State Council's holiday days and adjusted (in-lieu) working days from
the maintained package ``chinese-calendar`` (``chinese_calendar``, updated each
November when the next year's notice is published; 1.11.0 covers 2004-2026).
The hand-transcribed table ``data/holidays_cn.csv`` (2018-2026, see
``data/SOURCES.md``) is only a fallback for years the installed package does not
cover (an old install) or when the package cannot be imported; outside both
only weekends count, and :meth:`HolidayCalendar.covers` says so.

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
    source : str
        Where the dates come from, per range of years (for reports; empty when built from lists).
    """

    name: str
    off_days: frozenset[dt.date] = frozenset()
    working_days: frozenset[dt.date] = frozenset()
    years: tuple[int, int] | None = None
    weekend: frozenset[int] = field(default_factory=lambda: frozenset({5, 6}))
    source: str = ""

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
            source=self.source,
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


def _china_table() -> tuple[dict[dt.date, str], tuple[int, int]]:
    """The bundled table: date -> "holiday" or "working_day", and its first and last year."""
    with resources.files("forecasting.data").joinpath("holidays_cn.csv").open(encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype=str)
    stamps = pd.to_datetime(table["date"])
    kinds = table["kind"].str.strip()
    unknown = sorted(set(kinds) - {"holiday", "working_day"})
    if unknown:
        raise ValueError(f"holidays_cn.csv: unknown kind(s) {unknown}")
    days = dict(zip(stamps.dt.date, kinds, strict=True))
    return days, (int(stamps.dt.year.min()), int(stamps.dt.year.max()))


def _china_package() -> tuple[dict[dt.date, str], tuple[int, int], str] | None:
    """``chinese-calendar``'s days (date -> kind), its years and version; None when it cannot be imported."""
    try:
        import chinese_calendar
        from chinese_calendar import constants
    except ImportError:
        return None
    holidays, workdays = constants.holidays, constants.workdays
    years = (min(holidays).year, max(holidays).year)  # the package's own range (chinese_calendar.utils)
    days = {d: "holiday" for d in holidays} | {d: "working_day" for d in workdays}
    version = getattr(chinese_calendar, "__version__", "?")
    return days, years, version


@cache
def china_calendar() -> HolidayCalendar:
    """Official public holidays and adjusted working days of mainland China.

    From the maintained package ``chinese-calendar`` for the years it covers (2004-2026 in 1.11.0); the bundled
    table ``data/holidays_cn.csv`` (2018-2026) fills only years the installed package lacks (or all of them if it
    cannot be imported). ``years`` is the span covered by either; ``source`` says which range came from where.
    """
    table, table_years = _china_table()
    package = _china_package()
    if package is None:
        days, years = table, table_years
        source = f"bundled table holidays_cn.csv {table_years[0]}-{table_years[1]} (chinese-calendar not installed)"
    else:
        package_days, package_years, version = package
        fallback = {d: k for d, k in table.items() if not package_years[0] <= d.year <= package_years[1]}
        days = package_days | fallback
        years = (min(package_years[0], table_years[0]), max(package_years[1], table_years[1]))
        source = f"chinese-calendar {version} {package_years[0]}-{package_years[1]}"
        fallback_years = sorted({d.year for d in fallback})
        if fallback_years:
            source += f"; bundled table holidays_cn.csv {fallback_years[0]}-{fallback_years[-1]}"
    return HolidayCalendar(
        name="China (State Council)",
        off_days=frozenset(d for d, kind in days.items() if kind == "holiday"),
        working_days=frozenset(d for d, kind in days.items() if kind == "working_day"),
        years=years,
        source=source,
    )
