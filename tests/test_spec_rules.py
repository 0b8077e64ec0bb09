"""The spec is one a generator can trust: our own rules over every operation, and the headers
it documents are the ones the real app sends.

Rules that no general linter states (the third-party lint is tests/test_spec_lint.py):

- every operation has an ``operationId`` that is unique and reads as a verb phrase, ``list_``
  for a page of items and ``get_`` for one thing;
- every operation declares its security: the bearer scheme exactly where a token is needed
  (401 documented), ``[]`` (public) everywhere else;
- every GET documents its ``ETag`` and ``Cache-Control``, takes ``If-None-Match`` and documents
  its 304; every 429 and 503 documents ``Retry-After``; every response header has a schema;
- every timestamp says ``format: date-time`` (or ``date``); every path parameter has an example,
  and the examples name things that exist in the seed dataset.

Then the truth of it, through the real app: every GET, called with the spec's examples,
answers 200 with every header the spec requires and no header of ours it leaves out, and a
repeat with its ``If-None-Match`` answers 304 with the headers documented for the 304.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, AppClient

from api.app import create_app
from api.clock import FixedClock
from api.dataset import import_directory
from api.services.tokens import create_token
from api.settings import load_settings
from api.store import Store

SPEC = json.loads((REPO / "openapi" / "v1.json").read_text(encoding="utf-8"))
METHODS = ("get", "post", "put", "patch", "delete")
OPERATIONS = [
    (method, path, operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if method in METHODS
]
GETS = [(path, operation) for method, path, operation in OPERATIONS if method == "get"]

#: The verbs an operation may start with. A new one is a deliberate addition, not a slip.
VERBS = frozenset({"list", "get", "create", "decide", "resolve", "revoke", "release"})

#: Response headers of ours: whenever the app sends one with an answer, the spec must document
#: it there. A problem always says ``Cache-Control: no-store`` (api/http/problems.py), which needs
#: no documenting; its ``Retry-After`` does.
OUR_HEADERS = frozenset({"etag", "cache-control", "vary", "content-language", "x-dataset-revision", "location", "retry-after"})
OUR_PROBLEM_HEADERS = frozenset({"retry-after"})


def _ids(items: list[tuple[Any, ...]]) -> list[str]:
    return [f"{item[0]} {item[1]}" if item[0] in METHODS else item[0] for item in items]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _is_page(operation: dict[str, Any]) -> bool:
    """Its 200 is an envelope of items (``{"data": [...]}``)."""
    content = operation["responses"].get("200", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return False
    data = _resolve(schema).get("properties", {}).get("data")
    return data is not None and _resolve(data).get("type") == "array"


# --- operation ids ------------------------------------------------------------------------------


def test_operation_ids_are_unique():
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=_ids(OPERATIONS))
def test_operation_id_reads_as_a_verb_phrase(method, path, operation):
    operation_id = operation["operationId"]
    assert re.fullmatch(r"[a-z]+(_[a-z]+)+", operation_id), operation_id
    verb = operation_id.split("_", 1)[0]
    assert verb in VERBS, f"{operation_id}: starts with {verb!r}, not a verb of {sorted(VERBS)}"
    if method == "get":
        assert verb == ("list" if _is_page(operation) else "get"), operation_id
    else:
        assert verb not in {"list", "get"}, f"{method} {path} changes something: {operation_id}"


# --- security -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=_ids(OPERATIONS))
def test_every_operation_declares_its_security(method, path, operation):
    assert "security" in operation, "undeclared: a linter (and a reader) cannot tell public from forgotten"
    needs_token = "401" in operation["responses"]
    assert operation["security"] == ([{"bearer": []}] if needs_token else [])


# --- caching headers, 304, Retry-After ----------------------------------------------------------


@pytest.mark.parametrize(("path", "operation"), GETS, ids=[path for path, _ in GETS])
def test_every_get_documents_its_validator_and_304(path, operation):
    ok = operation["responses"]["200"]
    for name in ("ETag", "Cache-Control"):
        assert ok["headers"][name]["required"] is True, name
    not_modified = operation["responses"]["304"]
    assert "content" not in not_modified
    assert {"ETag", "Cache-Control"} <= set(not_modified["headers"])
    assert set(not_modified["headers"]) <= set(ok["headers"])
    assert any(p["in"] == "header" and p["name"] == "If-None-Match" for p in operation["parameters"])


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=_ids(OPERATIONS))
def test_retry_after_is_documented_wherever_it_can_be_sent(method, path, operation):
    responses = operation["responses"]
    assert "503" in responses, "a busy database (or a read-only replica) answers 503 anywhere"
    assert "Retry-After" in responses["503"]["headers"]
    if "429" in responses:
        assert responses["429"]["headers"]["Retry-After"]["required"] is True


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=_ids(OPERATIONS))
def test_every_response_header_has_a_schema_and_a_description(method, path, operation):
    for status, response in operation["responses"].items():
        for name, header in response.get("headers", {}).items():
            assert "schema" in header and header.get("description"), (status, name)


# --- formats and examples -----------------------------------------------------------------------


def _properties(node: Any, where: str = "") -> Iterator[tuple[str, str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, schema in node.get("properties", {}).items():
            yield where, name, schema
        for key, value in node.items():
            yield from _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _properties(value, f"{where}[{i}]")


def _formats(schema: dict[str, Any]) -> set[str | None]:
    variants = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    return {s.get("format") for s in variants}


TIMESTAMPS = [
    (f"{where}/{name}", schema)
    for where, name, schema in _properties(SPEC["components"]["schemas"])
    if name == "at" or name.endswith("_at")
]


def test_the_timestamp_rule_sees_timestamps():
    assert len(TIMESTAMPS) >= 15  # created_at, updated_at, decided_at, checked_at, closes_at…


@pytest.mark.parametrize(("where", "schema"), TIMESTAMPS, ids=[where for where, _ in TIMESTAMPS])
def test_every_timestamp_and_day_has_its_format(where, schema):
    assert _formats(schema) <= {"date-time", "date"} and None not in _formats(schema), where


PATH_PARAMETERS = [
    (method, path, parameter)
    for method, path, operation in OPERATIONS
    for parameter in operation.get("parameters", [])
    if parameter["in"] == "path"
]


@pytest.mark.parametrize(("method", "path", "parameter"), PATH_PARAMETERS, ids=_ids(PATH_PARAMETERS))
def test_every_path_parameter_has_an_example(method, path, parameter):
    examples = parameter.get("examples", {})
    assert examples, parameter["name"]
    for example in examples.values():
        assert example.get("summary") and "value" in example


# --- the truth: the real app sends what the spec says ---------------------------------------------


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppClient, dict[str, str]]]:
    """The seed dataset, a token for each role, and one submission (so example id 1 exists).

    The clock stands still and every token has been used once (its last use recorded) before a
    test starts: ``/v1/tokens`` shows when each token was last used, so it changes with the
    first use of a token, and then not again within the minute.
    """
    db = tmp_path_factory.mktemp("spec-truth") / "seed.db"
    clock = FixedClock(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC))
    store = Store(db, create=True, clock=clock)
    import_directory(REPO / "directory_data", store)
    tokens = {
        role: create_token(store, name=f"{role}-person", role=role, expires_in_days=None, actor="test")[0]
        for role in ("curator", "reviewer", "admin")
    }
    store.close()
    with AppClient(create_app(load_settings(db=db), clock=clock)) as client:
        body = {
            "action": "retire", "listing_id": "ru-russian-lgbt-network", "base_revision": 1,
            "note": "Closed down", "sources": ["https://sources.example.org/check"],
        }
        created = client.post("/v1/submissions", json=body, headers={"Authorization": f"Bearer {tokens['curator']}"})
        assert created.status_code == 201, created.text
        assert created.json()["id"] == 1
        assert client.get("/v1/reports", headers={"Authorization": f"Bearer {tokens['reviewer']}"}).status_code == 200
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        for _ in range(200):  # the writer records a token's use without making the request wait
            listed = client.get("/v1/tokens", headers=admin).json()["data"]
            if all(token["last_used_at"] is not None for token in listed):
                break
            time.sleep(0.01)
        else:
            pytest.fail("the tokens' first use was never recorded")
        yield client, tokens


def _example_path(path: str, operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            value = next(iter(parameter["examples"].values()))["value"]
            path = path.replace("{" + parameter["name"] + "}", str(value))
    return path


def _auth(operation: dict[str, Any], path: str, tokens: dict[str, str]) -> dict[str, str]:
    if not operation["security"]:
        return {}
    role = "admin" if path.startswith("/v1/tokens") else "reviewer"  # a reviewer sees all of curation
    return {"Authorization": f"Bearer {tokens[role]}"}


def _documented(response_spec: dict[str, Any]) -> dict[str, bool]:
    return {name.lower(): header["required"] for name, header in response_spec.get("headers", {}).items()}


def _check_headers(sent: dict[str, str], response_spec: dict[str, Any], where: str, ours: frozenset[str] = OUR_HEADERS) -> None:
    documented = _documented(response_spec)
    missing = {name for name, required in documented.items() if required and name not in sent}
    undocumented = {name for name in sent if name in ours and name not in documented}
    assert not missing, f"{where}: the spec requires {sorted(missing)}, the app did not send them"
    assert not undocumented, f"{where}: the app sent {sorted(undocumented)}, the spec does not say so"


@pytest.mark.parametrize(("path", "operation"), GETS, ids=[path for path, _ in GETS])
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_every_get_sends_the_headers_its_spec_documents(seeded, path, operation, encoding):
    client, tokens = seeded
    url = _example_path(path, operation)
    headers = {**_auth(operation, path, tokens), "Accept-Encoding": encoding}
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.text)  # the examples are real
    _check_headers(dict(response.headers), operation["responses"]["200"], f"GET {url} 200")

    again = client.get(url, headers={**headers, "If-None-Match": response.headers["etag"]})
    assert again.status_code == 304, url
    _check_headers(dict(again.headers), operation["responses"]["304"], f"GET {url} 304")


def test_the_header_check_can_fail():
    spec = {"headers": {"ETag": {"required": True}}}
    with pytest.raises(AssertionError, match="requires"):
        _check_headers({"cache-control": "no-store"}, spec, "here")
    with pytest.raises(AssertionError, match="does not say so"):
        _check_headers({"etag": '"x"', "x-dataset-revision": "1"}, spec, "here")


def test_a_busy_write_sends_the_documented_retry_after(tmp_path: Path, monkeypatch):
    """The 503 of a busy database, through the real app, carries ``Retry-After`` as documented."""
    from api.store import StoreBusy  # noqa: PLC0415
    from api.writer import Writer  # noqa: PLC0415

    db = tmp_path / "seed.db"
    store = Store(db, create=True)
    import_directory(REPO / "directory_data", store)
    store.close()

    async def busy(self, work):  # noqa: ARG001
        raise StoreBusy("database is locked")

    monkeypatch.setattr(Writer, "run", busy)
    with AppClient(create_app(load_settings(db=db))) as client:
        response = client.post("/v1/listings/ru-russian-lgbt-network/reports", json={"reason": "outdated"})
    assert response.status_code == 503
    operation = SPEC["paths"]["/v1/listings/{listing_id}/reports"]["post"]
    _check_headers(dict(response.headers), operation["responses"]["503"], "POST report 503", OUR_PROBLEM_HEADERS)
    assert int(response.headers["retry-after"]) >= 0
