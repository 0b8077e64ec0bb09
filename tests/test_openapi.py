"""The committed spec is what the code serves; the CLI writes it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from api.cli import cli
from api.committed_spec import render_spec

REPO = Path(__file__).resolve().parent.parent
COMMITTED = REPO / "openapi" / "v1.json"


def test_committed_spec_matches_the_code():
    committed = COMMITTED.read_text(encoding="utf-8")
    assert committed == render_spec(), (
        "openapi/v1.json is out of date with the code: run `make openapi` (actiondir openapi) and commit it"
    )


def test_served_spec_is_the_committed_file(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    assert response.content == COMMITTED.read_bytes()


def test_cli_writes_the_spec(tmp_path):
    target = tmp_path / "spec.json"
    result = CliRunner().invoke(cli, ["openapi", "-o", str(target)])
    assert result.exit_code == 0, result.output
    spec = json.loads(target.read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.")
    assert "/v1/countries/{code}/listings" in spec["paths"]


def test_every_operation_documents_its_problems():
    spec = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert "application/problem+json" in response["content"], (method, path, status)
            assert "400" in operation["responses"], (method, path)  # unknown parameters, at least
