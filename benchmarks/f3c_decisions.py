"""Why is F3c (learning lowers the small-VSO bid rate) so small?  Instrumented runs.

For every (active local small VSO, tender) pair of the counted horizon -- the denominator of
``bid_rate_sme_vso`` -- records the first gate that stops a bid (service areas, barred,
bids left this year, SV-weight hurdle, size, preparation window, affordability, win-belief
hurdle ``min_win_probability``, expected gain), and whether the decision would differ if the
provider held the prior belief instead of its learned one.  Also: beliefs of active small
VSOs each step, bids used against bid capacity per VSO-year, realised win rate.

Every tender is run through the Python path (``procurement.QUIET_MIN_TENDERS`` raised), which
procurement documents as draw-for-draw the same round; the bids are checked against the
model's own screen.

Also: the share of active small VSOs that have bid before but whose belief is below their
own hurdle (``min_win_probability`` at the reference SV weight: "given up"), and how long
such spells last; the gaps between a VSO's eligible chances to bid.  Seeds are
``child_seeds(scenario seed, N)``.

Usage: PYTHONPATH=. python benchmarks/f3c_decisions.py N_SEEDS [override ...]
Prints one JSON line per arm (baseline and no-learning) aggregated over the seeds; per-seed
bid rates are in ``bid_rates`` (official), ``rate_area`` (bids over the pairs whose service
areas match) and ``rate_elig`` (bids, consortium members included, over eligible pairs).
"""

from __future__ import annotations

import json
import sys
from collections import Counter

import numpy as np

import safsim
import safsim.model as model_mod
import safsim.procurement as proc
from safsim.bidding import RoundBids, _p_win, _terms
from safsim.population import VSO
from safsim.runner import child_seeds

proc.QUIET_MIN_TENDERS = 10**9

GATES = ("area", "barred", "year_capacity", "sv_hurdle", "size", "prep", "afford", "belief_hurdle", "gain", "bid")

STATE: dict = {}


def _categorise(self: RoundBids, i: int, tender) -> None:
    model = self.model
    if model.in_warmup:
        return
    T = model.pop
    b = model.behaviour
    lo, hi = self._bounds[i], self._bounds[i + 1]
    idx = np.arange(lo, hi)[self.is_vso[lo:hi]]
    if idx.size == 0:
        return
    r = self.rows[idx]
    area = (self.areas[idx] & ~T.areas_mask[r]) == 0
    barred = np.isin(r, np.fromiter(tender.excluded, np.int64)) if tender.excluded else np.zeros(r.size, bool)
    cap = T.bids_this_year[r] < T.bid_capacity[r]
    svh = self.sv_weight[idx] >= T.min_sv_weight_to_bid[r]
    fits = (T.capacity_gbp[r] - T.contracted_annual_gbp[r] >= self.volume[idx]) & (
        T.turnover_gbp[r] >= self.eligibility[idx]
    )
    prep = self.prep_ok[idx]
    price, cost, sv_true = _terms(
        T.unit_cost[r], T.sv_intrinsic[r], T.markup[r], self.volume_total[idx], self.ceiling_total[idx]
    )
    afford = cost - price <= b.max_loss_share_of_reserves * np.maximum(T.reserves_gbp[r], 0.0)
    framing = self.framing[idx]
    sens = T.sv_weight_sensitivity[r]
    p = _p_win(T.belief[r], sens, self.sv_weight[idx], framing, b)
    p0 = _p_win(T.belief_prior[r], sens, self.sv_weight[idx], framing, b)
    gain_v = price - cost + T.mission_weight[r] * sv_true
    bid_cost = self.bid_base[idx] * self.window_factor[idx]
    hurdle = p >= T.min_win_probability[r]
    hurdle0 = p0 >= T.min_win_probability[r]
    gain = p * gain_v - bid_cost > 0
    gain0 = p0 * gain_v - bid_cost > 0
    gates = [area, ~barred, cap, svh, fits, prep, afford, hurdle, gain]
    alive = np.ones(r.size, bool)
    c = STATE["gates"]
    for name, g in zip(GATES, gates, strict=False):
        stop = alive & ~g
        c[name] += int(stop.sum())
        alive &= g
    c["bid"] += int(alive.sum())
    elig = area & ~barred & cap & svh & fits & prep & afford
    want0 = elig & hurdle0 & gain0
    want = elig & hurdle & gain
    STATE["eligible"] += int(elig.sum())
    STATE["area_pairs"] += int((area & ~barred).sum())
    # eligible pairs per provider and step (gaps between a VSO's chances to bid)
    for row in r[elig].tolist():
        STATE["elig_steps"].setdefault((STATE["seed"], row), []).append(model.current_step)
    STATE["want_prior"] += int(want0.sum())
    STATE["discouraged"] += int((want0 & ~want).sum())
    STATE["encouraged"] += int((want & ~want0).sum())
    # eligible but for the year's bid capacity (is capacity the binding constraint?)
    elig_nocap = area & ~barred & svh & fits & prep & afford
    STATE["elig_but_capacity"] += int((elig_nocap & ~cap).sum())
    STATE["elig_but_capacity_want"] += int((elig_nocap & ~cap & hurdle & gain).sum())
    STATE["p_elig"].extend(p[elig].tolist())
    STATE["pending"].append((lo, idx, want))


