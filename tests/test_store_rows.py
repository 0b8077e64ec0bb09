"""Rows as the store maps them: by column name into frozen Structs, with msgspec parsing the
timestamps stored as text. Each stored timestamp comes back as the very value it was written
as (same instant, same offset, same ISO text), so the public JSON stays byte for byte what it
was when rows were mapped by position with ``datetime.fromisoformat``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import msgspec
import pytest
from factory import default_listings, write_dataset

from api.services.read_model import listing_view
from api.clock import FixedClock
from api.dataset import import_directory
from api.models import Listing
from api.services import curation, reports, tokens
from api.services.vetting import release_hold
from api.credentials import Identity
from api.identity import person_key
from api.models import SubmissionCreate
from api.store import ListingRow, Store

ZONES = [dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=-3))]


def _identity(store: Store, name: str, role: str) -> Identity:
    _, row = tokens.create_token(store, name=name, role=role, expires_in_days=30, actor="test")
    return Identity(token_id=row.id, name=row.name, role=row.role, person=person_key(row.name))


def build(root: Path, zone: dt.tzinfo) -> Path:
    """A database where every timestamp column holds a value, written on a clock in ``zone``."""
    clock = FixedClock(dt.datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=zone))
    db = root / "rows.db"
    write_dataset(root / "data", default_listings())
    store = Store(db, create=True, clock=clock)
    try:
        import_directory(root / "data", store)
        clock.advance(hours=1)
        curator, reviewer = _identity(store, "Cora", "curator"), _identity(store, "Rita", "reviewer")
        submission = curation.submit(store, curator, msgspec.convert(
            {"action": "retire", "listing_id": "ug-shelter", "base_revision": 1, "note": "closed",
             "sources": ["https://ug-shelter.example.org/closed"]}, SubmissionCreate))
        clock.advance(minutes=5)
        curation.decide(store, reviewer, submission, "approve", "checked")
        report = reports.add_report(store, listing_id="ru-evacuation", reason="outdated", details=None)
        reports.resolve_report(store, reviewer, report, "updated")
        store.tokens.touch(curator.token_id, clock.now())
        tokens.revoke_token(store, curator.token_id, actor="test")
        for status in ("broken", "broken"):
            clock.advance(minutes=1)
            store.link_checks.add(listing_id="ru-legal-aid", checked_at=clock.now(), status=status, http_status=404,
                                  final_url=None, needs_review=False)
        store.link_checks.finish_run(2)
        release_hold(store, reviewer, "ru-legal-aid", "checked by hand", clock.now().date())
    finally:
        store.close()
    return db


def raw(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


#: (what, the raw (key, text) rows, and how the store reads the same values by key)
STAMPS = {
    "listings.updated_at": ("select id, updated_at from listings",
                            lambda s: {r.id: r.updated_at for r in s.listings.each(statuses=("active", "retired"))}),
    "listings.link_checked_at": ("select id, link_checked_at from listings",
                                 lambda s: {r.id: r.link_checked_at for r in s.listings.each(statuses=("active", "retired"))}),
    "listing_revisions.created_at": ("select seq, created_at from listing_revisions",
                                     lambda s: {r.seq: r.created_at for r in s.listings.changes(after_seq=0, limit=1000)}),
    "tokens.created_at": ("select id, created_at from tokens", lambda s: {r.id: r.created_at for r in s.tokens.all()}),
    "tokens.expires_at": ("select id, expires_at from tokens", lambda s: {r.id: r.expires_at for r in s.tokens.all()}),
    "tokens.last_used_at": ("select id, last_used_at from tokens", lambda s: {r.id: r.last_used_at for r in s.tokens.all()}),
    "tokens.revoked_at": ("select id, revoked_at from tokens", lambda s: {r.id: r.revoked_at for r in s.tokens.all()}),
    "submissions.submitted_at": ("select id, submitted_at from submissions", lambda s: {
        r.id: r.submitted_at for r in s.submissions.page(status=None, submitter_person=None, after_id=None, limit=100)}),
    "submissions.decided_at": ("select id, decided_at from submissions", lambda s: {
        r.id: r.decided_at for r in s.submissions.page(status=None, submitter_person=None, after_id=None, limit=100)}),
    "reports.created_at": ("select id, created_at from reports",
                           lambda s: {r.id: r.created_at for r in s.reports.page(status=None, after_id=None, limit=None)}),
    "reports.resolved_at": ("select id, resolved_at from reports",
                            lambda s: {r.id: r.resolved_at for r in s.reports.page(status=None, after_id=None, limit=None)}),
    "link_checks.checked_at": ("select id, checked_at from link_checks",
                               lambda s: {r.id: r.checked_at for r in s.link_checks.of_listing("ru-legal-aid")}),
    "audit.at": ("select id, at from audit", lambda s: {r.id: r.at for r in s.audit.all()}),
}


@pytest.fixture(scope="module", params=ZONES, ids=["utc", "plus-0530", "minus-0300"])
def stamped(request, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("rows"), request.param)


@pytest.mark.parametrize("what", sorted(STAMPS))
def test_a_stored_timestamp_reads_back_as_the_value_it_was_written_as(stamped: Path, what: str) -> None:
    sql, read = STAMPS[what]
    texts = dict(raw(stamped, sql))
    store = Store(stamped, read_only=True)
    try:
        values = read(store)
    finally:
        store.close()
    assert values.keys() == texts.keys()
    assert any(t is not None for t in texts.values()), f"{what}: the fixture must fill it"
    for key, text in texts.items():
        value = values[key]
        if text is None:
            assert value is None
            continue
        positional = dt.datetime.fromisoformat(text)  # how rows were mapped before
        assert value == positional and value.utcoffset() == positional.utcoffset(), (what, key, text)
        assert value.isoformat() == text
        assert msgspec.json.encode(value) == msgspec.json.encode(positional)


def test_every_listing_view_encodes_as_it_did_with_positional_rows(stamped: Path) -> None:
    """The listing views the API serves, built from the store's rows and from rows mapped the
    old way (by position, plain strings from SQLite), are the same bytes: including an
    unchecked link's ``"status": "unchecked"``, which the view drops when handed the very
    string object that is its default."""
    columns = "id, document, status, revision, updated_at, link_status, link_checked_at, link_hold"
    store = Store(stamped, read_only=True)
    try:
        rows = {r.id: r for r in store.listings.each(statuses=("active", "retired"))}
        labels = {t.id: (t.labels["en"], "en") for t in store.topics.all()}
    finally:
        store.close()
    decoder = msgspec.json.Decoder(Listing)
    today = dt.date(2026, 11, 2)
    seen = set()
    for r in raw(stamped, f"select {columns} from listings"):
        old = ListingRow(id=r[0], document=decoder.decode(r[1]), status=r[2], revision=r[3],
                         updated_at=dt.datetime.fromisoformat(r[4]), link_status=r[5],
                         link_checked_at=dt.datetime.fromisoformat(r[6]) if r[6] else None, link_hold=bool(r[7]))
        new = rows[r[0]]
        assert new == old
        encoded = msgspec.json.encode(listing_view(new, ("en",), labels, "en", today))
        assert encoded == msgspec.json.encode(listing_view(old, ("en",), labels, "en", today))
        seen.add(new.link_status)
    assert {"unchecked", "broken"} <= seen


@pytest.mark.parametrize(
    ("table", "column", "value", "read"),
    [
        ("reports", "status", "'closed'", lambda s: s.reports.get(1)),
        ("reports", "reason", "'spam'", lambda s: s.reports.get(1)),
        ("reports", "created_at", "'yesterday'", lambda s: s.reports.get(1)),
        ("tokens", "role", "'owner'", lambda s: s.tokens.get(1)),
        ("submissions", "status", "'maybe'", lambda s: s.submissions.get(1)),
        ("listings", "link_status", "'fine'", lambda s: s.listings.get("ru-evacuation")),
        ("listings", "status", "'paused'", lambda s: s.listings.get("ru-evacuation")),
        ("link_checks", "status", "'unchecked'", lambda s: s.link_checks.of_listing("ru-legal-aid")),
    ],
)
def test_a_stored_value_the_row_type_does_not_allow_is_an_error_naming_the_field(
    tmp_path: Path, table: str, column: str, value: str, read
) -> None:
    """Mapped by name and type, a corrupt row is refused where it is read, never passed on as
    a plain string the API would then serve."""
    db = build(tmp_path, dt.UTC)
    conn = sqlite3.connect(db)
    conn.execute(f"update {table} set {column} = {value}")  # noqa: S608 - fixed test values
    conn.commit()
    conn.close()
    store = Store(db, read_only=True)
    try:
        with pytest.raises(msgspec.ValidationError, match=rf"at `\$\.{column}`"):
            read(store)
    finally:
        store.close()
