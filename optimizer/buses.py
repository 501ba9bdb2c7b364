"""Bus names. Each bus has one balance per step, assembled from registered flows.

Heat is carried on one bus per temperature level (:mod:`optimizer.assets.heat_levels`): the default level's bus is
``heat`` (a site that declares no levels has only this one, as before levels existed), a named level's is
``heat_<level>`` (``heat_steam``, ``heat_hot_water``). An asset puts its heat flows on ``heat_bus(spec.level)``, so
nothing joins two levels but an asset that carries heat between them (a heat exchanger, downward only).
"""

from __future__ import annotations

ELECTRICITY = "electricity"  # kW
HEAT = "heat"  # kW_th, the default heat level
COOLING = "cooling"  # kW_th
COMPRESSED_AIR = "compressed_air"  # m3/min of free air
ICE = "ice"  # kW_th of ice made or melted (only chillers in ice mode supply it, only ice tanks absorb it)

DEFAULT_HEAT_LEVEL = HEAT
"""The level of a heat asset that names none (``level: None``): its bus is :data:`HEAT`."""
HEAT_LEVEL_PREFIX = f"{HEAT}_"
"""A named heat level's bus is this prefix and the level's name: ``heat_steam``."""


def heat_bus(level: str | None) -> str:
    """The bus of heat at ``level`` [kW_th]: ``heat`` for the default level (``None`` or ``"heat"``),
    ``heat_<level>`` for a named one (``heat_bus("hot_water") == "heat_hot_water"``).

    Every heat flow goes through this, so that assets written without a level (and the reference problem) keep
    the single ``heat`` bus they always had, and a level's heat balances only with heat at the same level.
    Whether the level is known (declared or in the default set) is checked where the asset is built
    (:func:`optimizer.assets.heat_levels.level_bus`).
    """
    if level is None or level == DEFAULT_HEAT_LEVEL:
        return HEAT
    return f"{HEAT_LEVEL_PREFIX}{level}"


def is_heat_bus(bus: str) -> bool:
    """Whether ``bus`` carries heat [kW_th] at some level (``heat`` or ``heat_<level>``)."""
    return bus == HEAT or bus.startswith(HEAT_LEVEL_PREFIX)


def heat_level_of(bus: str) -> str | None:
    """The level a heat bus carries (``"steam"`` for ``heat_steam``, ``"heat"`` for ``heat``); None for other buses."""
    if bus == HEAT:
        return DEFAULT_HEAT_LEVEL
    return bus.removeprefix(HEAT_LEVEL_PREFIX) if bus.startswith(HEAT_LEVEL_PREFIX) else None


def bus_quantity(bus: str) -> str:
    """What a bus carries, in words: ``heat``, ``heat (hot water)``, ``compressed air``."""
    level = heat_level_of(bus)
    if level is not None and level != DEFAULT_HEAT_LEVEL:
        return f"heat ({level.replace('_', ' ')})"
    return bus.replace("_", " ")
