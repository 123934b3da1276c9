"""Compile the Keycloak extension against the jars of the Keycloak it is deployed into.

``javac --release 17 -cp "$KC/lib/lib/main/*"`` and a plain zip: no Maven, no bundled
libraries, so the jar can never drift from the server's own API.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from keycloak_duo_bridge.errors import ExtensionBuildError, JdkNotFoundError
from keycloak_duo_bridge.resources import extension_sources
from keycloak_duo_bridge.sandbox.jdk import find_jdk

JAVA_RELEASE = "17"
JAR_NAME = "keycloak-duo-bridge-extension.jar"
# A fixed timestamp makes the jar byte-for-byte reproducible.
_EPOCH = (1980, 1, 1, 0, 0, 0)
_MANIFEST = "Manifest-Version: 1.0\r\nCreated-By: keycloak-duo-bridge\r\n\r\n"


def keycloak_jars(keycloak_home: Path) -> Path:
    """The directory of Keycloak's server jars, or a clear error when it is not there."""
    jars = keycloak_home / "lib" / "lib" / "main"
    if not jars.is_dir() or not any(jars.glob("org.keycloak.keycloak-server-spi-*.jar")):
        raise ExtensionBuildError(
            f"no Keycloak server jars in {jars}: --keycloak-home must be a Keycloak "
            "installation (the directory that holds bin/kc.sh)"
        )
    return jars


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


def _write_jar(output: Path, classes: Path, resources: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as jar:
        jar.writestr(zipfile.ZipInfo("META-INF/MANIFEST.MF", _EPOCH), _MANIFEST)
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
            f"{jars}/*",
            "-d",
            classes,
            *java_files,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ExtensionBuildError(
                f"javac failed (exit {result.returncode}):\n{result.stderr.strip()}"
            )
        _write_jar(output, Path(classes), sources / "src" / "main" / "resources")
    return output
