"""The provider population as arrays: one row per provider, one column per attribute.

Objects:
    PROVIDER_DRAWN: the provider attributes drawn per provider from its kind's distributions
        (derived from ``config.ProviderKindConfig``, so the list cannot drift from the config).
    PROVIDER_STATE: the attributes that change during a run, with their initial values.
    KIND_CODES, KIND_OF_CODE: integer codes of the provider kinds used in the ``kind`` column.
    ProviderTable: the columns, grown as providers enter; which rows serve which authority.

The tender round reads and writes these columns for all candidates of a tender at once
(``safsim.bidding``); a ``Provider`` agent (``safsim.agents``) is a view on one row.
"""

from __future__ import annotations

import numpy as np

from safsim.config import PROVIDER_KINDS, ProviderKind, ProviderKindConfig, is_param_field

__all__ = [
    "KIND_CODES",
    "INCOME_COLUMNS",
    "KIND_OF_CODE",
    "LEDGER_COLUMNS",
    "PROVIDER_COLUMNS",
    "PROVIDER_DRAWN",
    "PROVIDER_STATE",
    "SPENDING_COLUMNS",
    "ProviderTable",
]

# Drawn per provider at entry; ``service_areas`` and ``authorities_served`` only place it.
PROVIDER_DRAWN: tuple[str, ...] = tuple(
    name for name in ProviderKindConfig.model_fields if is_param_field(ProviderKindConfig, name)
)
_PLACEMENT = ("service_areas", "authorities_served")

# Per-kind constants copied onto each row (so that a tender reads one array, not a lookup).
PROVIDER_KIND_CONSTANTS: tuple[str, ...] = ("min_markup", "sv_weight_sensitivity", "tender_prep_weeks")

# State columns and the value a new provider starts with (None: set at entry from its draws).
PROVIDER_STATE: dict[str, float | None] = {
    "turnover_gbp": None,
    "belief": None,
    "belief_prior": None,
    "credibility": 1.0,
    "track_record": None,  # behaviour.initial_track_record
    "contracted_annual_gbp": 0.0,
    "bids_this_year": 0.0,
    "year_income_gbp": 0.0,
    "initial_reserves_gbp": None,
    "income_contracts_gbp": 0.0,
    "income_grants_gbp": 0.0,
    "income_reimbursed_gbp": 0.0,
    "income_fundraising_gbp": 0.0,
    "spent_delivery_gbp": 0.0,
    "spent_overhead_gbp": 0.0,
    "spent_bids_gbp": 0.0,
    "spent_engagement_gbp": 0.0,
    "wins": 0.0,
    "bids": 0.0,
    "spent_mission_gbp": 0.0,  # reserves above the reserves policy, spent on the mission
    "claim_framing": None,  # claim_inflation as drawn: the framing a failed check does not undo
}

# The ledger: money in and money out since the ledger started (entry, or the end of the
# warm-up); initial reserves + income - spending = reserves (``ProviderTable.ledger_balance_gbp``).
INCOME_COLUMNS: tuple[str, ...] = (
    "income_contracts_gbp",
    "income_grants_gbp",
    "income_reimbursed_gbp",
    "income_fundraising_gbp",
)
SPENDING_COLUMNS: tuple[str, ...] = (
    "spent_delivery_gbp",
    "spent_overhead_gbp",
    "spent_bids_gbp",
    "spent_engagement_gbp",
    "spent_mission_gbp",
)
LEDGER_COLUMNS: tuple[str, ...] = (*INCOME_COLUMNS, *SPENDING_COLUMNS)

PROVIDER_COLUMNS: tuple[str, ...] = (
    *(n for n in PROVIDER_DRAWN if n not in _PLACEMENT),
    *PROVIDER_KIND_CONSTANTS,
    *PROVIDER_STATE,
)

KIND_CODES: dict[ProviderKind, int] = {k: i for i, k in enumerate(PROVIDER_KINDS)}
KIND_OF_CODE: tuple[ProviderKind, ...] = PROVIDER_KINDS
VSO = KIND_CODES[ProviderKind.sme_vso]
SE = KIND_CODES[ProviderKind.social_enterprise]
CORPORATE = KIND_CODES[ProviderKind.corporate]
LARGE_CHARITY = KIND_CODES[ProviderKind.large_charity]


