"""One self-contained HTML report of a results folder: run, comparison or validation.

Objects:
    ReportError: the folder is not a results folder safsim wrote (one-line message).
    detect_kind(folder): ``"run"`` (``safsim run``), ``"comparison"`` (``safsim compare``) or
        ``"validation"`` (``safsim validate``), from manifest.json and the files present.
    render_report(folder): the HTML text.
    write_report(folder): write ``folder/report.html`` and return its path.
    REPORT_FILE: the file name, ``report.html``.

The page needs nothing but itself: the figures are PNG images embedded as base64 ``data:``
URLs, the style sheet is inline, there is no script and no link to any other file or to the
network, so it can be e-mailed or archived.  It shows what was run (the scenario and the
provenance from manifest.json), the headline outcomes with their labels and units from the
outcome glossary (``safsim.outcomes``), time-series fan charts with the scenario's shocks
marked, the comparison table of a comparison folder and the facts table of a validation
folder, with a plain-language caption under every figure.  The figures are drawn again from
the folder's CSV files (``safsim.plotting``), except a validation folder's ``plots/F*.png``,
which are embedded as they are.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from safsim import outcomes as glossary
from safsim.metrics import HEADLINE_OUTCOMES

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["REPORT_FILE", "ReportError", "detect_kind", "render_report", "write_report"]

REPORT_FILE = "report.html"

# Time-series columns shown as fan charts, when present.
FAN_COLUMNS: tuple[str, ...] = (
    "trust",
    "contention",
    "legitimacy",
    "mean_sv_weight",
    "active_sme_vso",
    "bid_rate_sme_vso",
    "budget_gbp",
    "codesign_rate",
    "mean_understanding",
)

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ccc;padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.95em;color:#333;margin-top:.4em;max-width:900px}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em}.muted{color:#666}
.pass{color:#1a7f37;font-weight:600}.fail{color:#b42318;font-weight:600}
"""


class ReportError(ValueError):
    """The folder cannot be reported on; ``str()`` is a one-line message."""


# --------------------------------------------------------------------------------------
# Reading the folder
# --------------------------------------------------------------------------------------


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise ReportError(f"{folder} has no manifest.json: not a folder written by safsim run, compare or validate")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: cannot read it ({exc})") from None
    if not isinstance(data, dict):
        raise ReportError(f"{path}: not a safsim manifest")
    return data


def detect_kind(folder: str | os.PathLike[str]) -> str:
    """What wrote ``folder``: ``"run"``, ``"comparison"`` or ``"validation"``.

    A comparison manifest has ``safsim_comparison_format`` (and compare.csv); a validation
    manifest has ``safsim_validation_format`` (and facts.csv); a run manifest has a
    ``scenario`` (and runs.csv).

    Raises:
        ReportError: the folder is missing, has no readable manifest.json or is of no known kind.
    """
    path = Path(folder)
    if not path.is_dir():
        raise ReportError(f"{path} is not a directory")
    m = _manifest(path)
    if "safsim_comparison_format" in m or m.get("kind") == "comparison":
        kind, needed = "comparison", "compare.csv"
    elif "safsim_validation_format" in m:
        kind, needed = "validation", "facts.csv"
    elif "scenario" in m:
        kind, needed = "run", "runs.csv"
    else:
        raise ReportError(f"{path}/manifest.json is not from safsim run, compare or validate")
    if not (path / needed).is_file():
        raise ReportError(f"{path} looks like a {kind} folder but has no {needed}")
    return kind


def _csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: cannot read it ({exc})") from None


# --------------------------------------------------------------------------------------
# HTML pieces
# --------------------------------------------------------------------------------------


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _png_data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _figure_html(fig: Figure | bytes, alt: str, caption: str) -> str:
    if isinstance(fig, bytes):
        data = fig
    else:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        data = buf.getvalue()
    return f'<figure><img src="{_png_data_url(data)}" alt="{_e(alt)}"><figcaption>{_e(caption)}</figcaption></figure>'


def _fmt(name: str, x: Any) -> str:
    from safsim.outcomes import format_value

    try:
        v = float(x)
    except (TypeError, ValueError):
        return _e(x)
    return format_value(name, v) if math.isfinite(v) else "n/a"


