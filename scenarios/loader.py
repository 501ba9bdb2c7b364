"""Reading scenario files: YAML with line numbers, validation, variants and sweep points as cases.

:func:`load_scenario` reads and validates a file and returns a
:class:`ScenarioDocument`; its :meth:`~ScenarioDocument.cases` are the
runnable :class:`Case` objects (the base, each variant, each sweep point),
each validated on its own, so a variant that sets an impossible value is
reported at the line of that override.

Every scenario document, from the CLI or the API, is read here: at most
:data:`MAX_YAML_BYTES`, and at most :data:`MAX_YAML_NODES` nodes once its aliases
are expanded (:class:`YamlLimitError` otherwise), so that a few hundred bytes of
nested aliases cannot make gigabytes of the walks that follow.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from optimizer.assets import REGISTRY
from scenarios.assets import INPUT_PREFIX
from scenarios.errors import (
    Issue,
    Path_,
    ScenarioError,
    SourceMap,
    display_path,
    node_lines,
    relative_name,
    validation_messages,
)
from scenarios.overrides import OverrideError, apply
from scenarios.spec import ScenarioFile

BASE = "base"

MAX_YAML_BYTES = 4_000_000
"""Largest scenario document read [bytes]: twice the API's default body limit; PyYAML reads about 0.3 MB/s."""
MAX_YAML_NODES = 1_000_000
"""Most nodes (mappings, lists, scalars) a document may hold once its aliases are expanded: a year of quarter-hours
inline for 28 series. Aliases (``*name``) share one node in PyYAML, but everything that walks the data (line maps,
validation, JSON) expands them: ten nested aliases of ten items each in 272 bytes are 10^9 nodes."""


class YamlLimitError(ScenarioError):
    """A document refused before it is built: larger than :data:`MAX_YAML_BYTES`, or aliases that expand it past
    :data:`MAX_YAML_NODES` (or that refer to themselves)."""


