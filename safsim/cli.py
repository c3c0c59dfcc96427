"""The ``safsim`` command line: parses arguments, calls the API, maps errors to exit codes.

Objects:
    main(argv): entry point of the ``safsim`` console script; returns the exit status.
    build_parser(): the argparse parser (subcommands ``run``, ``compare``, ``report``, ``sweep``, ``check``, ``schema``,
        ``list``, ``validate``, ``calibrate``, ``sensitivity``, ``discover``, ``dashboard``).
    format_value(outcome, x): how the summary table prints one outcome value (from safsim.outcomes).
    EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_INTERRUPTED: the exit statuses.

Exit statuses: 0 success; 2 bad input (a scenario that does not load, bad arguments, an
unusable ``--out``), reported as one line on stderr with no traceback and nothing written;
1 an unexpected internal error (one line, plus the traceback when ``SAFSIM_DEBUG=1``);
130 interrupted (Ctrl-C), with nothing half-written.  Output piped into a reader that stops
early (``safsim list | head -3``) ends quietly with status 0.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from safsim.config import Scenario
    from safsim.experiments.replicates import Results

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "build_parser",
    "format_value",
    "main",
]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

DEFAULT_SCENARIO = "baseline"
MAX_SEED = 2**63 - 1


class BadInput(Exception):
    """A user error that maps to exit status 2; ``str()`` is the one-line message."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --------------------------------------------------------------------------------------
# Argument types
# --------------------------------------------------------------------------------------


