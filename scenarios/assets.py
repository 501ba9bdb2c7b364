"""Asset entries of a scenario file: the optimizer's specs, with references allowed.

The optimizer's pydantic specs are the attribute table (units, defaults,
descriptions). A scenario file writes the same fields, with three additions
that a file needs and a single solve does not:

- a *series* field (one number per step) may name an input instead:
  ``power_kw: $inputs.load`` (see :mod:`scenarios.inputs`);
- a *time* field (window starts and ends) may be a local clock time
  ``"08:00"`` (``"24:00"`` = the end of the day), resolved on every day run;
  in an energy window (a kind's ``WINDOW``: flexible loads, fleets) an end at
  or before the start is on the next day (``"22:00"`` to ``"06:00"``), and the
  window belongs to the day it starts (:func:`window_on`);
- a *tariff* may be a preset: ``{preset: liaoning, flat_price_cny_per_kwh: 0.62}``.

The file models are generated from :data:`optimizer.assets.REGISTRY`, so a new
asset type in the optimizer is available in scenario files without a change
here. They check types and ranges only; the specs' own cross-field checks run
when a day's problem is built (:func:`to_spec`), and their messages are mapped
back to the file line.
"""

from __future__ import annotations

import datetime as dt
import functools
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

import pandas as pd
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic.fields import FieldInfo

from optimizer.assets import REGISTRY, AssetSpec
from optimizer.assets.entry import kind_entry
from optimizer.errors import SpecError
from optimizer.tariff import TouTariff, liaoning_tou
from optimizer.types import SERIES, PositiveFloat

INPUT_PREFIX = "$inputs."
INPUT_REF_PATTERN = r"^\$inputs\.[A-Za-z_][A-Za-z0-9_]*$"
CLOCK_TIME_PATTERN = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"

InputRef = Annotated[
    str,
    StringConstraints(pattern=INPUT_REF_PATTERN),
    Field(description="A series from the scenario's inputs, e.g. $inputs.load."),
]
ClockTime = Annotated[
    str,
    StringConstraints(pattern=CLOCK_TIME_PATTERN),
    Field(
        description="Local clock time HH:MM on each day run (24:00 = end of the day); an energy window's end at or "
        "before its start is the next day's (22:00 to 06:00)."
    ),
]


class TariffPreset(BaseModel):
    """A named tariff scaled to a flat price: ``liaoning`` is Liaoning's four-band industrial TOU."""

    model_config = ConfigDict(extra="forbid")

    preset: Literal["liaoning"] = Field(description="liaoning: sharp/peak/flat/valley = 1.875/1.5/1/0.5 x flat.")
    flat_price_cny_per_kwh: PositiveFloat = Field(0.62, description="Flat-band energy price [CNY/kWh].")

    def tariff(self) -> TouTariff:
        """The full band table."""
        return liaoning_tou(self.flat_price_cny_per_kwh)


def _contains(hint: Any, targets: tuple[Any, ...]) -> bool:
    """Whether a type hint mentions one of ``targets`` (through Annotated, Optional, unions and lists)."""
    if hint in targets:
        return True
    origin = typing.get_origin(hint)
    if origin is Annotated:
        args = typing.get_args(hint)
        return _contains(args[0], targets) or any(a in targets for a in args[1:])
    return any(_contains(arg, targets) for arg in typing.get_args(hint))


def _is_series(hint: Any) -> bool:
    return _contains(hint, (SERIES,))


def _is_time(hint: Any) -> bool:
    return _contains(hint, (AwareDatetime, dt.datetime))


def _is_tariff(hint: Any) -> bool:
    return _contains(hint, (TouTariff,))


@functools.cache
def series_fields(spec_type: type[AssetSpec]) -> list[str]:
    """Fields of an asset type that are horizon series (may be ``$inputs`` references)."""
    hints = typing.get_type_hints(spec_type, include_extras=True)
    return [name for name in spec_type.model_fields if _is_series(hints[name])]


@functools.cache
def time_fields(spec_type: type[AssetSpec]) -> list[str]:
    """Fields of an asset type that are points in time and may be clock times: a kind with an energy window
    (``WINDOW``) takes clock times in the window's fields only (``carried_until`` is the compile path's)."""
    hints = typing.get_type_hints(spec_type, include_extras=True)
    times = [name for name in spec_type.model_fields if _is_time(hints[name])]
    return [name for name in times if name in spec_type.WINDOW] if spec_type.WINDOW else times


def _copy_field(info: FieldInfo, annotation: Any) -> tuple[Any, Any]:
    kwargs: dict[str, Any] = {"description": info.description}
    if info.default_factory is not None:
        kwargs["default_factory"] = info.default_factory
    elif not info.is_required():
        kwargs["default"] = info.default
    return annotation, Field(**kwargs)


