"""Weather forecasts of a site: uploaded (Open-Meteo JSON or CSV) or read from a configured URL, stored with the
time they were issued, and read back as :class:`forecasting.Weather` for the PV forecast of a plan.

The stored payload is what was received (``{"format": "open-meteo", "data": {...}}`` or ``{"format": "csv",
"text": "..."}``), so a plan can always be recomputed from the forecast it used.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import urllib.error
import urllib.request
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from api import repository
from api.errors import ProblemInputError
from api.models import WeatherForecastRecord
from scenarios.site import Site

log = logging.getLogger("api")
FETCH_TIMEOUT_S = 30.0
MAX_WEATHER_BYTES = 5_000_000


def weather_of(payload: dict[str, Any]) -> Any:
    """The :class:`forecasting.Weather` of a stored payload (raises ``forecasting.WeatherDataError``)."""
    from forecasting import read_open_meteo_json, read_weather_csv

    if payload["format"] == "csv":
        return read_weather_csv(io.StringIO(payload["text"]))
    return read_open_meteo_json(payload["data"])


def parse_upload(body: bytes, content_type: str) -> dict[str, Any]:
    """The payload of an uploaded forecast, checked by reading it; 422 naming what is wrong."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _bad("the forecast is not UTF-8") from error
    if content_type in ("text/csv", "application/csv"):
        return {"format": "csv", "text": text}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _bad(f"not JSON: {error}") from error
    if not isinstance(data, dict):
        raise _bad("an Open-Meteo forecast is a JSON object with an 'hourly' or 'minutely_15' block")
    return {"format": "open-meteo", "data": data}


def _bad(message: str, field: str = "body") -> ProblemInputError:
    return ProblemInputError([{"field": field, "message": message, "type": "weather", "input": None}])


def forecast_record(
    site_id: int, payload: dict[str, Any], issued_at: dt.datetime, source: str
) -> WeatherForecastRecord:
    """A record for a payload that reads as weather (422 with the reader's message when it does not)."""
    from forecasting import WeatherDataError

    try:
        weather = weather_of(payload)
    except (WeatherDataError, ValueError, KeyError, TypeError) as error:
        raise _bad(f"not a readable forecast: {error}") from error
    return WeatherForecastRecord(
        site_id=site_id,
        issued_at=issued_at,
        valid_from=pd.Timestamp(weather.start).to_pydatetime(),
        valid_until=pd.Timestamp(weather.end).to_pydatetime(),
        source=_fits(source, WeatherForecastRecord.__table__.c.source.type.length),
        payload=payload,
    )


def _fits(text: str, length: int | None) -> str:
    """``text`` cut to a column's length (a long configured URL as the forecast's source: PostgreSQL refuses a longer
    value, SQLite would keep it whole)."""
    return text if length is None or len(text) <= length else text[: length - 1] + "…"


def store_upload(
    session: Session, site_id: int, body: bytes, content_type: str, issued_at: dt.datetime | None
) -> WeatherForecastRecord:
    repository.get_site(session, site_id)
    payload = parse_upload(body, content_type)
    issued = issued_at or dt.datetime.now(dt.UTC)
    return repository.add_weather(session, forecast_record(site_id, payload, issued, f"upload:{payload['format']}"))


def forecast_url(template: str, site: Site) -> str:
    """The URL for a site: ``{latitude}``, ``{longitude}`` and ``{tz}`` filled in."""
    return template.format(latitude=site.latitude, longitude=site.longitude, tz=site.tz)


def fetch(session: Session, site_id: int, template: str) -> WeatherForecastRecord:
    """Reads the site's forecast from the configured URL now and stores it (issued: now)."""
    row = repository.get_site(session, site_id)
    site = Site.model_validate(row.spec)
    if site.latitude is None or site.longitude is None:
        raise _bad("the site has no latitude/longitude to ask a forecast for", "site.latitude")
    url = forecast_url(template, site)
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as response:
            body = response.read(MAX_WEATHER_BYTES + 1)
    except OSError as error:
        if isinstance(error, urllib.error.HTTPError):
            error.close()  # an HTTP error answer holds its socket until closed
        raise WeatherSourceError(f"reading {url} failed: {error}") from error
    if len(body) > MAX_WEATHER_BYTES:
        raise WeatherSourceError(f"{url} sent more than {MAX_WEATHER_BYTES} bytes")
    try:
        payload = parse_upload(body, "application/json")
        record = forecast_record(site_id, payload, dt.datetime.now(dt.UTC), url)
    except ProblemInputError as error:
        raise WeatherSourceError(f"{url}: {error.details[0]['message']}") from error
    return repository.add_weather(session, record)


class WeatherSourceError(RuntimeError):
    """The configured weather URL did not answer with a readable forecast (502 to a caller)."""


def next_fetch(now: dt.datetime, at: dt.time) -> dt.datetime:
    """The next time of day ``at`` (UTC) after ``now``."""
    today = dt.datetime.combine(now.date(), at, tzinfo=dt.UTC)
    return today if today > now else today + dt.timedelta(days=1)


async def fetch_every_morning(sessions: sessionmaker[Session], template: str, at: dt.time) -> None:
    """Reads every site's forecast at ``at`` (UTC) each day; a failure is logged and retried the next day."""
    while True:
        now = dt.datetime.now(dt.UTC)
        await asyncio.sleep((next_fetch(now, at) - now).total_seconds())
        await asyncio.to_thread(fetch_all, sessions, template)


def fetch_all(sessions: sessionmaker[Session], template: str) -> dict[int, str]:
    """Fetches every site with a location; ``{site id: "ok" or the error}``."""
    outcome: dict[int, str] = {}
    with sessions() as session:
        site_ids = repository.all_site_ids(session)
    for site_id in site_ids:
        with sessions() as session:
            try:
                fetch(session, site_id, template)
                outcome[site_id] = "ok"
            except (WeatherSourceError, ProblemInputError) as error:
                outcome[site_id] = str(error)
                log.warning("weather for site %s: %s", site_id, error)
    return outcome
