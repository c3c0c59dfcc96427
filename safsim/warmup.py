"""The warm-up holds the field's institutions as the scenario describes them (docs/ODD.md, 3.2).

During the warm-up (the quarters run before the counted horizon) the providers' market settles:
who holds which contract, reserves, win beliefs, markups, track records, the population after
entry and exit.  The commissioners' institutional state is not settled by the model but
*observed*: their understanding of social value, SV weights, engagement practice, local SV
policies, trust and legitimacy are drawn from the survey and case-study figures the scenario
cites, as they were at the start of the period the horizon represents.  Left free, nine years of
warm-up learning would move them away from those observations (mean understanding 0.41 -> 0.54,
local SV policies 0% -> 17% of authorities in the baseline) before anything is counted.

So, with ``hold_institutions: warmup`` (the default), every warm-up step starts from the
institutional state drawn when the model was built: within a step the rules run as usual
(a crisis moves trust, monitoring teaches, imitation copies), and the next step starts again
from the observations.  The counted horizon then starts from the settled market *and* the
observed institutions, and institutional change (F4, F8-F11) is counted from step 0.
``hold_institutions: never`` lets them evolve through the warm-up as well;
``hold_institutions: always`` holds them through the counted horizon too, an ablation that
leaves only the market's own dynamics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from safsim.model import FieldModel

__all__ = ["COMMISSIONER_INSTITUTIONS", "FIELD_INSTITUTIONS", "GOVERNMENT_INSTITUTIONS", "Institutions"]

# Commissioner attributes that describe its institutions (what it knows, values and does), as
# opposed to its money and service lines.  This year's award weights, definition mode, engagement
# and framing are not in the list: Commissioner.set_practice draws them from these at each year's
# start, which comes after the restore.
COMMISSIONER_INSTITUTIONS: tuple[str, ...] = (
    "sv_understanding",
    "social_skill",
    "political_commitment",
    "risk_aversion",
    "base_sv_weight",
    "sv_definition_pref",
    "engagement_intent",
    "has_sv_policy",
    "sv_policy_floor",
    "codesign_institutionalised",
    "price_led_shift",
    "trust",
    "legitimacy",
)
# Field-level state (safsim.field_dynamics, safsim.shocks.Government).  The smoothed small-VSO
# loss share is the market's memory, not an institution, and settles with the market; so does
# ``codesign_happened``, which goes with the providers' codesign_participant flags.
FIELD_INSTITUTIONS: tuple[str, ...] = (
    "field_state",
    "contention",
    "steps_above",
    "steps_in_state",
    "shock_signal",
    "recent_budget_cut",
)
GOVERNMENT_INSTITUTIONS: tuple[str, ...] = ("sva_in_force", "mandatory", "min_sv_weight", "threshold_gbp")


@dataclass(frozen=True)
class Institutions:
    """A copy of the institutional state of a model (attribute values are immutable or enums)."""

    commissioners: tuple[dict[str, Any], ...]
    field: dict[str, Any]
    government: dict[str, Any]

    @classmethod
    def of(cls, model: FieldModel) -> Institutions:
        """Take a copy of ``model``'s institutional state."""
        return cls(
            commissioners=tuple({n: getattr(c, n) for n in COMMISSIONER_INSTITUTIONS} for c in model.commissioners),
            field={n: getattr(model, n) for n in FIELD_INSTITUTIONS},
            government={n: getattr(model.government, n) for n in GOVERNMENT_INSTITUTIONS},
        )

    def restore(self, model: FieldModel) -> None:
        """Put ``model``'s institutional state back to this copy."""
        for c, values in zip(model.commissioners, self.commissioners, strict=True):
            for name, value in values.items():
                setattr(c, name, value)
        for name, value in self.field.items():
            setattr(model, name, value)
        for name, value in self.government.items():
            setattr(model.government, name, value)
