"""SDV single-table metadata: read as kinds (or a whole schema where it can be), and written from a schema."""

import json

import pytest

from dpsynth.cli import main
from dpsynth.errors import SchemaError
from dpsynth.schema import Categorical, Datetime, Identifier, Numeric, Ordinal, Schema
from dpsynth.schema.sdv import is_sdv_metadata, kinds_from_sdv, schema_from_sdv, to_sdv
from dpsynth.workflows.root import load_schema
from dpsynth.workflows.schema import export_schema
from tests.conftest import pums_like

PUMS_METADATA = {
    "METADATA_SPEC_VERSION": "SINGLE_TABLE_V1",
    "columns": {
        "age": {"sdtype": "numerical", "computer_representation": "Int64"},
        "sex": {"sdtype": "categorical"},
        "educ": {"sdtype": "categorical"},
        "race": {"sdtype": "categorical"},
        "income": {"sdtype": "numerical", "computer_representation": "Float"},
        "married": {"sdtype": "boolean"},
    },
}


def test_sdtypes_map_to_kinds():
    metadata = {
        "METADATA_SPEC_VERSION": "SINGLE_TABLE_V1",
        "primary_key": "key",
        "columns": {
            "key": {"sdtype": "id", "regex_format": "K_[0-9]{4}"},
            "count": {"sdtype": "numerical", "computer_representation": "UInt16"},
            "amount": {"sdtype": "numerical"},
            "colour": {"sdtype": "categorical"},
            "flag": {"sdtype": "boolean"},
            "mail": {"sdtype": "email", "pii": True},
            "note": {"sdtype": "unknown"},
            "city": {"sdtype": "city", "pii": False},
            "secret": {"sdtype": "categorical", "pii": True},
        },
    }
    assert kinds_from_sdv(metadata) == {
        "key": "identifier", "count": "integer", "amount": "numeric", "colour": "categorical",
        "flag": "categorical", "mail": "identifier", "note": "identifier", "city": "identifier",
        "secret": "identifier",
    }


def test_a_multi_table_file_with_one_table_is_read_and_with_two_refused():
    one = {"METADATA_SPEC_VERSION": "V1", "tables": {"people": {"columns": PUMS_METADATA["columns"]}},
           "relationships": []}
    assert kinds_from_sdv(one)["age"] == "integer"
    two = dict(one, tables={"a": one["tables"]["people"], "b": one["tables"]["people"]})
    with pytest.raises(SchemaError, match="holds 2 tables"):
        kinds_from_sdv(two)


def test_a_datetime_column_is_declared_a_datetime_kind_whose_bounds_are_discovered():
    metadata = {"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1",
                "columns": {"when": {"sdtype": "datetime", "datetime_format": "%Y-%m-%d"}}}
    assert kinds_from_sdv(metadata) == {"when": "datetime"}


def test_schema_load_names_the_first_column_that_lacks_bounds_or_categories(tmp_path):
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(PUMS_METADATA))
    with pytest.raises(SchemaError, match="column 'age': SDV metadata gives no bounds") as error:
        Schema.load(path)
    assert "\n" not in str(error.value)


def test_schema_load_reads_metadata_complete_without_bounds(tmp_path):
    path = tmp_path / "metadata.yaml"
    path.write_text("columns:\n  id: {sdtype: id}\n  ok: {sdtype: boolean}\n")
    schema = Schema.load(path)
    assert schema.columns == (Identifier("id"), Categorical("ok", ("False", "True")))
    assert schema.provenance == "public"


def test_a_release_reads_sdv_metadata_as_a_kinds_declaration(tmp_path):
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(PUMS_METADATA))
    assert load_schema(path) == {
        "age": "integer", "sex": "categorical", "educ": "categorical", "race": "categorical",
        "income": "numeric", "married": "categorical",
    }
    assert load_schema(PUMS_METADATA) == load_schema(path)


def test_cli_release_with_sdv_metadata_discovers_bounds_for_the_declared_kinds(tmp_path, capsys):
    data, metadata = tmp_path / "pums.csv", tmp_path / "metadata.json"
    pums_like().to_csv(data, index=False)
    metadata.write_text(json.dumps(PUMS_METADATA))
    code = main(["release", str(data), "--epsilon", "3", "--schema", str(metadata), "--out", str(tmp_path / "out"),
                 "--audit", "off", "--rows", "100", "--ledger", str(tmp_path / "ledger.sqlite")])
    assert code == 0, capsys.readouterr().err
    record = json.loads((tmp_path / "out" / "release.json").read_text())
    assert record["schema"]["provenance"] == "dp"
    kinds = {column["name"]: (column["kind"], column.get("integer")) for column in record["schema"]["definition"]["columns"]}
    assert kinds["age"] == ("numeric", True) and kinds["income"] == ("numeric", False)
    assert kinds["sex"][0] == kinds["married"][0] == "categorical"


def test_export_writes_kinds_that_read_back_as_the_same_kinds(tmp_path):
    schema = Schema([
        Numeric("age", 0, 100, integer=True),
        Numeric("amount", 0.0, 1.5),
        Categorical("colour", ("red", "blue")),
        Ordinal("size", ("S", "M", "L")),
        Datetime("day", "2020-01-01", "2020-12-31"),
        Identifier("pid", role="unit"),
    ])
    exported = to_sdv(schema)
    assert is_sdv_metadata(exported)
    assert exported["columns"] == {
        "age": {"sdtype": "numerical", "computer_representation": "Int64"},
        "amount": {"sdtype": "numerical", "computer_representation": "Float"},
        "colour": {"sdtype": "categorical"},
        "size": {"sdtype": "categorical"},
        "day": {"sdtype": "datetime", "datetime_format": "%Y-%m-%d"},
        "pid": {"sdtype": "id"},
    }
    without_dates = dict(exported, columns={k: v for k, v in exported["columns"].items() if k != "day"})
    assert kinds_from_sdv(without_dates) == {
        "age": "integer", "amount": "numeric", "colour": "categorical", "size": "categorical", "pid": "identifier",
    }


def test_cli_schema_export(tmp_path, capsys):
    schema = Schema([Numeric("age", 0, 100, integer=True), Categorical("sex", ("F", "M"))])
    schema.save(tmp_path / "schema.json")
    code = main(["schema", "export", str(tmp_path / "schema.json"), "--format", "sdv",
                 "--out", str(tmp_path / "metadata.json")])
    assert code == 0
    written = json.loads((tmp_path / "metadata.json").read_text())
    assert written == to_sdv(schema)
    code = main(["schema", "export", str(tmp_path / "schema.json"), "--out", str(tmp_path / "metadata.json")])
    assert code == 2
    assert "already exists" in capsys.readouterr().err


def test_export_refuses_a_file_that_is_not_json(tmp_path):
    with pytest.raises(SchemaError, match="must end in .json"):
        export_schema(Schema([Identifier("id")]), out=tmp_path / "metadata.yaml")


def test_whole_schema_from_metadata_maps_pii_to_identifiers():
    schema = schema_from_sdv({"columns": {"mail": {"sdtype": "email"}, "flag": {"sdtype": "boolean"}}})
    assert [column.kind for column in schema.columns] == ["identifier", "categorical"]
