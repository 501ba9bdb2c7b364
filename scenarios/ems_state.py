"""The plant's state at a plan's start, from the service's data (:mod:`scenarios.ems_data`), for
:func:`scenarios.ems_inputs.fill_request`:

- initial states by each asset kind's state rules: a reading no older than the allowed age (a level carried
  through the running step as the plan in force moves it), else where the plan in force said it would be, else
  the site's own value (or refused); the month-to-date peak from the month's import readings;
- the targets' progress so far (``Targets.so_far``): the energy metered since midnight, for a re-plan during a
  day with share targets; and, for targets and contract volumes over a month, a year or a date range, the
  period to date from the site's daily account (days closed from readings and the plan in force, appended to
  the database, never updated), so each morning paces the period; a site with a carbon account
  (``Site.carbon``) keeps the same account from January 1 for its carbon ledger;
- assets whose clock-time window began before a re-plan, held to the plan in force (``committed``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from optimizer.assets import REGISTRY
from optimizer.assets.heat import KWH_PER_GJ
from optimizer.errors import Issue
from optimizer.state import CarryContext, CommitmentState, LevelState, MonthPeakState, WindowEnergyState
from scenarios.assets import input_refs
from scenarios.compile import committed_power
from scenarios.ems import DispatchRequest
from scenarios.ems_data import FillRules, Origin, Source, StoredData, site_step
from scenarios.meters import MAX_RATE, MeterSeries, ValuesKind, epoch_seconds, interval_average
from scenarios.rolling import Period
from scenarios.site import Site


def _level_reading(
    data: StoredData, entry: Any, rule: LevelState, at: pd.Timestamp
) -> tuple[pd.Timestamp, float] | None:
    """The latest level of a store as a level in the rule's unit: from ``<name>.<level>`` or ``<name>.<x>_frac``."""
    capacity = float(getattr(entry, rule.capacity))
    candidates = []
    level = data.latest(f"{entry.name}.{rule.level}", at)
    if level is not None:
        candidates.append(level)
    frac = data.latest(f"{entry.name}.{rule.initial.removeprefix('initial_')}", at)
    if frac is not None:
        candidates.append((frac[0], frac[1] * capacity))
    return max(candidates, key=lambda c: c[0]) if candidates else None


def _planned_change(data: StoredData, column: str, since: pd.Timestamp, at: pd.Timestamp, step: pd.Timedelta) -> float:
    """How much the plan in force moves a level between a reading at ``since`` and the start ``at`` of a re-plan
    (the running step is carried out as planned); 0 without a plan covering both times."""
    if since >= at:
        return 0.0
    plan, _ = data.planned(since.floor(step) - step, at)  # from the step before: its end is where the next starts
    if plan.empty or column not in plan.columns or plan[column].isna().any():
        return 0.0
    ends = epoch_seconds(pd.DatetimeIndex(plan.index) + step)  # a level is at its interval's end, linear in between
    times = epoch_seconds(pd.DatetimeIndex([since, at]))
    if times[0] < ends[0] or times[1] > ends[-1]:
        return 0.0
    at_since, at_start = np.interp(times, ends, plan[column].to_numpy(dtype=float))
    return float(at_start - at_since)


def _commitment_reading(data: StoredData, entry: Any, rule: CommitmentState, at: pd.Timestamp) -> dict[str, Any]:
    """Units running from the latest ``<name>.on`` reading, and since when (min up/down times)."""
    name = f"{entry.name}.{rule.on}"
    latest = data.latest(name, at)
    if latest is None:
        return {}
    found = data.readings(name, at - pd.Timedelta(days=2), at + pd.Timedelta(seconds=1))
    on = round(latest[1])
    state: dict[str, Any] = {"initial_on": on > 0}
    if getattr(entry, "units", 1) > 1:
        state["initial_units_on"] = on
    minutes = None
    if found is not None:
        raw = found[0]
        other = raw[np.rint(raw.to_numpy()) != on]
        if not other.empty:
            since = raw[raw.index > other.index[-1]].index[0]
            minutes = float((at - since).total_seconds() / 60)
    state["initial_minutes_in_state"] = minutes
    return state


def _month_peak(
    data: StoredData, entry: Any, rule: MonthPeakState, at: pd.Timestamp, step: pd.Timedelta
) -> tuple[float, pd.Timestamp, pd.Timestamp] | None:
    """The month-to-date peak import [kW] from readings (averages on the site's step), the end of the last metered
    step and the start of the first; None without readings this month."""
    name = f"{entry.name}.{rule.column}"
    month_start = at.normalize().replace(day=1)
    found = data.readings(name, month_start - pd.Timedelta(days=1), at)  # a register needs the reading before
    if found is None or found[0].empty:
        return None
    index = pd.date_range(month_start, at, freq=step, inclusive="left")
    averages = interval_average(found[0], found[1], index).dropna()
    if averages.empty:
        return None
    return round(float(averages.max()), 3), pd.Timestamp(averages.index[-1]) + step, pd.Timestamp(averages.index[0])