def _int_at_least(low: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{what} must be at least {low}, got {value}")
        return value

    return parse


def _add_workers(parser: argparse.ArgumentParser, default: int | None) -> None:
    """The ``--workers K`` option (default 1, or None: the number of CPUs)."""
    what = "default 1" if default == 1 else "default: the number of CPUs"
    parser.add_argument(
        "--workers",
        type=_int_at_least(1, "--workers"),
        default=default,
        metavar="K",
        help=f"worker processes ({what}); results do not depend on this",
    )


def _add_output_options(
    parser: argparse.ArgumentParser, *, out: str, force: str, quiet: str, resume: str | None = None
) -> None:
    """``--out DIR``, ``--resume`` (only when ``resume`` help is given), ``--force`` and ``-q/--quiet``.

    The help texts are the command's own: what goes into ``--out``, what ``--force`` replaces and
    what ``--quiet`` still prints differ from one command to the next.
    """
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help=out)
    if resume is not None:
        parser.add_argument("--resume", action="store_true", help=resume)
    parser.add_argument("--force", action="store_true", help=force)
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed must be an integer, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"a seed must be between 0 and 2**63-1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``safsim`` argument parser."""
    parser = _Parser(
        prog="safsim",
        description="Agent-based simulation of public-service commissioning for social value.",
    )
    parser.add_argument("--version", action="version", version=f"safsim {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    run = sub.add_parser(
        "run",
        help="run replicates of a scenario and write tables, a manifest and plots",
        description=(
            "Run a scenario (a YAML file or a bundled name; default: baseline) N times from one "
            "root seed. Prints the median and 90% interval of every outcome and writes "
            "runs.csv, timeseries.csv, authorities.csv, summary.csv, manifest.json and plots/*.png "
            "to the output directory. An output directory that already holds files is refused "
            "unless --force is given."
        ),
    )
    run.add_argument(
        "scenario",
        nargs="?",
        default=None,
        metavar="SCENARIO",
        help="scenario YAML file or bundled scenario name (default: baseline)",
    )
    run.add_argument(
        "-n",
        "--replicates",
        type=_int_at_least(1, "-n"),
        default=None,
        metavar="N",
        help="number of replicates (default: the scenario's `replicates`)",
    )
    run.add_argument(
        "--seed",
        type=_seed,
        default=None,
        metavar="S",
        help="root seed; per-run seeds are spawned from it (default: the scenario's `seed`)",
    )
    run.add_argument(
        "--run-seed",
        type=_seed,
        default=None,
        metavar="SEED",
        help="run exactly one run with this integer seed (reproduces the runs.csv row whose "
        "`seed` column is SEED); not combinable with -n or --seed",
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override one scenario value by dotted path, e.g. --set horizon_steps=8; repeat for several",
    )
    _add_workers(run, default=1)
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output directory (default: results/<scenario>-<YYYYmmdd-HHMMSS>, never reused); "
        "refused if it already holds files, unless --force",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty --out directory: first delete the files of an earlier safsim "
        "run there (runs.csv, timeseries.csv, authorities.csv, summary.csv, manifest.json, "
        "plots/*.png); other files are kept",
    )
    run.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar and no summary table; print only the output directory",
    )
    run.add_argument("--no-plots", action="store_true", help="do not write plots/*.png")
    run.add_argument("--report", action="store_true", help="also write report.html (see safsim report)")
    run.set_defaults(handler=_cmd_run)

    _add_compare_parsers(sub)
    _add_sweep_parser(sub)

    check = sub.add_parser(
        "check",
        help="validate scenario and experiment files",
        description="Validate scenario and experiment files without running them (an experiment "
        "file has `kind: experiment` or a top-level `factors:` or `design:`; every design point's "
        "scenario is built). Prints `FILE: ok` for each good file and, on stderr, one line for each "
        "problem found in a bad one (FILE:LINE: key.path: message); exits 2 if any file is bad.",
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(handler=_cmd_check)

    schema = sub.add_parser(
        "schema",
        help="print the JSON Schema of scenario (or experiment) files",
        description="Print the JSON Schema of scenario files, or with --experiment of experiment "
        "files (for editors and validators).",
    )
    schema.add_argument("--experiment", action="store_true", help="the schema of experiment files")
    schema.set_defaults(handler=_cmd_schema)

    lst = sub.add_parser(
        "list",
        help="list the bundled scenarios",
        description="List the bundled scenarios with the first line of their description.",
    )
    lst.set_defaults(handler=_cmd_list)
    _add_validate_parser(sub)
    _add_calibrate_parser(sub)
    _add_analysis_parsers(sub)
    _add_dashboard_parser(sub)
    return parser


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the ``safsim`` command line with ``argv`` (default ``sys.argv[1:]``).

    Returns:
        The exit status (see the module docstring); never raises SystemExit.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(args_list)
        except SystemExit as exc:  # argparse: --help, --version and usage errors
            return _exit_code(exc)
        status = int(args.handler(args, args_list))
        sys.stdout.flush()  # a closed pipe fails here, inside the handlers below, not at exit
        return status
    except BadInput as exc:
        _err(f"safsim: error: {_one_line(str(exc))}")
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `safsim list | head -3`: the reader has gone; stop quietly
        _silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        _err("safsim: interrupted; nothing was written")
        return EXIT_INTERRUPTED
    except Exception as exc:
        from safsim.scenario import ScenarioError

        if isinstance(exc, ScenarioError):
            _err(f"safsim: error: {_one_line(str(exc))}")
            return EXIT_BAD_INPUT
        if os.environ.get("SAFSIM_DEBUG") == "1":
            traceback.print_exc(file=sys.stderr)
        _err(
            f"safsim: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            "(please report this; set SAFSIM_DEBUG=1 for a traceback)"
        )
        return EXIT_INTERNAL


def _silence_stdout() -> None:
    """Point stdout at the null device so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (e.g. under pytest)
        pass


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code
    _err(str(code))
    return EXIT_BAD_INPUT


# --------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace, argv: list[str]) -> int:
    from safsim.output import write_results

    if args.run_seed is not None and (args.replicates is not None or args.seed is not None):
        raise BadInput("--run-seed runs exactly one run; do not combine it with -n or --seed")
    for item in args.overrides:
        _check_override(item)
    if args.out is not None:
        _check_out_dir(args.out, force=args.force)
    source = args.scenario if args.scenario is not None else DEFAULT_SCENARIO
    scenario = _load(source, args.overrides)
    if args.out is None:
        _check_out_dir(_default_out_dir(scenario.name), force=True)  # a fresh folder is reserved later

    t0 = time.perf_counter()
    if args.run_seed is not None:
        results = _single_run(scenario, args.run_seed)
        extra: dict[str, Any] = {"run_seed": int(args.run_seed)}
    else:
        n = scenario.replicates if args.replicates is None else args.replicates
        results = _replicates(scenario, n, args.seed, args.workers, show=_show_progress(args))
        extra = {}
    wall = time.perf_counter() - t0

    def write(out_dir: Path) -> None:
        write_results(
            results,
            out_dir,
            argv=["safsim", *argv],
            scenario_source=source,
            plots=not args.no_plots,
            wall_time_s=wall,
            extra=extra,
            existing="replace" if args.force else "refuse",
        )

    out_dir = _write_out(write, args.out, lambda: _default_out_dir(scenario.name), "results")
    if out_dir is None:
        return EXIT_INTERNAL
    if not args.quiet:
        print(summary_table(results.runs))
        print()
    print(f"Results written to {out_dir}")
    if args.report:
        print(f"Report written to {_write_report(out_dir)}")
    return EXIT_OK


def _check_override(item: str) -> None:
    path, sep, _value = item.partition("=")
    if not sep or not path.strip():
        raise BadInput(f"--set expects PATH=VALUE (e.g. --set horizon_steps=8), got {item!r}")


def _check_out_dir(out: Path, *, force: bool = False) -> None:
    """Fail early (exit 2, nothing run or written) when ``out`` cannot be a results directory."""
    from safsim.util import is_nonempty_dir

    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out} exists and is not a directory")
    if not force and is_nonempty_dir(out):
        raise BadInput(_not_empty(out))
    ancestor = out.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise BadInput(f"--out {out}: {ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise BadInput(f"--out {out}: {ancestor} is not writable")


def _not_empty(out: Path) -> str:
    return (
        f"--out {out} already holds files; choose another directory, or add --force to replace "
        "the files of an earlier safsim run there (other files are kept)"
    )


def _default_out_dir(scenario_name: str) -> Path:
    """``results/<scenario>-<YYYYmmdd-HHMMSS>`` (not yet reserved; see ``_write_out``)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", scenario_name).strip("._") or "scenario"
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{safe}-{stamp}"


def _write_out(write: Callable[[Path], None], out: Path | None, default: Callable[[], Path], what: str) -> Path | None:
    """Write into ``out``, or into a freshly reserved default folder; None after a write error.

    The default folder is reserved (created empty, atomically) just before writing, with a
    ``-2``, ``-3``, ... suffix when a folder of that name exists already, so two runs started in
    the same second never share a folder.  A reserved folder is removed again if the write fails.
    """
    from safsim.util import DirectoryNotEmptyError, unique_path

    reserved = None
    try:
        if out is None:
            out = reserved = unique_path(default())
        write(out)
    except DirectoryNotEmptyError:
        raise BadInput(_not_empty(out)) from None  # filled by someone else while we ran
    except OSError as exc:
        _err(f"safsim: error: cannot write {what} to {out}: {_one_line(str(exc))}")
        return None
    finally:
        if reserved is not None and reserved.is_dir() and not any(reserved.iterdir()):
            reserved.rmdir()
    return out


def _load(source: str, overrides: Sequence[str] | None = None) -> Scenario:
    from safsim.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(source, list(overrides) if overrides else None)
    except ScenarioError:
        raise
    except OSError as exc:  # unreadable file: bad input, not an internal error
        raise BadInput(f"{source}: {exc.strerror or exc}") from None


def _show_progress(args: argparse.Namespace) -> bool:
    if args.quiet or os.environ.get("CI"):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _replicates(scenario: Scenario, n: int, seed: int | None, workers: int, *, show: bool) -> Results:
    from safsim.experiments import replicates

    if not show:
        return replicates.run_replicates(scenario, n, seed, workers)
    from tqdm import tqdm

    with tqdm(total=n, unit="run", file=sys.stderr, dynamic_ncols=True, leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.update(done - bar.n)

        return replicates.run_replicates(scenario, n, seed, workers, progress)


def _single_run(scenario: Scenario, seed: int) -> Results:
    """One run with an explicit seed, packaged like a one-replicate Results."""
    from safsim.experiments import replicates

    return replicates.run_seeds(scenario, [seed], root_seed=seed)


# --------------------------------------------------------------------------------------
# Summary table
# --------------------------------------------------------------------------------------


def format_value(outcome: str, x: float) -> str:
    """One outcome value as the summary table prints it (``safsim.outcomes.format_value``)."""
    from safsim.outcomes import format_value as _format

    return _format(outcome, x)


HEADLINE_HEADING = "headline outcomes"


def summary_groups(columns: Sequence[str]) -> list[tuple[str, list[str]]]:
    """The groups of the summary table: (heading, outcome names), empty groups left out.

    The headline outcomes come first under their own heading; every other outcome of the
    runs table is shown once, under its group in ``safsim.outcomes.GROUPS`` order.  The
    outcomes kept for the validation of the stylized facts are in runs.csv but not printed.
    """
    from safsim import outcomes
    from safsim.metrics import HEADLINE_OUTCOMES, RUN_OUTCOMES

    present = set(columns)
    headline = [o for o in HEADLINE_OUTCOMES if o in present]
    groups: list[tuple[str, list[str]]] = [(HEADLINE_HEADING, headline)]
    for group in outcomes.GROUPS:
        names = [o for o in RUN_OUTCOMES if o in present and o not in headline and outcomes.outcome(o).group == group]
        groups.append((group, names))
    return [(heading, names) for heading, names in groups if names]


def _quantiles(runs: pd.DataFrame, name: str) -> tuple[float, float, float]:
    """(p5, median, p95) of one outcome; for counts, values that were observed (whole numbers)."""
    import numpy as np

    from safsim import outcomes

    x = _numeric(runs[name])
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    method = "inverted_cdf" if outcomes.outcome(name).integer else "linear"
    p5, median, p95 = np.quantile(x, [0.05, 0.5, 0.95], method=method)
    return float(p5), float(median), float(p95)


def _numeric(column: Any) -> Any:
    """A column as a float numpy array (non-numbers become NaN)."""
    import pandas as pd

    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def summary_table(runs: pd.DataFrame) -> str:
    """Median and 90% interval (p5 to p95) of every outcome in ``runs``, in headed groups.

    Each row names the outcome (its runs.csv column) and its unit; see ``summary_groups`` for
    the order.  Counts are shown as whole numbers that were observed in some run (their
    quantiles use the inverted empirical distribution, not interpolation).
    """
    from safsim import outcomes

    groups = summary_groups(list(runs.columns))
    rows: dict[str, tuple[str, str, str]] = {}
    for _heading, names in groups:
        for name in names:
            p5, median, p95 = _quantiles(runs, name)
            interval = f"{format_value(name, p5)} to {format_value(name, p95)}" if math.isfinite(p5) else "n/a"
            rows[name] = (outcomes.unit(name), format_value(name, median), interval)
    every = [name for _h, names in groups for name in names]
    width = max(len(o) for o in [*every, "outcome"]) + 2
    unit_w = max(len("unit"), *(len(r[0]) for r in rows.values()))
    med_w = max(len("median"), *(len(r[1]) for r in rows.values()))
    n = len(runs)
    lines = [
        f"Outcome distributions over {n} run{'s' if n != 1 else ''}: median and 90% interval (p5 to p95)",
        f"{'outcome':<{width}}  {'unit':<{unit_w}}  {'median':>{med_w}}  90% interval",
        f"{'-' * width}  {'-' * unit_w}  {'-' * med_w}  {'-' * 24}",
    ]
    for i, (heading, names) in enumerate(groups):
        if i:
            lines.append("")
        lines.append(heading.capitalize())
        for name in names:
            unit, median, interval = rows[name]
            lines.append(f"  {name:<{width - 2}}  {unit:<{unit_w}}  {median:>{med_w}}  {interval}")
    lines.append("")
    lines.append("Units: £ = pounds over the whole run; SV units = the model's pound-equivalent of social value,")
    lines.append("not money; share, rate, weight and index lie between 0 and 1. Every column: docs/outputs.md.")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# compare, report
# --------------------------------------------------------------------------------------

_ARM_SET = re.compile(r"^(?P<arm>\d+):(?P<item>.*)$")


def _add_compare_parsers(sub: Any) -> None:
    cmp_ = sub.add_parser(
        "compare",
        help="run scenarios on the same seeds and report paired differences from the first",
        description=(
            "Run two or more scenarios (YAML files or bundled names) N times each on the same seeds (common "
            "random numbers) and compare each with the first: per outcome, every scenario's median and 90% "
            "interval, the paired difference (scenario minus the first) with a 95% bootstrap interval, a "
            "sign-flip p-value and Cliff's delta. Prints the table and writes compare.csv, runs.csv, "
            "timeseries.csv, forest.png and manifest.json. --set PATH=VALUE changes every scenario; "
            "--set ARM:PATH=VALUE only the ARM-th (1 is the first), e.g. "
            "safsim compare baseline baseline --set 2:commissioners.sv_weight=0.2 "
            "--set 2:commissioners.price_weight=0.45"
        ),
    )
    cmp_.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="two or more scenario files or bundled names")
    cmp_.add_argument(
        "-n",
        "--replicates",
        type=_int_at_least(2, "-n"),
        default=None,
        metavar="N",
        help="runs per scenario (default: the first scenario's `replicates`)",
    )
    cmp_.add_argument(
        "--seed", type=_seed, default=None, metavar="S", help="root seed (default: the first scenario's `seed`)"
    )
    cmp_.add_argument(
        "--outcomes",
        default=None,
        metavar="A,B",
        help="comma-separated outcome columns of runs.csv, or `all` (default: the headline outcomes)",
    )
    cmp_.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="[ARM:]PATH=VALUE",
        help="override a scenario value: PATH=VALUE for every scenario, ARM:PATH=VALUE for the ARM-th only; repeat",
    )
    _add_workers(cmp_, default=1)
    cmp_.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output directory (default: results/compare-<first>-<YYYYmmdd-HHMMSS>); refused if it holds "
        "files, unless --force",
    )
    cmp_.add_argument(
        "--force", action="store_true", help="replace the files of an earlier comparison in --out (others are kept)"
    )
    cmp_.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no table")
    cmp_.add_argument("--no-plots", action="store_true", help="do not write forest.png")
    cmp_.add_argument("--report", action="store_true", help="also write report.html (see safsim report)")
    cmp_.set_defaults(handler=_cmd_compare)

    rpt = sub.add_parser(
        "report",
        help="write report.html for a run, compare or validate folder",
        description="Write DIR/report.html: one self-contained HTML page (figures embedded, no network needed) "
        "for a folder written by safsim run, safsim compare or safsim validate: what was run, the headline "
        "outcomes, fan charts over time with the shocks marked, the comparison or facts table, with a "
        "plain-language caption under every figure.",
    )
    rpt.add_argument("folder", type=Path, metavar="DIR", help="a results folder")
    rpt.set_defaults(handler=_cmd_report)


