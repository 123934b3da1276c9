"""``keycloak-duo-bridge extension build``: compile the extension for any Keycloak."""

from __future__ import annotations

import argparse
from pathlib import Path

from keycloak_duo_bridge import extension
from keycloak_duo_bridge.cli._common import Subparsers, examples


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "extension",
        help="the Keycloak extension (Java)",
        description="The duo-step-up Keycloak extension: a required action, in Java.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build",
        help="compile against a Keycloak installation's own jars and print the jar path",
        description=(
            "Compile the extension with javac against the jars of the Keycloak installation"
            " at DIR, and write the provider jar (restart Keycloak to load it)."
        ),
        **examples("keycloak-duo-bridge extension build --keycloak-home /opt/keycloak"),
    )
    build.add_argument(
        "--keycloak-home",
        type=Path,
        required=True,
        metavar="DIR",
        help="the Keycloak installation (the directory that holds bin/kc.sh)",
    )
    build.add_argument(
        "--output",
        type=Path,
        metavar="JAR",
        help=f"where to write the jar (default: DIR/providers/{extension.JAR_NAME})",
    )
    build.set_defaults(handler=build_jar)


def build_jar(args: argparse.Namespace) -> int:
    home: Path = args.keycloak_home
    output: Path = args.output or home / "providers" / extension.JAR_NAME
    print(extension.build(home, output))
    return 0
