"""Path parameters are taken exactly as the spec writes them, never as a parser reads them.

Python's ``int()`` reads ``" 1"``, ``"1\\n"``, ``"+1"``, ``"01"``, ``"1_0"`` (ten), ``"١"``
(Arabic-Indic one) and ``"１"`` (full-width one): ``POST /v1/tokens/1%0A/revocation`` revoked
token 1. Every integer path parameter accepts ``[1-9][0-9]*`` in ASCII and nothing else, and
anything else is a 400 problem naming the parameter. The rule covers every path parameter of
the app, found by walking its routes: string parameters must match their pattern whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from conftest import Deployment
from factory import default_listings
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from api.http.openapi import openapi_schema
from api.app import create_app
from api.services.tokens import create_token
from api.settings import load_settings
from api.store import Store

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class PathParam:
    path: str  # the route's template, /v1/tokens/{token_id:int}/revocation
    method: str
    name: str
    kind: type

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, value: str, valid: dict[str, str]) -> str:
        """The path with ``value`` (already percent-encoded) for this parameter, ``valid`` for others."""
        return re.sub(r"\{(\w+):\w+\}", lambda m: value if m[1] == self.name else valid[m[1]], self.path)


def path_params() -> list[PathParam]:
    """Every path parameter of every operation the app documents (the docs UI's catch-all is not one)."""
    app = create_app(load_settings(db=":memory:"))
    documented = openapi_schema(app.litestar).paths or {}
    params = []
    for route in app.litestar.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in documented:
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                for name, definition in route.path_parameters.items():
                    params.append(PathParam(route.path, method, name, definition.type))
    return params


PATH_PARAMS = path_params()
INT_PARAMS = [p for p in PATH_PARAMS if p.kind is int]
STR_PARAMS = [p for p in PATH_PARAMS if p.kind is str]
VALID = {"submission_id": "1", "report_id": "1", "token_id": "1", "listing_id": "ru-evacuation", "code": "RU"}

#: Spellings of a number that are not ``[1-9][0-9]*`` in ASCII, percent-encoded as sent.
NOT_PLAIN_NUMBERS = {
    "trailing-newline": "1%0A",
    "trailing-crlf": "1%0D%0A",
    "leading-space": "%201",
    "trailing-space": "1%20",
    "tab": "%091",
    "nul": "1%00",
    "plus": "+1",
    "plus-encoded": "%2B1",
    "minus": "-1",
    "zero": "0",
    "leading-zero": "01",
    "zeros": "00",
    "underscore": "1_0",
    "arabic-indic-one": "%D9%A1",
    "fullwidth-one": "%EF%BC%91",
    "devanagari-one": "%E0%A5%A7",
    "superscript-one": "%C2%B9",
    "zero-width-space": "%E2%80%8B1",
    "decimal": "1.0",
    "exponent": "1e3",
    "hex": "0x1",
    "word": "one",
}


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str], Deployment]]:
    root = tmp_path_factory.mktemp("path-params")
    dep = Deployment(data=root / "data", db=root / "test.db")
    dep.reimport(default_listings())
    store = Store(dep.db)
    try:
        for name in ("Token One", "Token Two"):  # what an id of 1 or 2 would revoke
            create_token(store, name=name, role="curator", expires_in_days=None, actor="test")
        token, _ = create_token(store, name="Path Admin", role="admin", expires_in_days=None, actor="test")
    finally:
        store.close()
    with TestClient(create_app(load_settings(db=dep.db, reports_per_minute=1_000_000))) as client:
        yield client, {"Authorization": f"Bearer {token}"}, dep


def _send(client: TestClient, auth: dict[str, str], param: PathParam, value: str):
    body = b"{}" if param.method == "POST" else None
    headers = {**auth, "Content-Type": "application/json"}
    return client.request(param.method, param.url(value, VALID), headers=headers, content=body)


def _naming(response, name: str) -> list[dict[str, str]]:
    if response.status_code != 400:
        return []
    return [e for e in response.json().get("errors", []) if e["in"] == "path" and e["field"] == name]


def test_the_walk_finds_every_path_parameter():
    assert {(p.path, p.name) for p in INT_PARAMS} == {
        ("/v1/submissions/{submission_id:int}", "submission_id"),
        ("/v1/submissions/{submission_id:int}/decision", "submission_id"),
        ("/v1/reports/{report_id:int}/resolution", "report_id"),
        ("/v1/tokens/{token_id:int}/revocation", "token_id"),
    }
    assert {p.name for p in STR_PARAMS} == {"listing_id", "code"}
    assert {p.name for p in PATH_PARAMS} <= VALID.keys()