def fill_state(
    site: Site, request: DispatchRequest, period: Period, data: StoredData, rules: FillRules
) -> tuple[dict[str, dict[str, Any]], dict[str, Source], list[Issue]]:
    """Initial states the request leaves open: ``(state by asset, sources by 'asset.field', refused)``."""
    start = pd.Timestamp(period.horizon.index[0])
    step = site_step(period)
    planned = data.planned_state(start)
    state: dict[str, dict[str, Any]] = {}
    sources: dict[str, Source] = {}
    refused: list[Issue] = []
    for entry in site.assets:
        name: str = entry.name  # type: ignore[attr-defined]
        given = request.initial_state.get(name, {})
        for rule in REGISTRY[entry.kind].state:  # type: ignore[attr-defined]
            fields = [f for f in rule.fields if f not in ("end_soc_frac", "end_level_frac")]
            if any(f in given for f in fields):
                sources |= {f"{name}.{f}": Source("request") for f in fields if f in given}
                continue
            measured: dict[str, Any] = {}
            as_of: pd.Timestamp | None = None
            if isinstance(rule, LevelState):
                found = _level_reading(data, entry, rule, start)
                if found is not None and start - found[0] <= rules.max_state_age:
                    level = found[1] + _planned_change(data, f"{name}.{rule.level}", found[0], start, step)
                    frame = pd.DataFrame({f"{name}.{rule.level}": [level]})
                    ctx = CarryContext(start - step, start, period.horizon.step_minutes, entry)
                    measured, as_of = rule.carry(entry, frame, ctx), found[0]
            elif isinstance(rule, CommitmentState):
                latest = data.latest(f"{name}.{rule.on}", start)
                if latest is not None and start - latest[0] <= rules.max_state_age:
                    measured, as_of = _commitment_reading(data, entry, rule, start), latest[0]
            elif isinstance(rule, MonthPeakState):
                peak = _month_peak(data, entry, rule, start, step)
                if peak is not None and peak[2] > start.normalize().replace(day=1):
                    # metered only from part-way through the month: at least what the plan (or the site) says
                    other = planned[0].get(name, {}) if planned is not None else {}
                    floor = float(other.get(rule.field, getattr(entry, rule.field)))
                    if floor > peak[0]:
                        state.setdefault(name, {})[rule.field] = floor
                        origin: Origin = "previous-plan" if rule.field in other else "site"
                        detail = f"above the readings' peak {peak[0]} kW, metered only from {peak[2].isoformat()}"
                        sources[f"{name}.{rule.field}"] = Source(origin, None, detail)
                        continue
                if peak is not None:
                    measured, as_of = {rule.field: peak[0]}, peak[1]
            if measured:
                state.setdefault(name, {}).update(measured)
                sources |= {f"{name}.{f}": Source("reading", as_of.to_pydatetime()) for f in measured if f in fields}
            elif planned is not None and name in planned[0]:
                carried = {f: v for f, v in planned[0][name].items() if f in rule.fields}
                state.setdefault(name, {}).update(carried)
                sources |= {f"{name}.{f}": Source("previous-plan", None, planned[1]) for f in carried if f in fields}
            else:
                unmetered = isinstance(rule, WindowEnergyState)  # energy owed by a window: no meter, 0 without a plan
                for field in fields:
                    detail = "no plan in force" if unmetered else "no reading within the allowed age"
                    sources[f"{name}.{field}"] = Source("site", None, detail)
                    if rules.require_measured_state and not unmetered:
                        message = (
                            f"no reading of {name}'s state within {rules.max_state_age} of {start.isoformat()} "
                            "and none in the request"
                        )
                        refused.append(Issue(message, name, field, code="state_not_measured"))
    return state, sources, refused


def _energy_kwh(measured: pd.Series | None, planned: pd.Series | None, step_h: float) -> tuple[float, bool]:
    """Energy of a flow over the steps [kWh]: the readings where there are some, the plan where not; and whether
    the plan had to fill in."""
    if measured is None and planned is None:
        return 0.0, False
    if measured is None:
        assert planned is not None
        return float(planned.sum() * step_h), True
    if planned is None:
        return float(measured.fillna(0.0).sum() * step_h), False
    used_plan = bool((measured.isna() & planned.notna()).any())
    return float(measured.fillna(planned).fillna(0.0).sum() * step_h), used_plan


