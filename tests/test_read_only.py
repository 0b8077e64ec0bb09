"""A read-only replica (ACTIONDIR_READ_ONLY=1): public reads only, everything else a 503
problem that says where the primary is; no writer is ever made."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from conftest import REPO, AppClient, Deployment, free_port
from factory import country, default_listings
from litestar.routes import HTTPRoute
from serving import start_server, stop_server, wait_up

import api.app as app_module
from api.http.openapi import openapi_schema
from api.app import create_app
from api.services.tokens import create_token
from api.settings import load_settings
from api.store import Store

PRIMARY = "https://primary.example.org"
PROBLEM = "application/problem+json"
EXAMPLES = {"listing_id": "ru-evacuation", "code": "RU", "submission_id": "1", "report_id": "1", "token_id": "1",
            "path": "index.html", "name": "swagger-ui.css"}  # name: a file of the docs UI
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]
ALL_METHODS = ["GET", "HEAD", "OPTIONS", *WRITE_METHODS]


def _example(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: EXAMPLES[m[1]], path)


def _routes(read_only: bool) -> dict[str, set[str]]:
    """Route template -> its methods, as the app registers them."""
    app = create_app(load_settings(db=":memory:", read_only=read_only))
    return {
        route.path: {m for handler in route.route_handlers for m in handler.http_methods} - {"OPTIONS"}
        for route in app.litestar.routes
        if isinstance(route, HTTPRoute)
    }


FULL = _routes(read_only=False)
REPLICA = _routes(read_only=True)
PRIMARY_ONLY = sorted(set(FULL) - set(REPLICA))
"""Every path only the primary serves: curation, reports, tokens, vetting."""


def test_a_replica_registers_the_public_reads_only():
    assert REPLICA, "the replica serves something"
    assert all(methods == {"GET"} for methods in REPLICA.values()), REPLICA
    # Every public GET of the full app is there, the same; the docs and the spec too.
    assert {path: methods for path, methods in FULL.items() if methods == {"GET"} and path in REPLICA} == REPLICA
    assert {"/v1/openapi.json", "/v1/docs", "/healthz", "/v1/dataset", "/v1/listings"} <= set(REPLICA)
    prefixes = ("/v1/submissions", "/v1/reports", "/v1/tokens", "/v1/vetting")
    assert not [path for path in REPLICA if path.startswith(prefixes) or path.endswith("/reports")]
    assert {path for path in FULL if path.startswith(prefixes) or path.endswith("/reports")} == set(PRIMARY_ONLY)


def _replica(deployment: Deployment) -> Iterator[AppClient]:
    """A replica; making a Writer fails the test that made it, and the module's last."""
    made = []

    def no_writer(*args: object, **kwargs: object) -> None:
        made.append(args)
        pytest.fail("a read-only replica made a writer")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app_module, "Writer", no_writer)
        with deployment.client(read_only=True, primary_url=PRIMARY) as client:
            yield client
    assert made == []


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppClient]:
    """A replica of the default listings, shared by the tests that change nothing."""
    root = tmp_path_factory.mktemp("replica")
    deployment = Deployment(data=root / "data", db=root / "test.db")
    deployment.reimport(default_listings(), countries=[country("RU")])  # so a country has a history
    yield from _replica(deployment)


def _assert_refused(response: httpx.Response, method: str, primary: str = PRIMARY) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["cache-control"] == "no-store"
    assert "retry-after" not in response.headers  # retrying here never helps: go to the primary
    assert response.headers["access-control-allow-origin"] == "*"  # the edge's headers, as every answer
    if method == "HEAD":
        assert response.content == b""
        return
    problem = response.json()
    assert problem["status"] == 503 and problem["title"] == "Service Unavailable"
    assert primary in problem["detail"] and "ACTIONDIR_READ_ONLY" in problem["detail"]


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("path", PRIMARY_ONLY)
def test_every_method_on_a_primary_only_path_is_refused(replica, path, method):
    _assert_refused(replica.request(method, _example(path), headers={"Content-Type": "application/json"}, content=b"{}"), method)


#: Spellings of a path that litestar's router reads as the path itself (it strips a trailing
#: slash and merges repeated ones): a refusal must read the path the same way, or a spelling
#: of a primary-only path gets a 404 "nothing at" instead of the way to the primary.
SPELLINGS = {
    "trailing slash": lambda path: path + "/",
    "leading double slash": lambda path: "/" + path,
    "inner double slash": lambda path: path.replace("/v1/", "/v1//", 1),
}


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("path", PRIMARY_ONLY)
def test_the_primary_routes_these_spellings_to_the_operation(deployment, path, spelling):
    with deployment.client() as primary:  # OPTIONS: routed, answered with Allow, no token read
        response = primary.options(f"http://testserver.local{SPELLINGS[spelling](_example(path))}")
    assert response.status_code == 204 and "OPTIONS" in response.headers["allow"], response.text


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "POST"])
@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("path", PRIMARY_ONLY)
def test_every_spelling_the_router_reads_as_a_primary_only_path_is_refused(replica, path, spelling, method):
    spelt = SPELLINGS[spelling](_example(path))
    response = replica.request(method, f"http://testserver.local{spelt}", headers={"Content-Type": "application/json"}, content=b"{}")
    _assert_refused(response, method)


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("path", sorted(p for p in REPLICA if "{path:" not in p))
def test_every_spelling_of_a_public_read_is_still_served(replica, path, spelling):
    response = replica.get(f"http://testserver.local{SPELLINGS[spelling](_example(path))}")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("method", WRITE_METHODS)
