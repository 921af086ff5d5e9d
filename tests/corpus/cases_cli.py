"""Corpus cases of the command line: every flag given a bad value, output folders, ledgers,
audits and the commands around a release."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dpsynth.privacy.ledger import Ledger
from tests.corpus.inputs import (
    DATA,
    DATA_AND_SCHEMA,
    SCHEMA,
    Case,
    Writer,
    csv,
    document,
    folder,
    raw,
    table,
)

OUT = "{tmp}/out"


def release(id: str, *extra: str, error: str | None = None, why: str | None = None,
            files: Mapping[str, Writer] | None = None, schema: bool = True, known: str | None = None,
            root: bool = False) -> Case:
    """A release of data.csv at epsilon 1 into {tmp}/out, audit off, with the declared schema
    unless ``schema`` is False; ``extra`` arguments come last (argparse keeps the last value)."""
    argv = ("release", "{tmp}/data.csv", "--epsilon", "1", "--out", OUT, "--audit", "off")
    if schema:
        argv += ("--schema", "{tmp}/schema.json")
    base = DATA_AND_SCHEMA if schema else DATA
    return Case(id, argv + extra, error=error, why=why, files={**base, **(files or {})}, known=known, root=root)


def _unwritable(path: Path) -> None:
    path.mkdir()
    path.chmod(0o500)


def _stale_staging(path: Path) -> None:
    """A staging folder of a process that is gone (pid 2**22 + 1 is above Linux's pid_max)."""
    path.mkdir()
    (path / "synthetic.csv").write_text("age\n1\n")


def _capped(path: Path) -> None:
    """A ledger whose dataset "people" has a lifetime cap of epsilon 0.5."""
    ledger = Ledger(path)
    ledger.set_cap(ledger.dataset_key(name="people"), 0.5)


def _sqlite_header_then_garbage(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(64) + b"\x00" * 4000)


# ----------------------------------------------------------------------------- budget
def refused(cases: list[tuple[str, str, str, str]]) -> list[Case]:
    """Releases refused for one flag's value: (flag, id suffix, value, needle) each."""
    return [release(f"{flag}-{name}", f"--{flag}", value, error=needle) for flag, name, value, needle in cases]


BUDGET = [
    *refused([
        ("epsilon", "abc", "abc", "argument --epsilon: invalid float value: 'abc'"),
        ("epsilon", "empty", "", "argument --epsilon: invalid float value"),
        ("epsilon", "comma-decimal", "1,5", "invalid float value: '1,5'"),
        ("epsilon", "zero", "0", "epsilon"),
        ("epsilon", "negative", "-1", "epsilon"),
        ("epsilon", "negative-exponent", "-1e-3", "epsilon"),
        ("epsilon", "nan", "nan", "epsilon"),
        ("epsilon", "inf", "inf", "epsilon"),
        ("epsilon", "minus-inf", "-inf", "epsilon must be"),
        ("epsilon", "1e308", "1e308", "epsilon"),
        ("epsilon", "1e307", "1e307", "epsilon"),
        ("epsilon", "1e7", "1e7", "epsilon"),
        ("epsilon", "overflow-literal", "1e999", "epsilon"),
        ("delta", "one", "1", "delta"),
        ("delta", "above-one", "2", "delta"),
        ("delta", "negative", "-0.1", "delta"),
        ("delta", "negative-exponent", "-1e-9", "delta"),
        ("delta", "nan", "nan", "delta"),
        ("delta", "inf", "inf", "delta"),
        ("delta", "abc", "abc", "argument --delta: invalid float value: 'abc'"),
    ]),
    release("epsilon-tiny", "--epsilon", "1e-6",
            why="a tiny epsilon is a valid budget: the noise swamps every count but the release is DP"),
    release("epsilon-large", "--epsilon", "1000",
            why="epsilon 1000 is within the accepted range (at most 1e6): weak privacy, stated in the record"),
    release("epsilon-missing-value", "--epsilon", error="argument --epsilon: expected one argument"),
    release("delta-zero", "--delta", "0", error="delta is 0"),
    release("delta-zero-discovery", "--delta", "0", schema=False, error="delta"),
    release("delta-large-but-valid", "--delta", "0.01",
            why="delta 0.01 is above 1/n here, which is a warning on a DP estimate, not a refusal on the exact count"),
]

ROWS = [
    release("rows-zero", "--rows", "0", error="argument --rows: must be a positive integer"),
    release("rows-negative", "--rows", "-1", error="argument --rows: must be a positive integer"),
    release("rows-fraction", "--rows", "1.5", error="argument --rows: invalid"),
    release("rows-abc", "--rows", "abc", error="argument --rows: invalid"),
    release("rows-1e12", "--rows", "1000000000000", error="ask for at most"),
    release("rows-1e15", "--rows", "1000000000000000", error="ask for at most"),
    release("rows-huge-literal", "--rows", "9" * 40, error="ask for at most"),
    release("rows-huge-streamed", "--rows", "9" * 40, "--audit", "off", error="of disk, more than"),
    release("rows-one", "--rows", "1", why="one synthetic row is a valid request"),
    release("rows-more-than-data", "--rows", "5000", why="more synthetic rows than real ones is sampling, not a leak"),
]

METHOD = [
    release("method-unknown", "--method", "nope", error="nope"),
    release("method-empty", "--method", "", error="method"),
    release("method-uppercase", "--method", "MST", error="MST"),
    release("method-aim", "--method", "aim", "--param", "max_iters=2", "--rows", "50",
            why="aim with a small iteration cap runs on the declared schema"),
    release("method-privbayes", "--method", "privbayes", "--rows", "50", why="privbayes on the declared schema"),
    release("param-unknown", "--param", "bogus=1", error="bogus"),
    release("param-without-value", "--param", "noequals", error="expected NAME=VALUE"),
    release("param-empty-name", "--param", "=3", error="expected NAME=VALUE"),
    release("param-twice", "--method", "aim", "--param", "max_iters=2", "--param", "max_iters=3",
            error="more than once"),
    release("param-wrong-type", "--method", "aim", "--param", "max_iters=\"many\"", error="max_iters"),
    release("workload-for-mst", "--workload", "2", error="--workload applies to methods that take a workload"),
    release("workload-not-lists", "--method", "aim", "--workload", "[1, 2]", error="argument --workload"),
    release("workload-empty", "--method", "aim", "--workload", ";;", error="argument --workload"),
    release("workload-unknown-column", "--method", "aim", "--workload", "age,nope", error="'nope'"),
]

ALLOCATION = [
    release("allocation-misspelled-part", "--allocation", "domian=0.1,marginal=0.9", schema=False, error="domian"),
    release("allocation-unused-part", "--allocation", "domain=0.1,marginal=0.9", error="domain"),
    release("allocation-missing-part", "--allocation", "marginal=1", schema=False, error="domain"),
    release("allocation-not-a-number", "--allocation", "marginal=abc", error="allocation"),
    release("allocation-no-equals", "--allocation", "garbage", error="part=fraction"),
    release("allocation-empty", "--allocation", "", error="allocation"),
    release("allocation-above-one", "--allocation", "marginal=1.5", error="allocation"),
    release("allocation-sum-above-one", "--allocation", "domain=0.5,marginal=0.6", schema=False, error="allocation"),
    release("allocation-negative", "--allocation", "domain=-0.1,marginal=1.1", schema=False, error="allocation"),
    release("allocation-nan", "--allocation", "marginal=nan", error="allocation"),
    release("allocation-part-twice", "--allocation", "marginal=0.5,marginal=0.5", error="more than one share"),
    release("allocation-valid", "--allocation", "domain=0.2,marginal=0.8", schema=False,
            why="a split that names exactly the parts a discovering release spends"),
]

UNIT = [
    release("unit-column-absent", "--privacy-unit", "pid", error="'pid'"),
    release("unit-column-empty-name", "--privacy-unit", "", error="privacy unit"),
    release("max-rows-zero", "--privacy-unit", "sex", "--max-rows-per-unit", "0",
            error="argument --max-rows-per-unit: must be a positive integer"),
    release("max-rows-negative", "--max-rows-per-unit", "-3",
            error="argument --max-rows-per-unit: must be a positive integer"),
    release("max-rows-abc", "--max-rows-per-unit", "abc", error="argument --max-rows-per-unit: invalid"),
    release("unit-column-present", "--privacy-unit", "uid", "--max-rows-per-unit", "2",
            files={"data.csv": csv(lambda: table().assign(uid=[i // 2 for i in range(len(table()))]))},
            schema=False, why="a person column that is there: each person's rows are capped at 2"),
]

OTHER_FLAGS = [
    release("seed-negative", "--seed", "-5", error="argument --seed: a seed must be a non-negative integer"),
    release("seed-abc", "--seed", "abc", error="argument --seed: invalid"),
    release("seed-fraction", "--seed", "1.5", error="argument --seed: invalid"),
    release("seed-huge", "--seed", str(2**80), why="numpy seeds any non-negative integer, however large"),
    release("unknown-flag", "--no-such-flag", error="unrecognized arguments: --no-such-flag"),
    release("format-unknown", "--format", "xml", error="argument --format: invalid choice"),
    release("binning-unknown", "--binning", "log", error="argument --binning: invalid choice"),
    release("audit-unknown", "--audit", "extreme", error="argument --audit: invalid choice"),
    release("holdout-share-zero", "--audit", "quick", "--holdout-share", "0", error="argument --holdout-share"),
    release("holdout-share-above-one", "--audit", "quick", "--holdout-share", "1.5", error="argument --holdout-share"),
    release("holdout-share-nan", "--audit", "quick", "--holdout-share", "nan", error="argument --holdout-share"),
    release("policy-missing", "--audit", "quick", "--policy", "{tmp}/nope.json", error="nope.json"),
    release("policy-malformed", "--audit", "quick", "--policy", "{tmp}/policy.json", error="policy",
            files={"policy.json": raw("{not json")}),
    release("encoding-unknown", "--encoding", "klingon-8", error="not a known text encoding"),
    release("sep-two-characters", "--sep", ";;", error="argument --sep: a separator is one character"),
    release("sep-empty", "--sep", "", error="argument --sep: a separator is one character"),
    release("names-with-header", "--names", "a,b,c,d,e", error="not in the data"),
    release("names-empty-item", "--names", "a,,c", error="argument --names"),
    release("dataset-empty-name", "--dataset", "", error="dataset name"),
    release("example-unknown", "--example", "iris", error="argument --example: invalid choice"),
    release("schema-public-without-schema", "--schema-public", schema=False,
            why="--schema-public states something about a drafted schema; with none it changes nothing"),
    release("na-values-token", "--na-values", "Oslo",
            why="an extra missing token makes one category missing; the schema allows missing cells"),
    Case("no-data-no-example", ("release", "--epsilon", "1", "--out", OUT), error="give either a DATA file or --example"),
    Case("data-and-example", ("release", "{tmp}/data.csv", "--example", "adult", "--epsilon", "1", "--out", OUT),
         error="not both", files=DATA),
    Case("out-missing", ("release", "{tmp}/data.csv", "--epsilon", "1"), error="--out", files=DATA),
    Case("no-command", (), error="required"),
    Case("unknown-command", ("publish",), error="invalid choice: 'publish'"),
]

OUTPUT = [
    release("out-exists-not-empty", error="not empty", files={"out": folder, "out/keep.txt": raw("mine")}),
    release("out-exists-empty", files={"out": folder}, why="an empty folder is filled, as a new one would be"),
    release("out-is-a-file", error="is an existing file", files={"out": raw("a file")}),
    Case("out-parent-is-a-file",
         ("release", "{tmp}/data.csv", "--epsilon", "1", "--out", "{tmp}/file/out", "--audit", "off", "--schema",
          "{tmp}/schema.json"), error="is a file, not a folder", files={**DATA_AND_SCHEMA, "file": raw("a file")}),
    Case("out-unwritable-folder",
         ("release", "{tmp}/data.csv", "--epsilon", "1", "--out", "{tmp}/locked/out", "--audit", "off", "--schema",
          "{tmp}/schema.json"), error="cannot be written", files={**DATA_AND_SCHEMA, "locked": _unwritable}, root=True),
    Case("out-under-sysfs",
         ("release", "{tmp}/data.csv", "--epsilon", "1", "--out", "/sys/dpsynth-corpus-out", "--audit", "off",
          "--schema", "{tmp}/schema.json"), error="cannot be written", files=DATA_AND_SCHEMA),
    release("out-name-too-long", "--out", "{tmp}/" + "o" * 300, error="cannot be written"),
    release("out-stale-staging-folder", files={f".out.partial-{2**22 + 1}-abcd": _stale_staging},
            why="a staging folder left by a dead process is removed by the next write to the same place"),
    release("out-nested-new-folders", "--out", "{tmp}/a/b/c/out",
            why="missing parent folders of a new release folder are created"),
]

LEDGER = [
    release("ledger-corrupt", error="is not a dpsynth ledger", files={"ledger.sqlite": raw(b"\x00garbage" * 200)}),
    release("ledger-sqlite-header-garbage", error="is not a dpsynth ledger", files={"ledger.sqlite": _sqlite_header_then_garbage}),
    release("ledger-is-a-csv", "--ledger", "{tmp}/data.csv", error="is not a dpsynth ledger"),
    release("ledger-is-a-folder", "--ledger", "{tmp}/ledgers", error="cannot be opened", files={"ledgers": folder}),
    release("ledger-unwritable-folder", "--ledger", "{tmp}/locked/ledger.sqlite", error="cannot be opened",
            files={"locked": _unwritable}, root=True),
    release("ledger-under-sysfs", "--ledger", "/sys/dpsynth-corpus.sqlite", error="cannot be opened"),
    release("ledger-empty-file", files={"ledger.sqlite": raw(b"")},
            why="an empty file is a new SQLite database: the ledger starts in it"),
    release("ledger-in-new-folder", "--ledger", "{tmp}/new/ledger.sqlite",
            why="the ledger's folder is created on first use"),
    Case("ledger-show-corrupt", ("ledger", "show"), error="is not a dpsynth ledger", files={"ledger.sqlite": raw(b"\x00garbage" * 200)}),
    Case("ledger-show-new", ("ledger", "show"), why="a ledger that does not exist yet records nothing"),
    Case("ledger-reservations-corrupt", ("ledger", "reservations"), error="is not a dpsynth ledger",
         files={"ledger.sqlite": raw(b"\x00garbage" * 200)}),
    Case("ledger-export-corrupt", ("ledger", "export"), error="is not a dpsynth ledger",
         files={"ledger.sqlite": raw(b"\x00garbage" * 200)}),
    Case("ledger-export-bad-format", ("ledger", "export", "--format", "xml"), error="argument --format"),
    Case("ledger-cap-negative", ("ledger", "cap", "--dataset", "d", "--epsilon", "-1"), error="epsilon"),
    Case("ledger-cap-nan", ("ledger", "cap", "--dataset", "d", "--epsilon", "nan"), error="epsilon"),
    Case("ledger-cap-nothing-named", ("ledger", "cap", "--epsilon", "1"), error="dataset"),
    Case("ledger-cap-data", ("ledger", "cap", "{tmp}/data.csv", "--epsilon", "3"), files=DATA,
         why="a cap on a dataset read as the release reads it"),
    Case("ledger-resolve-unknown", ("ledger", "resolve", "no-such-release"), error="no-such-release"),
    release("ledger-cap-exceeded", "--dataset", "people", error="would pass its lifetime cap", files={"ledger.sqlite": _capped}),
]

AUDIT_FILES = {
    "real.csv": csv(lambda: table().iloc[:100]),
    "holdout.csv": csv(lambda: table(seed=1).iloc[:100]),
    "synthetic.csv": csv(lambda: table(seed=2).iloc[:100].assign(city="Oslo", income=1000)),
}


def audit(id: str, *extra: str, error: str | None = None, why: str | None = None,
          files: Mapping[str, Writer] | None = None, known: str | None = None) -> Case:
    """``dpsynth audit`` of real/holdout/synthetic CSVs into {tmp}/out at the quick level."""
    argv = ("audit", "--real", "{tmp}/real.csv", "--holdout", "{tmp}/holdout.csv", "--synthetic",
            "{tmp}/synthetic.csv", "--out", OUT, "--level", "quick", "--schema", "{tmp}/schema.json")
    return Case(id, argv + extra, error=error, why=why, known=known,
                files={**AUDIT_FILES, "schema.json": document(SCHEMA), **(files or {})})


AUDIT = [
    audit("audit-fine", why="three tables of the same columns: the audit runs and writes its certificate"),
    audit("audit-synthetic-lacks-column", error="'score'",
          files={"synthetic.csv": csv(lambda: table(seed=2).iloc[:100].drop(columns="score"))}),
    audit("audit-synthetic-extra-column", error="'extra'",
          files={"synthetic.csv": csv(lambda: table(seed=2).iloc[:100].assign(extra=1))}),
    audit("audit-holdout-renamed-column", error="'age'",
          files={"holdout.csv": csv(lambda: table(seed=1).iloc[:100].rename(columns={"age": "AGE"}))}),
    audit("audit-synthetic-empty", error="is empty", files={"synthetic.csv": raw("")}),
    audit("audit-real-missing", "--real", "{tmp}/nope.csv", error="does not exist"),
    audit("audit-out-not-empty", error="not empty", files={"out": folder, "out/keep.txt": raw("mine")}),
    audit("audit-level-unknown", "--level", "extreme", error="argument --level: invalid choice"),
    audit("audit-epsilon-negative", "--epsilon", "-1", error="epsilon"),
    audit("audit-policy-malformed", "--policy", "{tmp}/policy.json", error="policy",
          files={"policy.json": raw("[1, 2")}),
]

COMMANDS = [
    Case("schema-infer-dp-without-epsilon", ("schema", "infer", "{tmp}/data.csv", "--dp", "--out", "{tmp}/s.json"),
         error="epsilon", files=DATA),
    Case("schema-infer-dp-epsilon-zero",
         ("schema", "infer", "{tmp}/data.csv", "--dp", "--epsilon", "0", "--out", "{tmp}/s.json"),
         error="epsilon", files=DATA),
    Case("schema-infer-bad-suffix",
         ("schema", "infer", "{tmp}/data.csv", "--dp", "--epsilon", "1", "--out", "{tmp}/s.txt"),
         error=".json", files=DATA),
    Case("schema-infer-dp-fine",
         ("schema", "infer", "{tmp}/data.csv", "--dp", "--epsilon", "1", "--out", "{tmp}/s.json"),
         why="a schema discovered under DP, charged to the ledger", files=DATA),
    Case("schema-export-malformed", ("schema", "export", "{tmp}/schema.json", "--out", "{tmp}/m.json"),
         error="schema.json", files={"schema.json": raw("{")}),
    Case("compare-unknown-method",
         ("compare", "{tmp}/data.csv", "--methods", "nope", "--epsilons", "1", "--out", OUT, "--audit", "off"),
         error="nope", files=DATA),
    Case("compare-bad-epsilons",
         ("compare", "{tmp}/data.csv", "--methods", "mst", "--epsilons", "1,abc", "--out", OUT, "--audit", "off"),
         error="abc", files=DATA),
    Case("compare-seeds-zero", ("compare", "{tmp}/data.csv", "--seeds", "0", "--out", OUT),
         error="argument --seeds", files=DATA),
]

CASES = [*BUDGET, *ROWS, *METHOD, *ALLOCATION, *UNIT, *OTHER_FLAGS, *OUTPUT, *LEDGER, *AUDIT, *COMMANDS]
