"""`mentorflow --help` lists every command from a table, without importing the commands' modules."""

from __future__ import annotations

import pytest

from workflows.cli.app import COMMANDS, command_of


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_listed_help_is_the_commands_own(name: str) -> None:
    command = command_of(name)
    first_paragraph = " ".join((command.help or "").split("\n\n")[0].split())
    assert command.name == name
    assert COMMANDS[name][2] == first_paragraph, f"update COMMANDS[{name!r}] in workflows/cli/app.py"
