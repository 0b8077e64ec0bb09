"""The SQLite store: one database, a repository per aggregate, every SQL statement behind a name.

Why this shape: ``Store`` owns the connection (``api.store.db``: pragmas, the clock,
transactions, read-only mode) and composes one repository per aggregate, each in its own
module — ``listings`` and ``topics`` (listings.py), ``countries`` (countries.py: country
documents and their advisories), ``dataset`` (imports.py: imports and export manifests),
``tokens``, ``submissions`` and ``audit`` (curation.py), ``reports`` (reports.py),
``link_checks`` (link_checks.py). A caller says which aggregate it works on
(``store.reports.add(...)``); none of them sees the connection or SQL. One transaction
(``store.transaction()``) spans repositories, so a decision, the listing change it applies
and its audit row commit together.

The public names live in their modules; they are re-exported here so callers import them
from one place (``from api.store import Store, ListingRow``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from api.clock import Clock
from api.store.countries import CountryRepository, CountryRevisionRow, CountryRow
from api.store.curation import (
    AuditRepository,
    AuditRow,
    SubmissionRepository,
    SubmissionRow,
    TokenRepository,
    TokenRow,
)
from api.store.db import (
    DEFAULT_WRITE_WAIT_MS,
    Database,
    DatabaseNotReady,
    ReadOnlyDatabase,
    StoreBusy,
    is_busy_error,
)
from api.store.imports import (
    CurationWouldBeLost,
    DatasetRepository,
    ExportManifest,
    ImportSummary,
    UnsyncedChange,
)
from api.store.link_checks import LatestLinkCheck, LinkCheckRepository, LinkCheckRow
from api.store.listings import (
    LinkStatus,
    ListingRepository,
    ListingRow,
    RevisionRow,
    TopicRepository,
    Visibility,
    review_deadline,
)
from api.store.migrations import MIGRATIONS, SCHEMA_VERSION
from api.store.reports import ReportRepository, ReportRow
from api.store.search import fts_query

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "AuditRow",
    "CountryRevisionRow",
    "CountryRow",
    "CurationWouldBeLost",
    "DatabaseNotReady",
    "ExportManifest",
    "ImportSummary",
    "LatestLinkCheck",
    "LinkCheckRow",
    "LinkStatus",
    "ListingRow",
    "ReadOnlyDatabase",
    "ReportRow",
    "RevisionRow",
    "Store",
    "StoreBusy",
    "SubmissionRow",
    "TokenRow",
    "UnsyncedChange",
    "Visibility",
    "fts_query",
    "is_busy_error",
    "review_deadline",
]


class Store:
    """One SQLite database. Not thread-safe: use one Store per thread or process.

    ``create``: create and migrate the file if need be. ``read_only``: open it ``mode=ro``
    (a replica), never migrate, and refuse every write with ``ReadOnlyDatabase``.
    ``busy_timeout_ms``: how long a write waits for another connection's write lock (callers
    pass the ``write_wait_ms`` setting). ``clock`` stamps every row written.
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
        self._db = db = Database(path, create=create, read_only=read_only, busy_timeout_ms=busy_timeout_ms, clock=clock)
        self.listings = ListingRepository(db)
        self.topics = TopicRepository(db)
        self.countries = CountryRepository(db)
        self.dataset = DatasetRepository(db, self.listings, self.topics, self.countries)
        self.tokens = TokenRepository(db)
        self.submissions = SubmissionRepository(db)
        self.audit = AuditRepository(db)
        self.reports = ReportRepository(db)
        self.link_checks = LinkCheckRepository(db)

    @property
    def path(self) -> Path:
        return self._db.path

    @property
    def read_only(self) -> bool:
        return self._db.read_only

    @property
    def clock(self) -> Clock:
        return self._db.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self._db.clock = clock

    @property
    def schema_version(self) -> int:
        return self._db.schema_version

    def now(self) -> dt.datetime:
        """The store's clock to the second: what it stamps rows with."""
        return self._db.now()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction over any repositories: all of it commits, or none of it does."""
        with self._db.transaction():
            yield

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """Several reads that see one state of the database (a deferred read transaction)."""
        with self._db.read_snapshot():
            yield

    def get_revision(self) -> int:
        """The dataset revision; cheap enough to ask on every request."""
        return self._db.revision()

    def database_id(self) -> str:
        """This database's identity (a random id made once), named in export manifests."""
        return self._db.database_id()

    def set_busy_timeout(self, ms: int) -> None:
        """How long the next writes wait for another connection's lock (the writer sets what is
        left of each write's deadline)."""
        self._db.set_busy_timeout(ms)

    def connection_settings(self) -> dict[str, int | str]:
        """The pragmas the connection runs with: journal_mode, synchronous, foreign_keys,
        busy_timeout, query_only."""
        return self._db.connection_settings()

    @contextmanager
    def traced(self) -> Iterator[list[str]]:
        """Every SQL statement this store runs meanwhile (tests count queries with it)."""
        with self._db.traced() as statements:
            yield statements
