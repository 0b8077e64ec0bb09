"""Work per request that must not grow with the data: ``/healthz`` (load balancers call it all
the time) and the vetting summary (one page for every listing). Statements are counted on the
app's own store (``Store.traced``), over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from factory import default_listings, listing, write_dataset
from litestar.testing import TestClient

from api.app import create_app
from api.clock import FixedClock
from api.dataset import import_directory
from api.services.tokens import create_token
from api.settings import load_settings
from api.store import Store

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def build(root: Path, extra: int) -> tuple[Path, str]:
    """The default listings plus ``extra`` more, each with a broken link check, and a reviewer."""
    docs = default_listings() + [listing(f"ru-extra-{i:03d}") for i in range(extra)]
    write_dataset(root / "data", docs)
    db = root / "costs.db"
    store = Store(db, create=True, clock=FixedClock(NOW))
    try:
        import_directory(root / "data", store)
        for doc in docs:
            store.link_checks.add(listing_id=doc["id"], checked_at=NOW, status="broken", http_status=404,
                                  final_url=None, needs_review=False)
        store.link_checks.finish_run(len(docs))
        token, _ = create_token(store, name="Rita Reviewer", role="reviewer", expires_in_days=None, actor="test")
    finally:
        store.close()
    return db, token


@contextmanager
def serving(db: Path) -> Iterator[tuple[TestClient, Store]]:
    """The app over the store it reads with, so a test can trace that store's statements."""
    store = Store(db, clock=FixedClock(NOW))
    try:
        with TestClient(create_app(load_settings(db=db), store=store)) as client:
            yield client, store
    finally:
        store.close()


# --- /healthz ------------------------------------------------------------------------------------


def test_healthz_counts_the_listings_once_per_revision_not_per_request(tmp_path: Path) -> None:
    db, _ = build(tmp_path, extra=3)
    with serving(db) as (client, store):
        first = client.get("/healthz").json()
        assert first == {"status": "ok", "revision": 2, "listings": len(default_listings()) + 3}
        with store.traced() as statements:
            for _ in range(3):
                assert client.get("/healthz").json() == first
        assert not [s for s in statements if "count(" in s.lower()], statements
        assert len(statements) <= 3 * 2  # the revision read (and nothing that scans listings)


def test_healthz_counts_again_when_another_process_changes_the_listings(tmp_path: Path) -> None:
    db, _ = build(tmp_path, extra=3)
    with serving(db) as (client, _store):
        before = client.get("/healthz").json()
        write_dataset(tmp_path / "data", default_listings()[1:])  # every extra and one default retired
        importer = Store(db)
        try:
            import_directory(tmp_path / "data", importer)
        finally:
            importer.close()
        after = client.get("/healthz").json()
    assert after == {"status": "ok", "revision": before["revision"] + 1, "listings": len(default_listings()) - 1}


# --- the vetting summary -------------------------------------------------------------------------


def summary_statements(tmp_path: Path, extra: int) -> tuple[list[str], dict]:
    db, token = build(tmp_path / f"n{extra}", extra)
    with serving(db) as (client, store):
        headers = {"Authorization": f"Bearer {token}"}
        client.get("/v1/vetting/summary", headers=headers)  # the token's first use is stamped (a write)
        with store.traced() as statements:
            response = client.get("/v1/vetting/summary", headers=headers)
    assert response.status_code == 200, response.text
    return statements, response.json()


def test_the_vetting_summary_makes_the_same_queries_for_ten_listings_as_for_forty(tmp_path: Path) -> None:
    few, few_body = summary_statements(tmp_path, extra=5)
    many, many_body = summary_statements(tmp_path, extra=35)
    assert few_body["counts"]["link_problems"] == len(default_listings()) + 5
    assert many_body["counts"]["link_problems"] == len(default_listings()) + 35
    assert len(few) == len(many), (few, many)
    assert len(many) <= 8, many


def test_every_problem_in_the_summary_counts_its_failures_and_its_hold(tmp_path: Path) -> None:
    """What the one query reads per listing is what two queries per listing read before."""
    _, body = summary_statements(tmp_path, extra=2)
    problems = {p["listing_id"]: p for p in body["link_problems"]}
    assert {p["consecutive_failures"] for p in problems.values()} == {1}
    assert not any(p["held"] for p in problems.values())  # one failure: not held yet
    assert {p["status"] for p in problems.values()} == {"broken"}


@pytest.mark.parametrize("open_reports", [1_000, 1_001, 1_250])
def test_the_vetting_summary_counts_every_open_report(tmp_path: Path, open_reports: int) -> None:
    db, token = build(tmp_path, extra=0)
    store = Store(db)
    try:
        with store.transaction():
            for i in range(open_reports + 3):
                store.reports.add(listing_id="ru-evacuation", reason="broken_link", details=f"report {i}")
            for report_id in range(1, 4):  # three resolved ones are not counted
                store.reports.resolve(report_id, resolved_by=1, resolution="fixed")
    finally:
        store.close()
    with serving(db) as (client, _store):
        body = client.get("/v1/vetting/summary", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["counts"]["open_reports"] == open_reports
    assert len(body["open_reports"]) == open_reports
    assert [r["id"] for r in body["open_reports"]] == list(range(4, open_reports + 4))