def _split_arm_overrides(items: Sequence[str], n_arms: int) -> tuple[list[list[str]], list[list[str]]]:
    """Per arm, (every --set item that applies to it, only its own ``ARM:`` items), in order.

    ``PATH=VALUE`` applies to every arm; ``ARM:PATH=VALUE`` only to arm ARM (1-based).
    """
    every: list[list[str]] = [[] for _ in range(n_arms)]
    own: list[list[str]] = [[] for _ in range(n_arms)]
    for item in items:
        m = _ARM_SET.match(item) if ":" in item.partition("=")[0] else None
        if m is None:
            _check_override(item)
            for arm in every:
                arm.append(item)
            continue
        arm, rest = int(m["arm"]), m["item"]
        if not 1 <= arm <= n_arms:
            raise BadInput(f"--set {item}: there is no scenario {arm} (they are numbered 1 to {n_arms})")
        _check_override(rest)
        every[arm - 1].append(rest)
        own[arm - 1].append(rest)
    return every, own


def _cmd_compare(args: argparse.Namespace, argv: list[str]) -> int:
    import dataclasses

    from safsim.analysis.compare import compare, format_comparison, resolve_outcomes, unique_labels, write_comparison

    k = len(args.scenarios)
    if k < 2:
        raise BadInput("compare needs at least two scenarios (give one twice to compare --set ARM:... changes)")
    per_arm, own = _split_arm_overrides(args.overrides, k)
    try:
        outcomes = resolve_outcomes(None if args.outcomes is None else [x.strip() for x in args.outcomes.split(",")])
    except ValueError as exc:
        raise BadInput(f"--outcomes: {exc}") from None
    if args.out is not None:
        _check_out_dir(args.out, force=args.force)
    scenarios = [_load(src, items) for src, items in zip(args.scenarios, per_arm, strict=True)]
    labels = unique_labels([f"{s.name} [{', '.join(o)}]" if o else s.name for s, o in zip(scenarios, own, strict=True)])

    def default_out() -> Path:
        return _default_out_dir(f"compare-{scenarios[0].name}")

    if args.out is None:
        _check_out_dir(default_out(), force=True)  # a fresh folder is reserved later

    def run(progress: Callable[[int, int], None] | None) -> Any:
        return compare(
            scenarios,
            n=args.replicates,
            seed=args.seed,
            outcomes=outcomes,
            workers=args.workers,
            labels=labels,
            progress=progress,
        )

    if _show_progress(args):
        from tqdm import tqdm

        with tqdm(unit="run", file=sys.stderr, dynamic_ncols=True, leave=False) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            comparison = run(progress)
    else:
        comparison = run(None)
    comparison = dataclasses.replace(comparison, sources=tuple(args.scenarios))

    def write(out_dir: Path) -> None:
        write_comparison(
            comparison,
            out_dir,
            argv=["safsim", *argv],
            overrides=per_arm,
            plots=not args.no_plots,
            existing="replace" if args.force else "refuse",
        )

    out_dir = _write_out(write, args.out, default_out, "the comparison")
    if out_dir is None:
        return EXIT_INTERNAL
    if not args.quiet:
        print(format_comparison(comparison.table))
        print()
    print(f"Comparison written to {out_dir}")
    if args.report:
        print(f"Report written to {_write_report(out_dir)}")
    return EXIT_OK


