"""Parameter points of a calibration as scenario overrides.

Objects:
    base_scenario(setup, name) -> Scenario: an experiment's base scenario with its ``set``.
    point_overrides(setup, experiment, theta) -> dict: the dotted-path overrides of one point.
    check_parameters(setup, origin): fail early on a base that does not load, a window past
        the horizon, or a prior whose path is not a (scalable) setting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from safsim.config import Scenario
from safsim.scenario import ScenarioError, load_scenario, resolve_scenario

if TYPE_CHECKING:  # pragma: no cover
    from safsim.calibration.spec import CalibrationExperiment, Prior, Setup

__all__ = ["base_scenario", "check_parameters", "point_overrides"]

# Fields of a distribution that scale with the drawn value (shape parameters do not).
_SCALED_FIELDS = {
    "uniform": ("low", "high"),
    "normal": ("mean", "sd", "low", "high"),
    "lognormal": ("median", "low", "high"),
    "beta": ("low", "high"),
    "choice": ("values",),
}


def _resolve_base(setup: Setup, exp: CalibrationExperiment) -> str:
    candidate = setup._folder / exp.base
    return str(candidate.resolve()) if candidate.is_file() else str(resolve_scenario(exp.base))


def base_scenario(setup: Setup, name: str) -> Scenario:
    """The experiment's base scenario with its ``set`` applied."""
    exp = setup.experiments[name]
    scenario = load_scenario(_resolve_base(setup, exp))
    return load_scenario(scenario, dict(exp.set)) if exp.set else scenario


def _value_at(scenario: Scenario, path: str) -> Any:
    node: Any = scenario.model_dump(mode="json")
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node


def _scale_base(scenario: Scenario, prior: Prior) -> Any:
    """What a scale factor multiplies: the prior's reference, else the scenario's value (None
    for a direct value)."""
    if not prior.scale:
        return None
    return prior.reference if prior.reference is not None else _value_at(scenario, prior.path)


def _expand(prior: Prior, base_value: Any, x: float) -> dict[str, Any]:
    """The concrete overrides of one prior at value ``x``."""
    if not prior.scale:
        return {prior.path: int(round(x)) if prior.integer else float(x)}
    if isinstance(base_value, int | float) and not isinstance(base_value, bool):
        return {prior.path: float(base_value) * x}
    if isinstance(base_value, dict) and base_value.get("dist") in _SCALED_FIELDS:
        out: dict[str, Any] = {}
        for f in _SCALED_FIELDS[base_value["dist"]]:
            v = base_value.get(f)
            if v is None:
                continue
            out[f"{prior.path}.{f}"] = [float(e) * x for e in v] if isinstance(v, list) else float(v) * x
        return out
    raise ValueError(f"{prior.path}: a scale factor needs a number or a distribution, found {base_value!r}")


def point_overrides(setup: Setup, experiment: str, theta: Mapping[str, float]) -> dict[str, Any]:
    """The dotted-path overrides that set parameter point ``theta`` (by prior name) in an experiment."""
    scenario = base_scenario(setup, experiment)
    out: dict[str, Any] = {}
    for p in setup.parameters:
        base = _scale_base(scenario, p)
        out.update(_expand(p, base, float(theta[p.name])))
    return out


def check_parameters(setup: Setup, origin: Callable[[tuple[str | int, ...]], tuple[str, int | None]]) -> None:
    """Check every experiment's base and every prior at both ends of its range.

    Raises:
        ScenarioError: naming the set-up's line of the experiment or parameter at fault.
    """
    for name, exp in setup.experiments.items():
        try:
            scenario = base_scenario(setup, name)
        except ScenarioError as exc:
            file, line = origin(("experiments", name))
            raise ScenarioError(f"does not load: {exc}", file=file, line=line, path=f"experiments.{name}") from None
        windows = {"before": exp.before, "after": exp.after}
        for wname, (_, end) in windows.items():
            if end > scenario.horizon_steps:
                file, line = origin(("experiments", name, wname))
                raise ScenarioError(
                    f"the window ends at step {end}, after the horizon ({scenario.horizon_steps} steps)",
                    file=file,
                    line=line,
                    path=f"experiments.{name}.{wname}",
                )
        for i, p in enumerate(setup.parameters):
            for x in (p.low, p.high):
                try:
                    base = _scale_base(scenario, p)
                    load_scenario(scenario, _expand(p, base, x))
                except (KeyError, ValueError, ScenarioError) as exc:
                    file, line = origin(("parameters", i, "path"))
                    msg = exc.message if isinstance(exc, ScenarioError) else str(exc).strip("'")
                    raise ScenarioError(
                        f"{p.path} at {x:g} in experiment {name!r}: {msg}",
                        file=file,
                        line=line,
                        path=f"parameters[{i}].path",
                    ) from None
