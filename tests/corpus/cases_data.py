"""Corpus cases of the data and the schema: files a custodian could hand over by mistake, tables
of awkward shape and content, and schemas that are malformed or do not fit the data."""

from __future__ import annotations

import codecs
import gzip
import json
from collections.abc import Mapping

import numpy as np
import pandas as pd
import yaml

from tests.corpus.cases_cli import release
from tests.corpus.inputs import (
    CANARY_TEXT,
    COLUMNS,
    N_ROWS,
    SCHEMA,
    Case,
    Writer,
    csv,
    document,
    edited,
    folder,
    frame_file,
    gzipped,
    raw,
    schema_with,
    table,
    with_column,
)

DISCOVERED = "the kinds, bounds and categories are discovered under DP, which folds the one-record canary away"


def data(id: str, writer: Writer, *extra: str, error: str | None = None, why: str | None = None,
         name: str = "data.csv", known: str | None = None, schema: Mapping | None = None,
         columns: tuple[str, ...] = ()) -> Case:
    """A release of the file ``name`` made by ``writer``; the schema is discovered under DP
    (epsilon 5, so that a 200-row table shows its categories) unless ``schema`` is given."""
    files: dict[str, Writer] = {name: writer}
    argv = ("release", "{tmp}/" + name, "--epsilon", "5", "--out", "{tmp}/out", "--audit", "off")
    if schema is not None:
        files["schema.json"] = document(schema)
        argv += ("--schema", "{tmp}/schema.json")
    return Case(id, argv + extra, error=error, why=why, files=files, known=known, columns=columns)


def document_bytes(value: object) -> bytes:
    return json.dumps(value).encode()


def yaml_text(value: object) -> str:
    return yaml.safe_dump(value, sort_keys=False)


def _text(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False)


def _header_only() -> str:
    return _text(table()).splitlines()[0] + "\n"


def _ragged(text: str) -> str:
    lines = text.splitlines()
    lines[5] += ",extra,fields"
    return "\n".join(lines) + "\n"


def _short_row(text: str) -> str:
    lines = text.splitlines()
    lines[5] = lines[5].rsplit(",", 2)[0]
    return "\n".join(lines) + "\n"


def _unclosed_quote(text: str) -> str:
    lines = text.splitlines()
    lines[3] = lines[3].replace(",", ',"', 1)
    return "\n".join(lines) + "\n"


def _blank_lines(text: str) -> str:
    lines = text.splitlines()
    return "\n".join(lines[:50] + ["", "", ""] + lines[50:] + ["", ""]) + "\n"


def _trailing_separators(text: str) -> str:
    return "\n".join(line + "," for line in text.splitlines()) + "\n"


def _constant(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(country="NO")


def _wide(n_columns: int, n_rows: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.integers(0, 3, (n_rows, n_columns)), columns=[f"c{i}" for i in range(n_columns)])
    frame["c0"] = frame["c0"].astype(str)
    frame.iloc[7, 0] = CANARY_TEXT
    return frame


def _mixed(frame: pd.DataFrame) -> pd.DataFrame:
    values = frame["age"].astype(object)
    values[::7] = "unknown"
    values[::11] = "3.5e1"
    return frame.assign(age=values)


def _dates(style: str) -> pd.Series:
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(N_ROWS) * 3, unit="D")
    if style == "mixed":
        return pd.Series([d.strftime("%Y-%m-%d" if i % 3 else "%d/%m/%Y") for i, d in enumerate(days)])
    if style == "impossible":
        return pd.Series(["2020-13-45"] * N_ROWS)
    return pd.Series(days.strftime(style))


def _renamed(mapping: Mapping[str, str]) -> Writer:
    return csv(lambda: table().rename(columns=dict(mapping)))


def _duplicate_header(text: str) -> str:
    return text.replace("age,sex,city", "age,sex,age", 1)


