"""Input checks of the admin service that need no Keycloak."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge.admin import apps, users
from keycloak_duo_bridge.admin.effective import parse_user_mode
from keycloak_duo_bridge.errors import ConfigError


@pytest.mark.parametrize("name", ["", "a\x1eb", "x" * 256, "tab\there"])
def test_a_username_with_control_characters_is_refused(name: str) -> None:
    """Empty, overlong and control-character usernames are a ConfigError, with no call made."""
    with pytest.raises(ConfigError, match="username"):
        users.find_user(None, "realm", name)  # type: ignore[arg-type]


def test_long_invalid_values_are_not_quoted_back() -> None:
    """An invalid value is quoted when short, and only measured when long (a pasted skey)."""
    with pytest.raises(ConfigError, match="not 'sometimes'"):
        parse_user_mode("sometimes")
    with pytest.raises(ConfigError, match="not a value of 40 characters") as caught:
        parse_user_mode("s" * 40)
    assert "s" * 40 not in str(caught.value)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (None, None),
        ("", None),
        ("Demo app", "Demo app"),
        ("${client_account}", "Account"),
        ("${client_security-admin-console}", "Security Admin Console"),
        ("${client_my-portal}", "My Portal"),
        ("${}", None),
    ],
)
def test_application_names_are_readable(stored: str | None, shown: str | None) -> None:
    """Keycloak's ${message_key} client names show as the words its console shows."""
    assert apps.readable_name(stored) == shown
