"""Quantiles through the scenario inputs (``quantile:`` on history and weather inputs) and the EMS service
(``sources.<input>.quantiles`` of a dispatch response), on real data: the steel plant's load and the State Grid
plant's March-April 2019 excerpt."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from forecasting import forecast_load
from scenarios.errors import ScenarioError
from scenarios.inputs import Inputs
from scenarios.loader import load_scenario
from tests.api_fixtures import HEADERS, create_site, make_settings, small_site

ROOT = Path(__file__).resolve().parents[1]
PLANT = ROOT / "tests" / "data" / "forecasting" / "state_grid_site1_2019_03_04.csv"
STEEL = ROOT / "scenarios" / "data" / "steel_load_2018_15min.csv"
TZ = "Asia/Shanghai"

SCENARIO = """\
name: quantiles
site:
  name: State Grid site 1 and a steel load
  latitude: 41.25
  longitude: 94.66
  altitude_m: 870
  pv_arrays:
    - {name: plant, dc_kwp: 50000, inverter_ac_kw: 50000, mount: {kind: fixed, tilt_deg: 36, azimuth_deg: 182}}
  assets:
    - {kind: grid, name: grid, import_limit_kw: 100000, tariff: {preset: liaoning}}
    - {kind: pv, name: pv, available_kw: $inputs.pv}
    - {kind: load, name: load, power_kw: $inputs.load}
horizon: {start: 2019-04-20}
inputs:
  pv: {weather: weather.csv}
  pv_p10: {weather: weather.csv, quantile: 0.1, measured: pv.csv}
  pv_p90: {weather: weather.csv, quantile: 0.9, measured: pv.csv}
  load: {history: bundled:steel_load_2018_15min.csv, column: load_kw}
  load_p10: {history: bundled:steel_load_2018_15min.csv, column: load_kw, quantile: 0.1}
  load_p90: {history: bundled:steel_load_2018_15min.csv, column: load_kw, quantile: 0.9}
