"""Scenario discovery: lever ranges that make a condition on the outcomes likely (PRIM, EMA Workbench).

Objects:
    DiscoveryError: a discovery that cannot run (bad expression, unknown outcome, no sweep); one line.
    Condition: a parsed ``--where`` expression; ``evaluate(table)`` gives a boolean per row.
    parse_condition(text, known=None) -> Condition: parse an expression safely (never ``eval``).
    Box: one PRIM box: its restricted factors' limits, coverage, density, mass, size.
    DiscoveryResult: the boxes, the boxes.csv table, the peeling trajectories, the condition.
    find_boxes(x, y, threshold, ...) -> (list[Box], list[DataFrame]): PRIM on factors x and boolean y.
    run_discovery(sweep_dir, where, ...) -> DiscoveryResult: read a sweep, find and write the boxes.
    plot_trajectory(trajectories, boxes, threshold, path) -> Figure: the peeling trajectory plot.
    BOX_COLUMNS: the columns of boxes.csv.

The ``--where`` grammar (whitespace between tokens is free)::

    expr       := conjunction ("or" conjunction)*
    conjunction:= term ("and" term)*
    term       := "(" expr ")" | NAME OP NUMBER
    OP         := "<" | "<=" | ">" | ">=" | "==" | "!="

``and`` binds tighter than ``or``; a NAME is an outcome recorded in the sweep; a comparison with a
missing value (a run that failed, an undefined outcome) is false.

PRIM (Friedman and Fisher 1999) peels the box of all design points a little (``peel_alpha``) at a
time along the factor that raises the density of the condition most, down to ``mass_min`` of the
points, then pastes back.  On each box's peeling trajectory the box reported is the one with the
largest coverage (share of all cases of interest inside it) among those whose density (share of
the points inside it meeting the condition) reaches ``threshold``, the densest of those on a tie.  Further boxes are sought on the
points outside the earlier boxes, up to ``max_boxes``, while one reaches the threshold.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import math
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "BOX_COLUMNS",
    "Box",
    "Condition",
    "DiscoveryError",
    "DiscoveryResult",
    "find_boxes",
    "parse_condition",
    "plot_trajectory",
    "run_discovery",
]

BOX_COLUMNS = ["box", "factor", "low", "high", "values", "coverage", "density", "mass", "n", "k"]
_ID_COLUMNS = ("run_id", "design_point", "replicate", "seed")


class DiscoveryError(ValueError):
    """A scenario discovery that cannot run; ``str()`` is a one-line message."""


# --------------------------------------------------------------------------------------
# The --where expression
# --------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<op><=|>=|==|!=|<|>)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<paren>[()]))"
)
_OPS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


@dataclass(frozen=True)
class Condition:
    """A parsed condition: a tree of comparisons combined with ``and``/``or``.

    Attributes:
        node: ``("cmp", name, op, number)`` or ``("and" | "or", left, right)``.
        text: the expression as given.
    """

    node: tuple[Any, ...]
    text: str

    @property
    def names(self) -> list[str]:
        """The outcome names the condition reads, in order of appearance."""
        found: list[str] = []

        def walk(n: tuple[Any, ...]) -> None:
            if n[0] == "cmp":
                if n[1] not in found:
                    found.append(n[1])
            else:
                walk(n[1])
                walk(n[2])

        walk(self.node)
        return found

    def evaluate(self, table: pd.DataFrame) -> pd.Series:
        """Whether each row of ``table`` (with the named columns) meets the condition."""

        def ev(n: tuple[Any, ...]) -> np.ndarray:
            if n[0] == "cmp":
                values = table[n[1]].to_numpy(dtype=float)
                with np.errstate(invalid="ignore"):
                    return np.isfinite(values) & _OPS[n[2]](values, n[3])
            left, right = ev(n[1]), ev(n[2])
            return (left & right) if n[0] == "and" else (left | right)

        return pd.Series(ev(self.node), index=table.index, dtype=bool)

    def __str__(self) -> str:
        return self.text


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            bad = text[pos:].lstrip()
            raise DiscoveryError(f"bad --where expression {text!r}: unexpected {bad[:12]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


def parse_condition(text: str, known: Iterable[str] | None = None) -> Condition:
    """Parse a ``--where`` expression such as ``survival_sme_vso > 0.9 and hhi < 0.2``.

    Args:
        text: the expression (see the module docstring for the grammar).
        known: the outcome names allowed (default: every outcome of ``safsim.metrics.ALL_OUTCOMES``).

    Returns:
        The Condition.

    Raises:
        DiscoveryError: the expression does not parse, or names an unknown outcome (one line).
    """
    from safsim.metrics import ALL_OUTCOMES

    allowed = list(known) if known is not None else list(ALL_OUTCOMES)
    if not isinstance(text, str) or not text.strip():
        raise DiscoveryError("empty --where expression (e.g. --where 'survival_sme_vso > 0.9')")
    toks = _tokens(text)
    i = 0

    def bad(msg: str) -> DiscoveryError:
        return DiscoveryError(f"bad --where expression {text.strip()!r}: {msg}")

    def peek() -> tuple[str, str, int] | None:
        return toks[i] if i < len(toks) else None

    def take() -> tuple[str, str, int]:
        nonlocal i
        if i >= len(toks):
            raise bad("it ends too early")
        i += 1
        return toks[i - 1]

    def is_word(tok: tuple[str, str, int] | None, word: str) -> bool:
        return tok is not None and tok[0] == "name" and tok[1].lower() == word

    def expr() -> tuple[Any, ...]:
        node = conj()
        while is_word(peek(), "or"):
            take()
            node = ("or", node, conj())
        return node

    def conj() -> tuple[Any, ...]:
        node = term()
        while is_word(peek(), "and"):
            take()
            node = ("and", node, term())
        return node

    def term() -> tuple[Any, ...]:
        kind, value, _ = take()
        if kind == "paren" and value == "(":
            node = expr()
            close = take()
            if close[:2] != ("paren", ")"):
                raise bad(f"expected ')' but found {close[1]!r}")
            return node
        if kind != "name" or value.lower() in ("and", "or"):
            raise bad(f"expected an outcome name but found {value!r}")
        if value not in allowed:
            close_names = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
            hint = f" (did you mean {close_names[0]!r}?)" if close_names else " (see docs/outputs.md)"
            raise DiscoveryError(f"unknown outcome {value!r} in --where{hint}")
        op = take()
        if op[0] != "op":
            raise bad(f"expected a comparison (<, <=, >, >=, ==, !=) after {value!r} but found {op[1]!r}")
        num = take()
        if num[0] != "num":
            raise bad(f"expected a number after {value} {op[1]} but found {num[1]!r}")
        number = float(num[1])
        if not math.isfinite(number):
            raise bad(f"{num[1]!r} is not a finite number")
        return ("cmp", value, op[1], number)

    node = expr()
    if i != len(toks):
        raise bad(f"unexpected {toks[i][1]!r} (combine comparisons with 'and' / 'or')")
    return Condition(node=node, text=text.strip())


# --------------------------------------------------------------------------------------
# PRIM
# --------------------------------------------------------------------------------------


def _prim_module() -> Any:
    # Importing ema_workbench warns "ipyparallel not installed - IpyparalleEvaluator not
    # available" (a UserWarning from its em_framework); that optional evaluator is not used here,
    # and under warnings-as-errors (the test suite) the import would fail, so exactly that warning
    # is silenced for the import.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ipyparallel not installed", category=UserWarning)
        from ema_workbench.analysis import prim, scenario_discovery_util

    return prim, scenario_discovery_util


@contextlib.contextmanager
def _quiet_ema_pandas() -> Iterator[None]:
    # EMA Workbench 2.5's PRIM calls pandas in ways pandas 3 deprecates (``drop(inplace=True)``);
    # those deprecation warnings are attributed to ema_workbench's own modules and are silenced
    # only there, only while PRIM runs.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ema_workbench\.")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"ema_workbench\.")
        yield


@dataclass(frozen=True)
class Box:
    """One PRIM box.

    Attributes:
        box: the box number (1 = the first found).
        limits: restricted factors only: factor -> (low, high) for numbers, or the tuple of values
            kept for a factor of categories.
        coverage: share of all the points meeting the condition that lie in the box.
        density: share of the points in the box meeting the condition.
        mass: share of all points in the box.
        n: points in the box.
        k: points in the box meeting the condition.
        trajectory_index: the selected entry of the box's peeling trajectory.
    """

    box: int
    limits: dict[str, Any] = field(default_factory=dict)
    coverage: float = float("nan")
    density: float = float("nan")
    mass: float = float("nan")
    n: int = 0
    k: int = 0
    trajectory_index: int = 0


def _limits(box_lim: pd.DataFrame, box_init: pd.DataFrame, sdutil: Any) -> dict[str, Any]:
    dims = sdutil._determine_restricted_dims(box_lim, box_init)
    out: dict[str, Any] = {}
    for name in dims:
        low, high = box_lim[name].iloc[0], box_lim[name].iloc[1]
        if isinstance(low, set):
            out[str(name)] = tuple(sorted(low, key=str))
        else:
            out[str(name)] = (float(low), float(high))
    return out


def find_boxes(
    x: pd.DataFrame,
    y: Sequence[bool] | np.ndarray | pd.Series,
    threshold: float = 0.8,
    *,
    max_boxes: int = 3,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> tuple[list[Box], list[pd.DataFrame]]:
    """PRIM boxes in which the condition ``y`` is likely.

    Args:
        x: the factors, one column each (numbers, or text/bools treated as categories).
        y: whether each row meets the condition.
        threshold: the density a reported box must reach.
        max_boxes: the most boxes to report.
        peel_alpha: share of the points peeled at each step.
        paste_alpha: share of the points pasted back at each step.
        mass_min: the smallest box, as a share of the points.

    Returns:
        (boxes, trajectories): the boxes reaching the threshold, and the peeling trajectory
        (coverage, density, mass, res_dim, n, k per step) of every box PRIM peeled, the last one
        possibly not reaching the threshold.

    Raises:
        DiscoveryError: the condition holds for no row or for every row.
    """
    prim, sdutil = _prim_module()
    yb = np.asarray(y, dtype=bool)
    if len(yb) != len(x):
        raise DiscoveryError(f"{len(yb)} condition values for {len(x)} design rows")
    if not yb.any() or yb.all():
        which = "no" if not yb.any() else "every"
        raise DiscoveryError(f"the condition holds for {which} one of the {len(yb)} cases; nothing to discover")
    xx = x.reset_index(drop=True).copy()
    for col in xx.columns:
        if xx[col].dtype == bool:
            xx[col] = xx[col].astype(str)
        elif xx[col].dtype.kind in "iu":
            xx[col] = xx[col].astype("int64")
        elif xx[col].dtype.kind == "f":
            xx[col] = xx[col].astype("float64")
    # PRIM's own threshold only decides whether the last box of a peel is kept; for a 0/1 y its
    # cases of interest are the 1s for any threshold in (0, 1].  The box reported is chosen on
    # the whole trajectory below, so PRIM keeps every box it peels.
    with _quiet_ema_pandas():
        alg = prim.Prim(
            xx,
            yb.astype(int),
            threshold=1e-9,
            peel_alpha=peel_alpha,
            paste_alpha=paste_alpha,
            mass_min=mass_min,
        )
    boxes: list[Box] = []
    trajectories: list[pd.DataFrame] = []
    for number in range(1, int(max_boxes) + 1):
        with _quiet_ema_pandas():
            found = alg.find_box()
        if found is None:
            break
        traj = found.peeling_trajectory.reset_index(drop=True)
        trajectories.append(traj)
        ok = traj.index[traj["density"] >= threshold - 1e-12]
        if len(ok) == 0:
            break
        cand = traj.loc[ok].astype({"coverage": float, "density": float})
        best = int(cand.sort_values(["coverage", "density"], ascending=False, kind="stable").index[0])
        with _quiet_ema_pandas():
            found.select(best)
        row = traj.loc[best]
        boxes.append(
            Box(
                box=number,
                limits=_limits(found.box_lims[best], alg.box_init, sdutil),
                coverage=float(row["coverage"]),
                density=float(row["density"]),
                mass=float(row["mass"]),
                n=int(row["n"]),
                k=int(row["k"]),
                trajectory_index=best,
            )
        )
    return boxes, trajectories


def _box_table(boxes: Sequence[Box]) -> pd.DataFrame:
    rows = []
    for b in boxes:
        stats = {"coverage": b.coverage, "density": b.density, "mass": b.mass, "n": b.n, "k": b.k}
        if not b.limits:
            rows.append({"box": b.box, "factor": "", "low": np.nan, "high": np.nan, "values": ""} | stats)
        for name, lim in b.limits.items():
            if len(lim) == 2 and all(isinstance(v, float) for v in lim):
                rows.append({"box": b.box, "factor": name, "low": lim[0], "high": lim[1], "values": ""} | stats)
            else:
                text = json.dumps([str(v) for v in lim])
                rows.append({"box": b.box, "factor": name, "low": np.nan, "high": np.nan, "values": text} | stats)
    return pd.DataFrame(rows, columns=BOX_COLUMNS)


def plot_trajectory(
    trajectories: Sequence[pd.DataFrame],
    boxes: Sequence[Box],
    threshold: float,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """The peeling trajectories: density against coverage, one line per box, the selected boxes marked."""
    from safsim.plotting import _finish, _new_figure

    fig = _new_figure(6.0, 4.4)
    ax = fig.subplots()
    chosen = {b.box: b for b in boxes}
    for k, traj in enumerate(trajectories, start=1):
        ax.plot(traj["coverage"], traj["density"], marker="o", markersize=3, linewidth=1, label=f"box {k}")
        sc = ax.scatter(traj["coverage"], traj["density"], c=traj["res_dim"].astype(float), cmap="viridis", s=14,
                        zorder=3, vmin=0)  # fmt: skip
        if k in chosen:
            b = chosen[k]
            ax.scatter([b.coverage], [b.density], s=120, facecolors="none", edgecolors="red", zorder=4)
            ax.annotate(f"box {k}: {len(b.limits)} factor(s)", (b.coverage, b.density), textcoords="offset points",
                        xytext=(6, -12), fontsize=8, color="red")  # fmt: skip
    if trajectories:
        fig.colorbar(sc, ax=ax, label="restricted factors")
    ax.axhline(threshold, color="0.5", linestyle="--", linewidth=0.8, label=f"threshold {threshold:g}")
    ax.set_xlabel("coverage (share of the cases of interest in the box)")
    ax.set_ylabel("density (share of the box meeting the condition)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title("PRIM peeling trajectory", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    return _finish(fig, path)


# --------------------------------------------------------------------------------------
# A sweep's results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscoveryResult:
    """The result of ``run_discovery``.

    Attributes:
        condition: the parsed condition.
        per: ``run`` (one case per run) or ``point`` (one case per design point).
        base_rate: share of the cases meeting the condition.
        boxes: the boxes found.
        table: boxes.csv: one row per box and restricted factor (``BOX_COLUMNS``).
        trajectories: the peeling trajectory of every box peeled.
        out: the directory written (boxes.csv, prim_trajectory.png), or None.
    """

    condition: Condition
    per: str
    base_rate: float
    boxes: list[Box]
    table: pd.DataFrame
    trajectories: list[pd.DataFrame]
    out: Path | None


def _read_sweep(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs_file, design_file = folder / "runs.parquet", folder / "design.parquet"
    if not folder.is_dir():
        raise DiscoveryError(f"{folder}: no such sweep directory")
    if not runs_file.is_file() or not design_file.is_file():
        raise DiscoveryError(f"{folder}: not a finished sweep (no runs.parquet and design.parquet; see safsim sweep)")
    return pd.read_parquet(runs_file), pd.read_parquet(design_file)


def run_discovery(
    sweep_dir: str | os.PathLike[str],
    where: str,
    *,
    threshold: float = 0.8,
    per: str = "run",
    out: str | os.PathLike[str] | None = None,
    max_boxes: int = 3,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> DiscoveryResult:
    """Find the factor ranges of a sweep in which a condition on the outcomes is likely.

    Args:
        sweep_dir: a sweep's results directory (runs.parquet, design.parquet).
        where: the condition, e.g. ``"survival_sme_vso > 0.9"`` (see ``parse_condition``).
        threshold: the density a reported box must reach.
        per: ``run`` (every run is a case) or ``point`` (a design point is a case, meeting the
            condition when at least half of its replicates do).
        out: write boxes.csv and prim_trajectory.png here (default: ``sweep_dir/discovery``).
        max_boxes: the most boxes to report.
        peel_alpha: share of the points peeled at each step.
        mass_min: the smallest box, as a share of the points.

    Returns:
        The DiscoveryResult.

    Raises:
        DiscoveryError: no sweep, a bad expression or threshold, an unknown or unrecorded outcome,
            or a condition that holds for no case or for every case.
    """
    if not 0 < float(threshold) <= 1:
        raise DiscoveryError(f"--threshold must be in (0, 1], got {threshold:g}")
    if per not in ("run", "point"):
        raise DiscoveryError(f"per must be 'run' or 'point', got {per!r}")
    folder = Path(sweep_dir)
    runs, design = _read_sweep(folder)
    factors = [c for c in design.columns if c != "design_point"]
    if not factors:
        raise DiscoveryError(f"{folder}: the design has no factor columns")
    recorded = [c for c in runs.columns if c not in _ID_COLUMNS and c not in factors]
    from safsim.metrics import ALL_OUTCOMES

    try:
        condition = parse_condition(where, recorded)
    except DiscoveryError as exc:
        name = next((n for n in ALL_OUTCOMES if f"unknown outcome {n!r}" in str(exc)), None)
        if name is not None:
            raise DiscoveryError(
                f"outcome {name!r} was not recorded in this sweep (recorded: {', '.join(recorded)})"
            ) from None
        raise
    hits = condition.evaluate(runs)
    if per == "run":
        x = runs[factors]
        y = hits.to_numpy()
    else:
        share = hits.groupby(runs["design_point"]).mean()
        table = design.set_index("design_point").loc[share.index]
        x = table[factors].reset_index(drop=True)
        y = (share >= 0.5).to_numpy()
    boxes, trajectories = find_boxes(x, y, threshold, max_boxes=max_boxes, peel_alpha=peel_alpha, mass_min=mass_min)
    box_table = _box_table(boxes)
    out_dir = Path(out) if out is not None else folder / "discovery"
    out_dir.mkdir(parents=True, exist_ok=True)
    box_table.to_csv(out_dir / "boxes.csv", index=False)
    plot_trajectory(trajectories, boxes, float(threshold), out_dir / "prim_trajectory.png")
    return DiscoveryResult(
        condition=condition,
        per=per,
        base_rate=float(np.mean(y)),
        boxes=boxes,
        table=box_table,
        trajectories=trajectories,
        out=out_dir,
    )
