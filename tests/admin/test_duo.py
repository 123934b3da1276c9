"""Duo credentials (checked, encrypted), switch, policy and wiring on sandbox realms."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import duo_settings, record, tenants, wiring
from keycloak_duo_bridge.admin.duo_settings import Policy
from keycloak_duo_bridge.admin.explain import effective_settings
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from keycloak_duo_bridge.envelope import DecryptionError, KeyRing
from keycloak_duo_bridge.errors import ConfigError, DuoError
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak


@pytest.fixture
def partner(kc: Keycloak, names: Names) -> Iterator[tuple[str, str, str]]:
    """A partner with two clients, deleted afterwards."""
    p, a, b = names("p"), names("a"), names("b")
    tenants.create_partner(kc, p)
    tenants.create_client(kc, a, partner=p)
    tenants.create_client(kc, b, partner=p)
    yield p, a, b
    tenants.delete_tenant(kc, p, cascade=True)


def live(emulator: RunningEmulator) -> duo_settings.HealthCheck:
    return duo_settings.duo_health_check(emulator.ca_path, timeout=3, allow_any_host=True)


def test_set_checks_encrypts_and_is_idempotent(  # noqa: PLR0917
    kc: Keycloak,
    ring: KeyRing,
    duo_emulator: RunningEmulator,
    integration: IntegrationCredentials,
    partner: tuple[str, str, str],
    writes: Counter[str],
) -> None:
    """Verified credentials are stored with the skey sealed; the same again writes nothing."""
    a = partner[1]
    record.store(kc, a, {"custom.by.hand": "keep me"})
    args = {
        "ikey": integration.client_id,
        "skey": integration.client_secret,
        "api_host": integration.api_host,
        "ring": ring,
        "health": live(duo_emulator),
    }
    result = duo_settings.set_credentials(kc, a, **args)  # type: ignore[arg-type]
    assert (result.written, result.verification) == (True, "ok")
    stored = kc.get_realm(a)["attributes"]
    assert stored["custom.by.hand"] == "keep me"
    assert stored[attr.DUO_SKEY].startswith("kdb1:")
    assert integration.client_secret not in str(stored)
    assert (
        ring.decrypt(stored[attr.DUO_SKEY], realm=a, attribute=attr.DUO_SKEY)
        == integration.client_secret
    )
    writes.clear()
    assert not duo_settings.set_credentials(kc, a, **args).written  # type: ignore[arg-type]
    assert sum(writes.values()) == 0


def test_a_ciphertext_copied_to_another_realm_fails(
    kc: Keycloak, ring: KeyRing, partner: tuple[str, str, str]
) -> None:
    """The AAD binds the realm: the partner's sealed skey does not open in a client realm."""
    p, a, _ = partner
    duo_settings.set_credentials(
        kc, p, ikey="D" * 20, skey="s" * 40, api_host="h.example", ring=ring, health=None
    )
    sealed = kc.get_realm(p)["attributes"][attr.DUO_SKEY]
    record.store(kc, a, {attr.DUO_SKEY: sealed})
    with pytest.raises(DecryptionError, match="copied from another realm"):
        ring.decrypt(kc.get_realm(a)["attributes"][attr.DUO_SKEY], realm=a, attribute=attr.DUO_SKEY)


def test_invalid_client_refuses_with_duos_message(  # noqa: PLR0917
    kc: Keycloak,
    ring: KeyRing,
    duo_emulator: RunningEmulator,
    integration: IntegrationCredentials,
    partner: tuple[str, str, str],
    writes: Counter[str],
) -> None:
    """Duo's invalid_client refuses the save and shows Duo's message."""
    with pytest.raises(ConfigError, match="Duo rejected the credentials") as caught:
        duo_settings.set_credentials(
            kc,
            partner[0],
            ikey=integration.client_id,
            skey="w" * 40,
            api_host=integration.api_host,
            ring=ring,
            health=live(duo_emulator),
        )
    assert "client_assertion" in str(caught.value)
    assert sum(writes.values()) == 0


