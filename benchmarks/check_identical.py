"""Check that two revisions of the model give bit-identical runs (not a speed benchmark).

Usage:
    python benchmarks/check_identical.py record OUT.pkl [--runs N]
    python benchmarks/check_identical.py compare BEFORE.pkl AFTER.pkl

``record`` runs every bundled scenario, plus the baseline with many small lots, for N seeds
with the award log on and stores outcomes, time series and award logs; ``compare`` reports
every run whose tables differ in any value (exact comparison, no tolerance).  Used to show that
a speed change (e.g. the compiled tender kernels, ``safsim.kernels``) changes no draw and no
decision.
"""

from __future__ import annotations

import argparse
import pickle

import pandas as pd

from safsim import load_scenario, run_scenario
from safsim.runner import child_seeds

CASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("baseline", ()),
    ("austerity", ()),
    ("codesign", ()),
    ("high_sv_weight", ()),
    ("case_a", ()),
    ("case_b", ()),
    ("case_c", ()),
    ("grant_shift", ()),
    ("baseline", ("commissioners.max_lot_gbp=50000",)),
)


def record(path: str, runs: int) -> None:
    out = {}
    for name, overrides in CASES:
        scenario = load_scenario(name, list(overrides))
        for seed in child_seeds(scenario.seed, runs):
            r = run_scenario(scenario, seed, record_awards=True)
            out[(name, overrides, seed)] = (r.outcomes, r.timeseries, r.authorities, r.awards)
    with open(path, "wb") as f:
        pickle.dump(out, f)
    print(f"recorded {len(out)} runs to {path}")


def _same(a, b) -> bool:
    if isinstance(a, pd.DataFrame):
        return a.equals(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(
            (x == y) or (x != x and y != y) for x, y in zip(a.values(), b.values(), strict=True)
        )
    return a == b


def compare(before: str, after: str) -> int:
    with open(before, "rb") as f:
        a = pickle.load(f)
    with open(after, "rb") as f:
        b = pickle.load(f)
    bad = [k for k in a if k not in b or not all(_same(x, y) for x, y in zip(a[k], b[k], strict=True))]
    print(f"{len(a)} runs compared, {len(bad)} differ")
    for k in bad[:10]:
        print("  differs:", k)
    return 1 if bad else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("out")
    r.add_argument("--runs", type=int, default=5)
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    args = ap.parse_args()
    if args.cmd == "record":
        record(args.out, args.runs)
    else:
        raise SystemExit(compare(args.before, args.after))


if __name__ == "__main__":
    main()
