"""Find a Java runtime of at least the version Keycloak needs.

``JAVA_HOME`` wins when it qualifies; then every JDK under the search dirs, newest first.
The version is read from the JDK's ``release`` file, so no process is started.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from keycloak_duo_bridge.errors import JdkNotFoundError

MINIMUM_JAVA = 21
_VERSION = re.compile(r'^JAVA_VERSION="(?:1\.)?(\d+)', re.MULTILINE)


@dataclass(frozen=True)
class Jdk:
    """A Java installation and its feature version (17, 21, 25, ...)."""

    home: Path
    version: int

    @property
    def java(self) -> Path:
        return self.home / "bin" / "java"

    @property
    def javac(self) -> Path:
        return self.home / "bin" / "javac"


def parse_release(text: str) -> int | None:
    """The feature version from the text of a JDK ``release`` file, or None."""
    match = _VERSION.search(text)
    return int(match.group(1)) if match else None


def inspect(home: Path) -> Jdk | None:
    """The JDK at ``home``, or None when it is not one (no ``release`` or no ``bin/java``)."""
    try:
        version = parse_release((home / "release").read_text(encoding="utf-8"))
    except OSError:
        return None
    if version is None or not (home / "bin" / "java").is_file():
        return None
    return Jdk(home=home, version=version)


def candidates(env: Mapping[str, str], search_dirs: Iterable[Path]) -> list[Jdk]:
    """Every JDK found: ``JAVA_HOME`` first, then the search dirs, newest version first."""
    found: list[Jdk] = []
    java_home = env.get("JAVA_HOME")
    if java_home:
        jdk = inspect(Path(java_home))
        if jdk is not None:
            found.append(jdk)
    scanned: list[Jdk] = []
    for directory in search_dirs:
        if directory.is_dir():
            for child in sorted(directory.iterdir()):
                jdk = inspect(child.resolve())
                if jdk is not None and jdk not in scanned and jdk not in found:
                    scanned.append(jdk)
    scanned.sort(key=lambda jdk: jdk.version, reverse=True)
    return found + scanned


def find_jdk(
    env: Mapping[str, str], search_dirs: Iterable[Path], minimum: int = MINIMUM_JAVA
) -> Jdk:
    """The first JDK of at least ``minimum``, or a clear error naming what to install."""
    search_dirs = list(search_dirs)
    seen = candidates(env, search_dirs)
    for jdk in seen:
        if jdk.version >= minimum:
            return jdk
    found = ", ".join(f"{jdk.home} (Java {jdk.version})" for jdk in seen) or "none"
    where = ", ".join(str(d) for d in search_dirs)
    raise JdkNotFoundError(
        f"Keycloak needs Java {minimum} or newer; found {found} (looked at JAVA_HOME and {where}). "
        f"Install one, e.g. `apt-get install openjdk-{minimum}-jdk-headless` or a Temurin JDK, "
        "and set JAVA_HOME to it."
    )
