"""``keycloak-duo-bridge extension build|release``: compile the extension for a Keycloak."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from keycloak_duo_bridge import __version__, extension, versions
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.sandbox import distribution
from keycloak_duo_bridge.settings import load_settings


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
    release = actions.add_parser(
        "release",
        help="build the release jar against a supported Keycloak from Maven Central",
        description=(
            "Fetch Keycloak VERSION from Maven Central (cached, checksum verified), compile the"
            " extension against it and write keycloak-duo-bridge-extension-<v>.jar into DIR."
            " Its manifest names the Keycloak it was built against and the supported range."
        ),
        **examples("keycloak-duo-bridge extension release --output-dir dist"),
    )
    release.add_argument(
        "--output-dir", type=Path, required=True, metavar="DIR", help="where to write the jar"
    )
    release.add_argument(
        "--keycloak-version",
        default=versions.TESTED[0],
        metavar="VERSION",
        help=(
            "the Keycloak to compile against (default: the oldest tested,"
            f" {versions.TESTED[0]}, so the jar calls nothing newer releases added)"
        ),
    )
    release.set_defaults(handler=release_jar)


def build_jar(args: argparse.Namespace) -> int:
    home: Path = args.keycloak_home
    output: Path = args.output or home / "providers" / extension.JAR_NAME
    version = extension.keycloak_version(home)
    if not versions.is_supported(version):
        print(
            f"warning: Keycloak {version} is outside the supported range"
            f" {versions.supported_range()}; the extension will refuse to start there",
            file=sys.stderr,
        )
    print(extension.build(home, output))
    return 0


def release_jar(args: argparse.Namespace) -> int:
    settings = load_settings()
    version: str = args.keycloak_version
    archive = distribution.fetch(settings.cache_dir, version, settings.maven_repository)
    home = distribution.unpack(archive, settings.cache_dir / "unpacked", version)
    output: Path = args.output_dir / f"keycloak-duo-bridge-extension-{__version__}.jar"
    print(extension.build(home, output))
    return 0
