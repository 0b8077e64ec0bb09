"""Requests built to hurt: hostile bodies and media types.

Every request body problem is a 4xx ``application/problem+json`` (never a 500), on every
endpoint that takes a body; a body that is not declared JSON is refused (415) before it is
read as JSON, so a cross-site HTML form cannot post to the API.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any

import babel
import pytest
from conftest import Deployment
from factory import default_listings, listing
from litestar.testing import TestClient

from api.app import create_app
from api.routes.curation import create_token
from api.settings import load_settings
from api.store import Store

PROBLEM = "application/problem+json"
INVALID = "urn:actiondir:problem:invalid-request"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleSite]:
    root = tmp_path_factory.mktemp("hostile")
    dep = Deployment(data=root / "data", db=root / "test.db")
    dep.reimport(default_listings())
    store = Store(dep.db)
    try:
        admin, _ = create_token(store, name="Hostile Admin", role="admin", expires_in_days=None, actor="test")
    finally:
        store.close()
    app = create_app(load_settings(db=dep.db, reports_per_minute=100_000))
    with TestClient(app) as client:
        yield SimpleSite(client=client, auth={"Authorization": f"Bearer {admin}"}, dep=dep)


class SimpleSite:
    def __init__(self, client: TestClient, auth: dict[str, str], dep: Deployment) -> None:
        self.client, self.auth, self.dep = client, auth, dep

    def report_count(self) -> int:
        store = Store(self.dep.db)
        try:
            return store.conn.execute("select count(*) from reports").fetchone()[0]
        finally:
            store.close()


# --- which endpoints take a body --------------------------------------------------------------

_EXAMPLE_PATH_VALUES = {"listing_id": "ru-evacuation", "submission_id": "1", "report_id": "1", "token_id": "1"}


def _body_endpoints() -> list[str]:
    """Every path with a handler that reads a JSON body, from the app's own routes."""
    app = create_app(load_settings(db=":memory:"))
    paths = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "data" in handler.parsed_fn_signature.parameters:
                path = re.sub(r"\{(\w+):\w+\}", lambda m: _EXAMPLE_PATH_VALUES[m[1]], route.path)
                paths.append(path)
    return sorted(set(paths))


BODY_ENDPOINTS = _body_endpoints()


def test_the_body_endpoints_are_found():
    """The parametrization below covers every POST that takes a body, new ones included."""
    assert {"/v1/submissions", "/v1/tokens", "/v1/listings/ru-evacuation/reports"} <= set(BODY_ENDPOINTS)
    assert len(BODY_ENDPOINTS) >= 6


def assert_problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def assert_body_problem(response, detail_fragment: str | None = None) -> dict[str, Any]:
    """A 400 invalid-request naming the body (``in: body``)."""
    body = assert_problem(response, 400)
    assert body["type"] == INVALID
    assert body["errors"] and all(e["in"] == "body" for e in body["errors"]), body
    if detail_fragment is not None:
        assert detail_fragment.lower() in body["detail"].lower(), body["detail"]
    return body


# --- 1. hostile bodies --------------------------------------------------------------------------

