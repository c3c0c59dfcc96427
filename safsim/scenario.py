"""Scenario files: YAML loading, ``extends:``, ``--set`` overrides, and clear errors.

Objects:
    ScenarioError: the one error a bad scenario raises; ``str(err)`` is one line,
        ``FILE:LINE: PATH: MESSAGE``.
    load_scenario(source, overrides=None) -> Scenario: read a file, a bundled scenario or a
        mapping, merge it onto the defaults, apply overrides, validate.
    apply_overrides(scenario, overrides) -> Scenario: a new scenario with dotted-path overrides.
    own_settings(source) -> dict: a file's own settings (not inherited) as dotted-path overrides.
    dump_scenario(scenario) -> str: YAML text that ``load_scenario`` reads back to an equal object.
    scenario_json_schema() -> dict: the JSON Schema of scenario files.
    bundled_scenarios_dir(), list_bundled(), resolve_scenario(name_or_path): bundled scenarios.

Merging (defaults, ``extends:`` and overrides all follow one rule): nested mappings merge key by
key; a mapping that holds the key ``dist`` (a distribution) replaces the old value wholesale; lists
and scalars replace.  A file therefore only names what it changes: ``providers: {sme_vso: {count:
30}}`` keeps every other ``sme_vso`` default.

Safety: only ``yaml.SafeLoader`` is used; files over 1 MiB are refused before parsing; at most
100 YAML aliases (``*name``) are accepted and the document, with aliases expanded, may hold at
most 100,000 values and nest at most 50 levels deep, so an alias bomb ("billion laughs") fails
after a bounded amount of work; recursive aliases are refused; mapping keys must be text and may
not repeat.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ValidationError

from safsim.config import NotANumber, Scenario

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_VALUES",
    "ScenarioError",
    "apply_overrides",
    "bundled_scenarios_dir",
    "dump_scenario",
    "format_path",
    "list_bundled",
    "load_scenario",
    "own_settings",
    "resolve_scenario",
    "scenario_json_schema",
]

MAX_FILE_BYTES = 1024 * 1024
"""Largest scenario file read (1 MiB); larger files are refused before parsing."""
MAX_ALIASES = 100
"""Most YAML alias nodes (``*name``) accepted in one file."""
MAX_DEPTH = 50
"""Deepest nesting of mappings and lists accepted (the top-level mapping is level 1)."""
MAX_VALUES = 100_000
"""Most values (mappings, lists and scalars, aliases expanded) accepted in one scenario."""

SET_LABEL = "--set"
"""Prefix of the ``file`` of an override's errors: ``--set PATH=VALUE`` names the argument."""
MAPPING_LABEL = "<mapping>"

_DIST_HINT = "{dist: beta|uniform|normal|lognormal|choice, ...}"
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NEWLINES = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")

PathParts = tuple[str | int, ...]
_Origin = tuple[str, int | None]  # (file label, 1-based line or None)
_Provenance = dict[PathParts, _Origin]


# --------------------------------------------------------------------------------------
# The error
# --------------------------------------------------------------------------------------


