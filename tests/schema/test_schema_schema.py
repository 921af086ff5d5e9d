"""The Schema: its checks, its queries, and its JSON / YAML / mbi-domain files."""

import json

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import SchemaError
from dpsynth.schema import Categorical, Datetime, Identifier, Numeric, Ordinal, Schema, decode, encode


@pytest.fixture
def every_kind() -> Schema:
    return Schema(
        [
            Identifier("pid", role="unit"),
            Categorical("color", ("red", "green", 3), other=True),
            Ordinal("grade", ("low", "mid", "high"), missing=False),
            Numeric("income", 0, 500000, integer=True, bins=50),
            Numeric("ratio", -1.5, 2.5, edges=(-1.5, 0.0, 0.25, 2.5)),
            Datetime("when", "2019-01-01", "2024-06-30T12:00:00", bins=10),
            Identifier("note"),
        ],
        provenance="dp",
    )


def test_queries(every_kind):
    assert every_kind.encoded_columns == ("color", "grade", "income", "ratio", "when")
    assert every_kind.unit_column == "pid"
    assert every_kind.domain_sizes() == {"color": 5, "grade": 3, "income": 51, "ratio": 4, "when": 11}
    assert every_kind["grade"] == Ordinal("grade", ("low", "mid", "high"), missing=False)
    assert "note" in every_kind and "nothing" not in every_kind
    with pytest.raises(SchemaError, match="'nothing'"):
        every_kind["nothing"]
    assert Schema([Categorical("a", ("x",))]).unit_column is None


@pytest.mark.parametrize(
    "columns,provenance,problem",
    [
        ([Categorical("color", ("a",)), Numeric("color", 0, 1)], "public", "'color' appears twice"),
        ([Identifier("pid", role="unit"), Identifier("household", role="unit")], "public", "unit of privacy"),
        ([Categorical("color", ("a",))], "guessed", "provenance"),
        (["color"], "public", "column kinds"),
    ],
)
def test_invalid_schema(columns, provenance, problem):
    with pytest.raises(SchemaError, match=problem):
        Schema(columns, provenance=provenance)


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_file_round_trip(every_kind, tmp_path, suffix):
    path = tmp_path / f"schema{suffix}"
    every_kind.save(path)
    assert Schema.load(path) == every_kind
    assert Schema.from_dict(every_kind.to_dict()) == every_kind


def test_numpy_values_are_written_as_plain_values(tmp_path):
    schema = Schema([Categorical("color", np.array(["red", "blue"])), Numeric("size", np.float32(0), np.int64(9), bins=np.int64(3))])
    path = tmp_path / "schema.yaml"
    schema.save(path)
    assert Schema.load(path) == schema


def test_file_format_is_versioned_and_plain(every_kind, tmp_path):
    path = tmp_path / "schema.json"
    every_kind.save(path)
    document = json.loads(path.read_text())
    assert document["dpsynth_schema"] == 1
    assert document["provenance"] == "dp"
    assert document["columns"][3] == {
        "name": "income", "kind": "numeric", "lower": 0, "upper": 500000, "integer": True,
        "bins": 50, "edges": None, "missing": True,
    }


def test_hand_written_yaml_with_yaml_quirks(tmp_path):
    """Unquoted dates become date objects and 1.5e6 becomes text in YAML 1.1; both are read."""
    path = tmp_path / "schema.yaml"
    path.write_text(
        "dpsynth_schema: 1\n"
        "columns:\n"
        "  - {name: fnlwgt, kind: numeric, lower: 0, upper: 1.5e6, integer: true}\n"
        "  - {name: when, kind: datetime, lower: 2020-01-01, upper: 2021-01-01}\n"
    )
    schema = Schema.load(path)
    assert schema.provenance == "public"
    assert schema["fnlwgt"].upper == 1.5e6
    assert schema["when"].lower == "2020-01-01"


def test_mbi_domain_file(pgm_dir):
    schema = Schema.load(pgm_dir / "adult-domain.json")
    expected = json.loads((pgm_dir / "adult-domain.json").read_text())
    assert schema.provenance == "public"
    assert len(schema.columns) == 14
    assert schema.domain_sizes() == expected
    for column in schema.columns:
        assert column == Categorical(column.name, tuple(range(expected[column.name])), other=False, missing=False)


def test_mbi_domain_encodes_to_the_files_integers(pgm_dir):
    schema = Schema.load(pgm_dir / "adult-domain.json")
    frame = pd.read_csv(pgm_dir / "adult.csv")
    encoded = encode(frame, schema)
    assert encoded.codes.shape == (48842, 14)
    np.testing.assert_array_equal(encoded.codes, frame.to_numpy())
    decoded = decode(encoded.codes, schema, np.random.default_rng(0))
    pd.testing.assert_frame_equal(decoded, frame)


@pytest.mark.parametrize(
    "name,text,problem",
    [
        ("bad.json", "{not json", "not valid JSON"),
        ("bad.yaml", "columns: [unclosed", "not valid YAML"),
        ("bad.json", "[1, 2, 3]", "neither a dpsynth schema"),
        ("bad.json", '{"age": 85, "sex": -2}', "'sex' must map to a positive whole number"),
        ("bad.json", '{"age": 85, "sex": 2.5}', "'sex' must map to a positive whole number"),
        ("bad.json", '{"dpsynth_schema": 2, "columns": []}', "version 2"),
        ("bad.json", '{"dpsynth_schema": 1, "columns": {}}', "'columns' must be a list"),
        ("bad.json", '{"dpsynth_schema": 1, "columns": [], "colums": []}', "unknown schema key"),
        ("bad.json", '{"dpsynth_schema": 1, "columns": [{"name": "age", "kind": "number"}]}', "'age': unknown kind 'number'"),
        ("bad.yaml", "dpsynth_schema: 1\ncolumns:\n  - {name: age, kind: numeric, lower: 9, upper: 1}\n", "'age': lower"),
        ("bad.txt", "{}", "must end in .json, .yaml or .yml"),
    ],
)
def test_malformed_file_names_the_file_and_the_problem(tmp_path, name, text, problem):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SchemaError) as caught:
        Schema.load(path)
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)


@pytest.mark.parametrize("make", [lambda tmp: tmp / "absent.json", lambda tmp: (tmp / "folder.json").mkdir() or tmp / "folder.json"])
def test_unreadable_file(tmp_path, make):
    path = make(tmp_path)
    with pytest.raises(SchemaError, match="cannot be read") as caught:
        Schema.load(path)
    assert str(path) in str(caught.value)
