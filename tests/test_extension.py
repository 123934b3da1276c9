"""Building the extension jar against a Keycloak installation's own jars."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from keycloak_duo_bridge import __version__, extension, versions
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
    """The jar has our classes, our page template, the service registration and a manifest:
    no third-party code."""
    jar = extension.build(keycloak_home, tmp_path / "out" / "ext.jar")
    with zipfile.ZipFile(jar) as archive:
        names = archive.namelist()
        services = archive.read(
            "META-INF/services/org.keycloak.authentication.RequiredActionFactory"
        ).decode()
    assert names[0] == "META-INF/MANIFEST.MF"
    ours = ("org/keycloakduobridge/", "META-INF/", "theme-resources/templates/duo-")
    others = [n for n in names if not n.startswith(ours)]
    assert others == []
    assert "theme-resources/templates/duo-refused.ftl" in names  # our refusal page
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
    (home / "lib" / "lib" / "boot").symlink_to(keycloak_home / "lib" / "lib" / "boot")
    assert main(["extension", "build", "--keycloak-home", str(home)]) == 0
    expected = home / "providers" / extension.JAR_NAME
    assert capsys.readouterr().out == f"{expected}\n"
    assert expected.is_file()


def test_resources_come_from_the_checkout() -> None:
    """From a source checkout, the Java sources and templates are the top-level directories."""
    assert (extension_sources() / "src" / "main" / "java").is_dir()
    assert realm_templates().name == "realm_templates"


def test_manifest_and_build_record_name_the_keycloak_and_the_range(
    keycloak_home: Path, keycloak_sandbox: SandboxKeycloak, tmp_path: Path
) -> None:
    """The manifest and build.properties carry the version, the Keycloak and the range."""
    version = keycloak_sandbox.settings.keycloak_version
    assert extension.keycloak_version(keycloak_home) == version
    jar = extension.build(keycloak_home, tmp_path / "ext.jar")
    with zipfile.ZipFile(jar) as archive:
        manifest = archive.read("META-INF/MANIFEST.MF").decode()
        record = archive.read(extension.BUILD_PROPERTIES).decode()
    assert manifest.split("\r\n")[2:] == [
        "Implementation-Title: keycloak-duo-bridge-extension",
        f"Implementation-Version: {__version__}",
        f"Keycloak-Built-Against: {version}",
        "Keycloak-Supported-Min: 26.4",
        "Keycloak-Supported-Max: 26.7",
        "",
        "",
    ]
    assert record.splitlines() == [
        f"version={__version__}",
        f"keycloak-built-against={version}",
        "keycloak-supported-min=26.4",
        "keycloak-supported-max=26.7",
    ]


def test_cli_warns_about_a_keycloak_outside_the_range(
    keycloak_home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`extension build` still builds for an unsupported Keycloak, and says it will not start."""
    monkeypatch.setattr(versions, "SUPPORTED_MAX", "26.3")
    output = tmp_path / "old.jar"
    assert (
        main(["extension", "build", "--keycloak-home", str(keycloak_home), "--output", str(output)])
        == 0
    )
    captured = capsys.readouterr()
    assert captured.err.startswith("warning: Keycloak 26.")
    assert "outside the supported range 26.4 to 26.3; the extension will refuse" in captured.err
    assert output.is_file()


def test_cli_release_builds_against_a_fetched_keycloak(
    keycloak_sandbox: SandboxKeycloak,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`extension release` compiles against the given release from the cache into DIR."""
    settings = keycloak_sandbox.settings
    version = settings.keycloak_version
    cache = tmp_path / "cache"
    cache.mkdir()
    for suffix in ("zip", "zip.sha1"):
        name = f"keycloak-quarkus-dist-{version}.{suffix}"
        (cache / name).symlink_to(settings.cache_dir / name)
    monkeypatch.setenv("KDB_CACHE_DIR", str(cache))
    argv = ["extension", "release", "--output-dir", str(tmp_path / "dist")]
    assert main([*argv, "--keycloak-version", version]) == 0
    jar = tmp_path / "dist" / f"keycloak-duo-bridge-extension-{__version__}.jar"
    assert capsys.readouterr().out == f"{jar}\n"
    with zipfile.ZipFile(jar) as archive:
        assert f"Keycloak-Built-Against: {version}" in archive.read("META-INF/MANIFEST.MF").decode()
