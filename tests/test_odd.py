"""docs/ODD.md stays true of the code: every submodel names the module (and functions) implementing it."""

from __future__ import annotations

import ast
import importlib
import re
from functools import cache
from pathlib import Path
from typing import Any

from safsim.reference import reference_rows

ROOT = Path(__file__).resolve().parent.parent
ODD_PATH = ROOT / "docs" / "ODD.md"
PACKAGE = ROOT / "safsim"

# `Implemented in: safsim/bidding.py (collect_bids, learn)`: one module, optional names.
IMPLEMENTED = re.compile(r"^Implemented in: (?P<path>safsim/[\w/]+\.py)(?: \((?P<names>[^()]+)\))?$")

# The modules that implement a part of the step (safsim/model.py's table).
STEP_MODULES = (
    "procurement",
    "engagement",
    "bidding",
    "tendering",
    "delivery",
    "lifecycle",
    "imitation",
    "field_dynamics",
    "shocks",
    "agents",
    "population",
)

# Private methods of FieldModel and methods of Provider from before the model core was split
# into modules; they no longer exist (their rules are functions of the submodel modules).
OLD_PRIVATE = (
    "_make_commissioners",
    "_add_providers",
    "_peer_lists",
    "_year_start",
    "_imitate",
    "_review_monitored_contracts",
    "_tender_round",
    "_make_tender",
    "_engage",
    "_run_tender",
    "_form_bid",
    "_bid_cost",
    "_wants_to_bid",
    "_bid_terms",
    "_consortium",
    "_apply_award",
    "_deliver",
    "_end_contract",
    "_pay",
    "_money_and_lifecycle",
    "_exit",
    "_entry",
    "_update_field",
    "_broker_settlement",
    "_restore_price_led",
)
OLD_PROVIDER_METHODS = ("win_probability", "bid_cost_gbp", "learn", "forget", "spend")

NAMED_ASSUMPTIONS = (
    "behaviour.markup_win_step_share",
    "behaviour.initial_track_record",
    "behaviour.coproduction_trust_share",
    "field.initial_loss_share",
)


def odd_text() -> str:
    return ODD_PATH.read_text(encoding="utf-8")


def implemented_lines() -> list[str]:
    return [line for line in odd_text().splitlines() if line.startswith("Implemented in")]


def resolve(obj: Any, dotted: str) -> bool:
    """Whether ``obj`` has the attribute chain ``dotted`` (``Class.method`` or ``name``)."""
    for part in dotted.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def headed_sections(text: str) -> list[tuple[str, list[str]]]:
    """(heading, lines up to the next heading) for every heading of the document."""
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("#"):
            sections.append((line, []))
        elif sections:
            sections[-1][1].append(line)
    return sections


def step_sections(text: str) -> list[tuple[str, list[str]]]:
    """The process-overview heading and every submodel heading (under '3.4 Submodels')."""
    out = []
    in_submodels = False
    for heading, body in headed_sections(text):
        level = len(heading) - len(heading.lstrip("#"))
        if heading.startswith("### "):
            in_submodels = "Submodels" in heading
        elif level <= 2:
            in_submodels = False
        if heading.startswith("### 1.3 Process overview") or (in_submodels and level == 4):
            out.append((heading, body))
    return out


@cache
def tiny_model() -> Any:
    from safsim.model import FieldModel
    from safsim.scenario import load_scenario

    overrides = {
        "horizon_steps": 1,
        "field.n_authorities": 1,
        "providers.sme_vso.count": 2,
        "providers.large_charity.count": 1,
        "providers.corporate.count": 1,
        "providers.social_enterprise.count": 1,
    }
    m = FieldModel(load_scenario("baseline", overrides), seed=1)
    m.release()
    return m


def test_implemented_in_lines_name_existing_modules_and_functions():
    """Every `Implemented in:` line has the one form, names an existing module and names only attributes of it."""
    lines = implemented_lines()
    assert lines, "docs/ODD.md has no 'Implemented in:' lines"
    problems = []
    for line in lines:
        match = IMPLEMENTED.match(line)
        if match is None:
            problems.append(f"not of the form 'Implemented in: safsim/x.py (a, b)': {line!r}")
            continue
        path = match["path"]
        if not (ROOT / path).is_file():
            problems.append(f"no such file: {path}")
            continue
        module = importlib.import_module(path[: -len(".py")].replace("/", "."))
        for name in (match["names"] or "").split(","):
            if name.strip() and not resolve(module, name.strip()):
                problems.append(f"{path} has no {name.strip()}")
    assert problems == []


