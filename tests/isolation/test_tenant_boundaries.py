"""Tenant boundaries against the real Keycloak: each attack of issue 12 is made, and refused.

The attacker acts with exactly the rights the attack assumes: a realm administrator writes
their own realm's attributes through Keycloak's admin API (here with the master admin, who
can do at least as much), a developer registers clients through Keycloak's client
registration endpoint, and a ``manage-clients`` admin edits a client's attributes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx2
import pytest
from keycloak import KeycloakAdmin

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import apps, duo_settings, explain, record, tenants, wiring
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.attributes import UsernameMapping
from keycloak_duo_bridge.console import admin as console_admin
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.sandbox.walk import Walk, WalkError, walk_login
from keycloak_duo_bridge.settings import Settings, key_ring
from tests.fixtures_bridge import APP_ID, PASSWORD, Bridge

pytestmark = pytest.mark.keycloak


@dataclass
class Family:
    """A partner holding Duo credentials, with Duo on, and client realms that inherit them."""

    partner: str
    clients: tuple[str, ...]
    integration: IntegrationCredentials
    settings: Settings
    emulator: RunningEmulator
    redirect_uri: str
    bridge: Bridge

    def login(self, realm: str, username: str) -> Walk:
        """Walk ``username``'s login to the demo application of ``realm``."""
        provision.ensure_user(self.settings, realm, username, PASSWORD)
        return walk_login(
            keycloak_url=self.settings.keycloak_url,
            realm=realm,
            client_id=APP_ID,
            redirect_uri=self.redirect_uri,
            username=username,
            password=PASSWORD,
            verify=tls_context(self.emulator.ca_path),
        )

    def duo_events(self, since: int) -> list[dict[str, object]]:
        """What the emulator saw after event number ``since``."""
        return [e for e in self.emulator.control.events() if int(e["seq"]) > since]

    def last_event(self) -> int:
        return max((int(e["seq"]) for e in self.emulator.control.events()), default=0)


@pytest.fixture
def family(
    admin_keycloak: Keycloak,
    stack_settings: Settings,
    bridge: Bridge,
    duo_emulator: RunningEmulator,
    app_redirect: str,
) -> Callable[..., Family]:
    """Make a partner with credentials and Duo on, and client realms that inherit both."""

    def make(*names: str) -> Family:
        suffix = uuid.uuid4().hex[:6]
        partner = f"fam-{suffix}"
        clients = tuple(f"{name}-{suffix}" for name in names)
        tenants.create_partner(admin_keycloak, partner)
        integration = duo_emulator.control.add_integration()
        duo_settings.set_credentials(
            admin_keycloak,
            partner,
            ikey=integration.client_id,
            skey=integration.client_secret,
            api_host=integration.api_host,
            ring=key_ring(stack_settings),
            health=None,
        )
        wires = wiring.Wiring.of(stack_settings, bridge.url)
        duo_settings.set_enabled(admin_keycloak, partner, enabled=True, wires=wires)
        for client in clients:
            tenants.create_client(admin_keycloak, client, partner=partner, wires=wires)
            provision.ensure_app(stack_settings, client, APP_ID, app_redirect)
        return Family(
            partner, clients, integration, stack_settings, duo_emulator, app_redirect, bridge
        )

    return make


def realm_admin(settings: Settings, realm: str) -> KeycloakAdmin:
    """Keycloak's admin API on ``realm``: what that realm's own administrator can call."""
    return KeycloakAdmin(
        server_url=settings.keycloak_url,
        username=settings.keycloak_admin_username,
        password=settings.keycloak_admin_password.get_secret_value(),
        realm_name=realm,
        user_realm_name="master",
    )


