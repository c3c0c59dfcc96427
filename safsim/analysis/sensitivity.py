"""Global sensitivity analysis of an experiment with SALib: Sobol' indices and Morris screening.

Objects:
    SensitivityError: an analysis that cannot run (wrong design, unknown outcome); one-line message.
    SensitivityResult: the indices table (and second-order table), the sweep and the files written.
    METHODS: the method names, ``sobol`` and ``morris``.
    run_sensitivity(experiment, method, ...) -> SensitivityResult: run the model evaluations with
        the sweep runner, average replicates per design point, compute and write the indices.
    salib_problem(experiment) -> dict: the SALib problem of an experiment's factors.
    point_means(runs, outcomes, n_points) -> dict[str, ndarray]: replicate-averaged outcomes.
    noise_shares(runs, outcomes) -> DataFrame: how much of the variance of the replicate-averaged
        outcomes is replicate noise (noise.csv).
    sobol_indices(experiment, outputs) -> (DataFrame, DataFrame | None): first-order and total
        indices (and second-order ones) from outputs on a Saltelli design.
    morris_design(experiment, trajectories, num_levels, seed) -> (ndarray, DataFrame): Morris
        trajectories in the unit cube and as factor values.
    morris_indices(experiment, unit_x, outputs, num_levels) -> DataFrame: mu*, its interval, sigma.
    plot_indices(table, method, path) -> Figure: one bar panel per outcome (sensitivity.png).
    INDEX_COLUMNS: the columns of indices.csv per method.

Sobol': the experiment's design must be ``saltelli``; safsim's Saltelli rows are in the order
SALib's ``sobol.analyze`` expects (A, AB_j, [BA_j,] B per base row) and the analysis uses
``calc_second_order`` as the design was built.  Morris: the factors' ranges are screened with
``SALib.sample.morris`` trajectories (``r`` trajectories of ``k+1`` points, sampled in the unit
cube and mapped to factor values as the other designs are), run as an explicit ``csv`` design;
the experiment's own design is ignored.  Elementary effects are per full range of a factor, so
``mu_star`` is comparable across factors.  Every design point's outcome is the mean over its
replicates.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from safsim.experiments.design import _from_unit
from safsim.experiments.experiment import Experiment, load_experiment

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from safsim.experiments.sweep import SweepResult

__all__ = [
    "INDEX_COLUMNS",
    "METHODS",
    "SensitivityError",
    "SensitivityResult",
    "morris_design",
    "morris_indices",
    "noise_shares",
    "plot_indices",
    "point_means",
    "run_sensitivity",
    "salib_problem",
    "sobol_indices",
]

METHODS = ("sobol", "morris")
INDEX_COLUMNS: dict[str, list[str]] = {
    "sobol": ["outcome", "factor", "S1", "S1_conf", "ST", "ST_conf"],
    "morris": ["outcome", "factor", "mu_star", "mu_star_conf", "sigma"],
}
DEFAULT_TRAJECTORIES = 10


class SensitivityError(ValueError):
    """A sensitivity analysis that cannot run; ``str()`` is a one-line message."""


@dataclass(frozen=True)
class SensitivityResult:
    """The result of ``run_sensitivity``.

    Attributes:
        method: ``sobol`` or ``morris``.
        indices: one row per outcome and factor, columns ``INDEX_COLUMNS[method]``.
        second_order: Sobol' with a second-order design: outcome, factor_1, factor_2, S2,
            S2_conf; otherwise None.
        noise: per outcome, the share of the variance of the replicate-averaged outcome that is
            replicate noise (see ``noise_shares``).
        sweep: the SweepResult of the model evaluations.
        out: the directory written (indices.csv, sensitivity.png, the sweep in ``sweep/``), or None.
    """

    method: str
    indices: pd.DataFrame
    second_order: pd.DataFrame | None
    noise: pd.DataFrame
    sweep: SweepResult
    out: Path | None


# --------------------------------------------------------------------------------------
# Problems, outputs and indices (pure: usable with any function in place of the model)
# --------------------------------------------------------------------------------------


def salib_problem(experiment: Experiment) -> dict[str, Any]:
    """The SALib problem of the experiment's factors: names (dotted paths) and bounds.

    A range gives ``[low, high]``; a list of values gives ``[0, 1]`` (its unit position).
    """
    if not experiment.factors:
        raise SensitivityError("sensitivity analysis needs factors: (a csv design without factors has no ranges)")
    names = list(experiment.factors)
    bounds = [
        [float(f.low), float(f.high)] if f.is_range else [0.0, 1.0]  # type: ignore[arg-type]
        for f in experiment.factors.values()
    ]
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def point_means(runs: pd.DataFrame, outcomes: Sequence[str], n_points: int) -> dict[str, np.ndarray]:
    """Each outcome's mean over replicates for design points ``0..n_points-1``.

    Raises:
        SensitivityError: a design point has no successful run or no finite value.
    """
    grouped = runs.groupby("design_point")[list(outcomes)].mean().reindex(range(n_points))
    out = {}
    for name in outcomes:
        values = grouped[name].to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise SensitivityError(
                f"outcome {name!r} has no finite value at design point {int(bad[0])} "
                f"({bad.size} point(s) in all; see failures.parquet); the indices need every point"
            )
        out[name] = values
    return out


def noise_shares(runs: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    """How much of the variance of the replicate-averaged outcomes is replicate noise.

    For each outcome: ``var_points``, the variance of the design points' means over replicates;
    ``var_noise``, the mean within-point variance over replicates divided by the number of
    replicates (the variance a point mean has from seed noise alone); ``noise_share`` their ratio.
    A share near 1 means the factors explain little beyond noise: the Sobol' indices then overstate
    interactions (noise counts towards every total index) and more replicates are needed.  NaN with
    one replicate.

    Returns:
        One row per outcome: outcome, replicates, var_points, var_noise, noise_share.
    """
    reps = int(runs.groupby("design_point").size().min()) if len(runs) else 0
    rows = []
    for name in outcomes:
        grouped = runs.groupby("design_point")[name]
        var_points = float(grouped.mean().var(ddof=1))
        var_noise = float(grouped.var(ddof=1).mean() / reps) if reps > 1 else float("nan")
        share = var_noise / var_points if var_points > 0 else float("nan")
        rows.append(
            {
                "outcome": name,
                "replicates": reps,
                "var_points": var_points,
                "var_noise": var_noise,
                "noise_share": share,
            }
        )
    return pd.DataFrame(rows, columns=["outcome", "replicates", "var_points", "var_noise", "noise_share"])


def _check_saltelli(experiment: Experiment, n_rows: int | None = None) -> None:
    kind = experiment.design.kind
    if kind != "saltelli":
        raise SensitivityError(
            f"--method sobol needs a saltelli design (design: {{kind: saltelli, n: 16}}), "
            f"but {experiment.source} has a {kind} design"
        )
    if n_rows is not None:
        d, n = len(experiment.factors), int(experiment.design.n or 0)
        expected = n * (2 * d + 2 if experiment.design.second_order else d + 2)
        if n_rows != expected:
            raise SensitivityError(f"a saltelli design of n={n} and {d} factors has {expected} points, got {n_rows}")


def sobol_indices(
    experiment: Experiment,
    outputs: Mapping[str, np.ndarray],
    *,
    num_resamples: int = 100,
    conf_level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """First-order and total Sobol' indices (and second-order ones) of outputs on the experiment's design.

    Args:
        experiment: an experiment with a ``saltelli`` design.
        outputs: outcome name -> one value per design point, in design-point order.
        num_resamples: bootstrap resamples of the confidence intervals.
        conf_level: confidence level of the intervals.

    Returns:
        (indices, second_order): indices has outcome, factor, S1, S1_conf, ST, ST_conf; second_order
        has outcome, factor_1, factor_2, S2, S2_conf, or is None for a first-order design.
    """
    from SALib.analyze import sobol

    problem = salib_problem(experiment)
    second = bool(experiment.design.second_order)
    rows, pairs = [], []
    names = problem["names"]
    for outcome, y in outputs.items():
        y = np.asarray(y, dtype=float)
        _check_saltelli(experiment, len(y))
        if not np.ptp(y) > 0:  # a constant outcome: no variance to apportion, the indices are undefined
            nan = np.full(len(names), np.nan)
            si = {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan, "S2": np.full((len(names),) * 2, np.nan)}
            si["S2_conf"] = si["S2"]
        else:
            si = sobol.analyze(
                problem,
                y,
                calc_second_order=second,
                num_resamples=num_resamples,
                conf_level=conf_level,
                seed=int(experiment.design.seed),
            )
        for j, factor in enumerate(names):
            rows.append(
                {
                    "outcome": outcome,
                    "factor": factor,
                    "S1": float(si["S1"][j]),
                    "S1_conf": float(si["S1_conf"][j]),
                    "ST": float(si["ST"][j]),
                    "ST_conf": float(si["ST_conf"][j]),
                }
            )
        if second:
            for a in range(len(names)):
                for b in range(a + 1, len(names)):
                    pairs.append(
                        {
                            "outcome": outcome,
                            "factor_1": names[a],
                            "factor_2": names[b],
                            "S2": float(si["S2"][a, b]),
                            "S2_conf": float(si["S2_conf"][a, b]),
                        }
                    )
    table = pd.DataFrame(rows, columns=INDEX_COLUMNS["sobol"])
    s2 = pd.DataFrame(pairs, columns=["outcome", "factor_1", "factor_2", "S2", "S2_conf"]) if second else None
    return table, s2


def morris_design(
    experiment: Experiment, trajectories: int, num_levels: int = 4, seed: int | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """Morris trajectories over the experiment's factors.

    Args:
        experiment: the experiment (its factors; its design is not used).
        trajectories: the number r of trajectories (r*(k+1) points for k factors).
        num_levels: the number of grid levels p of the Morris method.
        seed: the sampler's seed (default: the experiment's ``design.seed``).

    Returns:
        (unit_x, table): the points in the unit cube (what ``morris_indices`` reads) and the same
        points as factor values, one column per factor (what the model runs).
    """
    from SALib.sample import morris

    problem = salib_problem(experiment)
    unit_problem = {**problem, "bounds": [[0.0, 1.0]] * problem["num_vars"]}
    unit_x = morris.sample(
        unit_problem,
        int(trajectories),
        num_levels=int(num_levels),
        seed=int(experiment.design.seed if seed is None else seed),
    )
    table = pd.DataFrame({name: _from_unit(f, unit_x[:, j]) for j, (name, f) in enumerate(experiment.factors.items())})
    return unit_x, table


def morris_indices(
    experiment: Experiment,
    unit_x: np.ndarray,
    outputs: Mapping[str, np.ndarray],
    *,
    num_levels: int = 4,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    seed: int | None = None,
) -> pd.DataFrame:
    """Morris screening measures of outputs on Morris trajectories (from ``morris_design``).

    Returns:
        One row per outcome and factor: outcome, factor, mu_star, mu_star_conf, sigma (effects per
        full range of the factor, in the outcome's units).
    """
    from SALib.analyze import morris

    problem = salib_problem(experiment)
    unit_problem = {**problem, "bounds": [[0.0, 1.0]] * problem["num_vars"]}
    rows = []
    for outcome, y in outputs.items():
        si = morris.analyze(
            unit_problem,
            np.asarray(unit_x, dtype=float),
            np.asarray(y, dtype=float),
            num_resamples=num_resamples,
            conf_level=conf_level,
            num_levels=int(num_levels),
            seed=int(experiment.design.seed if seed is None else seed),
        )
        for j, factor in enumerate(problem["names"]):
            rows.append(
                {
                    "outcome": outcome,
                    "factor": factor,
                    "mu_star": float(si["mu_star"][j]),
                    "mu_star_conf": float(si["mu_star_conf"][j]),
                    "sigma": float(si["sigma"][j]),
                }
            )
    return pd.DataFrame(rows, columns=INDEX_COLUMNS["morris"])


# --------------------------------------------------------------------------------------
# Plot
# --------------------------------------------------------------------------------------


def plot_indices(table: pd.DataFrame, method: str, path: str | os.PathLike[str] | None = None) -> Figure:
    """One horizontal bar panel per outcome (titled with its glossary label), factors on the axis.

    Sobol': S1 and ST bars with their confidence intervals; Morris: mu* with its interval and sigma.
    """
    from safsim.outcomes import label_with_unit
    from safsim.plotting import _finish, _new_figure

    outcomes = list(dict.fromkeys(table["outcome"]))
    factors = list(dict.fromkeys(table["factor"]))
    ncols = min(3, max(1, len(outcomes)))
    nrows = -(-len(outcomes) // ncols)
    fig = _new_figure(4.2 * ncols + 1.5, 0.45 * len(factors) * nrows + 1.4 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    pos = np.arange(len(factors))
    if method == "sobol":
        bars = [("S1", "first order S1", "#4c72b0"), ("ST", "total ST", "#dd8452")]
    else:
        bars = [("mu_star", "mu*", "#4c72b0"), ("sigma", "sigma", "#dd8452")]
    height = 0.38
    for k, outcome in enumerate(outcomes):
        ax = axes[k // ncols][k % ncols]
        sub = table[table["outcome"] == outcome].set_index("factor").reindex(factors)
        for b, (col, text, colour) in enumerate(bars):
            conf = f"{col}_conf"
            err = sub[conf].to_numpy(dtype=float) if conf in sub else None
            ax.barh(pos + (b - 0.5) * height, sub[col].to_numpy(dtype=float), height, xerr=err, color=colour,
                    label=text, capsize=2)  # fmt: skip
        try:
            title = label_with_unit(outcome)
        except KeyError:
            title = outcome
        ax.set_title(title, fontsize=9)
        ax.set_yticks(pos, factors, fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color="0.5", linewidth=0.6)
        ax.set_xlabel("Sobol' index" if method == "sobol" else "elementary effect per full range", fontsize=8)
        if k == 0:
            ax.legend(fontsize=7, loc="lower right")
    for k in range(len(outcomes), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    return _finish(fig, path)


# --------------------------------------------------------------------------------------
# The analysis of an experiment
# --------------------------------------------------------------------------------------


def _outcomes(exp: Experiment, wanted: Sequence[str] | None) -> list[str]:
    from safsim.metrics import HEADLINE_OUTCOMES

    recorded = exp.record.outcome_names()
    if not wanted:
        if exp.record.outcomes == "all":
            return [o for o in HEADLINE_OUTCOMES if o in recorded]
        return recorded
    for name in wanted:
        if name not in recorded:
            import difflib

            close = difflib.get_close_matches(name, recorded, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (recorded: {', '.join(recorded)})"
            raise SensitivityError(f"outcome {name!r} is not recorded by the experiment{hint}")
    return list(dict.fromkeys(wanted))


def run_sensitivity(
    experiment: Experiment | str | os.PathLike[str] | Mapping[str, Any],
    method: str = "sobol",
    *,
    outcomes: Sequence[str] | None = None,
    workers: int | None = None,
    backend: str = "processes",
    out: str | os.PathLike[str] | None = None,
    force: bool = False,
    trajectories: int | None = None,
    num_levels: int = 4,
    num_resamples: int = 100,
    progress: bool = True,
) -> SensitivityResult:
    """Global sensitivity analysis of an experiment: run the model evaluations, compute the indices.

    Args:
        experiment: an Experiment, an experiment file or a mapping shaped like one.
        method: ``sobol`` (the design must be ``saltelli``) or ``morris`` (the design is replaced
            by Morris trajectories over the factors).
        outcomes: outcomes to analyse (default: the recorded outcomes, or the headline outcomes
            when the experiment records ``all``).
        workers: worker processes of the sweep (results do not depend on it).
        backend: the sweep backend (``serial``, ``processes``, ``dask``).
        out: write ``indices.csv`` (``indices_s2.csv`` for a second-order Sobol' design),
            ``noise.csv``, ``sensitivity.png`` and, for Morris, ``morris_design.csv`` here, with the sweep's
            results in ``out/sweep`` (resumed if they are this sweep's); None keeps everything in
            memory.
        force: replace other sweep results in ``out/sweep``.
        trajectories: Morris: the number of trajectories r (default: the design's ``n``, else 10).
        num_levels: Morris: the number of grid levels.
        num_resamples: bootstrap resamples of the confidence intervals.
        progress: show the sweep's progress bar (on a terminal).

    Returns:
        The SensitivityResult.

    Raises:
        SensitivityError: an unknown method or outcome, or sobol without a saltelli design.
        ScenarioError: the experiment does not load.
        SweepError: the sweep cannot start (e.g. ``out/sweep`` holds another sweep's results).
    """
    from safsim.experiments.sweep import run_sweep

    if method not in METHODS:
        raise SensitivityError(f"unknown method {method!r} (one of {', '.join(METHODS)})")
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    names = _outcomes(exp, outcomes)
    if not names:
        raise SensitivityError("no outcome to analyse (give --outcomes)")
    salib_problem(exp)  # factors with ranges, checked before anything runs
    out_dir = Path(out) if out is not None else None
    sweep_dir = out_dir / "sweep" if out_dir is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    sweep_kw: dict[str, Any] = {
        "backend": backend,
        "workers": workers,
        "out": sweep_dir,
        "resume": not force,
        "force": force,
        "progress": progress,
    }
    s2 = None
    if method == "sobol":
        _check_saltelli(exp)
        res = run_sweep(exp, **sweep_kw)
        table, s2 = sobol_indices(exp, point_means(res.runs, names, len(res.design)), num_resamples=num_resamples)
    else:
        r = int(trajectories or exp.design.n or DEFAULT_TRAJECTORIES)
        if r < 2:
            raise SensitivityError(f"morris needs at least 2 trajectories, got {r}")
        unit_x, points = morris_design(exp, r, num_levels)
        with tempfile.TemporaryDirectory(prefix="safsim-morris-") as tmp:
            design_file = (out_dir if out_dir is not None else Path(tmp)) / "morris_design.csv"
            points.to_csv(design_file, index=False)
            morris_exp = load_experiment(exp, {"design.kind": "csv", "design.file": str(design_file.resolve())})
            res = run_sweep(morris_exp, **sweep_kw)
        table = morris_indices(
            exp, unit_x, point_means(res.runs, names, len(res.design)), num_levels=num_levels,
            num_resamples=num_resamples,
        )  # fmt: skip
    noise = noise_shares(res.runs, names)
    if out_dir is not None:
        table.to_csv(out_dir / "indices.csv", index=False)
        noise.to_csv(out_dir / "noise.csv", index=False)
        if s2 is not None:
            s2.to_csv(out_dir / "indices_s2.csv", index=False)
        plot_indices(table, method, out_dir / "sensitivity.png")
    return SensitivityResult(method=method, indices=table, second_order=s2, noise=noise, sweep=res, out=out_dir)
