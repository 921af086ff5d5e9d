"""Properties of encode -> decode: exact for categories and width-one integer bins, in-bin otherwise."""

import numpy as np
import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dpsynth.schema import Categorical, Datetime, Numeric, Ordinal, Schema, decode, encode

PROPERTY = settings(max_examples=100, deadline=None)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=7)


def _round_trip(values: list, column) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """Codes, decoded values and the original values of a one-column table."""
    assume(any(value is not None for value in values))
    original = pd.Series(values, dtype=object, name=column.name)
    schema = Schema([column])
    codes = encode(original.to_frame(), schema).codes
    decoded = decode(codes, schema, np.random.default_rng(len(values)))[column.name]
    return codes[:, 0], decoded, original


@st.composite
def categories_and_values(draw):
    categories = draw(st.lists(st.one_of(TEXT, st.integers(-1000, 1000)), min_size=1, max_size=8, unique_by=str))
    values = draw(st.lists(st.one_of(st.sampled_from(categories), st.none()), min_size=1, max_size=40))
    return categories, values


@PROPERTY
@given(categories_and_values(), st.booleans(), st.booleans())
def test_categories_round_trip_exactly(drawn, ordered, other):
    categories, values = drawn
    # The other label is longer than any drawn category, so it never clashes with one.
    column = Ordinal("c", categories) if ordered else Categorical("c", categories, other=other, other_label="(folded)")
    _, decoded, original = _round_trip(values, column)
    assert decoded.isna().tolist() == original.isna().tolist()
    present = original.notna()
    assert decoded[present].astype(str).tolist() == original[present].astype(str).tolist()


@PROPERTY
@given(st.integers(-10**6, 10**6), st.integers(1, 300), st.data())
def test_integers_in_width_one_bins_round_trip_exactly(lower, width, data):
    upper = lower + width
    column = Numeric("n", lower, upper, integer=True, bins=width + 1 + data.draw(st.integers(0, 50)))
    values = data.draw(st.lists(st.one_of(st.integers(lower, upper), st.none()), min_size=1, max_size=40))
    _, decoded, original = _round_trip(values, column)
    assert decoded.tolist() == [pd.NA if value is None else value for value in original]


@st.composite
def numeric_column(draw):
    lower = draw(st.floats(-1e6, 1e6))
    upper = lower + draw(st.floats(1e-3, 1e6))
    integer = draw(st.booleans())
    if integer:
        lower, upper = float(np.floor(lower)), float(np.ceil(upper))
    bins = draw(st.integers(1, 40))
    edges = None
    if draw(st.booleans()):
        inner = draw(st.lists(st.floats(lower, upper), max_size=6))
        if integer:
            # Whole inner edges leave at least one integer in every bin.
            inner = [float(np.ceil(point)) for point in inner]
        edges = (lower, *sorted(set(inner) - {lower, upper}), upper)
    return Numeric("x", lower, upper, integer=integer, bins=bins, edges=edges)


@PROPERTY
@given(numeric_column(), st.data())
def test_numbers_decode_within_the_bin_of_their_clipped_value(column, data):
    span = column.upper - column.lower
    outside = st.floats(column.lower - span, column.upper + span)
    draw = st.integers(int(column.lower - span), int(column.upper + span)) if column.integer else outside
    values = data.draw(st.lists(st.one_of(draw, st.none()), min_size=1, max_size=40))
    codes, decoded, original = _round_trip(values, column)
    present = original.notna().to_numpy()
    numbers = decoded.to_numpy(dtype=float, na_value=np.nan)
    assert np.array_equal(np.isnan(numbers), ~present)
    edges = column.bin_edges
    bins = codes[present]
    assert np.all(numbers[present] >= edges[bins]) and np.all(numbers[present] <= edges[bins + 1])
    np.testing.assert_array_equal(encode(decoded.to_frame(), Schema([column])).codes[:, 0], codes)


@PROPERTY
@given(
    st.datetimes(min_value=pd.Timestamp("1900-01-01").to_pydatetime(), max_value=pd.Timestamp("2200-01-01").to_pydatetime()),
    st.integers(1, 10**9),
    st.integers(1, 40),
    st.data(),
)
def test_datetimes_decode_within_their_bin(lower, span_seconds, bins, data):
    lower = pd.Timestamp(lower)
    upper = lower + pd.Timedelta(seconds=span_seconds)
    column = Datetime("t", lower.isoformat(), upper.isoformat(), bins=bins)
    offsets = st.integers(-span_seconds, 2 * span_seconds)
    values = data.draw(st.lists(st.one_of(offsets, st.none()), min_size=1, max_size=30))
    stamps = [None if v is None else (lower + pd.Timedelta(seconds=v)).isoformat() for v in values]
    codes, decoded, original = _round_trip(stamps, column)
    assert decoded.isna().tolist() == original.isna().tolist()
    np.testing.assert_array_equal(encode(decoded.to_frame(), Schema([column])).codes[:, 0], codes)
    assert decoded.dropna().between(column.lower_timestamp, column.upper_timestamp).all()
