"""Stateful contract tests: schemathesis follows the spec's OpenAPI links.

Sequences like create a submission -> read it -> decide on it -> read the listing and its
history, or report a listing -> resolve the report, or mint a token -> revoke it, run against
the real app and a real SQLite file, with every response checked against the spec.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from conftest import schema_for_python
from factory import default_listings, write_dataset
from hypothesis import HealthCheck, settings
from test_schemathesis import TOKENS, _headers_for, validate

from api.app import create_app
from api.dataset import import_directory
from api.routes.curation import create_token
from api.settings import load_settings
from api.store import Store

# The state machine is a class built from the schema at import time, so the app it talks to
# is built here too, on a throwaway database.
_ROOT = Path(tempfile.mkdtemp(prefix="actiondir-stateful-"))
_store = Store(_ROOT / "api.db", create=True)
import_directory(write_dataset(_ROOT / "data", default_listings()), _store)
_tokens = {
    role: create_token(_store, name=f"stateful-{role}", role=role, expires_in_days=None, actor="test")[0]
    for role in ("curator", "reviewer", "admin")
}
_app = create_app(load_settings(db=_ROOT / "api.db", reports_per_minute=10_000), store=_store)
schema = schema_for_python(_app)


class APIWorkflow(schema.as_state_machine()):  # type: ignore[misc]
    def get_call_kwargs(self, case):
        TOKENS.update(_tokens)  # the per-role headers of the stateless test, with this app's tokens
        return {"headers": _headers_for(case)}

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        validate(case, response, additional_checks=additional_checks, transport_kwargs=kwargs or None)


def test_links_are_declared():
    links = [
        link
        for item in _app.openapi_schema.to_schema()["paths"].values()
        for operation in item.values()
        for response in operation["responses"].values()
        for link in response.get("links", {})
    ]
    assert {"GetSubmission", "DecideSubmission", "ResolveReport", "RevokeToken"} <= set(links)


TestStatefulWorkflows = APIWorkflow.TestCase
TestStatefulWorkflows.settings = settings(
    max_examples=25, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck)
)
