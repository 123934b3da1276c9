"""Fixtures for the fleet tests: the admin fixtures, and a count of every adapter write."""

from __future__ import annotations

from collections import Counter

import pytest

from keycloak_duo_bridge.admin.keycloak import Keycloak
from tests.admin.conftest import (  # noqa: F401 - fixtures shared with the admin tests
    admin_settings,
    cli,
    integration,
    kc,
    names,
    ring,
    sandbox_env,
)
from tests.keycloak_writes import write_methods


@pytest.fixture
def all_writes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts write calls on every adapter instance (apply opens one per worker thread)."""
    counts: Counter[str] = Counter()
    for name in write_methods():
        original = getattr(Keycloak, name)

        def spy(
            self: Keycloak, *args: object, _name: str = name, _original: object = original
        ) -> object:
            counts[_name] += 1
            return _original(self, *args)  # type: ignore[operator]

        monkeypatch.setattr(Keycloak, name, spy)
    return counts
