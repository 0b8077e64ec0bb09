"""openapi/v1.json passes a third-party linter: Redocly CLI's recommended ruleset, at zero
errors and zero warnings.

Redocly CLI is pinned in tools/package-lock.json and installed with ``make tools`` (``npm ci
--ignore-scripts``; ``make test`` does it when npm is there). Without it the test skips, except
where ``REQUIRE_NODE_TOOLS=1`` (CI), where a missing linter is a failure. It runs offline, with
its usage reports off. Our own rules, which no general linter states, are tests/test_spec_rules.py's.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import REPO

TOOLS = REPO / "tools"
REDOCLY = TOOLS / "node_modules" / ".bin" / "redocly"
CONFIG = TOOLS / "redocly.yaml"
SPEC = REPO / "openapi" / "v1.json"
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def redocly() -> Path:
    if not REDOCLY.exists():
        if os.environ.get("REQUIRE_NODE_TOOLS") == "1":
            pytest.fail("Redocly CLI is not installed: run `make tools` (npm ci in tools/)")
        pytest.skip("Redocly CLI is not installed (`make tools`)")
    return REDOCLY


def lint(redocly: Path, spec: Path) -> dict:
    result = subprocess.run(
        [str(redocly), "lint", str(spec), "--config", str(CONFIG), "--format", "json"],
        capture_output=True, text=True, timeout=120, cwd=TOOLS, env={**os.environ, **QUIET},
    )
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def test_the_linter_is_the_pinned_one(redocly):
    lock = json.loads((TOOLS / "package-lock.json").read_text(encoding="utf-8"))
    pinned = json.loads((TOOLS / "package.json").read_text(encoding="utf-8"))["devDependencies"]["@redocly/cli"]
    assert lock["packages"]["node_modules/@redocly/cli"]["version"] == pinned
    installed = json.loads((TOOLS / "node_modules" / "@redocly" / "cli" / "package.json").read_text(encoding="utf-8"))
    assert installed["version"] == pinned, "tools/node_modules is stale: run `make tools`"


def test_the_spec_passes_redoclys_recommended_rules(redocly):
    report = lint(redocly, SPEC)
    problems = [f"{p['severity']} {p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}" for p in report["problems"]]
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, "\n".join(problems)


def test_the_lint_can_fail(redocly, tmp_path):
    """An operation that does not declare its security is what the recommended rules catch."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    del spec["paths"]["/v1/listings"]["get"]["security"]
    broken = tmp_path / "v1.json"
    broken.write_text(json.dumps(spec), encoding="utf-8")
    report = lint(redocly, broken)
    assert [p["ruleId"] for p in report["problems"]] == ["security-defined"]
