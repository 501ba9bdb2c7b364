"""Plan vs actual: the plan in force at each step against what the meters measured, per local day and in total.

Inputs are on one time axis of interval starts: ``plan`` holds the setpoints and
forecasts of the plan that was in force at each step (``schedule_id`` says which
version), ``actual`` holds the readings averaged onto the same steps, by series
name (:mod:`scenarios.meters`). A step counts where both have a value. Columns are
found by their role (``grid_import``, ``grid_export``, ``pv_output``,
``green_purchase``), as the optimiser described them, never by asset name.

- energy [kWh], energy cost at the plan's prices [CNY] (import x import price -
  export x export price; ``<grid>.import_price_cny_per_kwh`` beside ``<grid>.import_kw``),
  peak import [kW];
- PV self-consumption and green share, planned and actual (green purchases are
  the plan's: certificates have no meter);
- forecast errors per input the plan forecast (``forecasts``: input name -> plan
  column, e.g. ``process_load -> process_load.power_kw``): MAE and bias (forecast
  - actual) in the input's unit, over the steps with a reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from forecasting.metrics import bias, mae


def _by_role(plan: pd.DataFrame, roles: Mapping[str, str | None], role: str) -> list[str]:
    return [c for c, r in roles.items() if r == role and c in plan.columns]


def _sum(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    return frame[columns].sum(axis=1) if columns else pd.Series(0.0, index=frame.index)


def _flows(frame: pd.DataFrame, plan: pd.DataFrame, roles: Mapping[str, str | None]) -> pd.DataFrame | None:
    """Import, export, PV output and green purchase [kW] per step from ``frame``'s columns (None if it has no
    import); green purchases always from the plan."""
    imports = [c for c in _by_role(plan, roles, "grid_import") if c in frame.columns]
    if not imports:
        return None
    exports = [c for c in _by_role(plan, roles, "grid_export") if c in frame.columns]
    pv = [c for c in _by_role(plan, roles, "pv_output") if c in frame.columns]
    flows = pd.DataFrame(
        {
            "import_kw": _sum(frame, imports),
            "export_kw": _sum(frame, exports),
            "pv_kw": _sum(frame, pv),
            "green_kw": _sum(plan, _by_role(plan, roles, "green_purchase")).reindex(frame.index).fillna(0.0),
        }
    )
    cost = pd.Series(0.0, index=frame.index)
    for column, sign in [*((c, 1.0) for c in imports), *((c, -1.0) for c in exports)]:
        price = column.removesuffix("_kw") + "_price_cny_per_kwh"  # grid.import_kw -> grid.import_price_cny_per_kwh
        if price in plan.columns:
            cost += sign * frame[column] * plan[price].reindex(frame.index)
    flows["cost_cny_per_h"] = cost
    return flows


def _figures(flows: pd.DataFrame, step_h: float) -> dict[str, float | None]:
    imported = float(flows["import_kw"].sum() * step_h)
    exported = float(flows["export_kw"].sum() * step_h)
    pv = float(flows["pv_kw"].sum() * step_h)
    green = float(flows["green_kw"].sum() * step_h)
    used_pv = pv - exported
    consumption = imported + used_pv
    return {
        "import_kwh": round(imported, 3),
        "export_kwh": round(exported, 3),
        "pv_kwh": round(pv, 3),
        "energy_cost_cny": round(float(flows["cost_cny_per_h"].sum() * step_h), 2),
        "peak_import_kw": round(float(flows["import_kw"].max()), 3) if len(flows) else None,
        "pv_self_consumption_frac": round(used_pv / pv, 4) if pv > 0 else None,
        "green_share_frac": round((used_pv + green) / consumption, 4) if consumption > 0 else None,
    }


def _errors(plan: pd.DataFrame, actual: pd.DataFrame, forecasts: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, column in forecasts.items():
        if name not in actual.columns or column not in plan.columns:
            continue
        keep = plan[column].notna() & actual[name].notna()
        if not keep.any():
            continue
        forecast, measured = plan.loc[keep, column], actual.loc[keep, name]
        out[name] = {
            "column": column,
            "steps": int(keep.sum()),
            "mae": round(mae(forecast, measured), 3),
            "bias": round(bias(forecast, measured), 3),
        }
    return out


def compare(
    plan: pd.DataFrame,
    actual: pd.DataFrame,
    roles: Mapping[str, str | None],
    forecasts: Mapping[str, str],
    step_minutes: int,
    tz: str,
) -> dict[str, Any]:
    """Plan vs actual per local day and in total (see the module docstring); ``{"days": [...], "total": {...}}``."""
    step_h = step_minutes / 60.0
    actual = actual.reindex(plan.index)
    planned_flows = _flows(plan, plan, roles)
    actual_flows = _flows(actual.assign(**_pv_actual(plan, actual, roles, forecasts)), plan, roles)
    metered = actual_flows["import_kw"].notna() if actual_flows is not None else pd.Series(False, index=plan.index)

    def block(rows: pd.Index) -> dict[str, Any]:
        steps = rows[metered.loc[rows].to_numpy()]
        figures: dict[str, Any] = {
            "steps_planned": len(rows),
            "steps_compared": len(steps),
            "plan_versions": sorted({int(v) for v in plan.loc[rows, "schedule_id"].dropna()}),
        }
        if planned_flows is not None and len(steps):
            figures["plan"] = _figures(planned_flows.loc[steps], step_h)
        if actual_flows is not None and len(steps):
            figures["actual"] = _figures(actual_flows.loc[steps].fillna(0.0), step_h)
        figures["forecast_errors"] = _errors(plan.loc[rows], actual.loc[rows], forecasts)
        return figures

    local_days = plan.index.tz_convert(tz).date
    days = [{"date": day.isoformat(), **block(plan.index[local_days == day])} for day in sorted(set(local_days))]
    return {"days": days, "total": block(plan.index)}


def _pv_actual(
    plan: pd.DataFrame, actual: pd.DataFrame, roles: Mapping[str, str | None], forecasts: Mapping[str, str]
) -> dict[str, pd.Series]:
    """Measured PV output per PV output column: its own meter (``<pv>.output_kw``), else the PV input's readings
    (the array's production)."""
    out = {}
    for column in _by_role(plan, roles, "pv_output"):
        if column in actual.columns:
            continue
        asset = column.rsplit(".", 1)[0]
        for name, forecast_column in forecasts.items():
            if forecast_column == f"{asset}.available_kw" and name in actual.columns:
                out[column] = actual[name]
    return out
