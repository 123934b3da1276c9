"""Building the extension jar against a Keycloak installation's own jars."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from keycloak_duo_bridge import extension
from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.errors import ExtensionBuildError
from keycloak_duo_bridge.resources import extension_sources, realm_templates
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak

pytestmark = pytest.mark.keycloak


@pytest.fixture(scope="module")
def keycloak_home(keycloak_sandbox: SandboxKeycloak) -> Path:
    """The sandbox's unpacked Keycloak 26.7.3."""
    return keycloak_sandbox.home


def test_jar_holds_only_our_classes(keycloak_home: Path, tmp_path: Path) -> None:
    """The jar has our classes, the service registration and a manifest: no third-party code."""
    jar = extension.build(keycloak_home, tmp_path / "out" / "ext.jar")
    with zipfile.ZipFile(jar) as archive:
        names = archive.namelist()
        services = archive.read(
            "META-INF/services/org.keycloak.authentication.RequiredActionFactory"
        ).decode()
    assert names[0] == "META-INF/MANIFEST.MF"
    others = [n for n in names if not n.startswith(("org/keycloakduobridge/", "META-INF/"))]
    assert others == []
    assert "org/keycloakduobridge/DuoStepUpRequiredActionFactory.class" in names
    assert services.strip() == "org.keycloakduobridge.DuoStepUpRequiredActionFactory"


def test_jar_targets_java_17(keycloak_home: Path, tmp_path: Path) -> None:
    """Every class is compiled for Java 17 (class file major version 61)."""
    jar = extension.build(keycloak_home, tmp_path / "ext.jar")
    with zipfile.ZipFile(jar) as archive:
        classes = [n for n in archive.namelist() if n.endswith(".class")]
        majors = {int.from_bytes(archive.read(n)[6:8], "big") for n in classes}
    assert majors == {61}


def test_build_is_reproducible(keycloak_home: Path, tmp_path: Path) -> None:
    """Two builds of the same sources give byte-identical jars."""
    first = extension.build(keycloak_home, tmp_path / "a.jar").read_bytes()
    second = extension.build(keycloak_home, tmp_path / "b.jar").read_bytes()
    assert first == second


def test_cli_prints_the_jar_path(
    keycloak_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`extension build` prints where it wrote the jar."""
    output = tmp_path / "cli.jar"
    assert (
        main(["extension", "build", "--keycloak-home", str(keycloak_home), "--output", str(output)])
        == 0
    )
    assert capsys.readouterr().out == f"{output}\n"
    assert output.is_file()


def test_compile_errors_are_reported(keycloak_home: Path, tmp_path: Path) -> None:
    """A javac failure becomes an ExtensionBuildError carrying javac's message."""
    sources = tmp_path / "src"
    shutil.copytree(extension_sources(), sources)
    broken = next((sources / "src" / "main" / "java").rglob("DuoStepUpRequiredAction.java"))
    broken.write_text(broken.read_text() + "\nthis is not java\n")
    with pytest.raises(ExtensionBuildError, match=r"javac failed \(exit 1\)"):
        extension.build(keycloak_home, tmp_path / "x.jar", sources=sources)
    assert not (tmp_path / "x.jar").exists()


def test_cli_default_output_goes_to_providers(
    tmp_path: Path, keycloak_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --output the jar goes into the installation's providers/ directory."""
    home = tmp_path / "kc"
    (home / "lib" / "lib").mkdir(parents=True)
    (home / "lib" / "lib" / "main").symlink_to(keycloak_home / "lib" / "lib" / "main")
    assert main(["extension", "build", "--keycloak-home", str(home)]) == 0
    expected = home / "providers" / extension.JAR_NAME
    assert capsys.readouterr().out == f"{expected}\n"
    assert expected.is_file()


def test_resources_come_from_the_checkout() -> None:
    """From a source checkout, the Java sources and templates are the top-level directories."""
    assert (extension_sources() / "src" / "main" / "java").is_dir()
    assert realm_templates().name == "realm_templates"
