"""Designs and planning: design points of an experiment and the runs that cover them (pure, no simulation).

Objects:
    RunSpec: one planned run: run_id, design_point, replicate, scenario overrides, seed.
    design_table(experiment) -> DataFrame: factor values per design point (one row per point).
    plan(experiment) -> list[RunSpec]: every design point times every replicate, in run_id order.
    run_seed(root, design_point, replicate) -> int: the seed of one run.
    point_scenarios(experiment) -> list[Scenario]: the scenario of every design point.
    check_design(experiment): build every design point's scenario; a bad factor is one error line.

Designs: ``grid`` is the full product of the factors' levels (lists as given; ranges with
``levels`` evenly spaced points), the last factor varying fastest.  ``lhs`` (Latin hypercube)
and ``sobol`` draw ``n`` points in the unit cube with ``scipy.stats.qmc`` (seeded by
``design.seed``); ``saltelli`` follows SALib's ``saltelli.sample`` scheme on a Sobol' base of
dimension 2D: for each base row, A, then AB_j for each factor j, then (second order) BA_j, then
B, giving N*(2D+2) rows (N*(D+2) without second order) in the order SALib's ``sobol.analyze``
expects (SALib's skipping of initial Sobol' points is not copied).  A unit value ``u`` maps to
``low + u*(high-low)`` for a range, ``floor(low + u*(high-low+1))`` for an integer range and to
item ``floor(u*k)`` of a list of ``k`` values.  ``csv`` reads the design table.

Seeds: run (design point ``d``, replicate ``r``) gets the seed of
``SeedSequence(root, spawn_key=(d, r))`` (the same as ``SeedSequence(root).spawn(D)[d].spawn(R)[r]``),
its first 63 bits, so a run's seed depends only on the root seed, ``d`` and ``r``: adding
replicates or design points never changes the seeds of existing runs.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from safsim.config import Scenario
from safsim.scenario import ScenarioError, load_scenario

if TYPE_CHECKING:  # pragma: no cover - experiment.py imports this module to check designs
    from safsim.experiments.experiment import Experiment, Factor

__all__ = ["RunSpec", "check_design", "design_table", "plan", "point_scenarios", "run_seed"]


@dataclass(frozen=True)
class RunSpec:
    """One planned run.

    Attributes:
        run_id: position in the plan (design_point * replicates + replicate).
        design_point: index of the design point (row of ``design_table``).
        replicate: replicate number within the design point.
        overrides: the design point's scenario overrides, ``((dotted path, value), ...)``.
        seed: the run's integer seed.
    """

    run_id: int
    design_point: int
    replicate: int
    overrides: tuple[tuple[str, Any], ...]
    seed: int


def run_seed(root: int, design_point: int, replicate: int) -> int:
    """The seed of run (design_point, replicate): ``SeedSequence(root, spawn_key=(d, r))``, 63 bits."""
    ss = np.random.SeedSequence(int(root), spawn_key=(int(design_point), int(replicate)))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


# --------------------------------------------------------------------------------------
# Design points
# --------------------------------------------------------------------------------------


def _levels(f: Factor) -> list[Any]:
    if not f.is_range:
        return list(f.values or [])
    grid = np.linspace(f.low, f.high, int(f.levels or 2))
    if f.integer:
        return list(dict.fromkeys(int(round(x)) for x in grid))
    return [float(x) for x in grid]


def _from_unit(f: Factor, u: np.ndarray) -> list[Any]:
    u = np.clip(u, 0.0, np.nextafter(1.0, 0.0))
    if not f.is_range:
        values = list(f.values or [])
        return [values[int(math.floor(x * len(values)))] for x in u]
    lo, hi = float(f.low), float(f.high)  # type: ignore[arg-type]
    if f.integer:
        lo_i, hi_i = math.ceil(lo), math.floor(hi)
        return [int(min(hi_i, math.floor(lo_i + x * (hi_i - lo_i + 1)))) for x in u]
    return [float(lo + x * (hi - lo)) for x in u]


def _unit_sample(exp: Experiment) -> np.ndarray:
    from scipy.stats import qmc

    d = len(exp.factors)
    n = int(exp.design.n or 1)
    kind = exp.design.kind
    if kind == "lhs":
        return qmc.LatinHypercube(d=d, seed=exp.design.seed).random(n)
    if kind == "sobol":
        return qmc.Sobol(d=d, scramble=exp.design.scramble, seed=exp.design.seed).random_base2(int(math.log2(n)))
    # saltelli
    base = qmc.Sobol(d=2 * d, scramble=exp.design.scramble, seed=exp.design.seed).random_base2(int(math.log2(n)))
    a, b = base[:, :d], base[:, d:]
    rows = []
    for i in range(n):
        rows.append(a[i])
        for j in range(d):
            ab = a[i].copy()
            ab[j] = b[i, j]
            rows.append(ab)
        if exp.design.second_order:
            for j in range(d):
                ba = b[i].copy()
                ba[j] = a[i, j]
                rows.append(ba)
        rows.append(b[i])
    return np.asarray(rows)


def _read_csv(exp: Experiment) -> pd.DataFrame:
    path = exp.folder / str(exp.design.file)
    file, line = exp.line_of("design", "file")
    try:
        table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise ScenarioError(f"design table {str(path)!r} not found", file=file, line=line, path="design.file") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ScenarioError(f"cannot read the design table: {exc}", file=file, line=line, path="design.file") from None
    if table.empty:
        raise ScenarioError("the design table has no rows", file=file, line=line, path="design.file")
    if exp.factors and set(table.columns) != set(exp.factors):
        raise ScenarioError(
            f"the design table's columns {sorted(table.columns)} are not the factors {sorted(exp.factors)}",
            file=file,
            line=line,
            path="design.file",
        )
    if table.isna().any().any():
        raise ScenarioError("the design table has empty cells", file=file, line=line, path="design.file")
    return table


def _column(values: list[Any]) -> pd.Series:
    """A factor column: numbers, bools or text as such; anything else (mixed, mappings) as JSON text."""
    if all(isinstance(v, bool) for v in values):
        return pd.Series(values, dtype=bool)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pd.Series(values, dtype="int64")
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pd.Series([float(v) for v in values], dtype="float64")
    if all(isinstance(v, str) for v in values):
        return pd.Series(values, dtype=object)
    return pd.Series([json.dumps(v, sort_keys=True) for v in values], dtype=object)


def _raw_points(exp: Experiment) -> tuple[list[str], list[list[Any]]]:
    """Factor names and the raw values of every design point (rows)."""
    kind = exp.design.kind
    if kind == "csv":
        cached = exp._table
        if cached is None:
            cached = _read_csv(exp)
            exp._table = cached
        names = list(exp.factors) or list(cached.columns)
        rows = [[_py(v) for v in rec] for rec in cached[names].itertuples(index=False, name=None)]
        return names, rows
    names = list(exp.factors)
    factors = [exp.factors[n] for n in names]
    if kind == "grid":
        import itertools

        return names, [list(p) for p in itertools.product(*(_levels(f) for f in factors))]
    unit = _unit_sample(exp)
    columns = [_from_unit(f, unit[:, j]) for j, f in enumerate(factors)]
    return names, [list(r) for r in zip(*columns, strict=True)]


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def design_table(experiment: Experiment) -> pd.DataFrame:
    """Factor values per design point: a ``design_point`` column, then one column per factor (dotted path)."""
    names, rows = _raw_points(experiment)
    table = pd.DataFrame({"design_point": pd.Series(range(len(rows)), dtype="int64")})
    for j, name in enumerate(names):
        table[name] = _column([r[j] for r in rows])
    return table


def plan(experiment: Experiment) -> list[RunSpec]:
    """Every run of the experiment: design points x replicates, in run_id order (pure; nothing is run)."""
    names, rows = _raw_points(experiment)
    reps = experiment.replicates
    out = []
    for d, row in enumerate(rows):
        overrides = tuple(zip(names, row, strict=True))
        for r in range(reps):
            out.append(RunSpec(d * reps + r, d, r, overrides, run_seed(experiment.seed, d, r)))
    return out


def point_scenarios(experiment: Experiment) -> list[Scenario]:
    """The scenario of every design point: the base scenario with the point's factor values set."""
    names, rows = _raw_points(experiment)
    base = experiment.base_scenario
    out = []
    for row in rows:
        overrides = dict(zip(names, row, strict=True))
        try:
            out.append(load_scenario(base, overrides))
        except ScenarioError as exc:
            name = next((n for n in names if (exc.file or "").startswith(f"--set {n}=")), None)
            if name is None:
                name = next((n for n in names if exc.path == n or exc.path.startswith(f"{n}.")), names[0])
            file, line = experiment.line_of("factors", name) if experiment.factors else experiment.line_of("design")
            shown = overrides[name]
            raise ScenarioError(
                f"factor {name!r} (value {shown!r}): {exc.path + ': ' if exc.path and exc.path != name else ''}"
                f"{exc.message}",
                file=file,
                line=line,
                path=f"factors.{name}",
            ) from None
    return out


def check_design(experiment: Experiment) -> None:
    """Build every design point's scenario (raises ScenarioError naming the factor on a bad path or value)."""
    point_scenarios(experiment)
