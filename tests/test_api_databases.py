"""What SQLite stores and PostgreSQL refuses, answered the same on both (run on both, as every ``test_api*`` module):
an id beyond a 4-byte integer, a NUL character in a text column, a string longer than its column.

On PostgreSQL each of these used to reach the driver and fail the query (a 500); SQLite took them.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api_fixtures import HEADERS, api_client, create_site, field_names, small_site

WEATHER = json.loads((Path(__file__).parent / "data" / "forecasting" / "open_meteo_shenyang_hourly.json").read_text())
BEYOND_INT4 = 2**31


def test_ids_beyond_a_four_byte_integer_are_refused_not_looked_up(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        assert client.get(f"/v1/sites/{BEYOND_INT4 - 1}", headers=HEADERS).status_code == 404
        for url in (f"/v1/sites/{BEYOND_INT4}", f"/v1/schedules/{BEYOND_INT4}", f"/v1/schedules?site_id={BEYOND_INT4}"):
            response = client.get(url, headers=HEADERS)
            assert response.status_code == 422, (url, response.text)


def test_a_site_name_with_a_nul_character_is_422(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        response = client.post("/v1/sites", json=small_site(name="north\x00plant"), headers=HEADERS)
        assert field_names(response) == ["body.name"]
        assert client.get("/v1/sites", headers=HEADERS).json() == []


class _Forecast(http.server.BaseHTTPRequestHandler):
    """The Open-Meteo test forecast at any path."""

    def do_GET(self) -> None:
        body = json.dumps(WEATHER).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def forecast_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Forecast)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_forecast_from_a_url_longer_than_its_column_is_stored_with_the_url_cut(
    tmp_path: Path, forecast_server: str
) -> None:
    """``weather_forecasts.source`` is 400 characters; an Open-Meteo URL with many variables can be longer."""
    template = forecast_server + "/forecast?latitude={latitude}&longitude={longitude}&hourly=" + "x" * 450
    with api_client(tmp_path, weather_url=template) as client:
        site_id = create_site(client, small_site())
        fetched = client.post(f"/v1/sites/{site_id}/weather/fetch", headers=HEADERS)
        assert fetched.status_code == 201, fetched.text
        [stored] = client.get(f"/v1/sites/{site_id}/weather", headers=HEADERS).json()
        assert len(stored["source"]) == 400
        assert stored["source"].startswith(forecast_server + "/forecast?latitude=41.8&longitude=123.4&hourly=xxx")
        assert stored["source"].endswith("x…")
