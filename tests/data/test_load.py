"""read_table reads each cell as its own text and never takes a record for column names."""

import gzip

import pandas as pd
import pytest

from dpsynth.data.load import read_table
from dpsynth.datasets import example_path
from dpsynth.errors import DataError
from tests.conftest import adult_uci, requires_shared, shared_data

SHARED_CSVS = ["adult/adult_uci.csv", "adult/private-pgm/adult.csv", "german_credit/german_credit.csv",
               "pums/PUMS.csv", "pums/PUMS_dup.csv", "pums/PUMS_null.csv", "pums/PUMS_pid.csv"]


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_chunked_file_reads_each_cell_as_its_own_text(tmp_path):
    # pandas' C parser guesses types per chunk of 2**18 rows (for two columns): with one text code
    # in the first chunk and one missing cell in the second, its defaults read '20' there, 20.0 here.
    n = 300_000
    codes = ["20"] * n
    codes[5], codes[n - 5] = "A1", ""
    path = write(tmp_path, "id,code\n" + "".join(f"{i},{code}\n" for i, code in enumerate(codes)))
    with pytest.warns(pd.errors.DtypeWarning):
        guessed = pd.read_csv(path, skipinitialspace=True)["code"]
    assert {type(value) for value in guessed} == {str, float}  # the old reading: 20.0 in the second chunk
    code = read_table(path)["code"]
    assert code.isna().sum() == 1 and code.isna()[n - 5]
    assert code.drop(index=[5, n - 5]).eq("20").all() and code[5] == "A1"


RECORD_FIRST_ROWS = {
    "numbers": "39,State-gov,77516\n50,Self-emp,83311\n38,Private,215646\n",
    "uci_spaces": "39, State-gov, 77516\n50, Self-emp, 83311\n38, Private, 215646\n",
    "float_exponent": "-1e3,Grocer\n2.5,Baker\n4,Tailor\n",
    "date": "2021-03-04,Grocer\n2021-05-06,Baker\n2021-07-08,Tailor\n",
    "time": "10:30,Grocer\n11:45,Baker\n12:00,Tailor\n",
    "codes_like_below": "Q311,Grocer\nQ412,Baker\nQ513,Tailor\n",
    "repeated": "Grocer,Grocer\nBaker,Tailor\nTailor,Baker\n",
    "empty_cell": "Grocer,,Smithfield\nBaker,Tall,Leeds\nTailor,Tall,York\n",
    "missing_token": "Grocer,?\nBaker,Tall\nTailor,Short\n",
}


@pytest.mark.parametrize("case", sorted(RECORD_FIRST_ROWS))
def test_a_first_row_that_looks_like_a_record_is_refused_unquoted(tmp_path, case):
    text = RECORD_FIRST_ROWS[case]
    path = write(tmp_path, text)
    with pytest.raises(DataError, match="first row looks like a record") as caught:
        read_table(path, na_values=["?"])
    message = str(caught.value)
    assert "\n" not in message and "--names" in message and "header='confirmed'" in message
    # The file's own name is the user's, not a cell: pytest's numbered folder (pytest-139) may hold "39".
    told = message.replace(str(path), "")
    assert not [cell for cell in text.splitlines()[0].split(",") if len(cell.strip()) > 1 and cell.strip() in told]


def test_header_false_reads_every_row_as_data(tmp_path):
    path = write(tmp_path, RECORD_FIRST_ROWS["uci_spaces"])
    frame = read_table(path, header=False, names=["age", "workclass", "fnlwgt"])
    assert frame.columns.tolist() == ["age", "workclass", "fnlwgt"]
    assert frame.values.tolist() == [["39", "State-gov", "77516"], ["50", "Self-emp", "83311"],
                                     ["38", "Private", "215646"]]


def test_a_confirmed_header_may_hold_numbers(tmp_path):
    frame = read_table(write(tmp_path, "2019,2020\n1,2\n3,4\n"), header="confirmed")
    assert frame.columns.tolist() == ["2019", "2020"] and frame["2020"].tolist() == ["2", "4"]


@pytest.mark.parametrize("header", ["var1,x2,income>50K,Q1", "Sex,Race,Age,Code", "capital-gain,hours per week,a_b,id"])
def test_ordinary_headers_are_accepted(tmp_path, header):
    frame = read_table(write(tmp_path, f"{header}\n3,Male,A12,4\n5,Female,B7,6\n"))
    assert frame.columns.tolist() == [name.strip() for name in header.split(",")]


@pytest.mark.parametrize("name", [pytest.param(name, marks=requires_shared(*name.split("/"))) for name in SHARED_CSVS])
def test_the_shared_csvs_headers_are_accepted(name):
    path = shared_data(*name.split("/"))
    frame = read_table(path, na_values=["?"])
    assert frame.columns.tolist() == pd.read_csv(path, nrows=0).columns.tolist() and len(frame) >= 1000


@requires_shared("adult", "adult_uci.csv")
def test_the_rebuilt_uci_adult_is_the_shared_file():
    """Tests read raw UCI Adult as tests/conftest.py rebuilds it from the shipped example; where
    ../shared is there, the rebuild is checked to be adult_uci.csv, cell for cell."""
    shared = pd.read_csv(shared_data("adult", "adult_uci.csv"), na_values="?", keep_default_na=False)
    pd.testing.assert_frame_equal(adult_uci(), shared)


