"""The whole dataset at once: replacing it from the data files, and what an export is written from.

Why a module of its own: an import spans the topics, every listing and every country document
in one transaction, and it carries the rule that once curators work the database is the source
of truth — an import never silently undoes an approved change the files were not exported
from. The per-listing writes it uses are ``ListingRepository``'s (``CountryRepository``'s for
country documents), the same an approval uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from api.models import CountryDocument, Listing, Topic
from api.store.countries import CountryRepository, encode_document
from api.store.db import Database
from api.store.listings import ListingRepository, TopicRepository

__all__ = ["CurationWouldBeLost", "DatasetRepository", "ExportManifest", "ImportSummary", "UnsyncedChange"]

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class UnsyncedChange:
    """An approved change that is not in the data files and that an import would undo."""

    listing_id: str
    """The listing's id, or ``countries/<CC>`` for a country document."""
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
    countries: dict[str, int] = {}
    """The same for each country document (absent from manifests written before they existed)."""


class CurationWouldBeLost(Exception):
    """An import would undo approved changes that were never exported to the data files."""

    def __init__(self, changes: list[UnsyncedChange]) -> None:
        super().__init__(f"{len(changes)} approved change(s) would be undone")
        self.changes = changes


@dataclass(frozen=True, slots=True)
class ImportSummary:
    created: int
    updated: int
    retired: int
    unchanged: int
    topics_changed: bool
    revision: int
    countries_changed: int = 0
    """Country documents created, updated or retired."""

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired or self.topics_changed or self.countries_changed)


class _Current(msgspec.Struct, frozen=True):
    document: str
    revision: int
    status: str


class DatasetRepository:
    """Imports and export manifests over the listings and topics repositories."""

    def __init__(
        self, db: Database, listings: ListingRepository, topics: TopicRepository, countries: CountryRepository
    ) -> None:
        self._db = db
        self._listings = listings
        self._topics = topics
        self._countries = countries

    def replace(
        self,
        listings: list[Listing],
        topics: list[Topic],
        *,
        progress: Callable[[int], None] | None = None,
        written_from: ExportManifest | None = None,
        force: bool = False,
        countries: list[CountryDocument] | None = None,
    ) -> ImportSummary:
        """Make the stored dataset equal to ``listings``, ``topics`` and ``countries`` (the
        country documents; None leaves the stored ones as they are), in one transaction.

        Unchanged listings keep their revision; changed ones get a new immutable revision;
        listings absent from the input are retired (kept, with their history). The dataset
        revision moves once if anything changed, and not at all otherwise.

        Once curators work, the database is the source of truth. A listing whose current
        revision is an approved change is protected: unless ``written_from`` (the manifest
        ``actiondir export`` left beside the files) says its file was written from that very
        revision of this database, an import that would revert, retire or revive it raises
        ``CurationWouldBeLost`` and writes nothing, unless ``force``.
        """
        now = self._db.now()
        created = updated = retired = unchanged = 0
        with self._db.transaction():
            topics_changed = self._topics.all() != topics
            current = {
                row[0]: _Current(row[1], row[2], row[3])
                for row in self._db.execute("select id, document, revision, status from listings")
            }
            documents = {listing.id: _encoder.encode(listing).decode() for listing in listings}
            country_documents = None if countries is None else {c.code: encode_document(c) for c in countries}
            if not force:
                lost = self._curation_undone(current, documents, written_from)
                if country_documents is not None:
                    lost += self._country_curation_undone(country_documents, written_from)
                if lost:
                    raise CurationWouldBeLost(lost)
            if topics_changed:
                self._topics.upsert(topics)
            for listing in listings:
                document = documents[listing.id]
                old = current.get(listing.id)
                if old is not None and old.document == document and old.status != "retired":
                    unchanged += 1
                else:
                    action = "create" if old is None else "update"
                    self._listings.write_revision(listing, document, (old.revision if old else 0) + 1, action, now)
                    created += old is None
                    updated += old is not None
                if progress is not None:
                    progress(1)
            for listing_id, old in current.items():
                if listing_id not in documents and old.status != "retired":
                    self._listings.retire_revision(listing_id, old.document, old.revision + 1, now)
                    retired += 1
            if topics_changed:  # only now: no listing refers to a removed topic any more
                self._topics.remove_all_but([t.id for t in topics])
            countries_changed = 0
            if countries is not None and country_documents is not None:
                countries_changed = self._replace_countries(countries, country_documents, now)
            if created or updated or retired or topics_changed or countries_changed:
                self._db.bump_revision()
            revision = self._db.revision()
        return ImportSummary(created, updated, retired, unchanged, topics_changed, revision, countries_changed)

    def _replace_countries(self, countries: list[CountryDocument], encoded: dict[str, str], now: dt.datetime) -> int:
        """Make the stored country documents equal to ``countries``; how many changed."""
        stored = self._countries.stored()
        changed = 0
        for country in countries:
            old = stored.get(country.code)
            if old is not None and old[0] == encoded[country.code] and old[2] != "retired":
                continue
            action = "create" if old is None else "update"
            self._countries.write_revision(country, encoded[country.code], (old[1] if old else 0) + 1, action, now)
            changed += 1
        for code, (document, revision, status) in stored.items():
            if code not in encoded and status != "retired":
                self._countries.retire_revision(code, document, revision + 1, now)
                changed += 1
        return changed

    def _curation_undone(
        self, current: dict[str, _Current], incoming: dict[str, str], written_from: ExportManifest | None
    ) -> list[UnsyncedChange]:
        """Approved changes the files were not written from, which importing them would undo."""
        based_on = written_from.listings if written_from and written_from.database == self._db.database_id() else {}
        rows = self._db.execute(
            "select l.id, l.revision, r.action from listings l join listing_revisions r "
            "on r.listing_id = l.id and r.revision = l.revision where r.origin = 'curation' order by l.id"
        ).fetchall()
        lost = []
        for listing_id, revision, action in rows:
            if based_on.get(listing_id) == revision:
                continue  # exported from this revision: the file's differences are newer edits
            old = current[listing_id]
            if old.status == "retired":
                undone_by = "revive" if listing_id in incoming else None
            elif listing_id not in incoming:
                undone_by = "retire"
            else:
                undone_by = "revert" if incoming[listing_id] != old.document else None
            if undone_by:
                lost.append(UnsyncedChange(listing_id, revision, action, undone_by))
        return lost

    def _country_curation_undone(
        self, incoming: dict[str, str], written_from: ExportManifest | None
    ) -> list[UnsyncedChange]:
        """The same rule as ``_curation_undone``, for country documents."""
        based_on = written_from.countries if written_from and written_from.database == self._db.database_id() else {}
        stored = self._countries.stored()
        lost = []
        for code, revision, action in self._countries.curated_heads():
            if based_on.get(code) == revision:
                continue
            document, _, status = stored[code]
            if status == "retired":
                undone_by = "revive" if code in incoming else None
            elif code not in incoming:
                undone_by = "retire"
            else:
                undone_by = "revert" if incoming[code] != document else None
            if undone_by:
                lost.append(UnsyncedChange(f"countries/{code}", revision, action, undone_by))
        return lost

    def export_manifest(self) -> ExportManifest:
        """What an export writes from: this database and every listing's and country
        document's current revision."""
        revisions = dict(self._db.execute("select id, revision from listings order by id").fetchall())
        return ExportManifest(
            database=self._db.database_id(), listings=revisions, countries=self._countries.current_revisions()
        )
