"""The scenario file: site, horizon, inputs, initial state, solver settings, variants, sweeps.

A scenario file is YAML validated by :class:`ScenarioFile` (JSON Schema:
``scenarios/schema/scenario.schema.json``, ``dispatch schema``). Paths in
``inputs`` are relative to the scenario file. See ``docs/scenarios.md``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Annotated, Any, Literal, Union

import pandas as pd
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from optimizer import SolveOptions
from optimizer.horizon import MAX_STEPS
from optimizer.limits import date_range_text, in_date_range
from optimizer.types import FiniteFloat
from scenarios.assets import FileAsset
from scenarios.site import Site

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_\-]*$"
SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- inputs ------------------------------------------------------------------------------------


class _Scaled(_Strict):
    scale: FiniteFloat = Field(1.0, description="Multiply every value by this (e.g. kWp for a per-kWp profile).")
    offset: FiniteFloat = Field(0.0, description="Then add this [unit of the series].")


class InlineInput(_Scaled):
    """A daily profile written in the file, from local midnight, repeated every day."""

    values: list[FiniteFloat] = Field(min_length=1, description="Values from 00:00, one per step_minutes.")
    step_minutes: int | None = Field(
        None, ge=1, le=1440, description="Minutes per value; default: 1440 / number of values (24 values: hourly)."
    )

    @model_validator(mode="after")
    def _fills_a_day(self) -> InlineInput:
        step = self.step_minutes or 1440 // len(self.values)
        if step * len(self.values) != 1440:
            raise ValueError(
                f"{len(self.values)} values of {step} min cover {step * len(self.values)} min, not a day (1440 min)"
            )
        return self


class CsvInput(_Scaled):
    """A column of a CSV file with a time column.

    ``repeat: none``: the timestamps are the real times and must cover every run.
    ``repeat: yearly``: a reference year (e.g. a typical year, or last year's meter
    data) matched by month, day and clock time, whatever the run's year (29 February
    takes 28 February's values; ``align: weekday`` takes the nearest day of the
    same weekday instead, for loads with a weekly rhythm). ``repeat: daily``: one
    day by clock time (HH:MM), repeated every day.

    Values are interval averages (power [kW], flows), labelled by the interval
    start unless ``time_label: end``. Coarser data are held over the finer steps,
    finer data averaged (time-weighted).
    """

    csv: str = Field(
        description="CSV file, relative to the scenario file, or bundled:<file> for the data shipped in scenarios/data."
    )
    column: str = Field(description="Column with the values.")
    time_column: str | None = Field(None, description="Column with the timestamps; default: the first column.")
    time_label: Literal["start", "end"] = Field(
        "start", description="Whether a timestamp labels the interval start or end."
    )
    repeat: Literal["none", "daily", "yearly"] = Field("none", description="How the data map onto the run's dates.")
    align: Literal["date", "weekday"] = Field(
        "date",
        description="repeat: yearly: same date, or the same weekday nearest the same date (within 3 days; for "
        "loads with weekly patterns).",
    )
    tz: str | None = Field(None, description="Time zone of timestamps without an offset; default: the site's.")


class WeatherPvInput(_Scaled):
    """PV power forecast with pvlib from a weather file, for the site's ``pv_arrays`` (needs ``forecasting``)."""

    weather: str = Field(description="Weather file, relative to the scenario file: EPW, CSV or Open-Meteo JSON.")
    format: Literal["auto", "epw", "csv", "open_meteo"] = Field("auto", description="File format; auto: by extension.")
    arrays: list[str] | None = Field(None, description="Names of site.pv_arrays to add up; default: all.")
    typical_year: bool | None = Field(
        None, description="Re-date a typical year to the run's dates; default: true for EPW files."
    )
    quantile: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="Use this quantile of the PV forecast (0.1: P10) instead of the point forecast; needs measured.",
    )
    measured: str | None = Field(
        None,
        description="With quantile: CSV of the arrays' metered output before the run (first column: interval "
        "starts; measured_column [kW]), against which the same weather source's forecast is scored.",
    )
    measured_column: str = Field("pv_kw", description="Column of measured with the metered PV output [kW].")

    @model_validator(mode="after")
    def _quantile_needs_measured(self) -> WeatherPvInput:
        if self.quantile is not None and self.measured is None:
            raise ValueError("quantile needs measured: the metered PV output its errors are learnt from")
        return self


class LoadHistoryInput(_Scaled):
    """A load forecast from metered history (needs ``forecasting.forecast_load``)."""

    history: str = Field(description="CSV of metered load, relative to the scenario file.")
    column: str = Field(description="Column with the load [kW].")
    time_column: str | None = Field(None, description="Column with the timestamps; default: the first column.")
    time_label: Literal["start", "end"] = "start"
    tz: str | None = Field(None, description="Time zone of timestamps without an offset; default: the site's.")
    quantile: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="Use this quantile of the load forecast (0.9: P90) instead of the point forecast.",
    )


class SumInput(_Scaled):
    """The sum of other inputs (e.g. a daily shift profile plus a seasonal term), then scaled and offset."""

    sum: list[str] = Field(min_length=1, description="Names of inputs to add up, step by step.")