class ScenarioError(Exception):
    """A scenario that cannot be read or does not validate.

    Attributes:
        file: The file the problem is in (``<mapping>`` for a mapping, ``--set`` for an
            override), or None when no file is involved.
        path: Dotted key path of the offending value, e.g. ``commissioners.sv_weight`` or
            ``shocks[1].budget_cut``; ``""`` for the document root.
        line: 1-based line in ``file``, or None when unknown.
        message: What is wrong, in plain words, on one line.
        errors: Every problem found, in file order, each a ScenarioError with one message
            (``[self]`` when only one was found).  ``str(err)`` is the first; ``safsim check``
            prints them all.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        path: str = "",
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = _one_line(message)
        self.file = None if file is None else _one_line(file)
        self.path = _one_line(path)
        self.line = line
        self.errors: list[ScenarioError] = [self]

    def __str__(self) -> str:
        head = ""
        if self.file is not None:
            head = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [p for p in (head, self.path) if p]
        return ": ".join([*parts, self.message])


def _one_line(text: str) -> str:
    return _NEWLINES.sub(" ", str(text)).strip()


def _show(value: Any, limit: int = 60) -> str:
    """A short, one-line rendering of a user's value for messages."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, Mapping):
        text = "a mapping"
    elif isinstance(value, list | tuple | set | frozenset):
        text = "a list"
    elif isinstance(value, int):
        text = str(value) if value.bit_length() < 128 else "a very large integer"
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, str):
        text = repr(value)
    else:
        text = f"a {type(value).__name__}"
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_path(parts: Sequence[str | int]) -> str:
    """Dotted path text of key parts: ``("shocks", 1, "budget_cut")`` -> ``shocks[1].budget_cut``."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif not p or not p.isprintable() or any(c in p for c in ".[] "):
            out += f"[{p!r}]"  # keys that would be ambiguous or invisible in a dotted path
        else:
            out += f".{p}" if out else str(p)
    return out


# --------------------------------------------------------------------------------------
# Bundled scenarios
# --------------------------------------------------------------------------------------


def bundled_scenarios_dir() -> Path:
    """The folder of bundled scenarios.

    ``safsim/scenarios/`` inside the package: in an installed wheel it holds the YAML files
    themselves; in a source checkout it is a symbolic link to the repository's ``scenarios/``.
    Where symbolic links are not checked out (some Windows set-ups), the repository's
    ``scenarios/`` beside the package folder is used directly.
    """
    pkg = Path(__file__).resolve().parent
    for candidate in (pkg / "scenarios", pkg.parent / "scenarios"):
        if candidate.is_dir():
            return candidate
    return pkg.parent / "scenarios"


def list_bundled() -> list[str]:
    """Names (file stems) of the bundled scenarios, sorted."""
    folder = bundled_scenarios_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml") if p.is_file())


def _bundled(name: str) -> Path | None:
    stem = name[: -len(".yaml")] if name.endswith(".yaml") else name
    if not stem or "/" in stem or "\\" in stem or stem.startswith("."):
        return None
    candidate = bundled_scenarios_dir() / f"{stem}.yaml"
    return candidate if candidate.is_file() else None


def _not_found(name: str) -> str:
    names = ", ".join(list_bundled()) or "none"
    return f"no such scenario file or bundled scenario {name!r} (bundled: {names})"


def resolve_scenario(name_or_path: str | os.PathLike[str]) -> Path:
    """The scenario file meant by a path or a bundled scenario name.

    Args:
        name_or_path: A path to a file (an existing path wins) or a bundled stem like
            ``"baseline"``.

    Returns:
        The path of the file.

    Raises:
        ScenarioError: Neither a file nor a bundled scenario has that name.
    """
    text = os.fspath(name_or_path)
    path = Path(text)
    if text and path.exists():
        return path
    found = _bundled(text)
    if found is None:
        raise ScenarioError(_not_found(text))
    return found


# --------------------------------------------------------------------------------------
# Reading YAML safely
# --------------------------------------------------------------------------------------


class _Refused(Exception):
    """A safety limit hit while composing YAML (internal; becomes a ScenarioError)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _Loader(yaml.SafeLoader):
    """SafeLoader that counts aliases and nesting while composing, before anything is built."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(
                    f"more than {MAX_ALIASES} YAML aliases (*name); refusing the file",
                    self.peek_event().start_mark.line + 1,
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    f"nesting deeper than {MAX_DEPTH} levels; refusing the file",
                    self.peek_event().start_mark.line + 1,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:  # noqa: D102
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # PyYAML's constructors raise ValueError, KeyError, ...
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read value {_show(node.value)}: {exc}", node.start_mark
            ) from None


def _yaml_error(exc: yaml.YAMLError, label: str, text: str) -> ScenarioError:
    if isinstance(exc, yaml.composer.ComposerError) and (exc.context or "").startswith("expected a single document"):
        mark = exc.problem_mark
        return ScenarioError(
            "a scenario file holds one YAML document, but a second one starts here",
            file=label,
            line=None if mark is None else mark.line + 1,
        )
    if isinstance(exc, yaml.constructor.ConstructorError) and exc.problem_mark is not None:
        return ScenarioError(
            _one_line(exc.problem or "cannot read a value"),
            file=label,
            line=exc.problem_mark.line + 1,
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        words = " ".join(w for w in (exc.context, exc.problem) if w)
        return ScenarioError(
            f"YAML syntax error: {words or 'cannot parse'}",
            file=label,
            line=None if mark is None else mark.line + 1,
        )
    if isinstance(exc, yaml.reader.ReaderError):
        where = exc.position if isinstance(exc.position, int) else 0
        char = f" #x{exc.character:04x}" if isinstance(exc.character, int) else ""
        return ScenarioError(
            f"unacceptable character{char} (control characters are not allowed in YAML)",
            file=label,
            line=text[:where].count("\n") + 1,
        )
    return ScenarioError(f"YAML syntax error: {exc}", file=label)


def _check_keys(root: yaml.Node, label: str) -> None:
    """Every mapping key is text and appears once (each distinct node is visited once)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key, value in node.value:
                stack.append(value)
                if key.tag == _MERGE_TAG:
                    continue
                line = key.start_mark.line + 1
                if not (isinstance(key, yaml.ScalarNode) and key.tag == _STR_TAG):
                    shown = _one_line(key.value)[:60] if isinstance(key, yaml.ScalarNode) else "a list or mapping"
                    shown = shown or "null"
                    raise ScenarioError(f"mapping keys must be text, got {shown} (quote it)", file=label, line=line)
                if key.value in first_line:
                    raise ScenarioError(
                        f"duplicate key {key.value!r} (first given at line {first_line[key.value]})",
                        file=label,
                        line=line,
                    )
                first_line[key.value] = line
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _line_map(root: yaml.Node, label: str) -> _Provenance:
    """Map each key path to the line of its key (or of the item, for list items)."""
    out: _Provenance = {}
    count = 0

    def walk(node: yaml.Node, path: PathParts) -> None:
        nonlocal count
        count += 1
        if count > MAX_VALUES:  # already bounded by _check_tree; defensive
            return
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag == _STR_TAG:
                    sub = (*path, key.value)
                    out[sub] = (label, key.start_mark.line + 1)
                    walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                sub = (*path, i)
                out[sub] = (label, item.start_mark.line + 1)
                walk(item, sub)

    walk(root, ())
    return out


