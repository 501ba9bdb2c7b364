"""Plans in force and the service's data about a site, as the planner and plan-vs-actual read them.

Plans are versions: each stored schedule covers ``[horizon_start, horizon_end)``, and at
each step the newest plan that covers it is in force (an intraday re-plan supersedes the
day-ahead plan from its start; nothing is deleted). :class:`DatabaseData` is the
:class:`scenarios.ems_data.StoredData` of one site, read through the repository.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from api import repository
from api.models import AccountDayRecord, ScheduleRecord
from api.weather import weather_of
from optimizer import DispatchProblem
from optimizer.dispatch import ColumnInfo
from scenarios.assets import input_refs
from scenarios.ems_data import AccountDay, StoredWeather
from scenarios.meters import ValuesKind, interval_average
from scenarios.performance import compare
from scenarios.rolling import carried_state
from scenarios.site import Site


def schedule_frame(record: ScheduleRecord) -> pd.DataFrame:
    """A stored schedule's rows as a frame on its interval starts (UTC)."""
    rows = [r.values for r in record.rows]
    frame = pd.DataFrame(rows)
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("interval_start"), utc=True, format="ISO8601"))
    return frame


def column_info(record: ScheduleRecord) -> dict[str, ColumnInfo]:
    """Bus, sign and role of a stored schedule's columns, as the optimiser described them."""
    flows = (record.response.get("report_metadata") or {}).get("flows") or {}
    return {c: ColumnInfo(bus=f.get("bus"), sign=f.get("sign") or 1.0, role=f.get("role")) for c, f in flows.items()}


def roles(columns: dict[str, ColumnInfo]) -> dict[str, str | None]:
    return {column: info.role for column, info in columns.items()}


def plan_in_force(
    session: Session, site_id: int, start: dt.datetime, end: dt.datetime
) -> tuple[pd.DataFrame, dict[str, ColumnInfo]]:
    """The plan in force at each step of ``[start, end)``: every column of the plan that held then, plus
    ``schedule_id``; index: interval starts (UTC), steps without a plan left out. And what the columns are."""
    frames: list[pd.DataFrame] = []
    columns: dict[str, ColumnInfo] = {}
    for record in repository.plans_in_force(session, site_id, start, end):  # oldest first: newer ones overwrite
        frame = schedule_frame(record)
        frame["schedule_id"] = record.id
        frames.append(frame)
        columns |= column_info(record)
    if not frames:
        return pd.DataFrame(columns=["schedule_id"], index=pd.DatetimeIndex([], tz="UTC")), columns
    combined = pd.concat(frames)
    combined = combined[~combined.index.duplicated(keep="last")].sort_index()
    lo, hi = pd.Timestamp(start).tz_convert("UTC"), pd.Timestamp(end).tz_convert("UTC")
    return combined[(combined.index >= lo) & (combined.index < hi)], columns


def forecast_columns(site: Site) -> dict[str, str]:
    """Input name -> the plan column that carries its forecast (``process_load -> process_load.power_kw``)."""
    return {ref: f"{a.name}.{field}" for a in site.assets for field, ref in input_refs(a).items()}  # type: ignore[attr-defined]


def actual_on(data: DatabaseData, names: list[str], index: pd.DatetimeIndex, step: pd.Timedelta) -> pd.DataFrame:
    """Readings of ``names`` as averages on ``index`` (a register needs the reading before: one day is read
    before the first step)."""
    if index.empty:
        return pd.DataFrame(index=index)
    grid = pd.date_range(index[0], index[-1] + step, freq=step, inclusive="left")
    columns = {}
    for name in names:
        found = data.readings(name, grid[0] - pd.Timedelta(days=1), grid[-1] + step * 2)
        if found is not None and not found[0].empty and found[1] != "state":
            columns[name] = interval_average(found[0], found[1], grid).reindex(index)
    return pd.DataFrame(columns, index=index)