def fill_progress(
    site: Site, request: DispatchRequest, period: Period, data: StoredData
) -> tuple[Any, dict[str, Source]]:
    """``Targets.so_far`` for the plan (a :class:`~optimizer.TargetProgress`, None where nothing done counts) and
    where it came from (``targets.so_far``, and ``targets.so_far.<item>`` per item over a longer period).

    - A site whose targets and contract volumes all hold over the horizon (the default): for a re-plan that starts
      during a day with share targets, the energy metered since midnight (readings, the plan in force where a
      reading is missing), so that the targets hold over the whole day.
    - A site with a target or contract volume over a day, month, year or date range: the days before the plan in
      the current periods are closed in the site's account (:func:`close_account`), and ``so_far`` is each item's
      period to date from the account plus, for a re-plan during a day, the part since midnight
      (:func:`period_progress`): a one-day plan then paces the period.
    - A site with a carbon account (``Site.carbon``) has its days closed too, from January 1 (the carbon ledger
      reads them); without period items that changes nothing in the plan.

    The request's own ``so_far`` wins (None is returned; the account is still closed: it records what happened)."""
    from optimizer import TargetProgress
    from scenarios.period_account import period_items

    start = pd.Timestamp(period.horizon.index[0])
    midnight = start.normalize()
    items = period_items(site)
    if items or site.carbon is not None:
        account = close_account(site, period, data)
        if items:
            if request.so_far is not None:
                return None, {}
            return period_progress(site, period, data, account)
    if request.so_far is not None or start == midnight:
        return None, {}
    targets = site.targets
    if targets.pv_self_consumption is None and targets.green_share is None:
        return None, {}
    [(morning, used_plan, _)] = _account_days(site, data, midnight, start, site_step(period))
    progress = TargetProgress(
        pv_available_kwh=morning.pv_available_kwh,
        pv_output_kwh=morning.pv_output_kwh,
        import_kwh=morning.import_kwh,
        export_kwh=morning.export_kwh,
        green_kwh=morning.green_kwh,
    )
    origin: Origin = "previous-plan" if used_plan else "reading"
    detail = f"energy metered from {midnight.isoformat()} (green purchases as planned)"
    return progress, {"targets.so_far": Source(origin, start.to_pydatetime(), detail)}


