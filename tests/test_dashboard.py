"""Tests of the teaching dashboard (safsim.dashboard): the levers, presets, captions and model
wrapper without a browser, and the real app in headless chromium (marked slow).

Objects:
    test_*: the tests.  ``test_dashboard_in_browser`` starts the app server on a free port in a
    subprocess and drives Debian's chromium with Playwright; it writes a screenshot to the test's
    tmp folder, and to docs/img/dashboard.png when SAFSIM_UPDATE_SCREENSHOT=1:

        SAFSIM_UPDATE_SCREENSHOT=1 .venv/bin/python -m pytest tests/test_dashboard.py -m slow
"""

from __future__ import annotations

import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from safsim.config import ProviderKind
from safsim.dashboard.levers import (
    DEFAULT_SEED,
    ENGAGEMENT_LEVELS,
    PRESETS,
    DashboardModel,
    Levers,
    caption,
    levers_for,
    overrides_for,
    rebalance_weights,
    scenario_for,
)
from safsim.field import FieldState
from safsim.scenario import list_bundled, load_scenario

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")


# ------------------------------------------------------------------ weights


@pytest.mark.parametrize("sv", [0.0, 0.05, 0.1, 0.2, 0.3, 1.0])
@pytest.mark.parametrize(("price", "quality"), [(0.6, 0.35), (0.5, 0.3), (0.0, 0.0), (1.0, 0.0)])
def test_rebalance_weights_sum_to_one_and_keep_price_quality_ratio(sv, price, quality):
    p, q, s = rebalance_weights(sv, price, quality)
    assert math.isclose(p + q + s, 1.0)
    assert s == sv
    if price + quality > 0 and sv < 1:
        assert math.isclose(p / (p + q), price / (price + quality))
    elif sv < 1:
        assert math.isclose(p, q)


def test_rebalance_weights_clips_the_sv_weight():
    assert rebalance_weights(1.5, 0.6, 0.35) == (0.0, 0.0, 1.0)
    assert rebalance_weights(-0.1, 0.6, 0.35)[2] == 0.0


@pytest.mark.parametrize("preset", list(PRESETS.values()))
@pytest.mark.parametrize("sv", [0.0, 0.2, 0.3])
def test_sv_lever_gives_scenario_weights_summing_to_one(preset, sv):
    scenario = scenario_for(levers_for(preset).replace(sv_weight=sv))
    c = scenario.commissioners
    assert c.sv_weight == sv
    assert math.isclose(c.price_weight + c.quality_weight + c.sv_weight, 1.0)


def test_sv_lever_at_20_percent_from_baseline():
    c = scenario_for(Levers().replace(sv_weight=0.2)).commissioners
    assert (round(c.price_weight, 4), round(c.quality_weight, 4), c.sv_weight) == (0.5053, 0.2947, 0.2)


# ------------------------------------------------------------------ presets


def test_presets_are_baseline_and_the_three_cases():
    assert PRESETS == {"Baseline": "baseline", "Case A": "case_a", "Case B": "case_b", "Case C": "case_c"}
    assert set(PRESETS.values()) <= set(list_bundled())


@pytest.mark.parametrize("preset", list(PRESETS.values()))
def test_untouched_preset_runs_exactly_the_bundled_scenario(preset):
    levers = levers_for(preset)
    assert levers.scenario == preset
    assert overrides_for(levers) == {}
    assert scenario_for(levers) == load_scenario(preset)


def test_preset_levers_read_the_scenarios():
    a, b = levers_for("case_a"), levers_for("case_b")
    assert (a.austerity, a.austerity_cut, a.austerity_start) == (True, 0.25, 1)
    assert b.engagement == "co_design" and b.social_skill == 0.8
    assert levers_for("baseline") == Levers()
    assert levers_for("case_c").sv_weight == 0.035  # the mean of a 2% / 5% choice


def test_levers_write_the_scenario_keys():
    levers = levers_for("case_a").replace(
        austerity=False,
        engagement="co_production",
        social_skill=0.9,
        sv_understanding=0.2,
        risk_aversion=0.1,
        n_sme_vso=7,
        n_corporate=0,
        consortia=False,
    )
    s = scenario_for(levers)
    assert [sh.kind for sh in s.shocks] == []
    assert s.commissioners.engagement == "co_production"
    assert s.providers.sme_vso.count == 7 and s.providers.corporate.count == 0
    assert s.policies.consortia is False
    for name, mean in (("social_skill", 0.9), ("sv_understanding", 0.2), ("risk_aversion", 0.1)):
        d = getattr(s.commissioners, name)
        assert math.isclose(d.a / (d.a + d.b), mean)
    assert tuple(ENGAGEMENT_LEVELS) == ("none", "consultation", "co_design", "co_production")


