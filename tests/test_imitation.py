"""Isomorphism (safsim.imitation): who observes whom, and copying a better-performing peer's practice."""

from __future__ import annotations

from model_fixtures import tiny

from safsim.config import Engagement, PeerNetwork, SvDefinition
from safsim.imitation import imitate, peer_lists


def test_peer_lists_ring_and_all():
    """A ring observes the two neighbours, 'all' (and 'random', sampled later) every other commissioner;
    a lone commissioner observes nobody."""
    assert peer_lists(5, PeerNetwork.ring) == [[1, 4], [0, 2], [1, 3], [2, 4], [0, 3]]
    assert peer_lists(2, PeerNetwork.ring) == [[1], [0]]
    assert peer_lists(3, PeerNetwork.all) == [[1, 2], [0, 2], [0, 1]]
    assert peer_lists(3, PeerNetwork.random) == peer_lists(3, PeerNetwork.all)
    assert peer_lists(1, PeerNetwork.ring) == [[]] and peer_lists(1, PeerNetwork.all) == [[]]


def two_authorities(rate: float, inertia: float, drift: float = 0.0, seed: int = 1):
    """Two commissioners: 0 performs poorly (no SV per pound, low trust), 1 well, with different practice."""
    m = tiny(
        {
            "field.n_authorities": 2,
            "field.peer_network": "all",
            "field.imitation_rate": rate,
            "field.imitation_inertia": inertia,
            "field.imitation_drift": drift,
        },
        seed=seed,
    )
    poor, good = m.commissioners
    poor.year_sv, poor.year_paid, poor.trust = 0.0, 1_000.0, 0.1
    good.year_sv, good.year_paid, good.trust = 500.0, 1_000.0, 0.6
    poor.base_sv_weight, good.base_sv_weight = 0.02, 0.2
    poor.engagement_intent, good.engagement_intent = Engagement.none, Engagement.co_design
    poor.sv_definition_pref, good.sv_definition_pref = SvDefinition.supplier_open, SvDefinition.co_defined_local
    poor.has_sv_policy, good.has_sv_policy = False, True
    return m, poor, good


def test_a_commissioner_copies_a_much_better_peer_when_imitation_is_certain():
    """With imitation_rate 1 and inertia 0 a commissioner copies a far better peer's SV weight, engagement,
    definition and policy; the better one copies nothing."""
    for seed in (1, 2, 3):
        m, poor, good = two_authorities(rate=1.0, inertia=0.0, seed=seed)
        imitate(m)
        assert poor.base_sv_weight == 0.2
        assert poor.engagement_intent is Engagement.co_design
        assert poor.sv_definition_pref is SvDefinition.co_defined_local
        assert poor.has_sv_policy
        assert good.base_sv_weight == 0.2 and good.engagement_intent is Engagement.co_design
        assert poor.performance < good.performance


def test_nobody_copies_without_imitation():
    """With imitation_rate 0, or inertia 1, no commissioner changes its practice."""
    for rate, inertia in ((0.0, 0.0), (1.0, 1.0)):
        for seed in (1, 2, 3):
            m, poor, good = two_authorities(rate=rate, inertia=inertia, seed=seed)
            imitate(m)
            assert poor.base_sv_weight == 0.02
            assert poor.engagement_intent is Engagement.none
            assert poor.sv_definition_pref is SvDefinition.supplier_open
            assert not poor.has_sv_policy


def test_copied_templates_drift_to_a_commissioner_list():
    """With imitation_drift 1 a copied definition becomes a generic commissioner list."""
    m, poor, _ = two_authorities(rate=1.0, inertia=0.0, drift=1.0)
    imitate(m)
    assert poor.base_sv_weight == 0.2
    assert poor.sv_definition_pref is SvDefinition.commissioner_list


def test_copying_never_removes_an_own_sv_policy():
    """A commissioner with an SV policy keeps it when it copies a better peer without one."""
    m, poor, good = two_authorities(rate=1.0, inertia=0.0)
    poor.has_sv_policy, good.has_sv_policy = True, False
    imitate(m)
    assert poor.base_sv_weight == 0.2 and poor.has_sv_policy


def test_performance_is_sv_per_pound_plus_trust():
    """imitate records each commissioner's performance as its year's SV per pound paid plus its trust."""
    m, poor, good = two_authorities(rate=0.0, inertia=0.0)
    imitate(m)
    assert poor.performance == 0.0 + 0.1
    assert good.performance == 0.5 + 0.6
