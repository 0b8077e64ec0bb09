"""Curation over HTTP: tokens, submissions and decisions, history, the changes feed, reports, audit.

Everything goes through the real app (litestar's TestClient, an httpx client) on a real SQLite
file. Building an app costs most of a second (it renders the OpenAPI schema), so the tests share
one module-scoped ``site``: each test mints its own tokens (unique names) and proposes its own
listings (unique ids), and asserts on *changes* (revision +1, one new audit row), never on
absolute counts. Tests that need other settings or a pristine database build their own.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from conftest import Deployment
from factory import TOPICS, default_listings, listing, write_dataset
from litestar.testing import TestClient

from api.cli import cli
from api.dataset import DatasetInvalid, load_directory
from api.services.tokens import create_token
from api.store import Store

PROBLEM = "application/problem+json"
INVALID = "urn:actiondir:problem:invalid-request"
TOKEN_SHAPE = re.compile(r"^ad_[A-Za-z0-9_-]{43}$")
SOURCES = ["https://sources.example.org/check"]

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_serial)}"


def new_id(prefix: str = "ru-cur") -> str:
    """A listing id no other test uses (slug: lower-case letters, digits, hyphens)."""
    return f"{prefix}-{next(_serial)}"


def document(listing_id: str, **changes: Any) -> dict[str, Any]:
    """A valid listing document as JSON-ready builtins (dates as ISO strings)."""
    return json.loads(msgspec.json.encode(listing(listing_id, **changes)))


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    token: str
    token_id: int

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Site:
    """A deployment, the app serving it, and a second app (another process) on the same file."""

    dep: Deployment
    http: TestClient
    replica: TestClient

    # --- people -------------------------------------------------------------------------

    def mint(self, role: str, name: str | None = None, *, expires_in_days: int | None = None) -> Person:
        """A token made the way `actiondir token create` makes one (create_token on a Store)."""
        name = name or unique({"curator": "Curatorova ", "reviewer": "Reviewski ", "admin": "Adminsson "}[role])
        store = Store(self.dep.db)
        try:
            secret, row = create_token(store, name=name, role=role, expires_in_days=expires_in_days, actor="test")
        finally:
            store.close()
        return Person(name=name, role=role, token=secret, token_id=row.id)

    # --- curation -----------------------------------------------------------------------

    def submit(self, who: Person, body: dict[str, Any]):
        return self.http.post("/v1/submissions", json=body, headers=who.auth)

    def decide(self, who: Person, submission_id: int, decision: str = "approve", reason: str = "Checked the sources"):
        return self.http.post(
            f"/v1/submissions/{submission_id}/decision", json={"decision": decision, "reason": reason}, headers=who.auth
        )

    def submission(self, who: Person, submission_id: int) -> dict[str, Any]:
        response = self.http.get(f"/v1/submissions/{submission_id}", headers=who.auth)
        assert response.status_code == 200, response.text
        return response.json()

    def live(self, listing_id: str, **changes: Any) -> dict[str, Any]:
        """Propose a new listing and have it approved: it is live at revision 1."""
        doc = document(listing_id, **changes)
        curator, reviewer = self.mint("curator"), self.mint("reviewer")
        response = self.submit(curator, create_body(doc))
        assert response.status_code == 201, response.text
        decided = self.decide(reviewer, response.json()["id"])
        assert decided.status_code == 200, decided.text
        assert self.current(listing_id) == doc
        return doc

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        """Submit and approve (by two different people); returns the decided submission."""
        curator, reviewer = self.mint("curator"), self.mint("reviewer")
        response = self.submit(curator, body)
        assert response.status_code == 201, response.text
        decided = self.decide(reviewer, response.json()["id"])
        assert decided.status_code == 200, decided.text
        return decided.json()

    # --- what the public sees -----------------------------------------------------------

    def dataset(self) -> dict[str, Any]:
        response = self.http.get("/v1/dataset")
        assert response.status_code == 200, response.text
        return response.json()

    def current(self, listing_id: str) -> dict[str, Any] | None:
        """The listing document as /v1/dataset serves it (None when not there)."""
        return next((i["listing"] for i in self.dataset()["listings"] if i["listing"]["id"] == listing_id), None)

    def health(self) -> dict[str, Any]:
        response = self.http.get("/healthz")
        assert response.status_code == 200, response.text
        return response.json()

    # --- the database, read directly ----------------------------------------------------

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.dep.db)
        try:
            return conn.execute(query, params).fetchall()
        finally:
            conn.close()

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> None:
        conn = sqlite3.connect(self.dep.db)
        try:
            with conn:
                conn.execute(query, params)
        finally:
            conn.close()

    def last_audit_id(self) -> int:
        return self.sql("select coalesce(max(id), 0) from audit")[0][0]

    def audit_since(self, after_id: int) -> list[dict[str, Any]]:
        rows = self.sql("select id, at, actor, action, target, details from audit where id > ? order by id", (after_id,))
        return [
            {"id": r[0], "at": r[1], "actor": r[2], "action": r[3], "target": r[4], "details": json.loads(r[5])}
            for r in rows
        ]

    def token_names(self) -> list[str]:
        return [r[0] for r in self.sql("select distinct name from tokens")]


def create_body(doc: dict[str, Any], note: str = "A new listing") -> dict[str, Any]:
    return {"action": "create", "listing": doc, "note": note, "sources": SOURCES}


def update_body(doc: dict[str, Any], base_revision: int, note: str = "A correction") -> dict[str, Any]:
    return {
        "action": "update", "listing_id": doc["id"], "base_revision": base_revision, "listing": doc,
        "note": note, "sources": SOURCES,
    }


def retire_body(listing_id: str, base_revision: int, note: str = "Closed down") -> dict[str, Any]:
    return {"action": "retire", "listing_id": listing_id, "base_revision": base_revision, "note": note, "sources": SOURCES}


def retitled(doc: dict[str, Any], title: str) -> dict[str, Any]:
    changed = json.loads(json.dumps(doc))
    changed["translations"]["en"]["title"] = title
    return changed


def problem(response, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem with this status; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


def error_fields(response) -> list[str]:
    body = problem(response, 400)
    assert body["type"] == INVALID
    return [e["field"] for e in body["errors"]]


def unauthorized(response) -> dict[str, Any]:
    body = problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer"), response.headers
    return body


def cli_run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("curation")
    dep = Deployment(data=root / "data", db=root / "test.db")
    dep.reimport(default_listings())
    # Reports are rate limited per address: the shared app must not run out (one test checks the limit).
    with dep.client(reports_per_minute=10_000) as http, dep.client(reports_per_minute=10_000) as replica:
        yield Site(dep=dep, http=http, replica=replica)


# --- 401: who are you? ---------------------------------------------------------------------------

GUARDED: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/submissions", None),
    ("POST", "/v1/submissions", retire_body("ru-evacuation", 1)),
    ("GET", "/v1/submissions/1", None),
    ("POST", "/v1/submissions/1/decision", {"decision": "approve", "reason": "ok"}),
    ("GET", "/v1/reports", None),
    ("POST", "/v1/reports/1/resolution", {"resolution": "fixed"}),
    ("GET", "/v1/tokens", None),
    ("POST", "/v1/tokens", {"name": "Mallory", "role": "admin"}),
    ("POST", "/v1/tokens/1/revocation", None),
]


def call(client: TestClient, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]):
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(path, json=body, headers=headers)


@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda admin: {}, id="no-header"),
        pytest.param(lambda admin: {"Authorization": ""}, id="empty"),
        pytest.param(lambda admin: {"Authorization": "Bearer"}, id="bearer-without-token"),
        pytest.param(lambda admin: {"Authorization": "Basic YWRtaW46YWRtaW4="}, id="basic-scheme"),
        pytest.param(lambda admin: {"Authorization": f"Token {admin.token}"}, id="valid-secret-wrong-scheme"),
        pytest.param(lambda admin: {"Authorization": f"{admin.token}"}, id="valid-secret-no-scheme"),
        pytest.param(lambda admin: {"Authorization": "Bearer ad_" + "A" * 43}, id="unknown-token"),
        pytest.param(lambda admin: {"Authorization": f"Bearer {admin.token[:-1]}"}, id="truncated-token"),
        pytest.param(lambda admin: {"Authorization": f"Bearer {admin.token.upper()}"}, id="case-changed-token"),
    ],
)
def test_every_guarded_endpoint_answers_401_without_a_valid_bearer_token(site: Site, make_header) -> None:
    admin = site.mint("admin")
    before = site.last_audit_id()
    for method, path, body in GUARDED:
        response = call(site.http, method, path, body, make_header(admin))
        body_out = unauthorized(response)
        assert body_out["instance"] == path
        assert response.headers["cache-control"] == "no-store"
    assert site.audit_since(before) == []
    # The admin's real token gets past authentication (the scheme is case-insensitive, RFC 9110).
    assert site.http.get("/v1/tokens", headers=admin.auth).status_code == 200
    assert site.http.get("/v1/tokens", headers={"Authorization": f"bearer {admin.token}"}).status_code == 200


def test_unknown_token_problem_does_not_say_more_than_unknown(site: Site) -> None:
    body = unauthorized(site.http.get("/v1/submissions", headers={"Authorization": "Bearer ad_nope"}))
    assert body["detail"] == "unknown token"


def test_a_token_revoked_with_the_cli_answers_401(site: Site) -> None:
    curator = site.mint("curator")
    assert site.http.get("/v1/submissions", headers=curator.auth).status_code == 200

    result = cli_run("token", "revoke", str(curator.token_id), "--db", str(site.dep.db))
    assert result.exit_code == 0, result.output
    assert f"revoked token {curator.token_id}" in result.output

    body = unauthorized(site.http.get("/v1/submissions", headers=curator.auth))
    assert "revoked" in body["detail"]
    # Another process serving the same file sees it at once too.
    unauthorized(site.replica.get("/v1/submissions", headers=curator.auth))
    # Revoking twice is an error that says so, and changes nothing.
    again = cli_run("token", "revoke", str(curator.token_id), "--db", str(site.dep.db))
    assert again.exit_code != 0
    assert "already revoked" in again.output
    missing = cli_run("token", "revoke", "999999", "--db", str(site.dep.db))
    assert missing.exit_code != 0
    assert "no token 999999" in missing.output


def test_a_token_revoked_over_the_api_answers_401(site: Site) -> None:
    admin, reviewer = site.mint("admin"), site.mint("reviewer")
    assert site.http.get("/v1/reports", headers=reviewer.auth).status_code == 200

    response = site.http.post(f"/v1/tokens/{reviewer.token_id}/revocation", headers=admin.auth)
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["id"] == reviewer.token_id and info["name"] == reviewer.name
    assert info["revoked_at"] is not None
    assert "token" not in info and "hash" not in info

    body = unauthorized(site.http.get("/v1/reports", headers=reviewer.auth))
    assert "revoked" in body["detail"]
    problem(site.http.post(f"/v1/tokens/{reviewer.token_id}/revocation", headers=admin.auth), 409)
    problem(site.http.post("/v1/tokens/999999/revocation", headers=admin.auth), 404)
    # An admin can revoke their own token; from then on it is refused like any other.
    assert site.http.post(f"/v1/tokens/{admin.token_id}/revocation", headers=admin.auth).status_code == 200
    unauthorized(site.http.get("/v1/tokens", headers=admin.auth))


def test_an_expired_token_answers_401(site: Site) -> None:
    reviewer = site.mint("reviewer", expires_in_days=30)
    (expires_at,) = site.sql("select expires_at from tokens where id = ?", (reviewer.token_id,))[0]
    assert dt.datetime.fromisoformat(expires_at) > dt.datetime.now(dt.UTC) + dt.timedelta(days=29)
    assert site.http.get("/v1/reports", headers=reviewer.auth).status_code == 200

    past = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).replace(microsecond=0).isoformat()
    site.execute("update tokens set expires_at = ? where id = ?", (past, reviewer.token_id))

    body = unauthorized(site.http.get("/v1/reports", headers=reviewer.auth))
    assert "expired" in body["detail"]
    unauthorized(site.replica.get("/v1/reports", headers=reviewer.auth))


# --- 403: known, but not allowed -----------------------------------------------------------------


def test_a_curator_cannot_decide(site: Site) -> None:
    doc = site.live(new_id())
    author, other_curator = site.mint("curator"), site.mint("curator")
    submitted = site.submit(author, retire_body(doc["id"], 1))
    assert submitted.status_code == 201, submitted.text
    submission_id = submitted.json()["id"]
    before = site.last_audit_id()

    body = problem(site.decide(other_curator, submission_id), 403)
    assert "reviewer" in body["detail"]
    problem(site.decide(author, submission_id, "reject"), 403)

    assert site.submission(author, submission_id)["status"] == "pending"
    assert site.http.get(f"/v1/listings/{doc['id']}").status_code == 200
    assert site.audit_since(before) == []


def test_a_curator_cannot_read_or_resolve_reports(site: Site) -> None:
    curator, reviewer = site.mint("curator"), site.mint("reviewer")
    report = site.http.post("/v1/listings/ru-evacuation/reports", json={"reason": "outdated"})
    assert report.status_code == 202, report.text
    report_id = report.json()["id"]

    problem(site.http.get("/v1/reports", headers=curator.auth), 403)
    problem(site.http.get("/v1/reports?status=open", headers=curator.auth), 403)
    problem(site.http.post(f"/v1/reports/{report_id}/resolution", json={"resolution": "x"}, headers=curator.auth), 403)
    # A reviewer can (so the 403 is about the role, not the endpoint).
    listed = site.http.get("/v1/reports?status=open&limit=100", headers=reviewer.auth)
    assert listed.status_code == 200
    reports = listed.json()["data"]
    while listed.json()["next_cursor"]:
        listed = site.http.get(f"/v1/reports?status=open&limit=100&cursor={listed.json()['next_cursor']}", headers=reviewer.auth)
        reports += listed.json()["data"]
    assert report_id in [r["id"] for r in reports]


def test_a_reviewer_cannot_manage_tokens(site: Site) -> None:
    reviewer, admin, victim = site.mint("reviewer"), site.mint("admin"), site.mint("curator")
    before = site.last_audit_id()
    tokens_before = site.sql("select count(*) from tokens")[0][0]

    problem(site.http.get("/v1/tokens", headers=reviewer.auth), 403)
    problem(site.http.post("/v1/tokens", json={"name": "Sneaky", "role": "admin"}, headers=reviewer.auth), 403)
    problem(site.http.post(f"/v1/tokens/{victim.token_id}/revocation", headers=reviewer.auth), 403)

    assert site.sql("select count(*) from tokens")[0][0] == tokens_before
    assert site.http.get("/v1/submissions", headers=victim.auth).status_code == 200  # not revoked
    assert site.audit_since(before) == []
    assert site.http.get("/v1/tokens", headers=admin.auth).status_code == 200


# --- tokens at rest --------------------------------------------------------------------------------


def database_bytes(db: Path) -> bytes:
    """Every byte SQLite keeps for this database: the file, its WAL and shared memory."""
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), db.with_name(db.name + "-journal")]
    return b"".join(p.read_bytes() for p in files if p.exists())


def test_token_plaintext_is_never_written_to_the_database(site: Site) -> None:
    admin = site.mint("admin")
    cli_result = cli_run("token", "create", "--name", unique("Clio "), "--role", "reviewer", "--db", str(site.dep.db))
    assert cli_result.exit_code == 0, cli_result.output
    from_cli = cli_result.stdout.strip()
    api_response = site.http.post("/v1/tokens", json={"name": unique("Apia "), "role": "curator"}, headers=admin.auth)
    assert api_response.status_code == 201, api_response.text
    from_api = api_response.json()["token"]
    assert api_response.headers["cache-control"] == "no-store"

    secrets = [admin.token, from_cli, from_api]
    for secret in secrets:  # use each one: last_used_at and any other write happen now
        assert TOKEN_SHAPE.match(secret), secret
        assert site.http.get("/v1/submissions", headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    stored = database_bytes(site.dep.db)
    assert len(stored) > 10_000
    for secret in secrets:
        raw = base64.urlsafe_b64decode(secret.removeprefix("ad_") + "=")
        assert secret.encode() not in stored
        assert secret.removeprefix("ad_").encode() not in stored
        assert raw not in stored
        # What *is* kept is the SHA-256 (so the search above was looking in the right place).
        assert hashlib.sha256(secret.encode()).hexdigest().encode() in stored


def test_token_create_prints_the_token_alone_on_the_last_line(site: Site) -> None:
    name = unique("Ana Token ")
    result = cli_run("token", "create", "--name", name, "--role", "reviewer", "--expires-in-days", "180", "--db", str(site.dep.db))
    assert result.exit_code == 0, result.output
    last = result.output.splitlines()[-1]
    assert TOKEN_SHAPE.match(last), result.output
    assert result.stdout == last + "\n"  # `| tail -n1` and `$(...)` both get exactly the token
    assert "180" not in last and name not in last

    # It is a working token with the role asked for.
    auth = {"Authorization": f"Bearer {last}"}
    assert site.http.get("/v1/reports", headers=auth).status_code == 200
    problem(site.http.get("/v1/tokens", headers=auth), 403)
    (role, expires_at) = site.sql("select role, expires_at from tokens where name = ?", (name,))[0]
    assert role == "reviewer"
    assert dt.datetime.fromisoformat(expires_at) > dt.datetime.now(dt.UTC) + dt.timedelta(days=179)


def test_token_list_shows_state_and_last_use_but_never_secrets(site: Site) -> None:
    used, unused, revoked, expired = (site.mint("curator") for _ in range(4))
    assert site.http.get("/v1/submissions", headers=used.auth).status_code == 200
    # The stamp is written by the writer thread just after the answer: wait for it.
    assert eventually(lambda: site.sql("select last_used_at from tokens where id = ?", (used.token_id,))[0][0])
    assert cli_run("token", "revoke", str(revoked.token_id), "--db", str(site.dep.db)).exit_code == 0
    site.execute("update tokens set expires_at = '2020-01-01T00:00:00+00:00' where id = ?", (expired.token_id,))

    result = cli_run("token", "list", "--db", str(site.dep.db))
    assert result.exit_code == 0, result.output
    rows = {int(line.split()[0]): line for line in result.output.splitlines()[1:]}
    assert rows[used.token_id].split()[2] == "active"
    assert rows[unused.token_id].split()[2] == "active"
    assert rows[revoked.token_id].split()[2] == "revoked"
    assert rows[expired.token_id].split()[2] == "expired"
    assert rows[used.token_id].rstrip().endswith(used.name)
    assert "never" in rows[unused.token_id]
    assert "never" not in rows[used.token_id]
    stamp = rows[used.token_id].split()[3]
    assert abs(dt.datetime.fromisoformat(stamp) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=2)

    stored_hashes = [r[0] for r in site.sql("select hash from tokens")]
    for person in (used, unused, revoked, expired):
        assert person.token not in result.output
        assert person.token.removeprefix("ad_")[:16] not in result.output
    for token_hash in stored_hashes:
        assert token_hash not in result.output and token_hash[:16] not in result.output


def eventually(read: Any, timeout: float = 5.0) -> Any:
    """The first truthy value ``read()`` gives within ``timeout`` seconds (else its last)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def test_last_used_at_is_recorded_and_shown_to_admins(site: Site) -> None:
    admin, curator = site.mint("admin"), site.mint("curator")

    def info(token_id: int) -> dict[str, Any]:
        response = site.http.get("/v1/tokens", headers=admin.auth)
        assert response.status_code == 200
        assert all("token" not in t and "hash" not in t for t in response.json()["data"])
        return next(t for t in response.json()["data"] if t["id"] == token_id)

    assert info(curator.token_id)["last_used_at"] is None
    assert site.sql("select last_used_at from tokens where id = ?", (curator.token_id,))[0][0] is None

    assert site.http.get("/v1/submissions", headers=curator.auth).status_code == 200
    # The stamp is written by the process's writer thread after the answer (never delaying it).
    used_at = eventually(lambda: info(curator.token_id)["last_used_at"])
    assert abs(dt.datetime.fromisoformat(used_at.replace("Z", "+00:00")) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert site.sql("select last_used_at from tokens where id = ?", (curator.token_id,))[0][0] is not None
    # The admin's own use is recorded too (it made the requests above).
    assert eventually(lambda: info(admin.token_id)["last_used_at"]) is not None
    # A failed attempt is not a use.
    revoked = site.mint("curator")
    site.http.post(f"/v1/tokens/{revoked.token_id}/revocation", headers=admin.auth)
    unauthorized(site.http.get("/v1/submissions", headers=revoked.auth))
    assert info(revoked.token_id)["last_used_at"] is None


def test_admins_create_tokens_over_the_api(site: Site) -> None:
    admin = site.mint("admin")
    response = site.http.post(
        "/v1/tokens", json={"name": "Nadia Api-Made", "role": "reviewer", "expires_in_days": 7}, headers=admin.auth
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "Nadia Api-Made" and created["role"] == "reviewer"
    assert created["revoked_at"] is None and created["last_used_at"] is None
    expires = dt.datetime.fromisoformat(created["expires_at"].replace("Z", "+00:00"))
    assert dt.timedelta(days=6) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=7)
    auth = {"Authorization": f"Bearer {created['token']}"}
    assert site.http.get("/v1/reports", headers=auth).status_code == 200
    problem(site.http.get("/v1/tokens", headers=auth), 403)
    listed = site.http.get("/v1/tokens", headers=admin.auth).text
    assert created["token"] not in listed
    # Invalid requests are 400s naming the field.
    assert "role" in error_fields(site.http.post("/v1/tokens", json={"name": "X", "role": "owner"}, headers=admin.auth))
    assert "name" in error_fields(site.http.post("/v1/tokens", json={"name": "<b>", "role": "curator"}, headers=admin.auth))


# --- submissions: the happy paths ------------------------------------------------------------------


def test_a_proposed_listing_goes_live_only_when_a_reviewer_approves_it(site: Site) -> None:
    curator, reviewer = site.mint("curator"), site.mint("reviewer")
    doc = document(new_id("mn-cur"), countries=["MN"])  # a country no other test uses
    page_url = "/v1/countries/MN/listings?include_worldwide=false&limit=100"
    page_before = site.http.get(page_url)  # primes the response cache
    assert page_before.status_code == 200
    health_before, dataset_revision = site.health(), site.dataset()["revision"]

    response = site.submit(curator, create_body(doc, note="Found via partner NGO"))
    assert response.status_code == 201, response.text
    submission = response.json()
    assert response.headers["location"] == f"/v1/submissions/{submission['id']}"
    assert response.headers["cache-control"] == "no-store"
    assert submission["status"] == "pending" and submission["action"] == "create"
    assert submission["listing_id"] == doc["id"] and submission["base_revision"] is None
    assert submission["current_revision"] is None
    assert submission["listing"] == doc
    assert submission["mine"] is True and submission["submitted_by"] is None
    assert submission["note"] == "Found via partner NGO" and submission["sources"] == SOURCES

    # Nothing is live yet.
    problem(site.http.get(f"/v1/listings/{doc['id']}"), 404)
    assert site.health() == health_before
    assert site.current(doc["id"]) is None

    decided = site.decide(reviewer, submission["id"], reason="Checked its registration")
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["status"] == "approved"
    assert body["decision"]["decision"] == "approve"
    assert body["decision"]["reason"] == "Checked its registration"
    assert body["decision"]["applied_revision"] == 1
    assert body["decision"]["decided_by"] == reviewer.name
    assert body["submitted_by"] == curator.name and body["mine"] is False

    live = site.http.get(f"/v1/listings/{doc['id']}?lang=en")
    assert live.status_code == 200, live.text
    assert live.json()["revision"] == 1 and live.json()["title"] == doc["translations"]["en"]["title"]
    health = site.health()
    assert health["revision"] == health_before["revision"] + 1
    assert health["listings"] == health_before["listings"] + 1
    dataset = site.dataset()
    assert dataset["revision"] == dataset_revision + 1
    assert site.current(doc["id"]) == doc
    page_after = site.http.get(page_url)
    assert doc["id"] in [item["id"] for item in page_after.json()["data"]]
    assert doc["id"] not in [item["id"] for item in page_before.json()["data"]]
    assert page_after.headers["etag"] != page_before.headers["etag"]
    assert page_after.headers["x-dataset-revision"] == str(dataset_revision + 1)
    revalidated = site.http.get(page_url, headers={"If-None-Match": page_before.headers["etag"]})
    assert revalidated.status_code == 200


def test_an_approved_update_is_served_at_once_by_every_process(site: Site) -> None:
    doc = site.live(new_id("am-cur"), countries=["AM"])
    listing_url = f"/v1/listings/{doc['id']}?lang=en"
    list_url = "/v1/listings?country=AM&lang=en&include_worldwide=false"
    before = {name: client.get(listing_url) for name, client in (("http", site.http), ("replica", site.replica))}
    list_before = site.replica.get(list_url)
    assert all(r.status_code == 200 for r in before.values())
    health_before, dataset_revision = site.health(), site.dataset()["revision"]

    new = retitled(doc, "Safe routes out, with a 24/7 line")
    decided = site.apply(update_body(new, base_revision=1))
    assert decided["decision"]["applied_revision"] == 2

    for name, client in (("http", site.http), ("replica", site.replica)):
        after = client.get(listing_url)
        assert after.status_code == 200
        assert after.json()["title"] == "Safe routes out, with a 24/7 line", name
        assert after.json()["revision"] == 2
        assert after.headers["etag"] != before[name].headers["etag"]
        assert client.get(listing_url, headers={"If-None-Match": before[name].headers["etag"]}).status_code == 200
    list_after = site.replica.get(list_url)
    titles = {item["id"]: item["title"] for item in list_after.json()["data"]}
    assert titles[doc["id"]] == "Safe routes out, with a 24/7 line"
    assert list_after.headers["etag"] != list_before.headers["etag"]
    assert site.health()["revision"] == health_before["revision"] + 1
    assert site.health()["listings"] == health_before["listings"]
    assert site.dataset()["revision"] == dataset_revision + 1
    assert site.current(doc["id"]) == new


def test_an_approved_retirement_takes_the_listing_down_with_410(site: Site) -> None:
    doc = site.live(new_id("ge-cur"), countries=["GE"])
    list_url = "/v1/listings?country=GE&include_worldwide=false"
    list_before = site.http.get(list_url)
    assert doc["id"] in [item["id"] for item in list_before.json()["data"]]
    health_before, dataset_revision = site.health(), site.dataset()["revision"]

    decided = site.apply(retire_body(doc["id"], base_revision=1))
    assert decided["decision"]["applied_revision"] == 2
    assert decided["listing"] is None

    gone = problem(site.http.get(f"/v1/listings/{doc['id']}"), 410)
    assert doc["id"] in gone["detail"]
    problem(site.replica.get(f"/v1/listings/{doc['id']}"), 410)
    list_after = site.http.get(list_url)
    assert doc["id"] not in [item["id"] for item in list_after.json()["data"]]
    assert list_after.headers["etag"] != list_before.headers["etag"]
    assert site.current(doc["id"]) is None
    health = site.health()
    assert health["revision"] == health_before["revision"] + 1
    assert health["listings"] == health_before["listings"] - 1
    assert site.dataset()["revision"] == dataset_revision + 1
    # Retiring it again, or creating it afresh under the same id, is a conflict.
    curator = site.mint("curator")
    assert problem(site.submit(curator, retire_body(doc["id"], base_revision=2)), 409)["current_revision"] == 2
    assert problem(site.submit(curator, create_body(doc)), 409)["current_revision"] == 2


# --- submissions: validation, exactly as imports ---------------------------------------------------

BAD_DOCUMENTS = {
    "unknown-country": ({"countries": ["QQ"]}, "countries[0]"),
    "http-url": ({"url": "http://insecure.example.org/"}, "url"),
    "unknown-topic": ({"topics": ["astrology"]}, "topics[0]"),
    "html-in-title": (
        {"translations": {"en": {"title": "<b>Help</b> now", "summary": "Plain."}}},
        "translations.en.title",
    ),
    "entity-in-summary": (
        {"translations": {"en": {"title": "Help", "summary": "Food &amp; shelter"}}},
        "translations.en.summary",
    ),
    "worldwide-with-a-country": ({"countries": ["XX", "RU"]}, "countries"),
    "http-source": (
        {"verification": {"verified_at": "2026-11-20", "next_review_at": "2027-02-20", "sources": ["http://a.example.org/"]}},
        "verification.sources[0]",
    ),
    "lower-case-country": ({"countries": ["ru"]}, "countries[0]"),
    "unknown-language": ({"languages": ["qq"]}, "languages[0]"),
    "duplicate-topic": ({"topics": ["lgbtq-rights", "lgbtq-rights"]}, "topics"),
    "unknown-service": ({"organization": {"services": ["magic"]}}, "organization.services[0]"),
    "unknown-field": ({"colour": "red"}, "colour"),
    "missing-field": (
        {"verification": {"verified_at": "2026-11-20", "next_review_at": "2027-02-20"}},
        "verification.sources",
    ),
    "kind-block-mismatch": ({"petition": {"target": "Parliament"}}, "petition"),
}

#: Structural problems inside ``translations`` (a dict keyed by language): the importer names
#: the language (``translations.en.title``), the API says ``translations[...]``.
BAD_TRANSLATIONS = {
    "unknown-field-in-a-translation": (
        {"en": {"title": "Help", "summary": "Plain.", "subtitle": "x"}}, "translations.en.subtitle",
    ),
    "empty-title": ({"en": {"title": "", "summary": "Plain."}}, "translations.en.title"),
    "missing-summary": ({"en": {"title": "Help"}}, "translations.en.summary"),
    "malformed-language-key": ({"english": {"title": "Help", "summary": "Plain."}}, "translations.english"),
}


def import_problem_fields(tmp_path: Path, doc: dict[str, Any]) -> list[str]:
    """What `actiondir import` says about the same document in a file."""
    root = write_dataset(tmp_path / "data", [], TOPICS)
    (root / "listings" / f"{doc['id']}.json").write_text(json.dumps(doc))
    with pytest.raises(DatasetInvalid) as caught:
        load_directory(root)
    return [p.field for p in caught.value.problems]


@pytest.mark.parametrize("action", ["create", "update"])
@pytest.mark.parametrize("case", list(BAD_DOCUMENTS))
def test_a_proposed_listing_is_validated_exactly_as_imports_validate_files(
    site: Site, tmp_path: Path, case: str, action: str
) -> None:
    changes, field = BAD_DOCUMENTS[case]
    listing_id = "ru-evacuation" if action == "update" else new_id()
    doc = {**document(listing_id), **changes}
    body = create_body(doc) if action == "create" else update_body(doc, base_revision=1)
    curator = site.mint("curator")
    before_audit, before_count = site.last_audit_id(), site.sql("select count(*) from submissions")[0][0]

    fields = error_fields(site.submit(curator, body))

    assert fields == [f"listing.{f}" for f in import_problem_fields(tmp_path, doc)]
    assert f"listing.{field}" in fields
    assert site.sql("select count(*) from submissions")[0][0] == before_count
    assert site.audit_since(before_audit) == []


@pytest.mark.parametrize("case", list(BAD_TRANSLATIONS))
def test_a_problem_inside_a_translation_names_its_language_as_imports_do(site: Site, tmp_path: Path, case: str) -> None:
    translations, field = BAD_TRANSLATIONS[case]
    doc = {**document(new_id()), "translations": translations}
    fields = error_fields(site.submit(site.mint("curator"), create_body(doc)))
    assert import_problem_fields(tmp_path, doc) == [field]
    assert fields == [f"listing.{field}"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        pytest.param(lambda b: b.update(colour="red"), "colour", id="top-level"),
        pytest.param(lambda b: b["listing"].update(colour="red"), "listing.colour", id="in-the-listing"),
        pytest.param(lambda b: b.update(listing_id="Not A Slug"), "listing_id", id="bad-listing-id"),
        pytest.param(lambda b: b.pop("note"), "note", id="missing-note"),
        pytest.param(lambda b: b.update(sources=["http://a.example.org/"]), "sources[0]", id="http-source"),
        pytest.param(lambda b: b.update(base_revision=0), "base_revision", id="base-revision-zero"),
    ],
)
def test_a_malformed_submission_body_is_a_400_naming_the_field(site: Site, mutate, field: str) -> None:
    body = update_body(document("ru-evacuation"), base_revision=1)
    mutate(body)
    fields = error_fields(site.submit(site.mint("curator"), body))
    assert field in fields


