"""User lookups refuse names Keycloak would refuse, before asking it."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge.admin import users
from keycloak_duo_bridge.errors import ConfigError


@pytest.mark.parametrize("name", ["", "a\x1eb", "x" * 256, "tab\there"])
def test_a_username_with_control_characters_is_refused(name: str) -> None:
    """Empty, overlong and control-character usernames are a ConfigError, with no call made."""
    with pytest.raises(ConfigError, match="username"):
        users.find_user(None, "realm", name)  # type: ignore[arg-type]
