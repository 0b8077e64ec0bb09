"""Requests built to hurt: hostile bodies, media types, and language headers as a weapon.

Every request body problem is a 4xx ``application/problem+json`` (never a 500), on every
endpoint that takes a body; a body that is not declared JSON is refused (415) before it is
read as JSON, so a cross-site HTML form cannot post to the API. Language negotiation reads a
bounded part of ``Accept-Language``, parses it without CLDR look-ups per tag, and keys the
response cache on what can change the answer, so random tags cannot grow memory.
"""

from __future__ import annotations

import codecs
import gc
import json
import logging
import random
import re
import string
import tracemalloc
import unicodedata
from collections.abc import Iterator
from typing import Any

import babel
import pytest
from conftest import Deployment
from factory import default_listings, listing
from litestar.testing import TestClient

from api.app import create_app
from api.i18n import best_language, language_preferences
from api.services.tokens import create_token
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
            return len(store.reports.page(status=None, after_id=None, limit=None))
        finally:
            store.close()


# --- which endpoints take a body --------------------------------------------------------------

_EXAMPLE_PATH_VALUES = {"listing_id": "ru-evacuation", "submission_id": "1", "report_id": "1", "token_id": "1"}


def _body_endpoints() -> list[str]:
    """Every path with a handler that reads a JSON body, from the app's own routes."""
    app = create_app(load_settings(db=":memory:"))
    paths = []
    for route in app.litestar.routes:
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


# --- 7. Accept-Language as a weapon -------------------------------------------------------------


def _random_tag(rng: random.Random, primaries: list[str] | None = None) -> str:
    primary = rng.choice(primaries) if primaries else "".join(rng.choices(string.ascii_lowercase, k=rng.choice([2, 3])))
    tag = primary
    if rng.random() < 0.3:
        tag += "-" + "".join(rng.choices(string.ascii_uppercase, k=1)) + "".join(rng.choices(string.ascii_lowercase, k=3))
    if rng.random() < 0.7:
        tag += "-" + ("".join(rng.choices(string.ascii_uppercase, k=2)) if rng.random() < 0.8 else f"{rng.randrange(1000):03d}")
    return tag


def test_only_the_start_of_a_huge_accept_language_is_read():
    head = "ru;q=0.9, en-GB;q=0.8, de"
    huge = head + ", " + ", ".join(f"x{i % 10}y" for i in range(90_000))  # about 450 KB
    assert len(huge) > 400_000
    assert language_preferences(None, huge) == ("de", "ru", "en-GB")


def test_a_tag_cut_by_the_size_bound_is_dropped_not_misread():
    header = "ru;" + "p" * 1017 + ", de-CH, fr"  # the 1,024th character is the "e" of "de-CH"
    assert header[1022:1024] == "de"
    assert language_preferences(None, header) == ("ru",)  # not "de": the cut tag said "de-CH"


