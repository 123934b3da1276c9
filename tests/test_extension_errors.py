"""Clear errors when the extension cannot be built: no Keycloak jars, no javac, no sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from keycloak_duo_bridge import extension
from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.errors import ExtensionBuildError


def fake_keycloak(root: Path) -> Path:
    jars = root / "lib" / "lib" / "main"
    jars.mkdir(parents=True)
    (jars / "org.keycloak.keycloak-server-spi-26.7.3.jar").write_bytes(b"")
    return root


def test_not_a_keycloak_home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A directory without Keycloak's server jars is refused with exit 1 and a one-line error."""
    assert main(["extension", "build", "--keycloak-home", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: no Keycloak server jars in {tmp_path}/lib/lib/main")
    assert err.count("\n") == 1


def test_javac_missing(tmp_path: Path) -> None:
    """Without any JDK or javac on PATH, the error says what to install."""
    with pytest.raises(ExtensionBuildError, match="javac not found: install a JDK 17"):
        extension.build(
            fake_keycloak(tmp_path), tmp_path / "x.jar", env={"PATH": str(tmp_path)}, search_dirs=[]
        )


def test_javac_from_path_when_no_jdk_found(tmp_path: Path) -> None:
    """A javac on PATH is used when no JDK home qualifies."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    javac = bin_dir / "javac"
    javac.write_text("#!/bin/sh\n")
    javac.chmod(0o755)
    assert extension.find_javac({"PATH": str(bin_dir)}, []) == javac


def test_jdk_without_javac_falls_back_to_path(tmp_path: Path) -> None:
    """A JRE-only home (java but no javac) is skipped in favour of javac on PATH."""
    jre = tmp_path / "jvm" / "jre-21"
    (jre / "bin").mkdir(parents=True)
    (jre / "bin" / "java").write_text("")
    (jre / "release").write_text('JAVA_VERSION="21"\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "javac").write_text("#!/bin/sh\n")
    (bin_dir / "javac").chmod(0o755)
    assert extension.find_javac({"PATH": str(bin_dir)}, [tmp_path / "jvm"]) == bin_dir / "javac"


def test_no_sources(tmp_path: Path) -> None:
    """A sources directory without Java files is refused."""
    with pytest.raises(ExtensionBuildError, match="no Java sources"):
        extension.build(fake_keycloak(tmp_path / "kc"), tmp_path / "x.jar", sources=tmp_path)


def test_keycloak_version_unknown(tmp_path: Path) -> None:
    """A server SPI jar without a version in its name is a clear build error."""
    jars = tmp_path / "lib" / "lib" / "main"
    jars.mkdir(parents=True)
    (jars / "org.keycloak.keycloak-server-spi-private-x.jar").write_bytes(b"")
    with pytest.raises(ExtensionBuildError, match="cannot tell the Keycloak version of"):
        extension.keycloak_version(tmp_path)
