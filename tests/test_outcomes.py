"""The outcome glossary (safsim.outcomes) covers every column the model writes, exactly once."""

from __future__ import annotations

import math

import pytest

from safsim import load_scenario, metrics, run_scenario
from safsim.outcomes import AUTHORITY, GROUPS, ID_COLUMNS, OUTCOMES, TIMESERIES, UNITS, label_with_unit, outcome


def test_glossary_matches_the_tables_column_for_column():
    """The runs, time-series and authority tables have exactly the glossary's columns, in order."""
    assert list(metrics.RUN_ID_COLUMNS) == list(ID_COLUMNS)
    assert list(metrics.ALL_OUTCOMES) == list(OUTCOMES)
    assert list(metrics.TIMESERIES_COLUMNS) == list(TIMESERIES)
    assert list(metrics.AUTHORITY_COLUMNS) == list(AUTHORITY)


def test_a_real_run_writes_exactly_the_glossary_columns_and_counts_are_whole():
    """A short run's tables carry the glossary columns, and columns marked as counts hold integers."""
    res = run_scenario(load_scenario("baseline", ["horizon_steps=8"]), seed=3)
    assert list(res.outcomes) == list(OUTCOMES)
    assert list(res.timeseries.columns) == list(TIMESERIES)
    assert list(res.authorities.columns) == list(AUTHORITY)
    for name, o in OUTCOMES.items():
        if o.integer and math.isfinite(res.outcomes[name]):
            assert float(res.outcomes[name]).is_integer(), name
    for name, o in TIMESERIES.items():
        if o.integer:
            assert (res.timeseries[name] % 1 == 0).all(), name


@pytest.mark.parametrize("o", [*OUTCOMES.values(), *TIMESERIES.values(), *AUTHORITY.values(), *ID_COLUMNS.values()])
def test_every_entry_has_a_label_a_known_unit_and_one_sentence(o):
    """Each column has a short label, a documented unit, a known group and a one-sentence meaning."""
    assert o.label and len(o.label) <= 60
    assert o.unit in UNITS
    assert o.group in GROUPS
    assert o.meaning.endswith(".") and o.meaning[0].isupper()


def test_money_and_social_value_outcomes_carry_their_unit():
    """Outcomes named in pounds are in pounds, and claimed/delivered social value is in SV units."""
    for name, o in {**OUTCOMES, **TIMESERIES}.items():
        if name.endswith("_gbp") and not name.startswith("sv_per_gbp"):
            assert o.unit == "£", name
        if name.startswith("sv_per_gbp"):
            assert "per pound" in o.meaning, name
    assert outcome("sv_claimed").unit == outcome("sv_delivered").unit == "SV units"
    assert label_with_unit("sv_delivered") == "Social value delivered (SV units)"


def test_unknown_name_suggests_the_closest():
    """A misspelt column name fails with a did-you-mean suggestion."""
    with pytest.raises(KeyError, match="survival_sme_vso"):
        outcome("survival_sme_vsoo")
