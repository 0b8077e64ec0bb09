"""The services run without the web: each refuses with its domain error and writes nothing.

(The HTTP answers these errors become are checked through the app in test_curation.py,
test_lifecycle.py and the other endpoint tests; here the rules are called as the CLI calls
them, over a Store.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import msgspec
import pytest
from factory import listing

from api.credentials import Identity
from api.errors import Conflict, DomainError, FourEyesViolation, Invalid, NotFound
from api.identity import person_key
from api.models import SubmissionCreate
from api.services import curation, reports, tokens, vetting
from api.store import Store


@pytest.fixture
def store(deployment) -> Iterator[Store]:
    opened = Store(deployment.db)
    try:
        yield opened
    finally:
        opened.close()


def _identity(store: Store, name: str, role: str) -> Identity:
    _, row = tokens.create_token(store, name=name, role=role, expires_in_days=None, actor="test")
    return Identity(token_id=row.id, name=row.name, role=row.role, person=person_key(row.name))  # type: ignore[arg-type]


def _refused(store: Store, error: type[DomainError], call) -> DomainError:
    """``call`` raises ``error`` and leaves the audit log as it was."""
    before = store.audit.all()
    with pytest.raises(error) as raised:
        call()
    assert store.audit.all() == before
    return raised.value


def test_statuses_are_the_ones_the_web_layer_answers() -> None:
    assert [e.status for e in (Invalid([]), NotFound("x"), FourEyesViolation("x"), Conflict("x"))] == [400, 404, 403, 409]


def test_tokens_refuse_a_look_alike_name_an_unknown_id_and_a_second_revocation(store: Store) -> None:
    _, lola = tokens.create_token(store, name="Lola", role="curator", expires_in_days=None, actor="test")
    invalid = _refused(store, Invalid, lambda: tokens.create_token(store, name="IoIa", role="curator", expires_in_days=None, actor="test"))
    assert [field for field, _ in invalid.problems] == ["name"]
    _refused(store, NotFound, lambda: tokens.revoke_token(store, lola.id + 100, actor="test"))
    revoked = tokens.revoke_token(store, lola.id, actor="test")
    assert tokens.token_state(revoked, store.now()) == "revoked"
    _refused(store, Conflict, lambda: tokens.revoke_token(store, lola.id, actor="test"))


def test_token_state_reads_expiry_against_the_given_time(store: Store) -> None:
    _, row = tokens.create_token(store, name="Ana", role="admin", expires_in_days=1, actor="test")
    assert tokens.token_state(row, store.now()) == "active"
    assert tokens.token_state(row, store.now() + dt.timedelta(days=2)) == "expired"
    assert [r.id for r in tokens.list_tokens(store)] == [row.id]


def test_reports_refuse_unknown_listings_control_characters_and_a_second_resolution(store: Store) -> None:
    reviewer = _identity(store, "Rita", "reviewer")
    _refused(store, NotFound, lambda: reports.add_report(store, listing_id="no-such", reason="broken_link", details=None))
    invalid = _refused(store, Invalid, lambda: reports.add_report(
        store, listing_id="ru-evacuation", reason="broken_link", details="see\x1bhere"))
    assert [field for field, _ in invalid.problems] == ["details"]
    report_id = reports.add_report(store, listing_id="ru-evacuation", reason="broken_link", details="dead link\n")
    assert store.reports.get(report_id).details == "dead link"  # type: ignore[union-attr]
    _refused(store, NotFound, lambda: reports.resolve_report(store, reviewer, report_id + 100, "fixed"))
    assert reports.resolve_report(store, reviewer, report_id, "fixed").status == "resolved"
    _refused(store, Conflict, lambda: reports.resolve_report(store, reviewer, report_id, "fixed again"))


@pytest.mark.parametrize("reason", ["broken-link", "Broken_Link", "", "spam"])
def test_reports_refuse_a_reason_the_api_does_not_know(store: Store, reason: str) -> None:
    """The service checks what the API's body checks: the store's rows hold only known reasons
    (a row with another would fail to read, and the whole report queue with it)."""
    invalid = _refused(store, Invalid, lambda: reports.add_report(store, listing_id="ru-evacuation", reason=reason, details=None))
    assert [field for field, _ in invalid.problems] == ["reason"]
    assert store.reports.page(status=None, after_id=None, limit=None) == []


def test_release_hold_refuses_unknown_and_not_held_listings(store: Store) -> None:
    reviewer = _identity(store, "Rita", "reviewer")
    today = store.now().date()
    _refused(store, NotFound, lambda: vetting.release_hold(store, reviewer, "no-such", "checked", today))
    _refused(store, Conflict, lambda: vetting.release_hold(store, reviewer, "ru-evacuation", "checked", today))
    assert vetting.build_summary(store, today).counts.held == 0


def test_curation_answers_conflict_with_the_current_revision_and_the_four_eyes_rule(store: Store) -> None:
    curator = _identity(store, "Carla", "curator")
    current = store.listings.get("ru-evacuation")
    assert current is not None
    create_existing = msgspec.convert(
        {"action": "create", "listing": listing("ru-evacuation"), "note": "again", "sources": ["https://ru-evacuation.example.org/about"]}, SubmissionCreate)
    conflict = _refused(store, Conflict, lambda: curation.submit(store, curator, create_existing))
    assert conflict.current_revision == current.revision  # type: ignore[attr-defined]
    new = msgspec.convert({"action": "create", "listing": listing("new-shelter"), "note": "new", "sources": ["https://new-shelter.example.org/about"]}, SubmissionCreate)
    submission_id = curation.submit(store, curator, new)
    as_reviewer = Identity(token_id=curator.token_id, name=curator.name, role="reviewer", person=curator.person)
    _refused(store, FourEyesViolation, lambda: curation.decide(store, as_reviewer, submission_id, "approve", "ok"))
    reviewer = _identity(store, "Rita", "reviewer")
    assert curation.decide(store, reviewer, submission_id, "approve", "ok").status == "approved"
