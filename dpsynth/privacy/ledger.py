"""The durable budget ledger: every release made on a dataset, so repeated releases add up.

A release on a dataset (named by its dataset key, see :meth:`Ledger.dataset_key`) is first
*reserved* — before anything is measured — then *committed* with its record once the release is
out. Releases compose across time by basic composition: their epsilons add up and
their deltas add up. A dataset may carry a lifetime cap; a reservation that would pass it is
refused before any row is written. Open reservations count as spent, because a process that died
holding one may already have let noisy output out; :meth:`Ledger.open_reservations` lists them
and :meth:`Ledger.resolve` closes one once the custodian knows what became of it.

A dataset key is either ``name:<name>``, a name the custodian gives the data, or
``hmac:<hex>``, an HMAC of the table's content signature (:mod:`dpsynth.privacy.identity`) under a
random secret key that the ledger creates and keeps in its own file. While the file stays with
the custodian, a key can be shown, logged or written into a release without letting anyone test
guesses of the private rows; only this ledger maps the same data to the same key, and losing the
file loses the secret along with the spend it counts.

Where the ledger lives: ``Ledger.default_path()`` is ``$DPSYNTH_LEDGER`` when that is set,
otherwise ``$XDG_DATA_HOME/dpsynth/ledger.sqlite``, with ``XDG_DATA_HOME`` defaulting to
``~/.local/share``. The file and its folder are created on the first write; reading a ledger that
does not exist yet reports nothing spent and creates nothing.

The file is SQLite in WAL mode with ``synchronous=FULL``, so a committed release survives a
crash. Every call opens its own short connection, and every write runs in one
``BEGIN IMMEDIATE`` transaction, so threads and processes sharing the file cannot both take the
last of a cap. A version-1 file (keys were unsalted SHA-256 fingerprints) is upgraded in place
on first use and keeps its rows; :meth:`Ledger.dataset_key` moves a dataset's old rows to its new
key when it next sees the data.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import os
import secrets
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from dpsynth.errors import BudgetError, DataError, LedgerCapExceeded, LedgerError
from dpsynth.interrupts import held
from dpsynth.privacy.budget import check_delta, check_epsilon
from dpsynth.privacy.identity import content_signature, legacy_fingerprint

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
_BUSY_TIMEOUT_S = 30.0
_WAL_RETRY_S = 0.01
# Lets float round-off accept an exact fit (ten releases of 0.1 under a cap of 1.0).
_RELATIVE_TOLERANCE = 1e-12
# "hmac:" and 12 hex digits: enough to tell datasets apart in a message.
_KEY_SHOWN = 17
_SECRET_BYTES = 32

_SECRET_TABLE = """CREATE TABLE IF NOT EXISTS secret (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    key BLOB NOT NULL CHECK (length(key) = 32),
    created_at TEXT NOT NULL
    )"""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS caps (
    dataset TEXT PRIMARY KEY,
    epsilon REAL NOT NULL CHECK (epsilon > 0),
    delta REAL CHECK (delta IS NULL OR (delta >= 0 AND delta < 1)),
    set_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS releases (
    id TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    dataset_label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('reserved', 'committed')),
    epsilon REAL NOT NULL CHECK (epsilon >= 0),
    delta REAL NOT NULL CHECK (delta >= 0),
    record_json TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS releases_by_dataset ON releases (dataset)",
    _SECRET_TABLE,
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)

# Version 1 keyed datasets by a column named fingerprint and had no secret; its rows are kept.
_UPGRADE_FROM_1 = (
    "ALTER TABLE caps RENAME COLUMN fingerprint TO dataset",
    "ALTER TABLE releases RENAME COLUMN fingerprint TO dataset",
    "DROP INDEX IF EXISTS releases_by_fingerprint",
    "CREATE INDEX IF NOT EXISTS releases_by_dataset ON releases (dataset)",
    _SECRET_TABLE,
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)


@dataclass(frozen=True)
class Cap:
    """A dataset's lifetime cap; ``delta`` None leaves delta uncapped."""

    epsilon: float
    delta: float | None


@dataclass(frozen=True)
class LifetimeSpend:
    """What a dataset has spent by basic composition, open reservations included."""

    epsilon: float
    delta: float
    n_releases: int