def _input_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("values", "csv", "weather", "history", "sum"):
            if key in value:
                return key
        return None
    if isinstance(value, BaseModel):
        tags = {InlineInput: "values", CsvInput: "csv", WeatherPvInput: "weather", LoadHistoryInput: "history"}
        return (tags | {SumInput: "sum"}).get(type(value))
    return None


InputSource = Annotated[
    Union[  # noqa: UP007
        Annotated[InlineInput, Tag("values")],
        Annotated[CsvInput, Tag("csv")],
        Annotated[WeatherPvInput, Tag("weather")],
        Annotated[LoadHistoryInput, Tag("history")],
        Annotated[SumInput, Tag("sum")],
    ],
    Discriminator(
        _input_tag,
        custom_error_type="input_source",
        custom_error_message="an input needs one of: values (inline), csv, weather (PV forecast), history (load), sum",
    ),
]


# --- horizon -----------------------------------------------------------------------------------


class HorizonSpec(_Strict):
    """What to run: one day, a range of days, or one explicit horizon.

    - ``start: 2026-07-15`` (a date) with ``end`` (last day, inclusive) or ``days``
      (default 1): local days in the site's zone; ``rolling: true`` optimises them
      day-ahead one after the other, carrying the state across midnight;
      ``rolling: false`` optimises them as one horizon.
    - ``start: 2026-07-15T06:00:00+08:00`` (a time) with ``n_steps``: one horizon
      (a time without an offset is in the site's zone).
    """

    start: dt.datetime | dt.date = Field(description="First day (a date) or start of one horizon (a tz-aware time).")
    end: dt.date | None = Field(None, description="Last day, inclusive (with a date start).")
    days: int | None = Field(None, ge=1, le=3660, description="Number of days (with a date start); default 1.")
    n_steps: int | None = Field(None, ge=1, le=MAX_STEPS, description="Number of steps (with a time start).")
    step_minutes: int = Field(15, ge=1, le=1440, description="Step length [min]; 15 fits Liaoning's half-hour bands.")
    rolling: bool = Field(True, description="Day-ahead, day after day (true) or one horizon over all days (false).")

    @field_validator("start", mode="before")
    @classmethod
    def _date_text_is_a_date(cls, value: Any) -> Any:
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            return dt.date.fromisoformat(value.strip())
        return value

    @field_validator("start", "end")
    @classmethod
    def _in_date_range(cls, value: dt.date | None) -> dt.date | None:
        day = value.date() if isinstance(value, dt.datetime) else value
        if day is not None and not in_date_range(day):
            raise ValueError(f"{day} is outside the dates a horizon may cover ({date_range_text()})")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> HorizonSpec:
        if isinstance(self.start, dt.datetime):
            if self.n_steps is None:
                raise ValueError("a start time (not a date) needs n_steps; for whole days give a date")
            if self.end is not None or self.days is not None:
                raise ValueError("end and days go with a date start; with a start time give n_steps")
        else:
            if self.n_steps is not None:
                raise ValueError("n_steps goes with a start time; with a date start give end or days")
            if self.end is not None and self.days is not None:
                raise ValueError("give end or days, not both")
            if self.end is not None and self.end < self.start:
                raise ValueError(f"end {self.end} is before start {self.start}")
        if 1440 % self.step_minutes and isinstance(self.start, dt.date) and not isinstance(self.start, dt.datetime):
            raise ValueError(f"step_minutes {self.step_minutes} does not divide a day (1440 min)")
        self._check_size()
        return self

    def _check_size(self) -> None:
        """The last day within the date range; one horizon (``rolling: false``) at most ``MAX_STEPS`` steps."""
        if self.is_explicit:
            return
        assert isinstance(self.start, dt.date)
        days = (self.end - self.start).days + 1 if self.end is not None else self.days or 1
        last = self.start + dt.timedelta(days=days - 1)
        if not in_date_range(last):
            raise ValueError(f"the last day, {last}, is outside the dates a horizon may cover ({date_range_text()})")
        steps = days * 1440 // self.step_minutes
        if not self.rolling and steps > MAX_STEPS:
            raise ValueError(
                f"one horizon (rolling: false) of {days} days is {steps} steps of {self.step_minutes} min; one "
                f"horizon is at most {MAX_STEPS} steps (a year of quarter-hours): run it day by day (rolling: true) "
                "or shorter"
            )

    def dates(self) -> list[dt.date]:
        """The local days covered (for a time start: the days its steps touch)."""
        if isinstance(self.start, dt.datetime):
            first = self.start.date()
            end = self.start + dt.timedelta(minutes=self.step_minutes * (self.n_steps or 1) - 1)
            return [d.date() for d in pd.date_range(first, end.date(), freq="D")]
        last = self.end or self.start + dt.timedelta(days=(self.days or 1) - 1)
        return [d.date() for d in pd.date_range(self.start, last, freq="D")]

    @property
    def is_explicit(self) -> bool:
        return isinstance(self.start, dt.datetime)