HOSTILE_BODIES = [
    # (id, body, a fragment of the detail, or None when the message depends on the endpoint)
    ("deep-arrays", b"[" * 100_000, "nest"),
    ("deep-objects", b'{"a":' * 100_000, "nest"),
    ("deep-mixed", b'[{"a":' * 50_000, "nest"),
    ("deep-closed-arrays", b"[" * 20_000 + b"]" * 20_000, "nest"),
    ("deep-inside-an-envelope", b'{"reason": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", "nest"),
    ("deep-inside-a-listing", b'{"action": "create", "listing": {"translations": {"en": ' + b"[" * 20_000 + b"]" * 20_000 + b"}}}", "nest"),
    ("invalid-utf-8", b'{"reason": "\xff\xfe"}', "UTF-8"),
    ("overlong-utf-8", b'{"reason": "\xc0\xaf"}', "UTF-8"),
    ("utf-8-encoded-surrogate", b'{"reason": "\xed\xa0\x80"}', "UTF-8"),
    ("truncated-utf-8", b'{"reason": "\xd0"}', "UTF-8"),
    ("escaped-lone-high-surrogate", b'{"reason": "\\ud800"}', "JSON"),
    ("escaped-lone-high-surrogate-then-text", b'{"reason": "\\ud800 spam"}', "JSON"),
    ("escaped-lone-low-surrogate", b'{"reason": "\\udc00"}', "JSON"),
    ("escaped-reversed-pair", b'{"reason": "\\udc00\\ud800"}', "JSON"),
    ("utf-8-byte-order-mark", codecs.BOM_UTF8 + b'{"reason": "other"}', "byte order mark"),
    ("utf-16-with-bom", '{"reason": "other"}'.encode("utf-16"), "UTF-16"),
    ("utf-16-le", '{"reason": "other"}'.encode("utf-16-le"), "UTF-16"),
    ("utf-16-be", '{"reason": "other"}'.encode("utf-16-be"), "UTF-16"),
    ("utf-32", '{"reason": "other"}'.encode("utf-32"), "UTF-"),
    ("nan", b'{"reason": NaN}', "JSON"),
    ("infinity", b'{"reason": Infinity}', "JSON"),
    ("minus-infinity", b'{"reason": -Infinity}', "JSON"),
    ("huge-integer", b'{"reason": ' + b"9" * 5000 + b"}", "JSON"),
    ("huge-exponent", b'{"reason": 1e999999}', "JSON"),
    ("trailing-garbage", b'{"reason": "other"} x', "JSON"),
    ("two-documents", b"{} {}", "JSON"),
    ("truncated", b'{"reason": "oth', "JSON"),
    ("single-quotes", b"{'reason': 'other'}", "JSON"),
    ("comment", b'{"reason": "other" /* hi */}', "JSON"),
    ("nul-byte", b'{"reason": "a\x00b"}', "JSON"),
    ("whitespace-only", b"  \n ", "JSON"),
    ("empty", b"", "body"),
    ("null", b"null", None),
    ("an-array", b"[]", None),
    ("a-string", b'"other"', None),
    ("a-number", b"1", None),
]


@pytest.mark.parametrize("path", BODY_ENDPOINTS)
@pytest.mark.parametrize(("body", "fragment"), [pytest.param(b, f, id=i) for i, b, f in HOSTILE_BODIES])
def test_a_hostile_body_is_a_400_naming_the_body(site, path, body, fragment):
    response = site.client.post(path, content=body, headers={**site.auth, "Content-Type": "application/json"})
    assert_body_problem(response, fragment)


@pytest.mark.parametrize("depth", [10, 100, 500, 900, 950, 990, 1000, 1100, 5000])
def test_nesting_at_any_depth_inside_a_listing_is_a_400(site, depth):
    """Around the decoder's recursion limit too: one depth decodes, the next does not."""
    body = (
        b'{"action": "create", "note": "n", "sources": ["https://a.example.org/"], '
        b'"listing": {"id": "x", "translations": {"en": ' + b"[" * depth + b"]" * depth + b"}}}"
    )
    response = site.client.post("/v1/submissions", content=body, headers={**site.auth, "Content-Type": "application/json"})
    body = assert_body_problem(response)
    assert any(e["field"].startswith("listing") or e["field"] == "" for e in body["errors"]), body


@pytest.mark.parametrize(("body", "fragment"), [pytest.param(b, f, id=i) for i, b, f in HOSTILE_BODIES])
def test_a_hostile_body_on_a_post_without_one_is_ignored(site, body, fragment):
    """Revocation takes no body: whatever comes with it is not read, and never a 5xx."""
    response = site.client.post("/v1/tokens/999999/revocation", content=body, headers={**site.auth, "Content-Type": "application/json"})
    assert_problem(response, 404)


def test_hostile_report_bodies_store_nothing(site):
    before = site.report_count()
    for _, body, _ in HOSTILE_BODIES:
        response = site.client.post(
            "/v1/listings/ru-evacuation/reports", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (body[:40], response.text)
    assert site.report_count() == before


def test_duplicate_keys_take_the_last_value(site):
    """RFC 8259 leaves duplicate names to the parser: ours keeps the last, as JavaScript's does."""
    response = site.client.post(
        "/v1/tokens",
        content=b'{"name": "Dup First", "role": "admin", "name": "Dup Last", "role": "curator"}',
        headers={**site.auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["name"], response.json()["role"]) == ("Dup Last", "curator")


def test_an_escaped_surrogate_pair_is_one_character(site):
    response = site.client.post(
        "/v1/listings/ru-evacuation/reports",
        content=b'{"reason": "other", "details": "Broken \\ud83d\\ude00 link"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.text


@pytest.mark.parametrize("path", BODY_ENDPOINTS)
@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_one_mib_is_a_413(site, path, announced):
    oversized = b'{"reason": "' + b"a" * MIB + b'"}'
    if announced:
        response = site.client.post(path, content=oversized, headers={**site.auth, "Content-Type": "application/json"})
    else:
        response = site.client.post(
            path, content=iter([oversized[: MIB // 2], oversized[MIB // 2 :]]),
            headers={**site.auth, "Content-Type": "application/json"},
        )
    body = assert_problem(response, 413)
    assert "1 MiB" in body["detail"] and "body" in body["detail"]


def test_the_largest_valid_submission_fits_under_the_limit(site):
    """40 translations at their length limits, every character \\u-escaped (json.dumps' default)."""
    languages = sorted({code.split("_")[0] for code in babel.localedata.locale_identifiers() if len(code) == 2})[:40]
    doc = listing(
        "max-size",
        languages=languages,
        translations={lang: {"title": "Ж" * 200, "summary": "Ж" * 2000} for lang in languages},
    )
    doc["verification"]["sources"] = [f"https://max-size.example.org/{i}/{'a' * 2000}" for i in range(20)]
    doc = json.loads(json.dumps(doc, default=str))
    body = {"action": "create", "listing": doc, "note": "Ж" * 2000, "sources": doc["verification"]["sources"]}
    encoded = json.dumps(body).encode()
    assert 0.5 * MIB < len(encoded) < MIB
    response = site.client.post("/v1/submissions", content=encoded, headers={**site.auth, "Content-Type": "application/json"})
    assert response.status_code != 413, response.text
    if response.status_code != 201:  # refused on its merits, never for its size or encoding
        assert_body_problem(response)
        assert all(e["field"] for e in response.json()["errors"]), response.text


# --- 2. media types -----------------------------------------------------------------------------

VALID_REPORT = b'{"reason": "other", "details": "x"}'

REFUSED_CONTENT_TYPES = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "text/json",
    "text/html",
    "application/jsonp",
    "application/json-seq",
    "application/x-json",
    "json",
    "*/*",
    "application/*",
    "application/json; charset=latin-1",
    "application/json; charset=utf-16",
    "application/json; charset=utf8mb4",
    "application/vnd.api+json; charset=iso-8859-1",
]
ACCEPTED_CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    'application/json; charset="utf-8"',
    "Application/JSON",
    "application/json; profile=x",
    "application/merge-patch+json",
    "application/vnd.actiondir.report+json; charset=utf-8",
]


@pytest.mark.parametrize("path", BODY_ENDPOINTS)
@pytest.mark.parametrize("content_type", REFUSED_CONTENT_TYPES)
def test_a_body_that_is_not_declared_json_is_a_415(site, path, content_type):
    response = site.client.post(path, content=VALID_REPORT, headers={**site.auth, "Content-Type": content_type})
    body = assert_problem(response, 415)
    assert body["title"] == "Unsupported Media Type"
    assert "application/json" in body["detail"]
    assert response.headers["accept-post"] == "application/json"


@pytest.mark.parametrize("path", BODY_ENDPOINTS)
def test_a_body_without_content_type_is_a_415(site, path):
    response = site.client.post(path, content=VALID_REPORT, headers=site.auth)
    assert "content-type" not in {k.lower() for k in response.request.headers}
    body = assert_problem(response, 415)
    assert "Content-Type" in body["detail"]


@pytest.mark.parametrize("path", BODY_ENDPOINTS)
@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "identity, gzip"])
def test_a_compressed_body_is_a_415_saying_to_send_it_plain(site, path, coding):
    response = site.client.post(
        path, content=VALID_REPORT, headers={**site.auth, "Content-Type": "application/json", "Content-Encoding": coding}
    )
    assert_problem(response, 415)
    assert response.headers["accept-encoding"] == "identity"


def test_a_cross_site_form_cannot_file_a_report(site):
    """text/plain is a CORS-safelisted type (no preflight): such a post must change nothing."""
    before = site.report_count()
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b"]:
        response = site.client.post(
            "/v1/listings/ru-evacuation/reports", content=VALID_REPORT,
            headers={"Content-Type": content_type, "Origin": "https://evil.example"},
        )
        assert response.status_code == 415, response.text
    assert site.report_count() == before


@pytest.mark.parametrize("content_type", ACCEPTED_CONTENT_TYPES)
def test_json_media_types_are_accepted(site, content_type):
    before = site.report_count()
    response = site.client.post(
        "/v1/listings/ru-evacuation/reports", content=VALID_REPORT, headers={"Content-Type": content_type}
    )
    assert response.status_code == 202, response.text
    assert site.report_count() == before + 1


def test_identity_content_encoding_is_accepted(site):
    response = site.client.post(
        "/v1/listings/ru-evacuation/reports", content=VALID_REPORT,
        headers={"Content-Type": "application/json", "Content-Encoding": "identity"},
    )
    assert response.status_code == 202, response.text
