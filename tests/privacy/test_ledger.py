"""The durable ledger: caps add up exactly, refusals change nothing, crashes and races never overspend,
dataset keys need the ledger's secret, and a version-1 ledger is upgraded without losing a row."""

import logging
import math
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import dpsynth
from dpsynth.errors import BudgetError, BudgetExceeded, LedgerCapExceeded, LedgerError
from dpsynth.privacy.identity import legacy_fingerprint
from dpsynth.privacy.ledger import Cap, Ledger, LifetimeSpend, short_key

FP = "hmac:" + "ab" * 32
OTHER = "name:hospital-2026"
REPO_ROOT = Path(dpsynth.__file__).resolve().parents[1]


@pytest.fixture
def ledger(tmp_path):
    return Ledger(tmp_path / "ledger.sqlite")


def _run_child(code: str, path: Path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with ``ledger`` open on ``path``."""
    prelude = f"import os\nfrom dpsynth.privacy.ledger import Ledger\nledger = Ledger({str(path)!r})\n"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-c", prelude + textwrap.dedent(code)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def _race_reserve(path, barrier, results):
    """One racing process: wait for the others, then try to take epsilon 1."""
    ledger = Ledger(path)
    barrier.wait()
    try:
        ledger.reserve(FP, 1.0, 0.0, dataset_label="race")
        results.put("reserved")
    except LedgerCapExceeded:
        results.put("refused")
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put(f"error: {exc!r}")


# -- cap arithmetic -----------------------------------------------------------------------------


def test_cap_of_three_takes_three_releases_of_one_then_refuses_without_change(ledger):
    ledger.set_cap(FP, 3.0)
    for i in range(3):
        ledger.commit(ledger.reserve(FP, 1.0, 1e-9, dataset_label="adult"), {"n": i})
    before_spent, before_rows = ledger.spent(FP), ledger.releases()
    with pytest.raises(LedgerCapExceeded) as refused:
        ledger.reserve(FP, 0.5, 1e-9)
    assert ledger.spent(FP) == before_spent
    assert (before_spent.epsilon, before_spent.n_releases) == (3.0, 3)
    assert math.isclose(before_spent.delta, 3e-9)
    assert ledger.releases() == before_rows
    message = str(refused.value)
    assert short_key(FP) in message and FP not in message
    assert short_key(FP) == FP[:17] + "..." and short_key(OTHER) == OTHER
    assert "epsilon=3" in message and "epsilon=0.5" in message
    assert isinstance(refused.value, BudgetExceeded) and isinstance(refused.value, ValueError)


def test_float_sums_fit_a_cap_exactly(ledger):
    ledger.set_cap(FP, 1.0)
    for _ in range(10):
        ledger.reserve(FP, 0.1, 0.0)
    assert ledger.spent(FP).n_releases == 10
    assert math.isclose(ledger.spent(FP).epsilon, 1.0)
    with pytest.raises(LedgerCapExceeded):
        ledger.reserve(FP, 1e-9, 0.0)


def test_delta_is_capped_only_when_the_cap_has_one(ledger):
    ledger.set_cap(FP, 10.0, delta=1e-6)
    ledger.reserve(FP, 1.0, 5e-7)
    ledger.reserve(FP, 1.0, 5e-7)
    with pytest.raises(LedgerCapExceeded, match="delta"):
        ledger.reserve(FP, 1.0, 1e-9)
    ledger.reserve(FP, 1.0, 0.0)
    ledger.set_cap(OTHER, 10.0)
    ledger.reserve(OTHER, 1.0, 0.5)
    assert ledger.spent(OTHER).delta == 0.5


def test_datasets_are_counted_apart_and_uncapped_ones_are_not_refused(ledger):
    ledger.set_cap(FP, 1.0)
    ledger.reserve(FP, 1.0, 0.0)
    for _ in range(3):
        ledger.reserve(OTHER, 5.0, 0.0)
    assert ledger.spent(FP) == LifetimeSpend(1.0, 0.0, 1)
    assert ledger.spent(OTHER) == LifetimeSpend(15.0, 0.0, 3)
    assert {row["dataset"] for row in ledger.releases(OTHER)} == {OTHER}
    assert ledger.datasets() == [FP, OTHER]


def test_cap_below_spend_is_refused_and_raising_it_is_allowed(ledger):
    assert ledger.cap(FP) is None
    ledger.reserve(FP, 2.0, 1e-6)
    with pytest.raises(LedgerCapExceeded, match="below"):
        ledger.set_cap(FP, 1.5)
    with pytest.raises(LedgerCapExceeded):
        ledger.set_cap(FP, 5.0, delta=1e-7)
    assert ledger.cap(FP) is None
    ledger.set_cap(FP, 2.0)
    ledger.set_cap(FP, 4.0, delta=1e-5)
    assert ledger.cap(FP) == Cap(epsilon=4.0, delta=1e-5)


# -- reserve, commit, cancel ---------------------------------------------------------------------


def test_reservations_count_and_cancel_gives_them_back(ledger):
    release_id = ledger.reserve(FP, 0.7, 1e-8)
    assert ledger.spent(FP) == LifetimeSpend(0.7, 1e-8, 1)
    assert ledger.releases(FP)[0]["status"] == "reserved"
    ledger.cancel(release_id)
    assert ledger.spent(FP) == LifetimeSpend(0.0, 0.0, 0)
    assert ledger.releases() == []


def test_commit_twice_counts_once_and_keeps_the_first_record(ledger, caplog):
    release_id = ledger.reserve(FP, 1.0, 1e-9)
    ledger.commit(release_id, {"method": "mst", "n_rows": 100})
    with caplog.at_level(logging.WARNING, logger="dpsynth.privacy.ledger"):
        ledger.commit(release_id, {"method": "aim"})
    assert "already committed" in caplog.text
    (row,) = ledger.releases()
    assert row["status"] == "committed" and row["record"] == {"method": "mst", "n_rows": 100}
    assert ledger.spent(FP) == LifetimeSpend(1.0, 1e-9, 1)


def test_unknown_ids_and_committed_releases_cannot_be_cancelled(ledger):
    with pytest.raises(LedgerError, match="no release"):
        ledger.commit("0" * 32, {})
    release_id = ledger.reserve(FP, 1.0, 0.0)
    ledger.commit(release_id, {})
    with pytest.raises(LedgerError, match="committed"):
        ledger.cancel(release_id)
    with pytest.raises(LedgerError, match="no release"):
        ledger.cancel("0" * 32)
    assert ledger.spent(FP).epsilon == 1.0


def test_a_record_that_is_not_json_leaves_the_reservation_counted(ledger):
    release_id = ledger.reserve(FP, 1.0, 0.0)
    with pytest.raises(LedgerError, match="record"):
        ledger.commit(release_id, {"bad": object()})
    assert ledger.releases()[0]["status"] == "reserved"
    assert ledger.spent(FP).epsilon == 1.0


def test_releases_lists_every_field_in_order(ledger):
    first = ledger.reserve(FP, 1.0, 1e-9, dataset_label="adult.csv")
    second = ledger.reserve(OTHER, 2.0, 0.0)
    ledger.commit(first, {"epsilon": 1.0})
    rows = ledger.releases()
    assert [row["id"] for row in rows] == [first, second]
    assert set(rows[0]) == {
        "id", "dataset", "dataset_label", "created_at", "status", "epsilon", "delta", "record"
    }
    assert rows[0]["dataset_label"] == "adult.csv" and rows[0]["record"] == {"epsilon": 1.0}
    assert rows[1]["record"] is None and rows[1]["status"] == "reserved"
    assert datetime.fromisoformat(rows[0]["created_at"]).utcoffset() == timedelta(0)


# -- the reservation helper ----------------------------------------------------------------------


def test_reservation_cancels_on_an_error_before_it_is_spent(ledger):
    with pytest.raises(RuntimeError):
        with ledger.reservation(FP, 1.0, 0.0):
            raise RuntimeError("failed before measuring")
    assert ledger.spent(FP).n_releases == 0


def test_reservation_stays_counted_once_marked_spent_or_committed(ledger):
    with pytest.raises(RuntimeError):
        with ledger.reservation(FP, 1.0, 0.0) as reservation:
            reservation.mark_spent()
            raise RuntimeError("failed after noise was drawn")
    with pytest.raises(RuntimeError):
        with ledger.reservation(FP, 2.0, 0.0) as reservation:
            reservation.commit({"part": "marginal"})
            raise RuntimeError("failed while writing the bundle")
    assert [row["status"] for row in ledger.releases()] == ["reserved", "committed"]
    assert ledger.spent(FP).epsilon == 3.0


def test_reservation_left_uncommitted_stays_counted_with_a_warning(ledger, caplog):
    with caplog.at_level(logging.WARNING, logger="dpsynth.privacy.ledger"):
        with ledger.reservation(FP, 1.0, 0.0) as reservation:
            assert len(reservation.id) == 32
    assert "uncommitted" in caplog.text
    assert ledger.releases()[0]["status"] == "reserved"


def test_reservation_over_the_cap_never_enters_the_block(ledger):
    ledger.set_cap(FP, 1.0)
    entered = False
    with pytest.raises(LedgerCapExceeded):
        with ledger.reservation(FP, 2.0, 0.0):
            entered = True
    assert not entered and ledger.spent(FP).n_releases == 0


# -- durability and concurrency ------------------------------------------------------------------


def test_a_reservation_open_when_the_process_dies_is_still_counted(tmp_path):
    path = tmp_path / "ledger.sqlite"
    Ledger(path).set_cap(FP, 3.0)
    child = _run_child(
        f"""
        with ledger.reservation({FP!r}, 2.0, 1e-9) as reservation:
            os._exit(17)
        """,
        path,
    )
    assert child.returncode == 17, child.stderr
    ledger = Ledger(path)
    assert ledger.spent(FP) == LifetimeSpend(2.0, 1e-9, 1)
    assert ledger.releases()[0]["status"] == "reserved"
    with pytest.raises(LedgerCapExceeded):
        ledger.reserve(FP, 1.5, 0.0)


def test_a_commit_survives_the_process_dying_right_after(tmp_path):
    path = tmp_path / "ledger.sqlite"
    child = _run_child(
        f"""
        release_id = ledger.reserve({FP!r}, 1.0, 1e-9, dataset_label="adult")
        ledger.commit(release_id, {{"certificate": "ok"}})
        print(release_id, flush=True)
        os._exit(0)
        """,
        path,
    )
    assert child.returncode == 0, child.stderr
    (row,) = Ledger(path).releases()
    assert row["id"] == child.stdout.strip()
    assert row["status"] == "committed" and row["record"] == {"certificate": "ok"}


def test_racing_processes_never_pass_the_cap(tmp_path):
    path = tmp_path / "ledger.sqlite"
    Ledger(path).set_cap(FP, 3.0)
    context = multiprocessing.get_context("spawn")
    n_processes = 8
    barrier, results = context.Barrier(n_processes), context.Queue()
    processes = [
        context.Process(target=_race_reserve, args=(str(path), barrier, results)) for _ in range(n_processes)
    ]
    for process in processes:
        process.start()
    outcomes = sorted(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    assert outcomes == ["refused"] * 5 + ["reserved"] * 3
    assert Ledger(path).spent(FP) == LifetimeSpend(3.0, 0.0, 3)


def test_processes_creating_the_ledger_at_once_all_succeed(tmp_path):
    # Switching a new file to WAL is not covered by SQLite's busy handler; the ledger retries.
    path = tmp_path / "new" / "ledger.sqlite"
    context = multiprocessing.get_context("spawn")
    n_processes = 8
    barrier, results = context.Barrier(n_processes), context.Queue()
    processes = [
        context.Process(target=_race_reserve, args=(str(path), barrier, results)) for _ in range(n_processes)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert outcomes == ["reserved"] * n_processes
    assert Ledger(path).spent(FP).n_releases == n_processes


# -- files and paths -----------------------------------------------------------------------------


def test_reading_creates_nothing_and_the_first_write_creates_file_and_schema(tmp_path):
    path = tmp_path / "deep" / "er" / "ledger.sqlite"
    ledger = Ledger(path)
    assert ledger.spent(FP) == LifetimeSpend(0.0, 0.0, 0)
    assert ledger.cap(FP) is None and ledger.releases() == []
    assert not path.parent.exists()
    ledger.set_cap(FP, 1.0)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_default_path_honours_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DPSYNTH_LEDGER", str(tmp_path / "mine.sqlite"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Ledger.default_path() == tmp_path / "mine.sqlite"
    assert Ledger().path == tmp_path / "mine.sqlite"
    monkeypatch.delenv("DPSYNTH_LEDGER")
    assert Ledger.default_path() == tmp_path / "xdg" / "dpsynth" / "ledger.sqlite"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Ledger.default_path() == tmp_path / "home" / ".local" / "share" / "dpsynth" / "ledger.sqlite"


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda led: led.set_cap(FP, 0.0), "epsilon"),
        (lambda led: led.set_cap(FP, math.inf), "epsilon"),
        (lambda led: led.set_cap(FP, math.nan), "epsilon"),
        (lambda led: led.set_cap(FP, True), "epsilon"),
        (lambda led: led.set_cap(FP, 1.0, delta=1.0), "delta"),
        (lambda led: led.set_cap(FP, 1.0, delta=math.nan), "delta"),
        (lambda led: led.set_cap("", 1.0), "dataset"),
        (lambda led: led.reserve(FP, -1.0, 0.0), "epsilon"),
        (lambda led: led.reserve(FP, "1", 0.0), "epsilon"),
        (lambda led: led.reserve(FP, 1.0, -1e-9), "delta"),
        (lambda led: led.reserve(FP, 1.0, None), "delta"),
        (lambda led: led.reserve(123, 1.0, 0.0), "dataset"),
        (lambda led: led.reserve(FP, 1.0, 0.0, dataset_label=None), "dataset_label"),
        (lambda led: led.commit(None, {}), "release_id"),
        (lambda led: led.cancel(""), "release_id"),
        (lambda led: led.resolve("", spent=True), "release_id"),
        (lambda led: led.resolve("0" * 32, spent="no"), "spent"),
        (lambda led: led.dataset_key(), "frame or a name"),
        (lambda led: led.dataset_key(name=""), "name"),
        (lambda led: led.dataset_key(name="a\nb"), "name"),
    ],
)
def test_bad_arguments_name_the_parameter_and_write_nothing(tmp_path, call, name):
    path = tmp_path / "ledger.sqlite"
    with pytest.raises(BudgetError, match=name):
        call(Ledger(path))
    assert not path.exists()
    ledger = Ledger(path)
    ledger.set_cap(OTHER, 5.0)
    before = (ledger.releases(), ledger.cap(FP))
    with pytest.raises(BudgetError, match=name):
        call(ledger)
    assert (ledger.releases(), ledger.cap(FP)) == before


def test_a_corrupt_file_gives_ledger_error_naming_the_path_and_is_left_alone(tmp_path):
    path = tmp_path / "ledger.sqlite"
    garbage = bytes(range(256)) * 16
    path.write_bytes(garbage)
    ledger = Ledger(path)
    for call in (lambda: ledger.spent(FP), lambda: ledger.releases(), lambda: ledger.reserve(FP, 1.0, 0.0)):
        with pytest.raises(LedgerError, match=str(path)):
            call()
    assert path.read_bytes() == garbage


def test_a_ledger_from_a_newer_dpsynth_is_refused(tmp_path):
    path = tmp_path / "ledger.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(LedgerError, match="schema version 99"):
        Ledger(path).reserve(FP, 1.0, 0.0)
    with pytest.raises(LedgerError, match="schema version 99"):
        Ledger(path).spent(FP)


# -- dataset keys and the secret -----------------------------------------------------------------


@pytest.fixture
def frame():
    return pd.DataFrame({"age": [34, 51, 27, 34], "city": ["Oslo", "Lima", "Pune", "Oslo"]})


def _secret(path: Path) -> bytes | None:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT key FROM secret").fetchone()
    conn.close()
    return None if row is None else row[0]


def test_the_secret_is_created_by_the_first_key_and_kept_in_the_file(tmp_path, frame):
    path = tmp_path / "new" / "ledger.sqlite"
    ledger = Ledger(path)
    assert ledger.dataset_key(name="hospital-2026") == "name:hospital-2026"
    assert not path.parent.exists()  # a name needs no secret: nothing is written
    key = ledger.dataset_key(frame)
    secret = _secret(path)
    assert len(secret) == 32
    assert Ledger(path).dataset_key(frame) == key
    assert _secret(path) == secret
    ledger.reserve(key, 1.0, 0.0)
    assert Ledger(path).spent(Ledger(path).dataset_key(frame.iloc[::-1])).epsilon == 1.0


def test_a_ledger_that_lost_its_secret_refuses_to_make_new_keys(ledger, frame):
    ledger.reserve(ledger.dataset_key(frame), 1.0, 0.0)
    with sqlite3.connect(ledger.path) as conn:
        conn.execute("DELETE FROM secret")
    conn.close()
    with pytest.raises(LedgerError, match="secret it no longer holds"):
        ledger.dataset_key(frame)
    assert ledger.spent(ledger.releases()[0]["dataset"]).epsilon == 1.0


def test_a_dataset_name_is_the_key_and_stripped(ledger, frame):
    assert ledger.dataset_key(name="  hospital-2026 ") == "name:hospital-2026"
    ledger.set_cap("name:hospital-2026", 2.0)
    assert ledger.dataset_key(frame, name="hospital-2026") == "name:hospital-2026"
    with pytest.raises(LedgerCapExceeded, match="name:hospital-2026"):
        ledger.reserve("name:hospital-2026", 3.0, 0.0)


def test_naming_a_dataset_carries_its_content_history_and_the_stricter_cap(ledger, frame):
    content = ledger.dataset_key(frame)
    ledger.set_cap(content, 3.0, delta=1e-6)
    ledger.commit(ledger.reserve(content, 1.0, 1e-9), {"n": 1})
    ledger.set_cap("name:hospital-2026", 5.0)
    assert ledger.dataset_key(frame, name="hospital-2026") == "name:hospital-2026"
    assert ledger.spent("name:hospital-2026") == LifetimeSpend(1.0, 1e-9, 1)
    assert ledger.cap("name:hospital-2026") == Cap(epsilon=3.0, delta=1e-6)
    assert ledger.spent(content).n_releases == 0 and ledger.cap(content) is None
    assert ledger.datasets() == ["name:hospital-2026"]


# -- open reservations ---------------------------------------------------------------------------


def test_open_reservations_lists_only_uncommitted_ones_with_their_age(ledger):
    done = ledger.reserve(FP, 1.0, 0.0)
    ledger.commit(done, {})
    first = ledger.reserve(FP, 0.5, 1e-9, dataset_label="adult")
    second = ledger.reserve(OTHER, 0.25, 0.0)
    rows = ledger.open_reservations()
    assert [row["id"] for row in rows] == [first, second]
    assert set(rows[0]) == {"id", "dataset", "dataset_label", "created_at", "epsilon", "delta", "age_seconds"}
    assert (rows[0]["dataset"], rows[0]["dataset_label"], rows[0]["epsilon"]) == (FP, "adult", 0.5)
    assert all(0 <= row["age_seconds"] < 60 for row in rows)
    assert Ledger(ledger.path.parent / "none.sqlite").open_reservations() == []


def test_resolve_as_spent_keeps_it_counted_and_a_late_commit_adds_its_record(ledger):
    ledger.set_cap(FP, 2.0)
    release_id = ledger.reserve(FP, 1.5, 1e-9)
    assert ledger.resolve(release_id) == FP
    assert ledger.open_reservations() == []
    (row,) = ledger.releases()
    assert row["status"] == "committed" and row["record"] is None
    assert ledger.spent(FP) == LifetimeSpend(1.5, 1e-9, 1)
    with pytest.raises(LedgerCapExceeded):
        ledger.reserve(FP, 1.0, 0.0)
    with pytest.raises(LedgerError, match="committed, not open"):
        ledger.resolve(release_id)
    ledger.commit(release_id, {"method": "mst"})
    assert ledger.releases()[0]["record"] == {"method": "mst"}


def test_resolve_with_nothing_left_gives_the_budget_back(ledger):
    release_id = ledger.reserve(FP, 1.0, 0.0)
    assert ledger.resolve(release_id, spent=False) == FP
    assert ledger.releases() == [] and ledger.spent(FP) == LifetimeSpend(0.0, 0.0, 0)
    with pytest.raises(LedgerError, match="no release"):
        ledger.resolve(release_id, spent=False)
    committed = ledger.reserve(FP, 1.0, 0.0)
    ledger.commit(committed, {})
    with pytest.raises(LedgerError, match="committed, not open"):
        ledger.resolve(committed, spent=False)
    assert ledger.spent(FP).epsilon == 1.0


def test_reservation_spent_is_readable_and_not_writable(ledger):
    with ledger.reservation(FP, 1.0, 0.0) as reservation:
        assert reservation.spent is False
        reservation.mark_spent()
        reservation.mark_spent()
        assert reservation.spent is True
        with pytest.raises(AttributeError):
            reservation.spent = False
    assert ledger.open_reservations()[0]["id"] == reservation.id


def test_a_cancelled_reservation_cannot_be_marked_spent_or_committed(ledger):
    with pytest.raises(RuntimeError):
        with ledger.reservation(FP, 1.0, 0.0) as reservation:
            raise RuntimeError("failed before measuring")
    for call in (reservation.mark_spent, lambda: reservation.commit({})):
        with pytest.raises(LedgerError, match="cancelled"):
            call()
    assert reservation.spent is False and ledger.releases() == []


# -- upgrade from version 1 ----------------------------------------------------------------------

_VERSION_1 = (
    "CREATE TABLE caps (fingerprint TEXT PRIMARY KEY, epsilon REAL NOT NULL CHECK (epsilon > 0), "
    "delta REAL CHECK (delta IS NULL OR (delta >= 0 AND delta < 1)), set_at TEXT NOT NULL)",
    "CREATE TABLE releases (id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, dataset_label TEXT NOT NULL, "
    "created_at TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('reserved', 'committed')), "
    "epsilon REAL NOT NULL CHECK (epsilon >= 0), delta REAL NOT NULL CHECK (delta >= 0), record_json TEXT)",
    "CREATE INDEX releases_by_fingerprint ON releases (fingerprint)",
    "PRAGMA user_version = 1",
)


def _version_1_ledger(path: Path, fingerprint: str) -> None:
    """A ledger as dpsynth wrote it before dataset keys: two releases and a cap on ``fingerprint``."""
    conn = sqlite3.connect(path)
    for statement in _VERSION_1:
        conn.execute(statement)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("INSERT INTO caps VALUES (?, 3.0, 1e-6, '2025-01-01T00:00:00+00:00')", (fingerprint,))
    conn.executemany(
        "INSERT INTO releases VALUES (?, ?, 'adult.csv', ?, ?, ?, 1e-9, ?)",
        [("a" * 32, fingerprint, "2025-01-02T00:00:00+00:00", "committed", 1.0, '{"method": "mst"}'),
         ("b" * 32, fingerprint, "2025-01-03T00:00:00+00:00", "reserved", 0.5, None),
         ("c" * 32, OTHER, "2025-01-04T00:00:00+00:00", "committed", 0.25, "{}")],
    )
    conn.commit()
    conn.close()


def test_a_version_1_ledger_is_upgraded_on_first_read_and_keeps_its_rows(tmp_path, frame):
    path = tmp_path / "ledger.sqlite"
    legacy = legacy_fingerprint(frame)
    _version_1_ledger(path, legacy)
    ledger = Ledger(path)
    assert ledger.spent(legacy) == LifetimeSpend(1.5, 2e-9, 2)
    assert ledger.cap(legacy) == Cap(epsilon=3.0, delta=1e-6)
    assert [row["id"] for row in ledger.releases()] == ["a" * 32, "b" * 32, "c" * 32]
    assert ledger.releases()[0]["record"] == {"method": "mst"}
    assert [row["id"] for row in ledger.open_reservations()] == ["b" * 32]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        columns = [row[1] for row in conn.execute("PRAGMA table_info(releases)")]
        indexes = [row[1] for row in conn.execute("PRAGMA index_list(releases)")]
        assert conn.execute("SELECT COUNT(*) FROM secret").fetchone()[0] == 0
    conn.close()
    assert "dataset" in columns and "fingerprint" not in columns
    assert "releases_by_dataset" in indexes and "releases_by_fingerprint" not in indexes


def test_the_first_key_of_a_version_1_dataset_takes_over_its_releases_and_cap(tmp_path, frame, caplog):
    path = tmp_path / "ledger.sqlite"
    legacy = legacy_fingerprint(frame)
    _version_1_ledger(path, legacy)
    ledger = Ledger(path)
    with caplog.at_level(logging.INFO, logger="dpsynth.privacy.ledger"):
        key = ledger.dataset_key(frame)
    assert "2 release(s) and the cap" in caplog.text and legacy not in caplog.text
    assert key.startswith("hmac:")
    assert ledger.spent(key) == LifetimeSpend(1.5, 2e-9, 2)
    assert ledger.cap(key) == Cap(epsilon=3.0, delta=1e-6)
    assert ledger.spent(legacy).n_releases == 0 and ledger.cap(legacy) is None
    assert ledger.datasets() == [key, OTHER]
    with pytest.raises(LedgerCapExceeded):
        ledger.reserve(key, 2.0, 0.0)
    # Another table leaves the version-1 rows alone, even one version 1 could not hash.
    assert ledger.spent(ledger.dataset_key(pd.DataFrame({"tags": [["a"], ["b"]]}))).n_releases == 0
    other = ledger.dataset_key(frame.assign(age=[1, 2, 3, 4]))
    assert ledger.spent(other).n_releases == 0 and ledger.spent(key).n_releases == 2


def test_a_version_1_dataset_given_a_name_moves_to_the_name(tmp_path, frame):
    path = tmp_path / "ledger.sqlite"
    legacy = legacy_fingerprint(frame)
    _version_1_ledger(path, legacy)
    ledger = Ledger(path)
    assert ledger.dataset_key(frame, name="adult") == "name:adult"
    assert ledger.spent("name:adult") == LifetimeSpend(1.5, 2e-9, 2)
    assert ledger.cap("name:adult") == Cap(epsilon=3.0, delta=1e-6)