def _latin1() -> pd.DataFrame:
    return table().assign(city=table()["city"].replace({"Oslo": "Tromsø", "Lima": "Málaga"}))


def _csv_bytes() -> bytes:
    return _text(table()).encode()


FILES = [
    data("empty-file", raw(b""), error="is empty"),
    data("whitespace-only", raw(" \n\n  \n"), error="is empty"),
    data("newline-only", raw("\n"), error="is empty"),
    data("header-only", raw(_header_only()), error="has a header but no rows"),
    data("header-only-with-blank-lines", raw(_header_only() + "\n\n\n"), error="has a header but no rows"),
    data("one-row", csv(lambda: table().iloc[[17]]), error="has one row"),
    data("two-rows", csv(lambda: table().iloc[[17, 42]]),
         why="two records are a table; DP discovery then finds nothing above the noise and says so"),
    data("ragged-long-row", edited(_ragged), error="line 6 has 7 fields"),
    data("ragged-short-row", edited(_short_row), why="a short row's missing fields are missing cells"),
    data("unclosed-quote", edited(_unclosed_quote), error="is not a readable CSV file"),
    data("utf8-bom", edited(lambda text: "\ufeff" + text), why="a UTF-8 byte-order mark is read and dropped", columns=COLUMNS),
    data("utf16-bom", csv(encoding="utf-16"), why="UTF-16 with its byte-order mark is decoded from the mark", columns=COLUMNS),
    data("latin1-without-encoding", csv(_latin1, encoding="latin-1"), error="encoding"),
    data("latin1-with-encoding", csv(_latin1, encoding="latin-1"), "--encoding", "latin-1",
         why="--encoding names the file's encoding", columns=COLUMNS),
    data("crlf-line-ends", csv(lineterminator="\r\n"), why="Windows line ends are line ends", columns=COLUMNS),
    data("cr-line-ends", csv(lineterminator="\r"), why="old Mac line ends are line ends", columns=COLUMNS),
    data("quoted-newlines", with_column("city", lambda f: f["city"].str.replace("o", "o\nx", regex=False)),
         why="a quoted field may hold a newline", columns=COLUMNS),
    data("blank-lines", edited(_blank_lines), why="blank lines are skipped", columns=COLUMNS),
    data("trailing-separators", edited(_trailing_separators), error="cell 6 is empty"),
    data("semicolon-separated", csv(sep=";"), why="the separator is found from the header (';' splits it most)", columns=COLUMNS),
    data("tab-separated", csv(sep="\t"), why="a tab separator is found from the header", columns=COLUMNS),
    data("tab-given-as-escape", csv(sep="\t"), "--sep", "\\t", why="--sep '\\t' names a tab", columns=COLUMNS),
    data("pipe-separated", csv(sep="|"), why="a '|' separator is found from the header", columns=COLUMNS),
    data("semicolon-with-decimal-comma", csv(sep=";", decimal=","),
         why="';' is found; decimal commas make the numbers text, which DP discovery treats as categories", columns=COLUMNS),
    data("semicolon-file-with-sep-comma", csv(sep=";"), "--sep", ",", error="sep"),
    data("fake-gzip", raw(_csv_bytes()), name="data.csv.gz", error="is not a readable CSV file"),
    data("real-gzip", gzipped(_csv_bytes()), name="data.csv.gz", why="a gzip-compressed CSV is decompressed", columns=COLUMNS),
    data("truncated-gzip", raw(gzip.compress(_csv_bytes())[:200]), name="data.csv.gz",
         error="is not a readable CSV file"),
    data("directory-as-input", folder, name="data.csv", error="not a file"),
    Case("missing-file", ("release", "{tmp}/nope.csv", "--epsilon", "1", "--out", "{tmp}/out", "--audit", "off"),
         error="does not exist"),
    data("binary-garbage", raw(b"\xff\xfe\x00\x81" * 100 + CANARY_TEXT.encode()), error="give its encoding"),
    data("nul-bytes", edited(lambda text: text.replace("Oslo", "Os\x00lo")),
         why="a NUL character in a cell is one more character of a category", columns=COLUMNS),
    data("fake-parquet", raw(_csv_bytes()), name="data.parquet", error="is not a readable Parquet file"),
    data("fake-excel", raw(_csv_bytes()), name="data.xlsx", error="is not a readable Excel file"),
    data("real-parquet", frame_file("parquet"), name="data.parquet",
         why="Parquet is read; its types are a parser's guess, so kinds are still discovered under DP"),
    data("real-arrow", frame_file("arrow"), name="data.arrow", why="Arrow (Feather) is read"),
    data("json-data-file", raw('[{"age": 1}]'), name="data.json", error="looks like JSON"),
    data("txt-extension-csv", csv(), name="data.txt", why="a .txt file is read as CSV text", columns=COLUMNS),
    data("headerless", csv(header=False), error="looks like a record"),
    data("headerless-with-names", csv(header=False), "--names", "age,sex,city,income,score",
         why="--names gives the columns of a file without a header row", columns=COLUMNS),
    data("headerless-names-wrong-count", csv(header=False), "--names", "age,sex", error="names were given"),
    data("numeric-header-confirmed", _renamed({"age": "2019", "income": "2020"}), "--confirm-header",
         why="--confirm-header says a header of numbers is the header"),
    data("numeric-header-unconfirmed", _renamed({"age": "2019", "income": "2020", "sex": "1", "city": "2",
                                                  "score": "3"}), error="looks like a record"),
]