def test_an_unknown_action_is_a_400(site: Site) -> None:
    body = {**retire_body("ru-evacuation", 1), "action": "delete"}
    problem(site.submit(site.mint("curator"), body), 400)


def test_creating_a_listing_that_exists_is_a_conflict(site: Site) -> None:
    doc = site.live(new_id())
    curator = site.mint("curator")
    body = problem(site.submit(curator, create_body(retitled(doc, "Another take"))), 409)
    assert body["current_revision"] == 1
    assert "update" in body["detail"]


def test_an_update_cannot_rename_a_listing(site: Site) -> None:
    doc = site.live(new_id())
    body = update_body(doc, base_revision=1)
    body["listing"] = {**doc, "id": new_id()}
    assert error_fields(site.submit(site.mint("curator"), body)) == ["listing.id"]
    assert site.current(doc["id"]) == doc


def test_updating_or_retiring_a_missing_listing_is_a_404(site: Site) -> None:
    curator = site.mint("curator")
    missing = document(new_id())
    assert "no listing" in problem(site.submit(curator, update_body(missing, base_revision=1)), 404)["detail"]
    problem(site.submit(curator, retire_body(missing["id"], base_revision=1)), 404)


def test_a_submission_from_a_stale_base_is_refused_at_once(site: Site) -> None:
    doc = site.live(new_id())
    site.apply(update_body(retitled(doc, "Second revision"), base_revision=1))
    body = problem(site.submit(site.mint("curator"), update_body(retitled(doc, "From revision 1"), base_revision=1)), 409)
    assert body["current_revision"] == 2