def _check_tree(data: Any, label: str) -> None:
    """Refuse non-text keys, cycles, deep nesting and too many values (aliases expanded)."""
    count = 0
    on_path: set[int] = set()

    def walk(value: Any, path: PathParts, depth: int) -> None:
        nonlocal count
        count += 1
        if count > MAX_VALUES:
            raise ScenarioError(
                f"more than {MAX_VALUES} values (aliases expanded); refusing the scenario",
                file=label,
            )
        if depth > MAX_DEPTH:
            raise ScenarioError(
                f"nesting deeper than {MAX_DEPTH} levels; refusing the scenario",
                file=label,
                path=format_path(path[:MAX_DEPTH]),
            )
        if isinstance(value, Mapping | list | tuple):
            if id(value) in on_path:
                raise ScenarioError(
                    "a value contains itself (recursive alias); refusing the scenario",
                    file=label,
                    path=format_path(path),
                )
            on_path.add(id(value))
            if isinstance(value, Mapping):
                for key, sub in value.items():
                    if not isinstance(key, str):
                        raise ScenarioError(
                            f"mapping keys must be text, got {_show(key)}",
                            file=label,
                            path=format_path(path),
                        )
                    walk(sub, (*path, key), depth + 1)
            else:
                for i, sub in enumerate(value):
                    walk(sub, (*path, i), depth + 1)
            on_path.discard(id(value))

    walk(data, (), 1)


def _read_text(path: Path, label: str) -> str:
    try:
        if path.is_dir():
            raise ScenarioError("is a directory, not a scenario file", file=label)
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(f"file is larger than 1 MiB ({size} bytes); refusing to parse it", file=label)
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError("file not found", file=label) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror or exc}", file=label) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError("file is larger than 1 MiB; refusing to parse it", file=label)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be decoded)",
            file=label,
            line=line,
        ) from None


def _parse_yaml(text: str, label: str) -> tuple[Any, _Provenance, yaml.Node | None]:
    """Parse one YAML document safely; returns (data, line map, root node)."""
    if not text.strip():
        return None, {}, None
    try:
        loader = _Loader(text)  # the reader refuses control characters here
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, label, text) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, None
        _check_keys(node, label)
        data = loader.construct_document(node)
    except _Refused as exc:
        raise ScenarioError(exc.message, file=label, line=exc.line) from None
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, label, text) from None
    finally:
        loader.dispose()
    _check_tree(data, label)
    return data, _line_map(node, label), node


def _parse_file(path: Path, label: str) -> tuple[dict[str, Any], _Provenance]:
    data, lines, node = _parse_yaml(_read_text(path, label), label)
    if data is None:
        raise ScenarioError("empty scenario file", file=label)
    if not isinstance(data, dict):
        raise ScenarioError(
            f"the top level must be a mapping of keys, got {_kind(data)}",
            file=label,
            line=None if node is None else node.start_mark.line + 1,
        )
    return data, lines


