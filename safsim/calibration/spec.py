"""The calibration's two input files: the external targets and the calibration set-up.

Objects:
    Target: one observed figure with its uncertainty, source and the model quantity it maps to.
    TargetsFile: the validated targets file (``safsim/data/targets.yaml``).
    Prior: one calibrated parameter: a scenario path (or a scaled distribution) and its range.
    CalibrationExperiment: a base scenario, overrides and the counted windows its metrics use.
    Setup: the validated set-up file (``safsim/data/calibration.yaml``): targets, experiments,
        priors and the settings of the method.
    load_targets(path) -> TargetsFile, load_setup(path=None) -> Setup: read and validate.
    bundled_setup_path(), bundled_targets_path(): the files shipped with the package.

Both loaders use the scenario loader's YAML reader and give its quality of errors: one line,
``FILE:LINE: key.path: message`` (``ScenarioError``), every problem of a file in ``.errors``.
A target's metric must be one the model computes (``safsim.calibration.metrics``) and its
experiment one the set-up defines.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from safsim.scenario import ScenarioError, _explain_errors, _origin, _parse_file, _Provenance, format_path

__all__ = [
    "CalibrationExperiment",
    "Prior",
    "Setup",
    "Target",
    "TargetsFile",
    "bundled_setup_path",
    "bundled_targets_path",
    "load_setup",
    "load_targets",
]

Role = Literal["calibrate", "holdout", "input"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _no_repeats(names: Sequence[str], what: str) -> None:
    """Raise ValueError naming the first of ``names`` that appears twice."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} {name!r} appears twice")
        seen.add(name)


# --------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------


class Source(_Frozen):
    """Where a figure comes from: a full reference, its address and the page, table or quotation."""

    reference: str = Field(min_length=10)
    url: str = ""
    locator: str = Field(min_length=2)


class MapsTo(_Frozen):
    """The model quantity an observed figure is compared with.

    Attributes:
        experiment: the set-up's experiment whose runs are scored.
        metric: a metric of ``safsim.calibration.metrics``.
        definition: the quantity in words.
        before, after: counted-step windows ``[start, end)`` for this target's metric, when
            they differ from the experiment's.
    """

    experiment: str = Field(min_length=1)
    metric: str = Field(min_length=1)
    definition: str = Field(min_length=10)
    before: tuple[int, int] | None = None
    after: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _check(self) -> MapsTo:
        for name in ("before", "after"):
            w = getattr(self, name)
            if w is not None and not 0 <= w[0] < w[1]:
                raise ValueError(f"{name}: a window is [start, end) with 0 <= start < end, got [{w[0]}, {w[1]}]")
        return self


class Target(_Frozen):
    """One observed figure.

    Attributes:
        id: unique snake_case name.
        statement: what was observed, in one sentence.
        value: the observed figure, in ``unit``.
        interval: the plausible range of the observed quantity as comparable to the model
            (the source's own uncertainty, or a judged range explained in ``uncertainty_note``);
            the calibration reads it as a +-2 standard-deviation range.
        role: ``calibrate`` (fitted), ``holdout`` (only checked, out of sample) or ``input``
            (a figure a scenario uses as an input, such as the size of a budget cut; never
            scored).
        maps_to: the experiment and metric it is compared with.
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    statement: str = Field(min_length=10)
    value: float
    interval: tuple[float, float]
    uncertainty_note: str = ""
    unit: Literal["share", "ratio", "count", "per_year", "months", "gbp"]
    period: str = ""
    geography: str = ""
    role: Role
    source: Source
    maps_to: MapsTo | None = None
    comparability: str = ""

    @model_validator(mode="after")
    def _check(self) -> Target:
        lo, hi = self.interval
        if not lo <= self.value <= hi:
            raise ValueError(f"interval: [{lo:g}, {hi:g}] does not contain the value {self.value:g}")
        if not lo < hi:
            raise ValueError(f"interval: the low end must be below the high end, got [{lo:g}, {hi:g}]")
        if self.role != "input" and self.maps_to is None:
            raise ValueError("maps_to: a calibrate or holdout target needs maps_to: {experiment, metric, definition}")
        return self

    @property
    def sd(self) -> float:
        """The observation's standard deviation: a quarter of the interval's width."""
        return (self.interval[1] - self.interval[0]) / 4.0


class TargetsFile(_Frozen):
    """The targets file: ``schema: 1`` and a list of targets with unique ids."""

    schema_: Literal[1] = Field(alias="schema")
    targets: list[Target] = Field(min_length=1)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    _label: str = PrivateAttr(default="")

    @field_validator("targets")
    @classmethod
    def _unique(cls, value: list[Target]) -> list[Target]:
        _no_repeats([t.id for t in value], "target id")
        return value

    def scored(self, role: str | None = None) -> list[Target]:
        """Targets that are scored (not inputs), optionally of one role."""
        return [t for t in self.targets if t.role != "input" and (role is None or t.role == role)]

    @property
    def source(self) -> str:
        """The file the targets came from."""
        return self._label


# --------------------------------------------------------------------------------------
# Set-up
# --------------------------------------------------------------------------------------


class Prior(_Frozen):
    """One calibrated parameter, uniform on ``[low, high]`` (log-uniform with ``log: true``).

    Attributes:
        path: the dotted scenario path it sets.
        scale: when true, the parameter is a factor that multiplies the base scenario's value
            at ``path``: a number, or every location parameter of a distribution (``low`` and
            ``high`` of a uniform, ``mean`` of a normal, ``median`` of a lognormal), so a
            distribution's spread scales with it.  When false, the value is set directly.
        reference: what a scale factor multiplies instead of the base scenario's value (a number
            or a distribution mapping), so that the prior does not move when the defaults do
            (the bundled set-up names the values assumed before calibration).
        integer: round to a whole number (direct values only).
        reason: why this range (shown in docs/calibration.md).
    """

    path: str = Field(pattern=r"^[A-Za-z_][\w.\[\]]*$")
    low: float
    high: float
    log: bool = False
    scale: bool = False
    reference: float | dict[str, Any] | None = None
    integer: bool = False
    reason: str = Field(min_length=10)

    @model_validator(mode="after")
    def _check(self) -> Prior:
        if not self.low < self.high:
            raise ValueError(f"low must be below high, got low={self.low:g}, high={self.high:g}")
        if self.log and self.low <= 0:
            raise ValueError("low: a log-uniform prior needs low > 0")
        if self.scale and self.integer:
            raise ValueError("integer: a scale factor is not rounded")
        if self.reference is not None and not self.scale:
            raise ValueError("reference: only a scale factor multiplies a reference value")
        return self

    @property
    def name(self) -> str:
        """The parameter's name in tables: the path, with ``*`` for a scale factor."""
        return f"{self.path}*" if self.scale else self.path


