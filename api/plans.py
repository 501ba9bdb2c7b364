"""Plans in force and the service's data about a site, as the planner and plan-vs-actual read them.

Plans are versions: each stored schedule covers ``[horizon_start, horizon_end)``, and at
each step the newest plan that covers it is in force (an intraday re-plan supersedes the
day-ahead plan from its start; nothing is deleted). :class:`DatabaseData` is the
:class:`scenarios.ems_inputs.StoredData` of one site, read through the repository.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from api import repository
from api.models import ScheduleRecord
from api.weather import weather_of
from optimizer import DispatchProblem
from scenarios.ems_inputs import StoredWeather
from scenarios.meters import ValuesKind
from scenarios.rolling import carried_state


def schedule_frame(record: ScheduleRecord) -> pd.DataFrame:
    """A stored schedule's rows as a frame on its interval starts (UTC)."""
    rows = [r.values for r in record.rows]
    frame = pd.DataFrame(rows)
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("interval_start"), utc=True, format="ISO8601"))
    return frame


def plan_in_force(session: Session, site_id: int, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """The plan in force at each step of ``[start, end)``: every column of the plan that held then, plus
    ``schedule_id`` (NaN where no plan covers a step). Index: interval starts (UTC)."""
    frames = []
    for record in repository.plans_in_force(session, site_id, start, end):  # oldest first: newer ones overwrite
        frame = schedule_frame(record)
        frame["schedule_id"] = record.id
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["schedule_id"], index=pd.DatetimeIndex([], tz="UTC"))
    combined = pd.concat(frames)
    combined = combined[~combined.index.duplicated(keep="last")].sort_index()
    lo, hi = pd.Timestamp(start).tz_convert("UTC"), pd.Timestamp(end).tz_convert("UTC")
    return combined[(combined.index >= lo) & (combined.index < hi)]


class DatabaseData:
    """One site's readings, weather forecasts and plans, read as a plan needs them."""

    def __init__(self, session: Session, site_id: int) -> None:
        self.session, self.site_id = session, site_id
        self.kinds = {s.name: s.kind for s in repository.meter_series(session, site_id)}

    def readings(self, name: str, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.Series, ValuesKind] | None:
        if name not in self.kinds:
            return None
        rows = repository.readings(self.session, self.site_id, [name], start.to_pydatetime(), end.to_pydatetime())
        index = pd.DatetimeIndex([t for _, t, _ in rows], tz="UTC") if rows else pd.DatetimeIndex([], tz="UTC")
        series = pd.Series([v for _, _, v in rows], index=index, dtype=float).tz_convert(start.tz)
        return series, self.kinds[name]  # type: ignore[return-value]

    def latest(self, name: str, at: pd.Timestamp) -> tuple[pd.Timestamp, float] | None:
        found = repository.latest_reading_before(self.session, self.site_id, name, at.to_pydatetime())
        return None if found is None else (pd.Timestamp(found[0]).tz_convert(at.tz), found[1])

    def weather(self, issued_by: pd.Timestamp, start: pd.Timestamp, end: pd.Timestamp) -> StoredWeather | None:
        period = (start.to_pydatetime(), end.to_pydatetime())
        record = repository.latest_weather(self.session, self.site_id, issued_by.to_pydatetime(), period)
        if record is None:
            return None
        return StoredWeather(weather_of(record.payload), record.issued_at, f"weather {record.id} ({record.source})")

    def planned_state(self, at: pd.Timestamp) -> tuple[dict[str, dict[str, Any]], str] | None:
        before = (at - pd.Timedelta(seconds=1)).to_pydatetime()
        plans = repository.plans_in_force(self.session, self.site_id, before, at.to_pydatetime())
        if not plans or plans[-1].problem is None:
            return None
        record = plans[-1]
        problem = DispatchProblem.model_validate(record.problem)
        frame = schedule_frame(record)
        frame = frame[frame.index < at.tz_convert("UTC")]
        if frame.empty:
            return None
        return carried_state(problem, frame, at), f"schedule {record.id}"
