"""Whole-process measurement of a command, as a user would run it: wall time, CPU time, peak memory.

Objects:
    Measurement: what one measured command cost (wall, CPU, peak memory, load average).
    measure(cmd) -> Measurement: run ``cmd`` as a subprocess and sample its process tree.
    loadavg() -> str: the first three fields of /proc/loadavg.
    print_table(rows) / write_results(rows, path): the small table and the CSV/JSON files.

Memory and CPU are sampled with psutil every ``interval`` seconds over the whole process tree
(the command and every descendant: worker pools, fork servers, resource trackers):

- ``peak_rss_mb`` is the largest sum of the resident set sizes of all live processes of the
  tree at one sample (shared pages are counted in every process that maps them, so this is an
  upper bound on the memory the tree needs); ``peak_pss_mb`` is the same with proportional
  set sizes (each shared page split between the processes that map it: what the tree adds to
  the machine's memory);
- ``cpu_s`` is the sum over every process ever seen of its own user+system time at its last
  sample (a process's last ``interval`` before it exits can be missed);
  ``timeline`` keeps the tree's memory about every 2 seconds, to see whether it grows;
  ``cpu_rusage_s`` is the same from ``getrusage(RUSAGE_CHILDREN)``, which counts only
  descendants that were waited for (it misses workers of a fork server that is not reaped),
  kept as a check.

The load average is read just before and just after the command: the reference machine's two
cores are shared, and CPU time is less sensitive to other work than wall time.
"""

from __future__ import annotations

import csv
import json
import resource
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

__all__ = ["Measurement", "loadavg", "measure", "print_table", "write_results"]


@dataclass(frozen=True)
class Measurement:
    """What one measured command cost.

    Attributes:
        label: a short name for the table.
        runs: model runs the command made.
        wall_s: wall-clock seconds from start to exit.
        cpu_s: user+system seconds summed over the process tree (sampled).
        cpu_rusage_s: user+system seconds of waited-for descendants (getrusage).
        peak_rss_mb: largest sum of the tree's resident set sizes at one sample, in MB (1e6 bytes).
        peak_pss_mb: largest sum of the tree's proportional set sizes at one sample, in MB.
        peak_rss_single_mb: largest resident set size of one process of the tree, in MB.
        n_processes: distinct processes seen in the tree.
        load_before: /proc/loadavg (1, 5, 15 minutes) just before.
        load_after: /proc/loadavg just after.
        returncode: the command's exit status.
        command: the command line.
        timeline: (seconds since start, RSS MB, PSS MB) of the tree about every 2 seconds.
    """

    label: str
    runs: int
    wall_s: float
    cpu_s: float
    cpu_rusage_s: float
    peak_rss_mb: float
    peak_pss_mb: float
    peak_rss_single_mb: float
    n_processes: int
    load_before: str
    load_after: str
    returncode: int
    command: str
    timeline: tuple[tuple[float, float, float], ...] = ()

    @property
    def runs_per_s(self) -> float:
        """Runs per wall-clock second."""
        return self.runs / self.wall_s if self.wall_s > 0 else float("nan")


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages, as /proc/loadavg writes them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def measure(cmd: Sequence[str], *, label: str, runs: int, interval: float = 0.2, quiet: bool = True) -> Measurement:
    """Run ``cmd`` and measure its whole process tree until it exits.

    Args:
        cmd: the command and its arguments.
        label: a name for the table.
        runs: how many model runs the command makes (for runs per second).
        interval: seconds between samples.
        quiet: discard the command's standard output (its standard error is shown).

    Raises:
        subprocess.CalledProcessError: the command failed.
    """
    load_before = loadavg()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdout=subprocess.DEVNULL if quiet else None)
    root = psutil.Process(proc.pid)
    cpu: dict[tuple[int, float], float] = {}  # (pid, create_time) -> own user+system seconds
    peak = peak_pss = peak_single = 0
    timeline: list[tuple[float, float, float]] = []
    while proc.poll() is None:
        total = total_pss = 0
        for p in _tree(root):
            try:
                with p.oneshot():
                    full = p.memory_full_info()  # reads smaps: rss, uss, pss
                    rss = full.rss
                    t = p.cpu_times()
                    key = (p.pid, p.create_time())
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
            total += rss
            total_pss += full.pss
            peak_single = max(peak_single, rss)
            cpu[key] = t.user + t.system
        peak = max(peak, total)
        peak_pss = max(peak_pss, total_pss)
        now = time.perf_counter() - t0
        if not timeline or now - timeline[-1][0] >= 2.0:
            timeline.append((round(now, 1), round(total / 1e6, 1), round(total_pss / 1e6, 1)))
        time.sleep(interval)
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_after = loadavg()
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, list(cmd))
    return Measurement(
        label=label,
        runs=runs,
        wall_s=wall,
        cpu_s=sum(cpu.values()),
        cpu_rusage_s=(ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
        peak_rss_mb=peak / 1e6,
        peak_pss_mb=peak_pss / 1e6,
        peak_rss_single_mb=peak_single / 1e6,
        n_processes=len(cpu),
        load_before=load_before,
        load_after=load_after,
        returncode=proc.returncode,
        command=" ".join(cmd),
        timeline=tuple(timeline),
    )


def print_table(rows: Sequence[Measurement]) -> None:
    """Print one line per measurement."""
    print(
        f"{'what':<32} {'runs':>6} {'wall s':>8} {'runs/s':>7} {'CPU s':>8} {'RSS MB':>8} {'PSS MB':>8} "
        f"{'max 1 MB':>8} {'procs':>5}  load before -> after"
    )
    for m in rows:
        print(
            f"{m.label:<32} {m.runs:>6} {m.wall_s:>8.1f} {m.runs_per_s:>7.2f} {m.cpu_s:>8.1f} {m.peak_rss_mb:>8.1f} {m.peak_pss_mb:>8.1f} "
            f"{m.peak_rss_single_mb:>8.1f} {m.n_processes:>5}  {m.load_before} -> {m.load_after}"
        )


def write_results(rows: Sequence[Measurement], path: Path, extra: dict | None = None) -> None:
    """Write ``path`` (.json, with ``extra``) and the same rows as ``path`` with suffix .csv."""
    path.parent.mkdir(parents=True, exist_ok=True)
    records = [asdict(m) | {"runs_per_s": m.runs_per_s} for m in rows]
    path.with_suffix(".json").write_text(json.dumps({**(extra or {}), "measurements": records}) + "\n")
    flat = [{k: v for k, v in r.items() if k != "timeline"} for r in records]
    with path.with_suffix(".csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(flat[0]))
        w.writeheader()
        w.writerows(flat)