def test_item2_a_realm_claiming_a_partner_borrows_no_credentials(
    family: Callable[..., Family], keycloak_admin: KeycloakAdmin, admin_keycloak: Keycloak
) -> None:
    """evil names the partner, copies its wiring and a record: Duo never runs with its ikey."""
    fam = family("member")
    evil = f"evil-{uuid.uuid4().hex[:6]}"
    keycloak_admin.create_realm({"realm": evil, "enabled": True})
    partner_attributes = admin_keycloak.get_realm(fam.partner)["attributes"]
    member = admin_keycloak.get_realm(fam.clients[0])["attributes"]
    own = realm_admin(fam.settings, evil)
    # What evil's own admin can write: the claim, the public wiring, the record of a member.
    forged = {
        attr.TENANT_KIND: "client",
        attr.TENANT_PARTNER: fam.partner,
        attr.DUO_ENABLED: "true",
        attr.BRIDGE_URL: partner_attributes[attr.BRIDGE_URL],
        attr.BRIDGE_JWKS: partner_attributes[attr.BRIDGE_JWKS],
        attr.RESOLVED: member[attr.RESOLVED],
    }
    own.update_realm(evil, {"attributes": forged})
    own.connection.raw_post(
        f"admin/realms/{evil}/authentication/register-required-action",
        data=json.dumps({"providerId": attr.REQUIRED_ACTION, "name": attr.REQUIRED_ACTION_NAME}),
    )
    provision.ensure_app(fam.settings, evil, APP_ID, fam.redirect_uri)
    fam.emulator.control.set_user("alice", behavior="allow", enrolled=True)
    fam.emulator.control.set_user(f"{evil}:alice", behavior="allow", enrolled=True)
    before = fam.last_event()

    with pytest.raises(WalkError, match="misconfigured"):
        fam.login(evil, "alice")

    assert [e for e in fam.duo_events(before) if e["client_id"] == fam.integration.client_id] == []
    found = explain.explain(admin_keycloak, evil)
    assert found.effective.credentials.value is None
    assert not found.effective.linked
    assert any("does not list realm" in p for p in found.problems())
    # The partner's own clients are those it linked: evil is not among them.
    assert [t.name for t in tenants.clients_of(admin_keycloak, fam.partner)] == list(fam.clients)
    keycloak_admin.delete_realm(evil)


def test_item2_the_partner_link_is_proven_on_the_partners_side(
    family: Callable[..., Family], admin_keycloak: Keycloak
) -> None:
    """A client made by the admin service is named on its partner with its realm id."""
    fam = family("member")
    client = admin_keycloak.get_realm(fam.clients[0])
    partner = admin_keycloak.get_realm(fam.partner)["attributes"]
    assert partner[attr.TENANT_CLIENT_PREFIX + fam.clients[0]] == client["id"]
    effective = explain.effective_settings(admin_keycloak, fam.clients[0])
    assert effective.linked
    assert effective.credentials.value is not None
    assert effective.credentials.value.realm == fam.partner
    assert explain.record_state(admin_keycloak, fam.clients[0]) is record.RecordState.CURRENT


def test_item3_two_realms_sharing_a_partners_duo_never_share_a_duo_user(
    family: Callable[..., Family], admin_keycloak: Keycloak
) -> None:
    """north's carol enrols; south's carol reaches Duo as another user and cannot use it."""
    fam = family("north", "south")
    north, south = fam.clients
    fam.emulator.control.set_user(f"{north}:carol", behavior="allow", enrolled=True)
    before = fam.last_event()

    walk = fam.login(north, "carol")
    assert walk.id_claims["duo"]["result"] == "allow"
    names = {e["username"] for e in fam.duo_events(before) if e["kind"] == "authorize"}
    assert names == {f"{north}:carol"}

    before = fam.last_event()
    with pytest.raises(WalkError):
        fam.login(south, "carol")  # Duo asks south's carol to enrol: nothing of north's
    names = {e["username"] for e in fam.duo_events(before) if e["kind"] == "authorize"}
    assert names == {f"{south}:carol"}
    assert fam.emulator.control.user(f"{north}:carol")["enrolled"] is True

    shown = explain.explain(admin_keycloak, south, username="carol")
    assert shown.effective.username_mapping.value is UsernameMapping.REALM_QUALIFIED
    assert shown.duo_username == f"{south}:carol"