# --- variants and sweeps -----------------------------------------------------------------------


class Variant(_Strict):
    """A what-if: changes to the base scenario by dotted path.

    ``set`` maps a path to a new value: ``site.battery.capacity_kwh: 3000`` (assets by
    name), ``inputs.pv_roof.scale: 3000``, ``site.targets.green_share.min_frac: 0.6``.
    A value ``{add: 0.05}`` or ``{scale: 1.2}`` changes a number (or every number of a
    list) relative to the base. ``add_assets`` and ``remove_assets`` add or drop assets.
    """

    description: str = ""
    set: dict[str, Any] = Field(default_factory=dict, description="Dotted path -> value, {add: x} or {scale: x}.")
    add_assets: list[FileAsset] = Field(default_factory=list, description="Assets to add.")
    remove_assets: list[str] = Field(default_factory=list, description="Names of assets to drop.")


class Sweep(_Strict):
    """A list or grid of values for one or two parameters (dotted paths, as in variants)."""

    description: str = ""
    variant: str | None = Field(None, description="Sweep on top of this variant; default: the base.")
    parameters: dict[str, list[Any]] = Field(description="One or two dotted paths -> the values to try.")
    mode: Literal["grid", "zip"] = Field(
        "grid", description="grid: every combination; zip: the i-th values together (lists of equal length)."
    )

    @model_validator(mode="after")
    def _shape(self) -> Sweep:
        if not 1 <= len(self.parameters) <= 2:
            raise ValueError(f"a sweep varies one or two parameters, got {len(self.parameters)}")
        lengths = {p: len(v) for p, v in self.parameters.items()}
        if any(n == 0 for n in lengths.values()):
            raise ValueError("every sweep parameter needs at least one value")
        if self.mode == "zip" and len(set(lengths.values())) > 1:
            raise ValueError(f"zip mode needs lists of equal length, got {lengths}")
        return self

    def points(self) -> list[dict[str, Any]]:
        """Parameter values of every point, in order."""
        names = list(self.parameters)
        values = [self.parameters[n] for n in names]
        combos = zip(*values, strict=True) if self.mode == "zip" else itertools.product(*values)
        return [dict(zip(names, combo, strict=True)) for combo in combos]


# --- the file ----------------------------------------------------------------------------------


class PeriodPlanSettings(BaseModel):
    """How a rolling run plans targets and volumes over their periods (:mod:`scenarios.period_account`)."""

    model_config = ConfigDict(extra="forbid")

    step_minutes: int = Field(60, ge=5, le=1440, description="Step of the period plan's LP [min].")
    replan_every_days: int = Field(
        31, ge=1, le=366, description="Re-plan the rest of the period this often [days]; always on a month's first day."
    )
    max_days: int = Field(
        366, ge=1, le=3660, description="Longest stretch one plan covers [days] (later days are planned later)."
    )
    time_limit_s: float = Field(120.0, gt=0, le=3600, description="HiGHS limit for one plan [s].")


class ScenarioFile(_Strict):
    """A what-if scenario: a site, a horizon, its inputs, and the variants and sweeps to compare."""

    model_config = ConfigDict(extra="forbid", title="Dispatch scenario")

    name: str = Field(pattern=NAME_PATTERN, description="Short name, used for output folders.")
    description: str = ""
    site: Site
    horizon: HorizonSpec
    inputs: dict[str, InputSource] = Field(
        default_factory=dict, description="Named series that asset fields reference as $inputs.<name>."
    )
    initial_state: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="State at the first step, by asset name: initial_* fields, month_to_date_peak_kw and "
        "carried_energy_kwh (owed by a window across midnight begun the evening before).",
    )
    solver: SolveOptions = Field(default_factory=SolveOptions, description="HiGHS limits for every solve.")
    period_plan: PeriodPlanSettings = Field(
        default_factory=PeriodPlanSettings,
        description="How a rolling run plans targets and contract volumes that hold over a month, a year or a "
        "date range (scenarios.period_account).",
    )
    variants: dict[str, Variant] = Field(default_factory=dict, description="What-ifs by name.")
    sweeps: dict[str, Sweep] = Field(default_factory=dict, description="Parameter sweeps by name.")

    @field_validator("initial_state")
    @classmethod
    def _state_fields(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from optimizer.assets import REGISTRY

        state_fields = {f for t in REGISTRY.values() for f in t.state_fields}
        for asset, fields in value.items():
            for field in fields:
                if field not in state_fields:
                    raise ValueError(
                        f"{asset}.{field} is not a state field ({', '.join(sorted(state_fields))}); "
                        "set design values in site.assets"
                    )
        return value

    @field_validator("variants", "sweeps")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = [n for n in value if n == "base" or not n.replace("_", "a").replace("-", "a").isalnum()]
        if bad:
            raise ValueError(f"names must be letters, digits, _ or - and not 'base': {bad}")
        return value


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (draft 2020-12), for editors and CI."""
    schema = ScenarioFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://factory-dispatch.local/schema/scenario.schema.json"
    schema["x-schema-version"] = SCHEMA_VERSION
    return schema