def _text(name: str, value: object, *, allow_empty: bool) -> str:
    # The message names the type only: a wrong argument here could be a private table.
    if not isinstance(value, str):
        raise BudgetError(f"{name} must be a string; got {type(value).__name__}")
    if not allow_empty and not value:
        raise BudgetError(f"{name} must not be empty")
    return value


def _within(spend: LifetimeSpend, cap: Cap) -> bool:
    """Whether a spend keeps within a cap: epsilon always, delta when the cap has one."""
    tolerance = 1 + _RELATIVE_TOLERANCE
    if spend.epsilon > cap.epsilon * tolerance:
        return False
    return cap.delta is None or spend.delta <= cap.delta * tolerance


def _name(value: object) -> str:
    """A custodian's dataset name: printable text, surrounding whitespace dropped."""
    name = _text("dataset name", value, allow_empty=False).strip()
    if not name or not name.isprintable():
        raise BudgetError("dataset name must be printable text with at least one visible character")
    return name


def short_key(key: str) -> str:
    """A dataset key as messages show it: a name in full, the start of a hash."""
    if key.startswith("name:") or len(key) <= _KEY_SHOWN:
        return key
    return key[:_KEY_SHOWN] + "..."


def _budget(epsilon: float, delta: float | None) -> str:
    return f"epsilon={epsilon:.12g}" + ("" if delta is None else f", delta={delta:.12g}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


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


def _amounts(conn: sqlite3.Connection, dataset: str) -> list[tuple[float, float]]:
    query = "SELECT epsilon, delta FROM releases WHERE dataset = ?"
    return conn.execute(query, (dataset,)).fetchall()


def _total(amounts: list[tuple[float, float]]) -> LifetimeSpend:
    """Add up by basic composition with ``math.fsum``: exact whatever order SQLite returns rows in."""
    return LifetimeSpend(
        epsilon=math.fsum(epsilon for epsilon, _ in amounts),
        delta=math.fsum(delta for _, delta in amounts),
        n_releases=len(amounts),
    )


def _read_cap(conn: sqlite3.Connection, dataset: str) -> Cap | None:
    row = conn.execute("SELECT epsilon, delta FROM caps WHERE dataset = ?", (dataset,)).fetchone()
    return None if row is None else Cap(epsilon=row[0], delta=row[1])


def _write_cap(conn: sqlite3.Connection, dataset: str, cap: Cap) -> None:
    conn.execute(
        "INSERT INTO caps (dataset, epsilon, delta, set_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (dataset) DO UPDATE SET epsilon = excluded.epsilon, "
        "delta = excluded.delta, set_at = excluded.set_at",
        (dataset, cap.epsilon, cap.delta, _now()),
    )


def _stricter(first: Cap, second: Cap) -> Cap:
    """The cap that keeps within both: the lower epsilon, and the lower delta (None is no cap)."""
    deltas = [delta for delta in (first.delta, second.delta) if delta is not None]
    return Cap(epsilon=min(first.epsilon, second.epsilon), delta=min(deltas) if deltas else None)


def _move(conn: sqlite3.Connection, old: str, new: str) -> tuple[int, bool]:
    """File the releases and cap of key ``old`` under ``new``; returns (releases moved, cap moved).

    Where both keys have a cap the stricter one is kept, so a move never raises a limit. The
    spend moved along may then pass the cap; the next reservation is refused, as it should be.
    """
    moved = conn.execute("UPDATE releases SET dataset = ? WHERE dataset = ?", (new, old)).rowcount
    old_cap = _read_cap(conn, old)
    if old_cap is not None:
        new_cap = _read_cap(conn, new)
        conn.execute("DELETE FROM caps WHERE dataset = ?", (old,))
        _write_cap(conn, new, old_cap if new_cap is None else _stricter(old_cap, new_cap))
    return moved, old_cap is not None


class Reservation:
    """A reserved release inside :meth:`Ledger.reservation`.

    Call :meth:`mark_spent` as soon as noisy output may have left the process, or :meth:`commit`
    once the release is done; until then an exception in the ``with`` block cancels the
    reservation, and after it the reservation stays counted. :attr:`spent` says which applies.
    """

    def __init__(self, ledger: Ledger, release_id: str) -> None:
        self._ledger = ledger
        self.id = release_id
        self._spent = False
        self._committed = False
        self._cancelled = False

    @property
    def spent(self) -> bool:
        """Whether the reservation stays counted whatever happens next (marked spent or committed)."""
        return self._spent

    @property
    def committed(self) -> bool:
        """Whether the ledger recorded the release with its record (:meth:`commit` returned)."""
        return self._committed

    def mark_spent(self) -> None:
        """Keep the reservation counted whatever happens next in the ``with`` block.

        Raises :class:`LedgerError` once the reservation was cancelled: its budget is already
        given back, so whatever is about to leave would be charged to nothing.
        """
        self._refuse_if_cancelled("mark_spent")
        self._spent = True

    def commit(self, record: dict[str, Any]) -> None:
        """Commit the release with its record (marks it spent first, in case the commit fails)."""
        self._refuse_if_cancelled("commit")
        self._spent = True
        self._ledger.commit(self.id, record)
        self._committed = True

    def _cancel(self) -> None:
        self._ledger.cancel(self.id)
        self._cancelled = True

    def _refuse_if_cancelled(self, operation: str) -> None:
        if self._cancelled:
            raise LedgerError(
                f"ledger {self._ledger.path}: {operation}: release {self.id} was cancelled and its "
                "budget given back; reserve again before measuring"
            )


class Ledger:
    """A SQLite file of releases and caps per dataset key, safe across threads and processes.

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

    # -- dataset keys -------------------------------------------------------------------------

    def dataset_key(
        self, frame: pd.DataFrame | None = None, *, name: str | None = None, signature: bytes | None = None
    ) -> str:
        """The key this ledger files a dataset's releases and cap under.

        With ``name`` (``"hospital-2026"``) the key is ``"name:hospital-2026"``: the cap follows
        the custodian's name for the data across files, versions and encodings. Otherwise it is
        ``"hmac:<hex>"``, HMAC-SHA256 of the frame's :func:`content_signature` under this
        ledger's secret, the same for every encoding the signature merges.

        Given a frame, this is a write: it creates the ledger and its secret when missing, and
        moves to the returned key what the ledger filed under the frame's version-1 fingerprint
        and, when a name is given, under its content key — so neither an upgrade nor naming a
        dataset starts a fresh cap. ``signature``, when given, is used instead of the frame: its
        content signature computed elsewhere (a file read in chunks:
        :class:`dpsynth.privacy.identity.StreamedSignature`).
        """
        if signature is not None:
            if self._has_legacy_keys():
                raise LedgerError(
                    f"ledger {self.path} holds version-1 keys, which only a table read whole can be matched "
                    "against: make this release with engine 'numpy' once, or name the dataset"
                )
            return self._content_key(signature, name)
        if frame is not None and not isinstance(frame, pd.DataFrame):
            raise DataError(f"frame must be a pandas DataFrame; got {type(frame).__name__}")
        named = None if name is None else "name:" + _name(name)
        if frame is None:
            if named is None:
                raise BudgetError("dataset_key needs a frame or a name")
            return named
        # Only a version-1 ledger has sha256 keys, and nothing writes new ones, so this check
        # outside the transaction below cannot go stale the wrong way.
        legacy = legacy_fingerprint(frame) if self._has_legacy_keys() else None
        return self._content_key(content_signature(frame), name, legacy)

    def _content_key(self, signature: bytes, name: str | None, legacy: str | None = None) -> str:
        """:meth:`dataset_key` from a content signature (the old keys moved to the returned one)."""
        named = None if name is None else "name:" + _name(name)
        with self._write("dataset_key") as conn:
            content_key = "hmac:" + hmac.new(self._secret(conn), signature, hashlib.sha256).hexdigest()
            key = named or content_key
            for old in (legacy, content_key):
                if old is None or old == key:
                    continue
                moved, cap_moved = _move(conn, old, key)
                if moved or cap_moved:
                    logger.info(
                        "ledger %s: %d release(s)%s filed under %s now count under %s",
                        self.path, moved, " and the cap" if cap_moved else "", short_key(old), short_key(key),
                    )
        return key

    def datasets(self) -> list[str]:
        """Every dataset key with a release or a cap, in order of its first entry."""
        query = (
            "SELECT dataset FROM (SELECT dataset, created_at AS at FROM releases "
            "UNION ALL SELECT dataset, set_at FROM caps) GROUP BY dataset ORDER BY MIN(at), dataset"
        )
        with self._read("datasets") as conn:
            return [] if conn is None else [row[0] for row in conn.execute(query)]

    # -- caps ---------------------------------------------------------------------------------

    def set_cap(self, dataset: str, epsilon: float, delta: float | None = None) -> None:
        """Set (or replace) the dataset's lifetime cap; refused if it is below what is spent."""
        dataset = _text("dataset", dataset, allow_empty=False)
        cap = Cap(epsilon=check_epsilon(epsilon), delta=None if delta is None else check_delta(delta))
        with self._write("set_cap") as conn:
            spent = _total(_amounts(conn, dataset))
            if not _within(spent, cap):
                raise LedgerCapExceeded(
                    f"cap for dataset {short_key(dataset)} would be below its spend: "
                    f"cap {_budget(cap.epsilon, cap.delta)}, "
                    f"spent {_budget(spent.epsilon, spent.delta)} over {spent.n_releases} releases"
                )
            _write_cap(conn, dataset, cap)
        logger.info(
            "ledger %s: cap for %s set to %s", self.path, short_key(dataset), _budget(cap.epsilon, cap.delta)
        )

    def cap(self, dataset: str) -> Cap | None:
        """The dataset's lifetime cap, or None when it has none."""
        dataset = _text("dataset", dataset, allow_empty=False)
        with self._read("cap") as conn:
            return None if conn is None else _read_cap(conn, dataset)

    # -- spend --------------------------------------------------------------------------------

    def spent(self, dataset: str) -> LifetimeSpend:
        """Total spent on the dataset by basic composition, committed and open reservations alike."""
        dataset = _text("dataset", dataset, allow_empty=False)
        with self._read("spent") as conn:
            return _total([] if conn is None else _amounts(conn, dataset))

    def reserve(self, dataset: str, epsilon: float, delta: float, dataset_label: str = "") -> str:
        """Reserve a release before anything is measured and return its id.

        Raises :class:`LedgerCapExceeded`, writing nothing, when the spend plus this release would
        pass the dataset's cap (epsilon always, delta when the cap has one).
        """
        dataset = _text("dataset", dataset, allow_empty=False)
        epsilon, delta = check_epsilon(epsilon), check_delta(delta)
        dataset_label = _text("dataset_label", dataset_label, allow_empty=True)
        release_id = uuid.uuid4().hex
        with self._write("reserve") as conn:
            cap = _read_cap(conn, dataset)
            if cap is not None:
                amounts = _amounts(conn, dataset)
                if not _within(_total(amounts + [(epsilon, delta)]), cap):
                    spent = _total(amounts)
                    raise LedgerCapExceeded(
                        f"release on dataset {short_key(dataset)} would pass its lifetime cap: "
                        f"cap {_budget(cap.epsilon, cap.delta)}, "
                        f"spent {_budget(spent.epsilon, spent.delta)} over {spent.n_releases} releases, "
                        f"asked {_budget(epsilon, delta)}"
                    )
            conn.execute(
                "INSERT INTO releases (id, dataset, dataset_label, created_at, status, epsilon, delta)"
                " VALUES (?, ?, ?, ?, 'reserved', ?, ?)",
                (release_id, dataset, dataset_label, _now(), epsilon, delta),
            )
        logger.info(
            "ledger %s: reserved release %s on %s, %s",
            self.path, release_id, short_key(dataset), _budget(epsilon, delta),
        )
        return release_id

    def commit(self, release_id: str, record: dict[str, Any]) -> None:
        """Mark a reserved release committed with its JSON record; committing again changes nothing.

        A release :meth:`resolve` kept as spent has no record yet and takes this one. Raises
        :class:`LedgerError` for an unknown (or cancelled) id, or a record that is not JSON.
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
            if row[0] == "committed" and row[1] is not None:
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
        self, dataset: str, epsilon: float, delta: float, dataset_label: str = ""
    ) -> Iterator[Reservation]:
        """Reserve a release for the ``with`` block; an exception before it is spent cancels it.

        ``with ledger.reservation(key, 1.0, 1e-9) as r: ...; r.mark_spent(); ...; r.commit(record)``.
        A normal exit without a commit leaves the reservation open, and counted.
        """
        reservation = None
        try:
            # Held: an interrupt between the reservation's commit and its id reaching this frame
            # would leave a reservation nobody cancels.
            with held():
                reservation = Reservation(self, self.reserve(dataset, epsilon, delta, dataset_label))
            yield reservation
        except BaseException as error:
            if reservation is not None and not reservation.spent:
                self._cancel_after(reservation, error)
            raise
        if not reservation.spent:
            logger.warning(
                "ledger %s: release %s left its block uncommitted; it stays counted",
                self.path, reservation.id,
            )

    def _cancel_after(self, reservation: Reservation, error: BaseException) -> None:
        """Cancel a reservation nothing was measured under, and say so on the error that stopped it.

        The note (a line of the CLI's one-line message, never a traceback) says whether the budget
        came back: an interrupt's always, an error's only when the cancel failed (a refusal
        already means nothing was charged).
        """
        try:
            with held():  # a second Ctrl-C must not stop the cancel halfway
                reservation._cancel()
        except LedgerError as failure:
            error.add_note(
                f"release {reservation.id} could not be cancelled ({failure}), so it stays counted: if nothing "
                f"left the process, 'dpsynth ledger resolve {reservation.id} --nothing-left' gives it back"
            )
            return
        if not isinstance(error, Exception):
            error.add_note(f"nothing was measured: release {reservation.id} was cancelled and nothing was charged")

    # -- open reservations --------------------------------------------------------------------

    def open_reservations(self) -> list[dict[str, Any]]:
        """Releases reserved and not committed, oldest first, each with ``age_seconds``.

        One that is old is a release that died, hung, or left its block uncommitted; it counts
        against its cap until :meth:`resolve` closes it.
        """
        keys = ("id", "dataset", "dataset_label", "created_at", "epsilon", "delta")
        query = f"SELECT {', '.join(keys)} FROM releases WHERE status = 'reserved' ORDER BY created_at, rowid"
        with self._read("open_reservations") as conn:
            rows = [] if conn is None else conn.execute(query).fetchall()
        now = datetime.now(UTC)
        return [
            dict(zip(keys, row), age_seconds=(now - datetime.fromisoformat(row[3])).total_seconds())
            for row in rows
        ]

    def resolve(self, release_id: str, spent: bool = True) -> str:
        """Close an open reservation and return its dataset key.

        ``spent=True`` (the default, and the answer whenever in doubt) keeps it counted for good:
        it is marked committed without a record, which a late :meth:`commit` from the release
        still fills in. ``spent=False`` deletes it and gives its budget back; pass it only when it
        is known that nothing from that release left its process.
        """
        release_id = _text("release_id", release_id, allow_empty=False)
        # Only a real bool: a truthy string must not stand for a statement about privacy.
        if not isinstance(spent, bool):
            raise BudgetError(f"spent must be True or False; got {type(spent).__name__}")
        with self._write("resolve") as conn:
            row = conn.execute("SELECT dataset, status FROM releases WHERE id = ?", (release_id,)).fetchone()
            if row is None:
                raise LedgerError(f"ledger {self.path}: resolve: no release with id {release_id}")
            if row[1] != "reserved":
                raise LedgerError(f"ledger {self.path}: resolve: release {release_id} is committed, not open")
            if spent:
                conn.execute("UPDATE releases SET status = 'committed' WHERE id = ?", (release_id,))
            else:
                conn.execute("DELETE FROM releases WHERE id = ?", (release_id,))
        logger.info(
            "ledger %s: release %s on %s resolved: %s",
            self.path, release_id, short_key(row[0]), "kept as spent" if spent else "deleted, nothing left",
        )
        return row[0]

    # -- listing ------------------------------------------------------------------------------

    def releases(self, dataset: str | None = None) -> list[dict[str, Any]]:
        """Every release (or those of one dataset), oldest first, with its record parsed."""
        if dataset is not None:
            dataset = _text("dataset", dataset, allow_empty=False)
        keys = ("id", "dataset", "dataset_label", "created_at", "status", "epsilon", "delta")
        query = f"SELECT {', '.join(keys)}, record_json FROM releases"
        order = " ORDER BY created_at, rowid"
        params: tuple[str, ...] = ()
        if dataset is not None:
            query += " WHERE dataset = ?"
            params = (dataset,)
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
            version = self._schema_version(conn)
            # Inside the transaction, so a crash never leaves half a schema or half an upgrade.
            if version == 0:
                for statement in _SCHEMA:
                    conn.execute(statement)
            elif version == 1:
                for statement in _UPGRADE_FROM_1:
                    conn.execute(statement)
                logger.info("ledger %s: upgraded from schema version 1 to %d; its rows are kept",
                            self.path, SCHEMA_VERSION)
            yield conn

    @contextmanager
    def _read(self, operation: str) -> Iterator[sqlite3.Connection | None]:
        """A read transaction, or None when no ledger has been written yet (creates nothing).

        A file an older dpsynth wrote is upgraded first, which is a write.
        """
        if not self.path.exists():
            yield None
            return
        # mode=rw opens an existing file and never creates one.
        with self._connection(operation, self.path.absolute().as_uri() + "?mode=rw", uri=True) as conn:
            conn.execute("BEGIN")
            version = self._schema_version(conn)
            if 0 < version < SCHEMA_VERSION:
                conn.execute("ROLLBACK")
                with self._write(operation):
                    pass
                conn.execute("BEGIN")
                version = self._schema_version(conn)
            yield conn if version else None

    def _secret(self, conn: sqlite3.Connection) -> bytes:
        """The ledger's HMAC key, created on first use inside the caller's write transaction.

        A ledger that files datasets under HMAC keys but has lost its secret was edited outside
        dpsynth; a new secret would give every such dataset a fresh cap, so it is refused.
        """
        row = conn.execute("SELECT key FROM secret WHERE id = 1").fetchone()
        if row is not None:
            return row[0]
        if conn.execute(
            "SELECT EXISTS (SELECT 1 FROM releases WHERE dataset GLOB 'hmac:*') "
            "OR EXISTS (SELECT 1 FROM caps WHERE dataset GLOB 'hmac:*')"
        ).fetchone()[0]:
            raise LedgerError(
                f"ledger {self.path} files datasets under keys made with a secret it no longer holds; "
                "restore the file from a backup"
            )
        key = secrets.token_bytes(_SECRET_BYTES)
        conn.execute("INSERT INTO secret (id, key, created_at) VALUES (1, ?, ?)", (key, _now()))
        logger.info("ledger %s: created its secret key", self.path)
        return key

    def _has_legacy_keys(self) -> bool:
        """Whether a release or cap is still filed under a version-1 fingerprint."""
        query = (
            "SELECT EXISTS (SELECT 1 FROM releases WHERE dataset GLOB 'sha256:*') "
            "OR EXISTS (SELECT 1 FROM caps WHERE dataset GLOB 'sha256:*')"
        )
        with self._read("dataset_key") as conn:
            return conn is not None and bool(conn.execute(query).fetchone()[0])

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
            raise LedgerError(self._failure(operation, exc)) from exc

    def _failure(self, operation: str, exc: sqlite3.Error) -> str:
        """What went wrong with the ledger file, in the custodian's terms (SQLite's words for the rest)."""
        if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
            return (f"ledger {self.path} is not a dpsynth ledger (not an SQLite database): "
                    "restore it from a backup, or give another --ledger")
        if "unable to open" in str(exc):
            return (f"ledger {self.path} cannot be opened (a folder, or a place this user cannot write): "
                    "give another --ledger")
        return f"ledger {self.path}: {operation} failed: {exc}"

    def _schema_version(self, conn: sqlite3.Connection) -> int:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"ledger {self.path} has schema version {version}; this dpsynth reads up to {SCHEMA_VERSION}"
            )
        return version
