"""Output dtypes come from the schema, the user's declared dtypes and the synthetic values, never from a guess."""

import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.data.types_out import OutputTypes
from dpsynth.errors import PrivacyWarning
from dpsynth.schema import Categorical, Datetime, Numeric, Ordinal, Schema, decode
from dpsynth.workflows.release import release
from tests.guarantee.neighbours import CANARY, base_table, with_record

SCHEMA = Schema((
    Categorical("smoker", ("False", "True"), missing=False),
    Ordinal("grade", ("low", "mid", "high")),
    Numeric("age", 0, 100, integer=True, missing=False),
    Numeric("visits", 0, 50, integer=True),
    Categorical("zip", ("02134", "00501"), other=True),
    Datetime("seen", "2020-01-01", "2021-01-01"),
    Numeric("weight", 30.0, 150.0),
))


def decoded(seed=0, n=200, missing=True):
    rng = np.random.default_rng(seed)
    codes = np.column_stack([rng.integers(0, column.size - (0 if missing else int(column.missing)), n)
                             for column in SCHEMA.columns])
    return decode(codes, SCHEMA, rng)


def test_without_declared_dtypes_the_schema_decides():
    out = OutputTypes().apply(decoded(), SCHEMA)
    assert out["smoker"].dtype == bool
    assert out["grade"].dtype == pd.CategoricalDtype(["low", "mid", "high"], ordered=True)
    assert out["age"].dtype == np.int64
    assert out["visits"].dtype == "Int64" and out["visits"].isna().any()  # the output holds nulls
    assert out["zip"].dtype == "str" and {"02134", "00501"} <= set(out["zip"].dropna())
    assert out["seen"].dtype == "datetime64[ns]" and out["weight"].dtype == np.float64
    whole = OutputTypes().apply(decoded(missing=False), SCHEMA)
    assert whole["visits"].dtype == np.int64  # nullable only where the output holds nulls


def declared_frame():
    return pd.DataFrame({
        "smoker": [True, False],
        "grade": pd.Categorical(["low", "high"], categories=["low", "mid", "high"], ordered=True),
        "age": np.array([40, 50], dtype=np.int16),
        "visits": pd.array([3, None], dtype="Int32"),
        "zip": pd.Categorical(["02134", "00501"]),
        "seen": pd.to_datetime(["2020-03-01 10:00", "2020-05-01 11:00"]).tz_localize("Europe/Paris").as_unit("s"),
        "weight": np.array([70.5, 80.25], dtype=np.float32),
    })


def test_declared_dtypes_are_copied_exactly():
    frame = declared_frame()
    for values in (decoded(), decoded(missing=False)):
        out = OutputTypes.of(frame, public_dtypes=True).apply(values, SCHEMA)
        assert out["grade"].dtype == frame["grade"].dtype and out["age"].dtype == np.int16
        assert out["visits"].dtype == "Int32"  # nullable in the input and missing allowed by the schema
        assert out["seen"].dtype == frame["seen"].dtype and out["weight"].dtype == np.float32
        assert out["zip"].dtype.categories.tolist()[:2] == ["00501", "02134"]  # the input's, then "other"
        assert set(out["zip"].dropna()) <= {"00501", "02134", "other"}
    # The same instants, in the declared zone: decoding gives UTC.
    values = decoded()
    out = OutputTypes.of(frame, public_dtypes=True).apply(values, SCHEMA)
    utc = out["seen"].dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("ns")
    assert utc.equals(values["seen"].dt.floor("s"))
    assert out["smoker"].dtype == bool


def test_undeclared_dtypes_are_not_read():
    frame = declared_frame()
    assert OutputTypes.of(frame, public_dtypes=False) == OutputTypes()


def test_a_declared_integer_width_too_small_for_the_bounds_widens():
    frame = pd.DataFrame({"age": np.array([1, 2], dtype=np.int8)})
    schema = Schema((Numeric("age", 0, 1000, integer=True, missing=False),))
    values = pd.DataFrame({"age": np.array([5, 999])})
    assert OutputTypes.of(frame, True).apply(values, schema)["age"].dtype == np.int64