def test_every_step_module_is_named_in_an_implemented_in_line():
    """Each module that implements a part of the step is named in at least one `Implemented in:` line."""
    named = {m["path"] for line in implemented_lines() if (m := IMPLEMENTED.match(line))}
    missing = [m for m in STEP_MODULES if f"safsim/{m}.py" not in named]
    assert missing == []


def test_odd_names_no_private_method_of_the_old_structure():
    """ODD.md names no private method (no 'FieldModel._', no old _method) and no removed Provider method."""
    text = odd_text()
    assert "FieldModel._" not in text
    private = sorted(set(re.findall(r"(?<!\w)(_[A-Za-z]\w*)", text)))
    assert private == [], f"private names in ODD.md: {private}"
    old = [name for name in OLD_PRIVATE if re.search(rf"(?<!\w){name}\b", text)]
    assert old == []
    removed = [f"Provider.{m}" for m in OLD_PROVIDER_METHODS if re.search(rf"\bProvider\.{m}\b", text)]
    assert removed == []


def test_every_submodel_section_starts_with_its_implemented_in_line():
    """The process overview and every submodel section have exactly one `Implemented in:` line, right under the heading."""
    sections = step_sections(odd_text())
    assert len(sections) > 10, "the 'Submodels' part or the process overview was not found"
    problems = []
    for heading, body in sections:
        first = next((line for line in body if line.strip()), "")
        if not first.startswith("Implemented in: "):
            problems.append(f"{heading}: first line is {first!r}")
        if sum(line.startswith("Implemented in") for line in body) != 1:
            problems.append(f"{heading}: not exactly one 'Implemented in:' line")
    assert problems == []


def test_odd_sections_cited_by_module_docstrings_exist():
    """Every 'docs/ODD.md, "Submodels: X"' cited in a module docstring is the title of a submodel section."""
    titles = [h.lower() for h, _ in step_sections(odd_text())]
    cited = {}
    for path in sorted(PACKAGE.glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        for name in re.findall(r'docs/ODD\.md,\s+"Submodels: ([^"]+)"', doc):
            cited[f"{path.name}: {name}"] = name.lower()
    assert cited, "no module docstring cites an ODD submodel"
    missing = [where for where, name in cited.items() if not any(name in t for t in titles)]
    assert missing == []


def test_named_assumptions_are_in_the_odd():
    """The named assumptions that replaced literals (markup win step, initial track record, co-production trust, initial loss share) are stated."""
    text = odd_text()
    missing = [key for key in NAMED_ASSUMPTIONS if f"`{key}`" not in text]
    assert missing == []


def _roots() -> dict[str, list[Any]]:
    """What the first part of a dotted code name in ODD.md may refer to."""
    m = tiny_model()
    roots: dict[str, list[Any]] = {"safsim": [importlib.import_module("safsim")]}
    for path in PACKAGE.glob("*.py"):
        if path.stem != "__init__":
            roots.setdefault(path.stem, []).append(importlib.import_module(f"safsim.{path.stem}"))
    roots["model"].append(m)  # `model.pop`: the model instance
    instances = {
        "FieldModel": m,
        "Commissioner": m.commissioners[0],
        "Provider": m.providers[0],
        "Government": m.government,
        "Scenario": m.scenario,
    }
    for module in ("model", "agents", "population", "delivery", "tendering", "shocks", "config", "field"):
        mod = importlib.import_module(f"safsim.{module}")
        for name, obj in vars(mod).items():
            if isinstance(obj, type) and obj.__module__ == mod.__name__:
                roots.setdefault(name, []).append(obj)
                if name in instances:
                    roots[name].append(instances[name])
    return roots


def test_code_names_in_the_odd_exist():
    """Every dotted code name in backticks (module.function, Class.method, model.attribute) exists, or is a scenario key."""
    keys = {path for path, *_ in reference_rows()}
    roots = _roots()
    unresolved = []
    for span in sorted(set(re.findall(r"`([^`\s]+)`", odd_text()))):
        name = span.removesuffix("()")
        if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", name) or name in keys:
            continue
        first, rest = name.split(".", 1)
        if first == "safsim" and rest.split(".")[0] in roots:
            first, _, rest = rest.partition(".")
        if first not in roots or not rest:
            continue
        if not any(resolve(root, rest) for root in roots[first]):
            unresolved.append(span)
    assert unresolved == [], f"code names in ODD.md that do not exist: {unresolved}"
