"""The provider table (safsim.population): growth, local lists, queries and the ledger."""

from __future__ import annotations

import numpy as np
from model_fixtures import append_rows, tiny

from safsim.config import ProviderKind, ProviderKindConfig, is_param_field
from safsim.population import KIND_CODES, PROVIDER_COLUMNS, PROVIDER_DRAWN, ProviderTable


def test_append_grows_past_capacity_and_keeps_earlier_rows():
    """Appending more rows than the initial capacity grows every array and keeps the rows already there."""
    T = ProviderTable(n_authorities=1, capacity=8)
    first = append_rows(T, ProviderKind.sme_vso, [[0]] * 5, value=3.0)
    second = append_rows(T, ProviderKind.corporate, [[0]] * 20, value=7.0)
    assert T.n == 25
    assert first.tolist() == list(range(5)) and second.tolist() == list(range(5, 25))
    for name in (*PROVIDER_COLUMNS, "kind", "active", "areas_mask"):
        assert getattr(T, name).size >= 25, name
    assert np.all(T.reserves_gbp[:5] == 3.0) and np.all(T.reserves_gbp[5:25] == 7.0)
    assert np.all(T.kind[:5] == KIND_CODES[ProviderKind.sme_vso])
    assert np.all(T.kind[5:25] == KIND_CODES[ProviderKind.corporate])
    assert T.active[:25].all()


def test_serves_lists_exactly_the_active_providers_of_an_authority():
    """serves(a) gives the rows serving authority a, in entry order, and drops a row once it is deactivated."""
    T = ProviderTable(n_authorities=3)
    append_rows(T, ProviderKind.sme_vso, [[0], [1], [0, 1], [2], [0, 2]])
    assert T.serves(0).tolist() == [0, 2, 4]
    assert T.serves(1).tolist() == [1, 2]
    assert T.serves(2).tolist() == [3, 4]
    T.deactivate(np.array([2]))
    assert T.serves(0).tolist() == [0, 4]
    assert T.serves(1).tolist() == [1]
    assert T.serves(2).tolist() == [3, 4]
    assert not T.active[2]
    append_rows(T, ProviderKind.corporate, [[1]])
    assert T.serves(1).tolist() == [1, 5]


def test_count_and_rows_of_by_kind():
    """count and rows_of select one kind; count counts only active rows unless told otherwise."""
    T = ProviderTable(n_authorities=1)
    append_rows(T, ProviderKind.sme_vso, [[0]] * 3)
    append_rows(T, ProviderKind.corporate, [[0]] * 2)
    append_rows(T, ProviderKind.sme_vso, [[0]])
    assert T.rows_of(ProviderKind.sme_vso).tolist() == [0, 1, 2, 5]
    assert T.rows_of(ProviderKind.corporate).tolist() == [3, 4]
    assert T.count(ProviderKind.large_charity) == 0
    T.deactivate(np.array([1]))
    assert T.count(ProviderKind.sme_vso) == 3
    assert T.count(ProviderKind.sme_vso, active_only=False) == 4
    assert T.rows_of(ProviderKind.sme_vso, active_only=True).tolist() == [0, 2, 5]
    assert T.count_code(KIND_CODES[ProviderKind.corporate]) == 2


def test_spare_capacity_is_capacity_less_contracted_value():
    """spare_capacity_gbp is each row's capacity minus the annual value it is already contracted for."""
    T = ProviderTable(n_authorities=1)
    rows = append_rows(T, ProviderKind.sme_vso, [[0]] * 3)
    T.capacity_gbp[rows] = [100.0, 200.0, 300.0]
    T.contracted_annual_gbp[rows] = [0.0, 50.0, 300.0]
    assert T.spare_capacity_gbp(rows).tolist() == [100.0, 150.0, 0.0]


def test_ledger_balance_equals_reserves_after_a_run():
    """After a run every provider's ledger (initial + income - spending) equals its reserves, exited ones too."""
    for seed in (1, 2, 3):
        m = tiny({"horizon_steps": 12, "field.n_authorities": 2, "providers.sme_vso.count": 10}, seed=seed)
        m.run()
        T = m.pop
        rows = np.arange(T.n)
        assert T.income_contracts_gbp[rows].sum() > 0  # money did move
        np.testing.assert_allclose(T.ledger_balance_gbp(rows), T.reserves_gbp[rows], rtol=1e-9, atol=1e-3)


def test_ledger_balance_sees_every_income_and_spending_column():
    """Each income column adds to the ledger balance and each spending column subtracts from it."""
    T = ProviderTable(n_authorities=1)
    rows = append_rows(T, ProviderKind.sme_vso, [[0]], value=0.0)
    T.initial_reserves_gbp[rows] = 100.0
    expected = 100.0
    for i, what in enumerate(("contracts", "grants", "reimbursed", "fundraising")):
        getattr(T, f"income_{what}_gbp")[rows] = 10.0**i
        expected += 10.0**i
        assert T.ledger_balance_gbp(rows)[0] == expected, what
    for i, what in enumerate(("delivery", "overhead", "bids", "engagement")):
        getattr(T, f"spent_{what}_gbp")[rows] = 2.0**i
        expected -= 2.0**i
        assert T.ledger_balance_gbp(rows)[0] == expected, what


def test_provider_drawn_equals_the_param_fields_of_the_kind_config():
    """PROVIDER_DRAWN is exactly the Param-typed fields of ProviderKindConfig; all but placement are columns."""
    params = {name for name in ProviderKindConfig.model_fields if is_param_field(ProviderKindConfig, name)}
    assert set(PROVIDER_DRAWN) == params
    assert len(PROVIDER_DRAWN) == len(params)
    assert {"reserves_gbp", "markup", "social_skill"} <= set(PROVIDER_DRAWN)
    assert not {"count", "min_markup", "tender_prep_weeks", "entry_rate_per_year"} & set(PROVIDER_DRAWN)
    placement = {"service_areas", "authorities_served"}
    assert set(PROVIDER_DRAWN) - placement <= set(PROVIDER_COLUMNS)
    assert not placement & set(PROVIDER_COLUMNS)
