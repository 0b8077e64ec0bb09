"""The typed client (``client/``, imported as ``actiondir_client``) against the real server.

The server is ``actiondir serve`` (granian) on 127.0.0.1, over the seed dataset plus a second
import that gives it history: one listing updated, one retired, a closed petition added. Every
answer the client decodes is compared with the same request made with plain httpx, so the
oracle is the server itself, never the client. What the real server cannot be made to do on
cue (answer 503 with ``Retry-After``, grow a field) is played by a small scripted HTTP server,
also on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import importlib.metadata
import inspect
import json
import math
import re
import shutil
import subprocess
import sys
import threading
import time
import tomllib
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import actiondir_client
import httpx
import msgspec
import msgspec.inspect as mi
import pytest
from actiondir_client import AsyncClient, Client, ProblemError
from actiondir_client._engine import retry_after_seconds
from conftest import REPO, free_port
from factory import listing, write_listing
from serving import ACTIONDIR, start_server, stop_server, wait_up

SPEC = json.loads((REPO / "openapi" / "v1.json").read_text(encoding="utf-8"))
CLIENT_PYPROJECT = REPO / "client" / "pyproject.toml"

UPDATED_ID = "ru-ovd-info"
RETIRED_ID = "br-antra"
CLOSED_ID = "xx-closed-petition"

#: Every public read endpoint of the spec, and the client method that calls it.
METHOD_FOR_PATH = {
    "/healthz": "health",
    "/v1/changes": "changes_page",
    "/v1/countries": "countries",
    "/v1/countries/{code}": "country",
    "/v1/countries/{code}/listings": "country_listing_page",
    "/v1/countries/{code}/revisions": "country_revisions",
    "/v1/dataset": "dataset",
    "/v1/listings": "listing_page",
    "/v1/listings/{listing_id}": "listing",
    "/v1/listings/{listing_id}/revisions": "listing_revisions",
    "/v1/topics": "topics",
}


# --- The real server, with some history -----------------------------------------------------------


def _import(data: Path, db: Path) -> None:
    result = subprocess.run(
        [str(ACTIONDIR), "import", "--data", str(data), "--db", str(db), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def history_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed dataset (revision 1), then an import that updates, retires and adds (revision 2)."""
    root = tmp_path_factory.mktemp("client")
    data, db = root / "data", root / "client.db"
    shutil.copytree(REPO / "directory_data", data)
    _import(data, db)
    doc = tomllib.loads((data / "listings" / f"{UPDATED_ID}.toml").read_text(encoding="utf-8"))
    doc["translations"]["en"]["title"] = "OVD-Info (updated)"
    write_listing(data, doc)
    (data / "listings" / f"{RETIRED_ID}.toml").unlink()
    write_listing(
        data,
        listing(CLOSED_ID, kind="petition", countries=["XX"], petition={"target": "A parliament", "closes_at": dt.date(2020, 1, 31)}),
    )
    _import(data, db)
    return db


@pytest.fixture(scope="module")
def live(history_db: Path) -> Iterator[str]:
    port = free_port()
    process = start_server(history_db, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, process)
        yield base
    finally:
        stop_server(process)


def raw(base: str, path: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
    """The same request with plain httpx: the oracle the client's answers are compared with."""
    response = httpx.get(base + path, params=params, headers=headers, timeout=30, trust_env=False)
    assert response.status_code == 200, response.text
    return response.json()


# --- Seeing what went over the wire ----------------------------------------------------------------


@dataclass
class Exchange:
    path: str
    query: dict[str, str]
    headers: httpx.Headers
    status: int
    etag: str | None


def _exchange(request: httpx.Request, response: httpx.Response) -> Exchange:
    return Exchange(
        path=request.url.raw_path.decode("ascii").split("?", 1)[0],
        query=dict(parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)),
        headers=request.headers,
        status=response.status_code,
        etag=response.headers.get("ETag"),
    )


