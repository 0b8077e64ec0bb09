"""Property-based contract tests: schemathesis generates requests from our own OpenAPI spec.

Every operation in the spec is exercised with valid and invalid inputs (positive and
negative generation modes), and every response is checked with all of schemathesis's
checks: no 5xx, status codes, content types, headers and bodies that match the schema,
and invalid input rejected with a 4xx.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from api.dataset import import_directory
from api.settings import load_settings
from api.store import Store
from factory import default_listings, write_dataset


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("schemathesis")
    data = write_dataset(root / "data", default_listings())
    store = Store(root / "api.db", create=True)
    import_directory(data, store)
    app = create_app(load_settings(db=root / "api.db"), store=store)
    yield schemathesis.openapi.from_asgi("/v1/openapi.json", app)
    store.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_the_contract(case):
    if case.query and "cursor" in case.query and not case.meta.generation.mode.is_negative:
        # Cursors are opaque: a random string that fits the schema is still not one the API
        # made, and is rightly a 400 (tests/test_http.py covers bad cursors).
        del case.query["cursor"]
    case.call_and_validate()


def test_spec_lists_every_route():
    """Every GET route of the app is in the spec (docs UI aside), so schemathesis covers it."""
    app = create_app(load_settings(db=Path("unused.db")))
    spec_paths = set(app.openapi_schema.to_schema()["paths"])
    routes = {
        route.path.replace("{code:str}", "{code}").replace("{listing_id:str}", "{listing_id}")
        for route in app.routes
        if route.path != "/v1/openapi.json" and not route.path.startswith("/v1/docs")
    }
    assert routes == spec_paths