# --- four eyes ----------------------------------------------------------------------------------


def test_four_eyes_no_one_decides_on_their_own_submission(site: Site) -> None:
    doc = site.live(new_id())
    author = site.mint("reviewer")
    # A second token with the same name is the same person, whatever its role.
    same_name_reviewer = site.mint("reviewer", name=author.name)
    same_name_admin = site.mint("admin", name=author.name)
    other = site.mint("reviewer")
    response = site.submit(author, update_body(retitled(doc, "Reviewed by someone else"), base_revision=1))
    assert response.status_code == 201, response.text
    submission_id = response.json()["id"]
    before = site.last_audit_id()

    for who in (author, same_name_reviewer, same_name_admin):
        for decision in ("approve", "reject"):
            body = problem(site.decide(who, submission_id, decision), 403)
            assert "four-eyes" in body["detail"]
    assert site.submission(other, submission_id)["status"] == "pending"
    assert site.current(doc["id"]) == doc
    assert site.audit_since(before) == []

    decided = site.decide(other, submission_id)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    assert site.current(doc["id"])["translations"]["en"]["title"] == "Reviewed by someone else"


@pytest.mark.parametrize(
    "spelling",
    ["LOLA SOUZA{n}", "lola souza{n}", "Lola  Souza{n}", "LolaSouza{n}", "Lola_Souza{n}", "Lola-Souza{n}",
     "Lola.Souza{n}", "L o l a Souza{n}", "IoIa Souza{n}", "L0la Souza{n}", "Lola Souza{n}\n"],
    ids=["upper", "lower", "double-space", "joined", "underscore", "hyphen", "dot", "spaced-out",
         "capital-I-for-l", "zero-for-O", "trailing-newline"],
)
def test_four_eyes_a_name_spelt_differently_is_the_same_person(site: Site, spelling: str) -> None:
    """Case, white space and look-alike letters do not make a second person; a spelling the
    token rules refuse (a trailing newline) gets no token at all."""
    n = next(_serial)
    doc = site.live(new_id())
    author = site.mint("reviewer", name=f"Lola Souza{n}")
    response = site.submit(author, update_body(retitled(doc, "Needs a second person"), base_revision=1))
    assert response.status_code == 201, response.text
    submission_id = response.json()["id"]
    try:
        twin = site.mint("admin", name=spelling.format(n=n))
    except Exception as exc:  # noqa: BLE001 - the refusal is the point
        assert "name" in str(exc)
        return
    mine = site.http.get(f"/v1/submissions/{submission_id}", headers=twin.auth).json()
    assert mine["mine"] is True
    for decision in ("approve", "reject"):
        body = problem(site.decide(twin, submission_id, decision), 403)
        assert "four-eyes" in body["detail"]
    assert site.current(doc["id"]) == doc


