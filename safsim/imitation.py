"""Isomorphism: commissioners copy the practice of better-performing peers (step part 10).

Objects:
    peer_lists: who each commissioner observes (all, ring or random; random is redrawn yearly).
    imitate: the yearly copying of practice, with drift of copied templates.

See docs/ODD.md, "Submodels: imitation" (Th §4.3, §5.3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from safsim.config import PeerNetwork, SvDefinition

if TYPE_CHECKING:  # pragma: no cover
    from safsim.model import FieldModel

__all__ = ["imitate", "peer_lists"]


def peer_lists(n: int, network: PeerNetwork) -> list[list[int]]:
    """Who each of ``n`` commissioners observes (a random network samples from all yearly)."""
    if n == 1:
        return [[]]
    if network is PeerNetwork.ring:
        return [sorted({(i - 1) % n, (i + 1) % n} - {i}) for i in range(n)]
    return [[j for j in range(n) if j != i] for i in range(n)]


def imitate(model: FieldModel) -> None:
    """Copy practice from a better-performing peer.

    Performance is delivered social value per pound spent plus trust.  The chance of copying
    grows with the peer's advantage and falls with inertia.  Templates copied without their
    local context drift towards generic economic indicators (Th §4.2, §4.3).
    """
    fcfg = model.scenario.field
    comms = model.commissioners
    rng = model.streams.imitation
    for c in comms:
        sv_per_gbp = c.year_sv / c.year_paid if c.year_paid > 0 else 0.0
        c.performance = sv_per_gbp + c.trust
    for c in comms:
        peers = model.peers[c.index]
        if not peers:
            continue
        if fcfg.peer_network is PeerNetwork.random:
            k = min(fcfg.peer_degree, len(peers))
            peers = list(rng.choice(peers, size=k, replace=False))
        peer = comms[max(peers, key=lambda j: comms[j].performance)]
        gap = peer.performance - c.performance
        if gap <= 0:
            continue
        p_copy = fcfg.imitation_rate * (1.0 - fcfg.imitation_inertia) * min(1.0, gap / max(c.performance, 1e-9))
        if rng.random() < p_copy:
            c.base_sv_weight = peer.base_sv_weight
            c.engagement_intent = peer.engagement_intent
            c.sv_definition_pref = peer.sv_definition_pref
            c.has_sv_policy = c.has_sv_policy or peer.has_sv_policy
            if rng.random() < fcfg.imitation_drift:
                c.sv_definition_pref = SvDefinition.commissioner_list
