"""Country documents (their advisories): the current one per country, and every accepted change.

Why a repository of its own: a country document is an aggregate of its own, written by the
importer and by approved ``country`` submissions, read by the country answers and the export.
It is kept the way listings are (``api.store.listings``): the canonical JSON document plus an
immutable row in ``country_revisions`` per accepted change, with where the change came from
(``import`` or ``curation``), so an import never silently undoes an approved change.
A country whose file disappears is retired: it keeps its history, and serves no advisories.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from api.models import CountryDocument
from api.store.db import Database

__all__ = ["CountryRepository", "CountryRevisionRow", "CountryRow", "encode_document"]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(CountryDocument)

_COLUMNS = "select code, document, status, revision, updated_at from countries"
_REVISION_COLUMNS = "select seq, code, revision, action, document, created_at, origin from country_revisions"


class CountryRow(msgspec.Struct, frozen=True, kw_only=True):
    """A country document as stored, with the server-owned fields."""

    code: str
    document: CountryDocument
    status: Literal["active", "retired"]
    revision: int
    updated_at: dt.datetime


class CountryRevisionRow(msgspec.Struct, frozen=True, kw_only=True):
    """One accepted change of a country document (the last document, for a retirement)."""

    seq: int
    code: str
    revision: int
    action: Literal["create", "update", "retire"]
    document: CountryDocument
    created_at: dt.datetime
    origin: Literal["import", "curation"]


def encode_document(document: CountryDocument) -> str:
    """The canonical JSON form a document is stored and compared in."""
    return _encoder.encode(document).decode()


class CountryRepository:
    """Country documents. Methods that write expect to run inside the store's ``transaction()``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- reads ----------------------------------------------------------------------------

    def get(self, code: str) -> CountryRow | None:
        """The country's document whatever its status (None: never had one)."""
        return self._db.fetch_one(_COLUMNS + " where code = ?", (code,), CountryRow, document=_decoder.decode)

    def active(self, code: str) -> CountryDocument | None:
        """The document a reader is served, or None (none, or retired)."""
        row = self.get(code)
        return row.document if row is not None and row.status == "active" else None

    def all(self) -> list[CountryRow]:
        """Every country document that is not retired, by code."""
        return self._db.fetch_all(_COLUMNS + " where status = 'active' order by code", (), CountryRow, document=_decoder.decode)

    def stored(self) -> dict[str, tuple[str, int, str]]:
        """Per code, (canonical JSON, revision, status) of every country ever stored."""
        rows = self._db.execute("select code, document, revision, status from countries")
        return {code: (document, revision, status) for code, document, revision, status in rows}

    def revisions(self, code: str) -> list[CountryRevisionRow]:
        return self._db.fetch_all(
            _REVISION_COLUMNS + " where code = ? order by revision", (code,), CountryRevisionRow, document=_decoder.decode
        )

    def curated_heads(self) -> list[tuple[str, int, str]]:
        """(code, revision, action) of every country whose current revision is an approved change."""
        rows = self._db.execute(
            "select c.code, c.revision, r.action from countries c join country_revisions r "
            "on r.code = c.code and r.revision = c.revision where r.origin = 'curation' order by c.code"
        )
        return [(code, revision, action) for code, revision, action in rows]

    def current_revisions(self) -> dict[str, int]:
        """Per code, the current revision (an export manifest names them)."""
        return dict(self._db.execute("select code, revision from countries order by code").fetchall())

    # --- writes ---------------------------------------------------------------------------

    def write_revision(
        self, document: CountryDocument, encoded: str, revision: int, action: str, now: dt.datetime, *, origin: str = "import"
    ) -> None:
        """Store ``document`` (its canonical JSON ``encoded``) as ``revision`` with its history
        row; the dataset revision is the caller's to move."""
        stamp = now.isoformat()
        self._db.execute(
            "insert into countries (code, status, revision, updated_at, document) values (?, 'active', ?, ?, ?) "
            "on conflict (code) do update set status = excluded.status, revision = excluded.revision, "
            "updated_at = excluded.updated_at, document = excluded.document",
            (document.code, revision, stamp, encoded),
        )
        self._add_revision(document.code, revision, action, encoded, stamp, origin)

    def retire_revision(self, code: str, encoded: str, revision: int, now: dt.datetime, *, origin: str = "import") -> None:
        """Retire a country document as ``revision`` (its history row keeps the last ``encoded``)."""
        stamp = now.isoformat()
        self._db.execute(
            "update countries set status = 'retired', revision = ?, updated_at = ? where code = ?", (revision, stamp, code)
        )
        self._add_revision(code, revision, "retire", encoded, stamp, origin)

    def apply(self, document: CountryDocument) -> int:
        """Create or update a country document as one new revision (an approved change)."""
        current = self._db.scalar("select revision from countries where code = ?", (document.code,))
        revision = (current or 0) + 1
        action = "create" if current is None else "update"
        self.write_revision(document, encode_document(document), revision, action, self._db.now(), origin="curation")
        self._db.bump_revision()
        return revision

    def _add_revision(self, code: str, revision: int, action: str, encoded: str, stamp: str, origin: str) -> None:
        self._db.execute(
            "insert into country_revisions (code, revision, action, document, created_at, origin) values (?, ?, ?, ?, ?, ?)",
            (code, revision, action, encoded, stamp, origin),
        )