def _write_report(folder: Path) -> Path:
    from safsim.analysis.report import ReportError, write_report

    try:
        return write_report(folder)
    except ReportError as exc:
        raise BadInput(str(exc)) from None


def _cmd_report(args: argparse.Namespace, argv: list[str]) -> int:
    print(f"Report written to {_write_report(args.folder)}")
    return EXIT_OK


# --------------------------------------------------------------------------------------
# sweep
# --------------------------------------------------------------------------------------


def _add_sweep_parser(sub: Any) -> None:
    sweep = sub.add_parser(
        "sweep",
        help="run every run of an experiment file, streaming results to Parquet (resumable)",
        description=(
            "Run an experiment (factors, a design, replicates and a root seed; see docs/experiments.md). "
            "Results stream into OUT/parts/ as chunks finish and are merged at the end into "
            "runs.parquet, design.parquet, failures.parquet (and timeseries.parquet, awards.parquet "
            "when recorded) with manifest.json. A run that raises is recorded in failures.parquet and "
            "the sweep goes on. An interrupted sweep (Ctrl-C, a crash) is finished with --resume."
        ),
    )
    sweep.add_argument("experiment", metavar="EXPERIMENT", help="experiment YAML file")
    sweep.add_argument(
        "--backend",
        choices=("serial", "processes", "dask"),
        default="processes",
        help="where runs execute (default: processes; dask needs the `distributed` extra)",
    )
    _add_workers(sweep, default=None)
    sweep.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="dask backend: address of a running scheduler, e.g. tcp://host:8786 (default: a LocalCluster)",
    )
    sweep.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override one experiment value by dotted path, e.g. --set replicates=2 or, for the base "
        "scenario, --set set.horizon_steps=8; repeat for several",
    )
    _add_output_options(
        sweep,
        out="results directory (default: results/sweep-<name>-<YYYYmmdd-HHMMSS>); a directory "
        "holding other results is refused unless --resume (the same sweep) or --force",
        resume="run only the runs --out does not hold yet",
        force="replace the sweep results already in --out (other files are kept)",
        quiet="no progress bar; print only the summary line",
    )
    sweep.set_defaults(handler=_cmd_sweep)


def _cmd_sweep(args: argparse.Namespace, argv: list[str]) -> int:
    from safsim.experiments.experiment import load_experiment
    from safsim.experiments.sweep import SweepError, run_sweep
    from safsim.util import unique_path

    for item in args.overrides:
        _check_override(item)
    if args.resume and args.force:
        raise BadInput("--resume and --force contradict each other; give one")
    if args.resume and args.out is None:
        raise BadInput("--resume needs --out DIR: the directory of the sweep to finish")
    if args.scheduler and args.backend != "dask":
        raise BadInput("--scheduler is for --backend dask only")
    if not Path(args.experiment).is_file():
        raise BadInput(f"{args.experiment}: no such experiment file")
    try:
        exp = load_experiment(args.experiment, list(args.overrides) or None)
    except OSError as exc:
        raise BadInput(f"{args.experiment}: {exc.strerror or exc}") from None
    reserved = None
    out = args.out
    if out is None:
        out = reserved = unique_path(_default_out_dir(f"sweep-{exp.name}"))
    resume_hint = f"safsim sweep {args.experiment} --out {out} --resume"
    try:
        res = run_sweep(
            exp,
            backend=args.backend,
            workers=args.workers,
            out=out,
            resume=args.resume,
            force=args.force,
            progress=not args.quiet,
            scheduler=args.scheduler,
        )
    except SweepError as exc:
        if reserved is not None and reserved.is_dir() and not any(reserved.iterdir()):
            reserved.rmdir()
        raise BadInput(str(exc)) from None
    except KeyboardInterrupt:
        _err(f"safsim: interrupted; the finished runs are kept in {out}/parts; finish with: {resume_hint}")
        return EXIT_INTERRUPTED
    n_failed = len(res.failures)
    rate = res.runs_per_second
    rate_text = f"{rate:.1f} runs/s" if res.n_ran and math.isfinite(rate) else "nothing left to run"
    print(f"{len(res.runs) + n_failed} runs ({res.n_ran} run now), {n_failed} failed, {rate_text}; results in {out}")
    return EXIT_OK