def test_austerity_lever_sets_cut_and_timing():
    s = scenario_for(Levers().replace(austerity=True, austerity_cut=0.3, austerity_start=6))
    (shock,) = s.shocks
    assert (shock.kind, shock.budget_cut, shock.at_step, shock.over_steps) == ("austerity", 0.3, 6, 8)
    # Case B keeps its political crisis when its austerity is switched off.
    assert [sh.kind for sh in scenario_for(levers_for("case_b").replace(austerity=False)).shocks] == [
        "political_crisis"
    ]


# ------------------------------------------------------------------ captions


@pytest.mark.parametrize("state", list(FieldState))
def test_caption_for_each_field_state(state):
    text = caption(state)
    assert text == caption(state.value)
    assert 60 < len(text) < 400
    assert {"settled": "Settled", "crisis": "crisis", "resettlement": "Resettlement"}[state.value] in text


def test_captions_differ_and_unknown_state_is_refused():
    assert len({caption(s) for s in FieldState}) == len(FieldState)
    with pytest.raises(ValueError):
        caption("anarchy")


# ------------------------------------------------------------------ model wrapper


def test_dashboard_model_accepts_a_seed_and_is_reproducible():
    a, b = DashboardModel(levers_for("case_a"), seed=7), DashboardModel(levers_for("case_a"), seed=7)
    for _ in range(6):
        a.step()
        b.step()
    assert a.seed == 7 and a.steps == 6
    assert a.timeseries_rows == b.timeseries_rows
    assert len(a.bids_per_tender) == 6
    assert all(math.isnan(x) or x >= 0 for x in a.bids_per_tender)
    assert DashboardModel().seed == DEFAULT_SEED


def test_dashboard_model_from_settings_and_stops_at_horizon():
    levers = levers_for("case_b").replace(n_sme_vso=5)
    m = DashboardModel(settings=lambda: (levers, 11))
    assert (m.levers, m.seed, m.running) == (levers, 11, True)
    # the small VSOs present after the warm-up (five drawn, then entries and exits)
    assert m.initial_vso_count == m.active_count(ProviderKind.sme_vso) > 0
    while m.running:
        m.step()
    assert m.steps == m.scenario.horizon_steps == 40
    assert [r["step"] for r in m.timeseries_rows] == list(range(40))


def test_sv_weight_lever_reaches_the_commissioners():
    low = DashboardModel(Levers(), seed=1)
    high = DashboardModel(Levers().replace(sv_weight=0.2), seed=1)
    for m in (low, high):
        for _ in range(4):
            m.step()
    assert high.timeseries_rows[-1]["mean_sv_weight"] > 2 * low.timeseries_rows[-1]["mean_sv_weight"]


# ------------------------------------------------------------------ figures and server (no browser)


def test_figures_render_before_and_after_steps():
    from safsim.dashboard.views import FIGURES, arena_layout, render_all

    m = DashboardModel(levers_for("case_a"), seed=3)
    for make in FIGURES.values():
        assert isinstance(make(m), Figure)
    first = render_all(m)
    for _ in range(8):
        m.step()
    assert render_all(m) > first  # the charts fill in
    comm_xy, prov_xy = arena_layout(m)
    assert comm_xy.shape == (1, 2) and prov_xy.shape == (m.pop.n, 2)


def test_ui_free_modules_do_not_import_solara():
    code = "import sys, safsim.dashboard.levers, safsim.dashboard.views, safsim.dashboard.server, safsim.cli; print('solara' in sys.modules, 'mesa.visualization' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"]


def test_server_binds_localhost_by_default():
    from safsim.dashboard.server import SCENARIO_ENV, SEED_ENV, command, environment

    cmd = command()
    assert cmd[1:5] == ["-m", "solara", "run", "safsim.dashboard.app"]
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    env = environment("case_b", 5)
    assert (env[SCENARIO_ENV], env[SEED_ENV]) == ("case_b", "5")


