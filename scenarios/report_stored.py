"""Stored API schedules for the HTML report: the facts stored with a schedule, and a run rebuilt from them.

:func:`schedule_metadata` is what the API stores with a schedule (bus, sign and role per column, store
capacities, TOU bands); :func:`stored_schedule` turns the stored response (``ScheduleOut`` as JSON) back into
a :class:`~scenarios.pipeline.ScenarioRun` for :func:`scenarios.report_html.render_stored_schedule_html`,
guessing the electricity flows and bands from the column names and prices when no metadata was stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from optimizer import DispatchResult, Kpis
from scenarios.pipeline import FlowInfo, ScenarioRun


@dataclass(frozen=True)
class Violation:
    """A violation of a stored schedule, as shown (strings)."""

    kind: str
    name: str
    amount: str
    unit: str
    timestamp: str


@dataclass(frozen=True)
class StoredSchedule:
    run: ScenarioRun
    title: str
    violations: list[Violation]
    guessed: bool  # no metadata: flows and bands guessed from names and price levels


def schedule_metadata(result: DispatchResult, currency: str = "CNY") -> dict[str, Any]:
    """JSON-able facts the report needs beyond the schedule, as the optimizer described its result: per column
    bus/sign/role, store capacities, TOU bands.

    Store it with a schedule (e.g. under ``"report_metadata"``) so that
    :func:`scenarios.report_html.render_stored_schedule_html` can draw the full report later.
    """
    return {
        "flows": {c: {"bus": f.bus, "sign": f.sign, "role": f.role} for c, f in result.columns.items()},
        "capacities": {c: f.capacity for c, f in result.columns.items() if f.capacity is not None},
        "bands": None if result.bands is None else result.bands.tolist(),
        "currency": currency,
    }


def _guess_flows(columns: list[str]) -> dict[str, FlowInfo]:
    """Electricity flows recognisable by name alone (used when no metadata came with a stored schedule).

    Only unambiguous columns are placed: grid import/export, PV output, battery-like stores (with a
    ``.soc_kwh``), and ``.power_kw``/``.electricity_kw`` draws of assets that are not contracts.
    """
    assets: dict[str, set[str]] = {}
    for column in columns:
        asset, _, field = column.rpartition(".")
        assets.setdefault(asset, set()).add(field)
    flows: dict[str, FlowInfo] = {}
    for asset, fields in assets.items():
        contract = "price_cny_per_kwh" in fields
        for field in fields:
            column = f"{asset}.{field}"
            if field == "import_kw":
                flows[column] = FlowInfo("electricity", 1.0, "grid_import")
            elif field == "export_kw":
                flows[column] = FlowInfo("electricity", -1.0, "grid_export")
            elif field == "output_kw" and "available_kw" in fields:
                flows[column] = FlowInfo("electricity", 1.0, "pv_output")
            elif field in ("charge_kw", "discharge_kw") and "soc_kwh" in fields:
                flows[column] = FlowInfo("electricity", 1.0 if field == "discharge_kw" else -1.0, None)
            elif field in ("power_kw", "electricity_kw") and not contract:
                flows[column] = FlowInfo("electricity", -1.0, None)
    return flows


def _guess_bands(prices: pd.Series) -> pd.Series | None:
    """TOU bands from the levels of an import price (lowest valley, then flat, peak, sharp)."""
    levels = sorted(set(np.round(prices.to_numpy(dtype=float), 6)))
    if not 2 <= len(levels) <= 4:
        return None
    names = ["valley", "flat", "peak", "sharp"][: len(levels)]
    lookup = dict(zip(levels, names, strict=True))
    return pd.Series([lookup[v] for v in np.round(prices.to_numpy(dtype=float), 6)], index=prices.index, name="band")


def stored_schedule(payload: dict[str, Any]) -> StoredSchedule:
    """The run, title and violations of a stored schedule (the API's ``ScheduleOut`` as JSON).

    Uses ``payload["report_metadata"]`` (see :func:`schedule_metadata`) to place every column on its bus;
    without it, only electricity flows recognisable by name are placed and the TOU bands are read off the
    import price's levels (``guessed``).
    """
    records = payload.get("schedule") or []
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        raise ValueError("the stored schedule has no steps")
    index = pd.DatetimeIndex(pd.to_datetime(frame.pop("interval_start"), format="ISO8601"))
    if index.tz is None:
        index = index.tz_localize("UTC")
    schedule = frame.astype(float).set_axis(index)
    metadata = payload.get("report_metadata")
    guessed = metadata is None
    if metadata is not None:
        flows = {
            c: FlowInfo(v.get("bus"), float(v.get("sign", 1.0)), v.get("role")) for c, v in metadata["flows"].items()
        }
        capacities = {c: float(v) for c, v in (metadata.get("capacities") or {}).items()}
        bands_list = metadata.get("bands")
        bands = pd.Series(bands_list, index=index, name="band") if bands_list else None
        currency = str(metadata.get("currency") or "CNY")
    else:
        flows = _guess_flows(list(schedule.columns))
        capacities = {}
        price = next((c for c in schedule.columns if c.endswith(".import_price_cny_per_kwh")), None)
        bands = _guess_bands(schedule[price]) if price is not None else None
        currency = "CNY"
    try:
        kpis = Kpis.model_validate(payload["kpis"])
        baseline = Kpis.model_validate(payload["baseline_kpis"])
    except (KeyError, ValueError) as error:
        raise ValueError(f"the stored schedule's KPIs cannot be read: {error}") from error
    from scenarios.pipeline import DayRecord

    solver = payload.get("solver") or {}
    record = DayRecord(
        period=f"{index[0]:%Y-%m-%d}",
        start=index[0].isoformat(),
        status=str(payload.get("status", "")),
        schedule_source="fallback" if payload.get("status") == "fallback" else "optimizer",
        energy_cost_cny=kpis.energy_cost_cny,
        baseline_energy_cost_cny=baseline.energy_cost_cny,
        objective_cny=solver.get("objective"),
        mip_gap=solver.get("mip_gap"),
        build_seconds=float(solver.get("build_seconds") or 0.0),
        solve_seconds=float(solver.get("solve_seconds") or 0.0),
        model_reuse=str(solver.get("model_reuse") or ""),
    )
    run = ScenarioRun(
        scenario=f"site {payload.get('site_id', '')}".strip(),
        label=f"schedule {payload.get('schedule_id', '')}".strip(),
        description=str(payload.get("message", "")),
        currency=currency,
        schedule=schedule,
        baseline_schedule=schedule.iloc[0:0],
        kpis=kpis,
        baseline_kpis=baseline,
        days=[record],
        daily_kpis=[kpis],
        daily_baseline_kpis=[baseline],
        flows=flows,
        capacities=capacities,
        bands=bands,
        seconds=record.build_seconds + record.solve_seconds,
    )
    violations = [
        Violation(
            kind=str(v.get("kind")),
            name=str(v.get("name")),
            amount=f"{float(v.get('amount') or 0):,.2f}",
            unit=str(v.get("unit") or ""),
            timestamp=str(v.get("timestamp") or ""),
        )
        for v in payload.get("violations") or []
    ]
    title = f"Schedule {payload.get('schedule_id', '')} of site {payload.get('site_id', '')}"
    return StoredSchedule(run, title, violations, guessed)
