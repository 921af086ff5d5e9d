"""The bad-input corpus: bad and awkward inputs run through the CLI, each with its expected outcome.

What it holds: the cases of :mod:`tests.corpus.cases_cli` (every flag given a bad value, output
folders, ledgers, audits, the commands around a release) and :mod:`tests.corpus.cases_data`
(malformed, ragged, mis-encoded and oddly shaped files, awkward cell values, malformed schemas
and schemas that do not fit the data). Each case is a :class:`tests.corpus.inputs.Case` row:
a command line, the files it needs, and either the needle of its refusal or why the input is fine.

What every case must show, run in-process through ``dpsynth.cli.main``:

* a refusal exits 2 with exactly one line on stderr (warnings and log records count as lines),
  no traceback, the needle in it; nothing is left behind: no new file or folder but the
  ledger's own, no staging folder, and no release or reservation added to any ledger;
* a success exits 0 or 1 (a FAIL verdict), writes its release folder (with the columns the case
  names, where it is about reading them right), and the case says why the input was fine;
* either way, the planted canaries (a text cell and a number cell) appear in none of stdout,
  stderr, the log at DEBUG, the warnings, or any file the command wrote or changed.

A case that fails today and whose fix lies outside the CLI's own layers is kept with
``known=...`` and skipped with its outcome. Cases that need file permissions are skipped
for the superuser, who ignores them.

Add a case: a row in one of the tables; the ids are the cases' ids. Every run uses a table of
200 rows, the audit off except in the audit cases, so the whole corpus takes well under a
minute and runs in the default test run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path

import pandas as pd
import pytest

from dpsynth.cli import main
from dpsynth.errors import DpsynthError
from dpsynth.privacy.ledger import Ledger
from tests.corpus import cases_cli, cases_data
from tests.corpus.inputs import CANARIES, Case

CASES: list[Case] = [*cases_cli.CASES, *cases_data.CASES]
STAGING = ".partial-"
LEDGER_SUFFIXES = (".sqlite", ".sqlite-wal", ".sqlite-shm", ".sqlite-journal")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _param(case: Case):
    marks = []
    if case.known:
        marks.append(pytest.mark.skip(reason=f"known failure: {case.known}"))
    if case.root:
        marks.append(pytest.mark.skipif(IS_ROOT, reason="the superuser ignores file permissions"))
    return pytest.param(case, id=case.id, marks=marks)


def _snapshot(root: Path) -> dict[Path, str]:
    """Every path under ``root``: a file's content digest, or "dir"."""
    seen: dict[Path, str] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            seen[Path(folder, name)] = "dir"
        for name in files:
            path = Path(folder, name)
            try:
                seen[path] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                seen[path] = "unreadable"
    return seen


def _charges(root: Path) -> dict[Path, int | None]:
    """Releases and open reservations in each ledger file under ``root`` (None: unreadable)."""
    counts: dict[Path, int | None] = {}
    for path in root.rglob("*.sqlite"):
        try:
            counts[path] = len(Ledger(path).releases()) + len(Ledger(path).open_reservations())
        except (DpsynthError, OSError):
            counts[path] = None
    return counts


def _run(argv: list[str], capsys, caplog) -> tuple[int, str, str, list[str], str]:
    """Exit code, stdout and stderr of one CLI run, the lines its warnings and log records at
    WARNING add to stderr outside pytest, and the whole log at DEBUG."""
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = main(argv)
        except SystemExit as exited:
            code = exited.code if isinstance(exited.code, int) else 2
    out, err = capsys.readouterr()
    shown = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    shown += [str(warning.message) for warning in caught]
    return code, out, err, shown, caplog.text


def _no_canary(text: str | bytes, where: str) -> None:
    for canary in CANARIES:
        needle = canary.encode() if isinstance(text, bytes) else canary
        assert needle not in text, f"canary {canary!r} in {where}"


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_case(case: Case, tmp_path: Path, capsys, caplog) -> None:
    for name, write in case.files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        write(tmp_path / name)
    before, charges_before = _snapshot(tmp_path), _charges(tmp_path)
    argv = [argument.format(tmp=tmp_path) for argument in case.argv]

    code, out, err, shown, log = _run(argv, capsys, caplog)

    for text, where in ((out, "stdout"), (err, "stderr"), ("\n".join(shown) + log, "the log or warnings")):
        _no_canary(text, where)
    assert "Traceback" not in err
    after = _snapshot(tmp_path)
    written = [path for path, digest in after.items() if before.get(path) != digest]
    for path in written:
        if after[path] not in ("dir", "unreadable"):
            _no_canary(path.read_bytes(), str(path.relative_to(tmp_path)))
    assert not [path for path in after if STAGING in path.name], "a staging folder was left"

    if case.error is not None:
        lines = [line for line in err.splitlines() if line.strip()] + shown
        assert code == 2, f"exit {code}: {err}"
        assert len(lines) == 1, f"{len(lines)} lines: {lines}"
        assert case.error in lines[0], lines[0]
        assert not [path for path in written if not path.name.endswith(LEDGER_SUFFIXES)], written
        charges = _charges(tmp_path)
        assert all(count == charges_before.get(path, 0) for path, count in charges.items()), charges
    else:
        assert code in (0, 1), f"exit {code}: {err}"
        assert case.why
        if case.argv[0] == "release":
            assert any(path.name == "release.json" for path in after), "no release.json written"
        if case.columns:
            synthetic = next(path for path in after if path.name.startswith("synthetic.csv"))
            assert tuple(pd.read_csv(synthetic, nrows=0).columns) == case.columns
