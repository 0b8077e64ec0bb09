"""The schema, as numbered migrations recorded in ``PRAGMA user_version``.

Why numbered migrations: a database made by an older release upgrades in place (each missing
migration runs in its own transaction, so a failure leaves the file at its old version), and
a database made by a newer release is refused rather than misread. ``api.store.db`` runs them
when a store opens read-write; a read-only store never does.

Listings keep their canonical JSON document (what curators wrote) plus the columns the
filters need; every accepted change appends an immutable row to ``listing_revisions``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlite_utils

from api.identity import person_key

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]


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
    # an approved change that the files it reads were not written from (see DatasetRepository.replace in imports.py).
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


def _m6_advisories_and_review_by(db: sqlite_utils.Database) -> None:
    # A petition without a closing day leaves the default lists after its review deadline
    # (api.store.listings.review_deadline) until someone re-checks it: the deadline as a column
    # the filters can use, filled for the petitions stored before it existed.
    db["listings"].add_column("review_by", str)
    db.execute(
        "update listings set review_by = coalesce(json_extract(document, '$.petition.review_by'), "
        "json_extract(document, '$.verification.next_review_at')) "
        "where kind = 'petition' and json_extract(document, '$.petition.closes_at') is null"
    )
    # Country documents (their advisories), kept like listings: the canonical JSON document,
    # and an immutable row per accepted change (api/store/countries.py).
    db["countries"].create(
        {"code": str, "status": str, "revision": int, "updated_at": str, "document": str},
        pk="code",
        not_null={"status", "revision", "updated_at", "document"},
    )
    db["country_revisions"].create(
        {"seq": int, "code": str, "revision": int, "action": str, "document": str, "created_at": str, "origin": str},
        pk="seq",
        not_null={"code", "revision", "action", "document", "created_at", "origin"},
    )
    db["country_revisions"].create_index(["code", "revision"], unique=True)
    # A curator's proposed country document (``action = 'country'``; listing_id holds
    # ``countries/<CC>``, which no listing id can be).
    db["submissions"].add_column("country", str)


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (
    _m1_initial,
    _m2_curation,
    _m3_link_checks,
    _m4_lifecycle,
    _m5_provenance,
    _m6_advisories_and_review_by,
)
SCHEMA_VERSION = len(MIGRATIONS)