# --------------------------------------------------------------------------------------
# check, schema, list
# --------------------------------------------------------------------------------------


def _cmd_check(args: argparse.Namespace, argv: list[str]) -> int:
    from safsim.experiments.experiment import is_experiment_file, load_experiment
    from safsim.scenario import ScenarioError, load_scenario

    failed = 0
    for file in args.files:
        try:
            if is_experiment_file(file):
                load_experiment(file)
            else:
                load_scenario(file)
        except ScenarioError as exc:
            failed += 1
            for problem in exc.errors:  # every problem found, one line each
                msg = _one_line(str(problem))
                _err(msg if Path(file).name in msg or msg.startswith("--set") else f"{file}: {msg}")
        except OSError as exc:
            failed += 1
            _err(f"{file}: {exc.strerror or exc}")
        else:
            print(f"{file}: ok")
    return EXIT_BAD_INPUT if failed else EXIT_OK


def _cmd_schema(args: argparse.Namespace, argv: list[str]) -> int:
    if getattr(args, "experiment", False):
        from safsim.experiments.experiment import experiment_json_schema

        print(json.dumps(experiment_json_schema(), indent=2))
        return EXIT_OK
    from safsim.scenario import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return EXIT_OK


def _cmd_list(args: argparse.Namespace, argv: list[str]) -> int:
    from safsim.scenario import ScenarioError, list_bundled, load_scenario

    names = list(list_bundled())
    if not names:
        from safsim.scenario import bundled_scenarios_dir

        raise BadInput(
            f"no bundled scenarios found in {bundled_scenarios_dir()} (the installation is incomplete; reinstall safsim)"
        )
    width = max((len(str(n)) for n in names), default=0)
    status = EXIT_OK
    for name in names:
        try:
            description = load_scenario(str(name)).description
        except ScenarioError as exc:
            description = f"(does not load: {_one_line(str(exc))})"
            status = EXIT_INTERNAL  # a bundled scenario that does not load is our bug
        first = next((ln.strip() for ln in description.splitlines() if ln.strip()), "")
        print(f"{str(name):<{width}}  {first}".rstrip())
    return status


# --------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# dashboard
# --------------------------------------------------------------------------------------


def _add_dashboard_parser(sub: Any) -> None:
    dash = sub.add_parser(
        "dashboard",
        help="start the teaching dashboard (a local web app; needs safsim[viz])",
        description="Start the teaching dashboard, a local web app built on Mesa's SolaraViz: presets, "
        "levers, play/step/reset and live charts of the field (docs/teaching.md). Serves on "
        "http://HOST:PORT until Ctrl-C. Needs the viz extra (pip install 'safsim[viz]').",
    )
    dash.add_argument(
        "scenario",
        nargs="?",
        default=None,
        metavar="SCENARIO",
        help="scenario YAML file or bundled scenario name to start from (default: baseline)",
    )
    dash.add_argument("--port", type=_int_at_least(0, "--port"), default=8765, metavar="P", help="port (default 8765)")
    dash.add_argument(
        "--host", default="127.0.0.1", metavar="H", help="address to bind (default 127.0.0.1: this machine only)"
    )
    dash.add_argument("--seed", type=_seed, default=None, metavar="S", help="seed to start from (default 20260101)")
    dash.set_defaults(handler=_cmd_dashboard)


def _cmd_dashboard(args: argparse.Namespace, argv: list[str]) -> int:
    from safsim.dashboard.levers import DEFAULT_SEED
    from safsim.dashboard.server import serve, viz_missing

    source = args.scenario if args.scenario is not None else DEFAULT_SCENARIO
    _load(source)  # a scenario that does not load is exit status 2, before any server starts
    missing = viz_missing()
    if missing is not None:
        raise BadInput(missing)
    seed = DEFAULT_SEED if args.seed is None else args.seed
    return serve(source, host=args.host, port=args.port, seed=seed)


def _add_validate_parser(sub: Any) -> None:
    # Imports of numpy/pandas wait for the handler, so the numbers of replicates per mode
    # are described in words here (they live in safsim.analysis.validation.MODE_REPLICATES).
    val = sub.add_parser(
        "validate",
        help="run the stylized-fact experiments (F1-F17) and report which facts the model reproduces",
        description=(
            "Run the experiments of the stylized facts F1-F17 over common random numbers and "
            "judge each criterion: prints a table (criterion, expected, observed effect with a "
            "95% interval, p-value, verdict) and writes facts.csv, report.md, plots/F*.png, "
            "raw/F*.csv and manifest.json. Full mode (the default; 60 replicates per arm; a "
            "criterion passes when its 95% interval is on the expected side) is the one whose "
            "verdicts count; --quick (15 replicates) only checks the direction of each effect. "
            "Regenerate the committed report with: safsim validate --full --workers 2 --out "
            "validation --force"
        ),
    )
    val.add_argument(
        "--facts",
        default=None,
        metavar="F1,F3",
        help="comma-separated fact ids (default: all seventeen)",
    )
    mode = val.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick",
        dest="mode",
        action="store_const",
        const="quick",
        help="few replicates per arm, verdict by the direction of the estimate",
    )
    mode.add_argument(
        "--full",
        dest="mode",
        action="store_const",
        const="full",
        help="the verdicts that count: many replicates, verdict by the 95%% interval (default)",
    )
    val.set_defaults(mode="full")
    val.add_argument(
        "-n",
        "--replicates",
        type=_int_at_least(2, "--replicates"),
        default=None,
        metavar="N",
        help="replicates per arm (default: by mode)",
    )
    val.add_argument(
        "--seed",
        type=_seed,
        default=None,
        metavar="S",
        help="root seed of the common random numbers (default: a fixed validation seed)",
    )
    _add_workers(val, default=1)
    _add_output_options(
        val,
        out="output directory (default: validation-results/<YYYYmmdd-HHMMSS>, never reused); "
        "refused if it already holds files, unless --force",
        force="write into a non-empty --out directory: first delete the files of an earlier report "
        "there (facts.csv, report.md, power.csv, convergence.csv, manifest.json, plots/F*.png, "
        "raw/F*.csv); other files are kept",
        quiet="no progress bar and no table; print the directory",
    )
    val.add_argument("--no-plots", action="store_true", help="do not write plots/*.png")
    val.add_argument(
        "--update-docs",
        type=Path,
        default=None,
        metavar="FILE",
        help="also rewrite the generated report block of FILE (docs/validation.md)",
    )
    val.add_argument(
        "--external",
        action="store_true",
        help="also score the model against the external targets (safsim/data/targets.yaml): "
        "prints the fit table and writes external.csv; with --facts none, only that",
    )
    val.add_argument(
        "--base",
        default=None,
        metavar="SCENARIO",
        help="layer this scenario's own settings (not what it extends) onto every arm, before the arm's "
        "levers: judge the facts (and --external) on, e.g., the calibrated values (--base calibrated) "
        "instead of the package defaults",
    )
    _add_calibration_files(val)
    val.set_defaults(handler=_cmd_validate)