def _account_days(
    site: Site, data: StoredData, start: pd.Timestamp, end: pd.Timestamp, step: pd.Timedelta
) -> list[tuple[Any, bool, bool]]:
    """Per local day of ``[start, end)`` (local times on the site's step): what the day counts, as an
    :class:`~scenarios.ems_data.AccountDay`; whether the plan in force filled in for a missing reading of an
    electricity flow; whether the day has any data at all (a reading or a plan).

    PV (available = output: curtailment is not metered), import and export of each grid are metered: readings
    averaged on the site's step, the plan in force where a reading is missing (:func:`_energy_kwh`). Green purchases
    and each contract's energy have no meter: the plan in force's. Gas burnt and purchased heat (:func:`_fuel_columns`)
    the same way as the metered flows: readings of the series named like the schedule column where the site sends
    them, the plan in force's column where not (``fuel_source`` says which). Emissions are import x the grid's
    factors (the site's emission factors where the grid sets none; the optimiser's defaults else), market-based less
    green purchases x the first grid's residual factor, plus gas and purchased heat x their asset's factors, as the
    optimiser counts an emission cap. Energy [kWh], gas [Nm3], heat [GJ] and emissions [kgCO2] to 0.001."""
    from scenarios.compile import asset_fields
    from scenarios.ems_data import AccountDay

    index = pd.date_range(start, end, freq=step, inclusive="left")
    plan, info = data.planned(start, end)
    has_plan = np.asarray(index.isin(plan.index))
    plan = plan.reindex(index)

    def planned(columns: list[str]) -> pd.Series | None:
        present = [c for c in columns if c in plan.columns]
        return plan[present].sum(axis=1, min_count=1) if present else None

    def with_role(role: str) -> list[str]:
        return [c for c, i in info.items() if i.role == role and c in plan.columns]

    def measured(names: list[str]) -> pd.Series | None:
        series = []
        for name in names:
            found = data.readings(name, start - pd.Timedelta(days=1), end + step)  # a register needs the one before
            if found is not None and not found[0].empty:
                series.append(interval_average(found[0], found[1], index))
        return pd.concat(series, axis=1).sum(axis=1, min_count=1) if series else None

    pv_inputs = [ref for a in site.assets if a.kind == "pv" for f, ref in input_refs(a).items() if f == "available_kw"]  # type: ignore[attr-defined]
    grids = [a for a in site.assets if a.kind == "grid"]  # type: ignore[attr-defined]
    flows = {"pv": (measured(pv_inputs), planned(with_role("pv_output")))}
    factors: dict[str, tuple[float, float]] = {}
    for grid in grids:
        fields = asset_fields(site, grid, None, None)
        defaults = type(grid).model_fields
        location, market = (float(fields.get(f, defaults[f].default)) for f in _GRID_FACTOR_FIELDS)
        factors[grid.name] = (location, market)  # type: ignore[attr-defined]
        for column in (f"{grid.name}.import_kw", f"{grid.name}.export_kw"):  # type: ignore[attr-defined]
            flows[column] = (measured([column]), planned([column]))
    fuels = _fuel_columns(site, info)
    fuel_flows = {column: (measured([column]), planned([column])) for column in fuels}
    contracts = {c.rsplit(".", 1)[0]: plan[c] for c in with_role("green_purchase")}
    step_h = step.total_seconds() / 3600
    local_dates = np.asarray(index.date)
    out = []
    for day in dict.fromkeys(local_dates):
        mask = local_dates == day
        energy, used_plan, has_reading, notes = _day_flows(flows, mask, step_h)
        fuel, fuel_planned, fuel_read, fuel_notes = _day_flows(fuel_flows, mask, step_h)
        taken = {name: round(float(kw[mask].fillna(0.0).sum() * step_h), 3) for name, kw in contracts.items()}
        green = sum(taken.values())
        imported = {g: energy.get(f"{g}.import_kw", 0.0) for g in factors}
        residual = next(iter(factors.values()), (0.0, 0.0))[1]
        location = sum(kwh * factors[g][0] for g, kwh in imported.items())
        market = max(0.0, sum(kwh * factors[g][1] for g, kwh in imported.items()) - green * residual)
        gas = sum(amount for column, amount in fuel.items() if fuels[column][0] == "gas")
        heat_gj = sum(amount for column, amount in fuel.items() if fuels[column][0] == "heat") / KWH_PER_GJ
        for column, amount in fuel.items():
            per_unit = amount / KWH_PER_GJ if fuels[column][0] == "heat" else amount  # [Nm3] or [GJ]
            location += per_unit * fuels[column][1]
            market += per_unit * fuels[column][2]
        schedules = sorted({int(v) for v in plan["schedule_id"][mask].dropna()}) if "schedule_id" in plan else []
        plans = f"schedules {', '.join(map(str, schedules))}" if schedules else "no plan in force"
        totals = AccountDay(
            day=day,
            pv_available_kwh=round(energy.get("pv", 0.0), 3),
            pv_output_kwh=round(energy.get("pv", 0.0), 3),
            import_kwh=round(sum(imported.values()), 3),
            export_kwh=round(sum(energy.get(f"{g}.export_kw", 0.0) for g in factors), 3),
            green_kwh=round(green, 3),
            contracts_kwh=taken,
            emissions_location_kgco2=round(location, 3),
            emissions_market_kgco2=round(market, 3),
            source=_source(has_reading, used_plan),
            detail=f"{'; '.join(notes + fuel_notes) or 'nothing metered'}; green purchases as planned ({plans})",
            gas_nm3=round(gas, 3) if fuel or not fuels else None,  # None: burnt, but neither read nor planned
            purchased_heat_gj=round(heat_gj, 3) if fuel or not fuels else None,
            fuel_source=_source(fuel_read, fuel_planned) if fuel else None,
        )
        out.append((totals, used_plan, has_reading or fuel_read or bool(has_plan[mask].any())))
    return out


def _day_flows(
    flows: dict[str, tuple[pd.Series | None, pd.Series | None]], mask: np.ndarray, step_h: float
) -> tuple[dict[str, float], bool, bool, list[str]]:
    """One day's amount of each flow (readings, the plan where a reading is missing) [kWh, or Nm3 for a gas rate in
    Nm3/h]; whether the plan filled in; whether any reading counted; a note per flow (steps read)."""
    amounts: dict[str, float] = {}
    used_plan = has_reading = False
    notes = []
    for name, (read, plan_rate) in flows.items():
        planned_today = None if plan_rate is None or plan_rate[mask].isna().all() else plan_rate[mask]
        if read is None and planned_today is None:
            continue
        amounts[name], filled = _energy_kwh(None if read is None else read[mask], planned_today, step_h)
        n_read = 0 if read is None else int(read[mask].notna().sum())
        used_plan, has_reading = used_plan or filled, has_reading or n_read > 0
        notes.append(f"{name} {n_read}/{int(mask.sum())} steps read" + (", the rest as planned" if filled else ""))
    return amounts, used_plan, has_reading, notes