def seeded(frame, out, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        return release(frame, epsilon=1.0, delta=1e-9, out=out, random_state=7, audit="off",
                       ledger=out.parent / f"{out.name}.sqlite", n_rows=300, **options)


@pytest.mark.parametrize("record", [("age", CANARY), ("age", None), ("workclass", CANARY), ("sex", None)])
def test_output_dtypes_do_not_change_when_one_record_changes(tmp_path, record):
    """A typed DataFrame whose dtypes the user did not declare public: one record (text in the
    integer column, a missing cell) changes the dtypes pandas holds, never the output's."""
    base = base_table()
    typed = base.assign(age=base["age"].astype(np.int64), sex=base["sex"].astype("category"))
    neighbour = with_record(typed, *record)
    assert (typed.dtypes != neighbour.dtypes).any() or record[0] == "workclass"
    outputs = [seeded(frame, tmp_path / name).synthetic for frame, name in ((typed, "d"), (neighbour, "d1"))]
    assert [{name: family(out[name]) for name in out.columns} for out in outputs] == 2 * [EXPECTED_FAMILIES]
    for out in outputs:  # nullable exactly where the synthetic column holds nulls (post-processing)
        assert all((out[name].dtype == "Int64") == out[name].isna().any()
                   for name in out.columns if family(out[name]) == "integer")


# The neighbours' schema is DP-discovered: its kinds are the same on these neighbours (a canary
# cell does not move the noisy class counts past their thresholds at this seed).
EXPECTED_FAMILIES = {"age": "integer", "workclass": "str", "education": "str", "sex": "str",
                     "hours-per-week": "integer", "capital-gain": "integer", "income": "str"}


def family(series):
    """A dtype up to nullability, which follows the synthetic values."""
    return "integer" if pd.api.types.is_integer_dtype(series.dtype) else str(series.dtype)


def test_release_round_trips_declared_types_through_parquet(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    rng = np.random.default_rng(3)
    n = 2000
    frame = pd.DataFrame({
        "smoker": rng.random(n) < 0.3,
        "grade": pd.Categorical(rng.choice(["low", "mid", "high"], n), categories=["low", "mid", "high"], ordered=True),
        "age": rng.integers(18, 90, n).astype(np.int32),
        "seen": (pd.Timestamp("2020-01-01", tz="America/New_York")
                 + pd.to_timedelta(rng.integers(0, 300, n), unit="D")).as_unit("ms"),
    })
    path = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    schema = Schema((
        Categorical("smoker", ("False", "True"), missing=False), Ordinal("grade", ("low", "mid", "high"), missing=False),
        Numeric("age", 0, 120, integer=True, missing=False), Datetime("seen", "2019-12-31", "2021-01-01", missing=False),
    ))
    result = seeded(path, tmp_path / "out", schema=schema, public_dtypes=True)
    assert result.record["synthetic"] == {"file": "synthetic.parquet", "format": "parquet", "null_token": ""}
    back = pq.read_table(result.synthetic_file).to_pandas()
    assert back["smoker"].dtype == bool and back["grade"].dtype == frame["grade"].dtype
    assert back["age"].dtype == "int32" or back["age"].dtype == "Int32"
    assert back["seen"].dtype == frame["seen"].dtype


def test_whole_number_categories_discovered_under_dp_come_back_as_integers():
    """Small tables' kind decision may call a whole-number column categorical: its synthetic
    values are int64 when no cell holds the "other" label; a plain text form is required, so
    zip codes keep their leading zeros, and a declared schema's text categories stay text."""
    columns = (Categorical("credits", ("1", "2", "10"), other=True), Categorical("zip", ("02134", "501"), other=True))
    frame = pd.DataFrame({"credits": pd.Series(["1", "10", "2"], dtype="str"),
                          "zip": pd.Series(["02134", "501", "501"], dtype="str")})
    out = OutputTypes().apply(frame, Schema(columns, provenance="dp"))
    assert out["credits"].dtype == np.int64 and out["credits"].tolist() == [1, 10, 2]
    assert out["zip"].tolist() == ["02134", "501", "501"]
    with_null = OutputTypes().apply(frame.assign(credits=pd.Series(["1", None, "2"], dtype="str")),
                                    Schema(columns, provenance="dp"))
    assert with_null["credits"].dtype == "Int64" and with_null["credits"].isna().sum() == 1
    folded = OutputTypes().apply(frame.assign(credits=pd.Series(["1", "other", "2"], dtype="str")),
                                 Schema(columns, provenance="dp"))
    assert folded["credits"].dtype == "str"
    assert OutputTypes().apply(frame, Schema(columns))["credits"].dtype == "str"
