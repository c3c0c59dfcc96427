"""The run's random streams: one per purpose, all spawned from the run's seed.

Objects:
    PURPOSES: the purposes with a stream of their own.
    RunStreams: the generators of one run, by purpose, and per attribute for drawing agents.

Why several streams: two scenarios that differ in one lever should differ only through that
lever (common random numbers, paired draw for draw).  With a single generator, replacing one
distribution by a constant shifts every later draw; here every drawn attribute of every agent
kind has a stream of its own (keyed by its name), and tendering, yearly practice, imitation,
shocks, field events and diagnostics each have theirs, so a lever changes the draws of its own
purpose only.  Each stream is a ``numpy.random.Generator`` seeded from
``SeedSequence(seed, spawn_key=key)`` with a key made of stable (CRC-32) codes of its names,
so streams do not depend on the order in which they are first used.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["PURPOSES", "RunStreams"]

PURPOSES: tuple[str, ...] = (
    "tendering",  # lots, engagement, bids, awards, monitoring draws (steps 3-7)
    "practice",  # commissioners' yearly practice (step 2)
    "imitation",  # peer sampling and copying (step 10)
    "shocks",  # random political crises (step 1)
    "field",  # brokering of settlements (step 11)
    "entry",  # how many providers enter (step 9)
    "diagnostics",  # what the model reports but does not act on (counterfactual winners)
)


def _code(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class RunStreams:
    """The random streams of one run (see the module docstring).

    Attributes:
        seed: the run's integer seed.
        tendering, practice, imitation, shocks, field, entry, diagnostics: one generator each.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._cache: dict[tuple[str, ...], np.random.Generator] = {}
        for purpose in PURPOSES:
            setattr(self, purpose, self.stream(purpose))

    def stream(self, *key: str) -> np.random.Generator:
        """The generator named by ``key`` (the same object every time it is asked for)."""
        gen = self._cache.get(key)
        if gen is None:
            seq = np.random.SeedSequence(self.seed, spawn_key=tuple(_code(k) for k in key))
            gen = np.random.default_rng(seq)
            self._cache[key] = gen
        return gen

    def attribute(self, *key: str) -> np.random.Generator:
        """The stream that draws one attribute of one kind of agent, e.g. ``("sme_vso", "reserves_gbp")``."""
        return self.stream("attribute", *key)
