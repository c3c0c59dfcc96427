"""Benchmark: run time against the number of authorities (providers scaled in proportion).

Usage:
    python benchmarks/bench_scaling.py [--sizes 3,30,100,300] [--network random] [--steps 40]

Providers are scaled with the authorities (the baseline's 80 per 3 authorities); each provider
serves only its neighbourhood, so the work per tender stays bounded and the run time grows
linearly.  Figures go to docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import time

from safsim import load_scenario, run_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="3,30,100,300")
    ap.add_argument("--network", default="random", choices=["all", "ring", "random"])
    ap.add_argument("--steps", type=int, default=40)
    args = ap.parse_args()
    run_scenario(load_scenario("baseline", {"horizon_steps": 2}), 1)  # warm-up
    print("authorities  providers  seconds  seconds/authority")
    for a in (int(x) for x in args.sizes.split(",")):
        f = a / 3
        counts = {"sme_vso": 50, "large_charity": 8, "corporate": 12, "social_enterprise": 10}
        overrides = {f"providers.{k}.count": round(v * f) for k, v in counts.items()}
        overrides |= {"field.n_authorities": a, "field.peer_network": args.network, "horizon_steps": args.steps}
        s = load_scenario("baseline", overrides)
        t0 = time.perf_counter()
        run_scenario(s, 1)
        dt = time.perf_counter() - t0
        print(f"{a:11d}  {s.total_providers:9d}  {dt:7.2f}  {dt / a:17.4f}")


if __name__ == "__main__":
    main()
