"""Every command of ``keycloak-duo-bridge`` explains itself in ``--help``."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from keycloak_duo_bridge.cli import build_parser

# The commands a newcomer reaches first: each shows an example in its --help.
MAIN_COMMANDS = [
    "demo",
    "serve",
    "emulator",
    "sandbox keycloak up",
    "sandbox env",
    "partner create",
    "client create",
    "duo set",
    "duo enable",
    "duo policy",
    "app set",
    "app list",
    "user activate",
    "explain",
    "plan",
    "apply",
    "export",
    "keys generate",
    "keys rotate",
    "doctor",
    "extension build",
    "extension release",
]


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:  # type: ignore[type-arg]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, argparse.ArgumentParser, str | None]]:
    """Every parser under ``parser``: its command path, itself and its one-line help."""
    sub = _subparsers(parser)
    if sub is None:
        return
    helps = {choice.dest: choice.help for choice in sub._choices_actions}
    for name, child in sub.choices.items():
        yield " ".join((*path, name)), child, helps.get(name)
        yield from walk(child, (*path, name))


COMMANDS = {name: (child, line) for name, child, line in walk(build_parser())}


def test_the_top_level_help_shows_examples() -> None:
    """``keycloak-duo-bridge --help`` ends with example command lines, one per line."""
    text = build_parser().format_help()
    assert "examples:\n  keycloak-duo-bridge demo\n" in text


def test_the_tree_is_walked() -> None:
    """The walk reaches nested commands, so the checks below cover every one."""
    assert {"demo", "duo set", "sandbox keycloak up", "plan"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_and_a_description(name: str) -> None:
    """Each command has a line in its parent's list and a description of its own."""
    child, line = COMMANDS[name]
    assert line, f"{name}: no help line"
    assert child.description, f"{name}: no description"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_argument_has_help(name: str) -> None:
    """Each argument and option of each command says what it is for."""
    child, _line = COMMANDS[name]
    missing = [
        "/".join(action.option_strings) or action.dest
        for action in child._actions
        if not isinstance(action, argparse._SubParsersAction)
        and action.help != argparse.SUPPRESS
        and not action.help
    ]
    assert not missing, f"{name}: no help for {', '.join(missing)}"


@pytest.mark.parametrize("name", MAIN_COMMANDS)
def test_main_commands_show_an_example(name: str) -> None:
    """The main commands end their help with an example command line."""
    child, _line = COMMANDS[name]
    assert child.epilog, f"{name}: no epilog"
    assert "example" in child.epilog.lower()
    assert "keycloak-duo-bridge " in child.epilog