"""


def _scenario(tmp_path: Path, text: str = SCENARIO) -> Inputs:
    plant = pd.read_csv(PLANT, parse_dates=["time"])
    plant[["time", "temp_air_c"]].to_csv(tmp_path / "weather.csv", index=False)  # temperature only: clear sky
    pd.DataFrame({"time": plant["time"], "pv_kw": plant["power_mw"] * 1000.0}).to_csv(tmp_path / "pv.csv", index=False)
    path = tmp_path / "quantiles.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return Inputs(load_scenario(path).base())


def test_history_inputs_with_a_quantile(tmp_path: Path) -> None:
    inputs = _scenario(tmp_path)
    day = pd.date_range("2018-07-16", periods=96, freq="15min", tz=TZ)
    point, p10, p90 = (inputs.values(name, day) for name in ("load", "load_p10", "load_p90"))
    assert (p10 <= p90).all() and (p90 - p10).mean() > 20.0 and p10.min() >= 0.0
    # the same numbers as the forecasting API on the history before the day (the site's load model)
    meter = pd.read_csv(STEEL)
    history = pd.Series(
        meter["load_kw"].to_numpy(float), index=pd.DatetimeIndex(pd.to_datetime(meter.iloc[:, 0])).tz_localize(TZ)
    )
    history = history[history.index < day[0]]
    from scenarios.site import LoadModel

    frame = forecast_load(history, day, quantiles=(0.1, 0.9), settings=LoadModel()._arguments()["settings"])
    np.testing.assert_allclose(p90, frame["p90"].to_numpy())
    np.testing.assert_allclose(point, frame["point"].to_numpy())


def test_weather_inputs_with_a_quantile_learn_from_the_metered_output(tmp_path: Path) -> None:
    inputs = _scenario(tmp_path)
    day = pd.date_range("2019-04-20", periods=96, freq="15min", tz=TZ)
    point, p10, p90 = (inputs.values(name, day) for name in ("pv", "pv_p10", "pv_p90"))
    assert (p10 <= p90).all() and p10.min() >= 0.0 and p90.max() <= 50_000.0
    night = (day.hour < 6) | (day.hour >= 21)
    assert (p10[night] == 0.0).all() and (p90[night] == 0.0).all()
    noon = (day.hour >= 12) & (day.hour < 15)
    # the clear-sky point forecast is an upper bound: its P10 lies well below it, its P90 about at it
    assert p10[noon].mean() < 0.8 * point[noon].mean() and p90[noon].mean() > 0.9 * point[noon].mean()


def test_quantile_inputs_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="quantile needs measured"):
        _scenario(tmp_path, SCENARIO.replace("quantile: 0.1, measured: pv.csv", "quantile: 0.1"))
    with pytest.raises(ScenarioError, match="less than 1"):
        _scenario(tmp_path, SCENARIO.replace("column: load_kw, quantile: 0.9", "column: load_kw, quantile: 1.5"))


# --- the EMS service ------------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path):
    with TestClient(create_app(make_settings(tmp_path))) as test_client:
        yield test_client


def _readings(client: TestClient, site_id: int, name: str, series: pd.Series) -> None:
    rows = [{"series": name, "time": t.isoformat(), "value": round(float(v), 3)} for t, v in series.items()]
    response = client.post(f"/v1/sites/{site_id}/readings", json={"readings": rows}, headers=HEADERS)
    assert response.status_code == 200, response.text


def _service_site() -> dict[str, Any]:
    site = small_site()
    site["latitude"], site["longitude"] = 41.25, 94.66
    for asset in site["assets"]:
        if asset["kind"] == "load":
            asset["power_kw"] = "$inputs.load"
        if asset["kind"] == "pv":
            asset["available_kw"] = "$inputs.pv"
    site["pv_arrays"] = [
        {"name": "pv", "dc_kwp": 500.0, "mount": {"kind": "fixed", "tilt_deg": 36.0, "azimuth_deg": 182.0}}
    ]
    return site


def test_the_ems_response_carries_the_forecasts_quantiles(client: TestClient) -> None:
    """28 days of the steel plant's load (re-dated) and of the State Grid plant's output scaled to 500 kW before
    the planned day: the response's sources give P10/P50/P90 of both forecasts, one value per step."""
    day = pd.Timestamp("2019-04-20", tz=TZ)
    start = day - pd.Timedelta(days=28)
    meter = pd.read_csv(STEEL)
    steel = pd.Series(
        meter["load_kw"].to_numpy(float), index=pd.DatetimeIndex(pd.to_datetime(meter.iloc[:, 0])).tz_localize(TZ)
    )
    steel = steel[(steel.index >= "2018-03-24") & (steel.index < "2018-04-21")]  # 28 days, weekdays aligned
    steel.index = steel.index + (start - pd.Timestamp("2018-03-24", tz=TZ))
    plant = pd.read_csv(PLANT, parse_dates=["time"], index_col="time")
    output = plant["power_mw"].tz_localize(TZ) * 10.0  # 50 MW -> 500 kW
    site_id = create_site(client, _service_site())
    _readings(client, site_id, "load", steel)
    _readings(client, site_id, "pv", output[(output.index >= start) & (output.index < day)])
    response = client.post(f"/v1/sites/{site_id}/dispatch", json={"date": "2019-04-20"}, headers=HEADERS)
    assert response.status_code == 201, response.text
    sources = response.json()["sources"]
    for name in ("inputs.load", "inputs.pv"):
        quantiles = sources[name]["quantiles"]
        assert set(quantiles) == {"p10", "p50", "p90"}
        p10, p50, p90 = (np.array(quantiles[k]) for k in ("p10", "p50", "p90"))
        assert len(p10) == 96 and (p10 <= p50).all() and (p50 <= p90).all() and (p90 - p10).max() > 0.0
    assert sources["inputs.pv"]["origin"] == "forecast:pvlib-clear-sky"
    assert max(sources["inputs.pv"]["quantiles"]["p90"]) <= 500.0
    assert sources["initial_state.battery.initial_soc_frac"]["quantiles"] is None  # not a forecast