CONTENT = [
    data("all-null-column", with_column("score", None), why="a column with no values is valid data; it folds to missing"),
    data("all-null-column-declared", with_column("score", None), schema=SCHEMA,
         why="a declared column with no values is coded missing (with a log warning), not refused"),
    data("all-empty-string-column", with_column("city", ""), why="empty cells are missing cells"),
    data("constant-column", csv(lambda: _constant(table())), why="a constant column has one category"),
    data("constant-numeric-column", with_column("score", 1.0), why="a constant number is one spike"),
    data("duplicate-column-names", edited(_duplicate_header), error="repeats an earlier cell"),
    data("empty-column-name", _renamed({"sex": ""}), error="cell 2 is empty"),
    data("whitespace-column-name", _renamed({"sex": "  "}), error="cell 2 is empty"),
    data("huge-integers", with_column("income", lambda f: f["income"].astype(object).where(
        f.index % 5 > 0, "123456789012345678901234567890")), why="integers beyond 64 bits are large values, clipped"),
    data("huge-integers-declared", with_column("income", lambda f: f["income"].astype(object).where(
        f.index % 5 > 0, "99999999999999999999")), schema=SCHEMA,
         why="values above a declared bound are clipped to it"),
    data("inf-strings", with_column("score", lambda f: f["score"].astype(object).where(f.index % 4 > 0, "inf")),
         why="'inf' cells are out-of-range values, not numbers to fit bounds to"),
    data("nan-strings", with_column("score", lambda f: f["score"].astype(object).where(f.index % 4 > 0, "nan")),
         why="'nan' cells are missing"),
    data("all-inf-column", with_column("age", "inf"), why="a column of 'inf' has no finite range: it folds away"),
    data("all-inf-column-declared", with_column("age", "-inf"), schema=SCHEMA,
         why="'-inf' against declared bounds is clipped or missing, never a bound"),
    data("mixed-types", csv(lambda: _mixed(table())), why="text among numbers is decided under DP, not by a parser"),
    data("booleans", with_column("flag", lambda f: np.where(f.index % 3 == 0, "true", "false")),
         why="true/false text is two categories"),
    data("leading-zero-codes", with_column("zip", lambda f: [f"{i % 50:05d}" for i in f.index]),
         why="codes with leading zeros stay text"),
    data("thousands-separators", with_column("income", lambda f: [f"{v:,}" for v in f["income"]]),
         why="'12,345' is text unless declared; quoted, it does not split the row"),
    data("scientific-notation", with_column("score", lambda f: [f"{v:e}" for v in f["score"]]),
         why="1.5e+01 is a number"),
    data("negative-numbers", with_column("score", lambda f: -f["score"]), why="negative values are values"),
    data("whitespace-around-values", with_column("sex", lambda f: " " + f["sex"] + " "),
         why="padded values are categories of their own"),
    data("null-tokens", with_column("city", lambda f: f["city"].where(f.index % 6 > 0, "NA")),
         why="NA, N/A and null are read as missing"),
    data("question-mark-null-token", with_column("city", lambda f: f["city"].where(f.index % 6 > 0, "?")),
         "--na-values", "?", why="--na-values names the file's missing token"),
    data("long-cell", with_column("note", lambda f: ["x" * 100_000 if i == 3 else "" for i in f.index]),
         why="a 100 kB cell is one rare value that folds away"),
    data("dates-iso", with_column("day", _dates("%Y-%m-%d")), why="ISO dates"),
    data("dates-mixed-formats", with_column("day", _dates("mixed")), why="mixed date formats are text or missing"),
    data("dates-impossible", with_column("day", _dates("impossible")), why="2020-13-45 is text, not a date"),
    data("dates-us-format", with_column("day", _dates("%m/%d/%Y")), why="month/day/year dates"),
    data("dates-with-time-zone", with_column("day", _dates("%Y-%m-%dT%H:%M:%S+05:30")),
         why="timestamps with an offset"),
    data("unicode-names", _renamed({"age": "âge", "city": "город", "income": "所得"}),
         why="column names in any script"),
    data("emoji-names", _renamed({"sex": "🧑", "city": "🏙️ city"}), why="emoji column names"),
    data("emoji-values", with_column("city", lambda f: f["city"].replace({"Oslo": "🌧️", "Rome": "🍕"})),
         why="emoji values are categories"),
    data("name-with-comma-and-quotes", _renamed({"city": 'city, "town"'}), why="a quoted header may hold commas"),
    data("name-with-newline", _renamed({"city": "city\nname"}), why="a quoted header may hold a newline"),
    data("very-long-name", _renamed({"city": "c" * 5000}), why="a 5000-character name is a name"),
    data("one-column", csv(lambda: table()[["city"]]), why="one column is a table"),
    data("five-hundred-columns", csv(lambda: _wide(500, 200)), "--rows", "10",
         error="500 columns are more than mst takes at once (400)"),
    data("ten-thousand-columns", csv(lambda: _wide(10_000)), "--rows", "10",
         error="10000 columns are more than mst takes at once"),
    data("aim-on-two-hundred-columns", csv(lambda: _wide(200)), "--method", "aim", "--rows", "10",
         error="200 columns are more than aim takes at once (100)"),
]