def _table_html(head: Sequence[str], rows: Sequence[Sequence[tuple[str, bool]]]) -> str:
    """A table; each cell is (already escaped HTML, numeric?)."""
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append(
            "<tr>" + "".join(f'<td class="num">{c}</td>' if num else f"<td>{c}</td>" for c, num in row) + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def _provenance(m: Mapping[str, Any], keys: Sequence[str]) -> str:
    rows = []
    for k in keys:
        if k not in m or m[k] is None:
            continue
        v = m[k]
        if k == "argv" and isinstance(v, list):
            v = " ".join(str(a) for a in v)
        elif k == "seeds" and isinstance(v, list):
            v = f"{len(v)} seeds: {', '.join(str(s) for s in v[:3])}{', ...' if len(v) > 3 else ''}"
        elif isinstance(v, (dict, list)):
            v = json.dumps(v)
        rows.append([(_e(k), False), (_e(v), False)])
    return _table_html(["item", "value"], rows)


def _scenario_yaml(scenario: Mapping[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(dict(scenario), sort_keys=False, allow_unicode=True)


def _quantiles(values: pd.Series, name: str) -> tuple[float, float, float]:
    import numpy as np

    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    try:
        integer = glossary.outcome(name).integer
    except KeyError:
        integer = False
    p5, med, p95 = np.quantile(x, [0.05, 0.5, 0.95], method="inverted_cdf" if integer else "linear")
    return float(p5), float(med), float(p95)


def _headline_table(runs_by_arm: Mapping[str, pd.DataFrame]) -> str:
    arms = list(runs_by_arm)
    head = ["outcome", "unit", "what it means"]
    for a in arms:
        head += [f"median{f' ({a})' if len(arms) > 1 else ''}", "90% interval"]
    rows = []
    for name in HEADLINE_OUTCOMES:
        if not all(name in r.columns for r in runs_by_arm.values()):
            continue
        o = glossary.outcome(name)
        row = [(_e(o.label), False), (_e(o.unit), False), (_e(o.meaning), False)]
        for runs in runs_by_arm.values():
            p5, med, p95 = _quantiles(runs[name], name)
            row += [(_fmt(name, med), True), (f"{_fmt(name, p5)} to {_fmt(name, p95)}", True)]
        rows.append(row)
    return _table_html(head, rows)


def _shocks(scenario: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for s in scenario.get("shocks", []) or [] if isinstance(s, dict) and "at_step" in s]


def _shock_sentence(shocks: Sequence[Mapping[str, Any]], steps_per_year: int) -> str:
    if not shocks:
        return "The scenario schedules no shocks."
    parts = [
        f"{str(s.get('kind', 'shock')).replace('_', ' ')} at quarter {int(s['at_step'])} "
        f"(year {int(s['at_step']) / steps_per_year:g})"
        for s in shocks
    ]
    return "Dotted vertical lines mark the scheduled shocks: " + "; ".join(parts) + "."


def _page(title: str, body: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


_PROVENANCE_KEYS = (
    "created_utc",
    "safsim_version",
    "git_revision",
    "git_dirty",
    "argv",
    "scenario_source",
    "scenario_sha256",
    "root_seed",
    "n_runs",
    "seeds",
    "workers",
    "wall_time_s",
    "python_version",
    "platform",
)


# --------------------------------------------------------------------------------------
# Sections by kind
# --------------------------------------------------------------------------------------


def _time_series_figures(
    ts: pd.DataFrame, what: str, shocks: list[dict[str, Any]], spy: int, *, compare: bool
) -> list[str]:
    from safsim.plotting import fan_chart, fan_chart_income, field_state_chart

    out = []
    columns = [c for c in FAN_COLUMNS if c in ts.columns]
    shock_text = _shock_sentence(shocks, spy)
    if columns:
        fig = fan_chart(ts, columns, steps_per_year=spy, scenario=what, shocks=shocks)
        if compare:
            caption = (
                "How the field evolves, quarter by quarter, in each scenario. Each colour is one scenario: the line "
                "is the typical (median) run and the shaded bands hold the middle half and 90% of the runs. Where "
                "the bands of two scenarios separate, the scenarios lead to different paths; where they overlap, "
                f"chance variation is as large as the difference. {shock_text}"
            )
        else:
            caption = (
                "How the field evolves, quarter by quarter. The line is the typical (median) run; the darker band "
                "holds the middle half of the runs and the lighter band 90% of them, so a wide band means the "
                f"outcome depends a lot on chance. {shock_text}"
            )
        out.append(_figure_html(fig, f"Fan charts over time: {what}", caption))
    if not compare:
        if any(c.startswith("income_") for c in ts.columns):
            fig = fan_chart_income(ts, steps_per_year=spy, scenario=what, shocks=shocks)
            out.append(
                _figure_html(
                    fig,
                    f"Contract income by provider kind: {what}",
                    "Contract income each quarter for each kind of provider (median run with the middle half and "
                    "90% of runs shaded); the last panel puts the typical paths side by side, so it shows which "
                    f"kinds of provider gain or lose the public money over time. {shock_text}",
                )
            )
        if {"field_state", "trust", "contention"} <= set(ts.columns):
            fig = field_state_chart(ts, steps_per_year=spy, scenario=what, shocks=shocks)
            out.append(
                _figure_html(
                    fig,
                    f"Field state over time: {what}",
                    "Top: in what share of the runs the field is settled, in crisis or resettling each quarter. "
                    "Bottom: trust towards the voluntary sector and contention (open conflict over the rules), "
                    f"typical run with the middle half of runs shaded. {shock_text}",
                )
            )
    return out


def _run_body(folder: Path, m: dict[str, Any]) -> list[str]:
    from safsim.plotting import outcome_distributions

    scenario = m.get("scenario") or {}
    name = str(m.get("scenario_name") or scenario.get("name") or "scenario")
    spy = int((scenario.get("field") or {}).get("steps_per_year", 4))
    runs = _csv(folder / "runs.csv")
    body = [
        f"<h1>Run report: {_e(name)}</h1>",
        f'<p class="muted">{len(runs)} runs of one scenario, written by <code>safsim run</code>.</p>',
        "<h2>What was run</h2>",
        f"<p>{_e(scenario.get('description', '')).strip() or 'No description.'}</p>",
        _provenance(m, _PROVENANCE_KEYS),
        "<details><summary>Every setting of the scenario as run (YAML)</summary>"
        f"<pre>{_e(_scenario_yaml(scenario))}</pre></details>",
        "<h2>Headline outcomes</h2>",
        "<p>The typical (median) value of each headline outcome over the runs, and the range holding 90% of them "
        "(5th to 95th percentile).</p>",
        _headline_table({name: runs}),
    ]
    heads = [o for o in HEADLINE_OUTCOMES if o in runs.columns]
    if heads:
        fig = outcome_distributions(runs, heads, scenario=name)
        body.append(
            _figure_html(
                fig,
                f"Outcome distributions: {name}",
                "Each panel shows how one headline outcome varies across the runs: the bars count runs, each tick "
                "at the bottom is one run and the dashed line is the median. A narrow spread means the result is "
                "robust to chance; a wide or two-humped spread means it depends on how events unfold.",
            )
        )
    ts_path = folder / "timeseries.csv"
    if ts_path.is_file():
        body.append("<h2>Over time</h2>")
        body += _time_series_figures(_csv(ts_path), name, _shocks(scenario), spy, compare=False)
    return body


def _scenario_differences(arms: Sequence[Mapping[str, Any]]) -> list[list[tuple[str, bool]]]:
    def flat(d: Any, prefix: str = "") -> dict[str, Any]:
        if isinstance(d, dict):
            out: dict[str, Any] = {}
            for k, v in d.items():
                out |= flat(v, f"{prefix}{k}.")
            return out
        return {prefix.rstrip("."): json.dumps(d)}

    ref = flat(arms[0].get("scenario") or {})
    rows = []
    for arm in arms[1:]:
        other = flat(arm.get("scenario") or {})
        for key in sorted(set(ref) | set(other)):
            if key in ("name", "description"):
                continue
            if ref.get(key) != other.get(key):
                rows.append(
                    [
                        (_e(arm.get("label", "")), False),
                        (f"<code>{_e(key)}</code>", False),
                        (_e(ref.get(key, "-")), False),
                        (_e(other.get(key, "-")), False),
                    ]
                )
    return rows


def _comparison_body(folder: Path, m: dict[str, Any]) -> list[str]:
    from safsim.plotting import forest_plot

    arms = list(m.get("arms") or [])
    labels = [str(a.get("label", f"arm {i + 1}")) for i, a in enumerate(arms)]
    what = " vs ".join(labels) or "comparison"
    table = _csv(folder / "compare.csv")
    ref = labels[0] if labels else "the first scenario"
    first = (arms[0].get("scenario") or {}) if arms else {}
    spy = int((first.get("field") or {}).get("steps_per_year", 4))
    arm_rows = [
        [
            (_e(a.get("arm", i + 1)), True),
            (_e(a.get("label", "")), False),
            (_e(a.get("scenario_source") or ""), False),
            (_e("; ".join(a.get("overrides") or []) or "-"), False),
            (_e(str(a.get("scenario_sha256", ""))[:12]), False),
        ]
        for i, a in enumerate(arms)
    ]
    body = [
        f"<h1>Comparison report: {_e(what)}</h1>",
        f'<p class="muted">{len(arms)} scenarios, {_e(m.get("n_runs", "?"))} runs each on the same seeds (common '
        "random numbers), written by <code>safsim compare</code>. Differences are each scenario minus "
        f"{_e(ref)}.</p>",
        "<h2>What was run</h2>",
        _table_html(["arm", "label", "scenario", "own --set overrides", "scenario hash"], arm_rows),
    ]
    diffs = _scenario_differences(arms)
    if diffs:
        body += [
            f"<p>Settings that differ from {_e(ref)}:</p>",
            _table_html(["arm", "setting", ref, "this arm"], diffs),
        ]
    body.append(_provenance(m, ("created_utc", "safsim_version", "git_revision", "git_dirty", "argv", "root_seed",
                                "n_runs", "seeds", "workers", "wall_time_s")))  # fmt: skip
    for a in arms:
        body.append(
            f"<details><summary>Every setting of {_e(a.get('label', ''))} (YAML)</summary>"
            f"<pre>{_e(_scenario_yaml(a.get('scenario') or {}))}</pre></details>"
        )
    body += [
        "<h2>Differences between the scenarios</h2>",
        "<p>Each scenario was run on the same list of seeds, so run <i>i</i> of every scenario faces the same "
        "chance events and the paired difference isolates the effect of the scenario. <b>difference</b> is the "
        "mean paired difference with its 95% bootstrap interval; <b>p</b> is a sign-flip permutation p-value; "
        "<b>Cliff's delta</b> runs from -1 (the scenario's runs are always lower) to +1 (always higher).</p>",
    ]
    rows = []
    for r in table.itertuples(index=False):
        name = str(r.outcome)
        is_ref = int(r.arm) == 1
        diff = (
            "reference"
            if is_ref
            else f"{_fmt(name, r.diff)} [{_fmt(name, r.diff_ci_low)}, {_fmt(name, r.diff_ci_high)}]"
        )
        rows.append(
            [
                (_e(r.label), False),
                (_e(r.unit), False),
                (_e(r.scenario), False),
                (_fmt(name, r.median), True),
                (f"{_fmt(name, r.p5)} to {_fmt(name, r.p95)}", True),
                (diff, True),
                ("" if is_ref else _e(f"{float(r.p_value):.3f}" if math.isfinite(float(r.p_value)) else "n/a"), True),
                ("" if is_ref else _e(f"{float(r.cliffs_delta):+.2f}" if math.isfinite(float(r.cliffs_delta)) else "n/a"), True),
            ]
        )  # fmt: skip
    body.append(
        _table_html(
            ["outcome", "unit", "scenario", "median", "90% interval", "difference [95% CI]", "p", "Cliff's delta"], rows
        )
    )
    if len(labels) >= 2 and len(table):
        fig = forest_plot(table)
        body.append(
            _figure_html(
                fig,
                f"Forest plot: {what}",
                f"For each outcome, how much each scenario changes it compared with {ref}: the dot is the average "
                "difference over paired runs and the bar its 95% confidence interval; each row has its own scale "
                "because the outcomes have different units. A bar that does not cross the vertical zero line is a "
                "difference unlikely to be due to chance; a bar across it means the runs cannot tell the scenarios "
                "apart on that outcome.",
            )
        )
    runs_path = folder / "runs.csv"
    if runs_path.is_file():
        runs = _csv(runs_path)
        if "arm_label" in runs.columns:
            by_arm = {
                lab: runs[runs["arm_label"].astype(str) == lab] for lab in dict.fromkeys(runs["arm_label"].astype(str))
            }
            body += [
                "<h2>Headline outcomes</h2>",
                "<p>The typical (median) value of each headline outcome in each scenario, and the range holding 90% "
                "of the runs.</p>",
                _headline_table(by_arm),
            ]  # fmt: skip
    ts_path = folder / "timeseries.csv"
    if ts_path.is_file():
        shocks: list[dict[str, Any]] = []
        for a in arms:
            for s in _shocks(a.get("scenario") or {}):
                if s not in shocks:
                    shocks.append(s)
        body.append("<h2>Over time</h2>")
        body += _time_series_figures(_csv(ts_path), what, shocks, spy, compare=True)
    return body


def _validation_body(folder: Path, m: dict[str, Any]) -> list[str]:
    facts = _csv(folder / "facts.csv")
    verdicts = m.get("fact_verdicts") or {}
    headline = m.get("headline") or (
        f"{sum(v == 'pass' for v in verdicts.values())} of {len(verdicts)} facts pass" if verdicts else ""
    )
    body = [
        "<h1>Validation report</h1>",
        f'<p class="muted">The stylized-fact experiments, written by <code>safsim validate</code>: '
        f"{_e(m.get('mode', '?'))} mode, {_e(m.get('n_replicates', '?'))} replicates per arm on common seeds.</p>",
        f"<p><b>{_e(headline)}</b></p>",
        "<h2>What was run</h2>",
        _provenance(
            m,
            (
                "created_utc",
                "git_revision",
                "git_dirty",
                "mode",
                "rule",
                "n_replicates",
                "root_seed",
                "seeds",
                "facts",
                "wall_time_s",
            ),
        ),  # fmt: skip
    ]
    arms = m.get("arms") or []
    if arms:
        arm_rows = [
            [(_e(a.get("scenario", "")), False), (_e(json.dumps(a.get("overrides") or {})), False)]
            for a in arms
            if isinstance(a, dict)
        ]
        body.append(
            f"<details><summary>The {len(arm_rows)} arms simulated (scenario and overrides)</summary>"
            + _table_html(["scenario", "overrides"], arm_rows)
            + "</details>"
        )
    body += [
        "<h2>Facts</h2>",
        "<p>Each row is one criterion of a stylized fact: what the literature expects, the effect the model "
        "produces with its 95% interval, and whether the criterion passes. In full mode a criterion passes when "
        "its interval lies on the expected side; a fact passes when all its counted criteria pass.</p>",
    ]
    rows = []
    for r in facts.to_dict("records"):
        verdict = str(r.get("verdict", ""))
        cls = "pass" if verdict == "pass" else "fail"
        counted = str(r.get("counted", True)).lower() in ("true", "1")
        shown = verdict if counted else f"({verdict})"
        rows.append(
            [
                (_e(r.get("criterion", "")), False),
                (_e(r.get("expected", "")), False),
                (_fmt("", r.get("effect")), True),
                (f"{_fmt('', r.get('ci_low'))} to {_fmt('', r.get('ci_high'))}", True),
                (_fmt("", r.get("p_value")), True),
                (f'<span class="{cls}">{_e(shown)}</span>', False),
                (f'<span class="{"pass" if r.get("fact_verdict") == "pass" else "fail"}">{_e(r.get("fact_verdict", ""))}</span>', False),
            ]
        )  # fmt: skip
    body.append(_table_html(["criterion", "expected", "effect", "95% interval", "p", "verdict", "fact"], rows))
    plots = folder / "plots"
    titles = {str(r["fact"]): str(r.get("title", "")) for r in facts.to_dict("records") if "fact" in r}
    if plots.is_dir():
        body.append("<h2>Figures</h2>")
        order = list(m.get("facts") or []) or sorted(p.stem for p in plots.glob("F*.png"))
        for fid in order:
            png = plots / f"{fid}.png"
            if not png.is_file():
                continue
            verdict = verdicts.get(fid, "")
            body.append(
                _figure_html(
                    png.read_bytes(),
                    f"{fid}: {titles.get(fid, '')}",
                    f"{fid}: {titles.get(fid, '')} The figure shows the simulated evidence for this fact, with its "
                    f"intervals, as the facts table reports it; the fact {'passes' if verdict == 'pass' else 'fails'} "
                    "in this report.",
                )
            )
    return body


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def render_report(folder: str | os.PathLike[str]) -> str:
    """The HTML report of a run, comparison or validation folder (see the module docstring).

    Raises:
        ReportError: the folder is not a results folder of a known kind, or a file is unreadable.
    """
    path = Path(folder)
    kind = detect_kind(path)
    m = _manifest(path)
    body = {"run": _run_body, "comparison": _comparison_body, "validation": _validation_body}[kind](path, m)
    body.append(
        f'<p class="muted">Written by safsim {_e(m.get("safsim_version", ""))}. Every column and unit is described '
        "in docs/outputs.md; this page is self-contained (no network or other file needed).</p>"
    )
    title = {"run": "safsim run report", "comparison": "safsim comparison report", "validation": "safsim validation"}
    return _page(title[kind], body)


def write_report(folder: str | os.PathLike[str]) -> Path:
    """Write ``folder/report.html`` (replacing an earlier one atomically) and return its path.

    Raises:
        ReportError: see ``render_report``.
        OSError: the file could not be written.
    """
    path = Path(folder)
    text = render_report(path)
    target = path / REPORT_FILE
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