def test_different_people_whose_names_look_alike_in_capitals_stay_two_people(site: Site) -> None:
    """Neil and Nell are two reviewers: each may decide on the other's submission, and a
    curator named Nell does not see Neil's."""
    n = next(_serial)
    doc = site.live(new_id())
    neil = site.mint("reviewer", name=f"Neil {n}")
    nell = site.mint("reviewer", name=f"Nell {n}")
    response = site.submit(neil, update_body(retitled(doc, "Decided by Nell"), base_revision=1))
    assert response.status_code == 201, response.text
    assert site.http.get(f"/v1/submissions/{response.json()['id']}", headers=nell.auth).json()["mine"] is False
    decided = site.decide(nell, response.json()["id"])
    assert decided.status_code == 200, decided.text


def test_a_token_name_that_only_looks_like_another_persons_is_refused(site: Site) -> None:
    n = next(_serial)
    site.mint("curator", name=f"Lola Vale{n}")
    admin = site.mint("admin")
    for spelling in (f"IoIa Vale{n}", f"L0la Vale{n}"):
        response = site.http.post("/v1/tokens", json={"name": spelling, "role": "reviewer"}, headers=admin.auth)
        body = problem(response, 400)
        assert [e["field"] for e in body["errors"]] == ["name"]
        assert f"Lola Vale{n}" in body["errors"][0]["detail"]
    # The same name in other capitals is the same person, not a look-alike: allowed.
    assert site.http.post("/v1/tokens", json={"name": f"LOLA VALE{n}", "role": "reviewer"}, headers=admin.auth).status_code == 201


