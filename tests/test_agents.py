"""The agents (safsim.agents): Provider as a view on a table row, commissioner parameters and practice."""

from __future__ import annotations

import math

import numpy as np
from model_fixtures import rows_of, tiny

from safsim.agents import CommissionerParams, logit, sigmoid
from safsim.config import AuthorityOverride, CommissionerConfig, ProviderKind, is_param_field
from safsim.lifecycle import exit_providers
from safsim.population import PROVIDER_COLUMNS


def test_provider_attributes_read_its_own_table_row():
    """Every table column read through a Provider equals that column's value in the provider's row."""
    m = tiny()
    for p in m.providers:
        for name in PROVIDER_COLUMNS:
            assert getattr(p, name) == getattr(m.pop, name)[p.row], name
        assert m.pop.unique_id[p.row] == p.unique_id
        assert p.kind is ProviderKind(p.kind_value)
        assert p.row in rows_of(m, p.kind)


def test_setting_a_provider_attribute_writes_its_row_and_nothing_else():
    """Setting p.belief changes m.pop.belief[p.row] only: other rows and other columns stay as they were."""
    m = tiny()
    p = m.providers[3]
    before = {name: getattr(m.pop, name)[: m.pop.n].copy() for name in PROVIDER_COLUMNS}
    p.belief = 0.77
    assert m.pop.belief[p.row] == 0.77
    assert p.belief == 0.77
    for name in PROVIDER_COLUMNS:
        changed = np.flatnonzero(getattr(m.pop, name)[: m.pop.n] != before[name])
        assert changed.tolist() == ([p.row] if name == "belief" else []), name


def test_drawn_names_are_the_overridable_param_fields_of_the_commissioner_config():
    """CommissionerParams.drawn_names() is the Param-typed CommissionerConfig fields AuthorityOverride can set."""
    expected = tuple(
        name
        for name in CommissionerConfig.model_fields
        if is_param_field(CommissionerConfig, name) and name in AuthorityOverride.model_fields
    )
    assert CommissionerParams.drawn_names() == expected
    assert "social_skill" in expected and "service_lines" not in expected


def test_authority_override_replaces_the_shared_value():
    """A per-authority override sets that authority's value and name; the others keep the shared value."""
    m = tiny(
        {
            "field.n_authorities": 2,
            "commissioners.social_skill": 0.2,
            "commissioners.monitoring_rate": 0.3,
            "authorities": [{"name": "Northshire", "social_skill": 0.9, "monitoring_rate": 1.0}],
        }
    )
    first, second = m.commissioners
    assert (first.name, first.social_skill, first.monitoring_rate) == ("Northshire", 0.9, 1.0)
    assert (second.name, second.social_skill, second.monitoring_rate) == ("authority_1", 0.2, 0.3)


def test_exited_providers_leave_the_agent_set_but_keep_their_row():
    """An exited provider is no longer in m.agents but is still m.providers[row], marked inactive."""
    m = tiny()
    row = int(rows_of(m, ProviderKind.sme_vso)[0])
    p = m.providers[row]
    assert p in m.agents
    exit_providers(m, np.array([row]))
    assert p not in m.agents
    assert m.providers[row] is p
    assert not p.active
    assert all(q in m.agents for q in m.providers if q is not p)


def test_sv_policy_sets_a_floor_on_the_sv_weight_and_no_act_no_policy_means_zero():
    """With an SV policy the yearly SV weight is at least the policy floor; with neither Act nor policy it is 0."""
    m = tiny({"field.n_authorities": 2, "policies.sva_in_force": False})
    with_policy, without = m.commissioners
    for c in m.commissioners:
        c.base_sv_weight = 0.05
    with_policy.has_sv_policy = True
    with_policy.sv_policy_floor = 0.2
    without.has_sv_policy = False
    for c in m.commissioners:
        c.set_practice(False, m.behaviour, m.government)
        assert math.isclose(c.price_weight + c.quality_weight + c.sv_weight, 1.0)
    assert with_policy.sv_weight == 0.2
    assert without.sv_weight == 0.0


def test_infrastructure_body_support_scales_with_its_social_skill():
    """A broker closes a skill x gain share of small VSOs' awareness and articulation gaps; skill 0 does nothing."""
    m = tiny({"policies.infrastructure_body": True})
    body = m.infrastructure
    T = m.pop
    rows = rows_of(m, ProviderKind.sme_vso)
    T.criteria_awareness[rows] = 0.2
    T.sv_articulation[rows] = 0.4
    body.social_skill = 0.0
    body.support(T, rows, 0.5, 0.25)
    assert np.all(T.criteria_awareness[rows] == 0.2) and np.all(T.sv_articulation[rows] == 0.4)
    body.social_skill = 0.8
    body.support(T, rows, 0.5, 0.25)
    np.testing.assert_allclose(T.criteria_awareness[rows], 0.2 + 0.8 * 0.5 * 0.8)
    np.testing.assert_allclose(T.sv_articulation[rows], 0.4 + 0.8 * 0.25 * 0.6)
    assert body.consortium_min_skill(0.35, 0.5) == max(0.0, 0.35 - 0.8 * 0.5)


def test_sigmoid_and_logit_are_inverse_and_increasing():
    """logit inverts sigmoid, and sigmoid is increasing with sigmoid(0) = 1/2."""
    xs = [-30.0, -2.0, -0.1, 0.0, 0.3, 4.0]
    assert sigmoid(0.0) == 0.5
    assert all(sigmoid(a) < sigmoid(b) for a, b in zip(xs, xs[1:], strict=False))
    for x in xs[1:]:
        assert math.isclose(logit(sigmoid(x)), x, abs_tol=1e-9)
