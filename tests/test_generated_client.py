"""A client generated from openapi/v1.json by a third party (openapi-python-client) works
against the real server: the spec is one a generator can trust.

The generator runs as its CLI into a temporary folder, without warnings; its package is
imported and every operation of the spec is called with it, strict about statuses
(``raise_on_unexpected_status``: an answer the spec does not document raises), against
``actiondir serve`` on 127.0.0.1. Every answer parses into the generated model the spec
names for it, and the model gives back the very JSON the server sent (nothing lost, nothing
misread). Every GET is then asked again with ``If-None-Match`` and answers 304, which the
spec documents. Path parameters take the spec's own examples.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from conftest import REPO, free_port
from serving import start_server, stop_server, wait_up

from api.dataset import import_directory
from api.services.tokens import create_token
from api.store import Store

pytestmark = pytest.mark.slow

SPEC = json.loads((REPO / "openapi" / "v1.json").read_text(encoding="utf-8"))
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "actiondir_generated"
OPERATIONS = {
    operation["operationId"]: (method, path, operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
}
GETS = sorted(op_id for op_id, (method, _, _) in OPERATIONS.items() if method == "get")
#: The listing the server's link checker found broken twice (held), for ``release_hold``.
HELD = "ru-russian-lgbt-network"
SOURCES = ["https://sources.example.org/check"]


# --- the generated package ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("generated")
    config = root / "config.yaml"
    config.write_text("post_hooks: []\n", encoding="utf-8")  # no formatter run: the code as generated
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(REPO / "openapi" / "v1.json"), "--meta", "none",
         "--output-path", str(root / PACKAGE), "--config", str(config)],
        capture_output=True, text=True, timeout=300, cwd=root,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return root, result.stdout + result.stderr


@pytest.fixture(scope="module")
def generated(generation: tuple[Path, str]) -> Iterator[ModuleType]:
    root, _ = generation
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def operation_module(generated: ModuleType, operation_id: str) -> ModuleType:
    """The generated module of an operation: ``api/<tag>/<operationId>.py``."""
    _, _, operation = OPERATIONS[operation_id]
    return importlib.import_module(f"{generated.__name__}.api.{operation['tags'][0]}.{operation_id}")


def test_the_generator_understands_the_whole_spec(generation, generated):
    _, output = generation
    assert "warning" not in output.lower(), output
    for operation_id in OPERATIONS:  # one module per operation, named after its operationId
        assert callable(operation_module(generated, operation_id).sync_detailed), operation_id


# --- the live server -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """``actiondir serve`` over the seed dataset, with a token per role, a held listing and one
    submission (id 1, the example of ``submission_id``)."""
    db = tmp_path_factory.mktemp("generated-live") / "seed.db"
    store = Store(db, create=True)
    try:
        import_directory(REPO / "directory_data", store)
        tokens = {
            role: create_token(store, name=f"{role}-person", role=role, expires_in_days=None, actor="test")[0]
            for role in ("curator", "reviewer", "admin")
        }
        at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        for minutes in (0, 1):  # broken twice in a row: held out of the default lists
            store.link_checks.add(
                listing_id=HELD, checked_at=at + dt.timedelta(minutes=minutes), status="broken",
                http_status=404, final_url=None, needs_review=False,
            )
        store.link_checks.finish_run(2)
    finally:
        store.close()
    port = free_port()
    process = start_server(db, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, process)
        first = httpx.post(
            f"{base}/v1/submissions",
            json={"action": "retire", "listing_id": "pl-kph", "base_revision": 1, "note": "Closed down", "sources": SOURCES},
            headers={"Authorization": f"Bearer {tokens['curator']}"},
            trust_env=False,
        )
        assert first.status_code == 201 and first.json()["id"] == 1, first.text
        yield base, tokens
    finally:
        stop_server(process)


def _client(generated: ModuleType, base: str, token: str | None = None) -> Any:
    if token is None:
        return generated.Client(base_url=base, raise_on_unexpected_status=True)
    return generated.AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)


def _role(path: str, method: str) -> str | None:
    operation = SPEC["paths"][path][method]
    if not operation["security"]:
        return None
    if path.startswith("/v1/tokens"):
        return "admin"
    if path.startswith("/v1/submissions") and not path.endswith("/decision"):
        return "curator"
    return "reviewer"


def _path_arguments(operation: dict[str, Any]) -> dict[str, Any]:
    return {
        parameter["name"]: next(iter(parameter["examples"].values()))["value"]
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    }


_UTC_Z = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z$")


def _same_moments(value: Any) -> Any:
    """JSON with RFC 3339 ``Z`` written ``+00:00``, as Python's ``isoformat`` writes it back."""
    if isinstance(value, dict):
        return {k: _same_moments(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_same_moments(v) for v in value]
    if isinstance(value, str) and (match := _UTC_Z.match(value)):
        return match.group(1) + "+00:00"
    return value


def _parsed_as_documented(response: Any, status: int, operation: dict[str, Any]) -> None:
    """The answer has the documented status, and parsed into the model of its schema, which
    gives back exactly the JSON that was sent."""
    assert int(response.status_code) == status, response.content
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    model = schema["$ref"].rsplit("/", 1)[1]
    assert type(response.parsed).__name__ == model
    assert response.parsed.to_dict() == _same_moments(json.loads(response.content))


# --- every operation -------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation_id", GETS)
def test_every_get_parses_and_its_conditional_repeat_is_a_documented_304(generated, server, operation_id):
    base, tokens = server
    method, path, operation = OPERATIONS[operation_id]
    role = _role(path, method)
    client = _client(generated, base, tokens[role] if role else None)
    call = operation_module(generated, operation_id).sync_detailed
    arguments = _path_arguments(operation)

    response = call(client=client, **arguments)
    _parsed_as_documented(response, 200, operation)

    # /v1/tokens shows each token's last use, which the server records a moment after the
    # first request; an answer that changed in between is a new 200, never a stale 304.
    for _ in range(50):
        again = call(client=client, **arguments, if_none_match=response.headers["etag"])
        if again.status_code != 200:
            break
        response = again
        time.sleep(0.05)
    assert again.status_code == 304
    assert again.parsed is None and again.content == b""
    assert again.headers["etag"] == response.headers["etag"]


def _write(generated: ModuleType, base: str, tokens: dict[str, str], operation_id: str, **arguments: Any) -> Any:
    method, path, operation = OPERATIONS[operation_id]
    role = _role(path, method)
    response = operation_module(generated, operation_id).sync_detailed(
        client=_client(generated, base, tokens[role] if role else None), **arguments
    )
    ok = next(status for status in operation["responses"] if status.startswith("2"))
    _parsed_as_documented(response, int(ok), operation)
    return response.parsed


#: Every write, in an order where each can succeed; the bodies are the generated models.
WRITES = ("create_token", "revoke_token", "create_submission", "decide_submission", "create_report", "resolve_report", "release_hold")


def test_every_operation_is_called_here():
    assert set(GETS) | set(WRITES) == set(OPERATIONS)


def test_every_write_parses(generated, server):
    base, tokens = server
    models = generated.models

    created = _write(generated, base, tokens, "create_token",
                     body=models.TokenCreate(name="new-curator", role=models.TokenCreateRole.CURATOR))
    assert created.token
    revoked = _write(generated, base, tokens, "revoke_token", token_id=created.id)
    assert revoked.revoked_at is not None

    submission = _write(generated, base, tokens, "create_submission", body=models.RetireSubmission(
        action=models.RetireSubmissionAction.RETIRE, listing_id="tr-spod", base_revision=1,
        note="Closed down", sources=SOURCES,
    ))
    decided = _write(generated, base, tokens, "decide_submission", submission_id=submission.id, body=models.DecisionCreate(
        decision=models.DecisionCreateDecision.APPROVE, reason="Checked the sources",
    ))
    assert decided.decision.applied_revision is not None

    receipt = _write(generated, base, tokens, "create_report", listing_id="ua-insight",
                     body=models.ReportCreate(reason=models.ReportCreateReason.OUTDATED))
    resolved = _write(generated, base, tokens, "resolve_report", report_id=receipt.id,
                      body=models.ReportResolution(resolution="Updated the listing"))
    assert resolved.status.value == "resolved"

    released = _write(generated, base, tokens, "release_hold", listing_id=HELD,
                      body=models.HoldRelease(reason="Checked the link by hand: it works"))
    assert released.listing_id == HELD


def test_a_problem_parses_too(generated, server):
    base, _ = server
    _, _, operation = OPERATIONS["get_listing"]
    response = operation_module(generated, "get_listing").sync_detailed(
        client=_client(generated, base), listing_id="no-such-listing"
    )
    assert response.status_code == 404
    assert type(response.parsed).__name__ == "Problem" and response.parsed.status == 404
    assert response.parsed.to_dict() == json.loads(response.content)
