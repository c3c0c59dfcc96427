"""Experiment files: a base scenario, factors by dotted scenario path, a design, replicates, a root seed.

Objects:
    Experiment: the validated, frozen experiment (pydantic, ``extra="forbid"`` like scenarios).
    Factor: one factor: a list of ``values``, or a uniform range ``{low, high}``.
    Design: how design points are chosen: ``grid``, ``lhs``, ``sobol``, ``saltelli`` or ``csv``.
    Record: what each run records: outcomes, time series (with a cadence in steps), awards.
    load_experiment(source, overrides=None) -> Experiment: read, validate and check an experiment.
    experiment_json_schema() -> dict: the JSON Schema of experiment files.
    is_experiment_file(path) -> bool: whether a YAML file is an experiment (not a scenario).

An experiment file looks like::

    kind: experiment            # optional; also recognised by a top-level factors: or design:
    name: sv-weight
    base: baseline              # a bundled name, a path relative to this file, or a mapping
    set: {horizon_steps: 40}    # dotted overrides applied to the base scenario
    factors:
      commissioners.sv_weight: [0.05, 0.1, 0.2]
      providers.sme_vso.count: {low: 10, high: 40, integer: true, levels: 3}
    design: {kind: grid}        # or {kind: lhs, n: 32, seed: 1}; {kind: csv, file: points.csv}
    replicates: 4
    seed: 20250101
    record: {outcomes: all, timeseries: true, every: 4, awards: false}

Errors are ``ScenarioError`` with the scenario loader's quality: one line,
``FILE:LINE: key.path: message``.  Every design point's scenario is built when the experiment
is loaded, so a factor naming a path that is not a scenario setting (or a value the setting
refuses) fails at once, naming the factor.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from safsim.config import Scenario
from safsim.experiments.design import check_design
from safsim.metrics import ALL_OUTCOMES
from safsim.scenario import (
    MAPPING_LABEL,
    ScenarioError,
    _apply,
    _check_tree,
    _did_you_mean,
    _explain_errors,
    _merge,
    _origin,
    _override_items,
    _parse_file,
    _Provenance,
    format_path,
    load_scenario,
)

__all__ = [
    "Design",
    "Experiment",
    "Factor",
    "Record",
    "experiment_json_schema",
    "is_experiment_file",
    "load_experiment",
]

DesignKind = Literal["grid", "lhs", "sobol", "saltelli", "csv"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Factor(_Frozen):
    """One factor of an experiment, named by a dotted scenario path.

    In a file, a list is shorthand for ``{values: [...]}``.

    Attributes:
        values: the levels (any values the scenario setting accepts), or None for a range.
        low: lower end of a uniform range (continuous factors).
        high: upper end of a uniform range.
        integer: draw whole numbers from the range (both ends included).
        levels: for a range in a ``grid`` design, how many evenly spaced levels to use.
    """

    values: list[Any] | None = Field(default=None, min_length=1)
    low: float | None = None
    high: float | None = None
    integer: bool = False
    levels: int | None = Field(default=None, ge=2)

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            return {"values": list(data)}
        if not isinstance(data, Mapping):
            raise ValueError("a factor is a list of values or a range {low: ..., high: ...}")
        return data

    @model_validator(mode="after")
    def _check(self) -> Factor:
        is_range = self.low is not None or self.high is not None
        if self.values is not None and is_range:
            raise ValueError("a factor has either values or a range {low, high}, not both")
        if self.values is None and not is_range:
            raise ValueError("a factor is a list of values or a range {low: ..., high: ...}")
        if is_range and (self.low is None or self.high is None):
            raise ValueError("a range needs both low and high")
        if is_range and not self.low < self.high:  # type: ignore[operator]
            raise ValueError(f"low must be below high, got low={self.low:g}, high={self.high:g}")
        return self

    @property
    def is_range(self) -> bool:
        """Whether the factor is a range (otherwise a list of values)."""
        return self.values is None


class Design(_Frozen):
    """How the design points are chosen.

    Attributes:
        kind: ``grid`` (every combination of the factors' levels), ``lhs`` (Latin hypercube),
            ``sobol`` (a Sobol' sequence), ``saltelli`` (Saltelli's scheme for Sobol' indices,
            the row order SALib's ``sobol.analyze`` expects) or ``csv`` (a table of points).
        n: sample size for ``lhs`` and ``sobol`` (points) and ``saltelli`` (base samples; a
            power of 2 for ``sobol`` and ``saltelli``).
        seed: seed of the sampler (``lhs``, and scrambling for ``sobol``/``saltelli``).
        scramble: scramble the Sobol' sequence (``sobol``, ``saltelli``).
        second_order: ``saltelli`` also samples for second-order indices (N*(2D+2) points
            rather than N*(D+2)).
        file: the design table (``csv``), relative to the experiment file; one column per
            factor, named by its dotted path, one row per design point.
    """

    kind: DesignKind = "grid"
    n: int | None = Field(default=None, ge=1)
    seed: int = Field(default=0, ge=0)
    scramble: bool = True
    second_order: bool = True
    file: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Design:
        if self.kind in ("lhs", "sobol", "saltelli") and self.n is None:
            raise ValueError(f"n: a {self.kind} design needs a sample size n")
        if self.kind in ("sobol", "saltelli") and self.n is not None and self.n & (self.n - 1):
            raise ValueError(f"n: must be a power of 2 for a {self.kind} design, got {self.n}")
        if self.kind == "csv" and not self.file:
            raise ValueError("file: a csv design needs file: the design table")
        if self.kind != "csv" and self.file is not None:
            raise ValueError(f"file: only a csv design reads a file (this design is {self.kind})")
        return self


class Record(_Frozen):
    """What every run of the experiment records.

    Attributes:
        outcomes: ``all``, or a list of names from ``safsim.metrics.ALL_OUTCOMES``.
        timeseries: record the per-step time series.
        every: time-series cadence in steps (steps 0, every, 2*every, ...).
        awards: record the per-tender award log (large).
    """

    outcomes: Literal["all"] | list[str] = "all"
    timeseries: bool = False
    every: int = Field(default=1, ge=1)
    awards: bool = False

    @field_validator("outcomes")
    @classmethod
    def _known(cls, value: Any) -> Any:
        if isinstance(value, list):
            for name in value:
                if name not in ALL_OUTCOMES:
                    close = difflib.get_close_matches(name, list(ALL_OUTCOMES), n=1, cutoff=0.6)
                    hint = f" (did you mean {close[0]!r}?)" if close else " (see docs/outputs.md)"
                    raise ValueError(f"unknown outcome {name!r}{hint}")
            if len(set(value)) != len(value):
                raise ValueError("an outcome is named twice")
        return value

    def outcome_names(self) -> list[str]:
        """The recorded outcomes, in ALL_OUTCOMES order."""
        if self.outcomes == "all":
            return list(ALL_OUTCOMES)
        wanted = set(self.outcomes)
        return [n for n in ALL_OUTCOMES if n in wanted]


class Experiment(_Frozen):
    """A validated experiment (see the module docstring for the file format).

    Attributes:
        kind: always ``experiment``.
        name: the experiment's name (default: the file's stem).
        description: free text.
        base: the base scenario: a bundled name, a path (relative to the experiment file) or
            a mapping shaped like a scenario file.
        set: dotted-path overrides applied to the base scenario before the factors.
        factors: factors by dotted scenario path, in file order.
        design: how design points are chosen.
        replicates: runs per design point.
        seed: the root seed of every run's seed.
        record: what each run records.
    """

    kind: Literal["experiment"] = "experiment"
    name: str = "experiment"
    description: str = ""
    base: str | dict[str, Any] = "baseline"
    set: dict[str, Any] = Field(default_factory=dict)
    factors: dict[str, Factor] = Field(default_factory=dict)
    design: Design = Field(default_factory=Design)
    replicates: int = Field(default=1, ge=1)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    record: Record = Field(default_factory=Record)

    _base_scenario: Scenario | None = PrivateAttr(default=None)
    _text: str = PrivateAttr(default="")
    _label: str = PrivateAttr(default=MAPPING_LABEL)
    _folder: Path = PrivateAttr(default_factory=Path.cwd)
    _lines: dict[tuple[str | int, ...], tuple[str, int | None]] = PrivateAttr(default_factory=dict)
    _table: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check(self) -> Experiment:
        if self.design.kind != "csv" and not self.factors:
            raise ValueError("factors: an experiment needs at least one factor (or a csv design)")
        if self.design.kind == "grid":
            for path, f in self.factors.items():
                if f.is_range and f.levels is None:
                    raise ValueError(f"factors.{path}: a range in a grid design needs levels: N")
        return self

    # --- what the loader attached --------------------------------------------------------

    @property
    def base_scenario(self) -> Scenario:
        """The base scenario with ``set`` applied (loaded on first use for a bare model)."""
        if self._base_scenario is None:
            self._base_scenario = _load_base(self, self._lines, self._label, self._folder)
        return self._base_scenario

    @property
    def text(self) -> str:
        """The experiment file's text (YAML of the mapping for an experiment given as a mapping)."""
        return self._text or yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)

    @property
    def source(self) -> str:
        """The file the experiment came from (``<mapping>`` for a mapping)."""
        return self._label

    @property
    def folder(self) -> Path:
        """The folder relative paths (``base``, ``design.file``) are read from."""
        return self._folder

    def line_of(self, *parts: str | int) -> tuple[str, int | None]:
        """(file, line) of a key path of the file, for error messages."""
        return _origin(self._lines, tuple(parts), self._label)


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def is_experiment_file(path: str | os.PathLike[str]) -> bool:
    """Whether the YAML file at ``path`` is an experiment: ``kind: experiment``, or a top-level
    ``factors:`` or ``design:`` key.  Unreadable files are not experiments (the scenario loader
    then reports the problem)."""
    try:
        data, _ = _parse_file(Path(path), str(path))
    except (ScenarioError, OSError):
        return False
    return data.get("kind") == "experiment" or "factors" in data or "design" in data


