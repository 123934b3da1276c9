"""Compile the Keycloak extension against the jars of the Keycloak it is deployed into.

``javac --release 17 -cp "$KC/lib/lib/main/*"`` and a plain zip: no Maven, no bundled
libraries, so the jar can never drift from the server's own API.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from keycloak_duo_bridge import __version__, versions
from keycloak_duo_bridge.errors import ExtensionBuildError, JdkNotFoundError
from keycloak_duo_bridge.jdk import find_jdk
from keycloak_duo_bridge.resources import extension_sources

JAVA_RELEASE = "17"
JAR_NAME = "keycloak-duo-bridge-extension.jar"
# A fixed timestamp makes the jar byte-for-byte reproducible.
_EPOCH = (1980, 1, 1, 0, 0, 0)
_SERVER_SPI = re.compile(r"org\.keycloak\.keycloak-server-spi-(\d.*)\.jar")
# Read by the extension at startup (BuildInfo.java), next to its classes.
BUILD_PROPERTIES = "org/keycloakduobridge/build.properties"


def keycloak_jars(keycloak_home: Path) -> Path:
    """The directory of Keycloak's server jars, or a clear error when it is not there."""
    jars = keycloak_home / "lib" / "lib" / "main"
    if not jars.is_dir() or not any(jars.glob("org.keycloak.keycloak-server-spi-*.jar")):
        raise ExtensionBuildError(
            f"no Keycloak server jars in {jars}: --keycloak-home must be a Keycloak "
            "installation (the directory that holds bin/kc.sh)"
        )
    return jars


def keycloak_version(keycloak_home: Path) -> str:
    """The Keycloak release of an installation, from its server SPI jar's name."""
    for jar in sorted(keycloak_jars(keycloak_home).glob("org.keycloak.keycloak-server-spi-*.jar")):
        match = _SERVER_SPI.fullmatch(jar.name)
        if match:  # not ...-server-spi-private-<v>.jar
            return match.group(1)
    raise ExtensionBuildError(f"cannot tell the Keycloak version of {keycloak_home}")


def build_record(built_against: str) -> dict[str, str]:
    """What the jar records about its build: its version, its Keycloak, the supported range."""
    return {
        "version": __version__,
        "keycloak-built-against": built_against,
        "keycloak-supported-min": versions.SUPPORTED_MIN,
        "keycloak-supported-max": versions.SUPPORTED_MAX,
    }


def manifest(record: dict[str, str]) -> str:
    lines = [
        "Manifest-Version: 1.0",
        "Created-By: keycloak-duo-bridge",
        "Implementation-Title: keycloak-duo-bridge-extension",
        f"Implementation-Version: {record['version']}",
        f"Keycloak-Built-Against: {record['keycloak-built-against']}",
        f"Keycloak-Supported-Min: {record['keycloak-supported-min']}",
        f"Keycloak-Supported-Max: {record['keycloak-supported-max']}",
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


def find_javac(env: Mapping[str, str], search_dirs: Iterable[Path]) -> Path:
    """A javac that can target Java 17: the sandbox JDK's first, then the one on PATH."""
    try:
        javac = find_jdk(env, search_dirs, minimum=int(JAVA_RELEASE)).javac
        if javac.is_file():
            return javac
    except JdkNotFoundError:
        pass
    on_path = shutil.which("javac", path=env.get("PATH"))
    if on_path is None:
        raise ExtensionBuildError(
            "javac not found: install a JDK 17 or newer "
            "(e.g. `apt-get install openjdk-17-jdk-headless`) or set JAVA_HOME"
        )
    return Path(on_path)


def _write_jar(output: Path, classes: Path, resources: Path, record: dict[str, str]) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".part")
    properties = "".join(f"{name}={value}\n" for name, value in record.items())
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as jar:
        jar.writestr(zipfile.ZipInfo("META-INF/MANIFEST.MF", _EPOCH), manifest(record))
        jar.writestr(zipfile.ZipInfo(BUILD_PROPERTIES, _EPOCH), properties)
        for root in (classes, resources):
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                name = path.relative_to(root).as_posix()
                if name == "META-INF/MANIFEST.MF":
                    continue
                jar.writestr(zipfile.ZipInfo(name, _EPOCH), path.read_bytes())
    partial.replace(output)


def build(
    keycloak_home: Path,
    output: Path,
    *,
    env: Mapping[str, str] | None = None,
    search_dirs: Iterable[Path] = (Path("/usr/lib/jvm"),),
    sources: Path | None = None,
) -> Path:
    """Compile the extension against ``keycloak_home`` and write the jar to ``output``."""
    env = os.environ if env is None else env
    jars = keycloak_jars(keycloak_home)
    record = build_record(keycloak_version(keycloak_home))
    # Keycloak's own logging API (org.jboss.logging) ships in lib/lib/boot.
    classpath = os.pathsep.join(
        f"{d}/*" for d in (jars, keycloak_home / "lib" / "lib" / "boot") if d.is_dir()
    )
    sources = extension_sources() if sources is None else sources
    java_files = sorted(str(p) for p in (sources / "src" / "main" / "java").rglob("*.java"))
    if not java_files:
        raise ExtensionBuildError(f"no Java sources under {sources}")
    javac = find_javac(env, search_dirs)
    with tempfile.TemporaryDirectory(prefix="kdb-javac-") as classes:
        command = [
            str(javac),
            "--release",
            JAVA_RELEASE,
            "-encoding",
            "UTF-8",
            "-Xlint:all,-options,-processing",
            "-cp",
            classpath,
            "-d",
            classes,
            *java_files,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ExtensionBuildError(
                f"javac failed (exit {result.returncode}):\n{result.stderr.strip()}"
            )
        _write_jar(output, Path(classes), sources / "src" / "main" / "resources", record)
    return output