class CalibrationExperiment(_Frozen):
    """The runs a group of targets is compared with.

    Attributes:
        base: a bundled scenario name (or a path relative to the set-up file).
        set: dotted overrides applied to the base before the calibrated parameters.
        before: the counted steps ``[start, end)`` of the reference window of change metrics.
        after: the counted steps ``[start, end)`` of the comparison window.
        description: what the experiment represents.
    """

    base: str = "baseline"
    set: dict[str, Any] = Field(default_factory=dict)
    before: tuple[int, int] = (4, 8)
    after: tuple[int, int] = (36, 40)
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> CalibrationExperiment:
        for name in ("before", "after"):
            a, b = getattr(self, name)
            if not 0 <= a < b:
                raise ValueError(f"{name}: a window is [start, end) with 0 <= start < end, got [{a}, {b}]")
        return self


class Method(_Frozen):
    """Settings of the history-matching method (see ``safsim.calibration.history``).

    Attributes:
        waves: how many waves (each samples within the previous wave's plausible region).
        points: design points per wave (Latin hypercube).
        replicates: runs per design point and experiment.
        cutoff: the implausibility cutoff (3: Pukelsheim's three-sigma rule).
        discrepancy: the model-discrepancy standard deviation as a share of each target's
            value (how far the model may be from the world even at its best parameters).
        check_replicates: runs of the chosen point for the final fit table.
        seed: root seed of the designs and of every run.
        facts_candidates: how many of the least implausible points are also judged against the
            stylized facts before one is chosen (0: none; the choice is then by implausibility
            alone).  A candidate's facts are judged as ``safsim validate --quick --base`` would
            (the direction of every criterion's estimate), and the chosen point is the NROY candidate
            (any candidate when none is NROY) that keeps the most emergent facts, ties broken by
            implausibility.
        facts_replicates: replicates per arm of that screen.
        facts: which facts the screen judges (default: all of them).
    """

    waves: int = Field(default=2, ge=1, le=10)
    points: int = Field(default=64, ge=4)
    replicates: int = Field(default=4, ge=2)
    cutoff: float = Field(default=3.0, gt=0)
    discrepancy: float = Field(default=0.1, ge=0)
    check_replicates: int = Field(default=30, ge=2)
    seed: int = Field(default=20261201, ge=0, le=2**63 - 1)
    facts_candidates: int = Field(default=0, ge=0, le=100)
    facts_replicates: int = Field(default=20, ge=2)
    facts: list[str] | None = Field(default=None, min_length=1)

    @field_validator("facts")
    @classmethod
    def _known_facts(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        from safsim.analysis.facts import fact_ids

        known = fact_ids()
        wanted = [str(f).strip().upper() for f in value]
        unknown = [f for f in wanted if f not in known]
        if unknown:
            raise ValueError(f"unknown fact {unknown[0]!r}; known: {', '.join(known)}")
        return wanted


class Setup(_Frozen):
    """The calibration set-up: which targets, in which experiments, against which parameters."""

    schema_: Literal[1] = Field(alias="schema")
    targets: str = "targets.yaml"
    experiments: dict[str, CalibrationExperiment] = Field(min_length=1)
    parameters: list[Prior] = Field(min_length=1)
    method: Method = Field(default_factory=Method)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    _label: str = PrivateAttr(default="")
    _folder: Path = PrivateAttr(default_factory=Path.cwd)
    _targets: TargetsFile | None = PrivateAttr(default=None)

    @field_validator("parameters")
    @classmethod
    def _unique(cls, value: list[Prior]) -> list[Prior]:
        _no_repeats([p.path for p in value], "parameter")
        return value

    @property
    def source(self) -> str:
        """The file the set-up came from."""
        return self._label

    @property
    def targets_file(self) -> TargetsFile:
        """The targets the set-up names (loaded with it)."""
        assert self._targets is not None, "load the set-up with load_setup()"
        return self._targets

    def targets_path(self) -> Path:
        """Where the targets file is (relative paths from the set-up's folder)."""
        return self._folder / self.targets


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def bundled_setup_path() -> Path:
    """The calibration set-up shipped with the package."""
    return Path(str(resources.files("safsim") / "data" / "calibration.yaml"))


def bundled_targets_path() -> Path:
    """The targets file shipped with the package."""
    return Path(str(resources.files("safsim") / "data" / "targets.yaml"))


def _read(path: str | os.PathLike[str]) -> tuple[dict[str, Any], _Provenance, str]:
    p = Path(path)
    label = str(p)
    if not p.is_file():
        raise ScenarioError(f"file {label!r} not found")
    data, prov = _parse_file(p, label)
    return data, prov, label


def _check_names(items: Sequence[tuple[tuple[str | int, ...], str, Sequence[str], str]], prov: _Provenance, label: str):
    """Raise for names that are not among the known ones: (key path, name, known, what)."""
    found = []
    for parts, name, known, what in items:
        if name in known:
            continue
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (one of: {', '.join(sorted(known))})"
        file, line = _origin(prov, parts, label)
        found.append(ScenarioError(f"unknown {what} {name!r}{hint}", file=file, path=format_path(parts), line=line))
    if found:
        found[0].errors = found
        raise found[0]


def load_targets(path: str | os.PathLike[str] | None = None, experiments: Sequence[str] | None = None) -> TargetsFile:
    """Read and validate a targets file (default: the bundled one).

    Args:
        path: the file.
        experiments: the experiment names a target may map to (default: any).

    Raises:
        ScenarioError: one line per problem, ``FILE:LINE: key.path: message``.
    """
    from safsim.calibration.metrics import metric_names

    data, prov, label = _read(path if path is not None else bundled_targets_path())
    try:
        tf = TargetsFile.model_validate(data)
    except ValidationError as exc:
        raise _explain_errors(exc, data, prov, label) from None
    checks: list[tuple[tuple[str | int, ...], str, Sequence[str], str]] = []
    for i, t in enumerate(tf.targets):
        if t.maps_to is None or t.role == "input":  # an input's mapping is documentation only
            continue
        checks.append((("targets", i, "maps_to", "metric"), t.maps_to.metric, metric_names(), "metric"))
        if experiments is not None:
            checks.append((("targets", i, "maps_to", "experiment"), t.maps_to.experiment, experiments, "experiment"))
    _check_names(checks, prov, label)
    tf._label = label
    return tf


def load_setup(path: str | os.PathLike[str] | None = None, targets: str | os.PathLike[str] | None = None) -> Setup:
    """Read and validate a calibration set-up (default: the bundled one) and its targets file.

    Args:
        path: the set-up file.
        targets: a targets file to use instead of the one the set-up names.

    Raises:
        ScenarioError: one line per problem, naming the file, the line and the key; a base
            scenario or override that does not load, or a parameter path that is not a
            scenario setting, is reported against the set-up's line.
    """
    from safsim.calibration.points import check_parameters

    data, prov, label = _read(path if path is not None else bundled_setup_path())
    try:
        setup = Setup.model_validate(data)
    except ValidationError as exc:
        raise _explain_errors(exc, data, prov, label) from None
    setup._label = label
    setup._folder = Path(label).parent
    setup._targets = load_targets(
        Path(targets) if targets is not None else setup.targets_path(), list(setup.experiments)
    )
    check_parameters(setup, lambda parts: _origin(prov, parts, label))
    return setup