def test_item4_client_registration_cannot_carry_kdb_attributes(
    family: Callable[..., Family], admin_keycloak: Keycloak
) -> None:
    """With an initial access token, a client with kdb.duo.mode=off is refused, and so is an
    update that adds it with the client's own registration token."""
    fam = family("member")
    realm = fam.clients[0]
    own = realm_admin(fam.settings, realm)
    initial = own.connection.raw_post(
        f"admin/realms/{realm}/clients-initial-access", data=json.dumps({"count": 5})
    ).json()["token"]
    endpoint = f"{fam.settings.keycloak_url}/realms/{realm}/clients-registrations/default"
    headers = {"Authorization": f"Bearer {initial}"}
    rogue = {
        "clientId": "rogue",
        "redirectUris": [fam.redirect_uri],
        "publicClient": True,
        "attributes": {attr.LEGACY_APP_MODE: "off"},
    }
    with httpx2.Client() as http:
        refused = http.post(endpoint, json=rogue, headers=headers)
        assert refused.status_code == 403, refused.text
        assert "reserved" in refused.text
        assert admin_keycloak.find_client(realm, "rogue") is None

        plain = {k: v for k, v in rogue.items() if k != "attributes"}
        made = http.post(endpoint, json=plain, headers=headers)
        assert made.status_code == 201, made.text
        body = made.json()
        update = {**body, "attributes": {**body.get("attributes", {}), "kdb.duo.mode": "off"}}
        changed = http.put(
            f"{endpoint}/rogue",
            json=update,
            headers={"Authorization": f"Bearer {body['registrationAccessToken']}"},
        )
        assert changed.status_code == 403, changed.text
    client = admin_keycloak.find_client(realm, "rogue")
    assert client is not None
    assert attr.LEGACY_APP_MODE not in (client.get("attributes") or {})


def test_item4_a_client_attribute_no_longer_switches_duo_off(
    family: Callable[..., Family], admin_keycloak: Keycloak
) -> None:
    """A manage-clients admin sets kdb.duo.mode=off on an app: a Duo-denied user is still
    denied; the realm administrator's kdb.duo.apps is what switches an app off."""
    fam = family("member")
    realm = fam.clients[0]
    own = realm_admin(fam.settings, realm)
    uuid_ = own.get_client_id(APP_ID)
    assert uuid_ is not None
    own.update_client(uuid_, {"attributes": {attr.LEGACY_APP_MODE: "off"}})
    fam.emulator.control.set_user(f"{realm}:mallory", behavior="deny", enrolled=True)
    with pytest.raises(WalkError, match="Duo denied"):
        fam.login(realm, "mallory")

    apps.set_mode(admin_keycloak, realm, APP_ID, "off")
    walk = fam.login(realm, "mallory")
    assert "duo" not in walk.id_claims


def test_invalid_values_explain_and_keycloak_agree(
    family: Callable[..., Family], admin_keycloak: Keycloak
) -> None:
    """kdb.duo.enabled=TRUE written by hand: explain and the console ignore it, Keycloak's
    record is stale, and the login follows them (Duo from the partner runs), not the raw
    value; likewise when the partner switches Duo off by hand."""
    fam = family("member")
    realm = fam.clients[0]
    fam.emulator.control.set_user(f"{realm}:dora", behavior="deny", enrolled=True)
    own = realm_admin(fam.settings, realm)
    attributes = dict(admin_keycloak.get_realm(realm)["attributes"])
    own.update_realm(realm, {"attributes": {**attributes, attr.DUO_ENABLED: "TRUE"}})

    shown = explain.explain(admin_keycloak, realm)
    assert shown.effective.enabled.value is True  # from the partner; TRUE is ignored
    assert shown.record is record.RecordState.STALE
    assert any("kdb.duo.enabled" in p for p in shown.problems())
    console = console_admin.load_view(admin_keycloak, tenants.get_tenant(admin_keycloak, realm))
    assert {row.client_id: row.effect for row in console.apps}[APP_ID] == "Duo required"
    with pytest.raises(WalkError, match="Duo denied"):
        fam.login(realm, "dora")

    # The partner switches Duo off by hand too: explain says off, and Duo does not run.
    partner = dict(admin_keycloak.get_realm(fam.partner)["attributes"])
    realm_admin(fam.settings, fam.partner).update_realm(
        fam.partner, {"attributes": {**partner, attr.DUO_ENABLED: "false"}}
    )
    assert explain.explain(admin_keycloak, realm).decision.requires_duo is False
    console = console_admin.load_view(admin_keycloak, tenants.get_tenant(admin_keycloak, realm))
    assert {row.client_id: row.effect for row in console.apps}[APP_ID] != "Duo required"
    walk = fam.login(realm, "dora")
    assert walk.id_claims["duo"]["result"] == "skip"

    record.refresh(admin_keycloak, realm)
    assert explain.record_state(admin_keycloak, realm) is record.RecordState.CURRENT
