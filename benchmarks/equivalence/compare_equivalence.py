"""Equivalence check: are the headline outcomes of the current code distributed as before?

Usage:
    python benchmarks/equivalence/compare_equivalence.py [--runs N] [--workers W] [--out DIR]
        [--before-dir DIR] [--seed SEED] [--boot B]

Reruns ``--runs`` (default 200) replicates of the bundled ``baseline`` and ``austerity``
scenarios from root seed 20261123 on ``--workers`` (default 2) processes, reads the runs tables
recorded before the fast-core rewrite (``before_baseline.csv``, ``before_austerity.csv`` in
``--before-dir``, default this folder) and, per scenario and headline outcome
(``safsim.metrics.HEADLINE_OUTCOMES``), compares the two samples: Mann-Whitney U and two-sample
Kolmogorov-Smirnov p-values and the difference in means (after - before) with a 95% bootstrap
interval.  Prints a Markdown table whose verdict is "indistinguishable" when both p-values are
at least 0.05 after a Holm correction over all p-values of the table, else "differs", then a
one-line count.  ``--out DIR`` saves the new tables as after_baseline.csv and
after_austerity.csv.  The samples may differ in size.  Nothing here is asserted in the test
suite (tests/test_equivalence_script.py tests ``compare`` and ``add_verdicts``).

Objects:
    compare(before, after, outcomes, rng, n_boot): one row of statistics per outcome.
    holm(p): Holm-Bonferroni adjusted p-values.
    add_verdicts(table, alpha): Holm-adjusted p-values and the verdict of every row.
    markdown(table): the table as Markdown.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HERE = Path(__file__).resolve().parent
SCENARIOS = ("baseline", "austerity")
ROOT_SEED = 20261123
ALPHA = 0.05


def _sample(df: pd.DataFrame, name: str) -> np.ndarray:
    x = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
    return x[np.isfinite(x)]


def _tests(b: np.ndarray, a: np.ndarray) -> tuple[float, float]:
    """Two-sided Mann-Whitney U and Kolmogorov-Smirnov p-values (1.0 for equal constants)."""
    if b.size == 0 or a.size == 0:
        return float("nan"), float("nan")
    both = np.concatenate([b, a])
    if np.all(both == both[0]):  # every value equal: the tests are undefined, the samples are not
        return 1.0, 1.0
    mw = stats.mannwhitneyu(a, b, alternative="two-sided").pvalue
    ks = stats.ks_2samp(a, b).pvalue
    return float(mw), float(ks)


def compare(
    before: pd.DataFrame,
    after: pd.DataFrame,
    outcomes: Sequence[str],
    rng: np.random.Generator,
    n_boot: int = 2000,
) -> pd.DataFrame:
    """Per outcome, the two samples' sizes and means, the difference in means with a 95%
    percentile bootstrap interval, and the Mann-Whitney U and Kolmogorov-Smirnov p-values.

    Args:
        before: runs table recorded before the change (one row per run).
        after: runs table of the current code (any number of rows).
        outcomes: columns of both tables to compare (NaNs are dropped per sample).
        rng: the generator of the bootstrap resamples (each sample resampled independently).
        n_boot: bootstrap resamples.

    Returns:
        Columns outcome, n_before, n_after, mean_before, mean_after, diff, ci_low, ci_high,
        mw_p, ks_p (unadjusted p-values; see ``add_verdicts``).
    """
    rows = []
    for name in outcomes:
        b, a = _sample(before, name), _sample(after, name)
        mw_p, ks_p = _tests(b, a)
        row = {"outcome": name, "n_before": b.size, "n_after": a.size}
        if b.size and a.size:
            boot_b = b[rng.integers(0, b.size, size=(n_boot, b.size))].mean(axis=1)
            boot_a = a[rng.integers(0, a.size, size=(n_boot, a.size))].mean(axis=1)
            lo, hi = np.quantile(boot_a - boot_b, [0.025, 0.975])
            row |= {"mean_before": b.mean(), "mean_after": a.mean(), "diff": a.mean() - b.mean()}
            row |= {"ci_low": float(lo), "ci_high": float(hi)}
        else:
            row |= dict.fromkeys(["mean_before", "mean_after", "diff", "ci_low", "ci_high"], float("nan"))
        rows.append(row | {"mw_p": mw_p, "ks_p": ks_p})
    return pd.DataFrame(rows)


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaNs stay NaN and do not count in the family)."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    m = order.size
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def add_verdicts(table: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """Add mw_p_holm, ks_p_holm and verdict; the Holm family is every p-value of ``table``.

    The verdict is "indistinguishable" when both adjusted p-values are at least ``alpha``,
    "differs" when either is below it, and "n/a" when an outcome has no finite values.
    """
    out = table.copy()
    adjusted = holm(np.concatenate([out["mw_p"].to_numpy(float), out["ks_p"].to_numpy(float)]))
    out["mw_p_holm"] = adjusted[: len(out)]
    out["ks_p_holm"] = adjusted[len(out) :]
    ok = out[["mw_p_holm", "ks_p_holm"]].notna().all(axis=1)
    same = (out["mw_p_holm"] >= alpha) & (out["ks_p_holm"] >= alpha)
    out["verdict"] = np.where(~ok, "n/a", np.where(same, "indistinguishable", "differs"))
    return out


def _num(x: float) -> str:
    return "nan" if not np.isfinite(x) else f"{x:.4g}"


def _p(x: float) -> str:
    return "nan" if not np.isfinite(x) else (f"{x:.3f}" if x >= 0.001 else f"{x:.1e}")


def markdown(table: pd.DataFrame) -> str:
    """The verdict table as Markdown (Holm-adjusted p-values; unadjusted in brackets)."""
    lines = [
        "| scenario | outcome | mean before | mean after | difference [95% CI] | MW p (raw) | KS p (raw) | verdict |",
        "|---|---|---:|---:|---|---:|---:|---|",
    ]
    for r in table.itertuples(index=False):
        lines.append(
            f"| {r.scenario} | {r.outcome} | {_num(r.mean_before)} | {_num(r.mean_after)} | "
            f"{_num(r.diff)} [{_num(r.ci_low)}, {_num(r.ci_high)}] | {_p(r.mw_p_holm)} ({_p(r.mw_p)}) | "
            f"{_p(r.ks_p_holm)} ({_p(r.ks_p)}) | {r.verdict} |"
        )
    return "\n".join(lines)


def main() -> None:
    from safsim import load_scenario, run_replicates
    from safsim.metrics import HEADLINE_OUTCOMES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=ROOT_SEED, help="root seed of the replicates")
    ap.add_argument("--boot", type=int, default=2000, help="bootstrap resamples")
    ap.add_argument("--out", type=Path, default=None, help="save after_<scenario>.csv here")
    ap.add_argument("--before-dir", type=Path, default=HERE)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    parts = []
    for name in SCENARIOS:
        before = pd.read_csv(args.before_dir / f"before_{name}.csv")
        after = run_replicates(load_scenario(name), n=args.runs, seed=args.seed, workers=args.workers).runs
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            after.to_csv(args.out / f"after_{name}.csv", index=False)
        outcomes = [o for o in HEADLINE_OUTCOMES if o in before.columns and o in after.columns]
        missing = sorted(set(HEADLINE_OUTCOMES) - set(outcomes))
        if missing:
            print(f"{name}: not in both tables, skipped: {', '.join(missing)}")
        part = compare(before, after, outcomes, rng, n_boot=args.boot)
        part.insert(0, "scenario", name)
        parts.append(part)
    table = add_verdicts(pd.concat(parts, ignore_index=True))
    sizes = ", ".join(f"{p['scenario'].iloc[0]} {p['n_before'].max()} vs {p['n_after'].max()}" for p in parts)
    print(f"runs before vs after: {sizes}; root seed {args.seed}; {args.boot} bootstrap resamples\n")
    print(markdown(table))
    n_diff = int((table["verdict"] == "differs").sum())
    print(
        f"\n{n_diff} of {len(table)} scenario-outcome comparisons differ "
        f"(Mann-Whitney U or Kolmogorov-Smirnov p < {ALPHA} after Holm correction over {2 * len(table)} p-values)."
    )


if __name__ == "__main__":
    main()
