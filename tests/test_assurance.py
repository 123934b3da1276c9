"""The levels, acr names and amr values Duo earns (pure functions)."""

from __future__ import annotations

import json

import pytest

from keycloak_duo_bridge import assurance
from keycloak_duo_bridge.attributes import RememberMode


@pytest.mark.parametrize(
    ("factor", "amr"),
    [
        ("duo_push", ("mfa", "swk")),
        ("Duo_Mobile_Passcode", ("mfa", "otp")),
        ("sms_passcode", ("mfa", "sms", "otp")),
        ("phone_call", ("mfa", "tel")),
        ("yubikey_passcode", ("mfa", "hwk", "otp")),
        ("WebAuthn Chrome Touch ID", ("mfa", "hwk")),
        ("some_new_factor", ("mfa",)),
        ("remembered_device", ()),
        ("not_available", ()),
        ("", ()),
    ],
)
def test_a_factor_earns_its_rfc_8176_methods(factor: str, amr: tuple[str, ...]) -> None:
    """A live second factor earns mfa and its RFC 8176 value; an allow without one, nothing."""
    assert assurance.amr_for(factor) == amr


def test_the_levels_join_a_realm_map_and_replace_clashes() -> None:
    """Our two levels join the realm's acr map; entries naming either level or name go."""
    merged = json.loads(assurance.loa_map('{"gold": 2, "bronze": 0, "pwd": 5}'))
    assert merged == {"bronze": 0, "pwd": 1, "mfa": 2}


@pytest.mark.parametrize("existing", [None, "", "not json", "[1, 2]"])
def test_an_absent_or_unreadable_map_becomes_ours(existing: str | None) -> None:
    """Without a readable map, the realm gets exactly pwd 1 and mfa 2."""
    assert json.loads(assurance.loa_map(existing)) == {"pwd": 1, "mfa": 2}


def test_remember_sets_how_long_level_2_lasts() -> None:
    """Once per session lasts a session; every login, not at all; minutes, that long."""
    assert assurance.duo_level_max_age(RememberMode.SESSION) == assurance.SESSION_MAX_AGE
    assert assurance.duo_level_max_age(RememberMode.EVERY_LOGIN) == 0
    assert assurance.duo_level_max_age(30) == 1800
