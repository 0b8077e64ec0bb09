"""One SQLite connection as the repositories share it: how it is opened, and what it refuses.

Why a module of its own: every repository (listings, curation, reports, link checks) runs its
SQL on one connection with one clock; this is the only place that opens that connection
(read-write and migrated, or read-only and never migrated), owns transactions and the
``meta`` rows (the dataset revision, the database's identity), maps rows into Structs, and
turns SQLite's refusals into the store's own errors (``StoreBusy``, ``ReadOnlyDatabase``,
``DatabaseNotReady``).

- WAL mode lets the server read while an import or a curator's approval writes;
  ``synchronous=FULL`` makes a commit durable when it returns (a power cut cannot lose an
  acknowledged change).
- ``meta.revision`` is the dataset revision: it moves once per committed change set, and the
  read path keys its caches and ETags on it.

Read-only mode (a replica): the file is opened ``file:…?mode=ro`` and ``query_only``, never
migrated, and every write fails as ``ReadOnlyDatabase``. What SQLite needs for that, measured
with SQLite 3.40 (tests/test_store_read_only.py):

- A ``mode=ro`` reader of a WAL database sees each commit another process makes, at once. It
  needs the ``-shm`` index: it uses the writer's ``-shm``/``-wal`` when they exist (even
  without write permission on them), or creates them when the directory is writable (and
  leaves them behind: a read-only connection cannot checkpoint or delete them). With neither,
  opening fails (``SQLITE_READONLY_DIRECTORY``), reported here as ``DatabaseNotReady``.
- ``immutable=1`` needs no ``-shm`` but promises SQLite that nobody writes the file: it never
  sees later commits (nor what sits in an uncheckpointed ``-wal``). It suits only a file that
  is swapped whole and reopened, never one another process writes; this store does not use it.
- So a replica fed by Litestream (``litestream restore`` writes a new file, which must be
  renamed into place and the store reopened) or kept live by LiteFS (which writes the file
  under the reader) is opened ``mode=ro`` in a directory the reader may write, or beside the
  primary's ``-shm``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import msgspec
import sqlite_utils

from api.clock import Clock, SystemClock
from api.settings import SETTINGS
import api.store.migrations as migrations

__all__ = [
    "DEFAULT_WRITE_WAIT_MS",
    "Database",
    "DatabaseNotReady",
    "ReadOnlyDatabase",
    "StoreBusy",
    "as_struct",
    "is_busy_error",
    "local_commits",
]

#: Write transactions this process has committed: the front cache (api/http/cache.py) re-reads
#: the dataset revision when it moves, so this process's own writes are seen at once.
local_commits = 0

#: How long a write waits for another connection's lock unless the caller says (the setting's default).
DEFAULT_WRITE_WAIT_MS: int = next(s.default for s in SETTINGS if s.name == "write_wait_ms")

_Row = TypeVar("_Row", bound=msgspec.Struct)


class DatabaseNotReady(Exception):
    """The database file is missing, empty, or made by a newer (or, read-only, an older) release."""


class StoreBusy(Exception):
    """Another connection held the write lock longer than this one would wait; nothing was
    written (the transaction rolled back), and trying again later is safe."""


class ReadOnlyDatabase(Exception):
    """A write was attempted on a store opened read-only (a replica): nothing was written;
    writes belong on the primary."""


def is_busy_error(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED, as Python's sqlite3 reports them."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _is_read_only_error(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_READONLY


class Database:
    """One connection to one database file; the repositories of a ``Store`` share it.

    Not thread-safe: one per thread or process. ``busy_timeout_ms``: how long a write waits
    for another connection's write lock (callers pass the ``write_wait_ms`` setting).
    ``clock`` stamps every row written (the app passes its own, so tests move it).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        create: bool = False,
        read_only: bool = False,
        busy_timeout_ms: int = DEFAULT_WRITE_WAIT_MS,
        clock: Clock | None = None,
    ) -> None:
        if create and read_only:
            raise ValueError("a read-only store cannot create its database")
        self.clock: Clock = clock or SystemClock()
        self.path = path = Path(path)
        self.read_only = read_only
        if not create and not path.exists():
            raise DatabaseNotReady(f"database {path} does not exist: run `actiondir import` to build it")
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if read_only:
                uri = f"file:{quote(str(path.absolute()))}?mode=ro"
                conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            else:
                conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.OperationalError as exc:
            raise DatabaseNotReady(f"cannot open database {path}: {exc}") from None
        self._conn = conn
        try:
            conn.execute(f"pragma busy_timeout = {int(busy_timeout_ms):d}")
            if read_only:
                conn.execute("pragma query_only = on")  # refused by SQLite too, not only by mode=ro
            else:
                conn.execute("pragma journal_mode = wal")
                conn.execute("pragma synchronous = full")
            conn.execute("pragma foreign_keys = on")
            self._migrate(create=create)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise DatabaseNotReady(self._unusable(exc)) from None
        except BaseException:
            conn.close()
            raise

    def _unusable(self, exc: sqlite3.DatabaseError) -> str:
        """What to do about a file SQLite would not read; a replica is never told to delete it."""
        path = self.path
        if not self.read_only:
            return f"{path} is not a usable SQLite database ({exc}): delete it and run `actiondir import`"
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
            return (
                f"cannot read {path} read-only ({exc}): a reader of a WAL database needs the writer's "
                f"{path.name}-shm beside it, or a directory it may create that file in"
            )
        return f"{path} is not a usable SQLite database ({exc}): a read-only store leaves it as it is; rebuild it on the primary"

    def close(self) -> None:
        self._conn.close()

    def now(self) -> dt.datetime:
        """The clock to the second: what rows are stamped with."""
        return self.clock.now().replace(microsecond=0)

    # --- schema ---------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("pragma user_version").fetchone()[0])

    def _migrate(self, *, create: bool) -> None:
        version, latest = self.schema_version, migrations.SCHEMA_VERSION
        if version > latest:
            raise DatabaseNotReady(
                f"database {self.path} has schema version {version}, newer than this release "
                f"knows ({latest}): run a newer release, or delete the file and run `actiondir import`"
            )
        if version == 0 and not create:
            raise DatabaseNotReady(f"database {self.path} is empty: run `actiondir import`")
        if self.read_only:
            if version < latest:
                raise DatabaseNotReady(
                    f"database {self.path} has schema version {version}, older than this release "
                    f"({latest}), and a read-only store never migrates: run `actiondir migrate --db {self.path}` "
                    "where it is written (the primary)"
                )
            return
        db = sqlite_utils.Database(self._conn)
        for number, migration in enumerate(migrations.MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                migration(db)
                self._conn.execute(f"pragma user_version = {number:d}")

    # --- statements -----------------------------------------------------------------------

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            if _is_read_only_error(exc):
                raise ReadOnlyDatabase(f"{self.path} is open read-only: nothing was written") from exc
            raise

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.OperationalError as exc:
            if _is_read_only_error(exc):
                raise ReadOnlyDatabase(f"{self.path} is open read-only: nothing was written") from exc
            raise

    def scalar(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        """The first column of the first row (None when there is no row)."""
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def fetch_all(
        self, sql: str, params: tuple[Any, ...] | list[Any], into: type[_Row], **decode: Callable[[Any], Any]
    ) -> list[_Row]:
        """Rows as ``into`` Structs, by column name (``decode``: per column, e.g. a JSON text)."""
        return list(self.each(sql, params, into, **decode))

    def fetch_one(
        self, sql: str, params: tuple[Any, ...] | list[Any], into: type[_Row], **decode: Callable[[Any], Any]
    ) -> _Row | None:
        return next(self.each(sql, params, into, **decode), None)

    def each(
        self, sql: str, params: tuple[Any, ...] | list[Any], into: type[_Row], **decode: Callable[[Any], Any]
    ) -> Iterator[_Row]:
        cursor = self.execute(sql, params)
        columns = [d[0] for d in cursor.description]
        for row in cursor:
            yield as_struct(columns, row, into, decode)

    # --- transactions ---------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: all of it commits, or none of it does."""
        if self.read_only:
            raise ReadOnlyDatabase(f"{self.path} is open read-only: writes go to the primary")
        self._conn.execute("begin immediate")
        try:
            yield
        except BaseException:
            self._conn.execute("rollback")
            raise
        else:
            self._conn.execute("commit")
            global local_commits
            local_commits += 1

    @contextmanager
    def joined_transaction(self) -> Iterator[None]:
        """The caller's transaction when one is open, else one of its own."""
        if self._conn.in_transaction:
            yield
        else:
            with self.transaction():
                yield

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """Several reads that see one state of the database (a deferred read transaction)."""
        self._conn.execute("begin")
        try:
            yield
        finally:
            self._conn.execute("commit")

    # --- the meta rows --------------------------------------------------------------------

    def revision(self) -> int:
        """The dataset revision; cheap enough to ask on every request."""
        return int(self.scalar("select value from meta where key = 'revision'"))

    def bump_revision(self) -> None:
        self.execute("update meta set value = cast(value as integer) + 1 where key = 'revision'")

    def database_id(self) -> str:
        """This database's identity (a random id made once), named in export manifests."""
        return str(self.scalar("select value from meta where key = 'database_id'"))

    # --- the connection's own settings ----------------------------------------------------

    def set_busy_timeout(self, ms: int) -> None:
        self._conn.execute(f"pragma busy_timeout = {int(ms):d}")

    def connection_settings(self) -> dict[str, int | str]:
        """The pragmas this connection runs with (journal mode, durability, constraints)."""
        names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "query_only")
        return {name: self._conn.execute(f"pragma {name}").fetchone()[0] for name in names}

    @contextmanager
    def traced(self) -> Iterator[list[str]]:
        """Every statement this connection runs meanwhile, with its values (tests count queries)."""
        statements: list[str] = []
        self._conn.set_trace_callback(statements.append)
        try:
            yield statements
        finally:
            self._conn.set_trace_callback(None)


def as_struct(
    columns: list[str], row: tuple[Any, ...], into: type[_Row], decode: dict[str, Callable[[Any], Any]]
) -> _Row:
    """One row as an ``into`` Struct: columns by name; msgspec checks each value's type (a
    ``Literal`` status, an ISO 8601 text as a datetime); ``decode`` turns a stored JSON text or
    a 0/1 flag into what the field holds first (NULL stays None)."""
    values = dict(zip(columns, row, strict=True))
    for name, fn in decode.items():
        if values[name] is not None:
            values[name] = fn(values[name])
    return msgspec.convert(values, into)
