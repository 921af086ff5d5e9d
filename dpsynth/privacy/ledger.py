"""The durable budget ledger: every release made on a dataset, so repeated releases add up.

A release on a dataset (named by its fingerprint, see :mod:`dpsynth.privacy.fingerprint`) is
first *reserved* — before anything is measured — then *committed* with its record once the
release is out. Releases compose across time by basic composition: their epsilons add up and
their deltas add up. A dataset may carry a lifetime cap; a reservation that would pass it is
refused before any row is written. Open reservations count as spent, because a process that died
holding one may already have let noisy output out.

Where the ledger lives: ``Ledger.default_path()`` is ``$DPSYNTH_LEDGER`` when that is set,
otherwise ``$XDG_DATA_HOME/dpsynth/ledger.sqlite``, with ``XDG_DATA_HOME`` defaulting to
``~/.local/share``. The file and its folder are created on the first write; reading a ledger that
does not exist yet reports nothing spent and creates nothing.

The file is SQLite in WAL mode with ``synchronous=FULL``, so a committed release survives a
crash. Every call opens its own short connection, and every write runs in one
``BEGIN IMMEDIATE`` transaction, so threads and processes sharing the file cannot both take the
last of a cap.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dpsynth.errors import BudgetError, LedgerCapExceeded, LedgerError

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_BUSY_TIMEOUT_S = 30.0
_WAL_RETRY_S = 0.01
# Lets float round-off accept an exact fit (ten releases of 0.1 under a cap of 1.0).
_RELATIVE_TOLERANCE = 1e-12
_FINGERPRINT_SHOWN = 16

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS caps (
    fingerprint TEXT PRIMARY KEY,
    epsilon REAL NOT NULL CHECK (epsilon > 0),
    delta REAL CHECK (delta IS NULL OR (delta >= 0 AND delta < 1)),
    set_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS releases (
    id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    dataset_label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('reserved', 'committed')),
    epsilon REAL NOT NULL CHECK (epsilon >= 0),
    delta REAL NOT NULL CHECK (delta >= 0),
    record_json TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS releases_by_fingerprint ON releases (fingerprint)",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)


@dataclass(frozen=True)
class Cap:
    """A dataset's lifetime cap; ``delta`` None leaves delta uncapped."""

    epsilon: float
    delta: float | None


@dataclass(frozen=True)
class Spend:
    """What a dataset has spent by basic composition, open reservations included."""

    epsilon: float
    delta: float
    n_releases: int