def _key_hint(parts: tuple[str | int, ...], key: str | int) -> str:
    """`` (did you mean 'x'?)`` for an unknown key close to a field of the model it is in."""
    return _did_you_mean(str(key), _model_for(parts[:-1]))


def _head_path(parts: tuple[str | int, ...], head: str) -> tuple[str | int, ...] | None:
    """Where a validator's message ``head: rest`` belongs: a factor, a field of the model, or None."""
    if head.startswith("factors."):
        return ("factors", head[len("factors.") :])
    return (*parts, head) if head in _model_fields_at(parts) else None


def _model_for(parts: tuple[str | int, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Experiment
    for i, p in enumerate(parts):
        if model is None:
            return None
        if model is Experiment and p == "factors":
            return Factor if len(parts) > i + 1 else None
        field = model.model_fields.get(str(p))
        ann = getattr(field, "annotation", None)
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return model


def _model_fields_at(parts: tuple[str | int, ...]) -> set[str]:
    model = _model_for(parts)
    return set(model.model_fields) if model is not None else set()


def _validate(data: dict[str, Any], prov: _Provenance, label: str) -> Experiment:
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        raise _explain_errors(
            exc, data, prov, label, key_hint=_key_hint, head_path=_head_path, path_text=_path_text
        ) from None


def _path_text(parts: Sequence[str | int]) -> str:
    """``factors.commissioners.sv_weight.low``: a factor's dotted name is kept as written."""
    if len(parts) >= 2 and parts[0] == "factors":
        rest = format_path(parts[2:])
        return f"factors.{parts[1]}" + (f".{rest}" if rest and not rest.startswith("[") else rest)
    return format_path(parts)


def _load_base(exp: Experiment, prov: _Provenance, label: str, folder: Path) -> Scenario:
    """The base scenario with ``set`` applied; errors name the experiment's ``base``/``set``."""
    base: Any = exp.base
    if isinstance(base, str):
        candidate = folder / base
        base = candidate if candidate.is_file() else base
    try:
        scenario = load_scenario(base)
    except ScenarioError as exc:
        file, line = _origin(prov, ("base",), label)
        if isinstance(exp.base, dict):
            raise ScenarioError(
                exc.message, file=file, line=line, path=f"base.{exc.path}" if exc.path else "base"
            ) from None
        raise ScenarioError(f"the base scenario does not load: {exc}", file=file, line=line, path="base") from None
    if not exp.set:
        return scenario
    try:
        return load_scenario(scenario, dict(exp.set))
    except ScenarioError as exc:
        key = next((k for k in exp.set if f"{k}=" in (exc.file or "")), None)
        parts = ("set", key) if key else ("set",)
        file, line = _origin(prov, parts, label)
        return _raise(ScenarioError(exc.message, file=file, line=line, path=".".join(map(str, parts))))


def _raise(err: ScenarioError) -> Any:
    raise err


def load_experiment(
    source: str | os.PathLike[str] | Mapping[str, Any] | Experiment,
    overrides: Sequence[str] | Mapping[str, Any] | None = None,
) -> Experiment:
    """Load and check an experiment.

    Args:
        source: an experiment file path, a mapping shaped like one, or an Experiment.
        overrides: dotted-path overrides of the experiment itself (``["replicates=2",
            "design.n=8"]`` read as YAML, or a mapping), as ``--set`` does for scenarios.
            Scenario settings go through ``set``: ``{"set.horizon_steps": 4}``.

    Returns:
        The validated experiment, with its base scenario loaded and every design point's
        scenario checked.

    Raises:
        ScenarioError: the experiment cannot be read or does not validate, or a factor does
            not name a scenario setting (or gives a value it refuses); one line
            ``FILE:LINE: key.path: message``.
    """
    text = ""
    if isinstance(source, Experiment):
        data: dict[str, Any] = source.model_dump(mode="json", exclude_defaults=False)
        prov: _Provenance = dict(source._lines)
        label, folder, text = source._label, source._folder, source._text
    elif isinstance(source, Mapping):
        label, folder = MAPPING_LABEL, Path.cwd()
        _check_tree(source, label)
        data, prov = dict(source), {}
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        label, folder = str(path), path.parent
        data, prov = _parse_file(path, label)
        data.setdefault("name", path.stem)
        text = path.read_text(encoding="utf-8-sig")
    else:
        raise ScenarioError(f"an experiment is a file path or a mapping, got a {type(source).__name__}")
    if overrides:
        data, prov = _apply(_merge({}, data, (), []), prov, _override_items(overrides))
        text = ""  # the file's text no longer describes the experiment
    exp = _validate(data, prov, label)
    exp._label, exp._folder, exp._lines, exp._text = label, folder, prov, text
    exp._base_scenario = _load_base(exp, prov, label, folder)
    check_design(exp)
    return exp


def experiment_json_schema() -> dict[str, Any]:
    """The JSON Schema of experiment files (a factor may also be written as a bare list)."""
    schema = Experiment.model_json_schema()
    factor = {"anyOf": [{"type": "array", "minItems": 1}, {"$ref": "#/$defs/Factor"}]}
    schema["properties"]["factors"]["additionalProperties"] = factor
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **{k: v for k, v in schema.items() if k != "title"},
        "title": "safsim experiment",
    }
