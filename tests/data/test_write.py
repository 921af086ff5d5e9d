"""write_table writes each format so that read_data reads the same table back."""

import numpy as np
import pandas as pd
import pytest

from dpsynth.data.load import read_data
from dpsynth.data.write import FORMATS, file_name, null_token, output_format, write_table
from dpsynth.errors import DataError

pytest.importorskip("pyarrow")


def table():
    return pd.DataFrame({
        "zip": pd.array(["02134", None, "00501"], dtype="str"),
        "age": pd.array([39, None, 51], dtype="Int64"),
        "grade": pd.Categorical(["low", "high", None], categories=["low", "mid", "high"], ordered=True),
        "seen": pd.to_datetime(["2021-03-04 10:00", "2021-05-06 11:30", None]).tz_localize("UTC").as_unit("us"),
        "weight": [70.5, np.nan, 80.25],
    })


def test_csv_writes_nulls_as_the_users_token_and_keeps_leading_zeros(tmp_path):
    path = tmp_path / "out.csv"
    write_table(table(), path, "csv", na_token="?")
    lines = path.read_text().splitlines()
    assert lines[1].startswith("02134,39,low,") and lines[2].startswith("?,?,high,")
    back = read_data(path, na_values=["?"])
    assert back["zip"].tolist()[0] == "02134" and back.isna().sum().tolist() == [1, 1, 1, 1, 1]


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_arrow_formats_keep_every_dtype(tmp_path, fmt):
    path = tmp_path / file_name("out", fmt)
    write_table(table(), path, fmt)
    back = read_data(path)
    assert back["grade"].dtype == table()["grade"].dtype and back["age"].dtype == "Int64"
    assert back["seen"].dtype == table()["seen"].dtype and back["zip"].tolist()[0] == "02134"
    assert back["weight"].isna().tolist() == [False, True, False]


def test_excel_writes_times_as_wall_clock_and_nulls_as_the_token(tmp_path):
    pytest.importorskip("openpyxl")
    path = tmp_path / "out.xlsx"
    frame = table().assign(seen=lambda f: f["seen"].dt.tz_convert("Europe/Paris"))
    write_table(frame, path, "excel", na_token="N")
    back = read_data(path, na_values=["N"])
    assert back["zip"].tolist()[0] == "02134" and back["age"].tolist()[0] == 39
    assert pd.Timestamp(back["seen"][0]) == pd.Timestamp("2021-03-04 11:00")  # Paris wall clock
    assert back.isna().sum().tolist() == [1, 1, 1, 1, 1]


def test_a_table_too_long_for_a_sheet_is_refused(tmp_path, monkeypatch):
    pytest.importorskip("openpyxl")
    monkeypatch.setattr("dpsynth.data.write.EXCEL_MAX_ROWS", 3)
    with pytest.raises(DataError, match="an Excel sheet holds at most 2 rows under its header"):
        write_table(table(), tmp_path / "out.xlsx", "excel")


def test_the_format_is_the_request_else_the_inputs_else_csv():
    assert output_format(None, "parquet") == "parquet" and output_format(None, None) == "csv"
    assert output_format("excel", "parquet") == "excel" and FORMATS == ("csv", "parquet", "arrow", "excel")
    with pytest.raises(DataError, match="format must be one of"):
        output_format("json", None)
    assert null_token(["?", "NA"]) == "?" and null_token([]) == "" and null_token(" N ") == "N"
