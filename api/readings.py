"""Meter readings: a batch in (JSON or CSV), checked whole against the site's series, stored in one transaction.

A batch is all-or-nothing: every bad row (unknown series, naive or unparsable
time, NaN, a value outside the series' physical range, the same series and time
twice, a value kind that contradicts the stored series) is listed in one 422 that
names the row and the field, and nothing is written. Upserts are idempotent on
(series, time): sending a batch again changes nothing. What the series are and
how their values become averages on the site's step is :mod:`scenarios.meters`; gas
burnt (``<boiler>.gas_nm3_per_h``, which the daily account reads for the carbon
ledger) is :func:`scenarios.ems_state.fuel_meter_series`.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api import repository
from api.deps import in_service_range
from api.errors import ProblemInputError
from scenarios.ems_state import fuel_meter_series
from scenarios.meters import MeterSeries, ValuesKind, find_series, meter_series
from scenarios.site import Site

MAX_DETAILS = 50
"""Most rows listed in one 422 (the count of all bad rows is in the last detail)."""


class SeriesMeta(BaseModel):
    """What one series' values are (fixed by its first upload)."""

    model_config = ConfigDict(extra="forbid")

    kind: ValuesKind = Field(
        description="power: average over the interval starting at the time [kW]; energy: kWh in that interval; "
        "register: a cumulative counter at that instant [kWh] (a drop is a meter reset); state: an instant value."
    )


class ReadingIn(BaseModel):
    """One reading (any step: the service averages onto the site's step when it uses them)."""

    model_config = ConfigDict(extra="forbid")

    series: str = Field(min_length=1, max_length=200, examples=["process_load"])
    time: str = Field(min_length=1, max_length=64, description="ISO 8601 with a UTC offset.")
    value: float | None = Field(description="Finite; in the series' unit.")


