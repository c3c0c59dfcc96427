"""History matching: find the parameter region where the model is not implausible given the targets.

Objects:
    point_overrides(setup, experiment, theta) -> dict: the scenario overrides of one parameter point.
    check_parameters(setup, origin): fail early on a prior whose path is not a scalable setting.
    implausibility(target, mean, var, n, discrepancy) -> float: the standardised distance.
    fit_table(setup, overrides, ...) -> DataFrame: every scored target against runs of one point.
    CalibrationResult: the evaluated points, the plausible region, the chosen point, the fit.
    calibrate(setup, ...) -> CalibrationResult: run the waves (through ``safsim.run_sweep``),
        choose the point, check it with fresh seeds, and write everything to ``out``.
    calibrated_yaml(result) -> str: the chosen values as a scenario fragment.

Method (Vernon, Goldstein & Bower 2010; Andrianakis et al. 2015, without an emulator: every
point is simulated).  For a target with observed value z, observation standard deviation
s_z (a quarter of its interval), model discrepancy s_d (``method.discrepancy`` x |z|), and a
point whose R replicate runs give the metric a mean m and variance v, the implausibility is

    I = |z - m| / sqrt(s_z^2 + s_d^2 + v / R).

A point is *not ruled out yet* (NROY) when the largest I over the ``calibrate`` targets is at
most ``method.cutoff`` (3, Pukelsheim's three-sigma rule).  Wave 1 is a Latin hypercube over
the priors; each later wave samples the bounding box (in prior units, padded by 10%) of the
previous wave's NROY points, or of its best 10% when fewer than ``d + 1`` points are NROY (the
report says so).  The chosen point is the NROY point (or, when there is none, the point) with
the smallest largest implausibility; it is then run again with fresh seeds and
``method.check_replicates`` replicates, and ``holdout`` targets, never used to choose, are
judged on those runs only: that is the out-of-sample check.

With ``method.facts_candidates`` K > 0 the stylized facts constrain the choice too (the *facts
screen*): the K least implausible points (NROY points first) are each judged against the facts
as ``safsim validate --quick`` judges the defaults (every fact's arms with the point's settings
layered on, ``method.facts_replicates`` replicates per arm, the validation's own seeds; a
criterion passes when its estimate is on the expected side).  The chosen point is the NROY
candidate (or, when none is NROY, the candidate) that keeps the most emergent facts, ties broken
by the smallest largest implausibility: the facts are a second constraint that can rule points
out, never one that rules a point the targets reject back in.  ``facts_screen.csv`` shows the
trade-off where the two kinds of evidence disagree.

Every run of every wave goes through ``run_sweep`` (Parquet parts, resumable), the design
points of a wave are the same for every experiment, and each point's replicates use the same
seeds in every experiment (common random numbers).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.stats import qmc

from safsim.calibration.metrics import METRICS, compute_targets
from safsim.calibration.points import _resolve_base, base_scenario, point_overrides
from safsim.calibration.spec import Prior, Setup, Target
from safsim.scenario import ScenarioError, load_scenario

__all__ = [
    "CalibrationResult",
    "calibrate",
    "calibrated_yaml",
    "fit_table",
    "implausibility",
]

FIT_COLUMNS = [
    "target",
    "role",
    "experiment",
    "metric",
    "observed",
    "low",
    "high",
    "model_mean",
    "model_p5",
    "model_median",
    "model_p95",
    "n_runs",
    "implausibility",
    "verdict",
]


def _from_unit(priors: list[Prior], u: np.ndarray) -> np.ndarray:
    lo = np.array([math.log(p.low) if p.log else p.low for p in priors])
    hi = np.array([math.log(p.high) if p.log else p.high for p in priors])
    x = lo + u * (hi - lo)
    logs = np.array([p.log for p in priors])
    x[:, logs] = np.exp(x[:, logs])
    ints = np.array([p.integer for p in priors])
    x[:, ints] = np.round(x[:, ints])
    return x


# --------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------


def implausibility(target: Target, mean: float, var: float, n: int, discrepancy: float) -> float:
    """``|z - m| / sqrt(s_z^2 + s_d^2 + v / n)`` (see the module docstring); inf for a missing mean."""
    if not np.isfinite(mean):
        return math.inf
    v = var if np.isfinite(var) else 0.0
    denom = target.sd**2 + (discrepancy * abs(target.value)) ** 2 + v / max(n, 1)
    return abs(target.value - mean) / math.sqrt(denom) if denom > 0 else math.inf


def _metrics_of(setup: Setup, experiment: str, runs: pd.DataFrame, ts: pd.DataFrame | None) -> pd.DataFrame:
    """One column per scored target of ``experiment`` (named by target id), one row per run."""
    targets = [t for t in setup.targets_file.scored() if t.maps_to and t.maps_to.experiment == experiment]
    return compute_targets(targets, runs, ts, setup.experiments[experiment])


def fit_table(
    setup: Setup,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    n: int = 30,
    seed: int | None = None,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Run every experiment ``n`` times (with ``overrides[experiment]`` applied) and score each target.

    Returns:
        One row per scored target (FIT_COLUMNS): the observed value and interval, the model's
        mean, 5th/50th/95th percentile over runs, the implausibility of the mean and a verdict
        (``consistent`` when the implausibility is at most the cutoff, else ``inconsistent``).
    """
    from safsim.experiments.replicates import run_replicates

    m = setup.method
    root = m.seed + 1_000_003 if seed is None else int(seed)
    rows = []
    for name in setup.experiments:
        targets = [t for t in setup.targets_file.scored() if t.maps_to and t.maps_to.experiment == name]
        if not targets:
            continue
        scenario = base_scenario(setup, name)
        if overrides and overrides.get(name):
            scenario = load_scenario(scenario, dict(overrides[name]))
        if progress is not None:
            progress(f"{name}: {n} runs")
        res = run_replicates(scenario, n, seed=root, workers=workers)
        values = _metrics_of(setup, name, res.runs, res.timeseries)
        for t in targets:
            assert t.maps_to is not None
            x = values[t.id].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            mean = float(x.mean()) if x.size else math.nan
            var = float(x.var(ddof=1)) if x.size > 1 else math.nan
            imp = implausibility(t, mean, var, int(x.size), m.discrepancy)
            q = np.percentile(x, [5, 50, 95]) if x.size else [math.nan] * 3
            rows.append(
                {
                    "target": t.id,
                    "role": t.role,
                    "experiment": name,
                    "metric": t.maps_to.metric,
                    "observed": t.value,
                    "low": t.interval[0],
                    "high": t.interval[1],
                    "model_mean": mean,
                    "model_p5": float(q[0]),
                    "model_median": float(q[1]),
                    "model_p95": float(q[2]),
                    "n_runs": int(x.size),
                    "implausibility": imp,
                    "verdict": "consistent" if imp <= m.cutoff else "inconsistent",
                }
            )
    return pd.DataFrame(rows, columns=FIT_COLUMNS)