@pytest.mark.parametrize("path", [*sorted(REPLICA), "/v1/nothing-here", "/"])
def test_every_write_method_anywhere_is_refused(replica, path, method):
    _assert_refused(replica.request(method, _example(path), json={"reason": "outdated"}), method)


def test_a_write_with_a_token_is_refused_before_the_token_is_read(deployment):
    store = Store(deployment.db)
    try:
        token, _ = create_token(store, name="Ada Admin", role="admin", expires_in_days=None, actor="test")
    finally:
        store.close()
    replica = next(clients := _replica(deployment))
    response = replica.post("/v1/tokens", json={"name": "New", "role": "curator"}, headers={"Authorization": f"Bearer {token}"})
    _assert_refused(response, "POST")
    assert replica.get("/v1/tokens", headers={"Authorization": f"Bearer {token}"}).status_code == 503
    next(clients, None)  # the app stops
    store = Store(deployment.db)
    try:
        assert [row.last_used_at for row in store.tokens.all()] == [None]  # not even a last-use stamp
    finally:
        store.close()


@pytest.mark.parametrize("path", sorted(p for p in REPLICA if "{path:" not in p))  # the docs' catch-all: any name
def test_public_reads_are_served(replica, path):
    for method in ("GET", "HEAD"):
        response = replica.request(method, _example(path))
        assert response.status_code == 200, (method, path, response.text)
    options = replica.options(_example(path))
    assert options.status_code == 204 and set(options.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_a_replica_still_validates_its_reads(replica):
    assert replica.get("/v1/listings", params={"limit": 0}).status_code == 400
    assert replica.get("/v1/listings", params={"unknown": 1}).status_code == 400
    assert replica.get("/v1/listings/no-such-listing").status_code == 404
    assert replica.get("/v1/nothing-here").status_code == 404


def test_a_replica_serves_the_deployments_spec(replica):
    """The committed contract, byte for byte, as every server of the deployment serves it: a
    client or a CDN reaching a replica sees the whole API (whose writes go to the primary)."""
    committed = (REPO / "openapi" / "v1.json").read_bytes()
    assert replica.get("/v1/openapi.json").content == committed
    assert replica.get("/v1/docs/openapi.json").content == committed
    assert replica.get("/v1/docs").status_code == 200


def test_a_replicas_own_schema_links_only_what_it_serves():
    """What litestar generates for the replica's routes stays valid (no link to a write)."""
    spec = openapi_schema(create_app(load_settings(db=":memory:", read_only=True)).litestar).to_schema()
    operation_ids = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    links = [
        link
        for item in spec["paths"].values()
        for operation in item.values()
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert links and all(link["operationId"] in operation_ids for link in links)


def test_without_a_primary_url_the_problem_still_says_what_to_do(deployment):
    with deployment.client(read_only=True) as client:
        response = client.post("/v1/submissions", json={})
    _assert_refused(response, "POST", primary="the primary server of this deployment")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("ON", True), ("yes", True), ("0", False), ("false", False), ("", False), ("off", False)],
)
def test_read_only_reads_the_usual_spellings_of_a_flag(value, expected):
    assert load_settings({"ACTIONDIR_READ_ONLY": value}).read_only is expected


@pytest.mark.parametrize("value", ["2", "maybe", "enabled", "1.0"])
def test_read_only_refuses_anything_else(value):
    with pytest.raises(ValueError, match="ACTIONDIR_READ_ONLY"):
        load_settings({"ACTIONDIR_READ_ONLY": value})


@pytest.mark.parametrize(
    "value",
    ["https://primary.example.org", "https://primary.example.org:8443/api", "http://127.0.0.1:8000",
     "http://127.0.0.2", "http://[::1]:8000", "http://localhost:8000", ""],
)
def test_primary_url_takes_https_or_loopback_http(value):
    assert load_settings({"ACTIONDIR_PRIMARY_URL": value}).primary_url == value


@pytest.mark.parametrize(
    "value",
    ["http://primary.example.org", "http://10.0.0.1:8000", "ftp://primary.example.org", "primary.example.org",
     "https://", "https://user:secret@primary.example.org", "https://primary.example.org/?next=1",
     "https://primary.example.org/#top", "https://primary.example.org:port", "https://primary.example.org/a b",
     "https://primary.example.org/\n", "javascript:alert(1)"],
)
def test_primary_url_refuses_anything_else(value):
    with pytest.raises(ValueError, match="ACTIONDIR_PRIMARY_URL"):
        load_settings({"ACTIONDIR_PRIMARY_URL": value})


@pytest.mark.slow
def test_a_real_server_in_read_only_mode(seed_db, tmp_path):
    """granian with the settings from the environment, as a replica is deployed."""
    port = free_port()
    process = start_server(seed_db, port, ACTIONDIR_READ_ONLY="1", ACTIONDIR_PRIMARY_URL=PRIMARY)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, process)
        with httpx.Client(base_url=base, trust_env=False, timeout=10) as client:
            assert client.get("/v1/listings").status_code == 200
            assert client.head("/v1/dataset").status_code == 200
            for method, path in [("POST", "/v1/submissions"), ("GET", "/v1/tokens"), ("POST", "/v1/listings/x/reports"),
                                 ("GET", "/v1/vetting/summary"), ("DELETE", "/v1/listings"), ("OPTIONS", "/v1/reports")]:
                _assert_refused(client.request(method, path, json={}), method)
    finally:
        stop_server(process)
