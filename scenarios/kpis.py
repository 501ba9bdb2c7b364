"""KPIs of a run of several days, combined from the days' KPIs.

Energies, costs, emissions, hours and counts add up; peaks take the maximum;
the two shares are recomputed from the summed energies (never averaged over
days): PV self-consumption = (PV output - export) / PV available, green share
= (PV output - export + green contracts) / consumption, as in
:mod:`optimizer.kpis`. Target shortfalls add up per target (each day's target
is enforced on that day). Costs by group and hours by month add up, so a run's
saving splits and scales like a day's (:func:`optimizer.kpis.savings`); a
baseline's shortfalls merge per bus (:func:`optimizer.baseline_state.merge_shortfalls`).

:func:`written_kpis` and :func:`written_savings` are KPIs and savings as files and
responses write them (:mod:`scenarios.rounding`'s precisions; a baseline's
shortfalls too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from optimizer import Kpis
from optimizer.baseline_state import BaselineShortfall, merge_shortfalls
from optimizer.kpis import BaselineKpis, Savings, TargetShortfall, shortfalls_of
from scenarios.rounding import AMOUNT, RATE, round_kpi_value, round_number, rounded_kpis


def _add_dicts(values: list[dict[str, float] | None]) -> dict[str, float] | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    out: dict[str, float] = {}
    for value in present:
        for key, amount in value.items():
            out[key] = out.get(key, 0.0) + amount
    return out


def _add(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _shortfalls(days: Sequence[Kpis]) -> list[TargetShortfall]:
    merged: dict[str, TargetShortfall] = {}
    for kpis in days:
        for s in kpis.target_shortfalls:
            if s.target in merged:
                m = merged[s.target]
                merged[s.target] = TargetShortfall(
                    target=s.target,
                    period="run",
                    required=m.required + s.required,
                    achieved=m.achieved + s.achieved,
                    shortfall=m.shortfall + s.shortfall,
                    unit=s.unit,
                )
            else:
                merged[s.target] = s.model_copy()
    return list(merged.values())


def combine_kpis(days: Sequence[Kpis]) -> Kpis:
    """One :class:`~optimizer.Kpis` for consecutive horizons (e.g. the days of a rolling run)."""
    if not days:
        raise ValueError("no KPIs to combine")
    if len(days) == 1:
        return days[0]
    values: dict[str, Any] = {}
    for name in Kpis.model_fields:
        column = [getattr(k, name) for k in days]
        if name == "target_shortfalls":
            values[name] = _shortfalls(days)
        elif name.startswith(("peak_", "max_")):
            present = [v for v in column if v is not None]
            values[name] = max(present) if present else None
        elif name.endswith("_frac"):
            values[name] = None  # recomputed below from the energies
        elif any(isinstance(v, dict) for v in column):
            values[name] = _add_dicts(column)
        else:
            values[name] = _add(column)
    pv_available = values["pv_available_kwh"]
    self_used = values["pv_output_kwh"] - values["export_kwh"]
    consumption = values["consumption_kwh"]
    values["pv_self_consumption_frac"] = self_used / pv_available if pv_available > 0 else None
    values["green_share_frac"] = (self_used + values["green_contract_kwh"]) / consumption if consumption > 0 else None
    for name in (
        "cost_cny_by_component",
        "emissions_location_kgco2_by_source",
        "emissions_market_kgco2_by_source",
        "cost_cny_by_group",
        "horizon_h_by_month",
    ):
        if values.get(name) is None:
            values[name] = {}
    if all(isinstance(k, BaselineKpis) for k in days):
        return BaselineKpis(**values, shortfalls=merge_shortfalls(s for k in days for s in shortfalls_of(k)))
    return Kpis(**values)


def written_shortfall(shortfall: BaselineShortfall | Mapping[str, Any]) -> dict[str, Any]:
    """A baseline shortfall as written: the amount at 0.001 (kWh, kWh_th, m3), the worst step's rate at 0.001."""
    data = shortfall.model_dump() if isinstance(shortfall, BaseModel) else dict(shortfall)
    data["amount"] = round_number(data["amount"], AMOUNT, tiny_to_zero=True)
    data["worst"] = round_number(data["worst"], RATE, tiny_to_zero=True)
    return data


def written_kpis(kpis: Kpis | Mapping[str, Any]) -> dict[str, Any]:
    """KPIs as written (:func:`scenarios.rounding.rounded_kpis`), a baseline's shortfalls included."""
    out = rounded_kpis(kpis)
    if "shortfalls" in out:
        out["shortfalls"] = [written_shortfall(s) for s in out["shortfalls"] or []]
    return out


def written_savings(saving: Savings) -> dict[str, Any]:
    """A saving as written: money to 0.01 CNY, the run's days to 0.001."""
    out: dict[str, Any] = {}
    for name, value in saving.model_dump().items():
        if name == "days":
            out[name] = round_number(value, AMOUNT)
        elif name.endswith("_cny"):
            out[name] = round_kpi_value(name, value)
        else:
            out[name] = value
    return out