# --------------------------------------------------------------------------------------
# Waves
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationResult:
    """What a calibration found.

    Attributes:
        setup: the set-up it ran.
        points: every evaluated point: wave, design_point, one column per parameter (by prior
            name), per target ``mean:<id>``, ``var:<id>`` and ``I:<id>``, then ``I_max``
            (largest over calibrate targets), ``I_second`` and ``nroy``.
        chosen: the chosen point's parameter values (by prior name).
        overrides: the chosen point's scenario overrides per experiment.
        fit: the fit table of the chosen point on fresh seeds (``fit_table``).
        refocused_on_best: per wave, whether the next wave's box came from the best 10%
            because too few points were NROY.
        out: where it was written, or None.
        wall_time_s: wall-clock seconds.
        screen: the facts screen (``SCREEN_COLUMNS``, one row per candidate, then one column
            per fact with its verdict), or None when ``method.facts_candidates`` is 0.
    """

    setup: Setup
    points: pd.DataFrame
    chosen: dict[str, float]
    overrides: dict[str, dict[str, Any]]
    fit: pd.DataFrame
    refocused_on_best: tuple[bool, ...]
    out: Path | None
    wall_time_s: float
    screen: pd.DataFrame | None = None

    def posterior(self) -> pd.DataFrame:
        """Per parameter: prior range, the 5th/50th/95th percentiles over the NROY points of
        every wave (over the best 10% of all points when fewer than d + 1 are NROY: the
        ``basis`` column says which), and the chosen value."""
        pts = self.points
        region = pts[pts["nroy"]]
        basis = "nroy"
        if len(region) < len(self.setup.parameters) + 1:
            region = pts.nsmallest(max(1, len(pts) // 10), "I_max")
            basis = "best 10%"
        rows = []
        for p in self.setup.parameters:
            q = np.percentile(region[p.name].to_numpy(float), [5, 50, 95])
            rows.append(
                {
                    "parameter": p.name,
                    "prior_low": p.low,
                    "prior_high": p.high,
                    "p5": q[0],
                    "median": q[1],
                    "p95": q[2],
                    "chosen": self.chosen[p.name],
                    "basis": basis,
                    "n_points": len(region),
                }
            )
        return pd.DataFrame(rows)


def _wave_box(points: pd.DataFrame, priors: list[Prior]) -> tuple[np.ndarray, np.ndarray, bool]:
    """The next wave's box in unit prior coordinates, and whether it came from the best 10%."""
    d = len(priors)
    good = points[points["nroy"]]
    best = len(good) < d + 1
    if best:
        good = points.nsmallest(max(d + 1, len(points) // 10), "I_max")
    u = np.column_stack([_to_unit(p, good[p.name].to_numpy(float)) for p in priors])
    lo, hi = u.min(axis=0), u.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 0.05)
    return np.clip(lo - pad, 0.0, 1.0), np.clip(hi + pad, 0.0, 1.0), best


def _to_unit(p: Prior, x: np.ndarray) -> np.ndarray:
    if p.log:
        return (np.log(x) - math.log(p.low)) / (math.log(p.high) - math.log(p.low))
    return (x - p.low) / (p.high - p.low)


def _sweep_experiment(
    setup: Setup, name: str, table: pd.DataFrame, csv_path: Path, replicates: int, root: int, needs_ts: bool
) -> dict[str, Any]:
    exp = setup.experiments[name]
    table.to_csv(csv_path, index=False)
    return {
        "kind": "experiment",
        "name": f"calibration-{name}",
        "description": f"History-matching wave of the calibration, experiment {name}.",
        "base": _resolve_base(setup, exp),
        "set": dict(exp.set),
        "design": {"kind": "csv", "file": str(csv_path.resolve())},
        "replicates": replicates,
        "seed": root,
        "record": {"outcomes": "all", "timeseries": needs_ts, "every": 1},
    }


def _evaluate_wave(
    setup: Setup,
    wave: int,
    theta: np.ndarray,
    *,
    replicates: int,
    out: Path | None,
    folder: Path,
    workers: int | None,
    backend: str,
    resume: bool,
    force: bool,
    progress: bool,
    log: Callable[[str], None],
) -> pd.DataFrame:
    from safsim.experiments.sweep import run_sweep

    m = setup.method
    priors = setup.parameters
    names = [p.name for p in priors]
    table = pd.DataFrame(theta, columns=names)
    table.insert(0, "design_point", np.arange(len(table)))
    table.insert(0, "wave", wave)
    root = m.seed + wave
    scored = setup.targets_file.scored()
    wave_dir = folder / f"wave-{wave}"
    wave_dir.mkdir(parents=True, exist_ok=True)
    for name in setup.experiments:
        targets = [t for t in scored if t.maps_to and t.maps_to.experiment == name]
        if not targets:
            continue
        concrete = pd.DataFrame([point_overrides(setup, name, dict(zip(names, row, strict=True))) for row in theta])
        needs_ts = any(METRICS[t.maps_to.metric].needs_timeseries for t in targets if t.maps_to)
        spec = _sweep_experiment(setup, name, concrete, wave_dir / f"{name}-points.csv", replicates, root, needs_ts)
        log(f"wave {wave}, {name}: {len(table)} points x {replicates} runs")
        res = run_sweep(
            spec,
            backend=backend,
            workers=workers,
            out=(wave_dir / name) if out is not None else None,
            resume=resume,
            force=force,
            progress=progress,
        )
        if len(res.failures):
            first = res.failures.iloc[0]
            log(f"  {len(res.failures)} runs failed, e.g. run {first['run_id']}: {first['error']}")
        values = _metrics_of(setup, name, res.runs, res.timeseries)
        values["design_point"] = res.runs.set_index("run_id").loc[values.index, "design_point"].to_numpy()
        grouped = values.groupby("design_point")
        for t in targets:
            assert t.maps_to is not None
            g = grouped[t.id]
            mean = g.mean().reindex(table["design_point"])
            var = g.var(ddof=1).reindex(table["design_point"])
            count = g.count().reindex(table["design_point"]).fillna(0)
            table[f"mean:{t.id}"] = mean.to_numpy()
            table[f"var:{t.id}"] = var.to_numpy()
            table[f"I:{t.id}"] = [
                implausibility(t, float(a), float(b), int(c), m.discrepancy)
                for a, b, c in zip(mean, var, count, strict=True)
            ]
    cal = [f"I:{t.id}" for t in setup.targets_file.scored("calibrate")]
    imps = np.sort(table[cal].to_numpy(float), axis=1)
    table["I_max"] = imps[:, -1]
    table["I_second"] = imps[:, -2] if imps.shape[1] > 1 else imps[:, -1]
    table["nroy"] = table["I_max"] <= m.cutoff
    return table


# --------------------------------------------------------------------------------------
# Facts screen
# --------------------------------------------------------------------------------------

SCREEN_COLUMNS = [
    "rank",
    "wave",
    "design_point",
    "I_max",
    "I_second",
    "nroy",
    "emergent_passed",
    "emergent_total",
    "facts_passed",
    "facts_total",
    "failed",
    "chosen",
]


def shared_overrides(overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The overrides every experiment shares (a point's settings as one scenario fragment)."""
    shared: dict[str, Any] | None = None
    for ov in overrides.values():
        shared = dict(ov) if shared is None else {k: v for k, v in shared.items() if ov.get(k) == v}
    return shared or {}


def screen_candidates(points: pd.DataFrame, k: int) -> pd.DataFrame:
    """The ``k`` least implausible points: NROY points first, then by I_max and I_second."""
    order = points.assign(_ruled_out=~points["nroy"].astype(bool))
    order = order.sort_values(["_ruled_out", "I_max", "I_second"], kind="stable")
    return order.drop(columns="_ruled_out").head(k)


def choose_screened(screen: pd.DataFrame) -> int:
    """Index (into ``screen``) of the chosen candidate: NROY candidates before ruled-out ones (the
    facts rule points out, they never rule a point back in), then the one keeping the most
    emergent facts, then the smallest I_max and I_second."""
    order = screen.assign(_lost=-screen["emergent_passed"], _ruled_out=~screen["nroy"].astype(bool))
    order = order.sort_values(["_ruled_out", "_lost", "I_max", "I_second"], kind="stable")
    return int(order.index[0])


def facts_digest(setup: Setup) -> str:
    """A digest of the stylized facts the screen judges (their arms, levers and criteria), so that
    ``--resume`` does not reuse a screen of facts defined differently since."""
    import hashlib

    from safsim.analysis.facts import get_facts

    return hashlib.sha256(repr(tuple(get_facts(setup.method.facts))).encode("utf-8")).hexdigest()


def _earlier_screen(out: Path | None, setup: Setup, candidates: pd.DataFrame) -> pd.DataFrame | None:
    """The facts screen of an earlier run in ``out`` when it judged the same candidates under the
    same set-up and targets text and the same fact definitions (so ``--resume`` does not repeat
    the costliest stage), else None."""
    if out is None or not (out / "facts_screen.csv").is_file() or not (out / "manifest.json").is_file():
        return None
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        earlier = pd.read_csv(out / "facts_screen.csv", dtype={"failed": str}, keep_default_na=False)
    except (OSError, ValueError):
        return None
    setup_path, targets_path = Path(setup.source), Path(setup.targets_file.source)
    same_files = (
        setup_path.is_file()
        and manifest.get("setup_text") == setup_path.read_text(encoding="utf-8")
        and manifest.get("targets_text") == targets_path.read_text(encoding="utf-8")
        and manifest.get("facts_digest") == facts_digest(setup)
    )
    keys = ["wave", "design_point"]
    if not same_files or not set(SCREEN_COLUMNS) <= set(earlier.columns):
        return None
    if earlier[keys].to_numpy().tolist() != candidates[keys].astype(int).to_numpy().tolist():
        return None
    earlier["chosen"] = False
    earlier.loc[choose_screened(earlier), "chosen"] = True
    return earlier


def _pool_size(workers: int | None) -> int:
    """Worker processes for the screen and the check: as the waves' sweeps (every core when None)."""
    return int(workers) if workers is not None else (os.cpu_count() or 1)


@contextlib.contextmanager
def _run_bar(show: bool, desc: str) -> Any:
    """A ``progress(done, total)`` callback drawing a tqdm bar on stderr, or None when not shown."""
    if not show:
        yield None
        return
    import sys

    from tqdm import tqdm

    with tqdm(unit="run", desc=desc, file=sys.stderr, dynamic_ncols=True, leave=False) as bar:

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield update


def _facts_screen(
    setup: Setup,
    candidates: pd.DataFrame,
    *,
    workers: int | None,
    log: Callable[[str], None],
    progress: bool = False,
) -> pd.DataFrame:
    from safsim.analysis.facts import get_facts
    from safsim.analysis.validation import VALIDATION_SEED, Mode, run_validation

    m = setup.method
    facts = get_facts(m.facts)
    rows = []
    for rank, (_, row) in enumerate(candidates.iterrows(), start=1):
        theta = {p.name: float(row[p.name]) for p in setup.parameters}
        settings = shared_overrides({name: point_overrides(setup, name, theta) for name in setup.experiments})
        with _run_bar(progress, f"facts screen {rank}/{len(candidates)}") as bar:
            res = run_validation(
                facts,
                m.facts_replicates,
                mode=Mode.quick,
                workers=_pool_size(workers),
                root_seed=VALIDATION_SEED,
                base=settings,
                progress=bar,
            )
        verdicts, classes = res.fact_verdicts(), res.fact_classes()
        emergent = [f for f in verdicts if classes[f] == "emergent"]
        record = {
            "rank": rank,
            "wave": int(row["wave"]),
            "design_point": int(row["design_point"]),
            "I_max": float(row["I_max"]),
            "I_second": float(row["I_second"]),
            "nroy": bool(row["nroy"]),
            "emergent_passed": sum(verdicts[f] == "pass" for f in emergent),
            "emergent_total": len(emergent),
            "facts_passed": sum(v == "pass" for v in verdicts.values()),
            "facts_total": len(verdicts),
            "failed": " ".join(f for f, v in verdicts.items() if v != "pass"),
            "chosen": False,
        }
        record.update({f: v for f, v in verdicts.items()})
        rows.append(record)
        log(
            f"facts screen, candidate {rank} of {len(candidates)} (I_max {record['I_max']:.2f}): "
            f"{record['emergent_passed']}/{record['emergent_total']} emergent facts in the expected direction"
        )
    screen = pd.DataFrame(rows)
    screen.loc[choose_screened(screen), "chosen"] = True
    return screen


def calibrate(
    setup: Setup,
    *,
    out: str | os.PathLike[str] | None = None,
    waves: int | None = None,
    points: int | None = None,
    replicates: int | None = None,
    check_replicates: int | None = None,
    facts_candidates: int | None = None,
    workers: int | None = None,
    backend: str = "processes",
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = lambda _msg: None,
) -> CalibrationResult:
    """Run the history-matching waves, choose a point, check it on fresh seeds, write the results.

    Args:
        setup: the loaded set-up (``load_setup``); ``waves``, ``points``, ``replicates``,
            ``check_replicates`` and ``facts_candidates`` override its method settings.
        out: results directory (``wave-K/<experiment>/`` sweeps, ``points.csv``,
            ``posterior.csv``, ``fit.csv``, ``facts_screen.csv`` (with a facts screen),
            ``calibrated.yaml``, ``report.md``,
            ``manifest.json``); None keeps the results in memory (the waves' design points go
            to a temporary folder that is removed before returning).
        resume/force: passed to every wave's ``run_sweep`` (resume an interrupted calibration;
            replace an earlier one).
        log: called with one line per stage.

    Returns:
        The CalibrationResult.
    """
    t0 = time.perf_counter()
    m = setup.method
    n_waves = waves or m.waves
    n_points = points or m.points
    reps = replicates or m.replicates
    n_check = check_replicates or m.check_replicates
    n_screen = m.facts_candidates if facts_candidates is None else int(facts_candidates)
    priors = setup.parameters
    d = len(priors)
    out_dir = Path(out) if out is not None else None
    if out_dir is not None:
        _prepare(out_dir, resume=resume, force=force)
    lo, hi = np.zeros(d), np.ones(d)
    tables: list[pd.DataFrame] = []
    best_flags: list[bool] = []
    # Without ``out`` the waves' design-point CSVs go to a temporary folder, removed afterwards.
    folder = (
        contextlib.nullcontext(str(out_dir))
        if out_dir is not None
        else tempfile.TemporaryDirectory(prefix="safsim-calibration-")
    )
    with folder as wave_root:
        for wave in range(1, n_waves + 1):
            u = qmc.LatinHypercube(d=d, seed=np.random.default_rng([m.seed, wave])).random(n_points)
            theta = _from_unit(priors, lo + u * (hi - lo))
            table = _evaluate_wave(
                setup,
                wave,
                theta,
                replicates=reps,
                out=out_dir,
                folder=Path(wave_root),
                workers=workers,
                backend=backend,
                resume=resume,
                force=force,
                progress=progress,
                log=log,
            )
            tables.append(table)
            n_ok = int(table["nroy"].sum())
            log(f"wave {wave}: {n_ok} of {len(table)} points not ruled out (largest implausibility <= {m.cutoff:g})")
            lo, hi, best = _wave_box(table, priors)
            best_flags.append(best)
    pts = pd.concat(tables, ignore_index=True)
    screen = None
    if n_screen > 0:
        candidates = screen_candidates(pts, n_screen)
        screen = _earlier_screen(out_dir, setup, candidates) if resume else None
        if screen is None:
            log(f"facts screen: judging the {len(candidates)} least implausible points against the stylized facts")
            screen = _facts_screen(setup, candidates, workers=workers, log=log, progress=progress)
        else:
            log(f"facts screen: the verdicts of the earlier run in {out_dir} are reused")
        row = candidates.iloc[int(screen.index[screen["chosen"]][0])]
    else:
        row = screen_candidates(pts, 1).iloc[0]
    chosen = {p.name: float(row[p.name]) for p in priors}
    overrides = {name: point_overrides(setup, name, chosen) for name in setup.experiments}
    log(f"checking the chosen point with {n_check} fresh runs per experiment")
    fit = fit_table(setup, overrides, n=n_check, workers=_pool_size(workers))
    result = CalibrationResult(
        setup=setup,
        points=pts,
        chosen=chosen,
        overrides=overrides,
        fit=fit,
        refocused_on_best=tuple(best_flags),
        out=out_dir,
        wall_time_s=time.perf_counter() - t0,
        screen=screen,
    )
    if out_dir is not None:
        write_calibration(result, out_dir)
    return result


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------

_OWN = (
    "points.csv",
    "posterior.csv",
    "fit.csv",
    "facts_screen.csv",
    "calibrated.yaml",
    "report.md",
    "manifest.json",
)


def _prepare(out: Path, *, resume: bool, force: bool) -> None:
    if not out.exists() or not any(out.iterdir()):
        out.mkdir(parents=True, exist_ok=True)
        return
    # A finished calibration has its manifest; an interrupted one has only wave sweeps so far.
    finished = (out / "manifest.json").is_file() and "safsim-calibration" in (out / "manifest.json").read_text()
    mine = finished or any(out.glob("wave-*/*/manifest.json"))
    if resume and mine:
        return
    if not force:
        raise ScenarioError(
            f"{out} already holds files; use --resume to continue a calibration there or --force to replace it"
        )
    import shutil

    for name in _OWN:
        (out / name).unlink(missing_ok=True)
    for wave_dir in out.glob("wave-*"):
        shutil.rmtree(wave_dir)


def calibrated_yaml(result: CalibrationResult) -> str:
    """The chosen values as a scenario fragment (the overrides shared by the experiments)."""
    tree: dict[str, Any] = {}
    for path, value in sorted(shared_overrides(result.overrides).items()):
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = round(value, 6) if isinstance(value, float) else value
    head = (
        "# Calibrated values found by `safsim calibrate` (history matching against the targets file).\n"
        "# Every value is a scenario setting; see docs/calibration.md for the method and the fit.\n"
    )
    return head + yaml.safe_dump(tree, sort_keys=True)


def _report(result: CalibrationResult) -> str:
    pts = result.points
    lines = [
        "# Calibration report",
        "",
        f"Set-up: `{Path(result.setup.source).name}`; targets: `{Path(result.setup.targets_file.source).name}`.",
        f"Waves: {pts['wave'].nunique()}; points per wave: {int((pts['wave'] == 1).sum())}; "
        f"NROY points per wave: "
        + ", ".join(str(int(pts[pts["wave"] == w]["nroy"].sum())) for w in sorted(pts["wave"].unique()))
        + f" (cutoff {result.setup.method.cutoff:g}).",
        "",
        "## Posterior region",
        "",
        _md_table(result.posterior()),
        "",
        *_screen_section(result),
        "## Fit of the chosen point (fresh seeds)",
        "",
        _md_table(result.fit),
        "",
    ]
    if any(result.refocused_on_best):
        lines += [
            "Note: in at least one wave fewer than d + 1 points were not ruled out, so the next "
            "wave sampled around the best 10% of points instead.",
            "",
        ]
    return "\n".join(lines)


def _screen_section(result: CalibrationResult) -> list[str]:
    if result.screen is None:
        return []
    m = result.setup.method
    return [
        "## Facts screen",
        "",
        f"The {len(result.screen)} least implausible points, each judged against the stylized facts "
        f"({m.facts_replicates} replicates per arm, by the direction of every criterion's estimate); "
        "the chosen point is the NROY candidate (any candidate when none is NROY) keeping the most "
        "emergent facts, ties broken by the smallest I_max.",
        "",
        _md_table(result.screen),
        "",
    ]


def _md_table(df: pd.DataFrame) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return "" if not np.isfinite(v) else f"{v:.4g}"
        return str(v).replace("|", "\\|")

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False, name=None)]
    return "\n".join([head, rule, *body])


def write_calibration(result: CalibrationResult, out: Path) -> None:
    """points.csv, posterior.csv, fit.csv, calibrated.yaml, report.md and manifest.json (last),
    all or nothing (``safsim.util.write_directory``); the wave sweeps are already in place."""
    from safsim.util import write_directory

    setup_path = Path(result.setup.source)
    manifest = {
        "format": "safsim-calibration/1",
        "setup": result.setup.source,
        "setup_text": setup_path.read_text(encoding="utf-8") if setup_path.is_file() else "",
        "targets": result.setup.targets_file.source,
        "targets_text": Path(result.setup.targets_file.source).read_text(encoding="utf-8"),
        "facts_digest": facts_digest(result.setup),
        "chosen": result.chosen,
        "overrides": result.overrides,
        "wall_time_s": result.wall_time_s,
    }
    texts = {
        "points.csv": result.points.to_csv(index=False),
        "posterior.csv": result.posterior().to_csv(index=False),
        "fit.csv": result.fit.to_csv(index=False),
        **({} if result.screen is None else {"facts_screen.csv": result.screen.to_csv(index=False)}),
        "calibrated.yaml": calibrated_yaml(result),
        "report.md": _report(result),
        "manifest.json": json.dumps(manifest, indent=2, default=str),
    }

    def write(tmp: Path) -> list[str]:
        for name, text in texts.items():
            (tmp / name).write_text(text, encoding="utf-8")
        return list(texts)

    write_directory(out, write, own=_OWN, existing="merge")
