"""The public API over HTTP: pagination, conditional GETs, problems, parameters, CORS, gzip.

Read-only tests share one module-scoped deployment (``reader``); tests that change the data
use the function-scoped ``deployment`` / ``client`` fixtures from conftest.py.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import Deployment
from factory import default_listings, listing
from litestar.testing import TestClient

from api.app import create_app
from api.settings import load_settings
from api.store import Store

PROBLEM = "application/problem+json"
INVALID = "urn:actiondir:problem:invalid-request"


def page_listings() -> list[dict[str, Any]]:
    """Enough listings for several pages, with ids that interleave across the groups."""
    worldwide = {"languages": ["en"], "translations": {"en": {"title": "Anywhere", "summary": "For everyone."}}}
    return [
        *default_listings(),
        listing("aa-first", countries=["RU"]),
        listing("mm-two-countries", countries=["BR", "RU"], kind="donation"),
        listing("ru-zz-last", countries=["RU"], topics=["refugees"]),
        listing("ab-world", countries=["XX"], **worldwide),
        listing("zz-world", countries=["XX"], kind="petition", **worldwide),
    ]


def documented_order(
    docs: list[dict[str, Any]], *, country: str | None = None, include_worldwide: bool = True, kind: str | None = None
) -> list[str]:
    """The order the API documents: country-specific first, then worldwide; by id in each group."""
    chosen = []
    for doc in docs:
        worldwide = doc["countries"] == ["XX"]
        if country is not None:
            wanted = {country} | ({"XX"} if include_worldwide else set())
            if not wanted & set(doc["countries"]):
                continue
        if kind is not None and doc["kind"] != kind:
            continue
        chosen.append((worldwide, doc["id"]))
    return [listing_id for _, listing_id in sorted(chosen)]


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("http")
    dep = Deployment(data=root / "data", db=root / "test.db")
    dep.reimport(page_listings())
    with dep.client() as test_client:
        yield test_client


@pytest.fixture(scope="module")
def default_reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("http-default")
    dep = Deployment(data=root / "data", db=root / "test.db")
    dep.reimport(default_listings())
    with dep.client() as test_client:
        yield test_client


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def walk(client: TestClient, path: str, params: dict[str, Any]) -> tuple[list[list[str]], list[str | None]]:
    """Follow next_cursor to the end: the ids of each page, and the cursors seen."""
    pages, cursors = [], []
    cursor = None
    for _ in range(50):
        response = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        pages.append(ids(response))
        cursor = response.json()["next_cursor"]
        cursors.append(cursor)
        if cursor is None:
            return pages, cursors
    raise AssertionError("pagination never ended")


def assert_problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    return body


def field_errors(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["in"], e["field"]) for e in body["errors"]]


# --- (a) Pagination ---------------------------------------------------------------------------


def test_documented_order_of_the_whole_list(reader):
    assert ids(reader.get("/v1/listings", params={"limit": 100})) == [
        "aa-first",
        "br-kiss-in",
        "mm-two-countries",
        "ru-evacuation",
        "ru-legal-aid",
        "ru-zz-last",
        "ug-shelter",
        "ab-world",
        "ww-rainbow",
        "zz-world",
    ]


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        ("/v1/listings", {}, documented_order(page_listings())),
        ("/v1/listings", {"country": "RU"}, documented_order(page_listings(), country="RU")),
        ("/v1/countries/RU/listings", {}, documented_order(page_listings(), country="RU")),
        (
            "/v1/countries/RU/listings",
            {"include_worldwide": "false"},
            documented_order(page_listings(), country="RU", include_worldwide=False),
        ),
        ("/v1/listings", {"kind": "organization"}, documented_order(page_listings(), kind="organization")),
        ("/v1/listings", {"country": "XX"}, documented_order(page_listings(), country="XX")),
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_pages_cover_everything_once_in_order(reader, path, params, expected, limit):
    pages, cursors = walk(reader, path, {**params, "limit": limit})
    seen = [i for page in pages for i in page]
    assert seen == expected  # no duplicates, no gaps, documented order
    assert all(len(page) == limit for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit
    assert len(set(c for c in cursors if c)) == len(cursors) - 1  # every cursor differs; the last is null


def test_cursors_are_opaque_strings(reader):
    cursor = reader.get("/v1/listings", params={"limit": 2}).json()["next_cursor"]
    assert isinstance(cursor, str) and cursor
    assert "ru-evacuation" not in cursor  # not the raw id


def test_pagination_across_a_revision_change(deployment, client):
    before = page_listings()
    deployment.reimport(before)
    first = client.get("/v1/listings", params={"limit": 3})
    page1 = ids(first)
    assert page1 == ["aa-first", "br-kiss-in", "mm-two-countries"]
    cursor = first.json()["next_cursor"]
    revision = first.headers["x-dataset-revision"]

    changed = [doc for doc in before if doc["id"] != "ru-legal-aid"]  # not served yet: removed
    changed += [
        listing("ab-added-before", countries=["RU"]),  # sorts before the cursor: not seen, fine
        listing("ru-added-after", countries=["RU"]),  # after the cursor: must appear
        listing("aa-added-worldwide", countries=["XX"]),  # worldwide sort after every country
    ]
    summary = deployment.reimport(changed)
    assert summary.created == 3 and summary.retired == 1

    rest_pages, _ = walk(client, "/v1/listings", {"limit": 3, "cursor": cursor})
    rest = [i for page in rest_pages for i in page]
    assert client.get("/v1/listings").headers["x-dataset-revision"] != revision
    assert len(rest) == len(set(rest))
    assert not set(rest) & set(page1), "no repeats"
    assert "ru-added-after" in rest
    assert "aa-added-worldwide" in rest
    assert "ru-legal-aid" not in rest
    assert "ab-added-before" not in rest
    unseen_unchanged = [i for i in documented_order(before) if i not in page1 and i != "ru-legal-aid"]
    assert [i for i in rest if i in unseen_unchanged] == unseen_unchanged
    assert rest == [i for i in documented_order(changed) if i not in page1 and i != "ab-added-before"]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _valid_cursor(client: TestClient) -> str:
    return client.get("/v1/listings", params={"limit": 2}).json()["next_cursor"]


BAD_CURSORS = [
    pytest.param(lambda c: "garbage", id="garbage"),
    pytest.param(lambda c: "c1.", id="empty-payload"),
    pytest.param(lambda c: "c1.!!!", id="not-base64"),
    pytest.param(lambda c: "c1.é", id="non-ascii"),
    # Any well-formed cursor is a valid position (the spec states the pattern), so what is
    # refused is what does not fit it:
    pytest.param(lambda c: "c1.2.ru-evacuation", id="group-not-0-or-1"),
    pytest.param(lambda c: "c1.0.", id="no-id"),
    pytest.param(lambda c: "c1.0.Ru-Evacuation", id="id-not-a-slug"),
    pytest.param(lambda c: "c2." + _valid_cursor(c)[3:], id="wrong-version"),
    pytest.param(lambda c: _valid_cursor(c)[3:], id="prefix-stripped"),
    pytest.param(lambda c: "c1." + _b64(b'[2,"ru-evacuation"]'), id="group-out-of-range"),
    pytest.param(lambda c: "c1." + _b64(b'[true,"ru-evacuation"]'), id="group-not-int"),
    pytest.param(lambda c: "c1." + _b64(b'[0,5]'), id="id-not-string"),
    pytest.param(lambda c: "c1." + _b64(b'{"id":"ru-evacuation"}'), id="object"),
    pytest.param(lambda c: "c1." + _b64(b'[0,"a","b"]'), id="too-long-tuple"),
    pytest.param(lambda c: "c1." + "A" * 500, id="over-max-length"),
]


@pytest.mark.parametrize("make", BAD_CURSORS)
@pytest.mark.parametrize("path", ["/v1/listings", "/v1/countries/RU/listings"])
def test_bad_cursor_is_a_400_naming_cursor(reader, make, path):
    response = reader.get(path, params={"cursor": make(reader)})
    body = assert_problem(response, 400)
    assert body["type"] == INVALID
    assert field_errors(body) == [("query", "cursor")]


def test_well_formed_cursor_works(reader):
    # Control for the table above: an untampered cursor from the API is accepted.
    response = reader.get("/v1/listings", params={"limit": 2, "cursor": _valid_cursor(reader)})
    assert ids(response) == ["mm-two-countries", "ru-evacuation"]


# --- (b) ETag, 304 and Cache-Control ----------------------------------------------------------


GET_ENDPOINTS = [
    "/v1/listings",
    "/v1/countries",
    "/v1/countries/RU",
    "/v1/countries/RU/listings",
    "/v1/listings/ru-evacuation",
    "/v1/topics",
    "/v1/dataset",
    "/v1/openapi.json",
    "/healthz",
]
DATA_ENDPOINTS = [p for p in GET_ENDPOINTS if p not in ("/v1/openapi.json", "/healthz")]


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
@pytest.mark.parametrize("path", GET_ENDPOINTS)
def test_every_get_has_an_etag_and_answers_304(reader, path, encoding):
    headers = {"Accept-Encoding": encoding}
    first = reader.get(path, headers=headers)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith(('W/"', '"')) and etag.endswith('"')
    assert reader.get(path, headers=headers).headers["etag"] == etag  # stable

    cached = reader.get(path, headers={**headers, "If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag
    assert "content-length" not in cached.headers or cached.headers["content-length"] == "0"


@pytest.mark.parametrize("path", GET_ENDPOINTS)
def test_if_none_match_uses_weak_comparison_and_lists(reader, path):
    etag = reader.get(path).headers["etag"]
    strong = etag.removeprefix("W/")
    assert reader.get(path, headers={"If-None-Match": strong}).status_code == 304
    assert reader.get(path, headers={"If-None-Match": f'"nope", {etag}'}).status_code == 304
    assert reader.get(path, headers={"If-None-Match": "*"}).status_code == 304
    other = reader.get(path, headers={"If-None-Match": 'W/"0000", "1111"'})
    assert other.status_code == 200
    assert other.headers["etag"] == etag
    assert other.content


def test_etag_differs_between_representations(reader):
    tags = {
        reader.get("/v1/listings").headers["etag"],
        reader.get("/v1/listings", params={"limit": 2}).headers["etag"],
        reader.get("/v1/listings", params={"lang": "ru"}).headers["etag"],
        reader.get("/v1/dataset").headers["etag"],
        reader.get("/v1/dataset", headers={"Accept": "application/x-ndjson"}).headers["etag"],
    }
    assert len(tags) == 5


def test_old_etags_give_200_with_a_new_etag_after_a_changing_reimport(deployment, client):
    old = {path: client.get(path).headers["etag"] for path in GET_ENDPOINTS}
    docs = default_listings()
    docs[0]["translations"]["en"]["title"] = "Evacuation, renamed"  # ru-evacuation
    docs.append(listing("ru-new-donation", kind="donation", topics=["refugees"]))  # RU counts, topics counts
    assert deployment.reimport(docs).changed

    for path in DATA_ENDPOINTS + ["/healthz"]:
        response = client.get(path, headers={"If-None-Match": old[path]})
        assert response.status_code == 200, path
        assert response.headers["etag"] != old[path], path
        assert response.content
        # and the new tag validates
        assert client.get(path, headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    # The spec does not depend on the data: its validator survives the import.
    assert client.get("/v1/openapi.json", headers={"If-None-Match": old["/v1/openapi.json"]}).status_code == 304


def test_derived_etag_does_not_depend_on_the_gzip_timestamp(reader, monkeypatch):
    first = reader.get("/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    an_hour_later = time.time() + 3600
    monkeypatch.setattr(gzip, "time", SimpleNamespace(time=lambda: an_hour_later))
    later = reader.get("/v1/openapi.json", headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]})
    assert later.status_code == 304


def test_unchanged_pages_keep_their_etag_across_revisions(deployment, client):
    before = client.get("/v1/countries/UG").headers["etag"]
    docs = default_listings()
    docs[0]["translations"]["en"]["title"] = "Evacuation, renamed"  # RU only
    assert deployment.reimport(docs).changed
    response = client.get("/v1/countries/UG", headers={"If-None-Match": before})
    assert response.status_code == 304


@pytest.mark.parametrize("path", DATA_ENDPOINTS + ["/v1/openapi.json"])
def test_cache_control_on_data_endpoints(reader, path):
    response = reader.get(path)
    directives = {d.strip() for d in response.headers["cache-control"].split(",")}
    assert directives == {"public", "max-age=60", "stale-while-revalidate=600"}
    revalidated = reader.get(path, headers={"If-None-Match": response.headers["etag"]})
    assert revalidated.headers["cache-control"] == response.headers["cache-control"]


def test_cache_control_follows_settings(deployment):
    with deployment.client(max_age=5, stale_while_revalidate=7) as client:
        response = client.get("/v1/listings")
    directives = {d.strip() for d in response.headers["cache-control"].split(",")}
    assert directives == {"public", "max-age=5", "stale-while-revalidate=7"}


def test_healthz_and_problems_are_not_cached_publicly(reader):
    assert reader.get("/healthz").headers["cache-control"] == "no-cache"
    assert reader.get("/v1/listings/nope").headers["cache-control"] == "no-store"
    assert reader.get("/v1/listings", params={"limit": 0}).headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/v1/listings", "/healthz"])
def test_head_is_answered_like_get(reader, path):
    get = reader.get(path)
    head = reader.head(path)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]


# --- (c) Problems (RFC 9457) ------------------------------------------------------------------

PROBLEM_CASES = [
    # (method, path, params, status, expected errors for 400s)
    pytest.param("GET", "/v1/nope", {}, 404, None, id="unknown-path"),
    pytest.param("GET", "/nope", {}, 404, None, id="unknown-root-path"),
    pytest.param("GET", "/v1/listings/no-such-listing", {}, 404, None, id="unknown-listing"),
    pytest.param("GET", "/v1/countries/FR", {}, 404, None, id="country-without-listings"),
    # A well-formed but unknown topic is a 404 (api/routes/listings.py: "no such topic exists"), not a 400.
    pytest.param("GET", "/v1/listings", {"topic": "no-such-topic"}, 404, None, id="topic-unknown"),
    pytest.param("POST", "/v1/listings", {}, 405, None, id="post-on-get-path"),
    pytest.param("DELETE", "/v1/listings/ru-evacuation", {}, 405, None, id="delete-on-get-path"),
    pytest.param("GET", "/v1/listings", {"limit": 0}, 400, [("query", "limit")], id="limit=0"),
    pytest.param("GET", "/v1/listings", {"limit": 101}, 400, [("query", "limit")], id="limit=101"),
    pytest.param("GET", "/v1/listings", {"limit": "ten"}, 400, [("query", "limit")], id="limit-not-int"),
    pytest.param("GET", "/v1/listings", {"kind": "bogus"}, 400, [("query", "kind")], id="kind=bogus"),
    pytest.param("GET", "/v1/listings", {"country": "ru"}, 400, [("query", "country")], id="country=ru"),
    pytest.param("GET", "/v1/listings", {"country": "QQ"}, 400, [("query", "country")], id="country=QQ"),
    pytest.param("GET", "/v1/listings", {"topic": "Not A Slug"}, 400, [("query", "topic")], id="topic-malformed"),
    pytest.param("GET", "/v1/listings", {"q": ""}, 400, [("query", "q")], id="q-empty"),
    pytest.param("GET", "/v1/listings", {"include_worldwide": "maybe"}, 400, [("query", "include_worldwide")], id="bool"),
    pytest.param("GET", "/v1/countries/ru/listings", {}, 400, [("path", "code")], id="path-lowercase-country"),
    pytest.param("GET", "/v1/listings/Not_A_Slug", {}, 400, [("path", "listing_id")], id="path-bad-id"),
]


def _request(client: TestClient, method: str, path: str, params: dict[str, Any]):
    return client.request(method, path, params=params)


@pytest.mark.parametrize(("method", "path", "params", "status", "errors"), PROBLEM_CASES)
def test_errors_are_problem_json(reader, method, path, params, status, errors):
    response = _request(reader, method, path, params)
    body = assert_problem(response, status)
    assert body["instance"].split("?")[0] == path
    if status == 400:
        assert body["type"] == INVALID
        assert body["title"] == "Invalid request"
        assert isinstance(body["detail"], str) and body["detail"]
        assert field_errors(body) == errors
        assert all(isinstance(e["detail"], str) and e["detail"] for e in body["errors"])
    else:
        assert "errors" not in body
    if status == 404:
        assert body["title"] == "Not Found" and body["detail"]
    if status == 405:
        assert body["title"] == "Method Not Allowed"
        assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET"}
        assert method not in response.headers["allow"]


@pytest.mark.parametrize(
    ("method", "path", "params", "status", "errors"),
    [
        pytest.param(
            *case.values,
            id=case.id,
        )
        for case in PROBLEM_CASES
    ],
)
def test_every_problem_states_its_type(reader, method, path, params, status, errors):
    body = _request(reader, method, path, params).json()
    assert body["type"] == (INVALID if status == 400 else "about:blank")


@pytest.mark.parametrize(
    ("method", "path", "params", "status", "errors"),
    [
        pytest.param(
            *case.values,
            id=case.id,
        )
        for case in PROBLEM_CASES
    ],
)
def test_every_problem_has_a_detail(reader, method, path, params, status, errors):
    body = _request(reader, method, path, params).json()
    assert isinstance(body.get("detail"), str) and body["detail"]


def test_limit_bounds_are_accepted(reader):
    assert len(ids(reader.get("/v1/listings", params={"limit": 1}))) == 1
    assert len(ids(reader.get("/v1/listings", params={"limit": 100}))) == len(page_listings())


@pytest.mark.parametrize(
    ("method_name", "path", "unaffected"),
    [
        ("listings.count_by_country", "/v1/countries", "/v1/topics"),
        ("listings.get", "/v1/listings/ru-evacuation", "/v1/listings"),
        ("listings.page", "/v1/listings", "/v1/listings/ru-evacuation"),
        ("listings.count_active", "/healthz", "/v1/openapi.json"),
    ],
)
def test_an_internal_error_is_a_500_problem_without_internals(deployment, monkeypatch, method_name, path, unaffected):
    secret = "secret-token /srv/actiondir/db.sqlite line 42"

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(secret)

    store = Store(deployment.db)
    repository, _, method = method_name.partition(".")
    monkeypatch.setattr(getattr(store, repository), method, boom)
    try:
        with TestClient(create_app(load_settings(db=deployment.db), store=store)) as client:
            for _ in range(2):  # a failure is not cached
                response = client.get(path)
                body = assert_problem(response, 500)
                assert body["title"] == "Internal Server Error"
                assert body["detail"]
                for leak in (secret, "Traceback", "RuntimeError", "boom", ".py", "api/"):
                    assert leak not in response.text
            assert response.headers["cache-control"] == "no-store"
            # What does not need the failing method still works.
            assert client.get(unaffected).status_code == 200
    finally:
        store.close()


# --- (d) Unknown query parameters -------------------------------------------------------------

UNKNOWN_PARAMS = [
    ("/v1/listings", "foo", "1"),
    ("/v1/listings", "limt", "5"),
    ("/v1/listings", "accept_language", "ru"),
    ("/v1/listings", "Accept-Language", "ru"),
    ("/v1/listings", "LIMIT", "5"),
    ("/v1/listings", "page", "2"),
    ("/v1/listings", "code", "RU"),
    ("/v1/countries/RU/listings", "code", "RU"),
    ("/v1/countries/RU/listings", "country", "RU"),
    ("/v1/countries/RU", "code", "RU"),
    ("/v1/countries/RU", "limit", "5"),
    ("/v1/listings/ru-evacuation", "listing_id", "ru-evacuation"),
    ("/v1/listings/ru-evacuation", "cursor", "x"),
    ("/v1/countries", "country", "RU"),
    ("/v1/topics", "q", "x"),
    ("/v1/dataset", "accept", "application/x-ndjson"),
    ("/v1/dataset", "lang", "ru"),
    ("/healthz", "verbose", "1"),
    ("/v1/openapi.json", "foo", "1"),
]


@pytest.mark.parametrize(("path", "name", "value"), UNKNOWN_PARAMS)
def test_unknown_query_parameters_are_a_400_naming_them(reader, path, name, value):
    body = assert_problem(reader.get(path, params={name: value}), 400)
    assert body["type"] == INVALID
    assert field_errors(body) == [("query", name)]
    assert name in body["detail"]


def test_every_unknown_parameter_is_named(reader):
    body = assert_problem(reader.get("/v1/listings", params={"foo": "1", "limt": "5", "limit": "2"}), 400)
    assert sorted(field_errors(body)) == [("query", "foo"), ("query", "limt")]


def test_a_repeated_parameter_is_a_400(reader):
    body = assert_problem(reader.get("/v1/listings", params=[("limit", "2"), ("limit", "3")]), 400)
    assert field_errors(body) == [("query", "limit")]


@pytest.mark.parametrize(
    ("path", "params", "expected_ids"),
    [
        (
            "/v1/listings",
            {"country": "RU", "kind": "organization", "topic": "lgbtq-rights", "q": "evacuation", "lang": "ru",
             "limit": "5", "include_worldwide": "false"},
            ["ru-evacuation"],
        ),
        (
            "/v1/countries/RU/listings",
            {"kind": "organization", "topic": "lgbtq-rights", "q": "evacuation", "lang": "ru", "limit": "5",
             "include_worldwide": "true"},
            ["ru-evacuation"],
        ),
        ("/v1/listings/ru-evacuation", {"lang": "ru"}, None),
        ("/v1/countries", {"lang": "ru"}, None),
        ("/v1/countries/RU", {"lang": "ru"}, None),
        ("/v1/topics", {"lang": "ru"}, None),
        ("/v1/dataset", {}, None),
        ("/healthz", {}, None),
    ],
)
def test_known_parameters_are_accepted(reader, path, params, expected_ids):
    response = reader.get(path, params=params)
    assert response.status_code == 200, response.text
    if expected_ids is not None:
        assert ids(response) == expected_ids


def test_cursor_is_a_known_parameter(reader):
    cursor = reader.get("/v1/countries/RU/listings", params={"limit": 2}).json()["next_cursor"]
    response = reader.get("/v1/countries/RU/listings", params={"limit": 2, "cursor": cursor})
    assert ids(response) == ["ru-evacuation", "ru-legal-aid"]


# --- (e) Worldwide listings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "status", "expected_ids"),
    [
        ("/v1/countries/RU/listings", {}, 200, ["ru-evacuation", "ru-legal-aid", "ww-rainbow"]),
        ("/v1/countries/RU/listings", {"include_worldwide": "false"}, 200, ["ru-evacuation", "ru-legal-aid"]),
        ("/v1/listings", {"country": "RU"}, 200, ["ru-evacuation", "ru-legal-aid", "ww-rainbow"]),
        ("/v1/listings", {"country": "RU", "include_worldwide": "false"}, 200, ["ru-evacuation", "ru-legal-aid"]),
        ("/v1/listings", {"country": "XX"}, 200, ["ww-rainbow"]),
        ("/v1/listings", {"country": "XX", "include_worldwide": "false"}, 200, ["ww-rainbow"]),
        ("/v1/countries/XX/listings", {}, 200, ["ww-rainbow"]),
        ("/v1/listings", {"include_worldwide": "false"}, 200,  # ignored without a country
         ["br-kiss-in", "ru-evacuation", "ru-legal-aid", "ug-shelter", "ww-rainbow"]),
        ("/v1/countries/FR/listings", {}, 200, ["ww-rainbow"]),
        ("/v1/countries/FR/listings", {"include_worldwide": "false"}, 200, []),
        ("/v1/listings", {"country": "FR"}, 200, ["ww-rainbow"]),
    ],
)
def test_worldwide_listings(default_reader, path, params, status, expected_ids):
    assert ids(default_reader.get(path, params=params)) == expected_ids


def test_country_without_own_listings(default_reader):
    client = default_reader
    assert_problem(client.get("/v1/countries/FR"), 404)
    assert "FR" not in [c["code"] for c in client.get("/v1/countries").json()["data"]]
    assert ids(client.get("/v1/countries/FR/listings")) == ["ww-rainbow"]


def test_invalid_country_code(default_reader):
    client = default_reader
    assert "QQ" in assert_problem(client.get("/v1/countries/QQ/listings"), 404)["detail"]
    assert_problem(client.get("/v1/countries/QQ"), 404)
    body = assert_problem(client.get("/v1/listings", params={"country": "QQ"}), 400)
    assert field_errors(body) == [("query", "country")]


def test_countries_count_their_own_listings_only(default_reader):
    client = default_reader
    countries = {c["code"]: c for c in client.get("/v1/countries").json()["data"]}
    assert list(countries) == ["BR", "RU", "UG", "XX"]
    assert countries["RU"]["counts"] == {"donation": 1, "petition": 0, "organization": 1, "total": 2}
    assert countries["XX"]["counts"]["total"] == 1
    assert [c["worldwide"] for c in countries.values()] == [False, False, False, True]


# --- (f) Filters combine ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected_ids"),
    [
        ({"kind": "organization"}, ["aa-first", "ru-evacuation", "ru-zz-last", "ug-shelter", "ab-world", "ww-rainbow"]),
        ({"topic": "refugees"}, ["ru-zz-last", "ww-rainbow"]),
        ({"kind": "organization", "topic": "refugees"}, ["ru-zz-last", "ww-rainbow"]),
        ({"kind": "donation", "topic": "refugees"}, []),
        ({"kind": "donation"}, ["mm-two-countries", "ru-legal-aid"]),
        ({"kind": "donation", "country": "BR"}, ["mm-two-countries"]),
        ({"kind": "petition", "country": "BR"}, ["br-kiss-in", "zz-world"]),
        ({"kind": "petition", "country": "BR", "include_worldwide": "false"}, ["br-kiss-in"]),
        ({"q": "kampala"}, ["ug-shelter"]),
        ({"q": "KAMPALA shel"}, ["ug-shelter"]),  # case-insensitive, last word a prefix
        ({"q": "kampala", "kind": "donation"}, []),
        ({"q": "Sao Paulo"}, ["br-kiss-in"]),  # diacritics-insensitive
        ({"q": "beijaço", "topic": "lgbtq-rights", "kind": "petition"}, ["br-kiss-in"]),
        ({"q": "по-русски", "kind": "organization"}, ["aa-first", "ru-evacuation", "ru-zz-last"]),
        ({"q": "по-русски", "kind": "organization", "topic": "refugees"}, ["ru-zz-last"]),
        ({"q": "everyone", "country": "RU"}, ["ab-world", "zz-world"]),
        ({"q": "everyone", "country": "RU", "include_worldwide": "false"}, []),
        ({"q": "everyone", "kind": "petition"}, ["zz-world"]),
        ({"q": "legal", "kind": "donation", "topic": "lgbtq-rights", "country": "RU"}, ["ru-legal-aid"]),
        ({"q": '"OR * NEAR'}, []),  # FTS5 syntax is searched as words, not parsed
    ],
)
def test_filters_combine(reader, params, expected_ids):
    assert ids(reader.get("/v1/listings", params={**params, "limit": 100})) == expected_ids


# --- (g) The dataset --------------------------------------------------------------------------


def test_dataset_json(reader):
    response = reader.get("/v1/dataset")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"revision", "license", "topics", "listings", "countries"}
    assert body["countries"] == []  # no country documents in this folder
    assert body["revision"] == int(response.headers["x-dataset-revision"]) == reader.get("/healthz").json()["revision"]
    assert body["license"] == "CC-BY-4.0"
    assert [t["id"] for t in body["topics"]] == ["lgbtq-rights", "refugees"]
    assert [item["listing"]["id"] for item in body["listings"]] == documented_order(page_listings())
    first = body["listings"][0]
    assert set(first) == {"listing", "status", "revision", "updated_at"}
    assert first["status"] == "active"
    assert first["listing"]["translations"]["ru"]["title"] == "aa-first по-русски"  # every language
    assert "accept" in [v.strip().lower() for v in response.headers["vary"].split(",")]


@pytest.mark.parametrize("accept", ["application/x-ndjson", "application/x-ndjson, application/json;q=0.5"])
def test_dataset_ndjson(reader, accept):
    as_json = reader.get("/v1/dataset").json()
    response = reader.get("/v1/dataset", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert "accept" in [v.strip().lower() for v in response.headers["vary"].split(",")]
    assert response.headers["x-dataset-revision"] == str(as_json["revision"])
    assert response.text.endswith("\n")
    lines = response.text.splitlines()
    items = [json.loads(line) for line in lines]
    assert len(lines) == len(as_json["listings"])
    assert [i["listing"]["id"] for i in items] == [i["listing"]["id"] for i in as_json["listings"]]
    assert items == as_json["listings"]


def test_dataset_ndjson_304_is_per_representation(reader):
    nd = reader.get("/v1/dataset", headers={"Accept": "application/x-ndjson"})
    js = reader.get("/v1/dataset")
    assert reader.get("/v1/dataset", headers={"If-None-Match": nd.headers["etag"]}).status_code == 200
    assert reader.get(
        "/v1/dataset", headers={"Accept": "application/x-ndjson", "If-None-Match": js.headers["etag"]}
    ).status_code == 200


ACCEPT_NEGOTIATION = [
    # (Accept, media type served)
    (None, "application/json"),
    ("*/*", "application/json"),
    ("application/json", "application/json"),
    ("application/x-ndjson", "application/x-ndjson"),
    ("APPLICATION/X-NDJSON", "application/x-ndjson"),
    # q=0 means "not acceptable" (RFC 9110 §12.4.2), wherever it appears
    ("application/json, application/x-ndjson;q=0", "application/json"),
    ("application/x-ndjson;q=0, application/json", "application/json"),
    ("application/x-ndjson;q=0", "application/json"),  # nothing acceptable: JSON, not a 406
    ("application/x-ndjson;q=0.0, */*", "application/json"),
    # the higher q wins; then the more specific range; then JSON
    ("application/json;q=0.5, application/x-ndjson", "application/x-ndjson"),
    ("application/json;q=0.9, application/x-ndjson;q=0.8", "application/json"),
    ("application/x-ndjson; q=0.9, application/json; q=0.8", "application/x-ndjson"),
    ("*/*;q=0.1, application/x-ndjson;q=0.2", "application/x-ndjson"),
    ("application/x-ndjson, */*", "application/x-ndjson"),
    ("application/x-ndjson, application/json", "application/json"),
    ("application/json, application/x-ndjson", "application/json"),
    # the most specific range gives a type its q, not the first or the highest
    ("application/*;q=0.5, application/json;q=0", "application/x-ndjson"),
    ("*/*, application/json;q=0", "application/x-ndjson"),
    ("application/*, application/x-ndjson;q=0", "application/json"),
    # what browsers and HTTP libraries send
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json"),
    ("application/json, text/plain, */*", "application/json"),
    # malformed or unknown: ignored
    ("text/html", "application/json"),
    ("application/x-ndjson;q=abc", "application/json"),
    ("application/x-ndjson;q=2", "application/json"),
    ("*/x-ndjson", "application/json"),
    (",,;;", "application/json"),
    (", ".join(["text/html"] * 40) + ", application/x-ndjson", "application/json"),  # the first 32 ranges count
]


@pytest.mark.parametrize(("accept", "served"), ACCEPT_NEGOTIATION)
def test_dataset_negotiates_accept_with_q_values(reader, accept, served):
    response = reader.get("/v1/dataset", headers={"Accept": accept} if accept is not None else {})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == served
    assert "accept" in _header_list(response.headers["vary"])


# --- (h) CORS ---------------------------------------------------------------------------------

ORIGIN = {"Origin": "https://partner.example"}


def _header_list(value: str) -> set[str]:
    return {v.strip().lower() for v in value.split(",")}


@pytest.mark.parametrize("path", ["/v1/listings", "/v1/countries/RU", "/v1/dataset", "/healthz"])
def test_cors_on_simple_get(reader, path):
    response = reader.get(path, headers=ORIGIN)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert {"etag", "content-language"} <= _header_list(response.headers["access-control-expose-headers"])


def test_cors_headers_survive_a_304_and_a_problem(reader):
    etag = reader.get("/v1/listings").headers["etag"]
    not_modified = reader.get("/v1/listings", headers={**ORIGIN, "If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.headers["access-control-allow-origin"] == "*"
    problem = reader.get("/v1/listings", params={"limit": 0}, headers=ORIGIN)
    assert problem.status_code == 400
    assert problem.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", ["/v1/listings", "/v1/listings/ru-evacuation", "/v1/countries/RU/listings"])
def test_cors_preflight(reader, path):
    response = reader.options(
        path,
        headers={
            **ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match, Accept-Language",
        },
    )
    assert 200 <= response.status_code < 300
    assert response.headers["access-control-allow-origin"] == "*"
    assert "get" in _header_list(response.headers["access-control-allow-methods"])
    assert {"if-none-match", "accept-language"} <= _header_list(response.headers["access-control-allow-headers"])
    assert int(response.headers["access-control-max-age"]) > 0


def _every_path(client: TestClient) -> list[tuple[str, set[str]]]:
    """Each route with an example path and the methods it has handlers for (HEAD with GET)."""
    examples = {"listing_id": "ru-evacuation", "code": "RU", "submission_id": "1", "report_id": "1",
                "token_id": "1", "path": "index.html", "name": "swagger-ui.css"}
    routes = []
    for route in client.served.litestar.routes:
        methods = {m for handler in route.route_handlers for m in handler.http_methods}
        methods |= {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
        path = re.sub(r"\{(\w+):\w+\}", lambda m: examples[m[1]], route.path)
        routes.append((path, methods))
    return routes


def _methods(value: str) -> set[str]:
    return {m.strip().upper() for m in value.split(",") if m.strip()}


@pytest.mark.parametrize(
    ("path", "methods"),
    [("/v1/tokens", {"GET", "HEAD", "OPTIONS", "POST"}), ("/v1/submissions", {"GET", "HEAD", "OPTIONS", "POST"}),
     ("/v1/listings", {"GET", "HEAD", "OPTIONS"}), ("/v1/listings/ru-evacuation/reports", {"OPTIONS", "POST"})],
)
def test_options_allow_lists_the_real_methods(reader, path, methods):
    plain = reader.options(path)
    assert plain.status_code == 204
    assert _methods(plain.headers["allow"]) == methods
    preflight = reader.options(path, headers={**ORIGIN, "Access-Control-Request-Method": "POST"})
    assert 200 <= preflight.status_code < 300
    assert _methods(preflight.headers["allow"]) == methods
    assert _methods(preflight.headers["access-control-allow-methods"]) == methods


def test_options_allow_on_every_path(reader):
    for path, methods in _every_path(reader):
        for headers in ({}, {**ORIGIN, "Access-Control-Request-Method": "GET"}):
            response = reader.options(path, headers=headers)
            assert response.status_code == 204, (path, response.text)
            assert _methods(response.headers["allow"]) == methods, (path, headers)
            if headers:
                assert _methods(response.headers["access-control-allow-methods"]) == methods, path


def test_a_preflight_carries_the_query_of_the_request_it_asks_about(reader):
    """Browsers send the preflight to the request's own URL, query string included."""
    response = reader.options(
        "/v1/listings?country=RU&limit=5", headers={**ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert response.status_code == 204, response.text
    assert "GET" in _methods(response.headers["access-control-allow-methods"])


@pytest.mark.parametrize(("method", "path"), [("PUT", "/v1/listings"), ("DELETE", "/v1/tokens"), ("GET", "/v1/tokens/1/revocation")])
def test_a_405_allow_names_head_where_get_is(reader, method, path):
    response = reader.request(method, path)
    assert response.status_code == 405
    allowed = _methods(response.headers["allow"])
    assert ("GET" in allowed) == ("HEAD" in allowed)
    assert method not in allowed


#: One of each kind of answer: data, 304, problems (400, 404, 405, 401, 415), OPTIONS, HEAD, POST.
def _every_kind_of_answer(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    etag = client.get("/v1/listings").headers["etag"]
    return {
        "200": client.get("/v1/listings", headers=headers),
        "200-gzip": client.get("/v1/dataset", headers={**headers, "Accept-Encoding": "gzip"}),
        "200-healthz": client.get("/healthz", headers=headers),
        "200-spec": client.get("/v1/openapi.json", headers=headers),
        "304": client.get("/v1/listings", headers={**headers, "If-None-Match": etag}),
        "HEAD": client.head("/v1/listings", headers=headers),
        "HEAD-304": client.head("/v1/listings", headers={**headers, "If-None-Match": etag}),
        "400": client.get("/v1/listings", params={"limit": 0}, headers=headers),
        "404": client.get("/v1/nope", headers=headers),
        "405": client.put("/v1/listings", headers=headers),
        "401": client.get("/v1/tokens", headers=headers),
        "415": client.post("/v1/listings/ru-evacuation/reports", content=b"x", headers={**headers, "Content-Type": "text/plain"}),
        "OPTIONS": client.options("/v1/listings", headers=headers),
    }


@pytest.mark.parametrize("origin", [False, True], ids=["without-origin", "with-origin"])
def test_every_answer_says_nosniff(reader, origin):
    for kind, response in _every_kind_of_answer(reader, ORIGIN if origin else {}).items():
        assert response.headers.get("x-content-type-options") == "nosniff", kind


@pytest.mark.parametrize("origin", [False, True], ids=["without-origin", "with-origin"])
def test_every_answer_carries_the_same_cors_headers_whatever_the_request(reader, origin):
    """A shared cache may store an answer to a request without Origin and serve it to a
    partner's browser: the CORS headers must be in it all the same."""
    for kind, response in _every_kind_of_answer(reader, ORIGIN if origin else {}).items():
        assert response.headers.get("access-control-allow-origin") == "*", kind
        exposed = _header_list(response.headers.get("access-control-expose-headers", ""))
        assert {"etag", "content-language", "x-dataset-revision"} <= exposed, kind
        assert "origin" not in _header_list(response.headers.get("vary", "")), kind


def test_cors_headers_do_not_depend_on_origin(reader):
    def cors(response) -> dict[str, str]:
        return {k: v for k, v in response.headers.items() if k.startswith("access-control-") or k == "vary"}

    for path in ("/v1/listings", "/v1/countries/RU", "/v1/nope", "/v1/tokens"):
        assert cors(reader.get(path)) == cors(reader.get(path, headers=ORIGIN)), path
        assert cors(reader.get(path)) == cors(reader.get(path, headers={"Origin": "https://other.example"})), path


def test_a_post_answer_exposes_location(reader):
    response = reader.post("/v1/listings/ru-evacuation/reports", json={"reason": "other"}, headers=ORIGIN)
    assert response.status_code in (202, 429)
    assert {"location", "retry-after"} <= _header_list(response.headers["access-control-expose-headers"])


# --- (i) gzip ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/v1/dataset", {}),
        ("/v1/dataset", {"Accept": "application/x-ndjson"}),
        ("/v1/listings?limit=100", {}),
        ("/v1/openapi.json", {}),
    ],
)
def test_large_responses_are_gzipped(reader, path, headers):
    plain = reader.get(path, headers={**headers, "Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    assert len(plain.content) > 1024
    with reader.stream("GET", path, headers={**headers, "Accept-Encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in _header_list(response.headers["vary"])
    assert len(raw) < len(plain.content)
    decoded = gzip.decompress(raw)
    assert decoded == plain.content
    if "ndjson" not in headers.get("Accept", ""):
        assert json.loads(decoded) == plain.json()


def test_small_responses_are_not_compressed(reader):
    response = reader.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers


# --- (j) Retired listings ---------------------------------------------------------------------


def test_a_retired_listing_is_gone(deployment, client):
    assert client.get("/v1/listings/ru-legal-aid").status_code == 200
    assert "ru-legal-aid" in ids(client.get("/v1/listings"))
    (deployment.data / "listings" / "ru-legal-aid.toml").unlink()
    remaining = [doc for doc in default_listings() if doc["id"] != "ru-legal-aid"]
    assert deployment.reimport(remaining).retired == 1

    body = assert_problem(client.get("/v1/listings/ru-legal-aid"), 410)
    assert body["title"] == "Gone"
    assert "ru-legal-aid" in body["detail"]
    assert assert_problem(client.get("/v1/listings/ru-legal-aid", params={"lang": "ru"}), 410)
    assert "ru-legal-aid" not in ids(client.get("/v1/listings", params={"limit": 100}))
    assert "ru-legal-aid" not in ids(client.get("/v1/countries/RU/listings"))
    assert ids(client.get("/v1/listings", params={"kind": "donation"})) == []
    assert ids(client.get("/v1/listings", params={"q": "ru-legal-aid"})) == []
    dataset = client.get("/v1/dataset").json()
    assert "ru-legal-aid" not in [i["listing"]["id"] for i in dataset["listings"]]
    ndjson = client.get("/v1/dataset", headers={"Accept": "application/x-ndjson"}).text
    assert "ru-legal-aid" not in ndjson
    assert client.get("/v1/countries/RU").json()["counts"] == {
        "donation": 0, "petition": 0, "organization": 1, "total": 1,
    }
    assert client.get("/healthz").json()["listings"] == 4

    # Bringing it back makes it answer again.
    deployment.reimport(default_listings())
    assert client.get("/v1/listings/ru-legal-aid").status_code == 200


# --- (k) /healthz -----------------------------------------------------------------------------


def test_healthz_reports_the_revision(deployment, client):
    first = client.get("/healthz")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/json")
    assert first.json() == {"status": "ok", "revision": 1, "listings": 5}

    assert not deployment.reimport(default_listings()).changed  # nothing changed: same revision
    assert client.get("/healthz").json()["revision"] == 1

    docs = default_listings()
    docs.append(listing("ru-extra"))
    assert deployment.reimport(docs).revision == 2
    health = client.get("/healthz").json()
    assert health == {"status": "ok", "revision": 2, "listings": 6}
    assert client.get("/v1/listings").headers["x-dataset-revision"] == "2"


# --- (l) The response cache is invalidated by an import ---------------------------------------


def test_a_changed_title_is_served_at_once(deployment, client):
    warm = {
        "/v1/listings/ru-evacuation": lambda r: r.json()["title"],
        "/v1/listings": lambda r: next(i["title"] for i in r.json()["data"] if i["id"] == "ru-evacuation"),
        "/v1/countries/RU/listings": lambda r: r.json()["data"][0]["title"],
    }
    for path, title in warm.items():
        for _ in range(2):  # the second request is a cache hit
            assert title(client.get(path)) == "ru-evacuation in English"
    hits_before = client.served.front_cache.hits
    assert hits_before >= 3

    docs = default_listings()
    docs[0]["translations"]["en"]["title"] = "Evacuation, new title"
    deployment.reimport(docs)
    for path, title in warm.items():
        assert title(client.get(path)) == "Evacuation, new title", path
    assert client.get("/v1/dataset").json()["listings"][1]["listing"]["translations"]["en"]["title"] == (
        "Evacuation, new title"
    )
    # Russian text was not changed and is still served.
    assert client.get("/v1/listings/ru-evacuation", params={"lang": "ru"}).json()["title"] == "ru-evacuation по-русски"


def test_the_listing_revision_moves_only_for_the_changed_listing(deployment, client):
    docs = default_listings()
    docs[0]["translations"]["en"]["title"] = "Evacuation, new title"
    deployment.reimport(docs)
    revisions = {i["id"]: i["revision"] for i in client.get("/v1/listings").json()["data"]}
    assert revisions == {"br-kiss-in": 1, "ru-evacuation": 2, "ru-legal-aid": 1, "ug-shelter": 1, "ww-rainbow": 1}

