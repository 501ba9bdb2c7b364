"""The rounding policy of outputs (:mod:`scenarios.rounding`): hand cases, properties, and the files a run writes."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import DispatchResult, Kpis, solve
from optimizer.dispatch import ColumnInfo
from scenarios.rounding import (
    AMOUNT,
    COUNT,
    DEFAULT_SCHEDULE,
    KPI_FRACTION,
    MONEY,
    PRICE,
    RATE,
    SCHEDULE_FRACTION,
    Precision,
    column_precision,
    kpi_precision,
    round_kpi_value,
    round_number,
    round_schedule,
    round_series,
    round_table,
    rounded_kpis,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "examples" / "shenyang_factory.yaml"
FAST = ("--no-progress", "-j", "1")


def positive_zero(value: float) -> bool:
    return value == 0.0 and math.copysign(1.0, value) == 1.0


@pytest.fixture(scope="module")
def solved() -> DispatchResult:
    from scenarios.factory import factory_problem

    return solve(factory_problem(dt.date(2026, 7, 15)))


# --- hand cases ------------------------------------------------------------------------------------


def test_machine_floats_become_what_a_person_would_write() -> None:
    schedule = pd.DataFrame(
        {
            "grid.import_price_cny_per_kwh": [0.30999999999999994, 0.62],
            "grid.import_kw": [-0.0, 495.35612345],
            "battery.charge_kw": [-1e-9, 3.0000000000000004],
            "chiller_1.on": [0.9999999999999958, 1.2e-12],
            "compressors_lu.on": [2.0000000000000004, 0.0],  # a group of units
            "compressors_lu.loaded_frac": [0.123456789, -0.0],
            "heat_pump.cop": [3.14159265, 2.5],
        }
    )
    out = round_schedule(schedule)
    assert out["grid.import_price_cny_per_kwh"].tolist() == [0.31, 0.62]
    assert out["grid.import_kw"].tolist() == [0.0, 495.356]
    assert positive_zero(out["grid.import_kw"].iloc[0]) and positive_zero(out["battery.charge_kw"].iloc[0])
    assert out["battery.charge_kw"].tolist() == [0.0, 3.0]
    assert out["chiller_1.on"].dtype == np.int64 and out["chiller_1.on"].tolist() == [1, 0]
    assert all(type(v) is int for v in out["chiller_1.on"].tolist())
    assert out["compressors_lu.on"].tolist() == [2, 0] and out["compressors_lu.on"].dtype == np.int64
    assert out["compressors_lu.loaded_frac"].tolist() == [0.1235, 0.0]
    assert out["heat_pump.cop"].tolist() == [3.1416, 2.5]
    text = out.to_csv(index=False)
    assert "-0.0" not in text and "e-" not in text and "0.30999" not in text
    assert text.splitlines()[1] == "0.31,0.0,0.0,1,2,0.1235,3.1416"
    assert schedule["grid.import_price_cny_per_kwh"].iloc[0] == 0.30999999999999994  # the input is not changed


def test_kpis_are_written_at_their_precision_and_tiny_values_as_zero() -> None:
    assert round_kpi_value("cost_cny_by_component", {"demand_charge": 7.96e-12, "grid_energy": 10416.4987}) == {
        "demand_charge": 0.0,
        "grid_energy": 10416.5,
    }
    assert round_kpi_value("energy_cost_cny", 0.009) == 0.0  # |x| below 0.01 CNY
    assert round_kpi_value("energy_cost_cny", -0.001) == 0.0 and positive_zero(
        round_kpi_value("energy_cost_cny", -0.001)
    )
    assert round_kpi_value("import_kwh", 15681.85912) == 15681.859
    assert round_kpi_value("emissions_market_kgco2_by_source", {"grid": 6511.66149}) == {"grid": 6511.661}
    assert round_kpi_value("green_share_frac", 0.53089212345) == 0.530892
    assert round_kpi_value("pv_self_consumption_frac", None) is None
    assert round_kpi_value("max_balance_residual_kw", 3.4e-9) == 0.0
    assert round_kpi_value("unknown_thing", 0.123456789) == 0.123456789  # no unit: as it is


def test_every_kpi_has_a_precision() -> None:
    unknown = [name for name in Kpis.model_fields if name != "target_shortfalls" and kpi_precision(name) is None]
    assert unknown == []
    assert kpi_precision("cost:demand_charge") == MONEY
    assert kpi_precision("energy_cost_cny_vs_base") == MONEY and kpi_precision("saving_vs_rules_cny") == MONEY
    assert kpi_precision("green_share_frac_vs_rules") == KPI_FRACTION
    assert kpi_precision("cooling_electricity_kwh_by_band") == AMOUNT


def test_rounded_kpis_of_a_solved_day(solved: DispatchResult) -> None:
    kpis = solved.kpis.model_copy(update={"cost_cny_by_component": {**solved.kpis.cost_cny_by_component}})
    kpis.cost_cny_by_component["demand_charge"] = 7.96e-12
    out = rounded_kpis(kpis)
    assert out["cost_cny_by_component"]["demand_charge"] == 0.0
    assert out["energy_cost_cny"] == pytest.approx(kpis.energy_cost_cny, abs=0.005)
    assert out["energy_cost_cny"] == round(out["energy_cost_cny"], 2)
    for shortfall in out["target_shortfalls"]:
        assert shortfall["required"] == round(shortfall["required"], 3)
    Kpis.model_validate(out)  # still valid KPIs (the stored-schedule report reads them back)
    assert "e-" not in json.dumps(out)


def test_every_column_of_a_solved_schedule_has_a_unit(solved: DispatchResult) -> None:
    precisions = {c: column_precision(c, solved.columns.get(c)) for c in solved.schedule.columns}
    assert [c for c, p in precisions.items() if p == DEFAULT_SCHEDULE] == []
    assert precisions["grid.import_price_cny_per_kwh"] == PRICE
    assert precisions["battery.soc_kwh"] == AMOUNT and precisions["air_receiver.level_m3"] == AMOUNT
    assert precisions["compressed_air.flow_m3_per_min"] == RATE and precisions["gas_boiler.gas_nm3_per_h"] == RATE
    assert precisions["compressors_lu.loaded_frac"] == SCHEDULE_FRACTION
    integers = {c for c, p in precisions.items() if p == COUNT}
    assert {"chiller_1.on", "chiller_1.starts", "chiller_1.ice_mode", "compressors_lu.start"} <= integers
    out = round_schedule(solved.schedule, solved.columns)
    assert {c for c in out.columns if out[c].dtype == np.int64} == integers
    assert (out - solved.schedule).abs().max().max() <= 0.5e-3 + 1e-9
    base = round_schedule(solved.baseline_schedule, solved.columns)
    assert {c for c in base.columns if base[c].dtype == np.int64} == integers


def test_a_column_unknown_by_name_takes_its_unit_from_the_optimiser() -> None:
    assert column_precision("tank.level", ColumnInfo(capacity=100.0)) == AMOUNT
    assert column_precision("pump.flow", ColumnInfo(bus="electricity")) == RATE
    assert column_precision("thing.count", ColumnInfo(role="compressor_on")) == COUNT
    assert column_precision("thing.value") == DEFAULT_SCHEDULE


def test_a_fractional_integer_column_stays_a_float_at_0001() -> None:
    # a continuous start count that nothing costs may sit between integers: not forced to one
    out = round_series(pd.Series([0.5, 1.0, 0.0], name="units.start"), COUNT)
    assert out.dtype == float and out.tolist() == [0.5, 1.0, 0.0]
    gaps = round_series(pd.Series([1.0000001, np.nan, 0.0], name="units.on"), COUNT)
    assert str(gaps.dtype) == "Int64" and gaps.tolist()[0] == 1 and gaps.isna().tolist() == [False, True, False]


def test_summary_tables_round_by_name_and_leave_parameters_and_text() -> None:
    table = pd.DataFrame(
        {
            "run": ["base"],
            "param:site.battery.capacity_kwh": [333.33333333],
            "energy_cost_cny": [10528.594999],
            "energy_cost_cny_vs_base": [-0.0000001],
            "green_share_frac": [0.53089212345],
            "days": [1],
            "saving": [7500.3612],
        }
    )
    out = round_table(table, {"saving": MONEY})
    assert out.iloc[0].to_dict() == {
        "run": "base",
        "param:site.battery.capacity_kwh": 333.33333333,
        "energy_cost_cny": 10528.59,
        "energy_cost_cny_vs_base": 0.0,
        "green_share_frac": 0.530892,
        "days": 1,
        "saving": 7500.36,
    }
    assert positive_zero(out["energy_cost_cny_vs_base"].iloc[0])


def test_non_numbers_pass_through() -> None:
    assert round_number(None, RATE) is None
    assert round_number(True, COUNT) is True
    assert round_number("x", RATE) == "x"
    assert math.isnan(round_number(float("nan"), RATE)) and round_number(float("inf"), RATE) == float("inf")
    assert round_number(np.float64(0.30999999999999994), MONEY) == 0.31
    assert round_number(np.float64(0.9999999999999958), COUNT) == 1 and type(round_number(0.99, COUNT)) is int


# --- properties ------------------------------------------------------------------------------------

SCHEDULE_PRECISIONS = [RATE, AMOUNT, PRICE, SCHEDULE_FRACTION, DEFAULT_SCHEDULE]
finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


def within(original: float, rounded: float, limit: float) -> bool:
    return abs(rounded - original) <= limit * (1 + 1e-9) + abs(original) * 4e-16


@settings(max_examples=300, deadline=None)
@given(st.lists(finite, min_size=1, max_size=30), st.sampled_from(SCHEDULE_PRECISIONS))
def test_rounding_a_column_moves_no_value_by_more_than_half_its_resolution(values: list[float], p: Precision) -> None:
    out = round_series(pd.Series(values, dtype=float), p)
    assert out.dtype == float
    for original, rounded in zip(values, out.tolist(), strict=True):
        assert within(original, rounded, p.step / 2)
        assert rounded != 0.0 or positive_zero(rounded)
        assert rounded == round(rounded, p.decimals)  # nothing finer than the resolution
        assert "e-" not in repr(rounded)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=8), st.floats(min_value=-1e-6, max_value=1e-6)),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["chiller.on", "chiller.starts", "chiller.ice_mode", "group.start"]),
)
def test_integer_columns_come_out_as_ints(values: list[tuple[int, float]], column: str) -> None:
    frame = pd.DataFrame({column: [n + noise for n, noise in values], "grid.import_kw": [0.1] * len(values)})
    out = round_schedule(frame)
    assert out[column].dtype == np.int64
    assert out[column].tolist() == [n for n, _ in values]
    assert all(type(v) is int for v in out[column].tolist())


@settings(max_examples=300, deadline=None)
@given(
    finite,
    st.sampled_from(["energy_cost_cny", "import_kwh", "emissions_market_kgco2", "green_share_frac", "peak_import_kw"]),
)
def test_a_kpi_moves_by_no_more_than_its_resolution(value: float, name: str) -> None:
    precision = kpi_precision(name)
    assert precision is not None
    rounded = round_kpi_value(name, value)
    assert within(value, rounded, precision.step)
    assert rounded != 0.0 or positive_zero(rounded)
    if abs(value) < precision.step:
        assert rounded == 0.0


# --- where numbers leave the program ---------------------------------------------------------------


def test_api_records_are_rounded_and_typed(solved: DispatchResult) -> None:
    from api.presenters import schedule_records

    columns, records = schedule_records(solved)
    assert columns == list(solved.schedule.columns)
    first = records[0]
    assert set(first) == {"interval_start", *columns}
    assert type(first["chiller_1.on"]) is int and type(first["grid.import_kw"]) is float
    for record in records:
        for column in columns:
            value = record[column]
            assert value is None or (value != 0.0 or positive_zero(float(value)))
            assert "e-" not in repr(value)
    assert solved.schedule["grid.import_kw"].iloc[0] == pytest.approx(first["grid.import_kw"], abs=5e-4)


def test_report_tables_write_no_negative_zero() -> None:
    from scenarios.report_tables import fmt_delta, fmt_value

    assert fmt_value(-0.04, "kWh") == "0.0" and fmt_value(-1e-12, "%") == "0.0 %"
    assert fmt_delta(-0.3, "CNY", True).text == "0" and fmt_delta(-0.3, "CNY", True).css is None
    assert fmt_delta(-2e-5, "%", False).text == "0"
    assert fmt_delta(-5.0, "CNY", True).text == "-5" and fmt_delta(-5.0, "CNY", True).css == "better"


def _numbers(value: Any) -> list[float]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, float) else []


def test_dispatch_run_writes_readable_files(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scenarios.cli", "run", str(EXAMPLE), "--days", "1", "--out", str(tmp_path), *FAST],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    for name in ("schedule.csv", "baseline_schedule.csv"):
        text = (tmp_path / name).read_text()
        assert "e-" not in text and "e+" not in text, name
        header, *rows = text.splitlines()
        assert len(rows) == 96
        columns = header.split(",")
        for row in rows:
            for column, cell in zip(columns[1:], row.split(",")[1:], strict=True):
                decimals = len(cell.partition(".")[2])
                assert decimals <= 4, (name, column, cell)
                assert not (cell.startswith("-") and float(cell) == 0.0), (name, column, cell)  # no -0.0
                if column_precision(column) == COUNT:
                    assert re.fullmatch(r"\d+", cell), (name, column, cell)  # 0/1/2, not 1.0
        schedule = pd.read_csv(tmp_path / name, index_col="interval_start")
        assert schedule["chiller_1.on"].dtype == np.int64
    days = (tmp_path / "days.csv").read_text()
    assert not re.search(r"\d[eE][-+]?\d", days)  # no number in scientific notation (text such as "re-used" may)
    assert not re.search(r"(^|,)-0(\.0*)?(,|$)", days, re.MULTILINE)
    assert "not re-usable: asset 'green_certificates'" in days  # the model column, with its reason
    payload = json.loads((tmp_path / "kpis.json").read_text())
    for key in ("kpis", "baseline_kpis"):
        for number in _numbers(payload[key]):
            assert number == 0.0 or abs(number) >= 1e-6
            assert number != 0.0 or positive_zero(number)
        assert payload[key]["energy_cost_cny"] == round(payload[key]["energy_cost_cny"], 2)
    assert payload["saving_cny"] == round(payload["saving_cny"], 2)