def test_a_curator_sees_the_submissions_of_every_spelling_of_their_name(site: Site) -> None:
    n = next(_serial)
    doc = site.live(new_id())
    first = site.mint("curator", name=f"Mira Kay{n}")
    second = site.mint("curator", name=f"MIRA KAY{n}")
    response = site.submit(first, update_body(retitled(doc, "Mine under either token"), base_revision=1))
    assert response.status_code == 201, response.text
    listed = site.http.get("/v1/submissions", params={"limit": 100}, headers=second.auth).json()["data"]
    assert response.json()["id"] in [s["id"] for s in listed]
    assert site.http.get(f"/v1/submissions/{response.json()['id']}", headers=second.auth).status_code == 200


# --- stale base ---------------------------------------------------------------------------------


def test_approving_a_change_from_a_stale_base_is_409_and_changes_nothing(site: Site) -> None:
    doc = site.live(new_id())
    curator_a, curator_b, reviewer = site.mint("curator"), site.mint("curator"), site.mint("reviewer")
    first = site.submit(curator_a, update_body(retitled(doc, "First edit"), base_revision=1)).json()
    second = site.submit(curator_b, update_body(retitled(doc, "Second edit"), base_revision=1)).json()
    assert site.decide(reviewer, first["id"]).status_code == 200

    listing_before = site.http.get(f"/v1/listings/{doc['id']}?lang=en").json()
    dataset_before, health_before = site.dataset(), site.health()
    audit_before = site.last_audit_id()

    body = problem(site.decide(reviewer, second["id"]), 409)
    assert body["current_revision"] == 2
    assert "revision 2" in body["detail"] and "1" in body["detail"]

    assert site.http.get(f"/v1/listings/{doc['id']}?lang=en").json() == listing_before
    assert listing_before["title"] == "First edit" and listing_before["revision"] == 2
    assert site.dataset() == dataset_before
    assert site.health() == health_before
    still = site.submission(reviewer, second["id"])
    assert still["status"] == "pending" and still["decision"] is None
    assert still["base_revision"] == 1 and still["current_revision"] == 2
    assert site.audit_since(audit_before) == []
    # It can still be rejected (decisions about stale changes are allowed, applying them is not).
    rejected = site.decide(reviewer, second["id"], "reject", "Superseded by the first edit")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"


