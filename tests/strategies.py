"""Hypothesis strategies for safsim tests.

Objects:
    unit_floats, distributions_01, params_01: valid numbers and distributions on [0, 1].
    award_weights: (price, quality, sv) weights that sum to 1.
    shocks, authority_overrides: valid list items.
    scenario_mappings: valid scenario-file mappings (partial, merged onto defaults at load).
    scenarios: validated ``Scenario`` objects built from ``scenario_mappings``.
    junk_scalars, junk_trees, scenario_shaped_junk, junk_text: inputs a loader must reject
        cleanly (or accept), never crash on.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from safsim.config import (
    CommissionerConfig,
    Engagement,
    PoliciesConfig,
    ProviderKind,
    Scenario,
    ShockKind,
    SvDefinition,
)
from safsim.scenario import load_scenario

unit_floats = st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_infinity=False)
positive_floats = st.floats(min_value=0.01, max_value=50.0, allow_nan=False, allow_infinity=False)


@st.composite
def _ordered_pair(draw: st.DrawFn) -> tuple[float, float]:
    a, b = sorted((draw(unit_floats), draw(unit_floats)))
    if a == b:
        a, b = 0.0, 1.0
    return a, b


@st.composite
def distributions_01(draw: st.DrawFn) -> dict[str, Any]:
    """A distribution (as a mapping) whose values all lie in [0, 1]."""
    kind = draw(st.sampled_from(["beta", "uniform", "normal", "choice"]))
    low, high = draw(_ordered_pair())
    if kind == "beta":
        return {
            "dist": "beta",
            "a": draw(positive_floats),
            "b": draw(positive_floats),
            "low": low,
            "high": high,
        }
    if kind == "uniform":
        return {"dist": "uniform", "low": low, "high": high}
    if kind == "normal":
        return {
            "dist": "normal",
            "mean": draw(unit_floats),
            "sd": draw(unit_floats),
            "low": low,
            "high": high,
        }
    values = draw(st.lists(unit_floats, min_size=1, max_size=4))
    return {"dist": "choice", "values": values}


def params_01() -> st.SearchStrategy[Any]:
    """A number in [0, 1] or a distribution on [0, 1]."""
    return st.one_of(unit_floats, distributions_01())


@st.composite
def award_weights(draw: st.DrawFn) -> tuple[float, float, float]:
    """Price, quality and social-value weights that sum to 1 (within float rounding)."""
    price = draw(unit_floats)
    quality = draw(unit_floats) * (1.0 - price)
    sv = max(0.0, 1.0 - price - quality)
    return price, quality, sv


@st.composite
def shocks(draw: st.DrawFn, n_authorities: int = 1) -> dict[str, Any]:
    """One valid scheduled shock."""
    kind = draw(st.sampled_from(list(ShockKind)))
    out: dict[str, Any] = {"kind": kind.value, "at_step": draw(st.integers(0, 200))}
    if kind is ShockKind.austerity:
        out["budget_cut"] = draw(st.floats(0.0, 0.99, allow_nan=False))
        if draw(st.booleans()):
            out["over_steps"] = draw(st.integers(1, 20))
    elif kind is ShockKind.political_crisis:
        out["legitimacy_drop"] = draw(unit_floats)
    elif kind in (ShockKind.guidance, ShockKind.review):
        out["understanding_gain"] = draw(unit_floats)
    elif kind is ShockKind.training:
        out["skill_gain"] = draw(unit_floats)
    elif kind is ShockKind.regulation_change:
        out["intensity"] = draw(unit_floats)
    elif kind is ShockKind.threshold_change:
        out["threshold_gbp"] = draw(st.floats(0.0, 1e8, allow_nan=False))
    elif kind is ShockKind.sva_strengthened:
        out["min_sv_weight"] = draw(unit_floats)
    if draw(st.booleans()):
        out["authorities"] = draw(st.lists(st.integers(0, n_authorities - 1), max_size=3))
    return out


@st.composite
def authority_overrides(draw: st.DrawFn) -> dict[str, Any]:
    """One valid per-authority override (weights given together, summing to 1)."""
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["name"] = draw(st.text(max_size=12))
    if draw(st.booleans()):
        out["price_weight"], out["quality_weight"], out["sv_weight"] = draw(award_weights())
    if draw(st.booleans()):
        out["sv_understanding"] = draw(params_01())
    if draw(st.booleans()):
        out["engagement"] = draw(st.sampled_from(list(Engagement))).value
    if draw(st.booleans()):
        # A cap of at least 1e6 on budgets of at most 1e9 keeps the lot count within MAX_LOTS_PER_STEP.
        out["max_lot_gbp"] = draw(st.floats(1e6, 1e9, allow_nan=False))
    return out


_POLICY_FLAGS = [name for name, f in PoliciesConfig.model_fields.items() if f.annotation in (bool, "bool")]


@st.composite
def scenario_mappings(draw: st.DrawFn) -> dict[str, Any]:
    """A valid, partial scenario mapping: a random subset of levers set to random values."""
    n_auth = draw(st.integers(1, 6))
    out: dict[str, Any] = {"field": {"n_authorities": n_auth}}
    if draw(st.booleans()):
        out["name"] = draw(st.text(max_size=20))
    if draw(st.booleans()):
        out["description"] = draw(st.text(max_size=40))
    if draw(st.booleans()):
        out["horizon_steps"] = draw(st.integers(1, 10_000))
    if draw(st.booleans()):
        out["seed"] = draw(st.integers(0, 2**63 - 1))
    if draw(st.booleans()):
        out["replicates"] = draw(st.integers(1, 1000))
    if draw(st.booleans()):
        out["field"]["initial_trust"] = draw(unit_floats)
    com: dict[str, Any] = {}
    if draw(st.booleans()):
        com["price_weight"], com["quality_weight"], com["sv_weight"] = draw(award_weights())
    for name in ("sv_understanding", "social_skill", "risk_aversion", "monitoring_rate"):
        if draw(st.booleans()):
            com[name] = draw(params_01())
    if draw(st.booleans()):
        com["annual_budget_gbp"] = draw(st.floats(0.0, 1e9, allow_nan=False))
    if draw(st.booleans()):
        com["engagement"] = draw(st.sampled_from(list(Engagement))).value
    if draw(st.booleans()):
        com["sv_definition"] = draw(st.sampled_from(list(SvDefinition))).value
    if com:
        out["commissioners"] = com
    providers: dict[str, Any] = {}
    for kind in draw(st.lists(st.sampled_from(list(ProviderKind)), unique=True, max_size=4)):
        providers[kind.value] = {"count": draw(st.integers(0, 500))}
        if draw(st.booleans()):
            providers[kind.value]["quality"] = draw(params_01())
    if providers:
        out["providers"] = providers
    flags = draw(st.lists(st.sampled_from(_POLICY_FLAGS), unique=True, max_size=4))
    if flags:
        out["policies"] = {f: draw(st.booleans()) for f in flags}
    if draw(st.booleans()):
        out["authorities"] = draw(st.lists(authority_overrides(), max_size=n_auth))
    if draw(st.booleans()):
        out["shocks"] = draw(st.lists(shocks(n_auth), max_size=4))
    return out


def scenarios() -> st.SearchStrategy[Scenario]:
    """Validated scenarios: ``scenario_mappings`` loaded onto the defaults."""
    return scenario_mappings().map(load_scenario)


# --------------------------------------------------------------------------------------
# Junk
# --------------------------------------------------------------------------------------

junk_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # includes nan and +-inf
    st.text(max_size=20),
)

_FIELD_NAMES = sorted(
    {
        *Scenario.model_fields,
        *CommissionerConfig.model_fields,
        *PoliciesConfig.model_fields,
        *(k.value for k in ProviderKind),
        "dist",
        "a",
        "b",
        "low",
        "high",
        "values",
        "p",
        "kind",
        "at_step",
        "budget_cut",
        "count",
        "extends",
        "beta",
        "uniform",
        "normal",
        "lognormal",
        "choice",
    }
)

junk_keys = st.one_of(st.sampled_from(_FIELD_NAMES), st.text(max_size=10))


def junk_trees() -> st.SearchStrategy[Any]:
    """Random nested lists and mappings of junk scalars (text keys)."""
    return st.recursive(
        junk_scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=8), children, max_size=4),
        ),
        max_leaves=20,
    )


def scenario_shaped_junk() -> st.SearchStrategy[dict[str, Any]]:
    """Mappings whose keys are mostly real field names, with junk (or enum) values."""
    leaves = st.one_of(
        junk_scalars,
        st.sampled_from([e.value for e in (*Engagement, *ShockKind, *SvDefinition)]),
        st.sampled_from(["beta", "uniform", "normal", "lognormal", "choice", "gamma"]),
    )
    tree = st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(junk_keys, children, max_size=5),
        ),
        max_leaves=25,
    )
    return st.dictionaries(junk_keys, tree, max_size=6)


junk_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(list("abc:-[]{}&*!|>'\"#%@`?,. \n\t0123456789e")), max_size=200),
)
