"""Heat by temperature level: which levels a site has, their temperatures, and the bus of each.

Why: heat at 45 degC cannot do what steam does. With one heat bus a heat pump (hot water at best) would
"supply" a steam demand and gas radiant heaters would preheat a steam process. So each level is its own bus
with its own balance (:func:`optimizer.buses.heat_bus`): ``heat`` for the default level, ``heat_<level>`` for
a named one. Each heat asset says where its heat goes or comes from with ``level`` (a name; default ``None``:
the default level ``heat``, so files written before levels keep their single heat bus and their objectives).
Nothing joins two levels but a ``heat_exchanger`` (a pressure-reducing station too), and only from a hotter
level to a colder one; a heat pump supplies a level only up to its ``max_sink_temperature_c``.

Levels and their temperatures [degC]: the default set :data:`DEFAULT_HEAT_LEVELS` (``steam`` 170, ``hot_water``
80, ``low_temp`` 45), which a ``heat_levels`` entry in the assets overrides or extends::

    - kind: heat_levels
      levels: [{name: steam, temperature_c: 184}, {name: process_water, temperature_c: 95}]

(at most one per site). The default level ``heat`` has no temperature unless the entry gives it one: it then
takes part in the downward rule like any level. Temperatures are what the rules compare (a heat exchanger's
direction, a heat pump's reach) and the sink temperature of a heat pump's COP; they are not modelled as states.

The rule-based baseline serves the levels from the coldest up (:func:`heat_supply_rank`): at each level its
heat pumps, then its boilers, then its purchased heat, then the heat exchangers into it, which pass what is
still missing up to their hotter level before that level's own supplies run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

import pyomo.core as pyo
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from optimizer.assets.base import AssetSpec, BuildContext
from optimizer.baseline_state import BaselineState
from optimizer.buses import DEFAULT_HEAT_LEVEL, heat_bus, is_heat_bus
from optimizer.errors import SpecError

HeatLevelName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=32),
    Field(description="A heat level's name: lower case letters, digits and _ (steam, hot_water, low_temp)."),
]
LevelField = Annotated[
    HeatLevelName | None,
    Field(
        description="The heat level it supplies or draws (steam, hot_water, low_temp or one of the site's "
        "heat_levels); default: the default level heat, the one heat bus of a site without levels."
    ),
]

DEFAULT_HEAT_LEVELS: dict[str, float] = {"steam": 170.0, "hot_water": 80.0, "low_temp": 45.0}
"""Levels every site has without declaring them [degC]: ``steam`` at 170 (saturated at about 0.8 MPa absolute,
the middle of the 0.6-1.0 MPa of factory steam mains [est]), ``hot_water`` at 80 (a hot-water loop's supply),
``low_temp`` at 45 (floor heating, preheating). A ``heat_levels`` entry overrides them for a site."""
MIN_LEVEL_TEMPERATURE_C = 0.0
MAX_LEVEL_TEMPERATURE_C = 600.0
"""Bounds of a level's temperature [degC]: from water just above freezing to superheated steam."""

HEAT_BASELINE_START = 1.5
HEAT_BASELINE_SPAN = 0.5
"""The baseline runs the heat supplies in ``[1.5, 2.0)`` of its order: after demands, recovered compressor heat
and idle tanks (1), before the battery (2) and the grid (3), which must see the heat pumps' electricity."""


class HeatLevel(BaseModel):
    """A named heat level and its temperature."""

    model_config = ConfigDict(extra="forbid")

    name: HeatLevelName
    temperature_c: float = Field(
        ge=MIN_LEVEL_TEMPERATURE_C,
        le=MAX_LEVEL_TEMPERATURE_C,
        allow_inf_nan=False,
        description="Supply temperature of the level [degC]: steam's saturation temperature, a water loop's "
        "supply temperature.",
    )


class HeatLevelsSpec(AssetSpec):
    """The site's heat levels with their temperatures (overriding or extending the default set)."""

    kind: Literal["heat_levels"] = "heat_levels"
    name: str = Field("heat_levels", pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="Entry name; default heat_levels.")
    levels: list[HeatLevel] = Field(
        min_length=1,
        max_length=20,
        description="Levels by name and temperature [degC]; steam (170), hot_water (80) and low_temp (45) exist "
        "unless given other temperatures here; heat is the default level (no temperature unless given).",
    )

    @field_validator("levels")
    @classmethod
    def _unique(cls, levels: list[HeatLevel]) -> list[HeatLevel]:
        names = [level.name for level in levels]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"each level once, repeated: {repeated}")
        return levels


