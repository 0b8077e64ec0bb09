"""Lifecycle rules with a controllable clock: petitions close, reviews fall due, links that
fail twice in a row hold a listing back until a reviewer acts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from conftest import Deployment
from factory import default_listings, listing
from litestar.testing import TestClient

from api.app import create_app
from api.clock import FixedClock
from api.services.tokens import create_token
from api.settings import load_settings
from api.store import Store

CLOSES = dt.date(2026, 12, 31)
REVIEW_DUE = dt.date(2027, 2, 20)  # the factory's next_review_at


def lifecycle_listings() -> list[dict]:
    return [
        *default_listings(),
        listing(
            "ru-open-letter",
            kind="petition",
            petition={"target": "Prosecutor General", "closes_at": CLOSES},
        ),
    ]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 12, 30, 12, 0, tzinfo=dt.UTC))


@pytest.fixture
def site(deployment: Deployment, clock: FixedClock) -> Iterator[tuple[TestClient, Deployment]]:
    deployment.reimport(lifecycle_listings())
    app = create_app(load_settings(db=deployment.db), clock=clock)
    with TestClient(app) as client:
        yield client, deployment


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def reviewer_headers(deployment: Deployment, name: str = "Rita Reviewer") -> dict[str, str]:
    store = Store(deployment.db)
    try:
        token, _ = create_token(store, name=name, role="reviewer", expires_in_days=None, actor="test")
    finally:
        store.close()
    return {"Authorization": f"Bearer {token}"}


def record_checks(deployment: Deployment, listing_id: str, *statuses: str, at: dt.datetime) -> None:
    """What `actiondir check-links` records, one check per status, then the end of the run."""
    store = Store(deployment.db)
    try:
        for n, status in enumerate(statuses):
            store.link_checks.add(
                listing_id=listing_id,
                checked_at=at + dt.timedelta(minutes=n),
                status=status,
                http_status=404 if status == "broken" else 200,
                final_url=None,
                needs_review=False,
            )
        store.link_checks.finish_run(len(statuses))
    finally:
        store.close()


# --- petitions close ----------------------------------------------------------------------------


def test_a_petition_leaves_the_default_lists_the_day_after_it_closes(site, clock):
    client, _ = site
    assert "ru-open-letter" in ids(client.get("/v1/countries/RU/listings"))
    clock.advance(days=1)  # 2026-12-31: the last day to sign
    assert "ru-open-letter" in ids(client.get("/v1/countries/RU/listings"))
    assert client.get("/v1/listings/ru-open-letter").json()["status"] == "active"

    clock.advance(days=1)  # 2027-01-01: closed
    assert "ru-open-letter" not in ids(client.get("/v1/countries/RU/listings"))
    assert "ru-open-letter" not in ids(client.get("/v1/listings", params={"kind": "petition"}))
    one = client.get("/v1/listings/ru-open-letter")
    assert one.status_code == 200
    assert one.json()["status"] == "closed"


def test_include_closed_lists_closed_petitions_with_their_status(site, clock):
    client, _ = site
    clock.advance(days=5)
    page = client.get("/v1/listings", params={"include": "closed", "kind": "petition"}).json()["data"]
    statuses = {item["id"]: item["status"] for item in page}
    assert statuses["ru-open-letter"] == "closed"
    assert statuses["br-kiss-in"] == "active"  # no closes_at: stays open


def test_closing_changes_counts_and_etags_without_a_dataset_change(site, clock):
    client, _ = site
    before = client.get("/v1/countries/RU")
    revision = before.headers["x-dataset-revision"]
    assert before.json()["counts"]["petition"] == 1
    clock.advance(days=2)
    after = client.get("/v1/countries/RU", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200  # not 304: the answer changed with the date
    assert after.json()["counts"]["petition"] == 0
    assert after.headers["x-dataset-revision"] == revision


def test_the_dataset_keeps_closed_listings_with_their_status(site, clock):
    client, _ = site
    clock.advance(days=3)
    items = {item["listing"]["id"]: item["status"] for item in client.get("/v1/dataset").json()["listings"]}
    assert items["ru-open-letter"] == "closed"


# --- reviews fall due ---------------------------------------------------------------------------


def test_overdue_reviews_are_flagged_on_listings_and_in_the_summary(site, clock):
    client, deployment = site
    headers = reviewer_headers(deployment)
    assert client.get("/v1/listings/ru-evacuation").json()["review_overdue"] is False
    assert client.get("/v1/vetting/summary", headers=headers).json()["counts"]["overdue_reviews"] == 0

    clock.at = dt.datetime.combine(REVIEW_DUE + dt.timedelta(days=3), dt.time(9), tzinfo=dt.UTC)
    assert client.get("/v1/listings/ru-evacuation").json()["review_overdue"] is True
    summary = client.get("/v1/vetting/summary", headers=headers).json()
    overdue = {o["listing_id"]: o["days_overdue"] for o in summary["overdue_reviews"]}
    assert overdue["ru-evacuation"] == 3
    assert len(overdue) == len(lifecycle_listings())
    assert summary["as_of"] == "2027-02-23"


def test_the_summary_lists_closing_petitions_and_open_reports(site, clock):
    client, deployment = site
    client.post("/v1/listings/ru-evacuation/reports", json={"reason": "outdated"})
    summary = client.get("/v1/vetting/summary", headers=reviewer_headers(deployment)).json()
    assert summary["closing_petitions"] == [
        {"listing_id": "ru-open-letter", "closes_at": "2026-12-31", "days_left": 1}
    ]
    assert [r["listing_id"] for r in summary["open_reports"]] == ["ru-evacuation"]
    assert summary["counts"]["open_reports"] == 1


def test_the_summary_is_for_reviewers_only(site):
    client, deployment = site
    assert client.get("/v1/vetting/summary").status_code == 401
    store = Store(deployment.db)
    try:
        token, _ = create_token(store, name="Cora Curator", role="curator", expires_in_days=None, actor="test")
    finally:
        store.close()
    assert client.get("/v1/vetting/summary", headers={"Authorization": f"Bearer {token}"}).status_code == 403


# --- broken links hold a listing back ------------------------------------------------------------


def test_one_broken_check_is_flagged_two_in_a_row_hold_the_listing_back(site, clock):
    client, deployment = site
    at = clock.now()
    record_checks(deployment, "ru-legal-aid", "broken", at=at)
    assert "ru-legal-aid" in ids(client.get("/v1/countries/RU/listings"))
    item = client.get("/v1/listings/ru-legal-aid").json()
    assert item["status"] == "active"
    assert item["link_check"]["status"] == "broken"

    record_checks(deployment, "ru-legal-aid", "broken", at=at + dt.timedelta(days=1))
    assert "ru-legal-aid" not in ids(client.get("/v1/countries/RU/listings"))
    assert client.get("/v1/listings/ru-legal-aid").json()["status"] == "unverified"
    everything = client.get("/v1/countries/RU/listings", params={"include": "unverified,closed"})
    assert "ru-legal-aid" in ids(everything)
    problems = client.get("/v1/vetting/summary", headers=reviewer_headers(deployment)).json()["link_problems"]
    assert [(p["listing_id"], p["held"], p["consecutive_failures"]) for p in problems] == [("ru-legal-aid", True, 2)]


def test_a_working_check_between_failures_resets_the_count(site, clock):
    client, deployment = site
    record_checks(deployment, "ru-legal-aid", "broken", "ok", "unreachable", at=clock.now())
    assert "ru-legal-aid" in ids(client.get("/v1/countries/RU/listings"))


def test_a_reviewer_releases_a_hold(site, clock):
    client, deployment = site
    record_checks(deployment, "ru-legal-aid", "broken", "broken", at=clock.now())
    headers = reviewer_headers(deployment)
    released = client.post(
        "/v1/vetting/holds/ru-legal-aid/release", json={"reason": "Checked by hand: the page works"}, headers=headers
    )
    assert released.status_code == 200, released.text
    assert released.json() == {"listing_id": "ru-legal-aid", "status": "active"}
    assert "ru-legal-aid" in ids(client.get("/v1/countries/RU/listings"))
    again = client.post("/v1/vetting/holds/ru-legal-aid/release", json={"reason": "twice"}, headers=headers)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_an_approved_change_releases_a_hold(site, clock):
    client, deployment = site
    record_checks(deployment, "ru-legal-aid", "broken", "broken", at=clock.now())
    store = Store(deployment.db)
    try:
        curator, _ = create_token(store, name="Cleo Curator", role="curator", expires_in_days=None, actor="test")
    finally:
        store.close()
    doc = next(d for d in lifecycle_listings() if d["id"] == "ru-legal-aid")
    doc = {**doc, "url": "https://ru-legal-aid.example.org/new-page"}
    doc["verification"] = {**doc["verification"], "verified_at": "2026-11-20", "next_review_at": "2027-02-20"}
    submitted = client.post(
        "/v1/submissions",
        json={"action": "update", "listing_id": "ru-legal-aid", "base_revision": 1, "listing": doc,
              "note": "The donation page moved", "sources": ["https://ru-legal-aid.example.org/about"]},
        headers={"Authorization": f"Bearer {curator}"},
    )
    assert submitted.status_code == 201, submitted.text
    decided = client.post(
        f"/v1/submissions/{submitted.json()['id']}/decision",
        json={"decision": "approve", "reason": "New page checked"},
        headers=reviewer_headers(deployment),
    )
    assert decided.status_code == 200, decided.text
    item = client.get("/v1/listings/ru-legal-aid").json()
    assert item["status"] == "active"
    assert item["url"].endswith("/new-page")


def test_releasing_what_does_not_exist_or_is_not_held(site):
    client, deployment = site
    headers = reviewer_headers(deployment)
    assert client.post("/v1/vetting/holds/nope/release", json={"reason": "x"}, headers=headers).status_code == 404
    assert client.post("/v1/vetting/holds/ru-evacuation/release", json={"reason": "x"}, headers=headers).status_code == 409
