"""The served stack (api/app.py): a plain ASGI wrapper around litestar, controllers that
declare guards and security once, and query-parameter rules read once at startup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import AppClient, Deployment
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from api.http.openapi import openapi_schema
from api.app import ActionDirectory, create_app
from api.http.params import QueryRules
from api.services.tokens import create_token
from api.settings import load_settings
from api.store import Store

EXAMPLES = {"listing_id": "ru-evacuation", "code": "RU", "submission_id": "1", "report_id": "1", "token_id": "1",
            "path": "index.html", "name": "swagger-ui.css"}  # name: a file of the docs UI


def get_paths(litestar: Litestar) -> list[str]:
    """An example path of every route with a GET handler."""
    return sorted(
        re.sub(r"\{(\w+):\w+\}", lambda m: EXAMPLES[m[1]], route.path)
        for route in litestar.routes
        if isinstance(route, HTTPRoute) and "GET" in route.methods
    )


def admin_headers(deployment: Deployment) -> dict[str, str]:
    store = Store(deployment.db)
    try:
        token, _ = create_token(store, name="Ada Admin", role="admin", expires_in_days=None, actor="test")
    finally:
        store.close()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def served(deployment: Deployment) -> Iterator[tuple[AppClient, dict[str, str]]]:
    headers = admin_headers(deployment)
    with deployment.client() as client:
        yield client, headers


def test_create_app_serves_a_plain_asgi_stack(deployment):
    app = create_app(load_settings(db=deployment.db))
    assert isinstance(app, ActionDirectory) and not isinstance(app, Litestar)
    assert isinstance(app.litestar, Litestar)
    assert type(app.litestar).__call__ is Litestar.__call__  # nothing overrides litestar's entry
    assert app.front_cache.app is app.edge and app.edge.app is app.litestar


# --- HEAD, answered by the edge wrapper ---------------------------------------------------------


def _paths_for_head() -> list[str]:
    return get_paths(create_app(load_settings(db=":memory:")).litestar) + [
        "/v1/listings/no-such-listing", "/v1/listings?limit=0", "/v1/nothing-here", "/v1/submissions/01",
    ]


#: Answers that change with every request: the token list shows when the caller's token was
#: last used, which the GET just stamped.
CHANGING = {"/v1/tokens": {b"etag", b"content-length"}}


def _same_headers(head: Any, get: Any, path: str) -> bool:
    changing = CHANGING.get(path, set())
    return [h for h in head.headers.raw if h[0] not in changing] == [h for h in get.headers.raw if h[0] not in changing]


@pytest.mark.parametrize("path", _paths_for_head())
def test_head_has_the_headers_of_get_and_no_body(served, path):
    """Through the edge alone (no front cache), for every GET route and some problems."""
    client, headers = served
    edge = TestClient(client.served.edge)  # the stack below the front cache
    get = edge.get(path, headers=headers)
    head = edge.head(path, headers=headers)
    assert head.status_code == get.status_code, head.text
    assert _same_headers(head, get, path)
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0


@pytest.mark.parametrize("first", ["HEAD", "GET"])
@pytest.mark.parametrize("path", ["/v1/listings", "/v1/dataset", "/healthz", "/v1/openapi.json", "/v1/tokens"])
def test_head_through_the_whole_stack_is_the_get_without_its_body(served, path, first):
    client, headers = served
    answers: dict[str, Any] = {}
    for method in (first, "HEAD" if first == "GET" else "GET"):
        answers[method] = client.request(method, path, headers=headers)
    assert answers["GET"].status_code == answers["HEAD"].status_code == 200
    assert _same_headers(answers["HEAD"], answers["GET"], path)
    assert answers["HEAD"].content == b""


# --- controllers ---------------------------------------------------------------------------------


def _operations(app: ActionDirectory) -> list[tuple[str, str, Any]]:
    """(path, method, handler) of every documented operation."""
    found = []
    for route in app.litestar.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.resolve_include_in_schema() and "OPTIONS" not in handler.http_methods:
                for method in handler.http_methods:
                    found.append((route.path_format, method.lower(), handler))
    return found


def test_every_guarded_operation_declares_the_bearer_scheme_and_its_problems(deployment):
    """A controller declares guards and security together: an operation has both or neither,
    and the spec documents 401 and 403 exactly where a guard can answer them."""
    app = create_app(load_settings(db=deployment.db))
    spec = openapi_schema(app.litestar).to_schema()
    operations = _operations(app)
    assert len(operations) == sum(len(item) for item in spec["paths"].values())
    for path, method, handler in operations:
        guarded = bool(handler.resolve_guards())
        operation = spec["paths"][path][method]
        # Every operation says what it needs: the bearer scheme, or nothing (``security: []``).
        assert guarded == bool(handler.resolve_security()) == bool(operation["security"]), (method, path)
        assert guarded == ({"401", "403"} <= operation["responses"].keys()), (method, path)
        assert len(operation["tags"]) == 1, (method, path)


#: The least role of every guarded operation (curator < reviewer < admin). A new guarded
#: operation fails the first test below until it says here which role it needs.
LEAST_ROLE = {
    ("post", "/v1/submissions"): "curator",
    ("get", "/v1/submissions"): "curator",
    ("get", "/v1/submissions/{submission_id}"): "curator",
    ("post", "/v1/submissions/{submission_id}/decision"): "reviewer",
    ("get", "/v1/reports"): "reviewer",
    ("post", "/v1/reports/{report_id}/resolution"): "reviewer",
    ("get", "/v1/vetting/summary"): "reviewer",
    ("post", "/v1/vetting/holds/{listing_id}/release"): "reviewer",
    ("post", "/v1/tokens"): "admin",
    ("get", "/v1/tokens"): "admin",
    ("post", "/v1/tokens/{token_id}/revocation"): "admin",
}
BELOW = {"reviewer": "curator", "admin": "reviewer"}
#: Path values no row has: an operation past its guard answers 404 or 400, and changes nothing.
ABSENT = {"submission_id": "999", "report_id": "999", "token_id": "999", "listing_id": "no-such-listing"}


def test_every_guarded_operation_says_its_least_role(deployment):
    spec = openapi_schema(create_app(load_settings(db=deployment.db)).litestar).to_schema()
    guarded = {(method, path) for path, item in spec["paths"].items() for method, op in item.items() if op.get("security")}  # public ones say security: []
    assert guarded == set(LEAST_ROLE)


@pytest.mark.parametrize(("method", "path"), sorted(LEAST_ROLE), ids=[f"{m.upper()} {p}" for m, p in sorted(LEAST_ROLE)])
def test_every_guarded_operation_takes_its_least_role_and_refuses_the_one_below(deployment, method, path):
    """Guards sit on controllers (and on a handler that needs more than its controller):
    each operation answers 403 to the role just below its own, and lets its own through."""
    role = LEAST_ROLE[(method, path)]
    store = Store(deployment.db)
    try:
        tokens = {r: create_token(store, name=f"{r.title()} Person", role=r, expires_in_days=None, actor="test")[0]
                  for r in ("curator", "reviewer", "admin")}
    finally:
        store.close()
    url = re.sub(r"\{(\w+)\}", lambda m: ABSENT[m[1]], path)
    with deployment.client() as client:
        def ask(token: str | None):
            headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
            return client.request(method.upper(), url, headers=headers, content=b"{}")

        assert ask(None).status_code == 401
        if role in BELOW:
            below = ask(tokens[BELOW[role]])
            assert below.status_code == 403, below.text
            assert role in below.json()["detail"]
        for enough in ("curator", "reviewer", "admin")[("curator", "reviewer", "admin").index(role):]:
            answered = ask(tokens[enough])
            assert answered.status_code in (200, 400, 404), (enough, answered.text)


def test_operation_ids_are_the_handlers_names(deployment):
    """An operation is named after its handler (``list_listings``, ``create_submission``): the
    names generated clients give their functions (the committed spec, byte for byte, is
    tests/test_openapi.py's; the verbs, tests/test_spec_rules.py's)."""
    app = create_app(load_settings(db=deployment.db))
    spec = openapi_schema(app.litestar).to_schema()
    ids = [operation["operationId"] for item in spec["paths"].values() for operation in item.values()]
    assert len(ids) == len(set(ids))
    for path, method, handler in _operations(app):
        assert spec["paths"][path][method]["operationId"] == handler.handler_name, (method, path)


# --- query-parameter rules, read once ------------------------------------------------------------


def _http_handlers(app: ActionDirectory) -> list[Any]:
    return [h for route in app.litestar.routes if isinstance(route, HTTPRoute) for h in route.route_handlers]


def test_query_rules_are_read_for_every_handler_when_the_app_is_built(deployment):
    app = create_app(load_settings(db=deployment.db))
    handlers = _http_handlers(app)
    assert app.query_rules.builds == len(handlers)  # before any request
    for handler in handlers:
        assert isinstance(app.query_rules.of(handler), QueryRules)
    listings = next(h for h in handlers if h.handler_name == "list_listings")
    assert {"country", "kind", "topic", "q", "lang", "limit", "cursor", "include_worldwide", "include"} == (
        app.query_rules.of(listings).allowed
    )


def test_requests_never_read_the_rules_again(served):
    client, headers = served
    rules = client.served.query_rules
    built = rules.builds
    for path in ("/v1/listings?limit=2", "/v1/listings?limit=2&x=1", "/v1/countries/RU?lang=ru", "/v1/changes?since=s1.0",
                 "/v1/tokens?x=1", "/v1/submissions?status=pending", "/v1/topics?lang=en&lang=ru", "/healthz?x=1"):
        for _ in range(3):
            assert client.get(path, headers=headers).status_code in (200, 400)
    assert rules.builds == built


def test_each_app_has_its_own_rules(deployment):
    first, second = (create_app(load_settings(db=deployment.db)) for _ in range(2))
    assert first.query_rules is not second.query_rules
    assert first.query_rules.builds == second.query_rules.builds
