"""terr_refcad: the parcel ids of a plot, and the plot-parcel join table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from atlas.errors import InvalidInput
from atlas.layers.activity_plots import plots_parcels, refcad_ids


def test_splits_on_pipes_and_keeps_order():
    value = "80024000ZO0030|80024000ZO0034|80024000ZO0035"
    assert refcad_ids(value) == ["80024000ZO0030", "80024000ZO0034", "80024000ZO0035"]


def test_repeats_are_dropped_and_spaces_tolerated():
    assert refcad_ids(" 91228000AB0012 | 91228000AB0012|91228000AB0013") == [
        "91228000AB0012",
        "91228000AB0013",
    ]


@pytest.mark.parametrize("empty", [None, "", "  ", math.nan])
def test_empty_values_give_no_ids(empty):
    assert refcad_ids(empty) == []


@pytest.mark.parametrize(
    "bad",
    [
        "80024000ZO003",  # 13 characters
        "80024000zo0030",  # lower-case section
        "80024000ZO0030|",  # empty id after the pipe
        "80024000ZO0030;80024000ZO0034",  # wrong separator
        "2A004000AB0001",  # Corsica: outside the CNIG pattern, which is kept as published
    ],
)
def test_malformed_ids_are_refused(bad):
    with pytest.raises(InvalidInput, match="is not a parcel id"):
        refcad_ids(bad)


def test_plots_parcels_join_table():
    plots = pd.DataFrame(
        {
            "terr_id": ["T1", "T2", "T3"],
            "terr_refcad": ["91228000AB0012|91228000AB0013", None, "91228000AB0014"],
        }
    )
    pairs = plots_parcels(plots)
    assert list(pairs.columns) == ["terr_id", "parcel_id"]
    assert pairs.to_records(index=False).tolist() == [
        ("T1", "91228000AB0012"),
        ("T1", "91228000AB0013"),
        ("T3", "91228000AB0014"),
    ]


def test_plots_parcels_names_the_plot_with_a_bad_id():
    plots = pd.DataFrame({"terr_id": ["T9"], "terr_refcad": ["AB12"]})
    with pytest.raises(InvalidInput, match="plot 'T9'"):
        plots_parcels(plots)


def test_ids_have_the_etalab_parcel_form():
    # Same 14 characters as the Etalab cadastre ``id`` (commune 5, prefixe 3, section 2, numero 4)
    from atlas.layers.parcels import PARCEL_ID

    for ident in refcad_ids("91228000AB0012|912280000A0001"):
        assert PARCEL_ID.match(ident)
