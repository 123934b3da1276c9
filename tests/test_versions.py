"""The supported Keycloak range: by minor version, inclusive at both ends."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge import versions


@pytest.mark.parametrize("version", ["26.4.0", "26.4.7", "26.5", "26.6.1", "26.7.3", "26.7.99"])
def test_every_patch_of_a_supported_minor_is_supported(version: str) -> None:
    """Any patch of 26.4 to 26.7 is in the range."""
    assert versions.is_supported(version)


@pytest.mark.parametrize("version", ["26.3.5", "26.8.0", "27.0.0", "25.0.6", "999.0.0-SNAPSHOT"])
def test_other_releases_are_not(version: str) -> None:
    """Releases before or after the range are outside it."""
    assert not versions.is_supported(version)


@pytest.mark.parametrize("version", ["", "26", "nightly", "26.x.1"])
def test_text_that_is_no_version_is_not_supported(version: str) -> None:
    """Text without a major and minor number is never supported."""
    assert versions.minor(version) is None
    assert not versions.is_supported(version)


def test_a_broken_range_supports_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A range bound that is not a version admits no release, rather than every one."""
    monkeypatch.setattr(versions, "SUPPORTED_MAX", "latest")
    assert not versions.is_supported("26.5.6")


def test_the_tested_releases_lie_in_the_range() -> None:
    """The smoke runs one release of each served minor, oldest first, all in the range."""
    assert all(versions.is_supported(v) for v in versions.TESTED)
    assert [versions.minor(v) for v in versions.TESTED] == [(26, 4), (26, 5), (26, 7)]
    assert versions.supported_range() == "26.4 to 26.7"