def _kind(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a single value {_show(value)}"


# --------------------------------------------------------------------------------------
# Merging
# --------------------------------------------------------------------------------------


@cache
def _defaults_tree() -> dict[str, Any]:
    return Scenario().model_dump(mode="json")


def _merge(base: Any, over: Any, path: PathParts, replaced: list[PathParts]) -> Any:
    """Merge ``over`` onto ``base`` (neither is changed); record the paths ``over`` replaced."""
    if isinstance(base, dict) and isinstance(over, dict) and "dist" not in over:
        out = dict(base)
        for key, value in over.items():
            if key in out:
                out[key] = _merge(out[key], value, (*path, key), replaced)
            else:
                out[key] = value
                replaced.append((*path, key))
        return out
    replaced.append(path)
    return over


def _merge_provenance(base: _Provenance, replaced: list[PathParts], over: _Provenance) -> _Provenance:
    gone = set(replaced)
    kept = {p: origin for p, origin in base.items() if not any(p[:n] in gone for n in range(len(p) + 1))}
    kept.update(over)
    return kept


def _origin(prov: _Provenance, parts: PathParts, default: str) -> _Origin:
    """Where the value at ``parts`` came from: the file and line, or the ``--set`` argument.

    An error about a whole mapping (e.g. award weights that do not sum to 1) is blamed on the
    ``--set`` arguments that changed something inside it, when there are any, rather than on
    the line of the mapping in the base file.
    """
    own: _Origin = (default, None)
    for n in range(len(parts), 0, -1):
        if parts[:n] in prov:
            own = prov[parts[:n]]
            break
    if own[0].startswith(SET_LABEL):
        return own
    inside = [
        label
        for p, (label, _line) in prov.items()
        if len(p) > len(parts) and p[: len(parts)] == parts and label.startswith(SET_LABEL)
    ]
    if inside:
        return (", ".join(dict.fromkeys(inside)), None)
    return own


# --------------------------------------------------------------------------------------
# Files and extends
# --------------------------------------------------------------------------------------


def _load_tree(path: Path, label: str, chain: tuple[tuple[Path, str], ...]) -> tuple[dict[str, Any], _Provenance]:
    """A file's own data merged onto its ``extends:`` base, without defaults."""
    data, prov = _parse_file(path, label)
    return _resolve_extends(data, prov, label, path.parent, (*chain, (_identity(path), label)))


def _identity(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:  # pragma: no cover - unresolvable paths still identify themselves
        return path.absolute()


def _resolve_extends(
    data: dict[str, Any],
    prov: _Provenance,
    label: str,
    folder: Path,
    chain: tuple[tuple[Path, str], ...],
) -> tuple[dict[str, Any], _Provenance]:
    if "extends" not in data:
        return data, prov
    target = data["extends"]
    line = prov.get(("extends",), (label, None))[1]
    own = {k: v for k, v in data.items() if k != "extends"}
    own_prov = {p: o for p, o in prov.items() if p[:1] != ("extends",)}
    if not isinstance(target, str) or not target.strip():
        raise ScenarioError(
            f"must name a scenario file or a bundled scenario, got {_show(target)}",
            file=label,
            path="extends",
            line=line,
        )
    candidate = folder / target
    if candidate.is_file():
        base_path, base_label = candidate, str(candidate)
    else:
        found = _bundled(target)
        if found is None:
            raise ScenarioError(_not_found(target), file=label, path="extends", line=line)
        base_path, base_label = found, str(found)
    ident = _identity(base_path)
    if any(ident == seen for seen, _ in chain):
        names = " -> ".join([*(lbl for _, lbl in chain), base_label])
        raise ScenarioError(f"circular extends: {names}", file=label, path="extends", line=line)
    base, base_prov = _load_tree(base_path, base_label, chain)
    replaced: list[PathParts] = []
    merged = _merge(base, own, (), replaced)
    return merged, _merge_provenance(base_prov, replaced, own_prov)


# --------------------------------------------------------------------------------------
# Overrides
# --------------------------------------------------------------------------------------

_SEGMENT = re.compile(r"([^.\[\]]+)((?:\[[0-9]+\])*)")  # ASCII digits only: int("²") fails


def _set_label(argument: str) -> str:
    """The ``file`` of an override's errors: ``--set`` and the argument as given."""
    return f"{SET_LABEL} {_one_line(argument)}"


def _parse_path(text: str, label: str = SET_LABEL) -> PathParts:
    """``"shocks[0].budget_cut"`` or ``"authorities.0.sv_weight"`` -> key parts."""
    text = text.strip()
    parts: list[str | int] = []
    if not text:
        raise ScenarioError("an override needs a dotted path before '='", file=label)
    for segment in text.split("."):
        m = _SEGMENT.fullmatch(segment.strip())
        if m is None:
            raise ScenarioError(
                f"invalid override path {text!r} (use keys joined by '.', and [n] or .n for list items)",
                file=label,
            )
        key = m.group(1).strip()
        parts.append(int(key) if key.isascii() and key.isdigit() else key)
        parts.extend(int(i) for i in re.findall(r"\[([0-9]+)\]", m.group(2)))
    return tuple(parts)


def _parse_value(text: str, label: str = SET_LABEL) -> Any:
    data, _, _ = _parse_yaml(text, label)
    return data


def _build(parts: PathParts, value: Any, done: PathParts, label: str = SET_LABEL) -> Any:
    if not parts:
        return value
    head = parts[0]
    if isinstance(head, int):
        if head != 0:
            raise ScenarioError(
                f"index {head} out of range (the list is new, use [0])",
                file=label,
                path=format_path((*done, head)),
            )
        return [_build(parts[1:], value, (*done, head), label)]
    return {head: _build(parts[1:], value, (*done, head), label)}


def _set_in(
    node: Any, parts: PathParts, value: Any, path: PathParts, replaced: list[PathParts], label: str = SET_LABEL
) -> Any:
    if not parts:
        return _merge(node, value, path, replaced)
    head, rest = parts[0], parts[1:]
    if isinstance(node, list) and isinstance(head, int):
        out = list(node)
        if head < len(node):
            out[head] = _set_in(node[head], rest, value, (*path, head), replaced, label)
        elif head == len(node):
            out.append(_build(rest, value, (*path, head), label))
            replaced.append((*path, head))
        else:
            raise ScenarioError(
                f"index {head} out of range (the list has {len(node)} items)",
                file=label,
                path=format_path((*path, head)),
            )
        return out
    if isinstance(node, dict):
        key = str(head)
        out = dict(node)
        if key in node:
            out[key] = _set_in(node[key], rest, value, (*path, key), replaced, label)
        else:
            out[key] = _build(rest, value, (*path, key), label)
            replaced.append((*path, key))
        return out
    what = "a list" if isinstance(node, list) else f"not a mapping (it is {_show(node)})"
    raise ScenarioError(
        f"cannot set {format_path((*path, head))}: {format_path(path) or 'the top level'} is {what}",
        file=label,
        path=format_path((*path, head)),
    )


def _override_items(
    overrides: Sequence[str] | Mapping[str, Any] | None,
) -> list[tuple[PathParts, Any, str]]:
    """(key parts, value, label) of each override; the label names the argument in errors."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        items: list[tuple[PathParts, Any, str]] = []
        for key, value in overrides.items():
            if not isinstance(key, str):
                raise ScenarioError(f"override paths must be text, got {_show(key)}", file=SET_LABEL)
            label = _set_label(f"{key}={_show(value)}")
            items.append((_parse_path(key, label), value, label))
        return items
    if isinstance(overrides, str):
        overrides = [overrides]
    items = []
    for text in overrides:
        if not isinstance(text, str) or "=" not in text:
            label = _set_label(text) if isinstance(text, str) else SET_LABEL
            raise ScenarioError(f"an override is dotted.path=value, got {_show(text)}", file=label)
        label = _set_label(text)
        key, _, raw = text.partition("=")
        parts = _parse_path(key, label)
        try:
            value = _parse_value(raw, label)
        except ScenarioError as exc:
            raise ScenarioError(f"cannot read the value: {exc.message}", file=label, path=format_path(parts)) from None
        items.append((parts, value, label))
    return items


def _apply(
    data: dict[str, Any], prov: _Provenance, items: list[tuple[PathParts, Any, str]]
) -> tuple[dict[str, Any], _Provenance]:
    for parts, value, label in items:
        replaced: list[PathParts] = []
        data = _set_in(data, parts, value, (), replaced, label)
        prov = _merge_provenance(prov, replaced, {p: (label, None) for p in replaced})
    return data, prov


# --------------------------------------------------------------------------------------
# Validation errors in plain words
# --------------------------------------------------------------------------------------

_PRIMITIVE_TAGS = frozenset({"float", "int", "str", "bool", "none", "list", "dict"})


def _is_tag(element: str) -> bool:
    return element in _PRIMITIVE_TAGS or "[" in element or "(" in element


def _user_path(loc: tuple[Any, ...], data: Any) -> tuple[PathParts, int | None, bool]:
    """The user's key path of a pydantic ``loc``: union-member tags stripped.

    Returns:
        (path, index in path of the first union, whether the error is in a distribution branch).
    """
    parts: list[str | int] = []
    value: Any = data
    union_at: int | None = None
    dist_branch = False
    after_tagged = False
    for el in loc:
        if isinstance(el, int) and isinstance(value, list) and 0 <= el < len(value):
            parts.append(el)
            value = value[el]
        elif isinstance(el, str) and isinstance(value, dict) and el in value:
            parts.append(el)
            value = value[el]
        elif isinstance(el, str) and (_is_tag(el) or after_tagged):
            if union_at is None:
                union_at = len(parts)
            if el.startswith("tagged-union["):
                dist_branch = True
                after_tagged = True
                continue
        else:
            parts.append(el)
            value = None
        after_tagged = False
    return tuple(parts), union_at, dist_branch


def _value_at(data: Any, parts: PathParts) -> Any:
    for p in parts:
        if isinstance(data, dict) and p in data:
            data = data[p]
        elif isinstance(data, list) and isinstance(p, int) and 0 <= p < len(data):
            data = data[p]
        else:
            return None
    return data


def _leaf_types(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _leaf_types(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [t for arg in typing.get_args(annotation) for t in _leaf_types(arg)]
    return [annotation]


def _model_at(data: Any, parts: PathParts) -> type[BaseModel] | None:
    """The config model that validates the mapping at ``parts`` (None if not a model)."""
    candidates: list[Any] = [Scenario]
    for p in parts:
        nxt: list[Any] = []
        for t in candidates:
            if isinstance(p, int) and typing.get_origin(t) is list:
                nxt.extend(_leaf_types(typing.get_args(t)[0]))
            elif isinstance(t, type) and issubclass(t, BaseModel) and p in t.model_fields:
                nxt.extend(_leaf_types(t.model_fields[p].annotation))
        candidates = nxt
    models = [t for t in candidates if isinstance(t, type) and issubclass(t, BaseModel)]
    if len(models) == 1:
        return models[0]
    value = _value_at(data, parts)
    if isinstance(value, dict):
        for model in models:
            field = model.model_fields.get("dist")
            if field is not None and value.get("dist") in typing.get_args(field.annotation):
                return model
    return None


def _did_you_mean(key: Any, model: type[BaseModel] | None) -> str:
    if model is None or not isinstance(key, str):
        return ""
    close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _bound(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _plain(err: Mapping[str, Any], parts: PathParts, data: Any) -> tuple[PathParts, str]:
    """One pydantic error in plain words; may move the path to a named field."""
    kind = err["type"]
    value = err.get("input")
    if isinstance(value, NotANumber):
        return parts, value.message
    ctx = err.get("ctx") or {}
    got = _show(value)
    if kind == "extra_forbidden":
        key = parts[-1] if parts else ""
        return parts, f"unknown key {key!r}{_did_you_mean(key, _model_at(data, parts[:-1]))}"
    if kind == "missing":
        return parts[:-1], f"missing required key {parts[-1]!r}" if parts else "missing value"
    if kind == "finite_number":
        return parts, "must be a finite number"
    if kind in ("float_type", "float_parsing"):
        return parts, f"expected a number, got {got}"
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return parts, f"expected a whole number, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return parts, f"expected true or false, got {got}"
    if kind in ("string_type", "string_unicode"):
        return parts, f"expected text, got {got}"
    if kind in ("list_type", "tuple_type", "iterable_type"):
        return parts, f"expected a list, got {got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return parts, f"expected a mapping of keys, got {got}"
    if kind == "enum":
        allowed = ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        return parts, f"must be one of {allowed}; got {got}"
    bounds = {
        "greater_than_equal": (">=", "ge"),
        "greater_than": (">", "gt"),
        "less_than_equal": ("<=", "le"),
        "less_than": ("<", "lt"),
    }
    if kind in bounds:
        op, key = bounds[kind]
        return parts, f"must be {op} {_bound(ctx.get(key))}, got {got}"
    if kind == "too_short":
        return parts, f"must have at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return parts, f"must have at most {ctx.get('max_length')} item(s)"
    if kind in ("value_error", "assertion_error"):
        return _refine(str(err.get("msg", "")), data, parts)
    return parts, f"{_one_line(str(err.get('msg', 'invalid value')))}, got {got}"


_HEAD = re.compile(r"^([A-Za-z_]\w*(?:\[\d+\]|\.[A-Za-z_]\w*)*)(?::\s+|\s+)(.+)$")
_QUOTED_HEAD = re.compile(r"^'([A-Za-z_]\w*)' ")


def _refine(msg: str, data: Any, parts: PathParts) -> tuple[PathParts, str]:
    """A config validator's message; a leading field name moves into the path."""
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    msg = re.sub(r"must be between (\S+) and inf, got", r"must be >= \1, got", msg)
    model = _model_at(data, parts)
    fields = set(model.model_fields) if model is not None else set()
    m = _HEAD.match(msg)
    if m is not None:
        head = _parse_path_quiet(m.group(1))
        if head and head[0] in fields:
            return (*parts, *head), m.group(2)
    q = _QUOTED_HEAD.match(msg)
    if q is not None and q.group(1) in fields:
        return (*parts, q.group(1)), msg
    return parts, msg


def _parse_path_quiet(text: str) -> PathParts:
    try:
        return _parse_path(text)
    except ScenarioError:
        return ()


def _prefer_typo(err: Any, parts: PathParts, errors: list[Any], data: Any) -> tuple[Any, PathParts]:
    """Prefer an unknown key's error to a missing key's beside it (usually one typo)."""
    if err["type"] == "missing":
        for other in errors:
            p, _, _ = _user_path(other["loc"], data)
            if other["type"] == "extra_forbidden" and p[:-1] == parts[:-1]:
                return other, p
    return err, parts


def _explain(errors: list[Any], data: Any) -> tuple[PathParts, str]:
    """The first error, in plain words, with the union members of a ``Param`` folded."""
    first = errors[0]
    parts, union_at, _ = _user_path(first["loc"], data)
    if isinstance(first.get("input"), NotANumber):
        return (parts if union_at is None else parts[:union_at]), first["input"].message
    if union_at is None:
        return _plain(*_prefer_typo(first, parts, errors, data), data)
    field = parts[:union_at]
    group = []
    for err in errors:
        p, u, in_dist = _user_path(err["loc"], data)
        if u == union_at and p[:union_at] == field:
            group.append((err, p, in_dist))
    value = _value_at(data, field)
    dist_errors = [(e, p) for e, p, in_dist in group if in_dist]
    other = [(e, p) for e, p, in_dist in group if not in_dist]
    if isinstance(value, dict) and dist_errors:
        err, p = dist_errors[0]
        if err["type"] == "union_tag_invalid":
            expected = str((err.get("ctx") or {}).get("expected_tags"))
            tags = ", ".join(re.findall(r"'([^']*)'", expected))
            message = f"unknown distribution {_show(value.get('dist'))} (one of {tags})"
            return (*field, "dist"), message
        if err["type"] == "union_tag_not_found":
            return field, f"a distribution needs a 'dist' key: {_DIST_HINT}"
        return _plain(*_prefer_typo(err, p, errors, data), data)
    err, p = other[0] if other else (first, parts)
    if err["type"] == "finite_number":
        return p, "must be a finite number"
    if err["type"] in ("float_type", "float_parsing") and dist_errors:
        return field, f"expected a number or a distribution ({_DIST_HINT}), got {_show(value)}"
    return _plain(err, p, data)


def _explain_all(errors: list[Any], data: Any) -> list[tuple[PathParts, str]]:
    """Every problem in ``errors``, in plain words, each once.

    The first remaining error is explained (folding the union members of its field, and
    preferring a typo to the missing key beside it), then every error about the same field is
    set aside, and so on.
    """
    remaining = list(errors)
    out: list[tuple[PathParts, str]] = []
    while remaining:
        explained = _explain(remaining, data)
        if explained not in out:
            out.append(explained)
        path, union_at, _ = _user_path(remaining[0]["loc"], data)
        field = path if union_at is None else path[:union_at]
        rest = [e for e in remaining[1:] if _user_path(e["loc"], data)[0][: len(field)] != field]
        remaining = rest if field else []
    return out


def _no_hint(parts: PathParts, key: str | int) -> str:
    return ""


def _head_without_space(parts: PathParts, head: str) -> PathParts | None:
    return None if " " in head else (*parts, head)


def _explain_errors(
    exc: ValidationError,
    data: Any,
    prov: _Provenance,
    label: str,
    *,
    key_hint: Callable[[PathParts, str | int], str] = _no_hint,
    head_path: Callable[[PathParts, str], PathParts | None] = _head_without_space,
    path_text: Callable[[PathParts], str] = format_path,
) -> ScenarioError:
    """A ValidationError of a file other than a scenario (experiment, calibration set-up, targets).

    Every field's first problem becomes one ``ScenarioError`` (``FILE:LINE: key.path: message``),
    in line order; the first is returned, with all of them in ``.errors``.  Unknown keys read
    ``unknown key 'k'`` plus ``key_hint(parts, key)``.  A validator's message ``head: rest`` has
    ``head`` moved into the key path when ``head_path(parts, head)`` gives the new path (by
    default: when ``head`` holds no space).  Other errors are worded as in scenario files.
    ``path_text`` writes a key path (default ``format_path``).
    """
    found: list[ScenarioError] = []
    seen: set[PathParts] = set()
    for err in exc.errors(include_url=False):
        parts, union_at, _ = _user_path(err["loc"], data)
        if union_at is not None:
            parts = parts[:union_at]
        if parts in seen:
            continue
        seen.add(parts)
        if err["type"] == "extra_forbidden":
            key = parts[-1] if parts else ""
            msg = f"unknown key {key!r}{key_hint(parts, key)}"
        elif err["type"] in ("value_error", "assertion_error"):
            msg = str(err.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
            head, sep, rest = msg.partition(": ")
            moved = head_path(parts, head) if sep else None
            if moved is not None:
                parts, msg = moved, rest
        else:
            parts, msg = _plain(err, parts, data)
        file, line = _origin(prov, parts, label)
        found.append(ScenarioError(msg, file=file, path=path_text(parts), line=line))
    found.sort(key=lambda e: (e.line is None, e.line or 0))
    first = found[0]
    first.errors = found
    return first


def _validate(data: dict[str, Any], prov: _Provenance, label: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if not errors:  # pragma: no cover - pydantic always reports at least one
            raise ScenarioError("invalid scenario", file=label) from None
        found: list[ScenarioError] = []
        for parts, message in _explain_all(errors, data):
            file, line = _origin(prov, parts, label)
            found.append(ScenarioError(message, file=file, path=format_path(parts), line=line))
        # File order: errors with a line first, by file and line; then the rest as found.
        order = sorted(
            range(len(found)),
            key=lambda i: (found[i].line is None, found[i].file or "", found[i].line or 0, i),
        )
        first = found[order[0]]
        first.errors = [found[i] for i in order]
        raise first from None


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def load_scenario(
    source: str | os.PathLike[str] | Mapping[str, Any] | Scenario,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
) -> Scenario:
    """Load a scenario, merged onto the defaults, with overrides applied.

    Args:
        source: A scenario file path, a bundled scenario name (``"baseline"``), a mapping
            shaped like a scenario file, or a ``Scenario`` to apply overrides to.
        overrides: ``["commissioners.sv_weight=0.1", ...]`` (values read as YAML) or
            ``{"commissioners.sv_weight": 0.1, ...}`` (values used as given).  Paths may
            index lists: ``shocks[0].budget_cut`` or ``authorities.0.sv_weight``.

    Returns:
        The validated, frozen scenario.  A file that does not set ``name`` is named after
        its stem.

    Raises:
        ScenarioError: The source cannot be read or does not validate; ``str(err)`` is one
            line naming the file, line and dotted key path.
    """
    if isinstance(source, Scenario):
        tree: dict[str, Any] = source.model_dump(mode="json")
        prov: _Provenance = {}
        label = "<scenario>"
    elif isinstance(source, Mapping):
        label = MAPPING_LABEL
        _check_tree(source, label)
        tree, prov = _resolve_extends(dict(source), {}, label, Path.cwd(), ())
    elif isinstance(source, str | os.PathLike):
        path = resolve_scenario(source)
        label = str(path)
        own, own_prov = _parse_file(path, label)
        tree, prov = _resolve_extends(own, own_prov, label, path.parent, ((_identity(path), label),))
        if "name" not in own:
            tree = {**tree, "name": path.stem}
    else:
        raise ScenarioError(f"a scenario source is a file path, a bundled name or a mapping, got {_show(source)}")
    replaced: list[PathParts] = []
    data = _merge(_defaults_tree(), tree, (), replaced)
    data, prov = _apply(data, prov, _override_items(overrides))
    _check_tree(data, label)
    return _validate(data, prov, label)


_NOT_SETTINGS = ("extends", "name", "description")


def own_settings(source: str | os.PathLike[str]) -> dict[str, Any]:
    """The settings a scenario file makes itself, as dotted-path overrides for ``load_scenario``.

    What the file inherits through ``extends:`` is left out, and so are ``name`` and
    ``description``: layering the result onto another scenario (``load_scenario(other,
    {**own_settings(f), ...})``) gives that scenario with the file's own changes, by the same
    merge rule as ``extends:`` (a distribution, a list or a scalar replaces; other mappings merge
    key by key).  ``safsim validate --base calibrated`` uses it to run every fact's arms on the
    calibrated values.

    Raises:
        ScenarioError: the file cannot be read or does not validate (one line, file and key).
    """
    load_scenario(source)  # errors name the file and the line, before anything is layered
    path = resolve_scenario(source)
    own, _ = _parse_file(path, str(path))
    out: dict[str, Any] = {}

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict) and "dist" not in value:
            for key, sub in value.items():
                walk(sub, f"{prefix}.{key}" if prefix else str(key))
        else:
            out[prefix] = value

    walk({k: v for k, v in own.items() if k not in _NOT_SETTINGS}, "")
    return out


def apply_overrides(scenario: Scenario, overrides: Sequence[str] | Mapping[str, Any]) -> Scenario:
    """A new scenario: ``scenario`` with dotted-path overrides applied (see ``load_scenario``).

    Raises:
        ScenarioError: An override names an unknown path or gives an invalid value.
    """
    return load_scenario(scenario, overrides)


def dump_scenario(scenario: Scenario) -> str:
    """YAML text of every setting of ``scenario``; ``load_scenario`` reads it back equal."""
    data = scenario.model_dump(mode="json")
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    if yaml.safe_load(text) != data:
        # Some characters (e.g. U+0085) are written raw but read back as line breaks;
        # escaping everything outside ASCII always round-trips.
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=False, width=100)
    return text


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files.

    Differs from ``Scenario.model_json_schema()`` in what files may do: ``extends`` is allowed
    at the top level, and provider kinds require no keys (a file gives only what it changes;
    the rest comes from the defaults).
    """
    schema = Scenario.model_json_schema()
    schema["properties"] = {
        "extends": {
            "type": "string",
            "title": "Extends",
            "description": "Base scenario: a path relative to this file or a bundled name.",
        },
        **schema.get("properties", {}),
    }
    for name in ("ProviderKindConfig",):
        schema.get("$defs", {}).get(name, {}).pop("required", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **{k: v for k, v in schema.items() if k != "title"},
        "title": "safsim scenario",
    }