def test_approving_the_second_of_two_creates_for_one_id_is_409(site: Site) -> None:
    doc = document(new_id())
    first_curator, second_curator, reviewer = site.mint("curator"), site.mint("curator"), site.mint("reviewer")
    first = site.submit(first_curator, create_body(doc)).json()
    second = site.submit(second_curator, create_body(retitled(doc, "The other proposal"))).json()
    assert site.decide(reviewer, first["id"]).status_code == 200
    assert problem(site.decide(reviewer, second["id"]), 409)["current_revision"] == 1
    assert site.current(doc["id"]) == doc
    assert site.submission(reviewer, second["id"])["status"] == "pending"


def test_a_stale_retirement_is_409_too(site: Site) -> None:
    doc = site.live(new_id())
    curator, reviewer = site.mint("curator"), site.mint("reviewer")
    retire = site.submit(curator, retire_body(doc["id"], base_revision=1)).json()
    site.apply(update_body(retitled(doc, "Still active"), base_revision=1))
    assert problem(site.decide(reviewer, retire["id"]), 409)["current_revision"] == 2
    assert site.http.get(f"/v1/listings/{doc['id']}").status_code == 200


# --- decisions are final; nothing is lost -------------------------------------------------------


def test_deciding_twice_is_a_conflict(site: Site) -> None:
    doc = site.live(new_id())
    curator, reviewer, other = site.mint("curator"), site.mint("reviewer"), site.mint("reviewer")
    approved = site.submit(curator, update_body(retitled(doc, "Approved once"), base_revision=1)).json()
    rejected = site.submit(curator, update_body(retitled(doc, "Rejected once"), base_revision=1)).json()
    assert site.decide(reviewer, approved["id"]).status_code == 200
    assert site.decide(reviewer, rejected["id"], "reject", "Not in the sources").status_code == 200
    dataset_before, audit_before = site.dataset(), site.last_audit_id()

    for submission_id in (approved["id"], rejected["id"]):
        for who in (reviewer, other):
            for decision in ("approve", "reject"):
                body = problem(site.decide(who, submission_id, decision), 409)
                assert "already" in body["detail"]
    assert site.dataset() == dataset_before
    assert site.audit_since(audit_before) == []
    assert site.submission(other, approved["id"])["decision"]["decided_by"] == reviewer.name
    problem(site.decide(reviewer, 999_999), 404)


def test_a_rejected_submission_stays_readable_with_its_reason(site: Site) -> None:
    doc = site.live(new_id())
    curator, reviewer = site.mint("curator"), site.mint("reviewer")
    proposed = retitled(doc, "Unverifiable claim")
    submission = site.submit(curator, update_body(proposed, base_revision=1, note="Saw it on social media")).json()
    decided = site.decide(reviewer, submission["id"], "reject", "No source confirms this")
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"]["applied_revision"] is None
    assert site.current(doc["id"]) == doc  # nothing applied

    mine = site.submission(curator, submission["id"])
    assert mine["status"] == "rejected"
    assert mine["decision"]["decision"] == "reject"
    assert mine["decision"]["reason"] == "No source confirms this"
    assert mine["decision"]["decided_by"] is None  # curators do not see who
    assert mine["listing"] == proposed and mine["note"] == "Saw it on social media" and mine["sources"] == SOURCES
    assert mine["decision"]["decided_at"]
    listed = site.http.get("/v1/submissions?status=rejected", headers=curator.auth).json()["data"]
    assert [s["id"] for s in listed] == [submission["id"]]
    assert listed[0]["decision"]["reason"] == "No source confirms this"
    for_reviewers = site.submission(reviewer, submission["id"])
    assert for_reviewers["decision"]["decided_by"] == reviewer.name
    assert for_reviewers["submitted_by"] == curator.name


# --- who sees what ------------------------------------------------------------------------------


def all_submissions(site: Site, who: Person, query: str = "") -> list[dict[str, Any]]:
    items, cursor = [], None
    for _ in range(1000):
        url = f"/v1/submissions?limit=7{query}" + (f"&cursor={cursor}" if cursor else "")
        response = site.http.get(url, headers=who.auth)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ended")


def test_curators_see_only_their_own_submissions_and_reviewers_see_all(site: Site) -> None:
    ana, dora, reviewer = site.mint("curator"), site.mint("curator"), site.mint("reviewer")
    ana_again = site.mint("curator", name=ana.name)  # the same person with a second token
    ana_ids = [site.submit(ana, create_body(document(new_id()))).json()["id"] for _ in range(2)]
    dora_id = site.submit(dora, create_body(document(new_id()))).json()["id"]

    seen_by_ana = all_submissions(site, ana)
    assert [s["id"] for s in seen_by_ana] == ana_ids
    assert all(s["mine"] is True and s["submitted_by"] is None for s in seen_by_ana)
    assert [s["id"] for s in all_submissions(site, ana_again)] == ana_ids
    assert [s["id"] for s in all_submissions(site, dora, "&status=pending")] == [dora_id]
    assert "next_cursor" in site.http.get("/v1/submissions", headers=ana.auth).json()

    assert "no submission" in problem(site.http.get(f"/v1/submissions/{dora_id}", headers=ana.auth), 404)["detail"]
    problem(site.http.get(f"/v1/submissions/{ana_ids[0]}", headers=dora.auth), 404)
    assert site.submission(ana_again, ana_ids[0])["mine"] is True

    seen_by_reviewer = {s["id"]: s for s in all_submissions(site, reviewer)}
    assert set(ana_ids) | {dora_id} <= set(seen_by_reviewer)
    assert [seen_by_reviewer[i]["submitted_by"] for i in ana_ids] == [ana.name, ana.name]
    assert seen_by_reviewer[dora_id]["submitted_by"] == dora.name
    assert not seen_by_reviewer[dora_id]["mine"]
    ids = list(seen_by_reviewer)
    assert ids == sorted(ids)  # oldest first: the review queue
    problem(site.http.get("/v1/submissions?cursor=not-a-cursor", headers=reviewer.auth), 400)
    problem(site.http.get("/v1/submissions?status=maybe", headers=reviewer.auth), 400)


PUBLIC_PATHS = [
    "/v1/dataset",
    "/v1/listings?limit=100",
    "/v1/listings?country=XX&limit=100",
    "/v1/countries",
    "/v1/countries/RU",
    "/v1/countries/RU/listings?limit=100",
    "/v1/topics",
    "/healthz",
    "/v1/openapi.json",
]


def test_public_responses_never_name_a_curator_or_reviewer(site: Site) -> None:
    curator = site.mint("curator", name="Zoraida Quillfeather")
    reviewer = site.mint("reviewer", name="Bartholomew Inkwhistle")
    created = document(new_id())
    first = site.submit(curator, create_body(created, note="Zoraida Quillfeather checked this")).json()
    assert site.decide(reviewer, first["id"], reason="Bartholomew Inkwhistle agrees").status_code == 200
    updated = retitled(created, "Updated by a named person")
    second = site.submit(curator, update_body(updated, base_revision=1)).json()
    assert site.decide(reviewer, second["id"]).status_code == 200
    third = site.submit(curator, retire_body(created["id"], base_revision=2)).json()
    assert site.decide(reviewer, third["id"]).status_code == 200
    kept = site.live(new_id())
    report = site.http.post(f"/v1/listings/{kept['id']}/reports", json={"reason": "outdated", "details": "Check it"})
    assert report.status_code == 202

    names = site.token_names()
    assert {"Zoraida Quillfeather", "Bartholomew Inkwhistle"} <= set(names)
    # The search finds names where they belong (so it would find them where they do not).
    private = site.http.get("/v1/submissions?limit=100", headers=reviewer.auth).text
    assert "Zoraida Quillfeather" in private

    feed, since = [], None
    while True:
        page = site.http.get("/v1/changes?limit=500" + (f"&since={since}" if since else ""))
        feed.append(page)
        if not page.json()["data"]:
            break
        since = page.json()["next_cursor"]
    responses = [site.http.get(path) for path in PUBLIC_PATHS]
    responses += [site.http.get("/v1/dataset", headers={"Accept": "application/x-ndjson"})]
    responses += [site.http.get(f"/v1/listings/{i}/revisions") for i in (created["id"], kept["id"], "ru-evacuation")]
    responses += [site.http.get(f"/v1/listings/{kept['id']}?lang={lang}") for lang in ("en", "ru")]
    responses += [site.http.get(f"/v1/listings/{created['id']}"), report, *feed]
    assert len(feed) > 1
    for response in responses:
        assert response.status_code in (200, 202, 410), (response.url, response.status_code)
        text = (response.text + json.dumps(dict(response.headers))).casefold()
        for name in names:
            assert name.casefold() not in text, (name, str(response.url))
        if "openapi" not in str(response.url):  # the spec documents these fields; no data carries them
            assert "submitted_by" not in text and "decided_by" not in text