class _LimitReachedError(Exception):
    """Raised while composing; becomes a :class:`YamlLimitError` naming the file."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _Loader(yaml.SafeLoader):
    """YAML 1.2-style scalars: ``20:00`` stays a string (no base-60 ints) and ``1e-3`` is a float.

    Composing counts each node's size with its aliases expanded and refuses a document past
    :data:`MAX_YAML_NODES` (and a recursive alias) as soon as a node closes: a billion laughs stops after a few
    hundred bytes of work, before anything walks it."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._expanded: dict[int, int] = {}  # id(node) -> nodes it holds with aliases expanded (itself included)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            if target is not None and id(target) not in self._expanded:
                raise _LimitReachedError(
                    f"alias *{event.anchor} refers to the node it is in", event.start_mark.line + 1
                )
            return super().compose_node(parent, index)
        node = super().compose_node(parent, index)
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        size = 1 + sum(self._expanded[id(child)] for child in children)
        if size > MAX_YAML_NODES:
            raise _LimitReachedError(
                f"the document expands to more than {MAX_YAML_NODES:,} nodes through its aliases (*name); at most "
                f"{MAX_YAML_NODES:,} are read",
                node.start_mark.line + 1,
            )
        self._expanded[id(node)] = size
        return node


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _too_large(file: str, size: int) -> YamlLimitError:
    message = f"the document is {size:,} bytes; at most {MAX_YAML_BYTES:,} are read"
    return YamlLimitError([Issue(file, None, "", message)])


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parses YAML text; returns the data and the line of every key and item.

    Raises :class:`YamlLimitError` for a document larger than :data:`MAX_YAML_BYTES` or one whose aliases expand
    past :data:`MAX_YAML_NODES`, :class:`ScenarioError` for anything else that is not valid YAML."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_YAML_BYTES:
        raise _too_large(file, size)
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError([Issue(file, 1, "", "the file is empty")])
        data = loader.construct_document(node)
    except _LimitReachedError as error:
        raise YamlLimitError([Issue(file, error.line, "", error.message)]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = None if mark is None else mark.line + 1
        problem = " ".join(p for p in (error.context, error.problem) if p)
        raise ScenarioError([Issue(file, line, "", f"not valid YAML: {problem}")]) from error
    except yaml.YAMLError as error:  # e.g. a control character the reader rejects
        position = getattr(error, "position", None)
        line = None if position is None else text.count("\n", 0, position) + 1
        raise ScenarioError([Issue(file, line, "", f"not valid YAML: {getattr(error, 'reason', error)}")]) from error
    finally:
        if loader is not None:
            loader.dispose()
    return data, SourceMap(file=file, lines=node_lines(node))


@dataclass
class Case:
    """One runnable scenario (the base, a variant or a sweep point), validated.

    ``data`` is the raw mapping after the variant's or point's changes;
    ``remap`` sends a path in ``data`` to where it is written in the file (the
    override's line), so errors found later (building a day's problem) point
    at the right line.
    """

    label: str
    scenario: ScenarioFile
    data: dict[str, Any]
    source: SourceMap
    base_dir: Path
    remap: list[tuple[Path_, Path_]] = field(default_factory=list)
    variant: str | None = None
    sweep: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def file_path(self, path: Path_) -> Path_:
        """Where a path of ``data`` is written in the file."""
        best: tuple[Path_, Path_] | None = None
        for target, origin in self.remap:
            if path[: len(target)] == target and (best is None or len(target) > len(best[0])):
                best = (target, origin)
        if best is None:
            return path
        target, origin = best
        if origin and origin[-1] == "__set__":  # a set override: its key line, nothing deeper
            return origin[:-1]
        return (*origin, *path[len(target) :])

    def issue(self, path: Path_, message: str) -> Issue:
        """An issue at ``path`` of ``data``, with the file line and a readable field path.

        The issue of a variant or sweep point names it (``(in <label>)``), also when it is found at a line of
        the base (e.g. the variant lowers ``soc_max_frac`` below the file's ``soc_min_frac``).
        """
        where = self.file_path(path)
        shown = display_path(self.data, path)
        if self.label != BASE:
            message = f"{message} (in {self.label})"
        return Issue(self.source.file, self.source.line_of(where), shown, message)

    def error(self, path: Path_, message: str) -> ScenarioError:
        return ScenarioError([self.issue(path, message)])

    def asset_path(self, name: str) -> Path_:
        """Path of the asset called ``name`` in ``data``."""
        for i, item in enumerate(self.data["site"]["assets"]):
            if isinstance(item, dict) and item.get("name") == name:
                return ("site", "assets", i)
        return ("site", "assets")


@dataclass
class ScenarioDocument:
    """A scenario file, read and validated."""

    path: Path
    raw: dict[str, Any]
    source: SourceMap
    scenario: ScenarioFile

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def base(self) -> Case:
        return Case(BASE, self.scenario, self.raw, self.source, self.base_dir, description=self.scenario.description)

    def variant(self, name: str) -> Case:
        """The base with variant ``name`` applied."""
        if name == BASE:
            return self.base()
        if name not in self.scenario.variants:
            known = ", ".join(self.scenario.variants) or "none"
            raise ScenarioError([Issue(self.source.file, None, "variants", f"no variant {name!r} (variants: {known})")])
        data, remap = self._apply_variant(copy.deepcopy(self.raw), name)
        description = self.scenario.variants[name].description
        case = Case(name, self.scenario, data, self.source, self.base_dir, remap, variant=name, description=description)
        return _validated(case)

    def variants(self, names: list[str] | None = None) -> list[Case]:
        """The base and every variant (or the named ones), in file order."""
        chosen = names if names is not None else [BASE, *self.scenario.variants]
        return [self.variant(n) for n in chosen]

    def sweep(self, name: str) -> list[Case]:
        """One case per point of sweep ``name``; raises with the issues of every point that does not validate."""
        outcomes = self.sweep_points(name)
        issues = _unique([i for o in outcomes if isinstance(o, ScenarioError) for i in o.issues])
        if issues:
            raise ScenarioError(issues)
        return [o for o in outcomes if isinstance(o, Case)]

    def sweep_points(self, name: str) -> list[Case | ScenarioError]:
        """Each point of sweep ``name``, in order: its validated case, or the error saying what is wrong with it.

        Every point is tried (``dispatch validate`` reports all of them in one pass); raises only when the sweep
        itself does not exist.
        """
        if name not in self.scenario.sweeps:
            known = ", ".join(self.scenario.sweeps) or "none"
            raise ScenarioError([Issue(self.source.file, None, "sweeps", f"no sweep {name!r} (sweeps: {known})")])
        sweep = self.scenario.sweeps[name]
        outcomes: list[Case | ScenarioError] = []
        for i, point in enumerate(sweep.points()):
            try:
                outcomes.append(self._sweep_point(name, i, point))
            except ScenarioError as error:
                outcomes.append(error)
        return outcomes

    def _sweep_point(self, name: str, i: int, point: dict[str, Any]) -> Case:
        sweep = self.scenario.sweeps[name]
        data = copy.deepcopy(self.raw)
        remap: list[tuple[Path_, Path_]] = []
        if sweep.variant is not None:
            if sweep.variant not in self.scenario.variants:
                raise ScenarioError([self.base().issue(("sweeps", name, "variant"), f"no variant {sweep.variant!r}")])
            data, remap = self._apply_variant(data, sweep.variant)
        issues: list[Issue] = []
        for dotted, value in point.items():
            origin = ("sweeps", name, "parameters", dotted)
            try:
                target = apply(data, dotted, value)
            except OverrideError as error:
                issues.append(self.base().issue(origin, _override_message(error, dotted)))
                continue
            remap.append((target, (*origin, i)))
        if issues:
            raise ScenarioError(issues)
        label = f"{name}[{i}]"
        shown = ", ".join(f"{k} = {v}" for k, v in point.items())
        case = Case(label, self.scenario, data, self.source, self.base_dir, remap, sweep.variant, name, point, shown)
        return _validated(case)

    def _apply_variant(self, data: dict[str, Any], name: str) -> tuple[dict[str, Any], list[tuple[Path_, Path_]]]:
        """Applies variant ``name`` to ``data``; raises with every override of the variant that cannot be applied."""
        variant = self.scenario.variants[name]
        raw_variant = self.raw["variants"][name]
        remap: list[tuple[Path_, Path_]] = []
        issues: list[Issue] = []
        assets = data["site"]["assets"]
        for k, removed in enumerate(variant.remove_assets):
            names = [a.get("name") for a in assets]
            if removed not in names:
                issues.append(
                    self.base().issue(
                        ("variants", name, "remove_assets", k),
                        f"no asset named {removed!r} (assets: {', '.join(map(str, names))})",
                    )
                )
                continue
            del assets[names.index(removed)]
        for k, added in enumerate(raw_variant.get("add_assets", []) or []):
            assets.append(copy.deepcopy(added))
            remap.append((("site", "assets", len(assets) - 1), ("variants", name, "add_assets", k)))
        for dotted, value in (raw_variant.get("set") or {}).items():
            origin = ("variants", name, "set", dotted)
            try:
                target = apply(data, dotted, value)
            except OverrideError as error:
                issues.append(self.base().issue(origin, _override_message(error, dotted)))
                continue
            remap.append((target, (*origin, "__set__")))
        if issues:
            raise ScenarioError(issues)
        data.pop("variants", None)
        data.pop("sweeps", None)
        return data, remap

    def case_names(self) -> list[tuple[str, str]]:
        """``("variant", name)`` for the base and each variant, ``("sweep", name)`` for each sweep."""
        return (
            [("variant", BASE)]
            + [("variant", v) for v in self.scenario.variants]
            + [("sweep", s) for s in self.scenario.sweeps]
        )

    def cases(self) -> list[Case]:
        """Every case of the file: base, variants, sweep points."""
        cases = self.variants()
        for name in self.scenario.sweeps:
            cases += self.sweep(name)
        return cases


def _unique(issues: list[Issue]) -> list[Issue]:
    """Issues without repeats, in order."""
    return list(dict.fromkeys(issues))


def _override_message(error: OverrideError, dotted: str) -> str:
    return str(error).removeprefix(f"{dotted}: ")


def _validated(case: Case) -> Case:
    """Validates a case's data; raises a :class:`ScenarioError` pointing at the override lines."""
    references = reference_issues(case)
    try:
        scenario = ScenarioFile.model_validate(case.data)
    except ValidationError as error:
        issues = [case.issue(path, message) for path, message in validation_messages(error, case.data)]
        raise ScenarioError(issues + references) from error
    case.scenario = scenario
    if references:
        raise ScenarioError(references)
    return case


def _items(node: Any) -> list[Any]:
    return node if isinstance(node, list) else []


def _mapping(node: Any) -> dict[str, Any]:
    return node if isinstance(node, dict) else {}


def reference_issues(case: Case) -> list[Issue]:
    """``$inputs`` references, initial states, sums and PV-array names that point nowhere (on the raw data)."""
    data = case.data
    site = _mapping(data.get("site"))
    inputs = _mapping(data.get("inputs"))
    assets = [a for a in _items(site.get("assets")) if isinstance(a, dict)]
    issues: list[Issue] = []
    for i, asset in enumerate(_items(site.get("assets"))):
        for field_name, value in _mapping(asset).items():
            if isinstance(value, str) and value.startswith(INPUT_PREFIX):
                ref = value[len(INPUT_PREFIX) :]
                if ref not in inputs:
                    known = ", ".join(inputs) or "none defined"
                    issues.append(
                        case.issue(("site", "assets", i, field_name), f"no input named {ref!r} (inputs: {known})")
                    )
    names = {a.get("name"): a for a in assets}
    for asset_name, fields in _mapping(data.get("initial_state")).items():
        if asset_name not in names:
            known = ", ".join(str(n) for n in names)
            issues.append(case.issue(("initial_state", asset_name), f"no asset named {asset_name!r} (assets: {known})"))
            continue
        kind = names[asset_name].get("kind")
        if kind not in REGISTRY:
            continue
        for field_name in _mapping(fields):
            if field_name not in REGISTRY[kind].spec.model_fields:
                issues.append(
                    case.issue(
                        ("initial_state", asset_name, field_name), f"{asset_name} ({kind}) has no field {field_name!r}"
                    )
                )
    arrays = {str(a.get("name")) for a in _items(site.get("pv_arrays")) if isinstance(a, dict)}
    for input_name, source in inputs.items():
        source = _mapping(source)
        for k, part in enumerate(_items(source.get("sum"))):
            if part not in inputs or part == input_name:
                issues.append(case.issue(("inputs", input_name, "sum", k), f"no other input named {part!r}"))
        if "weather" in source:
            if not arrays:
                issues.append(case.issue(("inputs", input_name), "a weather input needs site.pv_arrays"))
            for k, array in enumerate(_items(source.get("arrays"))):
                if array not in arrays:
                    issues.append(
                        case.issue(
                            ("inputs", input_name, "arrays", k),
                            f"no PV array named {array!r} (site.pv_arrays: {', '.join(sorted(arrays)) or 'none'})",
                        )
                    )
    return issues


def load_scenario(path: str | Path) -> ScenarioDocument:
    """Reads and validates a scenario file; raises :class:`ScenarioError` with file:line:field issues."""
    path = Path(path)
    file = relative_name(path)
    try:
        if path.stat().st_size > MAX_YAML_BYTES:  # refused before it is read
            raise _too_large(file, path.stat().st_size)
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError([Issue(file, None, "", f"cannot read the file: {error.strerror or error}")]) from error
    data, source = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise ScenarioError([Issue(file, 1, "", "a scenario file is a mapping (name:, site:, horizon:, ...)")])
    case = Case(BASE, None, data, source, path.parent)  # type: ignore[arg-type]
    case = _validated(case)
    return ScenarioDocument(path=path, raw=data, source=source, scenario=case.scenario)