def _source(has_reading: bool, used_plan: bool) -> Any:
    """An :data:`~scenarios.ems_data.AccountSource`: all read, all planned (nothing read) or both."""
    return "plan" if not has_reading else "mixed" if used_plan else "readings"


def _fuel_columns(site: Site, columns: dict[str, Any]) -> dict[str, tuple[str, float, float]]:
    """The schedule columns of gas burnt and purchased heat, with what they are and their asset's emission factors:
    column -> (``gas`` or ``heat``, location-based, market-based) [kgCO2/Nm3 or kgCO2/GJ].

    Gas: each gas boiler's ``<name>.gas_nm3_per_h`` [Nm3/h] and any column of the plan with the gas-use role
    (:data:`optimizer.assets.heat.GAS_USE`, e.g. a plug-in's); purchased heat: each ``purchased_heat`` asset's
    ``<name>.heat_kw`` [kW_th] (:func:`scenarios.ledger_activity.heat_columns`). Reading series of the same names
    meter them.
    Factors as the optimiser takes them (the asset's, else the site's emission factors, else the defaults)."""
    from optimizer.assets.heat import GAS_USE, NATURAL_GAS_KGCO2_PER_NM3, PURCHASED_HEAT_KGCO2_PER_GJ
    from scenarios.compile import asset_fields
    from scenarios.ledger_activity import heat_columns

    assets = {a.name: a for a in site.assets}  # type: ignore[attr-defined]

    def asset_factors(column: str, names: tuple[str, str], default: float) -> tuple[float, float]:
        asset = assets.get(column.rsplit(".", 1)[0])
        if asset is None:
            return default, default
        fields = asset_fields(site, asset, None, None)
        model = type(asset).model_fields
        out = []
        for name in names:
            value = fields.get(name, model[name].default if name in model else default)
            out.append(float(value) if isinstance(value, (int, float)) else default)
        return out[0], out[1]

    gas = [f"{a.name}.gas_nm3_per_h" for a in site.assets if a.kind == "gas_boiler"]  # type: ignore[attr-defined]
    gas += [c for c, i in columns.items() if getattr(i, "role", None) == GAS_USE]
    out: dict[str, tuple[str, float, float]] = {}
    for column in dict.fromkeys(gas):
        factors = asset_factors(column, ("location_kgco2_per_nm3", "market_kgco2_per_nm3"), NATURAL_GAS_KGCO2_PER_NM3)
        out[column] = ("gas", *factors)
    for column in heat_columns(site):
        factors = asset_factors(column, ("location_kgco2_per_gj", "market_kgco2_per_gj"), PURCHASED_HEAT_KGCO2_PER_GJ)
        out[column] = ("heat", *factors)
    return out


def fuel_meter_series(site: Site) -> dict[str, MeterSeries]:
    """Reading series of gas burnt the site may send, named like the schedule column (``boiler.gas_nm3_per_h``, a
    rate [Nm3/h]: ``power`` the interval's average rate, ``energy`` the Nm3 in the interval, ``register`` a
    cumulative gas meter [Nm3]). Purchased heat (``<name>.heat_kw``) is already a metered flow
    (:func:`scenarios.meters.find_series`). Why here: the daily account is what reads them."""
    out = {}
    for column, (fuel, _, _) in _fuel_columns(site, {}).items():
        if fuel == "gas":
            asset = column.rsplit(".", 1)[0]
            kinds: tuple[ValuesKind, ...] = ("power", "energy", "register")
            out[column] = MeterSeries(column, "Nm3/h", kinds, 0.0, MAX_RATE, "gas burnt", asset)
    return out


_GRID_FACTOR_FIELDS = ("location_kgco2_per_kwh", "market_kgco2_per_kwh")
_SHARES = ("pv_self_consumption", "green_share")
_SOURCE_WORDS = {"readings": "read", "mixed": "read, gaps as planned", "plan": "as planned"}


def _metered_series(site: Site) -> list[str]:
    """The reading series the account reads: PV inputs, each grid's import and export, gas burnt and purchased
    heat (late readings of any of them close a day again)."""
    names = [ref for a in site.assets if a.kind == "pv" for f, ref in input_refs(a).items() if f == "available_kw"]  # type: ignore[attr-defined]
    for grid in (a for a in site.assets if a.kind == "grid"):  # type: ignore[attr-defined]
        names += [f"{grid.name}.import_kw", f"{grid.name}.export_kw"]  # type: ignore[attr-defined]
    return names + list(_fuel_columns(site, {}))


