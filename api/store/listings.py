"""The SQLite store: schema, migrations, and every SQL statement behind a named method.

Why this shape:

- The schema is built by numbered migrations recorded in ``PRAGMA user_version``, so a
  database made by an older release upgrades in place and a newer one is refused.
- WAL mode lets the server read while an import or a curator's approval writes;
  ``synchronous=FULL`` makes a commit durable when it returns (a power cut cannot lose an
  acknowledged change, which matters once curators write over the API).
- Listings keep their canonical JSON document (what curators wrote) plus the columns the
  filters need; every accepted change appends an immutable row to ``listing_revisions``.
- ``meta.revision`` is the dataset revision: it moves once per committed change set, and the
  read path keys its caches and ETags on it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import msgspec
import sqlite_utils

from api.clock import Clock, SystemClock
from api.identity import person_key
from api.models import COUNTRY_WORLDWIDE, Listing, Topic
from api.settings import SETTINGS

__all__ = [
    "CurationWouldBeLost",
    "ExportManifest",
    "DatabaseNotReady",
    "StoreBusy",
    "ImportSummary",
    "UnsyncedChange",
    "ListingRow",
    "Visibility",
    "Store",
    "fts_query",
    "is_busy_error",
]

#: Write transactions this process has committed: the front cache (api/front_cache.py) re-reads
#: the dataset revision when it moves, so this process's own writes are seen at once.
local_commits = 0

_encoder = msgspec.json.Encoder()


class DatabaseNotReady(Exception):
    """The database file is missing, empty, or made by a newer release."""


class StoreBusy(Exception):
    """Another connection held the write lock longer than this one would wait; nothing was
    written (the transaction rolled back), and trying again later is safe."""


def is_busy_error(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED, as Python's sqlite3 reports them."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


@dataclass(frozen=True, slots=True)
class UnsyncedChange:
    """An approved change that is not in the data files and that an import would undo."""

    listing_id: str
    revision: int
    action: str
    """What was approved: create, update or retire."""
    undone_by: str
    """What the import would do to it: retire, revert or revive."""

    def __str__(self) -> str:
        return f"{self.listing_id} (revision {self.revision}, approved {self.action}; the import would {self.undone_by} it)"


class ExportManifest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What ``actiondir export`` wrote a data folder from: a database and, per listing id, the
    revision its file (or its absence, for a retired listing) reflects."""

    database: str
    listings: dict[str, int]


class CurationWouldBeLost(Exception):
    """An import would undo approved changes that were never exported to the data files."""

    def __init__(self, changes: list[UnsyncedChange]) -> None:
        super().__init__(f"{len(changes)} approved change(s) would be undone")
        self.changes = changes


@dataclass(frozen=True, slots=True)
class ListingRow:
    """A listing as stored: its document plus the server-owned fields."""

    id: str
    document: Listing
    status: str
    revision: int
    updated_at: dt.datetime
    link_status: str
    link_checked_at: dt.datetime | None
    link_hold: bool
    """Held out of the default lists: its link failed twice in a row and no reviewer has acted."""

    def public_status(self, today: dt.date) -> str:
        """active | closed (a petition past its closing day) | unverified (held) | retired."""
        if self.status == "retired":
            return "retired"
        closes_at = self.document.petition.closes_at if self.document.petition else None
        if closes_at is not None and closes_at < today:
            return "closed"
        if self.link_hold:
            return "unverified"
        return "active"


@dataclass(frozen=True, slots=True)
class Visibility:
    """Which listings the public lists show: by default neither closed petitions nor held ones."""

    today: dt.date
    include_closed: bool = False
    include_unverified: bool = False

    def where(self, alias: str = "") -> tuple[str, list[object]]:
        a = f"{alias}." if alias else ""
        return (
            f"{a}status = 'active' and (? or {a}link_hold = 0) and (? or {a}closes_at is null or {a}closes_at >= ?)",
            [int(self.include_unverified), int(self.include_closed), self.today.isoformat()],
        )


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: int
    name: str
    person: str
    """The four-eyes identity of ``name`` (``api.identity.person_key``)."""
    role: str
    hash: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class SubmissionRow:
    id: int
    action: str
    listing_id: str
    base_revision: int | None
    document: Listing | None
    note: str
    sources: list[str]
    status: str
    submitted_by: int
    submitter_name: str
    submitter_person: str
    submitted_at: dt.datetime
    decided_by: int | None
    decider_name: str | None
    decided_at: dt.datetime | None
    reason: str | None
    applied_revision: int | None


@dataclass(frozen=True, slots=True)
class RevisionRow:
    seq: int
    listing_id: str
    revision: int
    action: str
    document: Listing
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ReportRow:
    id: int
    listing_id: str
    reason: str
    details: str | None
    status: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    resolution: str | None


@dataclass(frozen=True, slots=True)
class ImportSummary:
    created: int
    updated: int
    retired: int
    unchanged: int
    topics_changed: bool
    revision: int

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired or self.topics_changed)


# --- Migrations ---------------------------------------------------------------------------------