SCHEMAS = [
    release("schema-missing-file", "--schema", "{tmp}/nope.json", error="nope.json"),
    release("schema-empty-file", files={"schema.json": raw("")}, error="schema.json"),
    release("schema-malformed-json", files={"schema.json": raw('{"dpsynth_schema": 1, "columns": [')},
            error="schema.json"),
    release("schema-json-array", files={"schema.json": document([1, 2, 3])}, error="neither a dpsynth schema"),
    release("schema-wrong-version", files={"schema.json": document({**SCHEMA, "dpsynth_schema": 99})},
            error="version"),
    release("schema-unknown-key", files={"schema.json": document({**SCHEMA, "extras": 1})}, error="extras"),
    release("schema-columns-not-list", files={"schema.json": document({**SCHEMA, "columns": {"age": 1}})},
            error="columns"),
    release("schema-kind-misspelled", files={"schema.json": document(schema_with(city={
        "kind": "categorial", "categories": ["Oslo"]}))}, error="categorial"),
    release("schema-kind-missing", files={"schema.json": document(schema_with(city={
        "categories": ["Oslo"]}))}, error="kind"),
    release("schema-column-without-name", files={"schema.json": document({**SCHEMA, "columns": [
        *SCHEMA["columns"], {"kind": "categorical", "categories": ["a"]}]})}, error="name"),
    release("schema-unknown-field", files={"schema.json": document(schema_with(age={
        "kind": "numeric", "lower": 0, "upper": 100, "min": 3}))}, error="min"),
    release("schema-lower-above-upper", files={"schema.json": document(schema_with(age={
        "kind": "numeric", "lower": 100, "upper": 0}))}, error="age"),
    release("schema-bounds-strings", files={"schema.json": document(schema_with(age={
        "kind": "numeric", "lower": "zero", "upper": 100}))}, error="age"),
    release("schema-bounds-nan", files={"schema.json": raw(
        '{"dpsynth_schema": 1, "columns": [{"name": "age", "kind": "numeric", "lower": NaN, "upper": 1}]}')},
        error="age"),
    release("schema-bins-zero", files={"schema.json": document(schema_with(age={
        "kind": "numeric", "lower": 0, "upper": 100, "bins": 0}))}, error="bins"),
    release("schema-bins-text", files={"schema.json": document(schema_with(age={
        "kind": "numeric", "lower": 0, "upper": 100, "bins": "ten"}))}, error="bins"),
    release("schema-integer-not-bool", files={"schema.json": document(schema_with(age={
        "kind": "numeric", "lower": 0, "upper": 100, "integer": "yes"}))}, error="integer"),
    release("schema-categories-empty", files={"schema.json": document(schema_with(city={
        "kind": "categorical", "categories": []}))}, error="city"),
    release("schema-categories-duplicated", files={"schema.json": document(schema_with(city={
        "kind": "categorical", "categories": ["Oslo", "Oslo"]}))}, error="city"),
    release("schema-categories-not-list", files={"schema.json": document(schema_with(city={
        "kind": "categorical", "categories": "Oslo"}))}, error="city"),
    release("schema-column-twice", files={"schema.json": document({**SCHEMA, "columns": [
        *SCHEMA["columns"], SCHEMA["columns"][0]]})}, error="twice"),
    release("schema-misses-a-column", files={"schema.json": document(schema_with(score=None))}, error="'score'"),
    release("schema-names-an-absent-column", files={"schema.json": document(schema_with(
        height={"kind": "numeric", "lower": 0, "upper": 3}))}, error="'height'"),
    release("schema-bounds-exclude-data", files={"schema.json": document(schema_with(age={
        "kind": "numeric", "lower": 200, "upper": 300}))},
        why="cells outside declared bounds are clipped, with a log warning: refusing would depend on the rows"),
    release("schema-categories-exclude-data", files={"schema.json": document(schema_with(city={
        "kind": "categorical", "categories": ["Paris", "Tokyo"]}))},
        why="cells outside declared categories are coded 'other', with a log warning"),
    release("schema-categories-wrong-type", files={"schema.json": document(schema_with(sex={
        "kind": "categorical", "categories": [0, 1]}))}, why="categories that match no cell code every cell 'other'"),
    release("schema-huge-range", files={"schema.json": document(schema_with(income={
        "kind": "numeric", "lower": -1e300, "upper": 1e300}))}, why="a huge declared range is a coarse binning"),
    release("schema-unit-column-absent", files={"schema.json": document(schema_with(
        pid={"kind": "identifier", "role": "unit"}))}, error="'pid'"),
    release("schema-is-a-folder", files={"schema.json": folder}, error="schema.json"),
    release("schema-wrong-suffix", "--schema", "{tmp}/schema.txt", files={"schema.txt": document(SCHEMA)},
            error="schema.txt"),
    release("schema-not-utf8", files={"schema.json": raw('{"a": "\xe9"}'.encode("latin-1"))}, error="UTF-8"),
    release("schema-utf8-bom", files={"schema.json": raw(codecs.BOM_UTF8 + document_bytes(SCHEMA))},
            why="a schema file with a UTF-8 byte-order mark is JSON all the same"),
    release("schema-drafted-not-public", files={"schema.json": document({**SCHEMA, "provenance": "inferred-not-dp"})},
            error="--schema-public"),
    release("schema-drafted-stated-public", "--schema-public",
            files={"schema.json": document({**SCHEMA, "provenance": "inferred-not-dp"})},
            why="the custodian states the drafted schema is public; the record says the guarantee does not cover it"),
    release("schema-provenance-unknown", files={"schema.json": document({**SCHEMA, "provenance": "trust-me"})},
            error="provenance"),
    release("yaml-schema", "--schema", "{tmp}/schema.yaml", files={"schema.yaml": raw(yaml_text(SCHEMA))},
            why="a YAML schema"),
    release("yaml-malformed", "--schema", "{tmp}/schema.yaml", files={"schema.yaml": raw("columns: [\n  - {name: a")},
            error="YAML"),
    release("yaml-booleans-as-categories", "--schema", "{tmp}/schema.yaml",
            files={"schema.yaml": raw(yaml_text(SCHEMA).replace("- F\n", "- yes\n").replace("- M\n", "- no\n"))},
            error="sex"),
    release("kinds-file", files={"schema.json": document({"dpsynth_kinds": 1, "columns": {
        "age": "integer", "sex": "categorical", "city": "categorical", "income": "integer", "score": "numeric"}})},
        why="kinds declared; bounds and categories discovered under DP"),
    release("kinds-unknown-kind", files={"schema.json": document({"dpsynth_kinds": 1, "columns": {"age": "number"}})},
            error="unknown kind 'number'"),
    release("kinds-unknown-column", files={"schema.json": document({"dpsynth_kinds": 1, "columns": {"height": "numeric"}})},
            error="'height'"),
    release("kinds-wrong-version", files={"schema.json": document({"dpsynth_kinds": 7, "columns": {}})},
            error="version 7"),
    release("sdv-metadata", files={"schema.json": document({"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1", "columns": {
        "age": {"sdtype": "numerical"}, "sex": {"sdtype": "categorical"}, "city": {"sdtype": "categorical"},
        "income": {"sdtype": "numerical"}, "score": {"sdtype": "numerical"}}})},
        why="SDV metadata gives kinds; the rest is discovered under DP"),
    release("sdv-unknown-sdtype", files={"schema.json": document({"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1",
                                                                  "columns": {"age": {"sdtype": "wavelength"}}})},
            why="SDV's sdtypes other than categorical, boolean, numerical, datetime and id are semantic (PII) "
                "types such as Faker's: the column is an identifier, never modelled"),
    release("domain-file-zero-size", files={"schema.json": document({"age": 0, "sex": 2, "city": 4, "income": 10,
                                                                      "score": 10})}, error="'age'"),
    release("domain-file-negative-size", files={"schema.json": document({"age": -3, "sex": 2, "city": 4,
                                                                          "income": 10, "score": 10})}, error="'age'"),
    release("domain-file-fractional-size", files={"schema.json": document({"age": 2.5, "sex": 2, "city": 4,
                                                                            "income": 10, "score": 10})},
            error="'age'"),
    release("domain-file-text-size", files={"schema.json": document({"age": "many", "sex": 2, "city": 4,
                                                                      "income": 10, "score": 10})}, error="neither a dpsynth schema"),
    release("domain-file-codes-beyond-size", files={"data.csv": csv(lambda: pd.DataFrame({
        "a": np.arange(N_ROWS) % 7, "b": np.r_[np.arange(N_ROWS - 1) % 3, 987654321]})),
        "schema.json": document({"a": 5, "b": 3})},
        why="codes beyond a domain's size are out-of-range cells, coded missing with a log warning"),
]


CASES = [*FILES, *CONTENT, *SCHEMAS]
