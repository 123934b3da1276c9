"""Per-application switch, opt-in activation, explain and key rotation on the sandbox."""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from collections.abc import Iterator

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import apps, duo_settings, keys, record, tenants, users
from keycloak_duo_bridge.admin.duo_settings import Policy
from keycloak_duo_bridge.admin.explain import explain
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.keys import KeyState
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import ConfigError, NotFoundError
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak


@pytest.fixture
def tree(kc: Keycloak, names: Names) -> Iterator[tuple[str, str, str]]:
    """A partner with two clients, deleted afterwards."""
    p, a, b = names("p"), names("a"), names("b")
    tenants.create_partner(kc, p)
    tenants.create_client(kc, a, partner=p)
    tenants.create_client(kc, b, partner=p)
    yield p, a, b
    tenants.delete_tenant(kc, p, cascade=True)


def test_app_mode_by_client_id(
    kc: Keycloak, tree: tuple[str, str, str], writes: Counter[str]
) -> None:
    """Applications are named by clientId; setting the same mode again writes nothing."""
    a = tree[1]
    assert apps.set_mode(kc, a, "account", "off").written
    writes.clear()
    assert not apps.set_mode(kc, a, "account", "off").written
    assert not apps.set_mode(kc, a, "broker", "inherit").written
    assert sum(writes.values()) == 0
    listed = {app.client_id: app.mode.value for app in apps.list_apps(kc, a)}
    assert listed["account"] == "off"
    assert listed["broker"] == "inherit"
    with pytest.raises(NotFoundError, match="application 'nope' does not exist"):
        apps.set_mode(kc, a, "nope", "off")
    with pytest.raises(ConfigError, match="app mode"):
        apps.set_mode(kc, a, "account", "maybe")


def test_app_mode_across_a_partners_clients(kc: Keycloak, tree: tuple[str, str, str]) -> None:
    """--partner P --all-clients APP sets the mode in every client realm that has the app."""
    p, a, b = tree
    kc.delete_realm(b)
    tenants.create_client(kc, b, partner=p)
    results = apps.set_mode_across(kc, p, "account-console", "required")
    assert [(r.realm, r.mode, r.written) for r in results] == [
        (a, attr.AppMode.REQUIRED, True),
        (b, attr.AppMode.REQUIRED, True),
    ]
    with pytest.raises(NotFoundError, match="any client realm"):
        apps.set_mode_across(kc, p, "nope", "off")


def test_activation_survives_the_user_profile(
    kc: Keycloak, tree: tuple[str, str, str], writes: Counter[str]
) -> None:
    """Activation is a declared user-profile attribute, so Keycloak keeps it; idempotent."""
    a = tree[1]
    kc._admin.change_current_realm(a)
    kc._admin.create_user({"username": "alice", "enabled": True})
    assert users.set_activated(kc, a, "alice", activated=True)
    writes.clear()
    assert not users.set_activated(kc, a, "alice", activated=True)
    assert sum(writes.values()) == 0
    assert users.status(kc, a, "alice").activated
    assert users.set_activated(kc, a, "alice", activated=False)
    assert not users.status(kc, a, "alice").to_json()["activated"]
    with pytest.raises(NotFoundError, match="user 'bob' does not exist"):
        users.status(kc, a, "bob")


def test_explain_origins_and_decisions(
    kc: Keycloak, ring: KeyRing, tree: tuple[str, str, str]
) -> None:
    """explain shows origins, masks the skey, and gives each decision."""
    p, a, _ = tree
    duo_settings.set_credentials(
        kc, p, ikey="D" * 20, skey="z" * 40, api_host="h.example", ring=ring, health=None
    )
    assert explain(kc, a).decision.outcome.value == "realm off"
    record.store(kc, p, {attr.DUO_ENABLED: "true"})
    duo_settings.set_policy(kc, p, Policy(user_mode="opt-in", bypass_groups=["/staff"]))
    kc._admin.change_current_realm(a)
    uid = kc._admin.create_user({"username": "bob", "enabled": True})
    gid = str(kc._admin.create_group({"name": "staff"}))
    found = explain(kc, a, app="account", username="bob")
    assert found.decision.outcome.value == "not activated"
    rows = {name: (value, origin) for name, value, origin in found.rows()}
    assert rows["ikey"] == ("D" * 20, f"partner realm ({p})")
    assert rows["fail mode"] == ("closed", "default")
    assert "z" * 40 not in json.dumps(found.to_json())
    users.set_activated(kc, a, "bob", activated=True)
    assert explain(kc, a, username="bob").decision.outcome.value == "required"
    kc._admin.group_user_add(uid, gid)
    assert explain(kc, a, username="bob").decision.outcome.value == "bypassed by group"
    apps.set_mode(kc, a, "account", "off")
    assert explain(kc, a, app="account").decision.outcome.value == "app off"


def test_rotate_check_and_resume(
    kc: Keycloak, ring: KeyRing, tree: tuple[str, str, str], writes: Counter[str]
) -> None:
    """rotate re-encrypts under the active key once; check reports old, unknown, broken."""
    p, a, b = tree
    new_key = base64.b64encode(os.urandom(32)).decode()
    old_ring = ring
    new_ring = KeyRing(active="next", keys={**ring.keys, "next": base64.b64decode(new_key)})
    for realm in (p, a):
        duo_settings.set_credentials(
            kc,
            realm,
            ikey="D" * 20,
            skey="r" * 40,
            api_host="h.example",
            ring=old_ring,
            health=None,
        )
    mine = {p, a, b}
    states = {r.realm: r.state for r in keys.check(kc, new_ring) if r.realm in mine}
    assert states == {p: KeyState.OLD, a: KeyState.OLD}
    rotated = {r.realm: r.rotated for r in keys.rotate(kc, new_ring) if r.realm in mine}
    assert rotated == {p: True, a: True}
    assert (
        new_ring.decrypt(
            kc.get_realm(a)["attributes"][attr.DUO_SKEY], realm=a, attribute=attr.DUO_SKEY
        )
        == "r" * 40
    )
    writes.clear()
    assert not any(r.rotated for r in keys.rotate(kc, new_ring) if r.realm in mine)
    assert sum(writes.values()) == 0
    retired = KeyRing(active=old_ring.active, keys=dict(old_ring.keys))
    assert {r.state for r in keys.check(kc, retired) if r.realm in mine} == {KeyState.UNKNOWN}
    record.store(kc, b, {attr.DUO_SKEY: kc.get_realm(a)["attributes"][attr.DUO_SKEY]})
    record.store(kc, a, {attr.DUO_SKEY: "plainly-not-ours"})
    found = {r.realm: r.state for r in keys.rotate(kc, new_ring) if r.realm in mine}
    assert found == {p: KeyState.ACTIVE, a: KeyState.BROKEN, b: KeyState.BROKEN}
    assert not next(
        r for r in keys.check(kc, new_ring) if r.realm in mine and r.state is KeyState.BROKEN
    ).ok
