"""Property-based contract tests: schemathesis generates requests from our own OpenAPI spec.

Every operation in the spec is exercised with valid and invalid inputs (positive and
negative generation modes), and every response is checked with all of schemathesis's
checks: no 5xx, status codes, content types, headers and bodies that match the schema,
and invalid input rejected with a 4xx.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import schemathesis
from conftest import schema_for_python
from factory import default_listings, write_dataset
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.http.openapi import openapi_schema
from api.app import ActionDirectory, create_app
from api.dataset import import_directory
from api.services.tokens import create_token
from api.settings import load_settings
from api.store import Store

ROLES = ("curator", "reviewer", "admin")


def _tampers_with_authorization(case) -> bool:
    """A negative case about the headers or the security scheme (e.g. "missing Authorization")."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return False
    header = meta.components.get(ParameterLocation.HEADER)
    if header is not None and header.mode.is_negative:
        return True
    data = getattr(meta.phase, "data", None)
    said = " ".join(str(getattr(data, name, "") or "") for name in ("description", "parameter", "location")).lower()
    return "auth" in said or "secur" in said


def _headers_for(case, tokens: dict[str, str]) -> dict[str, str]:
    """Each operation with the token of the role it is for, so the happy paths run too.

    The reviewer is a different person from the curator, so decisions can succeed
    (four-eyes); the admin manages tokens.
    """
    if any(name.lower() == "authorization" for name in (case.headers or {})):
        return {}  # schemathesis is testing authentication itself (e.g. a malformed token)
    if _tampers_with_authorization(case):
        return {}  # a negative case that dropped Authorization on purpose: never put it back
    path, method = case.operation.path, case.method.upper()
    if path.startswith("/v1/tokens"):
        role = "admin"
    elif path.endswith("/decision") or path.startswith("/v1/reports"):
        role = "reviewer"
    elif path.startswith("/v1/submissions"):
        role = "curator"
    else:
        return {}
    return {"Authorization": f"Bearer {tokens[role]}"} if method != "OPTIONS" else {}


@contextmanager
def contract_app(root: Path) -> Iterator[tuple[ActionDirectory, dict[str, str]]]:
    """The app on a fresh database of the default listings, and a token for each role."""
    data = write_dataset(root / "data", default_listings())
    store = Store(root / "api.db", create=True)
    try:
        import_directory(data, store)
        tokens = {
            role: create_token(store, name=f"{role}-person", role=role, expires_in_days=None, actor="test")[0]
            for role in ROLES
        }
        # Every settings value a schemathesis run could trip over is generous: reports are rate
        # limited per address, and 429 is a documented answer, but the happy path should run.
        yield create_app(load_settings(db=root / "api.db", reports_per_minute=10_000), store=store), tokens
    finally:
        store.close()


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ActionDirectory, dict[str, str]]]:
    with contract_app(tmp_path_factory.mktemp("schemathesis")) as app_and_tokens:
        yield app_and_tokens


@pytest.fixture(scope="module")
def role_tokens(contract: tuple[ActionDirectory, dict[str, str]]) -> dict[str, str]:
    return contract[1]


@pytest.fixture(scope="module")
def api_schema(contract: tuple[ActionDirectory, dict[str, str]]):
    schema = schema_for_python(contract[0])
    # OPTIONS is answered on every path for CORS preflight, so it is not an "unsupported method".
    coverage = schema.config.phases.coverage
    coverage.unexpected_methods = coverage.unexpected_methods - {"options"}
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_the_contract(case, role_tokens):
    response = case.call(headers=_headers_for(case, role_tokens))
    validate(case, response)


#: Writes whose bodies pass through vetting rules that no JSON Schema can state, and the
#: fields those rules may name.
VETTED_WRITES = {
    "/v1/submissions": ("listing.", "note", "sources"),
    "/v1/submissions/{submission_id}/decision": ("reason",),
    "/v1/reports/{report_id}/resolution": ("resolution",),
    "/v1/listings/{listing_id}/reports": ("details",),
}


def vetted_fields(case) -> tuple[str, ...] | None:
    if case.method.upper() != "POST" or case.meta.generation.mode.is_negative:
        return None
    return VETTED_WRITES.get(case.operation.path)


def validate(case, response, **kwargs) -> None:
    """All of schemathesis's checks; on vetted writes, a 400 must name a vetted field.

    A body that fits the schema can still fail rules that no JSON Schema can say (a topic
    not in the taxonomy, a language CLDR does not know, a look-alike domain, text that is
    not NFC or holds control characters): a 400 is right then, as long as it names the
    field that the vetting rule is about.
    """
    fields_allowed = vetted_fields(case)
    if fields_allowed is None:
        case.validate_response(response, **kwargs)
        return
    case.validate_response(response, excluded_checks=[positive_data_acceptance], **kwargs)
    if response.status_code == 400:
        fields = [error["field"] for error in response.json()["errors"]]
        assert fields and all(f.startswith(fields_allowed) for f in fields), response.text


def test_spec_lists_every_route():
    """Every GET route of the app is in the spec (docs UI aside), so schemathesis covers it.

    Except the embed (``/embed/v1``): HTML and JavaScript for browsers, left out of the spec
    on purpose (api/routes/embed.py); tests/test_embed.py holds its parameters to the JSON
    list's rules, and tests/test_embed_browser.py runs it in a browser.
    """
    app = create_app(load_settings(db=Path("unused.db")))
    spec_paths = set(openapi_schema(app.litestar).to_schema()["paths"])
    routes = {
        re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for route in app.litestar.routes
        if route.path != "/v1/openapi.json" and not route.path.startswith(("/v1/docs", "/embed/"))
    }
    assert routes == spec_paths
    embed = {route.path for route in app.litestar.routes if route.path.startswith("/embed/")}
    assert embed == {"/embed/v1", "/embed/v1/listings", "/embed/v1/widget.js"}