@pytest.mark.parametrize("param", [pytest.param(p, id=p.id) for p in INT_PARAMS])
@pytest.mark.parametrize("value", [pytest.param(v, id=k) for k, v in NOT_PLAIN_NUMBERS.items()])
def test_an_integer_path_parameter_takes_plain_ascii_digits_only(admin, param: PathParam, value: str):
    client, auth, _ = admin
    response = _send(client, auth, param, value)
    assert response.status_code == 400, (value, response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM)
    assert _naming(response, param.name), response.text


@pytest.mark.parametrize("param", [pytest.param(p, id=p.id) for p in INT_PARAMS])
@pytest.mark.parametrize("value", ["9", "10", "907", "2147483648"])
def test_an_integer_path_parameter_in_plain_digits_is_taken(admin, param: PathParam, value: str):
    client, auth, _ = admin
    response = _send(client, auth, param, value)
    assert response.status_code < 500, response.text
    assert not _naming(response, param.name), response.text


@pytest.mark.parametrize("param", [pytest.param(p, id=p.id) for p in INT_PARAMS])
def test_an_integer_path_parameter_past_the_range_is_still_a_400(admin, param: PathParam):
    client, auth, _ = admin
    assert _naming(_send(client, auth, param, "2147483649"), param.name)
    assert _naming(_send(client, auth, param, "9" * 40), param.name)


def test_a_token_is_not_revoked_through_a_spelling_of_its_id(admin):
    client, auth, dep = admin
    store = Store(dep.db)
    try:
        _, row = create_token(store, name="Spared Curator", role="curator", expires_in_days=None, actor="test")
    finally:
        store.close()
    for value in (f"{row.id}%0A", f"%20{row.id}", f"+{row.id}", f"0{row.id}"):
        response = client.post(f"/v1/tokens/{value}/revocation", headers=auth)
        assert response.status_code == 400, (value, response.text)
    listed = {t["id"]: t for t in client.get("/v1/tokens", headers=auth).json()["data"]}
    assert listed[row.id]["revoked_at"] is None


#: Spellings of a valid string that are not it: (value percent-encoded, for which parameter).
NOT_THE_VALUE = {
    "listing_id": ["ru-evacuation%0A", "%20ru-evacuation", "ru-evacuation%20", "RU-EVACUATION", "ru%E2%80%8B-evacuation",
                   "%EF%BD%92%EF%BD%95-evacuation", "ru-evacuation%00", "ru--evacuation", "-ru-evacuation"],
    "code": ["RU%0A", "%20RU", "ru", "RUS", "%EF%BC%B2%EF%BC%B5", "R%E2%80%8BU", "RU%00", "R"],
}


