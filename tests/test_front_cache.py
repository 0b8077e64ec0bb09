"""The front response cache (api/http/cache.py): repeat public reads never reach litestar,
yet every answer is the app's, byte for byte, and no write is served stale for longer than
documented."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import AppClient, Deployment
from factory import country, default_listings
from litestar.testing import TestClient

from api.services.tokens import create_token
from api.store import Store

SOURCES = ["https://sources.example.org/check"]


class AppCalls:
    """Counts the requests that get past the front cache into the app."""

    def __init__(self, client: AppClient) -> None:
        front = client.served.front_cache
        self.count = 0
        self.inner = inner = front.app
        """The app below the front cache, uncounted."""

        async def counting(scope, receive, send):  # type: ignore[no-untyped-def]
            self.count += 1
            await inner(scope, receive, send)

        front.app = counting


def _client(deployment: Deployment, **settings: Any) -> Iterator[tuple[AppClient, AppCalls]]:
    with deployment.client(**settings) as client:
        yield client, AppCalls(client)


@pytest.fixture
def counted(deployment: Deployment) -> Iterator[tuple[AppClient, AppCalls]]:
    yield from _client(deployment, revision_poll_ms=60_000)


PUBLIC_READS = [
    "/v1/listings",
    "/v1/listings?country=RU&limit=2",
    "/v1/listings?limit=2&country=RU",
    "/v1/listings?lang=ru",
    "/v1/listings/ru-evacuation",
    "/v1/listings/ru-evacuation/revisions",
    "/v1/countries",
    "/v1/countries/RU",
    "/v1/countries/RU/listings",
    "/v1/topics",
    "/v1/dataset",
    "/v1/changes",
]


@pytest.mark.parametrize("path", PUBLIC_READS)
def test_a_repeat_read_is_answered_without_the_app(counted, path):
    client, calls = counted
    first = client.get(path)
    assert first.status_code == 200, first.text
    after_first = calls.count
    assert after_first == 1
    for _ in range(3):
        again = client.get(path)
        assert again.status_code == 200
        assert again.content == first.content
        assert again.headers.raw == first.headers.raw
    assert calls.count == after_first


def test_a_country_history_is_answered_without_the_app_too(deployment):
    deployment.reimport(default_listings(), countries=[country("RU")])
    for client, calls in _client(deployment, revision_poll_ms=60_000):
        first = client.get("/v1/countries/RU/revisions")
        assert first.status_code == 200, first.text
        for _ in range(3):
            assert client.get("/v1/countries/RU/revisions").content == first.content
        assert calls.count == 1
        assert "accept-language" not in first.headers["vary"].lower()  # no negotiated text in it


@pytest.mark.parametrize("first", ["GET", "HEAD", "If-None-Match"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"Accept-Encoding": "gzip"}, {"Accept-Encoding": "identity"}, {"Accept-Language": "ru"}, {"Accept": "application/x-ndjson"}],
    ids=["plain", "gzip", "identity", "ru", "ndjson"],
)
@pytest.mark.parametrize("path", ["/v1/listings", "/v1/dataset", "/v1/countries", "/v1/listings/ru-evacuation"])
def test_head_and_304_from_the_front_cache_are_the_apps(counted, path, headers, first):
    """Whichever request misses first (a GET, a HEAD, a CDN's revalidation), it fills the
    entry, and every answer from the entry is the app's own, byte for byte."""
    client, calls = counted
    app = TestClient(calls.inner)  # the app without the front cache
    from_app = app.get(path, headers=headers)
    etag = from_app.headers["etag"]
    head_from_app = app.head(path, headers=headers)
    not_modified_from_app = app.get(path, headers={**headers, "If-None-Match": etag})
    assert not_modified_from_app.status_code == 304

    miss = {
        "GET": lambda: client.get(path, headers=headers),
        "HEAD": lambda: client.head(path, headers=headers),
        "If-None-Match": lambda: client.get(path, headers={**headers, "If-None-Match": etag}),
    }[first]()
    expected = {"GET": from_app, "HEAD": head_from_app, "If-None-Match": not_modified_from_app}[first]
    assert (miss.status_code, miss.headers.raw, miss.content) == (expected.status_code, expected.headers.raw, expected.content)
    assert calls.count == 1  # the miss; everything below is from the front cache

    head = client.head(path, headers=headers)
    assert (head.status_code, head.headers.raw, head.content) == (200, head_from_app.headers.raw, b"")
    not_modified = client.get(path, headers={**headers, "If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.headers.raw == not_modified_from_app.headers.raw
    assert not_modified.content == b""
    head_not_modified = client.head(path, headers={**headers, "If-None-Match": f'"other", {etag}'})
    assert head_not_modified.status_code == 304
    assert head_not_modified.headers.raw == not_modified_from_app.headers.raw
    changed = client.get(path, headers={**headers, "If-None-Match": '"something-else"'})
    assert (changed.status_code, changed.headers.raw, changed.content) == (200, from_app.headers.raw, from_app.content)
    assert calls.count == 1


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", ["/v1/listings/no-such-listing", "/v1/countries/ZZ", "/v1/listings?limit=0"])
def test_a_problem_is_answered_by_the_app_on_every_request(counted, path, method):
    """Only 200s are kept: a HEAD or GET that the app refuses reaches it every time."""
    client, calls = counted
    app = TestClient(calls.inner)
    from_app = app.request(method, path)
    for count in (1, 2):
        response = client.request(method, path)
        assert response.status_code in (400, 404)
        assert (response.status_code, response.headers.raw, response.content) == (
            from_app.status_code, from_app.headers.raw, from_app.content
        )
        assert calls.count == count
    if method == "HEAD":
        assert response.content == b"" and int(response.headers["content-length"]) > 0


def test_gzip_and_identity_are_stored_apart(counted):
    client, calls = counted
    plain = client.get("/v1/dataset", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/v1/dataset", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert client.get("/v1/dataset", headers={"Accept-Encoding": "identity"}).headers.raw == plain.headers.raw
    assert client.get("/v1/dataset", headers={"Accept-Encoding": "gzip"}).headers.raw == zipped.headers.raw
    assert calls.count == 2


INVALID = [
    "/v1/listings?limit=20&limit=20",
    "/v1/listings?lang=en&lang=en",
    "/v1/listings?lang=en&lang=ru",
    "/v1/listings?lang=",
    "/v1/listings?lang=en!",
    "/v1/listings?lang=english-please",
    "/v1/listings?limit=020",
    "/v1/listings?limit=0",
    "/v1/listings?kind=null",
    "/v1/listings?unknown=1",
    "/v1/listings?lang=en&unknown=1",
    "/v1/listings/ru-evacuation?lang=en&x=1",
    "/v1/listings/Not_An_Id",
    "/v1/countries/ru",
    "/v1/countries/RU?limit=2",
    "/v1/changes?since=s1.x",
    "/v1/topics?lang=en&lang=en",
]


@pytest.mark.parametrize("path", INVALID)
def test_an_invalid_request_is_never_answered_from_the_cache(counted, path):
    client, calls = counted
    # Warm every valid neighbour the invalid request could be mistaken for.
    for valid in ("/v1/listings", "/v1/listings?lang=en", "/v1/listings?limit=20", "/v1/listings/ru-evacuation",
                  "/v1/countries/RU", "/v1/topics", "/v1/topics?lang=en", "/v1/changes"):
        assert client.get(valid).status_code == 200
    before = calls.count
    for _ in range(2):
        response = client.get(path)
        assert response.status_code in (400, 404), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert calls.count == before + 2


def test_unlisted_requests_always_reach_the_app(counted):
    client, calls = counted
    for _ in range(3):
        client.get("/healthz")
    assert calls.count == 3


@pytest.mark.parametrize("first", ["anonymous", "with a token"])
@pytest.mark.parametrize("path", ["/v1/listings", "/v1/dataset", "/v1/listings/ru-evacuation"])
def test_a_public_read_with_a_token_is_a_public_read(counted, path, first):
    """Public reads depend on no credential: a client that sends its token everywhere, or
    anyone adding ``Authorization: Bearer x`` (which CDNs pass through), must not make every
    request rebuild the answer (with 2,000 listings, /v1/dataset took 160 ms of the event loop
    per request that way, against 3 ms before the redesign)."""
    client, calls = counted
    token = {"Authorization": "Bearer nothing"}
    from_app = TestClient(calls.inner).get(path)
    for headers in ([{}, token] if first == "anonymous" else [token, {}]) * 2:
        response = client.get(path, headers=headers)
        assert (response.status_code, response.headers.raw, response.content) == (200, from_app.headers.raw, from_app.content)
    assert calls.count == 1


def test_no_public_read_depends_on_a_credential(deployment):
    """What lets the front cache leave ``Authorization`` out of its key: every route it answers
    for is unguarded, and no handler of one takes the identity or the request's headers."""
    from litestar.routes import HTTPRoute  # noqa: PLC0415

    from api.http.cache import PUBLIC_READ_PATH  # noqa: PLC0415

    with deployment.client() as client:
        app = client.served.litestar
        public = [
            handler
            for route in app.routes
            if isinstance(route, HTTPRoute) and PUBLIC_READ_PATH.fullmatch(re.sub(r"\{(\w+)(?::\w+)?\}", "x", route.path))
            for handler in route.route_handlers
            if "GET" in handler.http_methods
        ]
        assert len(public) == 12, [h.handler_name for h in public]  # a new public read is checked below too
        for handler in public:
            assert not handler.resolve_guards(), handler.handler_name
            taken = set(handler.parsed_fn_signature.parameters)
            assert not taken & {"identity", "request", "headers", "authorization", "scope"}, (handler.handler_name, taken)


#: Spellings of a public read that litestar routes to the same answer: (spelling, canonical).
SPELLINGS = [
    ("/v1/dataset/", "/v1/dataset"),
    ("//v1/dataset", "/v1/dataset"),
    ("/v1//dataset", "/v1/dataset"),
    ("/v1/%64ataset", "/v1/dataset"),
    ("/v1/dataset?&", "/v1/dataset"),
    ("/v1/dataset?&&", "/v1/dataset"),
    ("/v1/listings/", "/v1/listings"),
    ("/v1/listings?limit=5&", "/v1/listings?limit=5"),
    ("/v1/listings?&limit=5&&lang=ru", "/v1/listings?limit=5&lang=ru"),
    ("/v1/listings/ru-evacuation/", "/v1/listings/ru-evacuation"),
    ("/v1/listings/ru-%65vacuation/revisions", "/v1/listings/ru-evacuation/revisions"),
    ("/v1/countries/RU/listings/", "/v1/countries/RU/listings"),
]


@pytest.mark.parametrize(("spelling", "canonical"), SPELLINGS)
def test_every_spelling_of_a_public_read_is_answered_from_its_entry(counted, spelling, canonical):
    """A path as the router reads it (no trailing slash, one slash at a time, unreserved
    characters decoded) and a query without empty pieces (litestar drops them): each spelling
    is one more URL to a CDN, so without this every new spelling rebuilt the whole answer."""
    client, calls = counted
    url = f"http://testserver.local{spelling}"
    from_app = TestClient(calls.inner).get(url)  # the app's own answer to the spelling
    assert from_app.status_code == 200, from_app.text
    assert client.get(canonical).status_code == 200 and calls.count == 1
    for _ in range(3):
        response = client.get(url)
        assert (response.status_code, response.headers.raw, response.content) == (200, from_app.headers.raw, from_app.content)
    assert calls.count == 1
    assert len(client.served.front_cache) == 1  # spellings are looked up, never kept apart


@pytest.mark.parametrize("path", ["/v1/listings/ru-evacuation%2Frevisions", "/v1%2fdataset"])
def test_an_encoded_slash_is_never_answered_from_the_cache(counted, path):
    """``%2F`` is no separator (api/http/edge.py answers 404): the decoded path names a stored
    answer, but the request does not ask for it."""
    client, calls = counted
    assert client.get(path.replace("%2F", "/").replace("%2f", "/")).status_code == 200
    before = calls.count
    for _ in range(2):
        assert client.get(path).status_code == 404
    assert calls.count == before + 2


def test_random_language_tags_share_the_entries_of_what_they_negotiate(counted):
    client, calls = counted
    baseline = client.get("/v1/listings")
    for tag in ("qq", "qqa", "zz-Latn", "xx-ZZ", "qq-419"):
        response = client.get("/v1/listings", params={"lang": tag})
        assert response.content == baseline.content, tag  # nothing to answer in: the default answer
        assert response.headers.raw == baseline.headers.raw, tag
    assert len(client.served.front_cache) == 1
    assert calls.count == 1


def test_the_cache_is_bounded(deployment):
    for client, calls in _client(deployment, response_cache_size=3):
        for limit in range(1, 10):
            assert client.get("/v1/listings", params={"limit": limit}).status_code == 200
        assert len(client.served.front_cache) == 3


def _bump_revision_from_elsewhere(deployment: Deployment) -> None:
    """A write by another process: not through this process's Store, so it sees no commit."""
    connection = sqlite3.connect(deployment.db)
    with connection:
        connection.execute("update meta set value = cast(value as integer) + 1 where key = 'revision'")
    connection.close()


def test_another_processs_write_is_seen_within_the_poll_interval(deployment):
    for client, _ in _client(deployment, revision_poll_ms=100):
        assert client.get("/v1/topics").headers["x-dataset-revision"] == "1"
        _bump_revision_from_elsewhere(deployment)
        time.sleep(0.15)
        assert client.get("/v1/topics").headers["x-dataset-revision"] == "2"


def test_until_the_poll_interval_ends_the_stored_answer_is_served(counted, deployment):
    client, calls = counted  # polls every 60 s
    assert client.get("/v1/topics").headers["x-dataset-revision"] == "1"
    _bump_revision_from_elsewhere(deployment)
    assert client.get("/v1/topics").headers["x-dataset-revision"] == "1"  # the documented bound
    assert calls.count == 1


def test_an_approval_in_this_process_is_seen_at_once(counted, deployment):
    client, calls = counted  # polls every 60 s: only the local write can make it fresh
    url = "/v1/listings/ru-evacuation"
    before = client.get(url).json()
    assert client.get(url).json() == before and calls.count == 1

    store = Store(deployment.db)
    try:
        curator, _ = create_token(store, name="Curatorova Front", role="curator", expires_in_days=None, actor="test")
        reviewer, _ = create_token(store, name="Reviewski Front", role="reviewer", expires_in_days=None, actor="test")
    finally:
        store.close()
    doc = next(i["listing"] for i in client.get("/v1/dataset").json()["listings"] if i["listing"]["id"] == "ru-evacuation")
    doc["translations"]["en"]["title"] = "Evacuation, approved title"
    submitted = client.post(
        "/v1/submissions",
        json={"action": "update", "listing_id": "ru-evacuation", "base_revision": before["revision"], "listing": doc,
              "note": "A correction", "sources": SOURCES},
        headers={"Authorization": f"Bearer {curator}"},
    )
    assert submitted.status_code == 201, submitted.text
    decided = client.post(
        f"/v1/submissions/{submitted.json()['id']}/decision",
        json={"decision": "approve", "reason": "Checked the sources"},
        headers={"Authorization": f"Bearer {reviewer}"},
    )
    assert decided.status_code == 200, decided.text
    assert client.get(url).json()["title"] == "Evacuation, approved title"


def test_a_write_by_this_process_outside_http_is_seen_at_once(counted, deployment):
    client, _ = counted  # polls every 60 s
    assert client.get("/v1/listings/ru-evacuation").json()["title"] == "ru-evacuation in English"
    from factory import default_listings

    docs = default_listings()
    docs[0]["translations"]["en"]["title"] = "Evacuation, imported title"
    deployment.reimport(docs)
    assert client.get("/v1/listings/ru-evacuation").json()["title"] == "Evacuation, imported title"


def test_a_busy_database_gets_the_apps_503_not_a_crash_in_front(counted):
    client, calls = counted
    assert client.get("/v1/listings").status_code == 200
    store = client.served.litestar.state.store_provider()

    def busy() -> int:
        raise sqlite3.OperationalError("database is locked")

    store.get_revision = busy
    client.served.front_cache._next_poll = 0.0  # the next read re-reads the revision
    try:
        response = client.get("/v1/listings")
    finally:
        del store.get_revision
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]


@pytest.mark.parametrize("path", ["/v1/%64ataset", "/v1/d%61taset", "/v1/dataset?&", "/v1/dataset?&&", "/v1/listings?limit=5&"])
def test_unusual_spellings_are_answered_but_never_kept(tmp_path, path):
    """Each spelling of one request would otherwise be an entry with its own copy of the body."""
    from conftest import Deployment  # noqa: PLC0415
    from factory import default_listings  # noqa: PLC0415
    from litestar.testing import TestClient  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415
    from api.settings import load_settings  # noqa: PLC0415

    dep = Deployment(data=tmp_path / "data", db=tmp_path / "t.db")
    dep.reimport(default_listings())
    app = create_app(load_settings(db=dep.db))
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get(path).status_code == 200
    assert len(app.front_cache._entries) == 0  # noqa: SLF001 - the cache's size is the point