def test_uci_adult_in_its_raw_headerless_form(tmp_path):
    with gzip.open(example_path("adult")[0], "rt") as shipped:  # UCI's rows, with a header line
        lines = [next(shipped).rstrip("\n") for _ in range(1001)]
    raw = write(tmp_path, "".join(line.replace(",", ", ") + "\n" for line in lines[1:]))
    with pytest.raises(DataError, match="first row looks like a record"):
        read_table(raw)
    frame = read_table(raw, na_values=["?"], header=False, names=lines[0].split(","))
    assert frame.shape == (1000, 15) and frame.iloc[0].tolist()[:3] == ["39", "State-gov", "77516"]


def test_missing_tokens_and_whitespace(tmp_path):
    path = write(tmp_path, ' a ,b,c\n NA , x ,""\n ? ,null,-\n 7 ,N/A,y\n')
    frame = read_table(path, na_values=["?", "-"])
    assert frame.columns.tolist() == ["a", "b", "c"]
    assert frame.isna().values.tolist() == [[False, False, True], [True, False, True], [False, False, False]]
    assert frame["a"][2] == "7" and frame["b"][0] == "x"
    assert all(isinstance(value, str) for value in frame.stack().dropna())


@pytest.mark.parametrize("token", ["None", "NA", "N/A", "null", "NULL", "nan"])
def test_pandas_null_words_are_categories_unless_listed(tmp_path, token):
    # A hospital's "None" (test not performed) is a value; the user lists a token to make it missing.
    path = write(tmp_path, f"test,age\n{token},40\nPositive,51\n{token},33\n")
    assert read_table(path)["test"].tolist() == [token, "Positive", token]
    assert read_table(path, na_values=[token])["test"].isna().tolist() == [True, False, True]


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_the_separator_is_taken_from_the_header(tmp_path, sep):
    path = write(tmp_path, sep.join(["a", '"b,c"', "d"]) + "\n" + sep.join(["1,5", "2", "3"]) + "\n4\n")
    frame = read_table(path)
    assert frame.columns.tolist() == ["a", "b,c", "d"] and frame["a"].tolist() == ["1,5", "4"]


def test_without_a_header_the_separator_is_comma_or_given(tmp_path):
    path = write(tmp_path, "1;2,3\n4;5,6\n")
    assert read_table(path, header=False, names=["a", "b"])["b"].tolist() == ["3", "6"]
    assert read_table(path, header=False, names=["a", "b"], sep=";")["b"].tolist() == ["2,3", "5,6"]


def test_names_must_be_given_unique_and_match_the_columns(tmp_path):
    path = write(tmp_path, "1,2\n3,4\n")
    with pytest.raises(DataError, match="give its column names"):
        read_table(path, header=False)
    with pytest.raises(DataError, match=r"names \['a'\] appear more than once"):
        read_table(path, header=False, names=["a", "a"])
    with pytest.raises(DataError, match="non-empty column names"):
        read_table(path, header=False, names=["a", " "])
    with pytest.raises(DataError, match="has 2 columns but 3 names"):
        read_table(path, header=False, names=["a", "b", "c"])
    with pytest.raises(DataError, match="only for a file without a header"):
        read_table(path, names=["a", "b"])
    with pytest.raises(DataError, match="header must be"):
        read_table(path, header="yes")


SECRET = "Zebedee-4417"
BAD_FILES = {
    "empty": ("", {}, "is empty"),
    "blank": ("\n\n", {}, "is empty"),
    "header_only": ("a,b\n", {}, "header but no rows"),
    "one_row": (f"a,b\n{SECRET},1\n", {}, "one row"),
    "one_row_no_header": (f"{SECRET},1\n", {"header": False, "names": ["a", "b"]}, "one row"),
    "unnamed": ("2019,,2021\n1,2,3\n4,5,6\n", {"header": "confirmed"}, "column without a name"),
    "repeated_name": ("x,y,x\n1,2,3\n4,5,6\n", {"header": "confirmed"}, "more than once in its header"),
    "long_row": (f"a,b\n1,2\n{SECRET},5,6\n", {}, "line 3 has 3 fields, the first row 2"),
    "open_quote": (f'a,b\n1,2\n"{SECRET},5\n', {}, "not a readable CSV"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_get_one_line_errors_without_values(tmp_path, case):
    text, options, needle = BAD_FILES[case]
    with pytest.raises(DataError, match=needle) as caught:
        read_table(write(tmp_path, text), **options)
    assert SECRET not in str(caught.value) and "\n" not in str(caught.value)


def test_missing_folder_and_binary_paths(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "absent.csv")
    with pytest.raises(DataError, match="is not a file"):
        read_table(tmp_path)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x00\x81\xff\xfe" * 100 + SECRET.encode())
    with pytest.raises(DataError, match="is not UTF-8 text: give its encoding") as caught:
        read_table(binary)
    assert SECRET not in str(caught.value)