class ReadingsUpload(BaseModel):
    """``POST /v1/sites/{id}/readings`` as JSON."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "series": {"grid.import_kw": {"kind": "register"}},
                    "readings": [
                        {"series": "process_load", "time": "2026-07-14T10:00:00+08:00", "value": 812.5},
                        {"series": "grid.import_kw", "time": "2026-07-14T10:00:00+08:00", "value": 1250431.0},
                        {"series": "battery.soc_frac", "time": "2026-07-14T10:00:00+08:00", "value": 0.42},
                    ],
                }
            ]
        },
    )

    series: dict[str, SeriesMeta] = Field(
        default_factory=dict, description="Value kind per series; default power for rates, state for states."
    )
    readings: list[ReadingIn] = Field(max_length=500_000)


class ReadingsStored(BaseModel):
    site_id: int
    rows: int = Field(description="Readings written (an existing series and time gets the new value).")
    series: dict[str, int] = Field(description="Rows per series in this batch.")


class ReadingOut(BaseModel):
    series: str
    time: dt.datetime
    value: float


@dataclass(frozen=True)
class CheckedRow:
    series: str
    time: dt.datetime
    value: float


def _problem(details: list[dict[str, Any]], total: int) -> ProblemInputError:
    shown = details[:MAX_DETAILS]
    if total > len(shown):
        more = {"field": "body", "message": f"{total} bad rows in all; nothing was written", "type": "batch"}
        shown.append({**more, "input": None})
    return ProblemInputError(shown)


def parse_csv(text: str) -> ReadingsUpload:
    """A CSV batch: columns ``series,time,value`` and optionally ``kind`` (the same for all rows of a series)."""
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        detail = {"field": "body", "message": f"not a CSV: {error}", "type": "csv", "input": None}
        raise ProblemInputError([detail]) from error
    missing = [c for c in ("series", "time", "value") if c not in frame.columns]
    if missing:
        message = f"the CSV needs the columns series, time, value (and optionally kind); missing: {missing}"
        raise ProblemInputError([{"field": "body", "message": message, "type": "csv", "input": list(frame.columns)}])
    details: list[dict[str, Any]] = []
    kinds: dict[str, str] = {}
    readings = []
    for i, row in enumerate(frame.itertuples(index=False)):
        line = i + 2
        try:
            value = float(row.value) if row.value.strip() else None
        except ValueError:
            value = math.nan
            details.append(_detail(f"line {line}.value", f"not a number: {row.value!r}", row.value))
        readings.append(ReadingIn(series=row.series or "?", time=row.time or "?", value=value))
        kind = getattr(row, "kind", "") if "kind" in frame.columns else ""
        if kind and kinds.setdefault(row.series, kind) != kind:
            details.append(_detail(f"line {line}.kind", f"{row.series} was {kinds[row.series]!r} above", kind))
    if details:
        raise _problem(details, len(details))
    try:
        meta = {name: SeriesMeta(kind=kind) for name, kind in kinds.items()}  # type: ignore[arg-type]
    except ValueError as error:
        detail = {"field": "body.kind", "message": str(error), "type": "csv", "input": None}
        raise ProblemInputError([detail]) from error
    return ReadingsUpload(series=meta, readings=readings)


def _detail(field: str, message: str, value: Any, row: int | None = None) -> dict[str, Any]:
    plain = value if isinstance(value, (str, int, bool)) or value is None else str(value)
    return {"field": field, "message": message, "type": "reading", "input": plain} | (
        {"row": row} if row is not None else {}
    )


def check_batch(
    site: Site, upload: ReadingsUpload, stored_kinds: dict[str, str], where: Literal["json", "csv"]
) -> tuple[list[CheckedRow], dict[str, MeterSeries], dict[str, ValuesKind]]:
    """The rows of a batch, checked; :class:`ProblemInputError` listing every bad row, nothing partial."""
    known = meter_series(site) | fuel_meter_series(site)  # gas burnt: read by the daily account (carbon ledger)
    details: list[dict[str, Any]] = []

    def at(i: int, field: str) -> str:
        return f"body.readings.{i}.{field}" if where == "json" else f"line {i + 2}.{field}"

    kinds: dict[str, ValuesKind] = {}
    found: dict[str, MeterSeries] = {}
    names = {r.series for r in upload.readings} | set(upload.series)
    for name in sorted(names):
        series = find_series(site, known, name)
        if series is None:
            continue
        found[name] = series
        kind = upload.series[name].kind if name in upload.series else stored_kinds.get(name, series.default_kind)
        if kind not in series.kinds:
            message = f"{name} ({series.unit}) takes {', '.join(series.kinds)} values, not {kind}"
            details.append(_detail(f"body.series.{name}.kind", message, kind))
        elif name in stored_kinds and stored_kinds[name] != kind:
            message = f"{name} is stored as {stored_kinds[name]} readings; a series keeps one kind"
            details.append(_detail(f"body.series.{name}.kind", message, kind))
        kinds[name] = kind
    rows: list[CheckedRow] = []
    seen: dict[tuple[str, dt.datetime], int] = {}
    n_bad = 0
    for i, reading in enumerate(upload.readings):
        bad = len(details)
        series = found.get(reading.series)
        if series is None:
            hint = ", ".join(sorted(known)) or "none"
            message = f"unknown series {reading.series!r}; this site takes: {hint} (and <asset>.<flow>_kw)"
            details.append(_detail(at(i, "series"), message, reading.series, i))
        time = _aware(reading.time)
        if time is None:
            message = "not an ISO 8601 time with a UTC offset between 1900 and 2199 (e.g. 2026-07-14T10:00:00+08:00)"
            details.append(_detail(at(i, "time"), message, reading.time, i))
        value = reading.value
        if value is None or not math.isfinite(value):
            details.append(_detail(at(i, "value"), "must be a finite number", str(value), i))
        elif series is not None:
            low, high = series.bounds(kinds[reading.series])
            if not low <= value <= high:
                message = f"{value:g} is outside {series.name}'s physical range [{low:g}, {high:g}] {series.unit}"
                details.append(_detail(at(i, "value"), message, value, i))
        if time is not None:
            key = (reading.series, time)
            if key in seen:
                message = f"{reading.series} at {reading.time} is also row {seen[key]}"
                details.append(_detail(at(i, "time"), message, reading.time, i))
            seen.setdefault(key, i)
        if len(details) > bad:
            n_bad += 1
        elif series is not None and time is not None and value is not None:
            rows.append(CheckedRow(reading.series, time, float(value)))
    if details:
        raise _problem(details, max(n_bad, len(details)))
    return rows, found, kinds


def _aware(text: str) -> dt.datetime | None:
    """The UTC time of an ISO 8601 text with an offset, between 1900 and 2199; None otherwise."""
    try:
        value = dt.datetime.fromisoformat(text)
        if value.tzinfo is None or value.utcoffset() is None:
            return None
        return in_service_range(value.astimezone(dt.UTC))
    except (ValueError, OverflowError):
        return None


def store_batch(
    session: Session, site_id: int, upload: ReadingsUpload, where: Literal["json", "csv"]
) -> ReadingsStored:
    """Checks a batch against the stored site and writes it in one transaction (committed before returning)."""
    site = Site.model_validate(repository.get_site(session, site_id).spec)
    stored = {s.name: s.kind for s in repository.meter_series(session, site_id)}
    rows, found, kinds = check_batch(site, upload, stored, where)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.series] = counts.get(row.series, 0) + 1
    declare = {name: (kinds[name], found[name].unit) for name in counts}
    written = repository.upsert_readings(session, site_id, declare, [(r.series, r.time, r.value) for r in rows])
    return ReadingsStored(site_id=site_id, rows=written, series=counts)


def read_range(
    session: Session, site_id: int, names: list[str] | None, start: dt.datetime, end: dt.datetime
) -> list[ReadingOut]:
    """Readings of a site (all series, or ``names``) in ``[start, end)``, by series then time."""
    repository.get_site(session, site_id)
    return [
        ReadingOut(series=s, time=t, value=v) for s, t, v in repository.readings(session, site_id, names, start, end)
    ]


__all__ = [
    "ReadingIn",
    "ReadingOut",
    "ReadingsStored",
    "ReadingsUpload",
    "SeriesMeta",
    "check_batch",
    "parse_csv",
    "read_range",
    "store_batch",
]