def test_unreachable_refuses_unless_allowed(  # noqa: PLR0917
    kc: Keycloak,
    ring: KeyRing,
    duo_emulator: RunningEmulator,
    integration: IntegrationCredentials,
    partner: tuple[str, str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unreachable Duo refuses; --allow-unverified saves and says so."""
    p = partner[0]
    duo_emulator.control.set_faults(health="error_500")
    args = {
        "ikey": integration.client_id,
        "skey": integration.client_secret,
        "api_host": integration.api_host,
        "ring": ring,
        "health": live(duo_emulator),
    }
    with pytest.raises(DuoError, match="nothing saved"):
        duo_settings.set_credentials(kc, p, **args)  # type: ignore[arg-type]
    assert attr.DUO_IKEY not in kc.get_realm(p)["attributes"]
    with caplog.at_level(logging.WARNING):
        result = duo_settings.set_credentials(kc, p, allow_unverified=True, **args)  # type: ignore[arg-type]
    assert result.verification.startswith("unverified")
    assert "unverified" in caplog.text


@pytest.mark.parametrize(
    ("ikey", "skey", "host", "message"),
    [
        ("short", "s" * 40, "h.example", "ikey"),
        ("D" * 20, "s" * 39, "h.example", "skey"),
        ("D" * 20, "s" * 40, "https://h.example", "API host"),
        ("D" * 20, "s" * 40, "h:99999", "API host"),
        ("D" * 20, "s" * 40, "-h", "API host"),
    ],
)
def test_shape_checks_come_first(ikey: str, skey: str, host: str, message: str) -> None:
    """ikey 20 characters, skey 40, host hostname[:port]; the skey is never echoed."""
    with pytest.raises(ConfigError, match=message) as caught:
        duo_settings.validate_credentials(ikey, skey, host, allow_any_host=True)
    assert skey not in str(caught.value)


def test_enable_wires_partner_and_inheriting_clients(
    kc: Keycloak, ring: KeyRing, wires: Wiring, partner: tuple[str, str, str], writes: Counter[str]
) -> None:
    """Enabling a partner wires it and its clients; again writes nothing; disabling removes it."""
    p, a, b = partner
    with pytest.raises(ConfigError, match="no Duo credentials"):
        duo_settings.set_enabled(kc, p, enabled=True, wires=wires)
    duo_settings.set_credentials(
        kc, p, ikey="D" * 20, skey="s" * 40, api_host="h.example", ring=ring, health=None
    )
    record.store(kc, a, {"custom.by.hand": "keep me"})
    assert duo_settings.set_enabled(kc, p, enabled=True, wires=wires) == [p, a, b]
    for realm in (p, a, b):
        assert wiring.is_wired(kc, realm)
    stored = kc.get_realm(a)["attributes"]
    assert stored[attr.BRIDGE_URL] == wires.bridge_url
    account = kc.find_client(a, "account")
    assert account is not None
    assert attr.CLIENT_SCOPE in [s["name"] for s in kc.get_client_default_scopes(a, account["id"])]
    assert attr.CLIENT_SCOPE in [s["name"] for s in kc.get_default_client_scopes(a)]
    writes.clear()
    duo_settings.set_enabled(kc, p, enabled=True, wires=wires)
    assert sum(writes.values()) == 0
    duo_settings.set_enabled(kc, a, enabled=False, wires=wires)
    assert not wiring.is_wired(kc, a)
    after = kc.get_realm(a)["attributes"]
    assert attr.BRIDGE_URL not in after
    assert after["custom.by.hand"] == "keep me"
    assert attr.REQUIRED_ACTION not in [r["alias"] for r in kc.get_required_actions(a)]
    duo_settings.set_enabled(kc, a, enabled=None, wires=wires)
    assert wiring.is_wired(kc, a)
    duo_settings.set_enabled(kc, p, enabled=False, wires=wires)
    assert not any(wiring.is_wired(kc, r) for r in (p, a, b))


def test_enable_repairs_a_half_wired_realm(
    kc: Keycloak, ring: KeyRing, wires: Wiring, partner: tuple[str, str, str]
) -> None:
    """A disabled required action or a scope missing from a client is fixed by a re-run."""
    p = partner[0]
    duo_settings.set_credentials(
        kc, p, ikey="D" * 20, skey="s" * 40, api_host="h.example", ring=ring, health=None
    )
    duo_settings.set_enabled(kc, p, enabled=True, wires=wires)
    action = next(r for r in kc.get_required_actions(p) if r["alias"] == attr.REQUIRED_ACTION)
    kc.update_required_action(p, attr.REQUIRED_ACTION, {**action, "enabled": False})
    scope = next(s for s in kc.get_client_scopes(p) if s["name"] == attr.CLIENT_SCOPE)
    account = kc.find_client(p, "account")
    assert account is not None
    kc.remove_client_default_scope(p, account["id"], scope["id"])
    kc.remove_default_client_scope(p, scope["id"])
    assert not wiring.is_wired(kc, p)
    duo_settings.set_enabled(kc, p, enabled=True, wires=wires)
    assert wiring.is_wired(kc, p)
    assert attr.CLIENT_SCOPE in [s["name"] for s in kc.get_client_default_scopes(p, account["id"])]


def test_client_scope_maps_the_session_notes_to_nested_claims() -> None:
    """The kdb-duo scope has one session-note mapper per note, claims nested under duo, and
    the extension's CIBA mapper, then Keycloak's amr mapper and the extension's acr/amr one."""
    scope = wiring.client_scope()
    claims = {
        m["config"]["user.session.note"]: m["config"]["claim.name"]
        for m in scope["protocolMappers"]
        if m["protocolMapper"] == "oidc-usersessionmodel-note-mapper"
    }
    others = [
        m["protocolMapper"]
        for m in scope["protocolMappers"]
        if m["protocolMapper"] != "oidc-usersessionmodel-note-mapper"
    ]
    assert others == [attr.CIBA_MAPPER, "oidc-amr-mapper", attr.ASSURANCE_MAPPER]
    assert claims == {
        attr.NOTE_RESULT: "duo.result",
        attr.NOTE_TIME: "duo.time",
        attr.NOTE_FACTOR: "duo.factor",
        attr.NOTE_TXID: "duo.txid",
        attr.NOTE_REASON: "duo.reason",
        attr.NOTE_IDP: "duo.idp",
        attr.NOTE_PROOF: "duo.proof",
    }


def test_policy_sets_inherits_and_validates(
    kc: Keycloak, partner: tuple[str, str, str], writes: Counter[str]
) -> None:
    """Policy values are validated, written once, and "inherit" unsets them."""
    p, a, _ = partner
    policy = Policy(user_mode="opt-in", fail_mode="open", remember="30", bypass_groups=["/staff"])
    assert duo_settings.set_policy(kc, p, policy)
    writes.clear()
    assert not duo_settings.set_policy(kc, p, policy)
    assert not duo_settings.set_policy(kc, p, Policy())
    assert sum(writes.values()) == 0
    duo_settings.set_policy(kc, a, Policy(user_mode="required"))
    e = effective_settings(kc, a)
    assert (e.user_mode.value, e.fail_mode.value, e.remember.value) == ("required", "open", 30)
    duo_settings.set_policy(
        kc,
        p,
        Policy(
            user_mode="inherit", fail_mode="inherit", remember="inherit", bypass_groups=["inherit"]
        ),
    )
    assert not any(
        k in kc.get_realm(p)["attributes"] for k in (attr.DUO_USER_MODE, attr.DUO_REMEMBER)
    )
    with pytest.raises(ConfigError, match="user mode"):
        duo_settings.set_policy(kc, p, Policy(user_mode="sometimes"))
    with pytest.raises(ConfigError, match="fail mode"):
        duo_settings.set_policy(kc, p, Policy(fail_mode="ajar"))
    with pytest.raises(ConfigError, match="group path"):
        duo_settings.set_policy(kc, p, Policy(bypass_groups=["staff"]))


def test_show_masks_and_clear_falls_back_to_partner(
    kc: Keycloak, ring: KeyRing, partner: tuple[str, str, str]
) -> None:
    """show never reveals the skey; clear makes a client use its partner's credentials."""
    p, a, _ = partner
    for realm in (p, a):
        duo_settings.set_credentials(
            kc, realm, ikey="D" * 20, skey="q" * 40, api_host="h.example", ring=ring, health=None
        )
    shown = duo_settings.show(kc, a)
    assert shown["skey"] == f"******** (encrypted, key {ring.active})"
    assert "q" * 40 not in str(shown)
    assert duo_settings.clear_credentials(kc, a)
    assert not duo_settings.clear_credentials(kc, a)
    creds = effective_settings(kc, a).credentials
    assert creds.realm == p
    assert duo_settings.mask(None) is None
    assert duo_settings.mask("garbage") == "******** (not in kdb1 format)"