# --- diff and history ---------------------------------------------------------------------------


def test_a_submission_shows_a_field_by_field_diff(site: Site) -> None:
    doc = site.live(new_id(), countries=["RU"])
    curator, reviewer = site.mint("curator"), site.mint("reviewer")
    proposed = retitled(doc, "A clearer title")
    proposed["countries"] = ["RU", "BY"]
    submission = site.submit(curator, update_body(proposed, base_revision=1)).json()
    assert submission.get("diff") is None  # the diff is in the single-submission view

    expected = [
        {"field": "countries", "before": ["RU"], "after": ["RU", "BY"]},
        {"field": "translations.en.title", "before": doc["translations"]["en"]["title"], "after": "A clearer title"},
    ]
    assert site.submission(reviewer, submission["id"])["diff"] == expected
    assert site.submission(curator, submission["id"])["diff"] == expected

    created = document(new_id())
    create = site.submit(curator, create_body(created)).json()
    diff = site.submission(reviewer, create["id"])["diff"]
    assert all(change["before"] is None for change in diff)
    assert {c["field"]: c["after"] for c in diff}["translations.en.title"] == created["translations"]["en"]["title"]
    assert {c["field"] for c in diff} >= {"id", "kind", "url", "countries", "topics", "verification.sources"}

    retire = site.submit(curator, retire_body(doc["id"], base_revision=1)).json()
    diff = site.submission(reviewer, retire["id"])["diff"]
    assert diff and all(change["after"] is None for change in diff)
    assert {"field": "url", "before": doc["url"], "after": None} in diff


def test_a_listing_history_says_what_changed_and_when_never_who(site: Site) -> None:
    listing_id = new_id()
    doc = site.live(listing_id)
    second = retitled(doc, "Second title")
    site.apply(update_body(second, base_revision=1))
    third = {**second, "countries": ["RU", "KZ"], "languages": ["ru", "en", "kk"]}
    site.apply(update_body(third, base_revision=2))
    site.apply(retire_body(listing_id, base_revision=3))

    response = site.http.get(f"/v1/listings/{listing_id}/revisions")
    assert response.status_code == 200, response.text
    history = response.json()["data"]
    assert [(h["revision"], h["action"]) for h in history] == [(1, "create"), (2, "update"), (3, "update"), (4, "retire")]
    assert {"id", "url", "countries", "translations.en.title", "verification.sources"} <= set(history[0]["changed"])
    assert history[1]["changed"] == ["translations.en.title"]
    assert history[2]["changed"] == ["countries", "languages"]
    assert history[3]["changed"] == []
    assert [h["listing"] for h in history[:3]] == [doc, second, third]
    for entry in history:
        assert set(entry) == {"revision", "action", "at", "changed", "listing"}
        dt.datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))
    ats = [h["at"] for h in history]
    assert ats == sorted(ats)
    for name in site.token_names():
        assert name not in response.text
    problem(site.http.get(f"/v1/listings/{new_id()}/revisions"), 404)


# --- the changes feed ---------------------------------------------------------------------------


def follow_feed(client: TestClient, since: str | None = None, limit: int = 3) -> tuple[list[dict[str, Any]], str, int]:
    """Every change after ``since``, page by page; returns (changes, last cursor, pages read)."""
    changes, pages = [], 0
    while True:
        response = client.get(f"/v1/changes?limit={limit}" + (f"&since={since}" if since else ""))
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        assert len(page["data"]) <= limit
        changes += page["data"]
        since = page["next_cursor"]
        assert since
        if not page["data"]:
            return changes, since, pages


