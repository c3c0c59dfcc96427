"""safsim report: one self-contained HTML page for run, comparison and validation folders."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from safsim.analysis.report import ReportError, detect_kind, render_report
from safsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
TINY = ["--set", "horizon_steps=8"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A run folder (austerity: one shock), a comparison folder and a validation folder, each with report.html."""
    base = tmp_path_factory.mktemp("report")
    run, cmp_, val = base / "run", base / "cmp", base / "val"
    assert main(["run", "austerity", "-n", "3", "-q", "--out", str(run), "--report", *TINY]) == 0
    argv = ["compare", "baseline", "austerity", "-n", "3", "-q", "--out", str(cmp_), "--report", *TINY]
    assert main(argv) == 0
    shutil.copytree(ROOT / "validation", val, ignore=shutil.ignore_patterns("report.html"))
    assert main(["report", str(val)]) == 0
    return {"run": run, "comparison": cmp_, "validation": val}


def test_the_kind_of_folder_is_detected(folders: dict[str, Path], tmp_path: Path) -> None:
    """detect_kind tells run, comparison and validation folders apart; other folders are refused."""
    assert {kind: detect_kind(path) for kind, path in folders.items()} == {k: k for k in folders}
    with pytest.raises(ReportError, match="manifest.json"):
        detect_kind(tmp_path)


def test_report_has_no_external_references_and_embeds_every_figure(folders: dict[str, Path]) -> None:
    """report.html has no http(s) src/href, no script and no stylesheet link; every <img> is a base64 PNG."""
    for kind, path in folders.items():
        text = (path / "report.html").read_text(encoding="utf-8")
        assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.I), kind
        assert "<script" not in text.lower() and "<link" not in text.lower(), kind
        srcs = re.findall(r"<img\s[^>]*src=\"([^\"]*)\"", text)
        assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs), kind
        assert text.count("<figure>") == text.count("<figcaption>") == len(srcs), kind


def test_report_shows_what_was_run_headlines_shocks_and_tables(folders: dict[str, Path]) -> None:
    """Each report names what was run with provenance, uses glossary labels, and shows its kind's table."""
    run = (folders["run"] / "report.html").read_text(encoding="utf-8")
    assert "Run report: austerity" in run and "scenario_sha256" in run
    assert "Contract value share: small VSOs" in run and "Trust at the end" in run
    assert "austerity at quarter 4" in run  # the shock, named in the fan-chart caption
    assert run.count("<img") == 4  # distributions, fan charts, income fans, field state
    cmp_ = (folders["comparison"] / "report.html").read_text(encoding="utf-8")
    assert "Comparison report: baseline vs austerity" in cmp_ and "Cliff&#x27;s delta" in cmp_
    assert "difference [95% CI]" in cmp_ and "Settings that differ from baseline" in cmp_
    val = (folders["validation"] / "report.html").read_text(encoding="utf-8")
    n_plots = len(list((folders["validation"] / "plots").glob("F*.png")))
    assert "Validation report" in val and val.count("<img") == n_plots > 0


def test_report_of_a_non_results_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """safsim report on a folder without a manifest exits 2 with one line."""
    assert main(["report", str(tmp_path)]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    with pytest.raises(ReportError):
        render_report(tmp_path / "missing")


def _open_offline(browser, path: Path) -> tuple[list[int], list[str], list[str]]:
    """Open a file in a new page with http(s) blocked: image widths, requests attempted, errors logged."""
    page = browser.new_page()
    attempted: list[str] = []
    errors: list[str] = []

    def block(route) -> None:
        attempted.append(route.request.url)
        route.abort()

    def request(req) -> None:
        if not req.url.startswith(("file:", "data:")):
            attempted.append(req.url)

    page.route(re.compile(r"^https?://"), block)
    page.on("request", request)
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri(), wait_until="load")
    widths = page.evaluate("Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")
    page.close()
    return widths, attempted, errors


def test_report_opens_in_a_headless_browser_without_network(folders: dict[str, Path]) -> None:
    """In headless Chromium with the network blocked, each report loads every image, logs no error, asks nothing."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium for the browser tests")
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            for kind, path in folders.items():
                widths, attempted, errors = _open_offline(browser, path / "report.html")
                assert widths and all(w > 0 for w in widths), (kind, widths)
                assert attempted == [], (kind, attempted)
                assert errors == [], (kind, errors)
        finally:
            browser.close()