def _check(self: RoundBids) -> None:
    for _lo, idx, want in STATE["pending"]:
        STATE["mismatch"] += int((self.want[idx] != want).sum())
    STATE["pending"].clear()


_orig_bids = RoundBids.bids


def bids(self, i, tender):
    _categorise(self, i, tender)
    out = _orig_bids(self, i, tender)
    if not self.model.in_warmup:
        _check(self)
    return out


RoundBids.bids = bids

_orig_new_year = model_mod.new_year


def new_year(model, step):
    if not model.in_warmup and step > 0 and model.steps_run > model.warmup_steps:
        T = model.pop
        n = T.n
        v = np.flatnonzero(T.active[:n] & (T.kind[:n] == VSO))
        used = T.bids_this_year[v]
        capy = T.bid_capacity[v]
        STATE["vso_years"] += v.size
        STATE["vso_years_full"] += int((used >= capy).sum())
        STATE["vso_years_zero"] += int((used == 0).sum())
        STATE["bids_used"] += float(used.sum())
        STATE["bids_capacity"] += float(capy.sum())
    _orig_new_year(model, step)


model_mod.new_year = new_year


def run(scenario, seed):
    m = safsim.FieldModel(scenario, seed=int(seed))
    T = m.pop
    beliefs = []
    a0, e0 = STATE["area_pairs"], STATE["eligible"]
    gave_up, ever = 0, 0
    flags: dict[int, list[bool]] = {}
    for _ in range(scenario.horizon_steps):
        m.step()
        n = T.n
        v = np.flatnonzero(T.active[:n] & (T.kind[:n] == VSO))
        beliefs.append(T.belief[v].copy())
        # "given up": has bid before, but its belief is below its own hurdle at the reference
        # SV weight (it would not bid on a typical tender even if eligible)
        bid_before = v[T.bids[v] > 0]
        ever += bid_before.size
        low = T.belief[bid_before] < T.min_win_probability[bid_before]
        gave_up += int(low.sum())
        for row, f in zip(bid_before.tolist(), low.tolist(), strict=True):
            flags.setdefault(row, []).append(f)
    # spells of "given up" (consecutive quarters below the hurdle), completed or censored
    for fl in flags.values():
        k = 0
        for f in [*fl, None]:
            if f:
                k += 1
            elif k:
                STATE["spells"].append((k, f is None))
                k = 0
    t = m.totals
    out = dict(
        vso_bids=t.vso_bids,
        vso_opps=t.vso_opportunities,
        vso_wins=t.vso_wins,
        beliefs=np.concatenate(beliefs),
        area_pairs=STATE["area_pairs"] - a0,
        eligible=STATE["eligible"] - e0,
        gave_up=gave_up,
        ever=ever,
    )
    m.release()
    return out