def _add_calibration_files(parser: argparse.ArgumentParser) -> None:
    """``--calibration FILE`` and ``--targets FILE`` (defaults: the bundled files)."""
    parser.add_argument(
        "--calibration",
        type=Path,
        default=None,
        metavar="FILE",
        help="calibration set-up: experiments, priors, method (default: the bundled safsim/data/calibration.yaml)",
    )
    parser.add_argument(
        "--targets",
        type=Path,
        default=None,
        metavar="FILE",
        help="targets file (default: the one the set-up names, the bundled safsim/data/targets.yaml)",
    )


def _cmd_validate(args: argparse.Namespace, argv: list[str]) -> int:
    from safsim.analysis.facts import get_facts
    from safsim.analysis.validation import (
        VALIDATION_SEED,
        Mode,
        format_table,
        run_validation,
        update_docs,
        write_validation,
    )

    ids = None
    facts_wanted = not (args.facts is not None and args.facts.strip().lower() == "none")
    if not facts_wanted and not args.external:
        raise BadInput("--facts none leaves nothing to do without --external")
    setup = _load_calibration_setup(args) if args.external else None
    if args.facts is not None and facts_wanted:
        ids = [x.strip() for x in args.facts.split(",") if x.strip()]
        if not ids:
            raise BadInput("--facts expects fact ids such as F1,F3")
    try:
        facts = get_facts(ids)
    except KeyError as exc:
        raise BadInput(str(exc.args[0])) from None
    layered = _base_settings(args.base)
    if args.update_docs is not None:
        if args.base is not None:
            raise BadInput("--update-docs documents the package defaults; drop it or drop --base")
        from safsim.analysis.validation import DOCS_BEGIN

        try:
            doc_text = args.update_docs.read_text(encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"--update-docs {args.update_docs}: {exc.strerror or exc}") from None
        if DOCS_BEGIN not in doc_text:
            raise BadInput(f"--update-docs {args.update_docs} lacks the generated-report markers")

    def default_out() -> Path:
        return Path("validation-results") / _dt.datetime.now().strftime("%Y%m%d-%H%M%S")

    if args.out is None:
        _check_out_dir(default_out(), force=True)  # a fresh folder is reserved later
    else:
        _check_out_dir(args.out, force=args.force)

    if not facts_wanted:
        return _validate_external_only(args, setup, default_out, layered)

    def run(progress: Callable[[int, int], None] | None) -> Any:
        return run_validation(
            facts,
            args.replicates,
            mode=Mode(args.mode),
            workers=args.workers,
            root_seed=VALIDATION_SEED if args.seed is None else args.seed,
            progress=progress,
            base=args.base,
        )

    if _show_progress(args):
        from tqdm import tqdm

        with tqdm(unit="run", file=sys.stderr, dynamic_ncols=True, leave=False) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            result = run(progress)
    else:
        result = run(None)

    external = _external_fit(args, setup, layered) if setup is not None else None

    def write(out_dir: Path) -> None:
        write_validation(result, out_dir, plots=not args.no_plots, existing="replace" if args.force else "refuse")
        if external is not None:
            _write_external(external, out_dir)

    out_dir = _write_out(write, args.out, default_out, "the report")
    if out_dir is None:
        return EXIT_INTERNAL
    if args.update_docs is not None:
        update_docs(args.update_docs, out_dir)
    if not args.quiet:
        print(format_table(result))
        print(validation_key(args.mode))
        print()
        if external is not None:
            print(_format_external(external))
            print()
    print(f"Validation report written to {out_dir}")
    return EXIT_OK


# External targets (validate --external) ------------------------------------------------

EXTERNAL_REPLICATES = {"full": 30, "quick": 8}


def _load_calibration_setup(args: argparse.Namespace) -> Any:
    from safsim.calibration.spec import load_setup

    for flag, path in (("--calibration", args.calibration), ("--targets", args.targets)):
        if path is not None and not path.is_file():
            raise BadInput(f"{flag} {path}: no such file")
    return load_setup(args.calibration, targets=args.targets)


def _base_settings(base: str | None) -> dict[str, Any]:
    """``--base``: the scenario's own settings as overrides (its errors are bad input)."""
    if base is None:
        return {}
    from safsim.scenario import own_settings

    return own_settings(base)  # a ScenarioError names the file and line (exit 2)


def _external_fit(args: argparse.Namespace, setup: Any, layered: Mapping[str, Any]) -> pd.DataFrame:
    from safsim.calibration.history import fit_table

    n = args.replicates or EXTERNAL_REPLICATES[args.mode]
    overrides = {name: dict(layered) for name in setup.experiments} if layered else None
    return fit_table(setup, overrides, n=n, seed=args.seed, workers=args.workers)


def _write_external(fit: pd.DataFrame, out_dir: Path) -> None:
    from safsim.util import write_directory

    def write(tmp: Path) -> list[str]:
        fit.to_csv(tmp / "external.csv", index=False)
        return ["external.csv"]

    write_directory(out_dir, write, own=("external.csv",), existing="merge")


