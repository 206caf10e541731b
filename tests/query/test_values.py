"""One rule for missing values, dates and typing a client's value (atlas.query.values)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from atlas.errors import InvalidInput
from atlas.layers.base import FieldSpec
from atlas.query.values import as_date, as_datetime, is_missing, typed_value


@pytest.mark.parametrize("value", [None, float("nan"), np.float32("nan"), pd.NA, pd.NaT,
                                   np.datetime64("NaT")])  # fmt: skip
def test_missing_values(value):
    assert is_missing(value)


@pytest.mark.parametrize("value", [0, 0.0, "", b"", [], np.array([np.nan]), False, "nan"])
def test_values_that_are_not_missing(value):
    assert not is_missing(value)


@pytest.mark.parametrize(
    "value",
    [
        dt.date(2024, 6, 30),
        dt.datetime(2024, 6, 30, 23, 59),
        pd.Timestamp("2024-06-30T12:00"),
        np.datetime64("2024-06-30"),
        " 2024-06-30 ",
    ],
)
def test_every_form_of_a_date_gives_the_same_date(value):
    assert as_date(value) == dt.date(2024, 6, 30)


def test_dates_missing_and_refused():
    assert as_date(pd.NaT) is None and as_date(None) is None
    with pytest.raises(ValueError):
        as_date("30/06/2024")
    with pytest.raises(ValueError):
        as_date(2024)


def test_datetimes_are_utc():
    paris = dt.timezone(dt.timedelta(hours=2))
    assert as_datetime("2024-06-30T12:00:00+02:00") == dt.datetime(2024, 6, 30, 10, tzinfo=dt.UTC)
    assert as_datetime(dt.datetime(2024, 6, 30, 12, tzinfo=paris)).tzinfo == dt.UTC
    assert as_datetime(dt.date(2024, 6, 30)) == dt.datetime(2024, 6, 30, tzinfo=dt.UTC)
    assert as_datetime("2024-06-30T12:00") == dt.datetime(2024, 6, 30, 12, tzinfo=dt.UTC)


NB = FieldSpec("nb_lots", "integer")
PRICE = FieldSpec("prix", "number")
FREE = FieldSpec("libre", "boolean")
WHEN = FieldSpec("quand", "date")
NAME = FieldSpec("nom", "string")


def test_query_parameter_text_is_typed_like_a_literal():
    assert typed_value(NB, "2", text=True) == 2 == typed_value(NB, 2)
    assert typed_value(PRICE, "2.5", text=True) == 2.5
    assert typed_value(FREE, "TRUE", text=True) is True
    assert typed_value(WHEN, "2024-06-30", text=True) == dt.date(2024, 6, 30)
    assert typed_value(NAME, "12", text=True) == "12"


@pytest.mark.parametrize(
    ("spec", "text", "message"),
    [
        (NB, "two", "'nb_lots' is an integer field: 'two' is not an integer"),
        (PRICE, "inf", "'prix' is a number field"),
        (FREE, "yes", "'libre' is a boolean field: 'yes' is not a boolean"),
        (WHEN, "2024-02-30", "'quand' is a date field"),
        (NAME, "a\x00b", "NUL"),
    ],
)
def test_query_parameter_text_refused_with_the_field_named(spec, text, message):
    with pytest.raises(InvalidInput, match=message):
        typed_value(spec, text, text=True)


def test_without_text_mode_a_numeric_text_is_not_a_number():
    with pytest.raises(InvalidInput, match="'nb_lots' is an integer field: '2' is not an integer"):
        typed_value(NB, "2")
    with pytest.raises(InvalidInput, match="a date field"):
        typed_value(WHEN, dt.datetime(2024, 6, 30))  # a timestamp is not a date