def _epsilon(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BudgetError(f"epsilon must be a number; got {type(value).__name__}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise BudgetError(f"epsilon must be positive and finite; got {value!r}")
    return value


def _delta(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BudgetError(f"delta must be a number; got {type(value).__name__}")
    value = float(value)
    if not 0 <= value < 1:
        raise BudgetError(f"delta must be in [0, 1); got {value!r}")
    return value


def _text(name: str, value: object, *, allow_empty: bool) -> str:
    # The message names the type only: a wrong argument here could be a private table.
    if not isinstance(value, str):
        raise BudgetError(f"{name} must be a string; got {type(value).__name__}")
    if not allow_empty and not value:
        raise BudgetError(f"{name} must not be empty")
    return value


def _within(spend: Spend, cap: Cap) -> bool:
    """Whether a spend keeps within a cap: epsilon always, delta when the cap has one."""
    tolerance = 1 + _RELATIVE_TOLERANCE
    if spend.epsilon > cap.epsilon * tolerance:
        return False
    return cap.delta is None or spend.delta <= cap.delta * tolerance


def _short(fingerprint: str) -> str:
    """The start of a fingerprint, enough to tell datasets apart in a message."""
    return fingerprint if len(fingerprint) <= _FINGERPRINT_SHOWN else fingerprint[:_FINGERPRINT_SHOWN] + "..."


def _budget(epsilon: float, delta: float | None) -> str:
    return f"epsilon={epsilon:.12g}" + ("" if delta is None else f", delta={delta:.12g}")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL (the mode is stored in the file; later calls find it set).

    SQLite does not call the busy handler for this switch, so when several processes create the
    ledger at once the losers get SQLITE_BUSY at once; they retry here until the busy timeout.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(_WAL_RETRY_S)


def _amounts(conn: sqlite3.Connection, fingerprint: str) -> list[tuple[float, float]]:
    query = "SELECT epsilon, delta FROM releases WHERE fingerprint = ?"
    return conn.execute(query, (fingerprint,)).fetchall()


def _total(amounts: list[tuple[float, float]]) -> Spend:
    """Add up by basic composition with ``math.fsum``: exact whatever order SQLite returns rows in."""
    return Spend(
        epsilon=math.fsum(epsilon for epsilon, _ in amounts),
        delta=math.fsum(delta for _, delta in amounts),
        n_releases=len(amounts),
    )


def _read_cap(conn: sqlite3.Connection, fingerprint: str) -> Cap | None:
    row = conn.execute("SELECT epsilon, delta FROM caps WHERE fingerprint = ?", (fingerprint,)).fetchone()
    return None if row is None else Cap(epsilon=row[0], delta=row[1])


class Reservation:
    """A reserved release inside :meth:`Ledger.reservation`.

    Call :meth:`mark_spent` as soon as noisy output may have left the process, or :meth:`commit`
    once the release is done; until then an exception in the ``with`` block cancels the
    reservation, and after it the reservation stays counted.
    """

    def __init__(self, ledger: Ledger, release_id: str) -> None:
        self._ledger = ledger
        self.id = release_id
        self.spent = False

    def mark_spent(self) -> None:
        """Keep the reservation counted whatever happens next in the ``with`` block."""
        self.spent = True

    def commit(self, record: dict[str, Any]) -> None:
        """Commit the release with its record (marks it spent first, in case the commit fails)."""
        self.spent = True
        self._ledger.commit(self.id, record)


class Ledger:
    """A SQLite file of releases and caps per dataset fingerprint, safe across threads and processes.

    ``path`` defaults to :meth:`default_path`. Nothing is opened until a method is called.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else self.default_path()

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    @staticmethod
    def default_path() -> Path:
        """``$DPSYNTH_LEDGER``, else ``$XDG_DATA_HOME/dpsynth/ledger.sqlite`` (``~/.local/share``)."""
        explicit = os.environ.get("DPSYNTH_LEDGER")
        if explicit:
            return Path(explicit).expanduser()
        data_home = os.environ.get("XDG_DATA_HOME")
        # The XDG spec says to ignore an empty or relative XDG_DATA_HOME.
        if not data_home or not os.path.isabs(data_home):
            data_home = os.path.join(os.path.expanduser("~"), ".local", "share")
        return Path(data_home) / "dpsynth" / "ledger.sqlite"

    # -- caps ---------------------------------------------------------------------------------

    def set_cap(self, fingerprint: str, epsilon: float, delta: float | None = None) -> None:
        """Set (or replace) the dataset's lifetime cap; refused if it is below what is spent."""
        fingerprint = _text("fingerprint", fingerprint, allow_empty=False)
        cap = Cap(epsilon=_epsilon(epsilon), delta=None if delta is None else _delta(delta))
        with self._write("set_cap") as conn:
            spent = _total(_amounts(conn, fingerprint))
            if not _within(spent, cap):
                raise LedgerCapExceeded(
                    f"cap for dataset {_short(fingerprint)} would be below its spend: "
                    f"cap {_budget(cap.epsilon, cap.delta)}, "
                    f"spent {_budget(spent.epsilon, spent.delta)} over {spent.n_releases} releases"
                )
            conn.execute(
                "INSERT INTO caps (fingerprint, epsilon, delta, set_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (fingerprint) DO UPDATE SET epsilon = excluded.epsilon, "
                "delta = excluded.delta, set_at = excluded.set_at",
                (fingerprint, cap.epsilon, cap.delta, _now()),
            )
        logger.info(
            "ledger %s: cap for %s set to %s", self.path, _short(fingerprint), _budget(cap.epsilon, cap.delta)
        )

    def cap(self, fingerprint: str) -> Cap | None:
        """The dataset's lifetime cap, or None when it has none."""
        fingerprint = _text("fingerprint", fingerprint, allow_empty=False)
        with self._read("cap") as conn:
            return None if conn is None else _read_cap(conn, fingerprint)

    # -- spend --------------------------------------------------------------------------------

    def spent(self, fingerprint: str) -> Spend:
        """Total spent on the dataset by basic composition, committed and open reservations alike."""
        fingerprint = _text("fingerprint", fingerprint, allow_empty=False)
        with self._read("spent") as conn:
            return _total([] if conn is None else _amounts(conn, fingerprint))

    def reserve(self, fingerprint: str, epsilon: float, delta: float, dataset_label: str = "") -> str:
        """Reserve a release before anything is measured and return its id.

        Raises :class:`LedgerCapExceeded`, writing nothing, when the spend plus this release would
        pass the dataset's cap (epsilon always, delta when the cap has one).
        """
        fingerprint = _text("fingerprint", fingerprint, allow_empty=False)
        epsilon, delta = _epsilon(epsilon), _delta(delta)
        dataset_label = _text("dataset_label", dataset_label, allow_empty=True)
        release_id = uuid.uuid4().hex
        with self._write("reserve") as conn:
            cap = _read_cap(conn, fingerprint)
            if cap is not None:
                amounts = _amounts(conn, fingerprint)
                if not _within(_total(amounts + [(epsilon, delta)]), cap):
                    spent = _total(amounts)
                    raise LedgerCapExceeded(
                        f"release on dataset {_short(fingerprint)} would pass its lifetime cap: "
                        f"cap {_budget(cap.epsilon, cap.delta)}, "
                        f"spent {_budget(spent.epsilon, spent.delta)} over {spent.n_releases} releases, "
                        f"asked {_budget(epsilon, delta)}"
                    )
            conn.execute(
                "INSERT INTO releases (id, fingerprint, dataset_label, created_at, status, epsilon, delta)"
                " VALUES (?, ?, ?, ?, 'reserved', ?, ?)",
                (release_id, fingerprint, dataset_label, _now(), epsilon, delta),
            )
        logger.info(
            "ledger %s: reserved release %s on %s, %s",
            self.path, release_id, _short(fingerprint), _budget(epsilon, delta),
        )
        return release_id

    def commit(self, release_id: str, record: dict[str, Any]) -> None:
        """Mark a reserved release committed with its JSON record; committing again changes nothing.

        Raises :class:`LedgerError` for an unknown (or cancelled) id, or a record that is not JSON.
        """
        release_id = _text("release_id", release_id, allow_empty=False)
        try:
            record_json = json.dumps(record, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise LedgerError(f"record: release {release_id} has a record that is not JSON: {exc}") from exc
        with self._write("commit") as conn:
            row = conn.execute(
                "SELECT status, record_json FROM releases WHERE id = ?", (release_id,)
            ).fetchone()
            if row is None:
                raise LedgerError(f"ledger {self.path}: commit: no release with id {release_id}")
            if row[0] == "committed":
                if row[1] != record_json:
                    logger.warning(
                        "ledger %s: release %s was already committed; its first record is kept",
                        self.path, release_id,
                    )
                return
            conn.execute(
                "UPDATE releases SET status = 'committed', record_json = ? WHERE id = ?",
                (record_json, release_id),
            )
        logger.info("ledger %s: committed release %s", self.path, release_id)

    def cancel(self, release_id: str) -> None:
        """Delete a reserved release, giving its budget back.

        Only cancel when the release failed before any noisy output left the process: once
        something is out, the privacy is spent and the reservation must stay.
        """
        release_id = _text("release_id", release_id, allow_empty=False)
        with self._write("cancel") as conn:
            row = conn.execute("SELECT status FROM releases WHERE id = ?", (release_id,)).fetchone()
            if row is None:
                raise LedgerError(f"ledger {self.path}: cancel: no release with id {release_id}")
            if row[0] == "committed":
                raise LedgerError(
                    f"ledger {self.path}: cancel: release {release_id} is committed and cannot be cancelled"
                )
            conn.execute("DELETE FROM releases WHERE id = ?", (release_id,))
        logger.info("ledger %s: cancelled release %s", self.path, release_id)

    @contextmanager
    def reservation(
        self, fingerprint: str, epsilon: float, delta: float, dataset_label: str = ""
    ) -> Iterator[Reservation]:
        """Reserve a release for the ``with`` block; an exception before it is spent cancels it.

        ``with ledger.reservation(fp, 1.0, 1e-9) as r: ...; r.mark_spent(); ...; r.commit(record)``.
        A normal exit without a commit leaves the reservation open, and counted.
        """
        reservation = Reservation(self, self.reserve(fingerprint, epsilon, delta, dataset_label))
        try:
            yield reservation
        except BaseException:
            if not reservation.spent:
                try:
                    self.cancel(reservation.id)
                except LedgerError:
                    logger.exception(
                        "ledger %s: could not cancel release %s; it stays counted", self.path, reservation.id
                    )
            raise
        if not reservation.spent:
            logger.warning(
                "ledger %s: release %s left its block uncommitted; it stays counted",
                self.path, reservation.id,
            )

    # -- listing ------------------------------------------------------------------------------

    def releases(self, fingerprint: str | None = None) -> list[dict[str, Any]]:
        """Every release (or those of one dataset), oldest first, with its record parsed."""
        if fingerprint is not None:
            fingerprint = _text("fingerprint", fingerprint, allow_empty=False)
        keys = ("id", "fingerprint", "dataset_label", "created_at", "status", "epsilon", "delta")
        query = f"SELECT {', '.join(keys)}, record_json FROM releases"
        order = " ORDER BY created_at, rowid"
        params: tuple[str, ...] = ()
        if fingerprint is not None:
            query += " WHERE fingerprint = ?"
            params = (fingerprint,)
        with self._read("releases") as conn:
            rows = [] if conn is None else conn.execute(query + order, params).fetchall()
        return [
            dict(zip(keys, row[:-1]), record=None if row[-1] is None else json.loads(row[-1])) for row in rows
        ]

    # -- connections --------------------------------------------------------------------------

    @contextmanager
    def _write(self, operation: str) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction, creating the file and schema when needed."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(f"ledger {self.path}: {operation}: cannot create its folder: {exc}") from exc
        with self._connection(operation, str(self.path), uri=False) as conn:
            _use_wal(conn)
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("BEGIN IMMEDIATE")
            if self._schema_version(conn) == 0:
                # Inside the transaction, so a crash never leaves half a schema behind.
                for statement in _SCHEMA:
                    conn.execute(statement)
            yield conn

    @contextmanager
    def _read(self, operation: str) -> Iterator[sqlite3.Connection | None]:
        """A read transaction, or None when no ledger has been written yet (creates nothing)."""
        if not self.path.exists():
            yield None
            return
        # mode=rw opens an existing file and never creates one.
        with self._connection(operation, self.path.absolute().as_uri() + "?mode=rw", uri=True) as conn:
            conn.execute("BEGIN")
            yield conn if self._schema_version(conn) else None

    @contextmanager
    def _connection(self, operation: str, target: str, *, uri: bool) -> Iterator[sqlite3.Connection]:
        """A connection that commits on success, rolls back on error, and raises LedgerError for SQLite's."""
        try:
            # isolation_level=None: transactions are begun and ended here, not by the sqlite3 module.
            connection = sqlite3.connect(target, timeout=_BUSY_TIMEOUT_S, isolation_level=None, uri=uri)
            with closing(connection) as conn:
                try:
                    yield conn
                    if conn.in_transaction:
                        conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise LedgerError(f"ledger {self.path}: {operation} failed: {exc}") from exc

    def _schema_version(self, conn: sqlite3.Connection) -> int:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"ledger {self.path} has schema version {version}; this dpsynth reads up to {SCHEMA_VERSION}"
            )
        return version