def _m1_initial(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["meta"].insert({"key": "revision", "value": "0"})
    db["topics"].create({"id": str, "position": int, "labels": str}, pk="id")
    db["listings"].create(
        {
            "id": str,
            "kind": str,
            "status": str,
            "worldwide": int,
            "revision": int,
            "updated_at": str,
            "document": str,
            "link_status": str,
            "link_checked_at": str,
        },
        pk="id",
        not_null={"kind", "status", "worldwide", "revision", "updated_at", "document", "link_status"},
        defaults={"link_status": "unchecked"},
    )
    db["listings"].create_index(["status", "worldwide", "id"])
    db["listings"].create_index(["kind", "status"])
    db["listing_countries"].create(
        {"country": str, "listing_id": str},
        pk=("country", "listing_id"),
        foreign_keys=[("listing_id", "listings", "id")],
    )
    db["listing_countries"].create_index(["listing_id"])
    db["listing_topics"].create(
        {"topic": str, "listing_id": str},
        pk=("topic", "listing_id"),
        foreign_keys=[("listing_id", "listings", "id"), ("topic", "topics", "id")],
    )
    db["listing_topics"].create_index(["listing_id"])
    db["listing_revisions"].create(
        {
            "seq": int,
            "listing_id": str,
            "revision": int,
            "action": str,
            "document": str,
            "created_at": str,
        },
        pk="seq",
        not_null={"listing_id", "revision", "action", "document", "created_at"},
    )
    db["listing_revisions"].create_index(["listing_id", "revision"], unique=True)
    # One row per listing and language; diacritics-insensitive so "Sao Paulo" finds "São Paulo".
    db.execute(
        "create virtual table listing_text using fts5("
        "listing_id unindexed, lang unindexed, title, summary, "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )


def _m2_curation(db: sqlite_utils.Database) -> None:
    db["tokens"].create(
        {
            "id": int,
            "name": str,
            "role": str,
            "hash": str,
            "created_at": str,
            "expires_at": str,
            "last_used_at": str,
            "revoked_at": str,
        },
        pk="id",
        not_null={"name", "role", "hash", "created_at"},
    )
    db["tokens"].create_index(["hash"], unique=True)
    db["submissions"].create(
        {
            "id": int,
            "action": str,
            "listing_id": str,
            "base_revision": int,
            "document": str,
            "note": str,
            "sources": str,
            "status": str,
            "submitted_by": int,
            "submitted_at": str,
            "decided_by": int,
            "decided_at": str,
            "reason": str,
            "applied_revision": int,
        },
        pk="id",
        not_null={"action", "listing_id", "note", "sources", "status", "submitted_by", "submitted_at"},
        foreign_keys=[("submitted_by", "tokens", "id"), ("decided_by", "tokens", "id")],
    )
    db["submissions"].create_index(["status", "id"])
    db["submissions"].create_index(["submitted_by", "id"])
    db["reports"].create(
        {
            "id": int,
            "listing_id": str,
            "reason": str,
            "details": str,
            "status": str,
            "created_at": str,
            "resolved_at": str,
            "resolved_by": int,
            "resolution": str,
        },
        pk="id",
        not_null={"listing_id", "reason", "status", "created_at"},
        foreign_keys=[("listing_id", "listings", "id"), ("resolved_by", "tokens", "id")],
    )
    db["reports"].create_index(["status", "id"])
    db["audit"].create(
        {"id": int, "at": str, "actor": str, "action": str, "target": str, "details": str},
        pk="id",
        not_null={"at", "actor", "action", "target", "details"},
    )


def _m3_link_checks(db: sqlite_utils.Database) -> None:
    # One row per automated check of a listing's url; listings.link_status/link_checked_at
    # keep the latest one for the read path.
    db["link_checks"].create(
        {
            "id": int,
            "listing_id": str,
            "checked_at": str,
            "status": str,
            "http_status": int,
            "final_url": str,
            "needs_review": int,
            "detail": str,
        },
        pk="id",
        not_null={"listing_id", "checked_at", "status", "needs_review", "detail"},
        defaults={"needs_review": 0, "detail": ""},
        foreign_keys=[("listing_id", "listings", "id")],
    )
    db["link_checks"].create_index(["listing_id", "checked_at"])


def _m4_lifecycle(db: sqlite_utils.Database) -> None:
    # What decides whether a listing is in the default public lists, as columns the filters
    # can use: a petition's closing day, and a hold after two broken link checks in a row.
    db["listings"].add_column("closes_at", str)
    db["listings"].add_column("link_hold", int, not_null_default=0)
    db.execute("update listings set closes_at = json_extract(document, '$.petition.closes_at')")
    db["listings"].create_index(["status", "link_hold", "closes_at"])


def _m5_provenance(db: sqlite_utils.Database) -> None:
    # Where each revision came from ("import" or "curation"): `actiondir import` refuses to undo
    # an approved change that the files it reads were not written from (see replace_dataset).
    db["listing_revisions"].add_column("origin", str, not_null_default="import")
    db.execute(
        "update listing_revisions set origin = 'curation' where exists (select 1 from submissions s "
        "where s.status = 'approved' and s.listing_id = listing_revisions.listing_id "
        "and s.applied_revision = listing_revisions.revision)"
    )
    # Which database an export came from: a data folder's manifest is trusted only by it.
    db["meta"].insert({"key": "database_id", "value": uuid.uuid4().hex})
    # The revision seq at which a listing last moved between the country and worldwide groups
    # (0: never): a listing cursor leaves out a listing that moved from before it to after it.
    db["listings"].add_column("moved_seq", int, not_null_default=0)
    # The person behind each token, as the four-eyes rule compares them (api.identity).
    db["tokens"].add_column("person", str)
    for token_id, name in db.execute("select id, name from tokens").fetchall():
        db.execute("update tokens set person = ? where id = ?", (person_key(name), token_id))
    db["tokens"].create_index(["person"])


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (
    _m1_initial,
    _m2_curation,
    _m3_link_checks,
    _m4_lifecycle,
    _m5_provenance,
)
SCHEMA_VERSION = len(MIGRATIONS)


#: How long a write waits for another connection's lock unless the caller says (the setting's default).
DEFAULT_WRITE_WAIT_MS: int = next(s.default for s in SETTINGS if s.name == "write_wait_ms")

#: Consecutive failed link checks after which a listing leaves the default public lists.
LINK_HOLD_AFTER = 2


def fold(text: str) -> str:
    """Text as the search index sees it: without diacritics in any script, without controls.

    SQLite's ``remove_diacritics`` folds Latin letters only; decomposing in Python and dropping
    combining marks also folds Cyrillic (ё -> е) and Greek (ή -> η), on both the indexed text and
    the query, so they meet.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(
        " " if unicodedata.category(ch) == "Cc" else ch
        for ch in decomposed
        if not unicodedata.combining(ch)
    )
    return unicodedata.normalize("NFC", kept)


def fts_query(text: str) -> str | None:
    """Turn free text into a safe FTS5 query: every word must match, the last as a prefix.

    Each token is quoted, so FTS5 operators typed by a user (``OR``, ``NEAR``, ``*``, ``"``)
    are searched as words, never parsed as syntax.
    """
    words = [w.replace('"', "") for w in fold(text).split()]
    words = [w for w in words if w]
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


class _DatasetStore:
    """The listings, topics and search index; see ``Store``."""

    def __init__(
        self,
        path: Path | str,
        *,
        create: bool = False,
        busy_timeout_ms: int = DEFAULT_WRITE_WAIT_MS,
        clock: Clock | None = None,
    ) -> None:
        """Open (``create``: or create and migrate) the database. ``busy_timeout_ms``: how long a
        write waits for another connection's write lock (callers pass the ``write_wait_ms`` setting).
        ``clock`` stamps every row this store writes (the app passes its own, so tests move it)."""
        self.clock: Clock = clock or SystemClock()
        path = Path(path)
        if not create and not path.exists():
            raise DatabaseNotReady(
                f"database {path} does not exist: run `actiondir import` to build it"
            )
        self.path = path
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.OperationalError as exc:
            raise DatabaseNotReady(f"cannot open database {path}: {exc}") from None
        self.db = sqlite_utils.Database(conn)
        self.conn = conn
        try:
            conn.execute(f"pragma busy_timeout = {int(busy_timeout_ms):d}")
            conn.execute("pragma journal_mode = wal")
            conn.execute("pragma synchronous = full")
            conn.execute("pragma foreign_keys = on")
            self._migrate(create=create)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise DatabaseNotReady(f"{path} is not a usable SQLite database ({exc}): delete it and run `actiondir import`") from None
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        self.conn.close()

    def now(self) -> dt.datetime:
        """The store's clock to the second: what it stamps rows with."""
        return self.clock.now().replace(microsecond=0)

    # --- schema ---------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return self.conn.execute("pragma user_version").fetchone()[0]

    def _migrate(self, *, create: bool) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise DatabaseNotReady(
                f"database {self.path} has schema version {version}, newer than this release "
                f"knows ({SCHEMA_VERSION}): run a newer release, or delete the file and run `actiondir import`"
            )
        if version == 0 and not create:
            raise DatabaseNotReady(f"database {self.path} is empty: run `actiondir import`")
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                migration(self.db)
                self.conn.execute(f"pragma user_version = {number:d}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: all of it commits, or none of it does."""
        self.conn.execute("begin immediate")
        try:
            yield
        except BaseException:
            self.conn.execute("rollback")
            raise
        else:
            self.conn.execute("commit")
            global local_commits
            local_commits += 1

    # --- reads ----------------------------------------------------------------------------

    def get_revision(self) -> int:
        """The dataset revision; cheap enough to ask on every request."""
        return int(self.conn.execute("select value from meta where key = 'revision'").fetchone()[0])

    def list_topics(self) -> list[Topic]:
        rows = self.conn.execute("select id, labels from topics order by position, id")
        return [Topic(id=r[0], labels=json.loads(r[1])) for r in rows]

    def count_listings_by_topic(self, visibility: Visibility | None = None) -> dict[str, int]:
        where, params = visibility.where("l") if visibility else ("l.status = 'active'", [])
        rows = self.conn.execute(
            "select t.topic, count(*) from listing_topics t join listings l on l.id = t.listing_id "
            f"where {where} group by t.topic",
            params,
        )
        return dict(rows.fetchall())

    def count_listings_by_country(self, visibility: Visibility | None = None) -> dict[str, dict[str, int]]:
        """Listings per country and kind (``XX`` holds the worldwide ones); all non-retired
        ones, or those ``visibility`` shows."""
        where, params = visibility.where("l") if visibility else ("l.status = 'active'", [])
        rows = self.conn.execute(
            "select c.country, l.kind, count(*) from listing_countries c "
            f"join listings l on l.id = c.listing_id where {where} "
            "group by c.country, l.kind",
            params,
        )
        counts: dict[str, dict[str, int]] = {}
        for country, kind, n in rows:
            counts.setdefault(country, {})[kind] = n
        return counts

    def count_active_listings(self) -> int:
        """Listings not retired (whatever their lifecycle state)."""
        return self.conn.execute("select count(*) from listings where status = 'active'").fetchone()[0]

    def get_listing(self, listing_id: str) -> ListingRow | None:
        row = self.conn.execute(_LISTING_COLUMNS + " where id = ?", (listing_id,)).fetchone()
        return None if row is None else _listing_row(row)

    def list_listings(
        self,
        *,
        country: str | None = None,
        include_worldwide: bool = True,
        kind: str | None = None,
        topic: str | None = None,
        q: str | None = None,
        after: tuple[int, str] | None = None,
        since_seq: int | None = None,
        limit: int = 20,
        visibility: Visibility | None = None,
    ) -> list[ListingRow]:
        """Listings matching every given filter, in (worldwide, id) order, after a keyset.

        Order: listings for specific countries first, then worldwide ones; by id within
        each group. Keyset pagination on that pair means a page boundary survives changes
        to the dataset: nothing is skipped that was not changed. A listing that moved between
        the groups could come round again, so with ``since_seq`` (the latest revision when the
        pagination began) a listing that moved since then from a position at or before the
        cursor is left out: it may have been served already. Without ``visibility``, every
        listing that is not retired.
        """
        visible, visible_params = visibility.where() if visibility else ("status = 'active'", [])
        where = [visible]
        params: list[object] = list(visible_params)
        if country is not None:
            countries = [country]
            if include_worldwide and country != COUNTRY_WORLDWIDE:
                countries.append(COUNTRY_WORLDWIDE)
            where.append(
                "id in (select listing_id from listing_countries where country in "
                f"({', '.join('?' * len(countries))}))"
            )
            params.extend(countries)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if topic is not None:
            where.append("id in (select listing_id from listing_topics where topic = ?)")
            params.append(topic)
        if q is not None:
            match = fts_query(q)
            if match is None:
                return []
            where.append("id in (select listing_id from listing_text where listing_text match ?)")
            params.append(match)
        if after is not None:
            where.append("(worldwide, id) > (?, ?)")
            params.extend(after)
        if since_seq is not None and after is not None:
            # Moved between the groups since the pagination began, from a position at or before
            # the cursor: it may have been served already, so it is not served again.
            where.append("not (moved_seq > ? and (1 - worldwide, id) <= (?, ?))")
            params.extend([since_seq, *after])
        sql = f"{_LISTING_COLUMNS} where {' and '.join(where)} order by worldwide, id limit ?"
        params.append(limit)
        return [_listing_row(r) for r in self.conn.execute(sql, params)]

    def iter_listings(self, *, statuses: Iterable[str] = ("active",)) -> Iterator[ListingRow]:
        statuses = tuple(statuses)
        sql = (
            f"{_LISTING_COLUMNS} where status in ({', '.join('?' * len(statuses))}) "
            "order by worldwide, id"
        )
        for row in self.conn.execute(sql, statuses):
            yield _listing_row(row)

    # --- writes ---------------------------------------------------------------------------

    def replace_dataset(
        self,
        listings: list[Listing],
        topics: list[Topic],
        *,
        progress: Callable[[int], None] | None = None,
        written_from: ExportManifest | None = None,
        force: bool = False,
    ) -> ImportSummary:
        """Make the stored dataset equal to ``listings`` and ``topics``, in one transaction.

        Unchanged listings keep their revision; changed ones get a new immutable revision;
        listings absent from the input are retired (kept, with their history). The dataset
        revision moves once if anything changed, and not at all otherwise.

        Once curators work, the database is the source of truth. A listing whose current
        revision is an approved change is protected: unless ``written_from`` (the manifest
        ``actiondir export`` left beside the files) says its file was written from that very
        revision of this database, an import that would revert, retire or revive it raises
        ``CurationWouldBeLost`` and writes nothing, unless ``force``.
        """
        now = self.now()
        created = updated = retired = unchanged = 0
        with self.transaction():
            old_topics = self.list_topics()
            topics_changed = old_topics != topics
            current = {
                row[0]: (row[1], row[2], row[3])
                for row in self.conn.execute("select id, document, revision, status from listings")
            }
            documents = {listing.id: _encoder.encode(listing).decode() for listing in listings}
            if not force:
                lost = self._curation_undone(current, documents, written_from)
                if lost:
                    raise CurationWouldBeLost(lost)
            if topics_changed:
                self._upsert_topics(topics)
            for listing in listings:
                document = documents[listing.id]
                old = current.get(listing.id)
                if old is not None and old[0] == document and old[2] != "retired":
                    unchanged += 1
                else:
                    action = "create" if old is None else "update"
                    self._write_listing(listing, document, (old[1] if old else 0) + 1, action, now)
                    created += old is None
                    updated += old is not None
                if progress is not None:
                    progress(1)
            for listing_id, (document, revision, status) in current.items():
                if listing_id not in documents and status != "retired":
                    self._retire_listing(listing_id, document, revision + 1, now)
                    retired += 1
            if topics_changed:  # only now: no listing refers to a removed topic any more
                self._remove_topics_except([t.id for t in topics])
            if created or updated or retired or topics_changed:
                self._bump_revision()
            revision = self.get_revision()
        return ImportSummary(created, updated, retired, unchanged, topics_changed, revision)

    def _curation_undone(
        self, current: dict[str, tuple[str, int, str]], incoming: dict[str, str], written_from: ExportManifest | None
    ) -> list[UnsyncedChange]:
        """Approved changes the files were not written from, which importing them would undo."""
        based_on = written_from.listings if written_from and written_from.database == self.database_id() else {}
        rows = self.conn.execute(
            "select l.id, l.revision, r.action from listings l join listing_revisions r "
            "on r.listing_id = l.id and r.revision = l.revision where r.origin = 'curation' order by l.id"
        ).fetchall()
        lost = []
        for listing_id, revision, action in rows:
            if based_on.get(listing_id) == revision:
                continue  # exported from this revision: the file's differences are newer edits
            document, _, status = current[listing_id]
            if status == "retired":
                undone_by = "revive" if listing_id in incoming else None
            elif listing_id not in incoming:
                undone_by = "retire"
            else:
                undone_by = "revert" if incoming[listing_id] != document else None
            if undone_by:
                lost.append(UnsyncedChange(listing_id, revision, action, undone_by))
        return lost

    def last_seq(self) -> int:
        """The sequence number of the latest listing revision (0 when there is none)."""
        return int(self.conn.execute("select coalesce(max(seq), 0) from listing_revisions").fetchone()[0])

    def database_id(self) -> str:
        """This database's identity (a random id made once), named in export manifests."""
        return str(self.conn.execute("select value from meta where key = 'database_id'").fetchone()[0])

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """Several reads that see one state of the database (a deferred read transaction)."""
        self.conn.execute("begin")
        try:
            yield
        finally:
            self.conn.execute("commit")

    def export_manifest(self) -> ExportManifest:
        """What an export writes from: this database and every listing's current revision."""
        revisions = dict(self.conn.execute("select id, revision from listings order by id").fetchall())
        return ExportManifest(database=self.database_id(), listings=revisions)

    def _bump_revision(self) -> None:
        self.conn.execute("update meta set value = cast(value as integer) + 1 where key = 'revision'")

    def _remove_topics_except(self, keep: list[str]) -> None:
        self.conn.execute(f"delete from topics where id not in ({', '.join('?' * len(keep))})", keep)

    def _upsert_topics(self, topics: list[Topic]) -> None:
        self.db["topics"].upsert_all(
            (
                {"id": t.id, "position": i, "labels": json.dumps(t.labels, ensure_ascii=False)}
                for i, t in enumerate(topics)
            ),
            pk="id",
        )

    def _write_listing(
        self, listing: Listing, document: str, revision: int, action: str, now: dt.datetime, *, origin: str = "import"
    ) -> None:
        stamp = now.isoformat()
        worldwide = int(listing.countries == [COUNTRY_WORLDWIDE])
        before = self.conn.execute("select worldwide from listings where id = ?", (listing.id,)).fetchone()
        self.db["listings"].upsert(
            {
                "id": listing.id,
                "kind": listing.kind,
                "status": "active",
                "worldwide": worldwide,
                "revision": revision,
                "updated_at": stamp,
                "document": document,
                "closes_at": listing.petition.closes_at.isoformat()
                if listing.petition and listing.petition.closes_at
                else None,
                "link_hold": 0,  # an accepted change is a reviewer's act: the hold is released
            },
            pk="id",
        )
        self.conn.execute("delete from listing_countries where listing_id = ?", (listing.id,))
        self.conn.executemany(
            "insert into listing_countries (country, listing_id) values (?, ?)",
            [(c, listing.id) for c in dict.fromkeys(listing.countries)],
        )
        self.conn.execute("delete from listing_topics where listing_id = ?", (listing.id,))
        self.conn.executemany(
            "insert into listing_topics (topic, listing_id) values (?, ?)",
            [(t, listing.id) for t in dict.fromkeys(listing.topics)],
        )
        self.conn.execute("delete from listing_text where listing_id = ?", (listing.id,))
        self.conn.executemany(
            "insert into listing_text (listing_id, lang, title, summary) values (?, ?, ?, ?)",
            [(listing.id, lang, fold(t.title), fold(t.summary)) for lang, t in listing.translations.items()],
        )
        seq = self._add_revision(listing.id, revision, action, document, stamp, origin=origin)
        if before is not None and before[0] != worldwide:
            self.conn.execute("update listings set moved_seq = ? where id = ?", (seq, listing.id))

    def _retire_listing(
        self, listing_id: str, document: str, revision: int, now: dt.datetime, *, origin: str = "import"
    ) -> None:
        stamp = now.isoformat()
        self.conn.execute(
            "update listings set status = 'retired', revision = ?, updated_at = ? where id = ?",
            (revision, stamp, listing_id),
        )
        # A retired listing leaves every index: filters, search, and the taxonomy's references.
        for table in ("listing_text", "listing_countries", "listing_topics"):
            self.conn.execute(f"delete from {table} where listing_id = ?", (listing_id,))  # noqa: S608 - fixed names
        self._add_revision(listing_id, revision, "retire", document, stamp, origin=origin)

    def _add_revision(self, listing_id: str, revision: int, action: str, document: str, stamp: str, *, origin: str) -> int:
        cursor = self.conn.execute(
            "insert into listing_revisions (listing_id, revision, action, document, created_at, origin) "
            "values (?, ?, ?, ?, ?, ?)",
            (listing_id, revision, action, document, stamp, origin),
        )
        return int(cursor.lastrowid)


_LISTING_COLUMNS = (
    "select id, document, status, revision, updated_at, link_status, link_checked_at, link_hold from listings"
)
_listing_decoder = msgspec.json.Decoder(Listing)


def _listing_row(row: tuple) -> ListingRow:
    return ListingRow(
        id=row[0],
        document=_listing_decoder.decode(row[1]),
        status=row[2],
        revision=row[3],
        updated_at=dt.datetime.fromisoformat(row[4]),
        link_status=row[5],
        link_checked_at=dt.datetime.fromisoformat(row[6]) if row[6] else None,
        link_hold=bool(row[7]),
    )


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


class Store(_DatasetStore):
    """One SQLite database. Not thread-safe: use one Store per thread or process.

    The dataset methods come from ``_DatasetStore``; here are tokens, submissions, decisions,
    reports, history and the audit trail.

    Methods that write expect to run inside ``transaction()``, so a caller can make a
    decision, the listing change it applies and the audit record one atomic unit.
    """

    # --- tokens ---------------------------------------------------------------------------

    def add_token(self, *, name: str, role: str, token_hash: str, expires_at: dt.datetime | None) -> int:
        cursor = self.conn.execute(
            "insert into tokens (name, person, role, hash, created_at, expires_at) values (?, ?, ?, ?, ?, ?)",
            (name, person_key(name), role, token_hash, self.now().isoformat(), expires_at.isoformat() if expires_at else None),
        )
        return int(cursor.lastrowid)

    def get_token_by_hash(self, token_hash: str) -> TokenRow | None:
        row = self.conn.execute(_TOKEN_COLUMNS + " where hash = ?", (token_hash,)).fetchone()
        return None if row is None else _token_row(row)

    def get_token(self, token_id: int) -> TokenRow | None:
        row = self.conn.execute(_TOKEN_COLUMNS + " where id = ?", (token_id,)).fetchone()
        return None if row is None else _token_row(row)

    def list_tokens(self) -> list[TokenRow]:
        return [_token_row(r) for r in self.conn.execute(_TOKEN_COLUMNS + " order by id")]

    def touch_token(self, token_id: int, now: dt.datetime) -> None:
        """Record use, at most once a minute per token (not a write per request)."""
        cutoff = (now - dt.timedelta(minutes=1)).isoformat()
        self.conn.execute(
            "update tokens set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)",
            (now.replace(microsecond=0).isoformat(), token_id, cutoff),
        )

    def revoke_token(self, token_id: int) -> bool:
        cursor = self.conn.execute(
            "update tokens set revoked_at = ? where id = ? and revoked_at is null", (self.now().isoformat(), token_id)
        )
        return cursor.rowcount == 1

    # --- submissions ----------------------------------------------------------------------

    def add_submission(
        self,
        *,
        action: str,
        listing_id: str,
        base_revision: int | None,
        document: Listing | None,
        note: str,
        sources: list[str],
        submitted_by: int,
    ) -> int:
        cursor = self.conn.execute(
            "insert into submissions (action, listing_id, base_revision, document, note, sources, status, "
            "submitted_by, submitted_at) values (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            (
                action,
                listing_id,
                base_revision,
                _encoder.encode(document).decode() if document is not None else None,
                note,
                json.dumps(sources),
                submitted_by,
                self.now().isoformat(),
            ),
        )
        return int(cursor.lastrowid)

    def get_submission(self, submission_id: int) -> SubmissionRow | None:
        row = self.conn.execute(_SUBMISSION_COLUMNS + " where s.id = ?", (submission_id,)).fetchone()
        return None if row is None else _submission_row(row)

    def list_submissions(
        self, *, status: str | None, submitter_person: str | None, after_id: int | None, limit: int
    ) -> list[SubmissionRow]:
        """Oldest first (a queue), keyset on id; ``submitter_person`` limits to one person's."""
        where, params = ["1 = 1"], []
        if status is not None:
            where.append("s.status = ?")
            params.append(status)
        if submitter_person is not None:
            where.append("t.person = ?")
            params.append(submitter_person)
        if after_id is not None:
            where.append("s.id > ?")
            params.append(after_id)
        params.append(limit)
        sql = f"{_SUBMISSION_COLUMNS} where {' and '.join(where)} order by s.id limit ?"
        return [_submission_row(r) for r in self.conn.execute(sql, params)]

    def decide_submission(
        self, submission_id: int, *, status: str, decided_by: int, reason: str, applied_revision: int | None
    ) -> bool:
        """Mark a pending submission decided; False when it was no longer pending."""
        cursor = self.conn.execute(
            "update submissions set status = ?, decided_by = ?, decided_at = ?, reason = ?, applied_revision = ? "
            "where id = ? and status = 'pending'",
            (status, decided_by, self.now().isoformat(), reason, applied_revision, submission_id),
        )
        return cursor.rowcount == 1

    def apply_listing(self, listing: Listing) -> int:
        """Create or update a listing as one new revision; returns that revision."""
        row = self.conn.execute("select revision from listings where id = ?", (listing.id,)).fetchone()
        revision = (row[0] if row else 0) + 1
        self._write_listing(
            listing, _encoder.encode(listing).decode(), revision, "create" if row is None else "update", self.now(),
            origin="curation",
        )
        self._bump_revision()
        return revision

    def retire_listing(self, listing_id: str) -> int:
        row = self.conn.execute("select document, revision from listings where id = ?", (listing_id,)).fetchone()
        revision = row[1] + 1
        self._retire_listing(listing_id, row[0], revision, self.now(), origin="curation")
        self._bump_revision()
        return revision

    # --- history and the changes feed -----------------------------------------------------

    def list_listing_revisions(self, listing_id: str) -> list[RevisionRow]:
        rows = self.conn.execute(_REVISION_COLUMNS + " where listing_id = ? order by revision", (listing_id,))
        return [_revision_row(r) for r in rows]

    def list_changes(self, *, after_seq: int, limit: int) -> list[RevisionRow]:
        rows = self.conn.execute(_REVISION_COLUMNS + " where seq > ? order by seq limit ?", (after_seq, limit))
        return [_revision_row(r) for r in rows]

    # --- reports --------------------------------------------------------------------------

    def add_report(self, *, listing_id: str, reason: str, details: str | None) -> int:
        cursor = self.conn.execute(
            "insert into reports (listing_id, reason, details, status, created_at) values (?, ?, ?, 'open', ?)",
            (listing_id, reason, details, self.now().isoformat()),
        )
        return int(cursor.lastrowid)

    def get_report(self, report_id: int) -> ReportRow | None:
        row = self.conn.execute(_REPORT_COLUMNS + " where id = ?", (report_id,)).fetchone()
        return None if row is None else _report_row(row)

    def list_reports(self, *, status: str | None, after_id: int | None, limit: int) -> list[ReportRow]:
        where, params = ["1 = 1"], []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if after_id is not None:
            where.append("id > ?")
            params.append(after_id)
        params.append(limit)
        sql = f"{_REPORT_COLUMNS} where {' and '.join(where)} order by id limit ?"
        return [_report_row(r) for r in self.conn.execute(sql, params)]

    def resolve_report(self, report_id: int, *, resolved_by: int, resolution: str) -> bool:
        cursor = self.conn.execute(
            "update reports set status = 'resolved', resolved_at = ?, resolved_by = ?, resolution = ? "
            "where id = ? and status = 'open'",
            (self.now().isoformat(), resolved_by, resolution, report_id),
        )
        return cursor.rowcount == 1

    # --- audit ----------------------------------------------------------------------------

    def add_audit(self, *, actor: str, action: str, target: str, details: dict[str, object]) -> None:
        self.conn.execute(
            "insert into audit (at, actor, action, target, details) values (?, ?, ?, ?, ?)",
            (self.now().isoformat(), actor, action, target, json.dumps(details, ensure_ascii=False, sort_keys=True)),
        )

    def list_audit(self) -> list[dict[str, object]]:
        rows = self.conn.execute("select id, at, actor, action, target, details from audit order by id")
        return [
            {"id": r[0], "at": r[1], "actor": r[2], "action": r[3], "target": r[4], "details": json.loads(r[5])}
            for r in rows
        ]

    # --- link checks ----------------------------------------------------------------------
    #
    # A listing's link status is server-owned: recording a check writes no listing revision and
    # no entry in the changes feed (the curated document did not change). It does change what
    # the public API serves (`link_check` on every listing view), so the dataset revision must
    # move or the per-revision response caches and ETags would keep serving the old status.
    # It moves once per check run (`finish_link_check_run`), not once per listing: one run may
    # check hundreds of links, and each bump empties every process's response cache.

    def listings_to_check(
        self, *, country: str | None = None, checked_before: dt.datetime | None = None
    ) -> list[tuple[str, str]]:
        """(id, url) of active listings, by id; optionally only those of one country (worldwide
        ones are not included then), and only those never checked or last checked before
        ``checked_before``."""
        where, params = ["l.status = 'active'"], []
        if country is not None:
            where.append("l.id in (select listing_id from listing_countries where country = ?)")
            params.append(country)
        if checked_before is not None:
            where.append("(l.link_checked_at is null or l.link_checked_at < ?)")
            params.append(checked_before.astimezone(dt.UTC).replace(microsecond=0).isoformat())
        sql = f"select l.id, l.document from listings l where {' and '.join(where)} order by l.id"
        return [(r[0], _listing_decoder.decode(r[1]).url) for r in self.conn.execute(sql, params)]

    def add_link_check(
        self,
        *,
        listing_id: str,
        checked_at: dt.datetime,
        status: str,
        http_status: int | None,
        final_url: str | None,
        needs_review: bool,
        detail: str = "",
    ) -> int:
        """Record one check and make it the listing's current link status, in one transaction
        (the caller's, if one is open). The dataset revision is left to
        ``finish_link_check_run``."""
        stamp = checked_at.astimezone(dt.UTC).replace(microsecond=0).isoformat()
        with contextlib.nullcontext() if self.conn.in_transaction else self.transaction():
            cursor = self.conn.execute(
                "insert into link_checks (listing_id, checked_at, status, http_status, final_url, needs_review, detail) "
                "values (?, ?, ?, ?, ?, ?, ?)",
                (listing_id, stamp, status, http_status, final_url, int(needs_review), detail),
            )
            self.conn.execute(
                "update listings set link_status = ?, link_checked_at = ? where id = ?", (status, stamp, listing_id)
            )
            if self.consecutive_broken(listing_id) >= LINK_HOLD_AFTER:
                # Broken twice in a row: out of the default lists until a reviewer acts.
                self.conn.execute("update listings set link_hold = 1 where id = ?", (listing_id,))
        return int(cursor.lastrowid)

    def release_link_hold(self, listing_id: str) -> bool:
        """A reviewer vouches for the listing again; False when it was not held."""
        cursor = self.conn.execute("update listings set link_hold = 0 where id = ? and link_hold = 1", (listing_id,))
        if cursor.rowcount:
            self._bump_revision()
        return cursor.rowcount == 1

    def list_held_listings(self) -> list[str]:
        return [r[0] for r in self.conn.execute("select id from listings where link_hold = 1 and status = 'active' order by id")]

    def finish_link_check_run(self, recorded: int) -> int:
        """End a run that recorded ``recorded`` checks: move the dataset revision once when it
        recorded any, so caches stop serving the old link statuses. Returns the revision."""
        if recorded:
            with contextlib.nullcontext() if self.conn.in_transaction else self.transaction():
                self._bump_revision()
        return self.get_revision()

    def list_link_checks(self, listing_id: str, limit: int = 20) -> list[LinkCheckRow]:
        """A listing's checks, newest first."""
        rows = self.conn.execute(
            _LINK_CHECK_COLUMNS + " where listing_id = ? order by checked_at desc, id desc limit ?", (listing_id, limit)
        )
        return [_link_check_row(r) for r in rows]

    def consecutive_broken(self, listing_id: str) -> int:
        """How many of the listing's latest checks in a row failed (``broken`` or
        ``unreachable``); 0 when the latest succeeded or there is none."""
        row = self.conn.execute(
            "select count(*) from link_checks where listing_id = ? and status in ('broken', 'unreachable') "
            "and id > coalesce((select max(id) from link_checks where listing_id = ? "
            "and status not in ('broken', 'unreachable')), 0)",
            (listing_id, listing_id),
        ).fetchone()
        return int(row[0])


@dataclass(frozen=True, slots=True)
class LinkCheckRow:
    id: int
    listing_id: str
    checked_at: dt.datetime
    status: str
    http_status: int | None
    final_url: str | None
    needs_review: bool
    detail: str


_LINK_CHECK_COLUMNS = (
    "select id, listing_id, checked_at, status, http_status, final_url, needs_review, detail from link_checks"
)


def _link_check_row(r: tuple) -> LinkCheckRow:
    return LinkCheckRow(r[0], r[1], _when(r[2]), r[3], r[4], r[5], bool(r[6]), r[7])  # type: ignore[arg-type]


_TOKEN_COLUMNS = "select id, name, person, role, hash, created_at, expires_at, last_used_at, revoked_at from tokens"
_SUBMISSION_COLUMNS = (
    "select s.id, s.action, s.listing_id, s.base_revision, s.document, s.note, s.sources, s.status, "
    "s.submitted_by, t.name, t.person, s.submitted_at, s.decided_by, d.name, s.decided_at, s.reason, s.applied_revision "
    "from submissions s join tokens t on t.id = s.submitted_by left join tokens d on d.id = s.decided_by"
)
_REVISION_COLUMNS = "select seq, listing_id, revision, action, document, created_at from listing_revisions"
_REPORT_COLUMNS = "select id, listing_id, reason, details, status, created_at, resolved_at, resolution from reports"


def _token_row(r: tuple) -> TokenRow:
    return TokenRow(r[0], r[1], r[2], r[3], r[4], _when(r[5]), _when(r[6]), _when(r[7]), _when(r[8]))  # type: ignore[arg-type]


def _submission_row(r: tuple) -> SubmissionRow:
    return SubmissionRow(
        id=r[0],
        action=r[1],
        listing_id=r[2],
        base_revision=r[3],
        document=_listing_decoder.decode(r[4]) if r[4] else None,
        note=r[5],
        sources=json.loads(r[6]),
        status=r[7],
        submitted_by=r[8],
        submitter_name=r[9],
        submitter_person=r[10],
        submitted_at=_when(r[11]),  # type: ignore[arg-type]
        decided_by=r[12],
        decider_name=r[13],
        decided_at=_when(r[14]),
        reason=r[15],
        applied_revision=r[16],
    )


def _revision_row(r: tuple) -> RevisionRow:
    return RevisionRow(r[0], r[1], r[2], r[3], _listing_decoder.decode(r[4]), _when(r[5]))  # type: ignore[arg-type]


def _report_row(r: tuple) -> ReportRow:
    return ReportRow(r[0], r[1], r[2], r[3], r[4], _when(r[5]), _when(r[6]), r[7])  # type: ignore[arg-type]
