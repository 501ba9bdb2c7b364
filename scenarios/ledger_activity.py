"""What a day did, as the carbon ledger (:mod:`scenarios.ledger`) needs it: one :class:`DayActivity` per local day
of a run or of the EMS service's daily account.

The activity of a day comes from the day's KPIs (grid import, green-contract energy, PV, gas) and the schedule
(purchased heat: KPIs have no heat energy); a run period of several days is split from the schedule by role.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from optimizer import Kpis
from optimizer.assets.grid import GREEN_PURCHASE, GRID_EXPORT, GRID_IMPORT
from optimizer.assets.heat import GAS_USE, KWH_PER_GJ
from optimizer.assets.pv import PV_AVAILABLE, PV_OUTPUT
from optimizer.types import NonNegFloat

if TYPE_CHECKING:
    from scenarios.ems_data import AccountDay


class FrozenRecord(BaseModel):
    """Base of the ledger's records: immutable, no fields beyond those declared."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DayActivity(FrozenRecord):
    """What one local day metered or planned, as the ledger needs it [kWh, Nm3, GJ]."""

    date: dt.date
    period: str = Field(description="Label of the run period the day belongs to (an ISO date, or a..b).")
    import_kwh: NonNegFloat = Field(description="Everything through the grid meter, green contracts included.")
    green_contract_kwh: NonNegFloat = Field(0.0, description="Part of the import covered by green contracts.")
    pv_available_kwh: NonNegFloat = 0.0
    pv_output_kwh: NonNegFloat = 0.0
    export_kwh: NonNegFloat = 0.0
    consumption_kwh: NonNegFloat = Field(0.0, description="Import + PV output - export.")
    gas_nm3: NonNegFloat = Field(0.0, description="Natural gas burnt [Nm3].")
    purchased_heat_gj: NonNegFloat = Field(0.0, description="Purchased heat or steam [GJ].")

    @property
    def uncovered_grid_kwh(self) -> float:
        """Grid import not covered by green contracts: what certificates may cover [kWh]."""
        return max(0.0, self.import_kwh - self.green_contract_kwh)

    @classmethod
    def from_account_day(cls, day: AccountDay) -> DayActivity:
        """The activity of one day of the EMS service's daily account (:class:`~scenarios.ems_data.AccountDay`,
        the latest row of the day): metered or planned energy, green purchases as planned, gas and purchased heat
        (0 for a row recorded before fuels were kept). Period: the day itself. Consumption = import + PV output -
        export, as the optimiser counts it."""
        return cls(
            date=day.day,
            period=day.day.isoformat(),
            import_kwh=day.import_kwh,
            green_contract_kwh=day.green_kwh,
            pv_available_kwh=day.pv_available_kwh,
            pv_output_kwh=day.pv_output_kwh,
            export_kwh=day.export_kwh,
            consumption_kwh=_consumption_kwh(day.import_kwh, day.pv_output_kwh, day.export_kwh),
            gas_nm3=day.gas_nm3 or 0.0,
            purchased_heat_gj=day.purchased_heat_gj or 0.0,
        )


def _consumption_kwh(import_kwh: float, pv_output_kwh: float, export_kwh: float) -> float:
    """Import + PV output - export, as the optimiser counts consumption (never below 0) [kWh]."""
    return max(0.0, import_kwh + pv_output_kwh - export_kwh)


def activity_from_kpis(day: dt.date, period: str, kpis: Kpis, purchased_heat_gj: float = 0.0) -> DayActivity:
    """The activity of one day from its KPIs (``purchased_heat_gj`` from the schedule: KPIs have no heat energy).
    Amounts a hair below zero (solver round-off in a sum, e.g. -6e-14 kWh of export) count as 0."""
    return DayActivity(
        date=day,
        period=period,
        import_kwh=max(0.0, kpis.import_kwh),
        green_contract_kwh=max(0.0, kpis.green_contract_kwh),
        pv_available_kwh=max(0.0, kpis.pv_available_kwh),
        pv_output_kwh=max(0.0, kpis.pv_output_kwh),
        export_kwh=max(0.0, kpis.export_kwh),
        consumption_kwh=max(0.0, kpis.consumption_kwh),
        gas_nm3=max(0.0, kpis.gas_use_nm3 or 0.0),
        purchased_heat_gj=max(0.0, purchased_heat_gj),
    )