def test_at_most_sixteen_items_are_read():
    tags = [f"l{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(40)]
    assert language_preferences(None, ", ".join(tags)) == tuple(tags[:16])


def _unknown_tags(rng: random.Random, count: int) -> list[str]:
    """Well-formed tags of languages neither CLDR nor the dataset has."""
    known = _known_primaries()
    tags = []
    while len(tags) < count:
        tag = _random_tag(rng)
        if tag.split("-")[0] not in known:
            tags.append(tag)
    return tags


def _memory_kept(client: TestClient, headers: list[str]) -> int:
    """Bytes still allocated after one request per header (tracemalloc, after a collection)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for value in headers:
            assert client.get("/v1/listings", headers={"Accept-Language": value}).status_code == 200
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_unique_huge_accept_language_headers_do_not_grow_memory(site, monkeypatch):
    """1,000 distinct 8 KB headers keep no more memory than 1,000 copies of one header."""
    monkeypatch.setattr(logging.getLogger("httpx"), "level", logging.WARNING)  # pytest keeps records
    rng = random.Random(7)
    headers = [", ".join(_unknown_tags(rng, 900))[:8000] for _ in range(1000)]
    for value in headers[:20]:  # warm every cache the path uses
        assert site.client.get("/v1/listings", headers={"Accept-Language": value}).status_code == 200
    same = _memory_kept(site.client, [headers[0]] * 980)
    unique = _memory_kept(site.client, headers[20:])
    assert unique - same < 256 * 1024, f"{(unique - same) / MIB:.2f} MiB more kept for 980 unique 8 KB headers"


def test_random_tags_cost_no_cldr_look_up_per_tag(site, monkeypatch):
    """Sixteen tags of known languages with random regions and scripts: no Babel parse each."""
    rng = random.Random(11)
    known = ["ru", "en", "de", "fr", "pt", "uk", "es", "ar", "zh", "ja"]
    site.client.get("/v1/countries", headers={"Accept-Language": "en"})  # the list of locales, built once
    calls = 0
    parse = babel.Locale.parse

    def counting_parse(identifier: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += isinstance(identifier, str)  # (a Locale passed in is returned as it is)
        return parse(identifier, *args, **kwargs)

    monkeypatch.setattr(babel.Locale, "parse", counting_parse)
    answered_in = set()
    requests = 0
    for _ in range(100):
        header = ", ".join(f"{_random_tag(rng, known)};q=0.{rng.randrange(1, 10)}" for _ in range(16))
        for path in ("/v1/listings", "/v1/countries", "/v1/listings/ru-evacuation"):
            response = site.client.get(path, headers={"Accept-Language": header})
            assert response.status_code == 200
            requests += 1
            body = response.json()
            answered_in.add(body["data"][0]["lang"] if path == "/v1/countries" else (body.get("labels") or body["data"][0]["labels"])["lang"])
    # Some random regions are real locales (de-AT, pt-AO): names are loaded once per locale
    # answered in, never per tag (16 tags x 300 requests would be 4,800).
    assert calls <= len(answered_in), (calls, sorted(answered_in))
    assert len(answered_in) < requests / 4


# --- 8. every lang value its own cache entry ----------------------------------------------------


@pytest.fixture
def fresh(deployment: Deployment) -> Iterator[TestClient]:
    with deployment.client() as client:
        yield client


def _cache_size(client: TestClient) -> int:
    """Entries of the response cache (the front cache, api/http/cache.py)."""
    return len(client.served.front_cache)


def _known_primaries() -> set[str]:
    return {code.split("_")[0] for code in babel.localedata.locale_identifiers()}


def test_random_unknown_lang_values_share_one_cache_entry_per_page(fresh):
    tags = sorted(set(_unknown_tags(random.Random(3), 1000)))
    baseline = fresh.get("/v1/listings")
    size = _cache_size(fresh)
    for tag in tags:
        response = fresh.get("/v1/listings", params={"lang": tag})
        assert response.status_code == 200, (tag, response.text)
        assert response.content == baseline.content, tag  # nothing to answer in: the default answer
        assert response.headers["content-language"] == baseline.headers["content-language"]
    assert _cache_size(fresh) == size


def test_random_regions_of_known_languages_stay_within_a_small_bound(fresh):
    rng = random.Random(5)
    primaries = ["ru", "en", "pt", "de", "uk"]
    translations = {item["listing"]["id"]: list(item["listing"]["translations"]) for item in fresh.get("/v1/dataset").json()["listings"]}
    tags: set[str] = set()
    while len(tags) < 1000:
        tags.add(_random_tag(rng, primaries))
    size = _cache_size(fresh)
    answers = set()
    for tag in sorted(tags):
        response = fresh.get("/v1/listings", params={"lang": tag})
        assert response.status_code == 200, (tag, response.text)
        answers.add(response.content)
        data = response.json()["data"]
        for item in data:  # each answer still right
            assert item["lang"] == best_language(translations[item["id"]], (tag,)), (tag, item["id"])
            assert item["labels"]["lang"] in {tag, tag.split("-")[0]}, tag
        assert set(response.headers["content-language"].split(", ")) >= {item["lang"] for item in data}
    # One entry per distinct answer (a real locale such as pt-AO names countries its own way),
    # give or take two spellings of one answer (pt and pt-BR both pick the pt-BR texts).
    assert _cache_size(fresh) - size <= len(answers) + len(primaries), (_cache_size(fresh) - size, len(answers))
    assert len(answers) < len(tags) / 10


@pytest.mark.slow
def test_random_accept_language_headers_stay_within_a_small_bound(fresh):
    rng = random.Random(9)
    headers = {", ".join(_random_tag(rng) for _ in range(16)) for _ in range(1000)}
    size = _cache_size(fresh)
    answers = set()
    for header in sorted(headers):
        response = fresh.get("/v1/listings", headers={"Accept-Language": header})
        assert response.status_code == 200
        answers.add(response.content)
    # Random two- and three-letter codes: about one in five is a real language, whose names
    # CLDR has, so many answers differ; but never more entries than answers, give or take
    # the few spellings of one answer (ru and ru-RU texts with the same names).
    added = _cache_size(fresh) - size
    assert added <= len(answers) * 1.2, (added, len(answers))
    assert len(answers) <= len(_known_primaries()) * 3


# --- hostile URLs: a problem names the request as it was sent, never decoded --------------------------

#: (method, target as sent, status): each target carries a percent-encoded character that must
#: not come back decoded (a line break in a JSON string can split a log line or a header).
HOSTILE_TARGETS = [
    ("GET", "/v1/countries/RU%0A", 400),
    ("GET", "/v1/countries/RU%0D%0AX-Injected:%201", 400),
    ("GET", "/v1/listings/ru-evacuation%00", 400),
    ("GET", "/v1/listings/%1B%5B31mred", 400),
    ("GET", "/v1/listings/ru%C2%85evacuation", 400),
    ("GET", "/v1/listings/ru%E2%80%A8evacuation", 400),
    ("GET", "/v1/submissions/1%0A", 400),
    ("GET", "/v1/countries/XX?lang=en%0A", 400),
    ("GET", "/v1/countries?lang=%0D%0A&limit=1", 400),
    ("GET", "/v1/nothing%0Ahere", 404),
    ("GET", "/v1/%E2%80%AEtxt.exe", 404),
    ("DELETE", "/v1/listings/ru-evacuation%0A", 405),
    ("POST", "/v1/listings/ru%20evacuation%0A/reports", 400),
]


@pytest.mark.parametrize(("method", "target", "status"), HOSTILE_TARGETS)
def test_a_problem_names_the_request_percent_encoded_as_sent(site, method, target, status):
    response = site.client.request(method, target, headers={"Content-Type": "application/json"}, content=b"{}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["instance"] == target
    for text in (problem["instance"], problem.get("detail") or "", *(e["detail"] for e in problem.get("errors", []))):
        assert not any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in text), text


def test_a_problem_names_a_plain_request_as_it_is(site):
    response = site.client.get("/v1/countries/ru", params={"lang": "pt-BR"})
    assert response.status_code == 400
    assert response.json()["instance"] == "/v1/countries/ru?lang=pt-BR"
