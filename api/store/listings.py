"""Listings and topics: what the public lists read, and every accepted change as a revision.

Why this shape: a listing keeps its canonical JSON document (what curators wrote) plus the
columns the filters need (kind, countries, topics, closing day, link hold), and every accepted
change appends an immutable row to ``listing_revisions``, the history and the changes feed
read. Which listings the public lists show is a ``Visibility`` (a plain value the routes
build); the SQL it stands for is made here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

import msgspec

from api.models import COUNTRY_WORLDWIDE, DANGER_DESIGNATIONS, WITHHELD_KINDS, Listing, Topic
from api.store.db import Database
from api.store.search import fold, fts_query

__all__ = [
    "LinkStatus",
    "ListingRepository",
    "ListingRow",
    "ListingStatus",
    "PublicStatus",
    "RevisionAction",
    "RevisionRow",
    "TopicRepository",
    "Visibility",
    "review_deadline",
]

ListingStatus = Literal["active", "retired"]
PublicStatus = Literal["active", "closed", "unverified", "retired"]
LinkStatus = Literal["unchecked", "ok", "redirected", "broken", "unreachable"]
RevisionAction = Literal["create", "update", "retire"]

_encoder = msgspec.json.Encoder()
_listing_decoder = msgspec.json.Decoder(Listing)


def review_deadline(listing: Listing) -> dt.date | None:
    """The day after which a petition without a closing day leaves the default lists until a
    person re-checks it: its ``review_by``. A petition stored before ``review_by`` existed (or
    written without one) falls back to its ``next_review_at``, so none can stay listed for ever.
    None for every other listing: they close by their ``closes_at`` or never."""
    if listing.kind != "petition":
        return None
    petition = listing.petition
    if petition is not None and petition.closes_at is not None:
        return None
    if petition is not None and petition.review_by is not None:
        return petition.review_by
    return listing.verification.next_review_at


@dataclass(frozen=True, slots=True)
class Visibility:
    """Which listings the public lists show: by default neither closed petitions nor held ones,
    nor petitions past their ``review_by`` that nobody has re-checked (``unverified`` too),
    and, under a country, no donation or petition toward an organization whose support is an
    offence there (``api.models.risks``)."""

    today: dt.date
    include_closed: bool = False
    include_unverified: bool = False
    include_risky: bool = False


def _visible(visibility: Visibility | None, alias: str = "") -> tuple[str, list[object]]:
    """The SQL condition for ``visibility`` (without one: every listing not retired)."""
    a = f"{alias}." if alias else ""
    if visibility is None:
        return f"{a}status = 'active'", []
    today = visibility.today.isoformat()
    return (
        f"{a}status = 'active' and (? or ({a}link_hold = 0 and ({a}review_by is null or {a}review_by >= ?))) "
        f"and (? or {a}closes_at is null or {a}closes_at >= ?)",
        [int(visibility.include_unverified), today, int(visibility.include_closed), today],
    )


def _quoted(values: Iterable[str]) -> str:
    """Fixed names from ``api.models`` as SQL string literals (they are lower-case slugs)."""
    return ", ".join(f"'{v}'" for v in sorted(values))


#: Withheld under the country bound to ``?`` (or a column): a donation or petition toward an
#: organization with a danger designation there, read from the stored document itself, so a
#: change to a listing's legal risks is a change to its document and nothing else.
_WITHHELD = (
    f"({{a}}kind in ({_quoted(WITHHELD_KINDS)}) and exists (select 1 from json_each({{a}}document, '$.legal_risks') r "
    f"where json_extract(r.value, '$.country') = {{country}} "
    f"and json_extract(r.value, '$.designation') in ({_quoted(DANGER_DESIGNATIONS)})))"
)


def _withheld(country: str, alias: str = "") -> str:
    """The SQL condition "withheld under ``country``" (an SQL expression: ``?`` or a column)."""
    return _WITHHELD.format(a=f"{alias}." if alias else "", country=country)


class ListingRow(msgspec.Struct, frozen=True, kw_only=True):
    """A listing as stored: its document plus the server-owned fields."""

    id: str
    document: Listing
    status: ListingStatus
    revision: int
    updated_at: dt.datetime
    link_status: LinkStatus
    link_checked_at: dt.datetime | None
    link_hold: bool
    """Held out of the default lists: its link failed twice in a row and no reviewer has acted."""

    def public_status(self, today: dt.date) -> PublicStatus:
        """active | closed (a petition past its closing day) | unverified (held, or a petition
        past its ``review_by`` that nobody has re-checked) | retired."""
        if self.status == "retired":
            return "retired"
        closes_at = self.document.petition.closes_at if self.document.petition else None
        if closes_at is not None and closes_at < today:
            return "closed"
        if self.link_hold:
            return "unverified"
        deadline = review_deadline(self.document)
        if deadline is not None and deadline < today:
            return "unverified"
        return "active"


class RevisionRow(msgspec.Struct, frozen=True, kw_only=True):
    """One accepted change of a listing: the document as it became (the last one, for a retirement)."""

    seq: int
    listing_id: str
    revision: int
    action: RevisionAction
    document: Listing
    created_at: dt.datetime


_LISTING_COLUMNS = (
    "select id, document, status, revision, updated_at, link_status, link_checked_at, link_hold from listings"
)
_LISTING_DECODE = {"document": _listing_decoder.decode, "link_hold": bool}
_REVISION_COLUMNS = "select seq, listing_id, revision, action, document, created_at from listing_revisions"


class TopicRepository:
    """The taxonomy: topics in their order, with their labels per language."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self) -> list[Topic]:
        rows = self._db.execute("select id, labels from topics order by position, id")
        return [Topic(id=r[0], labels=json.loads(r[1])) for r in rows]

    def upsert(self, topics: list[Topic]) -> None:
        """Add or update ``topics``, in this order (listings may refer to them at once)."""
        self._db.executemany(
            "insert into topics (id, position, labels) values (?, ?, ?) "
            "on conflict (id) do update set position = excluded.position, labels = excluded.labels",
            [(t.id, i, json.dumps(t.labels, ensure_ascii=False)) for i, t in enumerate(topics)],
        )

    def remove_all_but(self, keep: list[str]) -> None:
        """Drop the topics not in ``keep`` (once no listing refers to them)."""
        self._db.execute(f"delete from topics where id not in ({', '.join('?' * len(keep))})", keep)