def apply_feed(changes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    mirror: dict[str, dict[str, Any]] = {}
    for change in changes:
        if change["action"] == "retire":
            assert change["listing"] is None
            mirror.pop(change["listing_id"])
        else:
            assert change["action"] in ("create", "update")
            assert change["listing"]["id"] == change["listing_id"]
            mirror[change["listing_id"]] = change["listing"]
    return mirror


def test_following_the_changes_feed_reproduces_the_dataset(site: Site) -> None:
    a, b, c = (site.live(new_id()) for _ in range(3))
    site.apply(update_body(retitled(a, "A, second"), base_revision=1))
    site.apply(retire_body(b["id"], base_revision=1))
    site.apply(update_body({**c, "countries": ["UA"]}, base_revision=1))
    site.apply(update_body(retitled(a, "A, third"), base_revision=2))
    site.apply(retire_body(c["id"], base_revision=2))
    seeded = site.current("ru-legal-aid")  # a listing from the import, changed over the API
    seeded_revision = site.http.get("/v1/listings/ru-legal-aid").json()["revision"]
    site.apply(update_body(retitled(seeded, unique("Lawyers, edit ")), base_revision=seeded_revision))

    changes, cursor, pages = follow_feed(site.http, limit=3)
    assert pages > 3
    seqs = [change["seq"] for change in changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    mirror = apply_feed(changes)
    dataset = site.dataset()
    assert mirror == {item["listing"]["id"]: item["listing"] for item in dataset["listings"]}
    assert b["id"] not in mirror and c["id"] not in mirror
    assert mirror[a["id"]]["translations"]["en"]["title"] == "A, third"
    ours = [(ch["listing_id"], ch["revision"], ch["action"]) for ch in changes if ch["listing_id"] == c["id"]]
    assert ours == [(c["id"], 1, "create"), (c["id"], 2, "update"), (c["id"], 3, "retire")]
    last_page = site.http.get(f"/v1/changes?since={cursor}").json()
    assert last_page["dataset_revision"] == dataset["revision"]

    # Polling with the last cursor: nothing new, and the same cursor back.
    assert last_page["data"] == [] and last_page["next_cursor"] == cursor
    # One more change: the poll returns exactly it, and the mirror stays equal to the dataset.
    site.apply(update_body(retitled(a, "A, fourth"), base_revision=3))
    news, cursor2, _ = follow_feed(site.replica, since=cursor, limit=100)
    assert [(ch["listing_id"], ch["revision"], ch["action"]) for ch in news] == [(a["id"], 4, "update")]
    assert cursor2 != cursor
    mirror.update(apply_feed(news))
    assert mirror == {item["listing"]["id"]: item["listing"] for item in site.dataset()["listings"]}


@pytest.mark.parametrize("since", ["abc", "s1.", "s1.-1", "s2.5", "5", "s1.5x", "s1.1.2", "s1." + "9" * 19])
def test_a_bad_since_is_a_400(site: Site, since: str) -> None:
    response = site.http.get("/v1/changes", params={"since": since})
    assert "since" in error_fields(response)


def test_a_since_beyond_the_end_is_an_empty_page(site: Site) -> None:
    page = site.http.get("/v1/changes?since=s1.999999999").json()
    assert page["data"] == [] and page["next_cursor"] == "s1.999999999"


# --- reports ------------------------------------------------------------------------------------


def test_anyone_can_report_a_listing_and_reviewers_resolve_it(site: Site) -> None:
    doc = site.live(new_id())
    reviewer, other = site.mint("reviewer"), site.mint("reviewer")
    response = site.http.post(
        f"/v1/listings/{doc['id']}/reports", json={"reason": "broken_link", "details": "404 since Monday\nTried twice"}
    )
    assert response.status_code == 202, response.text
    assert response.headers["content-type"].startswith("application/json")
    receipt = response.json()
    assert set(receipt) == {"id", "status"} and receipt["status"] == "open" and isinstance(receipt["id"], int)

    open_reports = site.http.get("/v1/reports?status=open&limit=100", headers=reviewer.auth)
    assert open_reports.headers["cache-control"] == "no-store"
    mine = [r for r in open_reports.json()["data"] if r["id"] == receipt["id"]]
    assert mine == [
        {
            "id": receipt["id"], "listing_id": doc["id"], "reason": "broken_link",
            "details": "404 since Monday\nTried twice", "status": "open", "created_at": mine[0]["created_at"],
            "resolved_at": None, "resolution": None,
        }
    ]

    resolved = site.http.post(
        f"/v1/reports/{receipt['id']}/resolution", json={"resolution": "Link fixed upstream"}, headers=reviewer.auth
    )
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert body["status"] == "resolved" and body["resolution"] == "Link fixed upstream" and body["resolved_at"]

    again = problem(
        site.http.post(f"/v1/reports/{receipt['id']}/resolution", json={"resolution": "Again"}, headers=other.auth), 409
    )
    assert "already resolved" in again["detail"]
    problem(site.http.post("/v1/reports/999999/resolution", json={"resolution": "x"}, headers=reviewer.auth), 404)
    after = site.http.get("/v1/reports?status=resolved&limit=100", headers=reviewer.auth).json()["data"]
    assert [r["resolution"] for r in after if r["id"] == receipt["id"]] == ["Link fixed upstream"]
    still_open = site.http.get("/v1/reports?status=open&limit=100", headers=reviewer.auth).json()["data"]
    assert receipt["id"] not in [r["id"] for r in still_open]


def test_reports_on_missing_or_retired_listings_are_404(site: Site) -> None:
    problem(site.http.post(f"/v1/listings/{new_id()}/reports", json={"reason": "other"}), 404)
    doc = site.live(new_id())
    site.apply(retire_body(doc["id"], base_revision=1))
    problem(site.http.post(f"/v1/listings/{doc['id']}/reports", json={"reason": "other"}), 404)


@pytest.mark.parametrize(
    ("details", "why"),
    [
        ("<script>alert(1)</script>", "HTML"),
        ("see <a href='x'>here</a>", "HTML"),
        ("Tom &amp; Jerry", "HTML"),
        ("bell\x07", "control"),
        ("nul\x00byte", "control"),
        ("esc\x1b[31m", "control"),
    ],
)
def test_report_details_must_be_plain_text(site: Site, details: str, why: str) -> None:
    before = site.sql("select count(*) from reports")[0][0]
    response = site.http.post("/v1/listings/ru-evacuation/reports", json={"reason": "suspicious", "details": details})
    assert error_fields(response) == ["details"]
    assert why.lower() in response.json()["errors"][0]["detail"].lower()
    assert site.sql("select count(*) from reports")[0][0] == before


def test_a_report_with_an_unknown_reason_or_field_is_a_400(site: Site) -> None:
    assert "reason" in error_fields(site.http.post("/v1/listings/ru-evacuation/reports", json={"reason": "spam"}))
    assert "email" in error_fields(
        site.http.post("/v1/listings/ru-evacuation/reports", json={"reason": "other", "email": "a@b.example"})
    )


def test_reports_are_rate_limited_per_address(site: Site) -> None:
    with site.dep.client(reports_per_minute=3) as client:
        before = site.sql("select count(*) from reports")[0][0]
        for _ in range(3):
            response = client.post("/v1/listings/ru-evacuation/reports", json={"reason": "outdated"})
            assert response.status_code == 202, response.text
        limited = client.post("/v1/listings/ru-evacuation/reports", json={"reason": "outdated"})
        body = problem(limited, 429)
        assert int(limited.headers["retry-after"]) > 0
        assert site.sql("select count(*) from reports")[0][0] == before + 3
        # Reading is not limited.
        assert client.get("/v1/listings/ru-evacuation").status_code == 200
        assert "try again" in body["detail"]


# --- the audit trail ----------------------------------------------------------------------------


def test_every_write_leaves_exactly_one_audit_record(site: Site) -> None:
    admin, curator, reviewer = site.mint("admin"), site.mint("curator"), site.mint("reviewer")
    doc = document(new_id())

    def check(expected_actor: str, expected_action: str, expected_target: str | None = None) -> dict[str, Any]:
        rows = site.audit_since(marker[0])
        assert len(rows) == 1, rows
        row = rows[0]
        assert (row["actor"], row["action"]) == (expected_actor, expected_action)
        if expected_target is not None:
            assert row["target"] == expected_target
        at = dt.datetime.fromisoformat(row["at"])
        assert abs(at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
        marker[0] = row["id"]
        return row

    marker = [site.last_audit_id()]
    # The Python helper that the CLI and the API share.
    store = Store(site.dep.db)
    try:
        _, row = create_token(store, name=unique("Helper "), role="curator", expires_in_days=None, actor="ops-script")
    finally:
        store.close()
    check("ops-script", "token.create", f"token:{row.id}")

    created = site.submit(curator, create_body(doc)).json()
    row = check(curator.name, "submission.create", f"submission:{created['id']}")
    assert row["details"] == {"action": "create", "listing_id": doc["id"], "base_revision": None}
    assert site.decide(reviewer, created["id"], reason="Looks right").status_code == 200
    row = check(reviewer.name, "submission.approve", f"submission:{created['id']}")
    assert row["details"]["applied_revision"] == 1 and row["details"]["reason"] == "Looks right"

    update = site.submit(curator, update_body(retitled(doc, "Nope"), base_revision=1)).json()
    check(curator.name, "submission.create", f"submission:{update['id']}")
    assert site.decide(reviewer, update["id"], "reject", "No").status_code == 200
    check(reviewer.name, "submission.reject", f"submission:{update['id']}")

    retire = site.submit(curator, retire_body(doc["id"], base_revision=1)).json()
    check(curator.name, "submission.create", f"submission:{retire['id']}")
    assert site.decide(reviewer, retire["id"]).status_code == 200
    check(reviewer.name, "submission.approve", f"submission:{retire['id']}")

    made = site.http.post("/v1/tokens", json={"name": unique("Api Made "), "role": "curator"}, headers=admin.auth).json()
    row = check(admin.name, "token.create", f"token:{made['id']}")
    assert made["token"] not in json.dumps(row)
    assert site.http.post(f"/v1/tokens/{made['id']}/revocation", headers=admin.auth).status_code == 200
    check(admin.name, "token.revoke", f"token:{made['id']}")

    result = cli_run("token", "create", "--name", unique("Cli Made "), "--role", "reviewer", "--db", str(site.dep.db))
    assert result.exit_code == 0
    row = check("cli", "token.create")
    token_id = int(row["target"].removeprefix("token:"))
    assert result.stdout.strip() not in json.dumps(row)
    assert cli_run("token", "revoke", str(token_id), "--db", str(site.dep.db)).exit_code == 0
    check("cli", "token.revoke", f"token:{token_id}")

    report = site.http.post("/v1/listings/ru-evacuation/reports", json={"reason": "outdated"}).json()
    check("public", "report.create", f"report:{report['id']}")
    resolve = site.http.post(f"/v1/reports/{report['id']}/resolution", json={"resolution": "Updated"}, headers=reviewer.auth)
    assert resolve.status_code == 200
    check(reviewer.name, "report.resolve", f"report:{report['id']}")

    # Refused writes leave nothing.
    problem(site.decide(reviewer, created["id"]), 409)
    problem(site.decide(curator, update["id"]), 403)
    problem(site.submit(curator, create_body({**doc, "id": new_id(), "countries": ["QQ"]})), 400)
    problem(site.http.post(f"/v1/reports/{report['id']}/resolution", json={"resolution": "x"}, headers=reviewer.auth), 409)
    problem(site.http.post(f"/v1/tokens/{made['id']}/revocation", headers=admin.auth), 409)
    assert site.audit_since(marker[0]) == []
    # The audit stays in the database: no public response carries it.
    for path in ("/v1/dataset", f"/v1/listings/{doc['id']}/revisions", "/v1/changes?limit=500"):
        assert "submission:" not in site.http.get(path).text