@pytest.mark.parametrize("param", [pytest.param(p, id=p.id) for p in STR_PARAMS])
def test_a_string_path_parameter_takes_its_pattern_whole(admin, param: PathParam):
    client, auth, _ = admin
    assert not _naming(_send(client, auth, param, VALID[param.name]), param.name)
    for value in NOT_THE_VALUE[param.name]:
        response = _send(client, auth, param, value)
        assert response.status_code == 400, (value, response.status_code, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert _naming(response, param.name), (value, response.text)


# --- integer query parameters: the same family ------------------------------------------------


def int_query_params() -> list[tuple[str, str, str]]:
    """(method, path, name) of every integer query parameter of every documented operation."""
    spec = openapi_schema(create_app(load_settings(db=":memory:")).litestar).to_schema()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter.get("schema", {}).get("type") == "integer":
                    found.append((method.upper(), path, parameter["name"]))
    return found


INT_QUERY_PARAMS = int_query_params()
NOT_PLAIN_QUERY_NUMBERS = {
    "decimal": "3.0", "exponent": "1e1", "upper-exponent": "1E1", "leading-zero": "03", "plus": "+3",
    "space": " 3", "underscore": "1_0", "fullwidth": "\uff13", "arabic-indic": "\u0663",
}


def test_the_walk_finds_the_integer_query_parameters():
    assert {(p, n) for _, p, n in INT_QUERY_PARAMS} >= {("/v1/listings", "limit"), ("/v1/changes", "limit")}


@pytest.mark.parametrize(("method", "path", "name"), INT_QUERY_PARAMS, ids=[f"{m} {p} {n}" for m, p, n in INT_QUERY_PARAMS])
@pytest.mark.parametrize("value", list(NOT_PLAIN_QUERY_NUMBERS.values()), ids=list(NOT_PLAIN_QUERY_NUMBERS))
def test_an_integer_query_parameter_takes_plain_digits_only(admin, method, path, name, value):
    """`limit=3.0` or `1e1` was served as 3 or 10: one value must have one spelling (each
    spelling is a cache entry of its own, at the CDN too)."""
    client, auth, _ = admin
    url = re.sub(r"\{(\w+)\}", lambda m: VALID[m[1]], path)
    response = client.request(method, url, params={name: value}, headers=auth)
    assert response.status_code == 400, response.text
    assert [(e["in"], e["field"]) for e in response.json()["errors"]] == [("query", name)]


@pytest.mark.parametrize(("method", "path", "name"), INT_QUERY_PARAMS, ids=[f"{m} {p} {n}" for m, p, n in INT_QUERY_PARAMS])
def test_an_integer_query_parameter_in_plain_digits_is_taken(admin, method, path, name):
    client, auth, _ = admin
    url = re.sub(r"\{(\w+)\}", lambda m: VALID[m[1]], path)
    assert client.request(method, url, params={name: "3"}, headers=auth).status_code == 200


# --- an encoded slash is data, never a separator ----------------------------------------------


def operations() -> list[tuple[str, str]]:
    """(method, path with example values) of every documented operation."""
    spec = openapi_schema(create_app(load_settings(db=":memory:")).litestar).to_schema()
    return [
        (method.upper(), re.sub(r"\{(\w+)\}", lambda m: VALID[m[1]], path))
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


def encoded_slash_spellings() -> list[tuple[str, str]]:
    """Each operation's path with one of its separators (after the first) sent as ``%2F`` or ``%2f``."""
    found = []
    for method, path in operations():
        cuts = [i for i, ch in enumerate(path) if ch == "/" and i > 0]
        for n, cut in enumerate(cuts):
            found.append((method, path[:cut] + ("%2F" if n % 2 == 0 else "%2f") + path[cut + 1 :]))
    return found


ENCODED_SLASHES = encoded_slash_spellings()


def test_the_walk_finds_encoded_slash_spellings_of_every_operation():
    assert ("GET", "/v1/listings/ru-evacuation%2Frevisions") in ENCODED_SLASHES
    assert ("GET", "/v1/listings%2fru-evacuation/revisions") in ENCODED_SLASHES
    assert ("POST", "/v1/tokens/1%2Frevocation") in ENCODED_SLASHES
    assert ("GET", "/v1%2Flistings") in ENCODED_SLASHES
    assert {method for method, _ in ENCODED_SLASHES} == {"GET", "POST"}


@pytest.mark.parametrize(("method", "path"), ENCODED_SLASHES, ids=[f"{m} {p}" for m, p in ENCODED_SLASHES])
def test_an_encoded_slash_is_never_a_path_separator(admin, method, path):
    """RFC 3986 §2.2: ``%2F`` is a ``/`` inside a segment, not the delimiter ``/``. The server
    decodes it before routing, so ``/v1/listings/x%2Frevisions`` was answered by the revisions
    endpoint and ``POST /v1/tokens/1%2Frevocation`` revoked token 1: one operation under several
    names, which caches keep apart and rules on raw paths (proxies, firewalls) do not see. No
    name in this API holds a '/', so such a path names nothing."""
    client, auth, _ = admin
    response = client.request(method, path, headers={**auth, "Content-Type": "application/json"}, content=b"{}")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "%2F" in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == "*"  # the edge's headers, as on every answer


def test_a_token_is_not_revoked_through_an_encoded_slash(admin):
    client, auth, dep = admin
    store = Store(dep.db)
    try:
        _, row = create_token(store, name="Slashed Curator", role="curator", expires_in_days=None, actor="test")
    finally:
        store.close()
    for path in (f"/v1/tokens/{row.id}%2Frevocation", f"/v1/tokens%2F{row.id}/revocation", f"/v1%2ftokens/{row.id}/revocation"):
        assert client.post(path, headers=auth).status_code == 404, path
    listed = {t["id"]: t for t in client.get("/v1/tokens", headers=auth).json()["data"]}
    assert listed[row.id]["revoked_at"] is None