class ListingRepository:
    """Listings: reads for the public lists, counts, history, and the writes that make revisions.

    Methods that write expect to run inside the store's ``transaction()``, so a caller can make
    a decision, the listing change it applies and the audit record one atomic unit.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._active_count: tuple[int, int] | None = None

    # --- reads ----------------------------------------------------------------------------

    def get(self, listing_id: str) -> ListingRow | None:
        return self._db.fetch_one(_LISTING_COLUMNS + " where id = ?", (listing_id,), ListingRow, **_LISTING_DECODE)

    def page(
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
        listing that is not retired. Under a ``country``, ``visibility`` also withholds what
        is risky to act on there (in SQL, so pages and cursors never see it).
        """
        visible, visible_params = _visible(visibility)
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
            if visibility is not None and not visibility.include_risky and country != COUNTRY_WORLDWIDE:
                where.append(f"not {_withheld('?')}")
                params.append(country)
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
        return self._db.fetch_all(sql, params, ListingRow, **_LISTING_DECODE)

    def each(self, *, statuses: Iterable[str] = ("active",)) -> Iterator[ListingRow]:
        """Every listing with one of ``statuses``, in (worldwide, id) order, one at a time."""
        statuses = tuple(statuses)
        sql = f"{_LISTING_COLUMNS} where status in ({', '.join('?' * len(statuses))}) order by worldwide, id"
        return self._db.each(sql, statuses, ListingRow, **_LISTING_DECODE)

    def count_by_topic(self, visibility: Visibility | None = None) -> dict[str, int]:
        where, params = _visible(visibility, "l")
        rows = self._db.execute(
            "select t.topic, count(*) from listing_topics t join listings l on l.id = t.listing_id "
            f"where {where} group by t.topic",
            params,
        )
        return dict(rows.fetchall())

    def count_by_country(self, visibility: Visibility | None = None) -> dict[str, dict[str, int]]:
        """Listings per country and kind (``XX`` holds the worldwide ones); all non-retired
        ones, or those ``visibility`` shows (then not those withheld under that country)."""
        where, params = _visible(visibility, "l")
        if visibility is not None and not visibility.include_risky:
            where = f"{where} and not {_withheld('c.country', 'l')}"
        rows = self._db.execute(
            "select c.country, l.kind, count(*) from listing_countries c "
            f"join listings l on l.id = c.listing_id where {where} "
            "group by c.country, l.kind",
            params,
        )
        counts: dict[str, dict[str, int]] = {}
        for country, kind, n in rows:
            counts.setdefault(country, {})[kind] = n
        return counts

    def count_active(self) -> tuple[int, int]:
        """(the dataset revision, listings not retired at it, whatever their lifecycle state).

        Counted once per revision (every change to a listing moves it in the same transaction),
        so asking on every request (``/healthz``) costs one revision read, not a table count.
        """
        revision = self._db.revision()
        cached = self._active_count
        if cached is not None and cached[0] == revision:
            return cached
        if self._db.in_transaction:  # what this transaction has not committed is not kept
            return revision, self._count_active()
        with self._db.read_snapshot():
            counted = (self._db.revision(), self._count_active())
        self._active_count = counted
        return counted

    def _count_active(self) -> int:
        return int(self._db.scalar("select count(*) from listings where status = 'active'"))

    # --- history and the changes feed -----------------------------------------------------

    def revisions(self, listing_id: str) -> list[RevisionRow]:
        return self._db.fetch_all(
            _REVISION_COLUMNS + " where listing_id = ? order by revision", (listing_id,), RevisionRow,
            document=_listing_decoder.decode,
        )

    def changes(self, *, after_seq: int, limit: int) -> list[RevisionRow]:
        return self._db.fetch_all(
            _REVISION_COLUMNS + " where seq > ? order by seq limit ?", (after_seq, limit), RevisionRow,
            document=_listing_decoder.decode,
        )

    def last_seq(self) -> int:
        """The sequence number of the latest listing revision (0 when there is none)."""
        return int(self._db.scalar("select coalesce(max(seq), 0) from listing_revisions"))

    # --- writes ---------------------------------------------------------------------------

    def apply(self, listing: Listing) -> int:
        """Create or update a listing as one new revision (an approved change); returns that revision."""
        current = self._db.scalar("select revision from listings where id = ?", (listing.id,))
        revision = (current or 0) + 1
        self.write_revision(
            listing, _encoder.encode(listing).decode(), revision, "create" if current is None else "update",
            self._db.now(), origin="curation",
        )
        self._db.bump_revision()
        return revision

    def retire(self, listing_id: str) -> int:
        """Retire a listing as one new revision (an approved change); returns that revision."""
        document, revision = self._db.execute(
            "select document, revision from listings where id = ?", (listing_id,)
        ).fetchone()
        self.retire_revision(listing_id, document, revision + 1, self._db.now(), origin="curation")
        self._db.bump_revision()
        return revision + 1

    def write_revision(
        self, listing: Listing, document: str, revision: int, action: str, now: dt.datetime, *, origin: str = "import"
    ) -> None:
        """Store ``listing`` (its JSON ``document``) as ``revision``, with its indexes and history
        row; the dataset revision is the caller's to move."""
        stamp = now.isoformat()
        worldwide = int(listing.countries == [COUNTRY_WORLDWIDE])
        before = self._db.scalar("select worldwide from listings where id = ?", (listing.id,))
        closes_at = listing.petition.closes_at if listing.petition else None
        review_by = review_deadline(listing)
        self._db.execute(
            "insert into listings (id, kind, status, worldwide, revision, updated_at, document, closes_at, review_by, "
            "link_hold) values (?, ?, 'active', ?, ?, ?, ?, ?, ?, 0) on conflict (id) do update set kind = excluded.kind, "
            "status = excluded.status, worldwide = excluded.worldwide, revision = excluded.revision, "
            "updated_at = excluded.updated_at, document = excluded.document, closes_at = excluded.closes_at, "
            "review_by = excluded.review_by, "
            "link_hold = excluded.link_hold",  # an accepted change is a reviewer's act: the hold is released
            (
                listing.id, listing.kind, worldwide, revision, stamp, document,
                closes_at.isoformat() if closes_at else None, review_by.isoformat() if review_by else None,
            ),
        )
        self._db.execute("delete from listing_countries where listing_id = ?", (listing.id,))
        self._db.executemany(
            "insert into listing_countries (country, listing_id) values (?, ?)",
            [(c, listing.id) for c in dict.fromkeys(listing.countries)],
        )
        self._db.execute("delete from listing_topics where listing_id = ?", (listing.id,))
        self._db.executemany(
            "insert into listing_topics (topic, listing_id) values (?, ?)",
            [(t, listing.id) for t in dict.fromkeys(listing.topics)],
        )
        self._db.execute("delete from listing_text where listing_id = ?", (listing.id,))
        self._db.executemany(
            "insert into listing_text (listing_id, lang, title, summary) values (?, ?, ?, ?)",
            [(listing.id, lang, fold(t.title), fold(t.summary)) for lang, t in listing.translations.items()],
        )
        seq = self._add_revision(listing.id, revision, action, document, stamp, origin=origin)
        if before is not None and before != worldwide:
            self._db.execute("update listings set moved_seq = ? where id = ?", (seq, listing.id))

    def retire_revision(
        self, listing_id: str, document: str, revision: int, now: dt.datetime, *, origin: str = "import"
    ) -> None:
        """Retire a listing as ``revision`` (its history row records the last ``document``)."""
        stamp = now.isoformat()
        self._db.execute(
            "update listings set status = 'retired', revision = ?, updated_at = ? where id = ?",
            (revision, stamp, listing_id),
        )
        # A retired listing leaves every index: filters, search, and the taxonomy's references.
        for table in ("listing_text", "listing_countries", "listing_topics"):
            self._db.execute(f"delete from {table} where listing_id = ?", (listing_id,))  # noqa: S608 - fixed names
        self._add_revision(listing_id, revision, "retire", document, stamp, origin=origin)

    def _add_revision(self, listing_id: str, revision: int, action: str, document: str, stamp: str, *, origin: str) -> int:
        cursor = self._db.execute(
            "insert into listing_revisions (listing_id, revision, action, document, created_at, origin) "
            "values (?, ?, ?, ?, ?, ?)",
            (listing_id, revision, action, document, stamp, origin),
        )
        return int(cursor.lastrowid or 0)