def _format_external(fit: pd.DataFrame) -> str:
    """The external-targets table: observed with its interval, the model's median and 90% range."""
    lines = [f"{'target':<40} {'role':<9} {'observed [interval]':<26} {'model median [90%]':<28} {'I':>6}  verdict"]
    for r in fit.itertuples(index=False):
        obs = f"{r.observed:.3g} [{r.low:.3g}, {r.high:.3g}]"
        mod = f"{r.model_median:.3g} [{r.model_p5:.3g}, {r.model_p95:.3g}]"
        lines.append(f"{r.target:<40} {r.role:<9} {obs:<26} {mod:<28} {r.implausibility:>6.2f}  {r.verdict}")
    n_ok = int((fit["verdict"] == "consistent").sum())
    lines.append(
        f"External targets: {n_ok} of {len(fit)} consistent. Key: I is the implausibility of the model mean "
        "(distance over the combined observation, discrepancy and run-to-run spread); consistent when I <= 3; "
        "holdout targets were not used to calibrate (docs/calibration.md)."
    )
    return "\n".join(lines)


def _validate_external_only(
    args: argparse.Namespace, setup: Any, default_out: Callable[[], Path], layered: Mapping[str, Any]
) -> int:
    fit = _external_fit(args, setup, layered)
    out_dir = _write_out(lambda d: _write_external(fit, d), args.out, default_out, "the external fit")
    if out_dir is None:
        return EXIT_INTERNAL
    if not args.quiet:
        print(_format_external(fit))
        print()
    print(f"External fit written to {out_dir / 'external.csv'}")
    return EXIT_OK


# --------------------------------------------------------------------------------------
# calibrate
# --------------------------------------------------------------------------------------


def _add_calibrate_parser(sub: Any) -> None:
    cal = sub.add_parser(
        "calibrate",
        help="fit the model's assumed parameters to the external targets by history matching",
        description=(
            "Calibrate by history matching (docs/calibration.md): waves of Latin-hypercube points "
            "over the priors of the set-up, each run through the sweep runner in every experiment; "
            "points whose largest implausibility over the calibrate targets exceeds the cutoff are "
            "ruled out and the next wave samples what is left; the best point is checked on fresh "
            "seeds against every target, holdouts included. With a facts screen (--facts-candidates), "
            "the least implausible points are first judged against the stylized facts and, of those "
            "not ruled out, the one keeping the most emergent facts is chosen. Writes points.csv, posterior.csv, fit.csv, "
            "facts_screen.csv, calibrated.yaml, report.md and manifest.json (and wave-K/ sweeps) "
            "into --out."
        ),
    )
    _add_calibration_files(cal)
    cal.add_argument(
        "--waves", type=_int_at_least(1, "--waves"), default=None, metavar="W", help="waves (default: the set-up's)"
    )
    cal.add_argument(
        "--points",
        type=_int_at_least(4, "--points"),
        default=None,
        metavar="N",
        help="points per wave (default: the set-up's)",
    )
    cal.add_argument(
        "--replicates",
        type=_int_at_least(2, "--replicates"),
        default=None,
        metavar="R",
        help="runs per point and experiment (default: the set-up's)",
    )
    cal.add_argument(
        "--check-replicates",
        type=_int_at_least(2, "--check-replicates"),
        default=None,
        metavar="R",
        help="fresh runs of the chosen point for the fit table (default: the set-up's)",
    )
    cal.add_argument(
        "--facts-candidates",
        type=_int_at_least(0, "--facts-candidates"),
        default=None,
        metavar="K",
        help="judge the K least implausible points against the stylized facts and choose, of those "
        "not ruled out, the one keeping the most emergent facts; 0 chooses by implausibility alone "
        "(default: the set-up's)",
    )
    _add_workers(cal, default=None)
    _add_output_options(
        cal,
        out="results directory (default: results/calibration-<YYYYmmdd-HHMMSS>); a directory holding "
        "other files is refused unless --resume (the same calibration) or --force",
        resume="finish an interrupted calibration in --out",
        force="replace the calibration results already in --out",
        quiet="no progress; print only the summary",
    )
    cal.set_defaults(handler=_cmd_calibrate)


def _cmd_calibrate(args: argparse.Namespace, argv: list[str]) -> int:
    from safsim.calibration.history import calibrate
    from safsim.experiments.sweep import SweepError, SweepMismatchError
    from safsim.util import unique_path

    if args.resume and args.force:
        raise BadInput("--resume and --force contradict each other; give one")
    if args.resume and args.out is None:
        raise BadInput("--resume needs --out DIR: the directory of the calibration to finish")
    setup = _load_calibration_setup(args)
    out = args.out if args.out is not None else unique_path(_default_out_dir("calibration"))

    def log(msg: str) -> None:
        if not args.quiet:
            _err(msg)

    try:
        res = calibrate(
            setup,
            out=out,
            waves=args.waves,
            points=args.points,
            replicates=args.replicates,
            check_replicates=args.check_replicates,
            facts_candidates=args.facts_candidates,
            workers=args.workers,
            resume=args.resume,
            force=args.force,
            progress=_show_progress(args),
            log=log,
        )
    except SweepMismatchError as exc:  # a wave run with other settings: it cannot be resumed
        raise BadInput(
            f"--resume: the wave sweep in {exc.out} was run with other settings (the set-up, a scenario "
            "default or the model changed since) and cannot be resumed; run the calibration again with --force"
        ) from None
    except SweepError as exc:
        raise BadInput(str(exc)) from None
    except KeyboardInterrupt:
        _err(f"safsim: interrupted; finished waves are kept in {out}; finish with --out {out} --resume")
        return EXIT_INTERRUPTED
    if not args.quiet:
        print(_format_external(res.fit))
        print()
    n_ok = int(res.points["nroy"].sum())
    print(
        f"{len(res.points)} points evaluated, {n_ok} not ruled out; chosen point and fit in {out} "
        f"(calibrated.yaml, fit.csv, report.md)"
    )
    return EXIT_OK


def validation_key(mode: str) -> str:
    """The one-line key printed under the validation table, for ``mode`` quick or full."""
    if mode == "quick":
        how = (
            "Key: quick mode judges each criterion only by the direction of its estimate (the "
            "interval and p are shown but do not decide), a regression check, not the verdicts "
            "that count (those are --full: 95% interval on the expected side);"
        )
    else:
        how = "Key: full mode: a criterion passes when its 95% interval lies on the expected side;"
    return (
        f"{how} a verdict in (parentheses) is a supplementary criterion, reported but not counted; "
        "a fact passes (pass/FAIL) when all its counted criteria pass."
    )


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("safsim")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


# --------------------------------------------------------------------------------------
# sensitivity, discover
# --------------------------------------------------------------------------------------


