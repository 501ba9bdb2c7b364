"""Dotted-path changes to a scenario's raw data (variants and sweep points).

A path walks the YAML mapping: ``site.battery.capacity_kwh`` goes into ``site``,
then to the asset *named* ``battery`` (``site.assets`` looked up by name), then
to its field. Lists of named entries (assets, PV arrays) are addressed by name
or by position; missing mappings on the way are created, so
``site.targets.green_share.min_frac: 0.6`` adds a target.

Values: a plain value replaces (a mapping is merged into a mapping);
``{add: x}`` and ``{scale: x}`` change a number, or every number of a list.
"""

from __future__ import annotations

import copy
from typing import Any

from optimizer.assets import REGISTRY
from scenarios.assets import cleared_alternatives

Path_ = tuple[str | int, ...]
RELATIVE_OPS = ("add", "scale")


class OverrideError(ValueError):
    """A dotted path or value that cannot be applied."""


def _named_index(items: list[Any], name: str) -> int | None:
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == name:
            return i
    return None


def _names(items: list[Any]) -> str:
    return ", ".join(str(i.get("name")) for i in items if isinstance(i, dict))


def resolve(data: dict[str, Any], dotted: str, *, create: bool = True) -> Path_:
    """The concrete path (keys and list positions) that ``dotted`` addresses in ``data``."""
    parts = dotted.split(".")
    if not all(parts):
        raise OverrideError(f"{dotted!r} is not a dotted path like site.battery.capacity_kwh")
    node: Any = data
    path: list[str | int] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, dict):
            if part in node:
                path.append(part)
                node = node[part]
                continue
            assets = node.get("assets")
            if isinstance(assets, list) and (k := _named_index(assets, part)) is not None:
                path += ["assets", k]
                node = assets[k]
                continue
            if not path and part not in TOP_SECTIONS:
                sections = ", ".join(sorted(TOP_SECTIONS))
                raise OverrideError(f"{dotted}: {part!r} is not a section of the scenario ({sections})")
            if path == ["site"] and not last and part not in _SITE_SECTIONS:
                names = _names(assets) if isinstance(assets, list) else ""
                raise OverrideError(f"{dotted}: no asset named {part!r} (assets: {names})")
            if path and path[0] == "inputs" and len(path) == 1:
                raise OverrideError(f"{dotted}: no input named {part!r} (inputs: {', '.join(node)})")
            if not create:
                raise OverrideError(f"{dotted}: {part!r} is not set in the base scenario")
            path.append(part)
            if not last:
                node[part] = {}
                node = node[part]
        elif isinstance(node, list):
            k = int(part) if part.isdigit() else _named_index(node, part)
            if k is None or not 0 <= k < len(node):
                raise OverrideError(f"{dotted}: no entry {part!r} in the list (entries: {_names(node) or len(node)})")
            path.append(k)
            node = node[k]
        else:
            raise OverrideError(f"{dotted}: {'.'.join(parts[:i])} is a value ({node!r}), not a section")
    return tuple(path)


_SITE_SECTIONS = {"targets", "objective", "emission_factors"}
TOP_SECTIONS = {"site", "horizon", "inputs", "initial_state", "solver"}


def get(data: Any, path: Path_) -> Any:
    node = data
    for part in path:
        node = node[part]
    return node


def _has(data: Any, path: Path_) -> bool:
    try:
        get(data, path)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _relative(current: Any, op: str, amount: Any, dotted: str) -> Any:
    if not isinstance(amount, (int, float)) or isinstance(amount, bool):
        raise OverrideError(f"{dotted}: {{{op}: ...}} needs a number, got {amount!r}")
    if isinstance(current, str) and current.startswith("$inputs."):
        name = current.removeprefix("$inputs.")
        knob = "scale" if op == "scale" else "offset"
        raise OverrideError(f"{dotted} refers to {current}; change the input instead, e.g. inputs.{name}.{knob}")

    def one(x: Any) -> float:
        if not isinstance(x, (int, float)) or isinstance(x, bool):
            raise OverrideError(f"{dotted}: {{{op}: ...}} needs a number or a list of numbers here, found {x!r}")
        return x + amount if op == "add" else x * amount

    if isinstance(current, list):
        return [one(x) for x in current]
    if current is None:
        raise OverrideError(f"{dotted}: there is no value in the base scenario to {op} to")
    return one(current)


def _merge(target: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(target)
    for key, item in value.items():
        out[key] = _merge(out[key], item) if isinstance(item, dict) and isinstance(out.get(key), dict) else item
    return out


def apply(data: dict[str, Any], dotted: str, value: Any) -> Path_:
    """Applies one change in place; returns the concrete path it changed."""
    path = resolve(data, dotted)
    parent = get(data, path[:-1])
    key = path[-1]
    current = get(data, path) if _has(data, path) else None
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in RELATIVE_OPS:
        op, amount = next(iter(value.items()))
        new = _relative(current, op, amount, dotted)
    elif isinstance(value, dict) and isinstance(current, dict):
        new = _merge(current, value)
    else:
        new = copy.deepcopy(value)
    if isinstance(parent, list):
        parent[int(key)] = new
    else:
        parent[key] = new
        if parent.get("kind") in REGISTRY:  # an asset entry: a price series replaces the tariff, and so on
            for other in cleared_alternatives(parent["kind"], {key: new}):
                parent.pop(other, None)
    return path