def main() -> None:
    n = int(sys.argv[1])
    extra = sys.argv[2:]
    base = safsim.load_scenario("baseline", extra)
    seeds = child_seeds(base.seed, n)
    for label, ov in (("baseline", extra), ("no_learning", [*extra, "behaviour.belief_learning_rate=0.001"])):
        sc = safsim.load_scenario("baseline", ov)
        STATE.clear()
        STATE.update(
            gates=Counter(),
            eligible=0,
            area_pairs=0,
            elig_steps={},
            spells=[],
            seed=0,
            want_prior=0,
            discouraged=0,
            encouraged=0,
            elig_but_capacity=0,
            elig_but_capacity_want=0,
            p_elig=[],
            pending=[],
            mismatch=0,
            vso_years=0,
            vso_years_full=0,
            vso_years_zero=0,
            bids_used=0.0,
            bids_capacity=0.0,
        )
        rates, wins, bidsn, bel = [], 0, 0, []
        rate_area, rate_elig, gave, ever = [], [], 0, 0
        for s in seeds:
            STATE["seed"] = s
            o = run(sc, s)
            rates.append(o["vso_bids"] / o["vso_opps"])
            wins += o["vso_wins"]
            bidsn += o["vso_bids"]
            bel.append(o["beliefs"])
            rate_area.append(o["vso_bids"] / max(o["area_pairs"], 1))
            rate_elig.append(o["vso_bids"] / max(o["eligible"], 1))
            gave += o["gave_up"]
            ever += o["ever"]
        bel = np.concatenate(bel)
        g = STATE["gates"]
        tot = sum(g.values())
        p_elig = np.array(STATE["p_elig"])
        res = dict(
            arm=label,
            overrides=ov,
            seeds=n,
            bid_rates=rates,
            bid_rate=float(np.mean(rates)),
            rate_area=rate_area,
            rate_elig=rate_elig,
            gave_up_share_of_past_bidders=gave / max(ever, 1),
            mean_gap_between_eligible_steps=float(
                np.mean([np.mean(np.diff(sorted(set(x)))) for x in STATE["elig_steps"].values() if len(set(x)) > 1])
            ),
            providers_with_eligible=len(STATE["elig_steps"]),
            gave_up_spells=len(STATE["spells"]),
            gave_up_spell_mean_q_completed=float(np.mean([k for k, c in STATE["spells"] if not c]))
            if any(not c for _, c in STATE["spells"])
            else None,
            gave_up_spell_share_censored=float(np.mean([c for _, c in STATE["spells"]])) if STATE["spells"] else None,
            gave_up_spell_mean_q_all=float(np.mean([k for k, _ in STATE["spells"]])) if STATE["spells"] else None,
            providers_with_2plus_eligible_steps=sum(len(set(x)) > 1 for x in STATE["elig_steps"].values()),
            vso_win_rate=wins / max(bidsn, 1),
            pairs=tot,
            gate_share={k: g[k] / tot for k in GATES},
            eligible_pairs=STATE["eligible"],
            want_prior=STATE["want_prior"],
            discouraged=STATE["discouraged"],
            encouraged=STATE["encouraged"],
            elig_but_capacity=STATE["elig_but_capacity"],
            elig_but_capacity_want=STATE["elig_but_capacity_want"],
            p_win_eligible_quantiles=np.quantile(p_elig, [0.05, 0.25, 0.5, 0.75, 0.95]).tolist() if p_elig.size else [],
            mismatch=STATE["mismatch"],
            belief_mean=float(bel.mean()),
            belief_quantiles=np.quantile(bel, [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]).tolist(),
            belief_below_0_2=float((bel < 0.2).mean()),
            belief_below_0_1=float((bel < 0.1).mean()),
            vso_years=STATE["vso_years"],
            share_years_capacity_full=STATE["vso_years_full"] / max(STATE["vso_years"], 1),
            share_years_no_bid=STATE["vso_years_zero"] / max(STATE["vso_years"], 1),
            bids_used_over_capacity=STATE["bids_used"] / max(STATE["bids_capacity"], 1),
        )
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
