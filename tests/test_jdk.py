"""Finding a JDK of at least Java 21."""

from __future__ import annotations

from pathlib import Path

import pytest

from keycloak_duo_bridge.errors import JdkNotFoundError
from keycloak_duo_bridge.jdk import Jdk, candidates, find_jdk, inspect, parse_release


def fake_jdk(root: Path, name: str, version: str, *, java: bool = True) -> Path:
    home = root / name
    (home / "bin").mkdir(parents=True)
    (home / "release").write_text(f'IMPLEMENTOR="Test"\nJAVA_VERSION="{version}"\n')
    if java:
        (home / "bin" / "java").write_text("#!/bin/sh\n")
    return home


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('JAVA_VERSION="25.0.3"', 25),
        ('A="b"\nJAVA_VERSION="21"\n', 21),
        ('JAVA_VERSION="1.8.0_402"', 8),
        ("nothing here", None),
    ],
)
def test_parse_release(text: str, expected: int | None) -> None:
    """The feature version is read from JAVA_VERSION, including the old 1.x scheme."""
    assert parse_release(text) == expected


def test_inspect_rejects_what_is_not_a_jdk(tmp_path: Path) -> None:
    """A directory without a release file, a version, or bin/java is not a JDK."""
    assert inspect(tmp_path / "missing") is None
    (tmp_path / "noversion").mkdir()
    (tmp_path / "noversion" / "release").write_text("X=1\n")
    assert inspect(tmp_path / "noversion") is None
    assert inspect(fake_jdk(tmp_path, "nojava", "21", java=False)) is None


def test_java_home_comes_first(tmp_path: Path) -> None:
    """JAVA_HOME is preferred over a newer JDK in the search dirs when it qualifies."""
    jvm = tmp_path / "jvm"
    fake_jdk(jvm, "temurin-25", "25.0.3")
    home = fake_jdk(tmp_path, "my-21", "21.0.5")
    jdk = find_jdk({"JAVA_HOME": str(home)}, [jvm])
    assert jdk == Jdk(home=home, version=21)
    assert jdk.java == home / "bin" / "java"
    assert jdk.javac == home / "bin" / "javac"


def test_too_old_java_home_falls_back_to_newest_in_search_dirs(tmp_path: Path) -> None:
    """A Java 17 JAVA_HOME is skipped; the newest JDK under the search dirs wins."""
    jvm = tmp_path / "jvm"
    fake_jdk(jvm, "a-21", "21")
    newest = fake_jdk(jvm, "b-25", "25")
    fake_jdk(jvm, "c-17", "17")
    (jvm / "README").write_text("not a jdk")
    old = fake_jdk(tmp_path, "java-17", "17.0.15")
    assert find_jdk({"JAVA_HOME": str(old)}, [jvm, tmp_path / "absent"]).home == newest


def test_symlinked_jdk_is_listed_once(tmp_path: Path) -> None:
    """A JDK reachable by a symlink (as Debian's are) appears once among the candidates."""
    jvm = tmp_path / "jvm"
    real = fake_jdk(jvm, "java-21", "21")
    (jvm / "java-1.21").symlink_to(real)
    assert candidates({"JAVA_HOME": str(real)}, [jvm]) == [Jdk(real, 21)]


def test_no_suitable_jdk_names_what_to_install(tmp_path: Path) -> None:
    """Without a JDK 21+, the error lists what was found and names a package to install."""
    fake_jdk(tmp_path, "java-17", "17.0.15")
    with pytest.raises(JdkNotFoundError) as caught:
        find_jdk({}, [tmp_path])
    message = str(caught.value)
    assert "Java 21 or newer" in message
    assert "(Java 17)" in message
    assert "openjdk-21-jdk-headless" in message


def test_no_jdk_at_all(tmp_path: Path) -> None:
    """With nothing found at all, the error says `none`."""
    with pytest.raises(JdkNotFoundError, match="found none"):
        find_jdk({"JAVA_HOME": ""}, [tmp_path])