def _add_analysis_parsers(sub: Any) -> None:
    sens = sub.add_parser(
        "sensitivity",
        help="global sensitivity analysis of an experiment (Sobol' or Morris, with SALib)",
        description=(
            "Run the model evaluations of an experiment with the sweep runner, average the replicates "
            "of every design point and compute global sensitivity indices (see docs/sensitivity.md): "
            "--method sobol needs a saltelli design and gives first-order and total Sobol' indices "
            "(S1, ST) with confidence intervals; --method morris replaces the design by Morris "
            "trajectories over the factors and gives mu*, its interval and sigma. Writes indices.csv "
            "and sensitivity.png to --out, with the sweep's results in OUT/sweep (resumed when rerun)."
        ),
    )
    sens.add_argument("experiment", metavar="EXPERIMENT", help="experiment YAML file")
    sens.add_argument("--method", choices=("sobol", "morris"), default="sobol", help="default: sobol")
    sens.add_argument(
        "--outcomes",
        nargs="+",
        default=None,
        metavar="OUTCOME",
        help="outcomes to analyse (default: the recorded outcomes, or the headline ones if all are recorded)",
    )
    sens.add_argument(
        "--trajectories",
        type=_int_at_least(2, "--trajectories"),
        default=None,
        metavar="R",
        help="morris: number of trajectories, r*(k+1) model evaluations per replicate (default: design n, else 10)",
    )
    sens.add_argument(
        "--backend",
        choices=("serial", "processes", "dask"),
        default="processes",
        help="where runs execute (default: processes)",
    )
    _add_workers(sens, default=None)
    sens.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output directory (default: results/sensitivity-<name>-<YYYYmmdd-HHMMSS>)",
    )
    sens.add_argument("--force", action="store_true", help="replace another sweep's results in OUT/sweep")
    sens.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override one experiment value by dotted path, e.g. --set set.horizon_steps=8",
    )
    sens.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no table")
    sens.set_defaults(handler=_cmd_sensitivity)

    disc = sub.add_parser(
        "discover",
        help="scenario discovery: factor ranges that make a condition likely (PRIM)",
        description=(
            "Read a sweep's results (runs.parquet, design.parquet) and find boxes of factor ranges in "
            "which a condition on the outcomes is likely, with PRIM from EMA Workbench. Writes "
            "boxes.csv (one row per box and restricted factor, with coverage and density) and "
            "prim_trajectory.png to --out (default: SWEEP_DIR/discovery)."
        ),
    )
    disc.add_argument("sweep_dir", metavar="SWEEP_DIR", help="a sweep's results directory")
    disc.add_argument(
        "--where",
        required=True,
        metavar="EXPR",
        help="condition: OUTCOME OP NUMBER (OP one of < <= > >= == !=), combined with and/or and "
        'parentheses, e.g. "survival_sme_vso > 0.9 and hhi < 0.3"',
    )
    disc.add_argument(
        "--threshold",
        type=_unit_interval,
        default=0.8,
        metavar="D",
        help="density a box must reach, in (0, 1] (default 0.8)",
    )
    disc.add_argument(
        "--per",
        choices=("run", "point"),
        default="run",
        help="a case is a run (default), or a design point meeting the condition in at least half its replicates",
    )
    disc.add_argument("--max-boxes", type=_int_at_least(1, "--max-boxes"), default=3, metavar="B", help="default 3")
    disc.add_argument("--out", type=Path, default=None, metavar="DIR", help="default: SWEEP_DIR/discovery")
    disc.add_argument("-q", "--quiet", action="store_true", help="print only the output directory")
    disc.set_defaults(handler=_cmd_discover)


def _unit_interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--threshold must be a number, got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"--threshold must be in (0, 1], got {text}")
    return value


def _cmd_sensitivity(args: argparse.Namespace, argv: list[str]) -> int:
    from safsim.analysis.sensitivity import SensitivityError, run_sensitivity
    from safsim.experiments.experiment import load_experiment
    from safsim.experiments.sweep import SweepError
    from safsim.util import unique_path

    for item in args.overrides:
        _check_override(item)
    if not Path(args.experiment).is_file():
        raise BadInput(f"{args.experiment}: no such experiment file")
    try:
        exp = load_experiment(args.experiment, list(args.overrides) or None)
    except OSError as exc:
        raise BadInput(f"{args.experiment}: {exc.strerror or exc}") from None
    if args.method == "sobol" and exp.design.kind != "saltelli":
        raise BadInput(
            f"{args.experiment}: --method sobol needs a saltelli design (design: {{kind: saltelli, n: 16}}), "
            f"not {exp.design.kind}"
        )
    reserved = None
    out = args.out
    if out is None:
        out = reserved = unique_path(_default_out_dir(f"sensitivity-{exp.name}"))
    try:
        res = run_sensitivity(
            exp,
            args.method,
            outcomes=args.outcomes,
            workers=args.workers,
            backend=args.backend,
            out=out,
            force=args.force,
            trajectories=args.trajectories,
            progress=not args.quiet,
        )
    except (SensitivityError, SweepError) as exc:
        if reserved is not None and reserved.is_dir() and not any(reserved.iterdir()):
            reserved.rmdir()
        raise BadInput(str(exc)) from None
    if not args.quiet:
        print(res.indices.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        for row in res.noise.itertuples(index=False):
            if math.isfinite(row.noise_share):
                print(f"{row.outcome}: replicate noise is {row.noise_share:.0%} of the variance of the point means")
    print(f"indices in {out / 'indices.csv'}, chart in {out / 'sensitivity.png'}")
    return EXIT_OK


def _cmd_discover(args: argparse.Namespace, argv: list[str]) -> int:
    from safsim.analysis.discovery import DiscoveryError, run_discovery

    try:
        res = run_discovery(
            args.sweep_dir,
            args.where,
            threshold=args.threshold,
            per=args.per,
            out=args.out,
            max_boxes=args.max_boxes,
        )
    except DiscoveryError as exc:
        raise BadInput(str(exc)) from None
    if not args.quiet:
        print(f"condition: {res.condition} (holds for {res.base_rate:.1%} of the {res.per}s)")
        if not res.boxes:
            print(f"no box reaches density {args.threshold:g}")
        for b in res.boxes:
            limits = "; ".join(
                f"{k} in [{v[0]:.4g}, {v[1]:.4g}]"
                if isinstance(v[0], float)
                else f"{k} in {{{', '.join(map(str, v))}}}"
                for k, v in b.limits.items()
            )
            print(
                f"box {b.box}: coverage {b.coverage:.2f}, density {b.density:.2f}, n {b.n}: {limits or 'no restriction'}"
            )
    print(f"boxes in {res.out / 'boxes.csv'}, trajectory in {res.out / 'prim_trajectory.png'}")
    return EXIT_OK


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"


def _err(message: str) -> None:
    print(message, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
