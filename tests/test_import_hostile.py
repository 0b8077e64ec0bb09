"""Hostile data files: `actiondir import` names the file and what is wrong, never a traceback,
and imports nothing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from factory import default_listings, write_dataset

from api.cli import cli

DEEP = 100_000


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("deep-array.toml", "id = " + "[" * DEEP + "]" * DEEP + "\n"),
        ("deep-inline-table.toml", "id = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n"),
        ("deep-inside.toml", 'id = "deep-inside"\n[translations]\nen = ' + "[" * 2000 + "]" * 2000 + "\n"),
        ("deep-array.json", "[" * DEEP + "]" * DEEP),
        ("deep-inside.json", '{"id": "deep-inside", "translations": {"en": ' + "[" * DEEP + "]" * DEEP + "}}"),
        ("bad-utf8.toml", b'id = "\xff\xfe"\n'),
        ("utf16.json", '{"id": "utf16"}'.encode("utf-16")),
        ("huge.toml", 'id = "huge"\nnote = "' + "x" * (2 * 1024 * 1024) + '"\n'),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else "",
)
def test_a_hostile_file_is_a_named_problem_and_nothing_is_imported(deployment, name, content):
    write_dataset(deployment.data, default_listings())
    path = deployment.data / "listings" / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with deployment.client() as http:
        before = http.get("/healthz").json()["revision"]

    result = CliRunner().invoke(cli, ["import", "--data", str(deployment.data), "--db", str(deployment.db)])

    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert f"error: {path}" in result.output
    assert "nothing was imported" in result.output
    with deployment.client() as http:
        assert http.get("/healthz").json()["revision"] == before