def _current_period_start(over: Any, day: Any) -> Any:
    """The first day of the accounting period ``over`` (an :data:`optimizer.periods.Over`) that holds ``day`` (a
    local date); None for ``horizon`` or a date range that does not hold it."""
    from optimizer.periods import period_bounds

    if over == "horizon":
        return None
    first, after, _ = period_bounds(over, day)
    return first if first <= day < after else None


CARBON_GRACE_DAYS = 31
"""A site with a carbon account keeps closing the previous calendar year's days (late readings included) until this
many days into the new year, so December's last days are in that year's ledger."""


def close_account(site: Site, period: Period, data: StoredData) -> dict[Any, Any]:
    """The site's account (local date -> its latest :class:`~scenarios.ems_data.AccountDay`) of the days before the
    plan's start in the current periods of its targets and contract volumes over a month, a year or a date range,
    and, for a site with a carbon account (``Site.carbon``), from January 1 of the year of the plan's day less
    :data:`CARBON_GRACE_DAYS` (the carbon ledger's year), after closing (appending) the days not yet in it and
    those whose readings arrived after they were closed.

    A day without any reading or plan is not closed: the account starts with the site's data, so a site created
    mid-year is not asked to catch up on the months before (``so_far.since``); a day that has data later is closed
    then. A day before the plan's start that is not over yet (a plan made for tomorrow) is closed from the readings
    so far and the plan in force, and closed again when its readings arrive."""
    import datetime as dt

    from scenarios.period_account import period_items

    start = pd.Timestamp(period.horizon.index[0])
    today = start.date()
    firsts = [f for i in period_items(site) if (f := _current_period_start(i.over, today)) is not None and f < today]
    if site.carbon is not None:
        ledger_year = dt.date((today - dt.timedelta(days=CARBON_GRACE_DAYS)).year, 1, 1)
        firsts += [ledger_year] if ledger_year < today else []
    if not firsts:
        return {}
    tz = start.tz
    first = min(firsts)
    account, stale = data.account(pd.Timestamp(first).tz_localize(tz), start.normalize(), _metered_series(site))
    days = [first + dt.timedelta(days=k) for k in range((today - first).days)]
    to_close = [d for d in days if d not in account or d in stale]
    runs: list[list[Any]] = []
    for day in to_close:  # consecutive days are read together
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    closed = []
    for run in runs:
        run_start = pd.Timestamp(run[0]).tz_localize(tz)
        run_end = pd.Timestamp(run[-1] + dt.timedelta(days=1)).tz_localize(tz)
        closed += [d for d, _, has_data in _account_days(site, data, run_start, run_end, site_step(period)) if has_data]
    data.record_account(closed)
    return account | {d.day: d for d in closed}