def compare_with_readings(
    session: Session, site_id: int, plan: pd.DataFrame, roles: dict[str, str | None]
) -> dict[str, Any]:
    """:func:`scenarios.performance.compare` of a plan (frame with ``schedule_id``) with the site's readings."""
    site = Site.model_validate(repository.get_site(session, site_id).spec)
    forecasts = forecast_columns(site)
    if plan.empty:
        return {"days": [], "total": {"steps_planned": 0, "steps_compared": 0, "plan_versions": []}}
    step = pd.Series(plan.index).diff().min() if len(plan) > 1 else pd.Timedelta(minutes=15)
    flows = [c for c, r in roles.items() if r in ("grid_import", "grid_export", "pv_output")]
    actual = actual_on(DatabaseData(session, site_id), [*forecasts, *flows], plan.index, step)
    return compare(plan, actual, roles, forecasts, int(step.total_seconds() // 60), site.tz)


def performance(session: Session, site_id: int, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Plan vs actual over ``[start, end)``: each step against the plan in force then."""
    plan, columns = plan_in_force(session, site_id, start, end)
    return compare_with_readings(session, site_id, plan, roles(columns))


def schedule_performance(session: Session, record: ScheduleRecord) -> dict[str, Any] | None:
    """One stored schedule against the readings of its horizon; None while none of its steps has a reading."""
    plan = schedule_frame(record)
    plan["schedule_id"] = record.id
    result = compare_with_readings(session, record.site_id, plan, roles(column_info(record)))
    return result if result["total"]["steps_compared"] else None


class DatabaseData:
    """One site's readings, weather forecasts and plans, read as a plan needs them."""

    def __init__(self, session: Session, site_id: int) -> None:
        self.session, self.site_id = session, site_id
        self.kinds = {s.name: s.kind for s in repository.meter_series(session, site_id)}
        self.uploads_seen: int | None = None  # the newest upload when the account first read: set by account()

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

    def planned(self, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, ColumnInfo]]:
        frame, columns = plan_in_force(self.session, self.site_id, start.to_pydatetime(), end.to_pydatetime())
        return frame.tz_convert(start.tz) if not frame.empty else frame, columns

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

    def account(
        self, start: pd.Timestamp, end: pd.Timestamp, series: Sequence[str]
    ) -> tuple[dict[dt.date, AccountDay], set[dt.date]]:
        """The latest account row of each local day in ``[start, end)`` and the days to close again: an upload
        newer than the row's mark brought readings of ``series`` timestamped in the day.

        The mark of what the rows closed now will have seen is taken here, before their data is read: an upload
        committed while they are computed has a higher id and closes its days again on the next plan."""
        if self.uploads_seen is None:
            self.uploads_seen = repository.last_upload_id(self.session, self.site_id)
        last = (end - pd.Timedelta(days=1)).date()
        records = repository.account_days(self.session, self.site_id, start.date(), last)
        if not records:
            return {}, set()
        uploads = repository.uploads_after(self.session, self.site_id, min(r.uploads_seen for r in records))
        arrived = [
            (u.id, pd.Timestamp(first), pd.Timestamp(last_time))
            for u in uploads
            for name, (first, last_time) in u.ranges.items()
            if name in series
        ]
        stale = set()
        for record in records:
            day_start = pd.Timestamp(record.day).tz_localize(start.tz)
            day_end = pd.Timestamp(record.day + dt.timedelta(days=1)).tz_localize(start.tz)
            if any(i > record.uploads_seen and a < day_end and b >= day_start for i, a, b in arrived):
                stale.add(record.day)
        return {r.day: _account_day(r) for r in records}, stale

    def record_account(self, days: Sequence[AccountDay]) -> None:
        if not days:
            return
        if self.uploads_seen is None:  # not read through account(): the mark as of now
            self.uploads_seen = repository.last_upload_id(self.session, self.site_id)
        records = [
            AccountDayRecord(
                site_id=self.site_id,
                day=d.day,
                pv_available_kwh=d.pv_available_kwh,
                pv_output_kwh=d.pv_output_kwh,
                import_kwh=d.import_kwh,
                export_kwh=d.export_kwh,
                green_kwh=d.green_kwh,
                contracts_kwh=dict(d.contracts_kwh),
                emissions_location_kgco2=d.emissions_location_kgco2,
                emissions_market_kgco2=d.emissions_market_kgco2,
                source=d.source,
                detail=d.detail,
                uploads_seen=self.uploads_seen,
                gas_nm3=d.gas_nm3,
                purchased_heat_gj=d.purchased_heat_gj,
                fuel_source=d.fuel_source,
            )
            for d in days
        ]
        repository.add_account_days(self.session, records)


def account_rows(session: Session, site_id: int, first: dt.date, last: dt.date) -> list[AccountDay]:
    """The latest account row of each of the site's local days ``first``..``last`` (inclusive), by day, as they
    stand: nothing is closed here (plans close days; a read only reads)."""
    return [_account_day(r) for r in repository.account_days(session, site_id, first, last)]


def _account_day(record: AccountDayRecord) -> AccountDay:
    return AccountDay(
        day=record.day,
        pv_available_kwh=record.pv_available_kwh,
        pv_output_kwh=record.pv_output_kwh,
        import_kwh=record.import_kwh,
        export_kwh=record.export_kwh,
        green_kwh=record.green_kwh,
        contracts_kwh={str(k): float(v) for k, v in record.contracts_kwh.items()},
        emissions_location_kgco2=record.emissions_location_kgco2,
        emissions_market_kgco2=record.emissions_market_kgco2,
        source=record.source,  # type: ignore[arg-type]
        detail=record.detail,
        recorded_at=record.recorded_at,
        gas_nm3=record.gas_nm3,
        purchased_heat_gj=record.purchased_heat_gj,
        fuel_source=record.fuel_source,  # type: ignore[arg-type]
    )
