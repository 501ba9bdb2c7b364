"""Scenario errors that point at the file, the line and the field.

Every problem found in a scenario file becomes an :class:`Issue`, printed as
``<file>:<line>: <field path>: <message>``; a :class:`ScenarioError` carries one
or more. Pydantic's messages are rephrased where they would puzzle an engineer:
unknown fields get a "did you mean" hint, the noise of unions (a number, a list
or an ``$inputs`` reference) becomes one sentence, union tags are dropped from
the field path, and assets are named (``site.battery.capacity_kwh`` rather than
``site.assets.3.capacity_kwh``).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from optimizer.errors import SpecError

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    """One problem in a scenario file: where (file, 1-based line, field path) and what."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ScenarioError(ValueError):
    """A scenario file (or an input it names) that cannot be used, with every issue found."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[list[Issue]]]:
        return (type(self), (self.issues,))  # survives pickling (errors raised in worker processes)


# --- positions of YAML nodes --------------------------------------------------------------------


@dataclass
class SourceMap:
    """1-based line numbers of every key and item of a YAML document, by path."""

    file: str
    lines: dict[Path_, int]

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """Line of ``path``, or of its deepest prefix written in the file (None for an unknown root)."""
        path = tuple(path)
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return None

    @classmethod
    def empty(cls, file: str = "<scenario>") -> SourceMap:
        return cls(file=file, lines={})


def node_lines(node: Any, path: Path_ = (), out: dict[Path_, int] | None = None) -> dict[Path_, int]:
    """Walks a ``yaml.compose`` node tree: path -> line of the key (in a mapping) or of the item (in a list)."""
    import yaml

    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            node_lines(value_node, (*path, key), out)
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            node_lines(item, (*path, i), out)
    return out


# --- paths --------------------------------------------------------------------------------------

_TAG = re.compile(r"[^a-z0-9_]")


def resolve_loc(data: Any, loc: Sequence[str | int]) -> Path_:
    """The part of a pydantic ``loc`` that exists in ``data`` (union tags such as ``'battery'`` dropped).

    A missing field is kept as the last part, so "is required" names it.
    """
    path: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            path.append(part)
            node = node[part]
        elif (
            isinstance(node, dict)
            and isinstance(part, str)
            and not _TAG.search(part)
            and part not in _TYPE_TAGS
            and _is_field_of(node, part)
        ):
            path.append(part)
            break
    return tuple(path)


_TYPE_TAGS = {"list", "float", "int", "str", "bool", "dict", "none"}


def _is_field_of(node: dict[str, Any], part: str) -> bool:
    """Whether a missing key is a field name (not a union member tag like an asset kind or ``csv``)."""
    from optimizer.assets import REGISTRY

    return (part not in REGISTRY and part not in {"values", "csv", "weather", "history"}) or part in node


def display_path(data: Any, path: Sequence[str | int]) -> str:
    """``('site', 'assets', 2, 'capacity_kwh')`` -> ``site.battery.capacity_kwh`` (named entries by name)."""
    parts: list[str] = []
    node = data
    for part in path:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            if parts and parts[-1] == "assets" and isinstance(name, str):
                parts[-1] = name
            elif isinstance(name, str):
                parts.append(name)
            elif parts:
                parts[-1] = f"{parts[-1]}[{part}]"
            else:
                parts.append(f"[{part}]")
            node = item
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


# --- pydantic errors in engineers' words --------------------------------------------------------


@functools.cache
def _vocabulary() -> tuple[str, ...]:
    """Every field name of the scenario schema (for "did you mean" hints)."""
    from scenarios.spec import json_schema

    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                names.update(properties)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json_schema())
    return tuple(sorted(names))


def _known_fields(parent: Any) -> tuple[str, ...]:
    """Field names allowed where ``parent`` (a raw mapping) sits: its asset kind's, else the schema's."""
    from optimizer.assets import REGISTRY

    if isinstance(parent, dict) and parent.get("kind") in REGISTRY:
        return tuple(REGISTRY[parent["kind"]].spec.model_fields)
    return _vocabulary()


def _rephrase(error: dict[str, Any], data: Any = None, path: Path_ = ()) -> str:
    kind = error["type"]
    message = str(error["msg"])
    if kind == "extra_forbidden":
        field = str(error["loc"][-1])
        parent = _get(data, path[:-1]) if path and path[-1] == field else _get(data, path)
        hint = difflib.get_close_matches(field, _known_fields(parent), n=1, cutoff=0.6)
        return f"unknown field {field!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
    if kind == "missing":
        return "is required but missing"
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    value = error.get("input")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal") and not isinstance(
        value, (dict, list)
    ):
        return f"{value!r}: {message[0].lower()}{message[1:]}"
    return message


def _most_useful(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """For a field that failed every member of a union, the one message worth reading."""
    if len(errors) == 1:
        return errors[0]
    types = {e["type"] for e in errors}
    if types & {"float_parsing", "float_type"} and "list_type" in types:
        return {**errors[0], "type": "series", "msg": "expected a number, a list of numbers or $inputs.<name>"}
    for preferred in ("value_error", "assertion_error", "missing", "extra_forbidden"):
        for e in errors:
            if e["type"] == preferred:
                return e
    generic = {"string_pattern_mismatch", "string_type", "list_type", "dict_type", "model_type", "union_tag_invalid"}
    specific = [e for e in errors if e["type"] not in generic] or errors
    # the union member that got furthest into the value (e.g. to a list item) says what is wrong
    return max(specific, key=lambda e: len(e["loc"]))


def validation_messages(error: ValidationError, data: Any) -> list[tuple[Path_, str]]:
    """``(path in data, message)`` per distinct field of a pydantic error, in the error's order."""
    return [(path, message) for path, message, _ in validation_details(error, data)]


def validation_details(error: ValidationError, data: Any) -> list[tuple[Path_, str, dict[str, Any]]]:
    """``(path in data, message, the pydantic error chosen)`` per distinct field, in the error's order."""
    by_path: dict[Path_, list[dict[str, Any]]] = {}
    for raw in error.errors(include_url=False):
        path = resolve_loc(data, raw["loc"])
        cause = (raw.get("ctx") or {}).get("error")
        if isinstance(cause, SpecError) and cause.field:  # a cross-field check names its field
            path = (*path, *(int(p) if p.isdigit() else p for p in cause.field.split(".")))
            raw = {**raw, "msg": cause.message}
        by_path.setdefault(path, []).append(raw)
    out: list[tuple[Path_, str, dict[str, Any]]] = []
    for path, errors in by_path.items():
        # several extra fields in one mapping: report each
        extras = [e for e in errors if e["type"] == "extra_forbidden"]
        if extras and len(errors) == len(extras):
            for e in extras:
                field_path = (*path, e["loc"][-1]) if path[-1:] != (e["loc"][-1],) else path
                out.append((field_path, _rephrase(e, data, field_path), e))
            continue
        chosen = _most_useful(errors)
        out.append((path, _rephrase(chosen, data, path), chosen))
    return out


def _get(data: Any, path: Sequence[str | int]) -> Any:
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def relative_name(path: Path) -> str:
    """A file name as shown in messages: relative to the working directory when below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