class Recording(httpx.HTTPTransport):
    """httpx's own transport, noting each request and the status the server answered."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[Exchange] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.exchanges.append(_exchange(request, response))
        return response


class AsyncRecording(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        self.exchanges.append(_exchange(request, response))
        return response


def _pruned(value: Any) -> Any:
    """JSON with null, [] and {} members left out: the server omits some defaults and the client
    encodes them, which is the same answer; a member with content missing is still a difference."""
    if isinstance(value, dict):
        pruned = {key: _pruned(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if item not in (None, [], {})}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value


def _as_json(value: Any) -> Any:
    return _pruned(json.loads(msgspec.json.encode(value)))


# --- Every method, and that it decodes the whole answer -----------------------------------------------

#: (client method, its arguments, the same request as a path and query for plain httpx)
CALLS: list[tuple[str, dict[str, Any], str, dict[str, str]]] = [
    ("health", {}, "/healthz", {}),
    ("listing_page", {"limit": 5}, "/v1/listings", {"limit": "5"}),
    ("listing_page", {"country": "TR", "lang": "tr"}, "/v1/listings", {"country": "TR", "lang": "tr"}),
    ("country_listing_page", {"code": "BR", "lang": "pt-BR"}, "/v1/countries/BR/listings", {"lang": "pt-BR"}),
    ("listing", {"listing_id": UPDATED_ID, "lang": "ru"}, f"/v1/listings/{UPDATED_ID}", {"lang": "ru"}),
    ("listing", {"listing_id": CLOSED_ID}, f"/v1/listings/{CLOSED_ID}", {}),
    ("listing_revisions", {"listing_id": UPDATED_ID}, f"/v1/listings/{UPDATED_ID}/revisions", {}),
    ("listing_revisions", {"listing_id": RETIRED_ID}, f"/v1/listings/{RETIRED_ID}/revisions", {}),
    ("countries", {"lang": "ru"}, "/v1/countries", {"lang": "ru"}),
    ("country", {"code": "RU", "lang": "ru"}, "/v1/countries/RU", {"lang": "ru"}),
    ("country_revisions", {"code": "RU"}, "/v1/countries/RU/revisions", {}),
    ("topics", {"lang": "pt-BR"}, "/v1/topics", {"lang": "pt-BR"}),
    ("dataset", {}, "/v1/dataset", {}),
    ("changes_page", {}, "/v1/changes", {}),
    ("changes_page", {"since": "s1.30", "limit": 5}, "/v1/changes", {"since": "s1.30", "limit": "5"}),
]
CALL_IDS = [f"{name}-{i}" for i, (name, *_) in enumerate(CALLS)]


def _call(api: Client, name: str, kwargs: dict[str, Any]) -> Any:
    kwargs = dict(kwargs)
    positional = [kwargs.pop(key) for key in ("listing_id", "code") if key in kwargs]
    return getattr(api, name)(*positional, **kwargs)


async def _acall(api: AsyncClient, name: str, kwargs: dict[str, Any]) -> Any:
    kwargs = dict(kwargs)
    positional = [kwargs.pop(key) for key in ("listing_id", "code") if key in kwargs]
    return await getattr(api, name)(*positional, **kwargs)


def test_the_calls_cover_every_public_read_endpoint():
    public_gets = {
        path for path, item in SPEC["paths"].items() if "get" in item and not item["get"].get("security")
    }
    assert public_gets == set(METHOD_FOR_PATH), "a public endpoint without a client method, or a method without one"
    assert {name for name, *_ in CALLS} == set(METHOD_FOR_PATH.values())


@pytest.mark.slow
@pytest.mark.parametrize(("name", "kwargs", "path", "params"), CALLS, ids=CALL_IDS)
def test_every_method_decodes_the_whole_answer(live, name, kwargs, path, params):
    with Client(live) as api:
        value = _call(api, name, kwargs)
    assert type(value) is typing.get_type_hints(getattr(Client, name))["return"]
    assert _as_json(value) == _pruned(raw(live, path, params))


@pytest.mark.slow
def test_timestamps_and_days_are_typed(live):
    with Client(live) as api:
        item = api.listing(CLOSED_ID)
        change = api.changes_page(limit=1).data[0]
        revision = api.listing_revisions(UPDATED_ID).data[-1]
    assert isinstance(item.updated_at, dt.datetime) and item.updated_at.tzinfo is not None
    assert type(item.verification.verified_at) is dt.date
    assert item.petition is not None and item.petition.closes_at == dt.date(2020, 1, 31)
    assert isinstance(change.at, dt.datetime) and isinstance(revision.at, dt.datetime)


@pytest.mark.slow
def test_history_retirement_and_closed_listings_come_through(live):
    with Client(live) as api:
        revisions = api.listing_revisions(UPDATED_ID).data
        retired = api.listing_revisions(RETIRED_ID).data
        closed = api.listing(CLOSED_ID)
        with pytest.raises(ProblemError) as gone:
            api.listing(RETIRED_ID)
    assert [r.revision for r in revisions] == [1, 2]
    assert revisions[-1].listing.translations["en"].title == "OVD-Info (updated)"
    assert [r.action for r in retired] == ["create", "retire"]
    assert closed.status == "closed"
    assert gone.value.status == 410 and RETIRED_ID in (gone.value.detail or "")


# --- Pagination -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_listings_follow_the_cursor_across_pages(live):
    expected = [item["id"] for item in raw(live, "/v1/listings", {"limit": "100"})["data"]]
    assert len(expected) > 4 * 3, "enough listings for several pages"
    transport = Recording()
    with Client(live, transport=transport) as api:
        items = list(api.listings(limit=4))
    assert [item.id for item in items] == expected
    pages = transport.exchanges
    assert len(pages) == math.ceil(len(expected) / 4)
    assert "cursor" not in pages[0].query
    cursors = [page.query["cursor"] for page in pages[1:]]
    assert len(set(cursors)) == len(cursors) and all(page.query["limit"] == "4" for page in pages)


@pytest.mark.slow
def test_country_listings_follow_the_cursor_too(live):
    expected = [item["id"] for item in raw(live, "/v1/countries/TR/listings", {"limit": "100"})["data"]]
    transport = Recording()
    with Client(live, transport=transport) as api:
        ids = [item.id for item in api.country_listings("TR", limit=2)]
    assert ids == expected and len(transport.exchanges) == math.ceil(len(expected) / 2) > 1


#: Filters as the client takes them, and as they must reach the API.
FILTERS: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"country": "RU"}, {"country": "RU"}),
    ({"country": "XX"}, {"country": "XX"}),
    ({"country": "TR", "include_worldwide": False}, {"country": "TR", "include_worldwide": "false"}),
    ({"kind": "petition"}, {"kind": "petition"}),
    ({"topic": "legal-aid"}, {"topic": "legal-aid"}),
    ({"q": "sao paulo"}, {"q": "sao paulo"}),
    ({"include": "closed"}, {"include": "closed"}),
    ({"include": ["closed", "unverified"], "kind": "petition"}, {"include": "closed,unverified", "kind": "petition"}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("filters", "query"), FILTERS, ids=[json.dumps(f) for f, _ in FILTERS])
def test_every_filter_reaches_the_api_under_its_own_name(live, filters, query):
    expected = [item["id"] for item in raw(live, "/v1/listings", {**query, "limit": "100"})["data"]]
    assert expected, "a filter that matches nothing would prove nothing"
    transport = Recording()
    with Client(live, transport=transport) as api:
        ids = [item.id for item in api.listings(**filters, limit=3)]
    assert ids == expected
    for exchange in transport.exchanges:
        sent = dict(exchange.query)
        sent.pop("cursor", None)
        assert sent == {**query, "limit": "3"}


@pytest.mark.slow
def test_a_closed_petition_is_listed_only_when_included(live):
    with Client(live) as api:
        assert CLOSED_ID not in {item.id for item in api.listings(kind="petition")}
        assert CLOSED_ID in {item.id for item in api.listings(kind="petition", include="closed")}


# --- The changes feed -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_changes_iterates_the_whole_feed_and_says_where_to_resume(live):
    everything = raw(live, "/v1/changes", {"limit": "500"})
    transport = Recording()
    with Client(live, transport=transport) as api:
        feed = api.changes(limit=7)
        seqs = [change.seq for change in feed]
        assert seqs == [change["seq"] for change in everything["data"]]
        assert feed.next_cursor == everything["next_cursor"]
        assert feed.dataset_revision == everything["dataset_revision"] == api.health().revision
        # the last page is the empty one that proves the end was reached
        assert len(transport.exchanges) - 1 == math.ceil(len(seqs) / 7) + 1
        assert list(api.changes(since=feed.next_cursor)) == []
    retirements = [c for c in everything["data"] if c["action"] == "retire"]
    assert [c["listing_id"] for c in retirements] == [RETIRED_ID] and retirements[0]["listing"] is None


@pytest.mark.slow
def test_a_feed_left_mid_page_resumes_without_skipping(live):
    with Client(live) as api:
        feed = api.changes(limit=5)
        taken = []
        for change in feed:
            taken.append(change.seq)
            if len(taken) == 7:  # two changes into the second page
                break
        resumed = [change.seq for change in api.changes(since=feed.next_cursor, limit=5)]
        everything = [change.seq for change in api.changes()]
    assert feed.next_cursor is not None
    assert resumed[0] == 6, "resumes after the last page handed out whole"
    assert sorted(set(taken) | set(resumed)) == everything


# --- Conditional requests --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("name", "kwargs", "path", "params"), CALLS, ids=CALL_IDS)
def test_asking_again_is_a_conditional_request_answered_from_the_cache(live, name, kwargs, path, params):
    transport = Recording()
    with Client(live, transport=transport) as api:
        first = _call(api, name, kwargs)
        second = _call(api, name, kwargs)
    assert second == first
    before, again = transport.exchanges
    assert before.status == 200 and "if-none-match" not in before.headers
    assert before.etag is not None, "every GET has an ETag"
    assert again.headers["if-none-match"] == before.etag
    assert again.status == 304


@pytest.mark.slow
def test_a_second_pass_over_the_listings_is_all_304_and_the_same_items(live):
    transport = Recording()
    with Client(live, transport=transport) as api:
        first = list(api.listings(limit=10))
        second = list(api.listings(limit=10))
    assert second == first
    pages = len(transport.exchanges) // 2
    assert [e.status for e in transport.exchanges] == [200] * pages + [304] * pages


@pytest.mark.slow
def test_the_cache_never_answers_for_another_language(live):
    transport = Recording()
    with Client(live, transport=transport) as api:
        russian = api.listing(UPDATED_ID, lang="ru")
        english = api.listing(UPDATED_ID, lang="en")
        default = api.listing(UPDATED_ID)
    assert (russian.lang, english.lang) == ("ru", "en")
    assert russian.title != english.title
    assert [e.status for e in transport.exchanges] == [200, 200, 200]
    assert all("if-none-match" not in e.headers for e in transport.exchanges)
    assert default.lang == "en"


@pytest.mark.slow
def test_without_a_cache_no_request_is_conditional(live):
    transport = Recording()
    with Client(live, transport=transport, cache_size=0) as api:
        api.topics()
        api.topics()
    assert [e.status for e in transport.exchanges] == [200, 200]


@pytest.mark.slow
def test_the_cache_keeps_at_most_cache_size_bodies(live):
    transport = Recording()
    with Client(live, transport=transport, cache_size=1) as api:
        api.topics()
        api.countries()  # pushes the topics out
        api.topics()
        api.topics()
    assert [e.status for e in transport.exchanges] == [200, 200, 200, 304]


# --- Languages -------------------------------------------------------------------------------------------

#: Every method that takes ``lang``: it goes out as Accept-Language, never as a query parameter.
LANG_CALLS: list[tuple[str, dict[str, Any], Callable[[Any], str]]] = [
    ("listing", {"listing_id": UPDATED_ID}, lambda v: v.lang),
    ("listing_page", {"country": "RU"}, lambda v: v.data[0].labels.lang),
    ("country_listing_page", {"code": "RU"}, lambda v: v.data[0].labels.lang),
    ("countries", {}, lambda v: v.data[0].lang),
    ("country", {"code": "RU"}, lambda v: v.lang),
    ("topics", {}, lambda v: v.data[0].lang),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "kwargs", "language_of"), LANG_CALLS, ids=[c[0] for c in LANG_CALLS])
def test_lang_is_sent_as_accept_language(live, name, kwargs, language_of):
    transport = Recording()
    with Client(live, transport=transport) as api:
        value = _call(api, name, {**kwargs, "lang": "ru"})
    (exchange,) = transport.exchanges
    assert exchange.headers["accept-language"] == "ru" and "lang" not in exchange.query
    assert language_of(value) == "ru"


@pytest.mark.slow
def test_headers_given_to_the_client_go_with_every_request(live):
    transport = Recording()
    with Client(live, transport=transport, headers={"Accept-Language": "pt-BR", "X-Partner": "example"}) as api:
        country = api.country("BR")
        override = api.country("BR", lang="ru")
    assert _as_json(country) == _pruned(raw(live, "/v1/countries/BR", headers={"Accept-Language": "pt-BR"}))
    assert country.lang.startswith("pt") and override.lang == "ru"
    assert all(e.headers["x-partner"] == "example" for e in transport.exchanges)
    assert transport.exchanges[0].headers["user-agent"].startswith("actiondir-client/")


# --- Problems ------------------------------------------------------------------------------------------------

INVALID = "urn:actiondir:problem:invalid-request"

#: (method, arguments, status, type, the field at fault and where, or None)
PROBLEMS: list[tuple[str, dict[str, Any], int, str, tuple[str, str] | None]] = [
    ("listing_page", {"limit": 0}, 400, INVALID, ("query", "limit")),
    ("listing_page", {"limit": 101}, 400, INVALID, ("query", "limit")),
    ("listing_page", {"cursor": "bogus"}, 400, INVALID, ("query", "cursor")),
    ("listing_page", {"kind": "rally"}, 400, INVALID, ("query", "kind")),
    ("listing_page", {"country": "ZZ"}, 400, INVALID, ("query", "country")),
    ("listing_page", {"include": "retired"}, 400, INVALID, ("query", "include")),
    ("listing_page", {"q": ""}, 400, INVALID, ("query", "q")),
    ("listing_page", {"topic": "no-such-topic"}, 404, "about:blank", None),
    ("country_listing_page", {"code": "ZZ"}, 404, "about:blank", None),
    ("country_listing_page", {"code": "RU", "limit": 0}, 400, INVALID, ("query", "limit")),
    ("listing", {"listing_id": "Not_An_Id"}, 400, INVALID, ("path", "listing_id")),
    ("listing", {"listing_id": "no-such-listing"}, 404, "about:blank", None),
    ("listing", {"listing_id": RETIRED_ID}, 410, "about:blank", None),
    ("listing_revisions", {"listing_id": "no-such-listing"}, 404, "about:blank", None),
    ("country", {"code": "ru"}, 400, INVALID, ("path", "code")),
    ("country", {"code": "AQ"}, 404, "about:blank", None),
    ("changes_page", {"since": "s2.1"}, 400, INVALID, ("query", "since")),
    ("changes_page", {"limit": 501}, 400, INVALID, ("query", "limit")),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "kwargs", "status", "problem_type", "fault"), PROBLEMS, ids=[f"{p[0]}-{json.dumps(p[1])}" for p in PROBLEMS]
)
def test_a_problem_raises_problem_error_naming_the_field(live, name, kwargs, status, problem_type, fault):
    transport = Recording()
    with Client(live, transport=transport) as api, pytest.raises(ProblemError) as caught:
        _call(api, name, kwargs)
    problem = caught.value
    (exchange,) = transport.exchanges  # a problem is not retried
    assert (problem.status, problem.type) == (status, problem_type) and exchange.status == status
    assert problem.title and problem.detail
    assert problem.instance is not None and problem.instance.split("?")[0] == exchange.path
    if fault is None:
        assert problem.errors == []
    else:
        assert [(error.in_, error.field) for error in problem.errors] == [fault]
        assert fault[1] in problem.detail and problem.errors[0].detail
    assert str(status) in str(problem)


@pytest.mark.slow
def test_iterators_raise_the_problem_of_their_first_page(live):
    with Client(live) as api:
        with pytest.raises(ProblemError) as caught:
            next(iter(api.listings(limit=0)))
        assert caught.value.errors[0].field == "limit"
        with pytest.raises(ProblemError) as caught:
            list(api.changes(since="nope"))
        assert caught.value.errors[0].field == "since"


#: Path arguments that must not reach another endpoint than the one they were given to.
HOSTILE_SEGMENTS = ["..", ".", "x?limit=1", "x#y", "%2F", "ru-ovd-info%2Frevisions", "ru\nx", "ru x", "Россия"]
PATH_METHODS = {
    "listing": "/v1/listings/{}",
    "listing_revisions": "/v1/listings/{}/revisions",
    "country": "/v1/countries/{}",
    "country_listing_page": "/v1/countries/{}/listings",
}


@pytest.mark.slow
@pytest.mark.parametrize("value", HOSTILE_SEGMENTS)
@pytest.mark.parametrize("name", list(PATH_METHODS))
def test_a_path_argument_stays_in_its_own_segment(live, name, value):
    transport = Recording()
    with Client(live, transport=transport) as api, pytest.raises(ProblemError) as caught:
        _call(api, name, {"code" if "country" in name else "listing_id": value})
    assert caught.value.status in (400, 404)
    (exchange,) = transport.exchanges
    prefix, _, suffix = PATH_METHODS[name].partition("{}")
    assert exchange.path.startswith(prefix) and exchange.path.endswith(suffix), exchange.path
    assert "/" not in exchange.path[len(prefix) : len(exchange.path) - len(suffix)]
    assert exchange.query == {}


@pytest.mark.parametrize("value", ["", "a/b", "ru-ovd-info/revisions", "../tokens", "/"])
@pytest.mark.parametrize("name", list(PATH_METHODS))
def test_a_path_argument_that_cannot_be_one_segment_is_refused_before_sending(name, value):
    transport = Recording()
    # Nothing listens on this port: a request that went out would fail with a transport error.
    with Client(f"http://127.0.0.1:{free_port()}", transport=transport) as api, pytest.raises(ValueError) as caught:
        _call(api, name, {"code" if "country" in name else "listing_id": value})
    assert ("code" if "country" in name else "listing_id") in str(caught.value)
    assert transport.exchanges == []


# --- A scripted server: what the real one cannot be made to do on cue ---------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


class ScriptedServer:
    """An HTTP server on 127.0.0.1 that answers each path from a list of replies (the last one
    repeats) and notes when each request arrived."""

    def __init__(self, script: dict[str, list[Reply]]) -> None:
        self.script = script
        self.arrivals: list[tuple[str, float]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                server.arrivals.append((path, time.monotonic()))
                replies = server.script[path]
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


HEALTHY = Reply(body=b'{"status": "ok", "revision": 3, "listings": 12}')


def _busy(status: int, retry_after: str | None) -> Reply:
    headers = {"Content-Type": "application/problem+json"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    title = "Too Many Requests" if status == 429 else "Service Unavailable"
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": "busy", "instance": "/healthz"})
    return Reply(status, body.encode(), headers)


@pytest.mark.slow
@pytest.mark.parametrize("status", [503, 429])
def test_retry_after_is_honoured_then_the_request_is_sent_again(status):
    with ScriptedServer({"/healthz": [_busy(status, "1"), HEALTHY]}) as server, Client(server.base) as api:
        health = api.health()
    assert health.listings == 12
    (_, first), (_, second) = server.arrivals
    assert second - first >= 0.95, "waited the second the server asked for"


@pytest.mark.slow
def test_retries_are_bounded():
    with ScriptedServer({"/healthz": [_busy(503, "0")]}) as server, Client(server.base, max_retries=3) as api:
        with pytest.raises(ProblemError) as caught:
            api.health()
    assert len(server.arrivals) == 1 + 3
    assert (caught.value.status, caught.value.detail, caught.value.retry_after) == (503, "busy", 0.0)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("reply", "settings"),
    [
        pytest.param(_busy(503, "1"), {"max_retries": 0}, id="no-retries-allowed"),
        pytest.param(_busy(503, "3600"), {}, id="longer-than-max_retry_wait"),
        pytest.param(_busy(503, None), {}, id="no-retry-after"),
        pytest.param(_busy(503, "soon"), {}, id="unreadable-retry-after"),
        pytest.param(_busy(500, "1"), {}, id="not-a-retry-status"),
    ],
)
def test_no_retry_when_the_server_does_not_say_when_or_it_is_too_long(reply, settings):
    with ScriptedServer({"/healthz": [reply, HEALTHY]}) as server, Client(server.base, **settings) as api:
        started = time.monotonic()
        with pytest.raises(ProblemError) as caught:
            api.health()
        assert time.monotonic() - started < 0.9, "answered at once, without waiting"
    assert len(server.arrivals) == 1 and caught.value.status == reply.status


def test_retry_after_reads_seconds_and_http_dates():
    now = dt.datetime(2026, 11, 30, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Mon, 30 Nov 2026 12:00:05 GMT", now) == 5.0
    assert retry_after_seconds("Mon, 30 Nov 2026 11:00:00 GMT", now) == 0.0  # already past
    for unreadable in (None, "", "-1", "1.5", "²", "soon"):
        assert retry_after_seconds(unreadable, now) is None, unreadable


@pytest.mark.slow
def test_fields_added_to_the_contract_later_do_not_break_the_client(live):
    page = raw(live, "/v1/listings", {"limit": "2"})
    grown = {**page, "total": 41, "data": [{**item, "dir": "ltr", "labels": {**item["labels"], "scripts": {}}} for item in page["data"]]}
    with ScriptedServer({"/v1/listings": [Reply(body=json.dumps(grown).encode())]}) as server, Client(server.base) as api:
        decoded = api.listing_page(limit=2)
    assert [item.id for item in decoded.data] == [item["id"] for item in page["data"]]
    assert _as_json(decoded) == _pruned(page)


@pytest.mark.slow
def test_an_error_that_is_not_a_problem_document_still_raises_problem_error():
    html = Reply(502, b"<html><body>Bad gateway</body></html>", {"Content-Type": "text/html"})
    with ScriptedServer({"/v1/topics": [html]}) as server, Client(server.base) as api:
        with pytest.raises(ProblemError) as caught:
            api.topics()
    problem = caught.value
    assert (problem.status, problem.title, problem.type) == (502, "Bad Gateway", "about:blank")
    assert "Bad gateway" in (problem.detail or "") and problem.errors == []


# --- Async parity ------------------------------------------------------------------------------------------


def test_async_client_has_the_same_methods_and_signatures():
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {name: inspect.signature(member) for name, member in vars(cls).items() if not name.startswith("_") and callable(member)}

    sync, other = public(Client), public(AsyncClient)
    assert set(sync) - {"close"} == set(other) - {"aclose"}
    for name in set(sync) & set(other):
        assert list(sync[name].parameters) == list(other[name].parameters), name
    assert inspect.signature(Client.__init__).parameters.keys() == inspect.signature(AsyncClient.__init__).parameters.keys()


@pytest.mark.slow
def test_async_client_answers_as_the_sync_one(live):
    with Client(live) as api:
        expected = [_call(api, name, kwargs) for name, kwargs, *_ in CALLS]
        listings = list(api.listings(limit=6))
        turkish = [item.id for item in api.country_listings("TR", limit=2)]
        changes = [change.seq for change in api.changes(limit=9)]

    async def run() -> None:
        transport = AsyncRecording()
        async with AsyncClient(live, transport=transport) as api:
            assert [await _acall(api, name, kwargs) for name, kwargs, *_ in CALLS] == expected
            # every cacheable answer again: from the cache, after a 304
            seen = len(transport.exchanges)
            assert [await _acall(api, name, kwargs) for name, kwargs, *_ in CALLS] == expected
            assert [e.status for e in transport.exchanges[seen:]] == [304] * len(CALLS)
            assert [item async for item in api.listings(limit=6)] == listings
            assert [item.id async for item in api.country_listings("TR", limit=2)] == turkish
            feed = api.changes(limit=9)
            assert [change.seq async for change in feed] == changes and feed.next_cursor is not None
            assert [change async for change in api.changes(since=feed.next_cursor)] == []
            with pytest.raises(ProblemError) as caught:
                await api.listing_page(limit=0)
            assert caught.value.errors[0].field == "limit"
            with pytest.raises(ProblemError) as caught:
                await api.listing(RETIRED_ID)
            assert caught.value.status == 410
            await api.topics(lang="ru")
            assert transport.exchanges[-1].headers["accept-language"] == "ru"

    asyncio.run(run())


@pytest.mark.slow
def test_async_client_honours_retry_after():
    async def run(base: str) -> None:
        async with AsyncClient(base) as api:
            assert (await api.health()).listings == 12

    with ScriptedServer({"/healthz": [_busy(503, "1"), HEALTHY]}) as server:
        asyncio.run(run(server.base))
    (_, first), (_, second) = server.arrivals
    assert second - first >= 0.95


@pytest.mark.slow
def test_clients_close_with_their_block(live):
    with Client(live) as api:
        api.health()
    with pytest.raises(RuntimeError):
        api.health()

    async def run() -> None:
        async with AsyncClient(live) as api:
            await api.health()
        with pytest.raises(RuntimeError):
            await api.health()

    asyncio.run(run())


# --- The package on its own ----------------------------------------------------------------------------------


def _requirement_name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower().replace("_", "-")


def test_the_client_declares_only_httpx_and_msgspec():
    project = tomllib.loads(CLIENT_PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert project["name"] == "actiondir-client"
    assert {_requirement_name(r) for r in project["dependencies"]} == {"httpx", "msgspec"}
    assert not project.get("optional-dependencies")
    installed = importlib.metadata.requires("actiondir-client") or []
    assert {_requirement_name(r) for r in installed} == {"httpx", "msgspec"}, "the installed copy is this one"
    assert (REPO / "client" / "src" / "actiondir_client" / "py.typed").exists()


def _server_only_modules() -> set[str]:
    """Top-level modules of the server's own dependencies (httpx and msgspec aside), and api.

    (Some of them may be imported by httpx itself when installed: its command line needs click.)"""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    server_only = {_requirement_name(r) for r in project["dependencies"]} - {"httpx", "msgspec"}
    modules = {"api"}
    for module, distributions in importlib.metadata.packages_distributions().items():
        if any(d.lower().replace("_", "-") in server_only for d in distributions):
            modules.add(module)
    return modules


@pytest.mark.slow
def test_importing_the_client_imports_nothing_of_the_server(tmp_path):
    server_only = _server_only_modules()
    assert {"api", "litestar", "sqlite_utils", "babel", "granian"} <= server_only
    script = (
        "import json, sys\n"
        "import httpx, msgspec\n"
        "before = set(sys.modules)\n"
        "import actiondir_client\n"
        "print(json.dumps([sorted(before), sorted(set(sys.modules) - before)]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    before, added = ({name.split(".")[0] for name in names} for names in json.loads(result.stdout))
    assert "actiondir_client" in added
    assert "api" not in before | added
    assert added & server_only == set(), "the client itself imports a server dependency"


def test_the_client_source_never_names_the_server_package():
    for path in (REPO / "client" / "src").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+api\b", source, re.M), path


# --- The structs mirror the spec ------------------------------------------------------------------------------


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _without_none(info: mi.Type) -> mi.Type:
    if isinstance(info, mi.UnionType):
        rest = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(rest) == 1:
            return rest[0]
    return info


def _mirror(schema: dict[str, Any], info: mi.Type, where: str, differences: list[str]) -> None:
    """Append to ``differences`` every way the client type ``info`` departs from ``schema``."""
    schema = _resolve(schema)
    if "anyOf" in schema:
        variants = [s for s in schema["anyOf"] if s.get("type") != "null"]
        if len(variants) == len(schema["anyOf"]) - 1 and not isinstance(info, mi.UnionType | mi.NoneType):
            differences.append(f"{where}: nullable in the spec, not in the client")
        schema, info = _resolve(variants[0]), _without_none(info)
    if "properties" in schema:
        if not isinstance(info, mi.StructType):
            differences.append(f"{where}: an object in the spec, {info} in the client")
            return
        fields = {f.encode_name: f for f in info.fields}
        if set(schema["properties"]) != set(fields):
            differences.append(f"{where}: fields {sorted(schema['properties'])} in the spec, {sorted(fields)} in the client")
        required = {name for name, f in fields.items() if f.required}
        if set(schema.get("required", [])) != required:
            differences.append(f"{where}: required {sorted(schema.get('required', []))} in the spec, {sorted(required)} in the client")
        for name in set(schema["properties"]) & set(fields):
            _mirror(schema["properties"][name], fields[name].type, f"{where}.{name}", differences)
    elif schema.get("type") == "array":
        if not isinstance(info, mi.ListType):
            differences.append(f"{where}: an array in the spec, {info} in the client")
        else:
            _mirror(schema["items"], info.item_type, f"{where}[]", differences)
    elif schema.get("type") == "object":
        if not isinstance(info, mi.DictType):
            differences.append(f"{where}: a map in the spec, {info} in the client")
        else:
            _mirror(schema.get("additionalProperties", {}), info.value_type, f"{where}{{}}", differences)
    elif "enum" in schema:
        if not isinstance(info, mi.LiteralType) or set(info.values) != set(schema["enum"]):
            differences.append(f"{where}: enum {schema['enum']} in the spec, {info} in the client")
    elif schema.get("type") == "string":
        expected = {"date-time": (mi.DateTimeType,), "date": (mi.DateType,)}.get(
            schema.get("format", ""), (mi.StrType, mi.DateTimeType, mi.DateType)  # no format yet: any of them
        )
        if not isinstance(info, expected):
            differences.append(f"{where}: string ({schema.get('format', 'no format')}) in the spec, {info} in the client")
    elif schema.get("type") in ("integer", "boolean"):
        if not isinstance(info, mi.IntType if schema["type"] == "integer" else mi.BoolType):
            differences.append(f"{where}: {schema['type']} in the spec, {info} in the client")


@pytest.mark.parametrize("path", sorted(METHOD_FOR_PATH))
def test_each_response_struct_mirrors_the_spec(path):
    schema = SPEC["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    returned = typing.get_type_hints(getattr(Client, METHOD_FOR_PATH[path]))["return"]
    differences: list[str] = []
    _mirror(schema, mi.type_info(returned), returned.__name__, differences)
    assert differences == []


def test_the_mirror_check_can_fail():
    class Narrow(msgspec.Struct):
        status: str

    differences: list[str] = []
    _mirror({"$ref": "#/components/schemas/Health"}, mi.type_info(Narrow), "Narrow", differences)
    assert len(differences) == 3  # two fields missing, both required; status not the spec's enum


def test_problem_error_carries_every_member_of_the_spec_problem():
    members = set(_resolve({"$ref": "#/components/schemas/Problem"})["properties"])
    problem = ProblemError(actiondir_client.Problem(), status=418)
    assert all(hasattr(problem, member) for member in members), members
    error_members = set(_resolve({"$ref": "#/components/schemas/FieldError"})["properties"])
    assert {f.encode_name for f in mi.type_info(actiondir_client.FieldError).fields} == error_members


# --- The documentation's examples run -----------------------------------------------------------------------


def _python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, re.S)


@pytest.mark.slow
def test_the_readme_quick_start_runs(live, capsys):
    section = (REPO / "README.md").read_text(encoding="utf-8").split("## Python client", 1)[1].split("\n## ", 1)[0]
    (quick_start,) = _python_blocks(section)
    assert len(quick_start.strip().splitlines()) == 5
    exec(quick_start.replace("http://127.0.0.1:8000", live), {})
    lines = capsys.readouterr().out.splitlines()
    expected = raw(live, "/v1/listings", {"country": "RU", "lang": "ru", "limit": "100"})["data"]
    assert lines == [f"{item['title']} {item['url']}" for item in expected]


@pytest.mark.slow
def test_the_client_readme_examples_run(live, capsys):
    blocks = _python_blocks((REPO / "client" / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) == 4
    with Client(live) as api:
        for block in blocks:
            code = block.replace("http://127.0.0.1:8000", live)
            namespace: dict[str, Any] = {"api": api, "saved_cursor": None, "mirror": {}}
            if "async with" in code:
                code = "async def main():\n" + "".join(f"    {line}\n" for line in code.splitlines()) + "asyncio.run(main())\n"
                namespace["asyncio"] = asyncio
            exec(code, namespace)
            printed = capsys.readouterr().out
            assert printed or namespace["mirror"], block
            for comment in re.findall(r"^\s*# (\d{3} .*)$", block, re.M):  # a documented output
                assert printed.strip() == comment, block
            if namespace["mirror"]:  # the feed, applied from the start, is the dataset
                dataset = api.dataset()
                assert namespace["mirror"] == {item.listing.id: item.listing for item in dataset.listings}
                assert namespace["saved_cursor"] == api.changes_page(limit=500).next_cursor