def step_hours(index: pd.DatetimeIndex) -> float:
    """The step of a schedule index [h] (the median spacing; a run has one step)."""
    if len(index) < 2:
        raise ValueError("a schedule needs two rows to tell its step")
    spacing = pd.Series(index[1:] - index[:-1]).dt.total_seconds()
    return float(spacing.median()) / 3600.0


def _local_dates(index: pd.DatetimeIndex, tz: str) -> pd.Index:
    local = index.tz_convert(tz) if index.tz is not None else index
    return pd.Index([ts.date() for ts in local])


def _energy(rows: pd.DataFrame, columns: Sequence[str], dt_h: float) -> float:
    """The sum over ``rows`` of those of ``columns`` present, times the step [kW -> kWh, Nm3/h -> Nm3]."""
    present = [c for c in columns if c in rows.columns]
    return float(rows[present].to_numpy().sum() * dt_h) if present else 0.0


def heat_columns(site: Any) -> list[str]:
    """Schedule columns of the site's purchased heat (``<asset>.heat_kw``) [kW_th]."""
    return [f"{a.name}.heat_kw" for a in site.assets if getattr(a, "kind", None) == "purchased_heat"]


def activities_from_schedule(
    schedule: pd.DataFrame, flows: Mapping[str, Any], heat: Sequence[str], tz: str, period: str
) -> list[DayActivity]:
    """The activity of every local day of ``schedule`` from its columns by role (``flows``: column -> ColumnInfo
    with a ``role``) and the purchased-heat columns ``heat``; used for periods longer than a day."""
    dt_h = step_hours(pd.DatetimeIndex(schedule.index))
    dates = _local_dates(pd.DatetimeIndex(schedule.index), tz)
    by_role: dict[str, list[str]] = {}
    for column, info in flows.items():
        if getattr(info, "role", None) is not None:
            by_role.setdefault(info.role, []).append(column)

    def total(rows: pd.DataFrame, role: str) -> float:
        return _energy(rows, by_role.get(role, []), dt_h)

    out = []
    for day in dict.fromkeys(dates):
        rows = schedule[dates == day]
        imported, output, exported = total(rows, GRID_IMPORT), total(rows, PV_OUTPUT), total(rows, GRID_EXPORT)
        out.append(
            DayActivity(
                date=day,
                period=period,
                import_kwh=imported,
                green_contract_kwh=total(rows, GREEN_PURCHASE),
                pv_available_kwh=total(rows, PV_AVAILABLE),
                pv_output_kwh=output,
                export_kwh=exported,
                consumption_kwh=_consumption_kwh(imported, output, exported),
                gas_nm3=total(rows, GAS_USE),
                purchased_heat_gj=_energy(rows, heat, dt_h) / KWH_PER_GJ,
            )
        )
    return out


def period_dates(label: str) -> list[dt.date]:
    first, _, last = label.partition("..")
    start = dt.date.fromisoformat(first)
    end = dt.date.fromisoformat(last) if last else start
    return [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]


def activities_from_run(run: Any, site: Any) -> list[DayActivity]:
    """One :class:`DayActivity` per local day of a :class:`~scenarios.pipeline.ScenarioRun`: from the day's KPIs
    (purchased heat from the schedule), or split from the schedule for a period of several days."""
    heat = heat_columns(site)
    schedule = run.schedule
    index = pd.DatetimeIndex(schedule.index)
    dates = _local_dates(index, site.tz)
    dt_h = step_hours(index)
    out: list[DayActivity] = []
    for record, kpis in zip(run.days, run.daily_kpis, strict=True):
        days = period_dates(record.period)
        if len(days) == 1:
            heat_gj = _energy(schedule[dates == days[0]], heat, dt_h) / KWH_PER_GJ
            out.append(activity_from_kpis(days[0], record.period, kpis, heat_gj))
        else:
            rows = schedule[dates.isin(days)]
            out.extend(activities_from_schedule(rows, run.flows, heat, site.tz, record.period))
    return out
