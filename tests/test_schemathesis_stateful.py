"""Stateful contract tests: schemathesis follows the spec's OpenAPI links.

Sequences like create a submission -> read it -> decide on it -> read the listing and its
history, or report a listing -> resolve the report, or mint a token -> revoke it, run against
the real app and a real SQLite file, with every response checked against the spec.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import schema_for_python
from hypothesis import HealthCheck, settings
from test_schemathesis import _headers_for, contract_app, validate

from api.http.openapi import openapi_schema
from api.app import ActionDirectory


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ActionDirectory, dict[str, str]]]:
    with contract_app(tmp_path_factory.mktemp("stateful")) as app_and_tokens:
        yield app_and_tokens


def test_links_are_declared(contract: tuple[ActionDirectory, dict[str, str]]):
    app, _ = contract
    links = [
        link
        for item in openapi_schema(app.litestar).to_schema()["paths"].values()
        for operation in item.values()
        for response in operation["responses"].values()
        for link in response.get("links", {})
    ]
    assert {"GetSubmission", "DecideSubmission", "ResolveReport", "RevokeToken"} <= set(links)


@pytest.mark.slow
def test_stateful_workflows(contract: tuple[ActionDirectory, dict[str, str]]):
    """The state machine is a class built from the schema, so it is built here, per run."""
    app, tokens = contract

    class APIWorkflow(schema_for_python(app).as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            return {"headers": _headers_for(case, tokens)}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            validate(case, response, additional_checks=additional_checks, transport_kwargs=kwargs or None)

    APIWorkflow.run(
        settings=settings(max_examples=25, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck))
    )
