"""Petitions that publish no closing day cannot linger: past their ``review_by`` they leave the
default lists (``unverified``) until a person re-checks them and a second person approves the
re-check; ``verified_at`` moves only then, per listing, never by the link checker.

Through the real app over HTTP with a controllable clock, the real importer and the real CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from conftest import Deployment
from factory import default_listings, listing, write_dataset
from litestar.testing import TestClient

from api.app import create_app
from api.clock import FixedClock
from api.dataset import DatasetInvalid, load_directory
from api.services.tokens import create_token
from api.settings import load_settings
from api.store import Store

VERIFIED = dt.date(2026, 11, 20)  # the factory's verified_at
NEXT_REVIEW = dt.date(2027, 2, 20)  # the factory's next_review_at
REVIEW_BY = dt.date(2027, 3, 1)
SOURCES = ["https://sources.example.org/check"]


def open_petition(listing_id: str = "ru-open-ended", **petition: Any) -> dict[str, Any]:
    """A petition without a closing day, due for re-checking by ``REVIEW_BY``."""
    return listing(listing_id, kind="petition", petition={"target": "State Duma", "review_by": REVIEW_BY, **petition})


def review_listings() -> list[dict[str, Any]]:
    return [*default_listings(), open_petition()]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2027, 2, 1, 12, 0, tzinfo=dt.UTC))


@pytest.fixture
def site(deployment: Deployment, clock: FixedClock) -> Iterator[tuple[TestClient, Deployment]]:
    deployment.reimport(review_listings())
    with TestClient(create_app(load_settings(db=deployment.db), clock=clock)) as client:
        yield client, deployment


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def token(deployment: Deployment, role: str, name: str) -> dict[str, str]:
    store = Store(deployment.db)
    try:
        secret, _ = create_token(store, name=name, role=role, expires_in_days=None, actor="test")
    finally:
        store.close()
    return {"Authorization": f"Bearer {secret}"}


def verify_body(listing_id: str = "ru-open-ended", base_revision: int = 1, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": "verify",
        "listing_id": listing_id,
        "base_revision": base_revision,
        "next_review_at": "2027-05-01",
        "review_by": "2027-06-01",
        "note": "Opened the petition page: it still collects signatures",
        "sources": SOURCES,
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


# --- what the rule is in the data -----------------------------------------------------------------


def import_problems(tmp_path: Path, doc: dict[str, Any]) -> list[tuple[str, str]]:
    root = write_dataset(tmp_path / "data", [*default_listings(), doc])
    with pytest.raises(DatasetInvalid) as caught:
        load_directory(root)
    return [(Path(p.path).name, p.field) for p in caught.value.problems]


def without_review_by(doc: dict[str, Any]) -> dict[str, Any]:
    del doc["petition"]["review_by"]
    return doc


BROKEN_PETITIONS = {
    # neither a closing day nor a review deadline: it could stay listed for ever
    "neither": lambda: without_review_by(open_petition()),
    "no-block-at-all": lambda: {k: v for k, v in open_petition().items() if k != "petition"},
    # both: one rule per petition
    "both": lambda: open_petition(closes_at=dt.date(2027, 1, 31)),
    # a deadline before the day it is due for review, or too far from the last check
    "before-next-review": lambda: open_petition(review_by=NEXT_REVIEW - dt.timedelta(days=1)),
    "too-far": lambda: open_petition(review_by=VERIFIED + dt.timedelta(days=181)),
}


@pytest.mark.parametrize("case", BROKEN_PETITIONS)
def test_import_refuses_a_petition_without_a_sound_review_deadline(tmp_path: Path, case: str) -> None:
    assert import_problems(tmp_path, BROKEN_PETITIONS[case]()) == [("ru-open-ended.toml", "petition.review_by")]


@pytest.mark.parametrize("review_by", [NEXT_REVIEW, VERIFIED + dt.timedelta(days=180)])
def test_the_edges_of_the_review_window_are_valid(tmp_path: Path, review_by: dt.date) -> None:
    root = write_dataset(tmp_path / "data", [*default_listings(), open_petition(review_by=review_by)])
    listings, _ = load_directory(root)
    assert {x.id for x in listings} >= {"ru-open-ended"}


def test_review_by_belongs_to_petitions_only(tmp_path: Path) -> None:
    doc = listing("ru-org-with-deadline", petition={"review_by": REVIEW_BY})
    assert import_problems(tmp_path, doc) == [("ru-org-with-deadline.toml", "petition")]


@pytest.mark.parametrize("case", BROKEN_PETITIONS)
def test_submissions_refuse_the_same_petitions_naming_the_field(site, case: str) -> None:
    client, deployment = site
    doc = json.loads(msgspec.json.encode(BROKEN_PETITIONS[case]()))
    doc["id"] = f"ru-proposed-{case}"
    response = client.post(
        "/v1/submissions",
        json={"action": "create", "listing": doc, "note": "New petition", "sources": SOURCES},
        headers=token(deployment, "curator", f"Cara {case}"),
    )
    assert response.status_code == 400, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["listing.petition.review_by"]


def test_the_seed_petitions_without_a_closing_day_carry_a_review_deadline() -> None:
    listings, _ = load_directory(Path(__file__).resolve().parent.parent / "directory_data")
    open_ended = [x for x in listings if x.kind == "petition" and (x.petition is None or x.petition.closes_at is None)]
    assert open_ended, "the seed data has petitions without a closing day"
    for petition in open_ended:
        assert petition.petition is not None and petition.petition.review_by is not None, petition.id


# --- past the deadline, out of the default lists -------------------------------------------------


def test_a_petition_leaves_the_default_lists_the_day_after_its_review_deadline(site, clock) -> None:
    client, _ = site
    clock.at = at(REVIEW_BY)  # the last day it is vouched for
    assert "ru-open-ended" in ids(client.get("/v1/countries/RU/listings"))
    item = client.get("/v1/listings/ru-open-ended").json()
    assert item["status"] == "active"
    assert item["petition"]["review_by"] == REVIEW_BY.isoformat()

    clock.at = at(REVIEW_BY + dt.timedelta(days=1))
    for path, params in [
        ("/v1/countries/RU/listings", {}),
        ("/v1/listings", {}),
        ("/v1/listings", {"kind": "petition"}),
        ("/v1/listings", {"country": "RU", "topic": "lgbtq-rights"}),
        ("/v1/listings", {"q": "ru-open-ended"}),
        ("/v1/listings", {"include": "closed"}),
    ]:
        assert "ru-open-ended" not in ids(client.get(path, params=params)), (path, params)
    item = client.get("/v1/listings/ru-open-ended").json()
    assert (item["status"], item["review_overdue"]) == ("unverified", True)
    for include in ("unverified", "closed,unverified", "unverified,closed"):
        page = client.get("/v1/countries/RU/listings", params={"include": include}).json()["data"]
        assert {x["id"]: x["status"] for x in page}["ru-open-ended"] == "unverified"
    dataset = {x["listing"]["id"]: x["status"] for x in client.get("/v1/dataset").json()["listings"]}
    assert dataset["ru-open-ended"] == "unverified"


def test_counts_leave_out_a_petition_past_its_review_deadline(site, clock) -> None:
    client, _ = site
    clock.at = at(REVIEW_BY)  # (the factory's br-kiss-in is past its own deadline by then)
    before_country = client.get("/v1/countries/RU").json()["counts"]["petition"]
    before_topic = {t["id"]: t["listing_count"] for t in client.get("/v1/topics").json()["data"]}["lgbtq-rights"]
    clock.at = at(REVIEW_BY + dt.timedelta(days=1))
    assert client.get("/v1/countries/RU").json()["counts"]["petition"] == before_country - 1
    topics = {t["id"]: t["listing_count"] for t in client.get("/v1/topics").json()["data"]}
    assert topics["lgbtq-rights"] == before_topic - 1


def test_the_vetting_summary_shows_the_review_deadline(site, clock) -> None:
    client, deployment = site
    clock.at = at(REVIEW_BY + dt.timedelta(days=2))
    summary = client.get("/v1/vetting/summary", headers=token(deployment, "reviewer", "Rhea Review")).json()
    overdue = {o["listing_id"]: o for o in summary["overdue_reviews"]}
    assert overdue["ru-open-ended"]["review_by"] == REVIEW_BY.isoformat()
    assert overdue["ru-evacuation"]["review_by"] is None  # an organization never leaves the lists for it


def test_releasing_a_link_hold_says_the_petition_is_still_unverified(site, clock) -> None:
    client, deployment = site
    store = Store(deployment.db)
    try:
        for n in range(2):
            store.link_checks.add(
                listing_id="ru-open-ended", checked_at=at(REVIEW_BY) + dt.timedelta(minutes=n), status="broken",
                http_status=404, final_url=None, needs_review=False,
            )
        store.link_checks.finish_run(2)
    finally:
        store.close()
    clock.at = at(REVIEW_BY + dt.timedelta(days=1))
    released = client.post(
        "/v1/vetting/holds/ru-open-ended/release", json={"reason": "The link works again"},
        headers=token(deployment, "reviewer", "Remy Release"),
    )
    assert released.status_code == 200, released.text
    assert released.json() == {"listing_id": "ru-open-ended", "status": "unverified"}


# --- a person re-checks it, a second person approves ----------------------------------------------


def test_a_re_check_approved_by_a_second_person_brings_the_petition_back(site, clock) -> None:
    client, deployment = site
    clock.at = at(REVIEW_BY + dt.timedelta(days=3))  # 2027-03-04: out of the lists
    curator = token(deployment, "curator", "Cyril Check")
    submitted = client.post("/v1/submissions", json=verify_body(), headers=curator)
    assert submitted.status_code == 201, submitted.text
    submission = submitted.json()
    assert submission["action"] == "verify"
    assert submission["listing"]["verification"]["verified_at"] == "2027-03-04"  # the day of the re-check
    assert "ru-open-ended" not in ids(client.get("/v1/countries/RU/listings"))  # not before approval

    diff = client.get(f"/v1/submissions/{submission['id']}", headers=token(deployment, "reviewer", "Rosa Diff")).json()["diff"]
    assert sorted(c["field"] for c in diff) == [
        "petition.review_by", "verification.next_review_at", "verification.verified_at",
    ]

    clock.at = at(REVIEW_BY + dt.timedelta(days=5))  # approved two days later
    decided = client.post(
        f"/v1/submissions/{submission['id']}/decision", json={"decision": "approve", "reason": "Checked too"},
        headers=token(deployment, "reviewer", "Rosa Review"),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"]["applied_revision"] == 2

    item = client.get("/v1/listings/ru-open-ended").json()
    assert (item["status"], item["review_overdue"], item["revision"]) == ("active", False, 2)
    assert item["verification"]["verified_at"] == "2027-03-04"
    assert item["verification"]["next_review_at"] == "2027-05-01"
    assert item["petition"] == {"target": "State Duma", "review_by": "2027-06-01"}
    assert "ru-open-ended" in ids(client.get("/v1/countries/RU/listings"))
    history = client.get("/v1/listings/ru-open-ended/revisions").json()["data"]
    assert history[-1]["action"] == "update"
    assert sorted(history[-1]["changed"]) == ["petition.review_by", "verification.next_review_at", "verification.verified_at"]
    feed = client.get("/v1/changes", params={"limit": 500}).json()["data"]
    assert (feed[-1]["listing_id"], feed[-1]["revision"]) == ("ru-open-ended", 2)

    store = Store(deployment.db)
    try:
        actions = [(a.actor, a.action) for a in store.audit.all() if a.action.startswith("submission.")]
    finally:
        store.close()
    assert actions[-2:] == [("Cyril Check", "submission.create"), ("Rosa Review", "submission.approve")]


def test_four_eyes_no_one_approves_their_own_re_check(site, clock) -> None:
    client, deployment = site
    clock.at = at(REVIEW_BY + dt.timedelta(days=1))
    reviewer = token(deployment, "reviewer", "Solo Sam")
    submitted = client.post("/v1/submissions", json=verify_body(), headers=reviewer)
    assert submitted.status_code == 201, submitted.text
    same_person = token(deployment, "reviewer", "solo  SAM")
    for who in (reviewer, same_person):
        refused = client.post(
            f"/v1/submissions/{submitted.json()['id']}/decision", json={"decision": "approve", "reason": "Mine"}, headers=who,
        )
        assert refused.status_code == 403, refused.text
    assert client.get("/v1/listings/ru-open-ended").json()["status"] == "unverified"


def test_a_re_check_keeps_every_other_field(site, clock) -> None:
    client, deployment = site
    before = client.get("/v1/listings/ru-evacuation").json()
    submitted = client.post(
        "/v1/submissions", json=verify_body("ru-evacuation", review_by=None, next_review_at="2027-04-01"),
        headers=token(deployment, "curator", "Cleo Keep"),
    )
    assert submitted.status_code == 201, submitted.text
    proposed = submitted.json()["listing"]
    store = Store(deployment.db)
    try:
        stored = json.loads(msgspec.json.encode(store.listings.get("ru-evacuation").document))
    finally:
        store.close()
    stored["verification"].update(verified_at="2027-02-01", next_review_at="2027-04-01")
    assert proposed == stored
    assert before["verification"]["verified_at"] == "2026-11-20"


REFUSED_RE_CHECKS = {
    # (body changes, listing, field named)
    "review_by-on-an-organization": ({"review_by": "2027-04-01"}, "ru-evacuation", "review_by"),
    "review_by-missing-for-an-open-petition": ({"review_by": None}, "ru-open-ended", "review_by"),
    "next-review-in-the-past": ({"next_review_at": "2027-01-31"}, "ru-open-ended", "next_review_at"),
    "review_by-before-next-review": ({"review_by": "2027-04-30"}, "ru-open-ended", "review_by"),
    "review_by-too-far": ({"review_by": "2027-08-01"}, "ru-open-ended", "review_by"),
    "no-sources": ({"sources": []}, "ru-open-ended", "sources"),
    "bad-date": ({"next_review_at": "next week"}, "ru-open-ended", "next_review_at"),
    "unknown-field": ({"verified_at": "2020-01-01"}, "ru-open-ended", "verified_at"),
}


@pytest.mark.parametrize("case", REFUSED_RE_CHECKS)
def test_a_bad_re_check_is_a_400_naming_the_field(site, case: str) -> None:
    client, deployment = site
    changes, listing_id, field = REFUSED_RE_CHECKS[case]
    body = verify_body(listing_id, **{k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        body.pop(key)
    response = client.post("/v1/submissions", json=body, headers=token(deployment, "curator", f"Cato {case}"))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]], response.json()


def test_a_re_check_of_a_stale_missing_or_retired_listing_is_refused(site, deployment) -> None:
    client, _ = site
    curator = token(deployment, "curator", "Cass State")
    stale = client.post("/v1/submissions", json=verify_body(base_revision=2), headers=curator)
    assert stale.status_code == 409 and stale.json()["current_revision"] == 1
    missing = client.post("/v1/submissions", json=verify_body("ru-nowhere"), headers=curator)
    assert missing.status_code == 404
    deployment.reimport([d for d in review_listings() if d["id"] != "ug-shelter"])
    retired = client.post("/v1/submissions", json=verify_body("ug-shelter", base_revision=2, review_by=None), headers=curator)
    assert retired.status_code == 409, retired.text
    assert "retired" in retired.json()["detail"]


def test_a_re_check_that_went_stale_before_approval_is_409(site, clock) -> None:
    client, deployment = site
    submitted = client.post("/v1/submissions", json=verify_body(), headers=token(deployment, "curator", "Cleo Race"))
    assert submitted.status_code == 201
    deployment.reimport([*default_listings(), open_petition(target="Federation Council")])  # revision 2
    decided = client.post(
        f"/v1/submissions/{submitted.json()['id']}/decision", json={"decision": "approve", "reason": "ok"},
        headers=token(deployment, "reviewer", "Reva Race"),
    )
    assert decided.status_code == 409
    assert client.get("/v1/listings/ru-open-ended").json()["petition"]["target"] == "Federation Council"


# --- older databases ------------------------------------------------------------------------------


def test_a_petition_stored_before_review_by_existed_falls_due_at_its_next_review(tmp_path: Path, clock) -> None:
    """A database written by the previous release: its petition without a closing day gets its
    next_review_at as deadline when the store upgrades, so it cannot linger either."""
    from api.store import migrations as migrations_module  # noqa: PLC0415

    db = tmp_path / "old.db"
    legacy = without_review_by(open_petition("ru-legacy"))
    conn = sqlite3.connect(db)
    try:
        import sqlite_utils  # noqa: PLC0415

        old = sqlite_utils.Database(conn)
        for migration in migrations_module.MIGRATIONS[:5]:
            migration(old)
        conn.execute("pragma user_version = 5")
        conn.execute(
            "insert into listings (id, kind, status, worldwide, revision, updated_at, document, link_status, link_hold) "
            "values ('ru-legacy', 'petition', 'active', 0, 1, '2026-11-20T00:00:00+00:00', ?, 'unchecked', 0)",
            (msgspec.json.encode(legacy).decode(),),
        )
        conn.execute("insert into listing_countries (country, listing_id) values ('RU', 'ru-legacy')")
        conn.commit()
    finally:
        conn.close()
    Store(db).close()  # opening read-write migrates
    with TestClient(create_app(load_settings(db=db), clock=clock)) as client:
        clock.at = at(NEXT_REVIEW)
        assert "ru-legacy" in ids(client.get("/v1/countries/RU/listings"))
        clock.at = at(NEXT_REVIEW + dt.timedelta(days=1))
        assert "ru-legacy" not in ids(client.get("/v1/countries/RU/listings"))
        assert client.get("/v1/listings/ru-legacy").json()["status"] == "unverified"


# --- every listing is looked at again within a year ------------------------------------------------


@pytest.mark.parametrize("next_review_at", [dt.date(2027, 11, 22), dt.date(2099, 1, 1), dt.date(9999, 12, 31)])
def test_a_next_review_past_a_year_is_refused_at_import(tmp_path: Path, next_review_at: dt.date) -> None:
    """A far-future ``next_review_at`` would keep a listing from ever being flagged overdue."""
    doc = listing("ru-evacuation")
    doc["verification"]["next_review_at"] = next_review_at
    write_dataset(tmp_path, [doc])
    with pytest.raises(DatasetInvalid) as refused:
        load_directory(tmp_path)
    assert [(p.field, "366 days" in p.message) for p in refused.value.problems] == [("verification.next_review_at", True)]


def test_a_next_review_a_year_and_a_day_after_is_the_last_accepted(tmp_path: Path) -> None:
    doc = listing("ru-evacuation")
    doc["verification"]["next_review_at"] = VERIFIED + dt.timedelta(days=366)
    write_dataset(tmp_path, [doc])
    listings, _ = load_directory(tmp_path)
    assert listings[0].verification.next_review_at == dt.date(2027, 11, 21)


def test_a_submission_or_re_check_past_a_year_is_a_problem_naming_the_field(site, deployment) -> None:
    client, _ = site
    curator = token(deployment, "curator", "Yara Year")
    far = client.post(
        "/v1/submissions",
        json=verify_body("ru-evacuation", review_by=None, next_review_at="2099-01-01"),
        headers=curator,
    )
    assert far.status_code == 400, far.text
    assert [e["field"] for e in far.json()["errors"]] == ["next_review_at"]
    doc = listing("ru-evacuation")
    doc["verification"]["next_review_at"] = "9999-12-31"
    doc["verification"]["verified_at"] = doc["verification"]["verified_at"].isoformat()
    update = client.post(
        "/v1/submissions",
        json={"action": "update", "listing_id": "ru-evacuation", "base_revision": 1, "listing": doc,
              "note": "Pushes the review out", "sources": SOURCES},
        headers=curator,
    )
    assert update.status_code == 400, update.text
    assert "listing.verification.next_review_at" in [e["field"] for e in update.json()["errors"]]
