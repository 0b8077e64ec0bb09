"""Curation as stored: tokens (who may act), submissions (proposed changes and their
decisions) and the audit trail (who did what, when).

Why these three together: a decision is one transaction over all of them (the submission
decided, the listing change applied by ``ListingRepository``, the audit row written), and
each refers to tokens. Rows come back as Structs whose fields say what a value may be (a
role, a status), so nothing downstream has to trust a plain string.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

import msgspec

from api.identity import person_key
from api.models import CountryDocument, Listing
from api.store.db import Database

__all__ = [
    "AuditRepository",
    "AuditRow",
    "SubmissionAction",
    "SubmissionRepository",
    "SubmissionRow",
    "SubmissionStatus",
    "TokenRepository",
    "TokenRole",
    "TokenRow",
]

TokenRole = Literal["curator", "reviewer", "admin"]
SubmissionAction = Literal["create", "update", "retire", "verify", "country"]
SubmissionStatus = Literal["pending", "approved", "rejected"]

_encoder = msgspec.json.Encoder()
_listing_decoder = msgspec.json.Decoder(Listing)
_country_decoder = msgspec.json.Decoder(CountryDocument)
_sources_decoder = msgspec.json.Decoder(list[str])


class TokenRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    person: str
    """The four-eyes identity of ``name`` (``api.identity.person_key``)."""
    role: TokenRole
    hash: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class SubmissionRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    action: SubmissionAction
    listing_id: str
    """The listing's id; ``countries/<CC>`` for a country document."""
    base_revision: int | None
    document: Listing | None
    country: CountryDocument | None
    """The proposed country document (``action: country``)."""
    note: str
    sources: list[str]
    status: SubmissionStatus
    submitted_by: int
    submitter_name: str
    submitter_person: str
    submitted_at: dt.datetime
    decided_by: int | None
    decider_name: str | None
    decided_at: dt.datetime | None
    reason: str | None
    applied_revision: int | None


class AuditRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


_TOKEN_COLUMNS = "select id, name, person, role, hash, created_at, expires_at, last_used_at, revoked_at from tokens"
_SUBMISSION_COLUMNS = (
    "select s.id, s.action, s.listing_id, s.base_revision, s.document, s.country, s.note, s.sources, s.status, "
    "s.submitted_by, t.name as submitter_name, t.person as submitter_person, s.submitted_at, s.decided_by, "
    "d.name as decider_name, s.decided_at, s.reason, s.applied_revision "
    "from submissions s join tokens t on t.id = s.submitted_by left join tokens d on d.id = s.decided_by"
)
_SUBMISSION_DECODE = {
    "document": _listing_decoder.decode, "country": _country_decoder.decode, "sources": _sources_decoder.decode,
}


class TokenRepository:
    """API tokens: only their hash is kept; a token's name is a person (``person_key``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, *, name: str, role: str, token_hash: str, expires_at: dt.datetime | None) -> int:
        cursor = self._db.execute(
            "insert into tokens (name, person, role, hash, created_at, expires_at) values (?, ?, ?, ?, ?, ?)",
            (name, person_key(name), role, token_hash, self._db.now().isoformat(), expires_at.isoformat() if expires_at else None),
        )
        return int(cursor.lastrowid or 0)

    def get(self, token_id: int) -> TokenRow | None:
        return self._db.fetch_one(_TOKEN_COLUMNS + " where id = ?", (token_id,), TokenRow)

    def get_by_hash(self, token_hash: str) -> TokenRow | None:
        return self._db.fetch_one(_TOKEN_COLUMNS + " where hash = ?", (token_hash,), TokenRow)

    def all(self) -> list[TokenRow]:
        return self._db.fetch_all(_TOKEN_COLUMNS + " order by id", (), TokenRow)

    def touch(self, token_id: int, now: dt.datetime) -> None:
        """Record use, at most once a minute per token (not a write per request)."""
        cutoff = (now - dt.timedelta(minutes=1)).isoformat()
        self._db.execute(
            "update tokens set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)",
            (now.replace(microsecond=0).isoformat(), token_id, cutoff),
        )

    def revoke(self, token_id: int) -> bool:
        """False when it was already revoked."""
        cursor = self._db.execute(
            "update tokens set revoked_at = ? where id = ? and revoked_at is null", (self._db.now().isoformat(), token_id)
        )
        return cursor.rowcount == 1


class SubmissionRepository:
    """Proposed changes, oldest first, and the decisions on them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        *,
        action: str,
        listing_id: str,
        base_revision: int | None,
        document: Listing | None,
        note: str,
        sources: list[str],
        submitted_by: int,
        country: CountryDocument | None = None,
    ) -> int:
        cursor = self._db.execute(
            "insert into submissions (action, listing_id, base_revision, document, country, note, sources, status, "
            "submitted_by, submitted_at) values (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            (
                action,
                listing_id,
                base_revision,
                _encoder.encode(document).decode() if document is not None else None,
                _encoder.encode(country).decode() if country is not None else None,
                note,
                json.dumps(sources),
                submitted_by,
                self._db.now().isoformat(),
            ),
        )
        return int(cursor.lastrowid or 0)

    def get(self, submission_id: int) -> SubmissionRow | None:
        return self._db.fetch_one(_SUBMISSION_COLUMNS + " where s.id = ?", (submission_id,), SubmissionRow, **_SUBMISSION_DECODE)

    def page(
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
        return self._db.fetch_all(sql, params, SubmissionRow, **_SUBMISSION_DECODE)

    def decide(
        self, submission_id: int, *, status: str, decided_by: int, reason: str, applied_revision: int | None
    ) -> bool:
        """Mark a pending submission decided; False when it was no longer pending."""
        cursor = self._db.execute(
            "update submissions set status = ?, decided_by = ?, decided_at = ?, reason = ?, applied_revision = ? "
            "where id = ? and status = 'pending'",
            (status, decided_by, self._db.now().isoformat(), reason, applied_revision, submission_id),
        )
        return cursor.rowcount == 1


class AuditRepository:
    """Who did what to what, and when: appended inside the transaction of the act itself."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, *, actor: str, action: str, target: str, details: dict[str, object]) -> None:
        self._db.execute(
            "insert into audit (at, actor, action, target, details) values (?, ?, ?, ?, ?)",
            (self._db.now().isoformat(), actor, action, target, json.dumps(details, ensure_ascii=False, sort_keys=True)),
        )

    def all(self) -> list[AuditRow]:
        return self._db.fetch_all(
            "select id, at, actor, action, target, details from audit order by id", (), AuditRow, details=json.loads
        )