def _file_model(kind: str, spec_type: type[AssetSpec]) -> type[BaseModel]:
    hints = typing.get_type_hints(spec_type, include_extras=True)
    times = set(time_fields(spec_type))
    fields: dict[str, Any] = {}
    for name, info in spec_type.model_fields.items():
        hint = hints[name]
        if _is_series(hint):
            hint = Union[hint, InputRef]  # noqa: UP007
        elif name in times:
            hint = Union[hint, ClockTime]  # noqa: UP007
        elif _is_tariff(hint):
            hint = Union[hint, TariffPreset]  # noqa: UP007
        fields[name] = _copy_field(info, hint)
    model_name = spec_type.__name__.removesuffix("Spec") + "Asset"

    def whole_spec_checks(entry: BaseModel) -> BaseModel:
        """The spec's own cross-field checks, at once when nothing is left to resolve per run."""
        written = entry.model_dump(exclude_unset=True)
        if any(isinstance(v, str) and (v.startswith(INPUT_PREFIX) or f in times) for f, v in written.items()):
            return entry  # references and clock times resolve per run: checked when a run compiles it
        resolved = {f: v.tariff() if isinstance(v := getattr(entry, f), TariffPreset) else written[f] for f in written}
        try:
            spec_type.model_validate(resolved)
        except ValidationError as error:  # only cross-field checks can fail here: report the typed one
            causes = [(e.get("ctx") or {}).get("error") for e in error.errors()]
            raise next((c for c in causes if isinstance(c, SpecError)), error) from None
        return entry

    model = create_model(
        model_name,
        __config__=ConfigDict(extra="forbid", title=model_name, defer_build=True),  # built for the kinds used
        __doc__=(spec_type.__doc__ or kind).strip() + " (scenario file: series may be $inputs references)",
        __validators__={"whole_spec_checks": model_validator(mode="after")(whole_spec_checks)},
        **fields,
    )
    model.__module__ = __name__
    return model


@functools.cache
def _file_model_of(kind: str, spec_type: type[AssetSpec]) -> type[BaseModel]:
    model = _file_model(kind, spec_type)
    globals().setdefault(model.__name__, model)  # importable by name, so cases pickle to worker processes
    return model


def file_models() -> dict[str, type[BaseModel]]:
    """kind -> the file model of every registered asset kind (kinds registered later included)."""
    return {kind: _file_model_of(kind, t.spec) for kind, t in REGISTRY.items()}


FileAsset = kind_entry(file_models, "asset")
"""An asset entry in a site (scenario file or API), chosen by ``kind`` when it validates."""

file_models()  # the built-in kinds' models exist at import (worker processes unpickle them by name)


def input_refs(asset: BaseModel) -> dict[str, str]:
    """Field -> input name for every ``$inputs.<name>`` reference of an asset entry."""
    refs: dict[str, str] = {}
    for field in type(asset).model_fields:
        value = getattr(asset, field)
        if isinstance(value, str) and value.startswith(INPUT_PREFIX):
            refs[field] = value[len(INPUT_PREFIX) :]
    return refs


def clock_fields(asset: BaseModel) -> list[str]:
    """Fields of an asset entry given as clock times (resolved on each day)."""
    spec_type = REGISTRY[asset.kind].spec  # type: ignore[attr-defined]
    return [f for f in time_fields(spec_type) if isinstance(getattr(asset, f), str)]


def clock_time_on(day: dt.date, clock: str, tz: str) -> dt.datetime:
    """A local clock time on ``day`` as a tz-aware datetime (``24:00`` is the next midnight)."""
    hours, minutes = (int(p) for p in clock.split(":"))
    midnight = pd.Timestamp(day)
    if hours == 24:
        return (midnight + pd.Timedelta(days=1)).tz_localize(tz).to_pydatetime()
    return (midnight + pd.Timedelta(hours=hours, minutes=minutes)).tz_localize(tz).to_pydatetime()


def window_on(day: dt.date, fields: Mapping[str, Any], window: tuple[str, ...], tz: str) -> dict[str, dt.datetime]:
    """The clock times of an energy window that starts on ``day``: ``window`` is the kind's ``WINDOW`` (start field,
    then end fields) and the start must be a clock time; an end clock time at or before the start is on the next
    day (``"22:00"`` to ``"06:00"``), so the window belongs to the day it starts. Fields not set, or not clock
    times, are left out."""
    start = clock_time_on(day, fields[window[0]], tz)
    out = {window[0]: start}
    for field in window[1:]:
        clock = fields.get(field)
        if isinstance(clock, str):
            end = clock_time_on(day, clock, tz)
            out[field] = end if end > start else clock_time_on(day + dt.timedelta(days=1), clock, tz)
    return out


def cleared_alternatives(kind: str, changed: Mapping[str, Any]) -> dict[str, None]:
    """``None`` for the fields that a change replaces: setting one field of a kind's group of alternatives (a price
    series instead of the tariff) clears the others the change does not set."""
    cleared: dict[str, None] = {}
    for group in REGISTRY[kind].spec.ALTERNATIVES:
        if any(f in changed for f in group):
            cleared |= {f: None for f in group if f not in changed}
    return cleared