def period_progress(
    site: Site, period: Period, data: StoredData, account: dict[Any, Any]
) -> tuple[Any, dict[str, Source]]:
    """``Targets.so_far`` from the account: each item's period to date, plus the part since midnight for a re-plan
    during a day; and its sources (``targets.so_far``, ``targets.so_far.<item>``).

    One :class:`~optimizer.TargetProgress` carries every item: the share targets' energy over their period if it is
    a month, a year or a date range (otherwise since midnight), the emissions over the emission cap's period (none
    for a cap over the horizon), each contract's energy over its ``energy_over`` period. ``since``: the first day
    the account has in these periods (the plan's day without one), so volumes are pro-rated from the site's first
    day of data."""
    from optimizer import TargetProgress
    from optimizer.periods import period_bounds
    from scenarios.period_account import period_items

    start = pd.Timestamp(period.horizon.index[0])
    today, midnight = start.date(), start.normalize()
    morning, morning_planned, morning_data = None, False, False
    if start != midnight:
        [(morning, morning_planned, morning_data)] = _account_days(site, data, midnight, start, site_step(period))
    items = period_items(site)

    def days_of(over: Any) -> list[Any]:
        first = _current_period_start(over, today)
        return [] if first is None else [account[d] for d in sorted(account) if first <= d < today]

    def total(days: list[Any], value: Any) -> float:
        return round(sum(value(d) for d in days) + (value(morning) if morning is not None else 0.0), 3)

    def origin(days: list[Any], metered: bool = True, fuels: bool = False) -> Origin:
        planned = morning_planned or any(d.source != "readings" for d in days)
        if fuels:  # an emission cap counts gas and purchased heat too
            counted = [*days, *([morning] if morning is not None else [])]
            planned = planned or any(d.fuel_source not in (None, "readings") for d in counted)
        return "previous-plan" if planned or not metered else "reading"

    def described(days: list[Any], label: str) -> str:
        counts = {s: sum(d.source == s for d in days) for s in _SOURCE_WORDS}
        what = ", ".join(f"{n} {_SOURCE_WORDS[s]}" for s, n in counts.items() if n)
        part = f"{label}: {len(days)} day{'' if len(days) == 1 else 's'} in the account"
        part += f" ({days[0].day}..{days[-1].day}: {what})" if days else ""
        if morning is None:
            return part
        today_from = _SOURCE_WORDS[morning.source] if morning_data else "no reading or plan"
        return part + f", plus {midnight.isoformat()} to {start.isoformat()} ({today_from})"

    longer = [i for i in items if i.kind in _SHARES and i.over not in ("horizon", "day")]
    share_days = days_of(longer[0].over) if longer else []  # both shares hold over one period (Targets checks)
    cap = next((i for i in items if i.kind == "emission_cap"), None)
    cap_days = days_of(cap.over) if cap is not None else []
    counted = {d.day for i in items for d in days_of(i.over)}
    since = min(counted) if counted else today
    contracts = {
        i.asset: total(days_of(i.over), lambda d, n=i.asset: d.contracts_kwh.get(n, 0.0))
        for i in items
        if i.kind == "contract"
    }
    progress = TargetProgress(
        pv_available_kwh=total(share_days, lambda d: d.pv_available_kwh),
        pv_output_kwh=total(share_days, lambda d: d.pv_output_kwh),
        import_kwh=total(share_days, lambda d: d.import_kwh),
        export_kwh=total(share_days, lambda d: d.export_kwh),
        green_kwh=total(share_days, lambda d: d.green_kwh),
        contracts_kwh=contracts,
        emissions_location_kgco2=total(cap_days, lambda d: d.emissions_location_kgco2) if cap else 0.0,
        emissions_market_kgco2=total(cap_days, lambda d: d.emissions_market_kgco2) if cap else 0.0,
        since=since,
    )
    as_of = start.to_pydatetime()
    sources = {}
    all_days = [account[d] for d in sorted(counted)]
    for item in items:
        first = _current_period_start(item.over, today)
        label = period_bounds(item.over, today)[2] if first is not None else "not in force"
        days = days_of(item.over)
        detail = described(days, label)
        if item.kind == "contract":
            detail += "; green purchases are not metered: as the plan in force had them"
        item_origin = origin(days, item.kind != "contract", fuels=item.kind == "emission_cap")
        sources[f"targets.so_far.{item.key}"] = Source(item_origin, as_of, detail)
    overall = described(all_days, f"from {since}") + "; green purchases as planned"
    sources["targets.so_far"] = Source(origin(all_days), as_of, overall)
    return progress, sources