class ProviderTable:
    """Provider attributes as NumPy arrays, one row per provider that ever entered.

    Every column in ``PROVIDER_COLUMNS`` is an attribute holding a float array; ``kind``
    (int codes), ``active``, ``initial`` and ``codesign_participant`` (bool), ``areas_mask``
    (int64 bit masks of the service areas covered), ``unique_id`` (the Mesa agent id) and
    ``changed`` (the provider's state changed during the current tender round) are the others.  Arrays are allocated with spare room; only the first ``n`` rows are providers.
    ``serves(a)`` gives the rows of the active providers serving authority ``a``, ``serves_small(a)``
    those of them that are small VSOs or social enterprises.
    """

    def __init__(self, n_authorities: int, capacity: int = 64) -> None:
        self.n = 0
        self._cap = max(8, int(capacity))
        for name in PROVIDER_COLUMNS:
            setattr(self, name, np.zeros(self._cap))
        self.kind = np.zeros(self._cap, dtype=np.int64)
        self.active = np.zeros(self._cap, dtype=bool)
        self.initial = np.zeros(self._cap, dtype=bool)
        self.codesign_participant = np.zeros(self._cap, dtype=bool)
        self.changed = np.zeros(self._cap, dtype=bool)
        self.areas_mask = np.zeros(self._cap, dtype=np.int64)
        self.unique_id = np.zeros(self._cap, dtype=np.int64)
        self.authorities: list[list[int]] = []
        self._local: list[list[int]] = [[] for _ in range(n_authorities)]
        self._local_arrays: list[np.ndarray | None] = [None] * n_authorities
        self._small_arrays: list[np.ndarray | None] = [None] * n_authorities

    # ---------------------------------------------------------------- structure

    def _grow(self, needed: int) -> None:
        if needed <= self._cap:
            return
        cap = self._cap
        while cap < needed:
            cap *= 2
        for name in (
            *PROVIDER_COLUMNS,
            "kind",
            "active",
            "initial",
            "codesign_participant",
            "changed",
            "areas_mask",
            "unique_id",
        ):
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: self._cap] = old
            setattr(self, name, new)
        self._cap = cap

    def append(
        self,
        kind: ProviderKind,
        columns: dict[str, np.ndarray],
        areas_mask: np.ndarray,
        authorities: list[list[int]],
        initial: bool,
    ) -> np.ndarray:
        """Add providers of one kind; ``columns`` holds every column in PROVIDER_COLUMNS (an
        array of one value per new provider, or one number for all of them).

        Returns:
            The new rows.
        """
        m = len(authorities)
        start = self.n
        self._grow(start + m)
        rows = np.arange(start, start + m)
        new = slice(start, start + m)
        for name in PROVIDER_COLUMNS:
            getattr(self, name)[new] = columns[name]
        self.kind[new] = KIND_CODES[kind]
        self.active[new] = True
        self.initial[new] = initial
        self.codesign_participant[new] = False
        self.areas_mask[new] = areas_mask
        self.n = start + m
        for row, served in zip(rows, authorities, strict=True):
            self.authorities.append(served)
            for a in served:
                self._local[a].append(int(row))
                self._local_arrays[a] = None
                self._small_arrays[a] = None
        return rows

    def mark_changed(self, rows: np.ndarray) -> None:
        """Note that these providers' state changed during the current tender round (their
        decisions on later tenders of the round are screened again; ``bidding.RoundBids``)."""
        self.changed[rows] = True

    def deactivate(self, rows: np.ndarray) -> None:
        """Mark providers as exited and take them off their authorities' local lists."""
        touched: set[int] = set()
        for row in rows:
            self.active[row] = False
            touched.update(self.authorities[int(row)])
        gone = {int(r) for r in rows}
        for a in touched:
            self._local[a] = [r for r in self._local[a] if r not in gone]
            self._local_arrays[a] = None
            self._small_arrays[a] = None

    def serves(self, authority: int) -> np.ndarray:
        """Rows of the active providers that serve ``authority`` (in order of entry)."""
        arr = self._local_arrays[authority]
        if arr is None:
            arr = np.asarray(self._local[authority], dtype=np.int64)
            self._local_arrays[authority] = arr
        return arr

    def serves_small(self, authority: int) -> np.ndarray:
        """Rows of the active small VSOs and social enterprises that serve ``authority`` (in order
        of entry; kept, like ``serves``, until the authority's providers change)."""
        arr = self._small_arrays[authority]
        if arr is None:
            rows = self.serves(authority)
            kinds = self.kind[rows]
            arr = rows[(kinds == VSO) | (kinds == SE)]
            self._small_arrays[authority] = arr
        return arr

    # ---------------------------------------------------------------- queries

    def rows_of(self, kind: ProviderKind, active_only: bool = False) -> np.ndarray:
        """Rows of providers of ``kind`` (only the active ones if asked)."""
        sel = self.kind[: self.n] == KIND_CODES[kind]
        if active_only:
            sel &= self.active[: self.n]
        return np.flatnonzero(sel)

    def count(self, kind: ProviderKind, active_only: bool = True) -> int:
        """Number of providers of ``kind`` (active ones by default)."""
        sel = self.kind[: self.n] == KIND_CODES[kind]
        if active_only:
            sel &= self.active[: self.n]
        return int(np.count_nonzero(sel))

    def count_code(self, code: int) -> int:
        """Number of active providers with kind code ``code``."""
        n = self.n
        return int(np.count_nonzero((self.kind[:n] == code) & self.active[:n]))

    def spare_capacity_gbp(self, rows: np.ndarray) -> np.ndarray:
        """Contract value per year each provider could still take on."""
        return self.capacity_gbp[rows] - self.contracted_annual_gbp[rows]

    def ledger_balance_gbp(self, rows: np.ndarray) -> np.ndarray:
        """Reserves implied by the ledger (initial + income - spending); equals reserves."""
        income = sum(getattr(self, name)[rows] for name in INCOME_COLUMNS)
        spent = sum(getattr(self, name)[rows] for name in SPENDING_COLUMNS)
        return self.initial_reserves_gbp[rows] + income - spent
