"""The README stays true: every setting, every CLI command and the two commands are in it."""

from __future__ import annotations

import pytest
from conftest import REPO

from api.cli import cli
from api.settings import SETTINGS, load_settings

README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_setting_is_documented(setting):
    default = f"`{setting.default}`" if setting.default != "" else "(none)"
    row = f"| `ACTIONDIR_{setting.name.upper()}` | {default} | {setting.help} |"
    assert row in README


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_cli_command_has_help_and_is_in_readme(name):
    command = cli.commands[name]
    assert command.help, f"{name} is missing its help"
    assert f"actiondir {name}" in README


def test_readme_opens_with_the_two_commands():
    head = README[: README.index("## The API")]
    assert "make run" in head and "make test" in head
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_settings_come_from_the_environment_and_options_override():
    settings = load_settings({"ACTIONDIR_PORT": "9001", "ACTIONDIR_HOST": "0.0.0.0"}, host="127.0.0.2")
    assert settings.port == 9001
    assert settings.host == "127.0.0.2"
    with pytest.raises(ValueError, match="ACTIONDIR_PORT"):
        load_settings({"ACTIONDIR_PORT": "eighty"})
