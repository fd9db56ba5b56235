"""Every command explains itself: a description, and help on every option and argument (a walk of
the real parser, so a new option without help fails here)."""

from __future__ import annotations

import argparse

from vcp_toolkit.cli import build_parser


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(subparsers[0].choices)


def test_every_command_has_a_description_and_every_option_help():
    missing = []
    for name, command in _commands(build_parser()).items():
        if not command.description:
            missing.append(f"vcp {name}: no description")
        for action in command._actions:
            if not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"vcp {name} {'/'.join(action.option_strings) or action.dest}: no help")
    assert not missing, "\n".join(missing)


def test_help_shows_real_defaults_only():
    deploy = " ".join(_commands(build_parser())["deploy"].format_help().split())  # unwrapped
    assert "(default: 100000000000000000)" in deploy  # --prover-bond-wei
    assert "(default: None)" not in deploy and "(default: False)" not in deploy
