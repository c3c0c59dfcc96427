"""Random streams: arms that differ in one lever are paired draw for draw (safsim.streams)."""

from __future__ import annotations

import numpy as np

from safsim.config import BehaviourConfig, Engagement, ProviderKind, SvDefinition
from safsim.model import FieldModel
from safsim.population import KIND_CODES, PROVIDER_COLUMNS
from safsim.scenario import load_scenario
from safsim.streams import RunStreams
from safsim.tendering import Tender, score_and_pick

CSR = {"providers.corporate.claim_inflation": {"dist": "uniform", "low": 1.2, "high": 2.5}}
NO_CSR = {"providers.corporate.claim_inflation": 1.0}


def _initial(overrides: dict, seed: int) -> FieldModel:
    # the drawn population, before a warm-up lets the arms' fields diverge
    return FieldModel(load_scenario("baseline", {"warmup_steps": 0} | overrides), seed=seed)


def test_arms_differing_in_one_provider_lever_have_the_same_initial_population_otherwise():
    """Replacing the corporates' claim-inflation distribution by a constant changes that column for
    corporates only: every other attribute of every provider, and every commissioner, is identical."""
    for seed in (5, 6, 7):
        a, b = _initial(CSR, seed), _initial(NO_CSR, seed)
        n = a.pop.n
        assert n == b.pop.n
        corporate = a.pop.kind[:n] == KIND_CODES[ProviderKind.corporate]
        for name in PROVIDER_COLUMNS:
            x, y = getattr(a.pop, name)[:n], getattr(b.pop, name)[:n]
            if name in ("claim_inflation", "claim_framing"):  # claim_framing is the drawn claim_inflation
                assert np.array_equal(x[~corporate], y[~corporate])
                assert not np.array_equal(x[corporate], y[corporate])
            else:
                assert np.array_equal(x, y), name
        assert np.array_equal(a.pop.areas_mask[:n], b.pop.areas_mask[:n])
        assert a.pop.authorities == b.pop.authorities
        for ca, cb in zip(a.commissioners, b.commissioners, strict=True):
            assert ca.params == cb.params
            assert np.array_equal(ca.line_weights, cb.line_weights)


def test_arms_differing_in_one_commissioner_lever_have_the_same_providers_and_other_parameters():
    """Making the commissioners' social skill a constant leaves every provider and every other
    commissioner parameter as drawn in the arm with the distribution."""
    a = _initial({}, 11)
    b = _initial({"commissioners.social_skill": 0.5}, 11)
    for name in PROVIDER_COLUMNS:
        assert np.array_equal(getattr(a.pop, name)[: a.pop.n], getattr(b.pop, name)[: b.pop.n]), name
    for ca, cb in zip(a.commissioners, b.commissioners, strict=True):
        assert cb.social_skill == 0.5
        for name in ca.params.drawn_names():
            if name != "social_skill":
                assert getattr(ca.params, name) == getattr(cb.params, name), name


def test_a_stream_does_not_depend_on_which_streams_were_used_before():
    """The stream for a key gives the same numbers whatever other streams were created or used first."""
    first = RunStreams(3).attribute("sme_vso", "reserves_gbp").random(5)
    other = RunStreams(3)
    other.attribute("corporate", "quality").random(100)
    other.tendering.random(100)
    assert np.array_equal(other.attribute("sme_vso", "reserves_gbp").random(5), first)
    assert not np.array_equal(RunStreams(4).attribute("sme_vso", "reserves_gbp").random(5), first)


def test_the_counterfactual_tie_break_never_touches_the_model_stream():
    """When the no-social-value counterfactual has a tie, it is broken with the diagnostics stream:
    the tendering stream is left exactly where it was."""
    tender = Tender(
        1, 0, 0, 1e5, 1.2e5, 12, ((0, 1.0),), 0.5, 0.3, 0.2, Engagement.none, SvDefinition.supplier_open, 0.0, 3.0
    )
    prices = np.array([1e5, 1e5, 1.1e5])  # without SV the two cheaper bids tie
    quality = np.array([0.5, 0.5, 0.5])
    sv = np.array([0.0, 0.0, 3.0]) * 1e4  # the dearer third wins on social value
    tendering, diagnostics = np.random.default_rng(1), np.random.default_rng(2)
    before = tendering.bit_generator.state
    s = score_and_pick(
        tender,
        prices,
        quality,
        sv,
        sv,
        0 * sv,
        np.ones(3),
        np.zeros(3),
        1.0,
        0.0,
        BehaviourConfig(),
        tendering,
        diagnostics,
    )
    assert s.winner == 2
    assert tendering.bit_generator.state == before
    assert diagnostics.bit_generator.state != np.random.default_rng(2).bit_generator.state