def test_viz_missing_names_the_extra(monkeypatch):
    from safsim.dashboard import server

    monkeypatch.setitem(sys.modules, "solara", None)  # import solara raises ImportError
    message = server.viz_missing()
    assert message is not None and "install safsim[viz]" in message


def test_cli_dashboard_errors_are_one_line(monkeypatch, capsys):
    from safsim import cli
    from safsim.dashboard import server

    assert cli.main(["dashboard", "no_such_scenario"]) == cli.EXIT_BAD_INPUT
    monkeypatch.setattr(server, "viz_missing", lambda: server.VIZ_MISSING)
    assert cli.main(["dashboard"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "install safsim[viz]" in err[1]


def test_cli_dashboard_passes_host_port_and_seed(monkeypatch):
    from safsim import cli
    from safsim.dashboard import server

    seen = {}
    monkeypatch.setattr(server, "viz_missing", lambda: None)
    monkeypatch.setattr(server, "serve", lambda scenario, **kw: seen.update(scenario=scenario, **kw) or 0)
    assert cli.main(["dashboard", "case_c", "--port", "9001", "--host", "0.0.0.0", "--seed", "4"]) == 0
    assert seen == {"scenario": "case_c", "host": "0.0.0.0", "port": 9001, "seed": 4}


# ------------------------------------------------------------------ the real app in a browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the dashboard server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the dashboard server did not answer at {url} within {timeout:.0f} s")


@pytest.fixture
def dashboard_url(tmp_path):
    from safsim.dashboard.server import RENDER_INTERVAL_ENV, command, environment

    port = _free_port()
    env = environment("baseline", DEFAULT_SEED)
    env[RENDER_INTERVAL_ENV] = "1"  # Step advances one quarter
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(command("127.0.0.1", port), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_http(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _caption(page) -> str:
    return page.locator("p", has_text="Field state:").first.inner_text()


def _wait_caption(page, pattern: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = _caption(page)
        if re.search(pattern, text):
            return text
        time.sleep(0.25)
    raise AssertionError(f"caption never matched {pattern!r}; last: {text!r}")


@pytest.mark.slow
def test_dashboard_in_browser(tmp_path, request):
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    url = request.getfixturevalue("dashboard_url")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1500})
            page.goto(url)
            page.locator("p", has_text="Field state:").first.wait_for(timeout=90_000)
            text = _caption(page)
            assert "quarter 0 of 40" in text and "scenario baseline" in text and "SV weight 5%" in text

            # A preset changes the model.
            page.get_by_role("button", name="Case A").click()
            _wait_caption(page, r"scenario case_a")

            # A slider changes the model: the social-value weight, 5% -> 10% by keyboard.
            slider = page.get_by_role("slider").first
            assert slider.get_attribute("aria-valuenow") == "0.05"
            slider.focus()
            for _ in range(5):
                slider.press("ArrowRight")
            _wait_caption(page, r"SV weight 10%")

            # The seed is shown and settable.
            seed_box = page.get_by_label("Seed")
            seed_box.fill("7")
            seed_box.press("Enter")
            _wait_caption(page, r"seed 7 ")
            seed_box.fill(str(DEFAULT_SEED))
            seed_box.press("Enter")
            _wait_caption(page, rf"seed {DEFAULT_SEED} .*SV weight 10%")

            # Stepping changes the charts.
            charts = page.locator("img")
            charts.first.wait_for()
            before = [charts.nth(i).get_attribute("src") for i in range(charts.count())]
            step = page.get_by_role("button", name="Step", exact=True)
            for quarter in range(1, 15):
                step.click()
                _wait_caption(page, rf"quarter {quarter} of 40")
            page.get_by_text("Step: 14").wait_for()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                after = [charts.nth(i).get_attribute("src") for i in range(charts.count())]
                if all(a != b for a, b in zip(after, before, strict=True)):
                    break
                time.sleep(0.25)
            assert len(after) == 5 and all(a != b for a, b in zip(after, before, strict=True))
            time.sleep(1.0)  # let the last images paint
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=False)
            assert shot.stat().st_size > 20_000
            if os.environ.get("SAFSIM_UPDATE_SCREENSHOT") == "1":
                (ROOT / "docs" / "img").mkdir(parents=True, exist_ok=True)
                shutil.copyfile(shot, ROOT / "docs" / "img" / "dashboard.png")
        finally:
            browser.close()
