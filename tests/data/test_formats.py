"""Reading every format: CSV separators, encodings and BOMs, Parquet, Arrow, Excel, polars and pyarrow tables."""

import codecs
import re

import numpy as np
import pandas as pd
import pytest

from dpsynth.data.load import file_format, read_data, read_input
from dpsynth.errors import DataError

pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")
pq = pytest.importorskip("pyarrow.parquet")
feather = pytest.importorskip("pyarrow.feather")

SECRET = "Zebedee-4417"
ROWS = [("Zoë", "02134", "None"), ("José", "90210", "Positive"), ("Ana", "00501", "None")]


def text(sep=","):
    return "name" + sep + "zip" + sep + "test\n" + "".join(sep.join(row) + "\n" for row in ROWS)


def expected():
    return pd.DataFrame(ROWS, columns=["name", "zip", "test"])


def check(frame):
    assert frame.values.tolist() == expected().values.tolist() and frame.columns.tolist() == ["name", "zip", "test"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_unicode_files_are_read_by_their_byte_order_mark(tmp_path, encoding):
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    path = tmp_path / "data.csv"
    path.write_bytes(bom + text(";").encode(encoding))
    check(read_data(path))


def test_a_latin1_file_is_refused_in_one_line_then_read_with_its_encoding(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(text().encode("latin-1"))
    with pytest.raises(DataError, match="is not UTF-8 text: give its encoding") as caught:
        read_data(path)
    assert "\n" not in str(caught.value) and "Jos" not in str(caught.value)
    check(read_data(path, encoding="latin-1"))
    with pytest.raises(DataError, match="not a known text encoding"):
        read_data(path, encoding="klingon")


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_semicolon_tab_and_pipe_files_are_split_by_their_header(tmp_path, sep):
    path = tmp_path / "data.csv"
    path.write_text(text(sep), encoding="utf-8")
    check(read_data(path))


@pytest.mark.parametrize("sep", [";", "\t"])
def test_a_one_column_read_of_a_separated_file_is_refused(tmp_path, sep):
    path = tmp_path / "data.csv"
    path.write_text(text(sep).replace("Zoë", SECRET), encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(f"reads as one column with separator ',' but its first line holds {sep!r}")):
        read_data(path, sep=",")
    headerless = tmp_path / "rows.csv"
    headerless.write_text("".join(sep.join(row) + "\n" for row in ROWS).replace("Zoë", SECRET), encoding="utf-8")
    with pytest.raises(DataError, match="give the separator") as caught:
        read_data(headerless, header=False, names=["all"])
    assert SECRET not in str(caught.value)
    assert read_data(headerless, header=False, names=["name", "zip", "test"], sep=sep)["zip"].tolist()[0] == "02134"


def test_typed_files_keep_their_types_and_names(tmp_path):
    frame = pd.DataFrame({
        "age": pd.array([39, None, 51], dtype="Int32"),
        "smoker": [True, False, True],
        "grade": pd.Categorical(["b", "a", "b"], categories=["a", "b", "c"], ordered=True),
        "seen": pd.to_datetime(["2021-03-04 10:00", "2021-05-06 00:00", "2022-01-01 12:30"]).tz_localize("Europe/Paris").as_unit("s"),
        "zip": ["02134", " ? ", "00501"],
    })
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, tmp_path / "data.parquet")
    feather.write_feather(table, tmp_path / "data.feather")
    for name in ("data.parquet", "data.feather"):
        read = read_data(tmp_path / name, na_values=["?"])
        assert read["zip"].tolist()[0] == "02134" and pd.isna(read["zip"][1])
        assert read["age"].dtype == "Int32" and read["smoker"].dtype == "boolean"
        assert read["grade"].dtype == frame["grade"].dtype and str(read["seen"].dt.tz) == "Europe/Paris"
    with pytest.raises(DataError, match="sep and encoding are for CSV files"):
        read_data(tmp_path / "data.parquet", sep=";")
    with pytest.raises(DataError, match="its column names come from the file"):
        read_data(tmp_path / "data.parquet", header=False, names=["a", "b", "c", "d", "e"])


def test_a_broken_parquet_file_is_one_line_without_values(tmp_path):
    path = tmp_path / "data.parquet"
    path.write_bytes(b"PAR1" + SECRET.encode() * 20)
    with pytest.raises(DataError, match="is not a readable Parquet file") as caught:
        read_data(path)
    assert SECRET not in str(caught.value)


def test_excel_sheets_are_read_with_a_checked_header(tmp_path):
    pytest.importorskip("openpyxl")
    path = tmp_path / "data.xlsx"
    frame = pd.DataFrame({"age": [39, 50, 38], "zip": ["02134", "?", "00501"], "test": ["None", "Positive", "None"]})
    frame.to_excel(path, index=False)
    read = read_data(path, na_values=["?"])
    assert read.columns.tolist() == ["age", "zip", "test"] and read["age"].tolist() == [39, 50, 38]
    assert read["zip"][0] == "02134" and pd.isna(read["zip"][1]) and read["test"][0] == "None"
    headerless = tmp_path / "rows.xlsx"
    frame.to_excel(headerless, index=False, header=False)
    with pytest.raises(DataError, match="first row looks like a record"):
        read_data(headerless)
    assert read_data(headerless, header=False, names=["a", "b", "c"]).shape == (3, 3)


def test_polars_and_pyarrow_tables_come_in_as_pandas_with_their_kind():
    frame = pd.DataFrame({"age": [39, 50, None], "sex": ["F", "M", "F"]})
    for table, library in ((pl.from_pandas(frame), "polars"), (pa.Table.from_pandas(frame), "pyarrow")):
        given = read_input(table)
        assert given.library == library and given.format is None and given.label == f"{library} table"
        assert given.frame["sex"].tolist() == ["F", "M", "F"] and given.frame["age"].isna().tolist() == [False] * 2 + [True]
    given = read_input(frame)
    assert given.frame is frame and given.label == "DataFrame"
    with pytest.raises(DataError, match="pandas DataFrame, a polars, pyarrow or Spark table, or a file path"):
        read_input(np.zeros((2, 2)))


@pytest.mark.parametrize(("name", "fmt"), [("a.csv", "csv"), ("a.csv.gz", "csv"), ("a.PARQUET", "parquet"),
                                           ("a.feather", "arrow"), ("a.arrow", "arrow"), ("a.xlsx", "excel"),
                                           ("a.data", "csv"), ("noext", "csv")])
def test_the_format_follows_the_suffix(name, fmt):
    assert file_format(name) == fmt