def period_standings(
    problem: Any, schedule: pd.DataFrame, columns: dict[str, Any], sources: dict[str, Source]
) -> list[Any]:
    """Where each target and contract volume over a day, month, year or date range of a solved ``problem`` (a
    :class:`~optimizer.DispatchProblem`) stands at the plan's start, and what the plan (``schedule``, its columns'
    roles in ``columns``) had to do and did for it: one :class:`~scenarios.ems_data.PeriodStanding` per item whose
    period holds the plan's first step; none without ``so_far`` (nothing is known of the period before).

    The pro-rata line and the plan's share are the optimiser's (:mod:`optimizer.periods`): volumes count from
    ``max(period start, so_far.since)``; the share the plan had to reach is what makes the period's share hold with
    ``so_far``."""
    from optimizer.periods import period_bounds, period_groups, progress_since
    from scenarios.ems_data import PeriodStanding

    so_far = problem.targets.so_far
    if so_far is None:
        return []
    horizon = problem.horizon
    index = horizon.index
    start = pd.Timestamp(index[0])
    today, tz = start.date(), index.tz
    since = progress_since(so_far)
    standings = []

    def plan_kwh(steps: list[int], role: str) -> float:
        names = [c for c, i in columns.items() if i.role == role and c in schedule.columns]
        return float(schedule[names].to_numpy()[steps].sum() * horizon.dt_h) if names else 0.0

    targets = problem.targets
    entries: list[tuple[str, Any, Any]] = [
        (kind, getattr(targets, kind).over, getattr(targets, kind))
        for kind in ("pv_self_consumption", "green_share", "emission_cap")
        if getattr(targets, kind) is not None and getattr(targets, kind).over != "horizon"
    ]
    entries += [
        (f"{a.name}.energy", a.energy_over, a)
        for a in problem.assets
        if a.kind == "green_contract"
        and a.energy_over != "horizon"
        and (a.min_energy_kwh > 0 or a.max_energy_kwh is not None)
    ]
    for key, over, spec in entries:
        groups = period_groups(index, horizon.step_minutes, over, since)
        if not groups or not groups[0].first:
            continue
        group = groups[0]
        steps = list(group.steps)
        first, after, label = period_bounds(over, today)
        period_start, period_end = pd.Timestamp(first).tz_localize(tz), pd.Timestamp(after).tz_localize(tz)
        counted_from = max(period_start, pd.Timestamp(max(since, first)).tz_localize(tz))
        to_date = float(np.clip((start - counted_from) / (period_end - period_start), 0.0, 1.0))
        source = sources.get(f"targets.so_far.{key}") or sources.get("targets.so_far") or Source("request")
        common = {"item": key, "period": label, "counted_from": counted_from.date(), "origin": source.origin}
        if key.endswith(".energy"):
            name = key.removesuffix(".energy")
            taken = so_far.contracts_kwh.get(name, 0.0)
            high = spec.max_energy_kwh
            standings.append(
                PeriodStanding(
                    **common,
                    unit="kWh",
                    required_to_date=spec.min_energy_kwh * to_date,
                    achieved_to_date=taken,
                    plan_required=max(0.0, spec.min_energy_kwh * group.covered_frac - taken),
                    plan_achieved=float(schedule[f"{name}.power_kw"].to_numpy()[steps].sum() * horizon.dt_h),
                    maximum_to_date=None if high is None else high * to_date,
                    plan_maximum=None if high is None else max(0.0, high * group.covered_frac - taken),
                    detail=source.detail,
                )
            )
            continue
        if key == "emission_cap":
            emitted = (
                so_far.emissions_location_kgco2 if spec.accounting == "location" else so_far.emissions_market_kgco2
            )
            standings.append(
                PeriodStanding(
                    **common,
                    unit="kgCO2",
                    required_to_date=spec.max_kgco2 * to_date,
                    achieved_to_date=emitted,
                    plan_required=spec.max_kgco2 * group.covered_frac - emitted,
                    plan_achieved=None,
                    detail=source.detail,
                )
            )
            continue
        self_used = plan_kwh(steps, "pv_output") - plan_kwh(steps, "grid_export")
        done_self_used = so_far.pv_output_kwh - so_far.export_kwh
        if key == "green_share":
            base, done_base = plan_kwh(steps, "grid_import") + self_used, so_far.import_kwh + done_self_used
            good, done_good = self_used + plan_kwh(steps, "green_purchase"), done_self_used + so_far.green_kwh
        else:
            base, done_base = plan_kwh(steps, "pv_available"), so_far.pv_available_kwh
            good, done_good = self_used, done_self_used
        needed = spec.min_frac * (done_base + base) - done_good
        standings.append(
            PeriodStanding(
                **common,
                unit="share",
                required_to_date=spec.min_frac,
                achieved_to_date=done_good / done_base if done_base > 1e-9 else None,
                plan_required=max(0.0, needed / base) if base > 1e-9 else None,
                plan_achieved=good / base if base > 1e-9 else None,
                detail=source.detail,
            )
        )
    return standings


def fill_committed(
    site: Site, request: DispatchRequest, period: Period, data: StoredData
) -> tuple[dict[str, list[float]], dict[str, Source], list[Issue]]:
    """Assets whose clock-time window began before a re-plan starts, held to the plan in force for the rest of
    that day (:func:`scenarios.compile.committed_power`): ``(power by asset, sources, issues)``; an issue where
    no plan says what such an asset does (the request may send it)."""
    start = pd.Timestamp(period.horizon.index[0])
    if start == start.normalize():
        return {}, {}, []
    index = period.horizon.index
    midnight = start.normalize() + pd.Timedelta(days=1)
    plan, columns = data.planned(start, midnight)
    today = plan.reindex(index[index < midnight])
    held = committed_power(site, today.fillna(0.0), columns, start)
    committed: dict[str, list[float]] = {}
    sources: dict[str, Source] = {}
    issues: list[Issue] = []
    for name, power in held.items():
        if name in request.committed:
            continue
        if not any(c.rsplit(".", 1)[0] == name for c in plan.columns):
            message = (
                f"its window began before {start.isoformat()} and no plan in force says what it does now; "
                f"send body.committed.{name}"
            )
            issues.append(Issue(message, name, None, code="window_begun"))
            continue
        committed[name] = power + [0.0] * (len(index) - len(power))  # later days plan their own windows
        ids = sorted({int(v) for v in plan["schedule_id"].dropna()})
        detail = f"window began before the re-plan: held to schedule {', '.join(map(str, ids))}"
        sources[name] = Source("previous-plan", None, detail)
    return committed, sources, issues