def build_heat_levels(spec: HeatLevelsSpec, ctx: BuildContext) -> None:
    """No model of its own: the entry only says which levels exist (read by the heat assets' builders)."""
    level_temperatures(ctx.problem.assets)  # one entry per site


def baseline_heat_levels(spec: HeatLevelsSpec, state: BaselineState) -> None:
    """Nothing to run."""


def level_temperatures(assets: Sequence[Any]) -> dict[str, float | None]:
    """Every level of a site -> its temperature [degC] (None: the default level ``heat`` without one).

    The default set, overridden and extended by the site's ``heat_levels`` entry (at most one).
    """
    declared = [a for a in assets if isinstance(a, HeatLevelsSpec)]
    if len(declared) > 1:
        raise SpecError(
            f"a site has one heat_levels entry, got {[a.name for a in declared]}", asset=declared[1].name, field="kind"
        )
    table: dict[str, float | None] = {DEFAULT_HEAT_LEVEL: None, **DEFAULT_HEAT_LEVELS}
    for entry in declared:
        table |= {level.name: level.temperature_c for level in entry.levels}
    return table


def level_of(spec: Any, field: str = "level") -> str:
    """The level an asset names in ``field`` (the default level when it names none)."""
    return getattr(spec, field) or DEFAULT_HEAT_LEVEL


def level_temperature(spec: Any, ctx: BuildContext, field: str = "level") -> float | None:
    """The temperature of the level ``spec.<field>`` names [degC] (None: the default level without one).

    Raises :class:`SpecError` on the asset's field for a level the site does not have.
    """
    table = level_temperatures(ctx.problem.assets)
    level = level_of(spec, field)
    if level not in table:
        known = ", ".join(sorted(table))
        raise SpecError(
            f"{level!r} is not a heat level of the site (known: {known}); declare it in a heat_levels entry",
            asset=spec.name,
            field=field,
        )
    return table[level]


def level_bus(spec: Any, ctx: BuildContext, field: str = "level") -> str:
    """The bus of the level ``spec.<field>`` names, after checking that the site has that level."""
    level_temperature(spec, ctx, field)
    guard_constant_heat_balances(ctx)
    return heat_bus(getattr(spec, field))


def heat_supply_rank(kind_offset: float, field: str = "level") -> Callable[[Any, Sequence[Any]], float]:
    """The baseline position of a heat supply kind: levels from the coldest up, and within a level by
    ``kind_offset`` in ``[0, 1)`` (heat pump 0, boiler 0.25, purchased heat 0.5, heat exchanger into it 0.75).

    The default level without a temperature comes first (nothing can carry heat into or out of it); an unknown
    level ranks there too (the build has refused it already).
    """

    def rank(spec: Any, assets: Sequence[Any]) -> float:
        table = level_temperatures(assets)
        order = sorted(table, key=lambda name: (table[name] is not None, table[name] or 0.0, name))
        level = level_of(spec, field)
        position = order.index(level) if level in order else 0
        return HEAT_BASELINE_START + HEAT_BASELINE_SPAN * (position + kind_offset) / len(order)

    return rank


_GUARD_FLAG = "heat_balance_guard"


def guard_constant_heat_balances(ctx: BuildContext) -> None:
    """Once per build: a heat bus whose terms are all fixed data (a steam demand with nothing on the steam level
    that can supply it) gets those terms as variables held by their bounds.

    Why: its balance row would be a constant (``-100 == 0``), which the modelling layer refuses to build; as
    variables the row stays a row, the solver reports the problem infeasible, and the diagnosis names the
    level's balance (``heat_steam_balance``). Nothing changes where a bus has any variable term.
    """
    if _GUARD_FLAG in ctx.flags:
        return
    ctx.flags.add(_GUARD_FLAG)

    def finalize(c: BuildContext) -> None:
        for bus, terms in list(c.bus_terms.items()):
            if not is_heat_bus(bus) or any(not c.flows[column].is_data for column, _ in terms):
                continue
            for column, _ in terms:
                flow = c.flows[column]
                values = [float(v) for v in flow.component]
                asset, _, suffix = column.rpartition(".")
                block = c.model.component(asset) if asset else None
                if block is None:
                    block = c.block(asset or f"{bus}_terms")
                var = pyo.Var(c.steps, bounds=lambda _, t, v=values: (v[t], v[t]))
                block.add_component(suffix or column, var)
                flow.component = var

    ctx.finalizers.append(finalize)
