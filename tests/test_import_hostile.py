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


def _import(deployment):
    return CliRunner().invoke(cli, ["import", "--data", str(deployment.data), "--db", str(deployment.db)])


def test_a_fifo_named_like_a_listing_is_refused_without_blocking(deployment):
    import os  # noqa: PLC0415

    path = deployment.data / "listings" / "pipe.toml"
    os.mkfifo(path)
    result = _import(deployment)  # opening a FIFO would block forever
    assert result.exit_code == 1
    assert f"error: {path}: (file): not a regular file" in result.output


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/hostname", "../../outside.toml"])
def test_a_symlinked_listing_file_is_refused(deployment, tmp_path, target):
    (tmp_path / "outside.toml").write_text('id = "outside"\n')
    path = deployment.data / "listings" / "linked.toml"
    path.symlink_to(target)
    result = _import(deployment)
    assert result.exit_code == 1
    assert f"error: {path}: (file): a symbolic link" in result.output


def test_a_symlinked_taxonomy_is_refused(deployment, tmp_path):
    real = tmp_path / "topics-elsewhere.toml"
    (deployment.data / "topics.toml").rename(real)
    (deployment.data / "topics.toml").symlink_to(real)
    result = _import(deployment)
    assert result.exit_code == 1
    assert "topics.toml: (file): a symbolic link" in result.output
