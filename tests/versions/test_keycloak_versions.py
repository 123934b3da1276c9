"""The version smoke: each supported Keycloak release builds the extension, starts it and
walks Duo logins through a bridge and the emulator (allow, deny, SSO, kc_action, groups,
step-up, and brokered logins over OIDC and SAML).

The session's sandbox (26.7.3) serves its own release; every other tested release gets one
Keycloak of its own for the module, started once and stopped before the next.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from keycloak import KeycloakAdmin

from keycloak_duo_bridge import __version__, versions
from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import duo_settings, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.sandbox.walk import WalkError, browser_like_client
from keycloak_duo_bridge.settings import Settings, load_settings
from tests.fixtures_bridge import (
    APP2_ID,
    TenantFactory,
    run_bridge,
    settings_for,
    tenant_factory,
)
from tests.fixtures_federation import BrokerWalkError, Protocol, broker
from tests.fixtures_sandbox import say
from tests.restart_helpers import walk, went_to_duo

pytestmark = [pytest.mark.keycloak, pytest.mark.versions]


@dataclass
class Release:
    """One Keycloak release with the extension, a bridge on it, and a way to make tenants."""

    version: str
    keycloak: SandboxKeycloak
    tenant: TenantFactory


@pytest.fixture(scope="module", params=versions.TESTED)
def release(
    request: pytest.FixtureRequest,
    sandbox_settings: Settings,
    duo_emulator: RunningEmulator,
    app_redirect: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Release]:
    """Keycloak of this release, ready, with a bridge; the session sandbox for its own."""
    version: str = request.param
    config = request.config
    if version == sandbox_settings.keycloak_version:
        make = tenant_factory(
            request.getfixturevalue("admin_keycloak"),
            request.getfixturevalue("stack_settings"),
            request.getfixturevalue("bridge"),
            duo_emulator,
            app_redirect,
        )
        yield Release(version, request.getfixturevalue("keycloak_sandbox"), make)
        return
    settings = load_settings(
        state_dir=tmp_path_factory.mktemp(f"keycloak-{version}"),
        keycloak_version=version,
        sandbox_http_port=free_port(),
        sandbox_management_port=free_port(),
    )
    keycloak = SandboxKeycloak(settings)
    started = time.monotonic()
    try:
        keycloak.up(progress=lambda message: say(config, message))
        stack = settings_for(keycloak, duo_emulator)
        bridge = run_bridge(stack)
        with bridge.server:
            make = tenant_factory(
                Keycloak.from_settings(stack), stack, bridge, duo_emulator, app_redirect
            )
            yield Release(version, keycloak, make)
    finally:
        keycloak.down()
        say(config, f"Keycloak {version} smoke took {time.monotonic() - started:.0f} s")


def test_the_extension_logs_its_version_and_keycloaks(release: Release) -> None:
    """At startup the extension logs its version, the server's and the build's Keycloak."""
    log = release.keycloak.log_file.read_text(encoding="utf-8", errors="replace")
    assert (
        f"keycloak-duo-bridge extension {__version__} on Keycloak {release.version} "
        f"(built against Keycloak {release.version}, supports {versions.supported_range()})"
    ) in log


def test_duo_login_sso_and_kc_action(release: Release) -> None:
    """Duo allows the login; SSO to a second app needs no prompt; kc_action prompts again."""
    tenant = release.tenant()
    tenant.user("alice")
    with browser_like_client(tls_context(tenant.emulator.ca_path)) as client:
        first = walk(tenant, "alice", client)
        assert went_to_duo(tenant, first)
        assert first.id_claims["duo"]["result"] == "allow"
        second = walk(tenant, "alice", client, client_id=APP2_ID)
        assert not went_to_duo(tenant, second)
        again = walk(tenant, "alice", client, kc_action="duo-step-up")
        assert went_to_duo(tenant, again)
        assert again.returned["kc_action_status"] == "success"


def test_a_denied_user_is_refused(release: Release) -> None:
    """A user Duo denies gets Keycloak's error page and no code."""
    tenant = release.tenant()
    tenant.user("dan", behavior="deny")
    with (
        browser_like_client(tls_context(tenant.emulator.ca_path)) as client,
        pytest.raises(WalkError, match="Duo denied the sign-in"),
    ):
        walk(tenant, "dan", client)


def test_group_paths_from_the_parent_chain(release: Release) -> None:
    """A subgroup of a bypass group is bypassed; a group named "ops/oncall" is not."""
    tenant = release.tenant(bypass_groups=["/ops"])
    admin = tenant.admin()
    ops = admin.create_group({"name": "ops"})
    oncall = admin.create_group({"name": "oncall"}, parent=ops)
    lookalike = admin.create_group({"name": "ops/oncall"})
    admin.group_user_add(tenant.user("olga", behavior="deny"), str(oncall))
    admin.group_user_add(tenant.user("oscar", behavior="deny"), str(lookalike))
    with browser_like_client(tls_context(tenant.emulator.ca_path)) as client:
        assert not went_to_duo(tenant, walk(tenant, "olga", client))
    with (
        browser_like_client(tls_context(tenant.emulator.ca_path)) as client,
        pytest.raises(WalkError, match="Duo denied the sign-in"),
    ):
        walk(tenant, "oscar", client)


def test_the_admin_service_account_creates_tenants(release: Release) -> None:
    """The admin service's own service account, with the roles docs/deploy.md lists,
    creates a partner and a client and grants the bridge's reader view-realm of each (on
    26.5 a token from before the realm existed lacked its roles)."""
    env = release.keycloak.environment()
    master = KeycloakAdmin(
        server_url=env["KDB_KEYCLOAK_URL"],
        username=env["KDB_KEYCLOAK_ADMIN_USERNAME"],
        password=env["KDB_KEYCLOAK_ADMIN_PASSWORD"],
        realm_name="master",
    )
    suffix = uuid.uuid4().hex[:8]

    def service_client(client_id: str) -> tuple[str, str]:
        made = master.create_client(
            {"clientId": client_id, "publicClient": False, "serviceAccountsEnabled": True}
        )
        return made, str(master.get_client_secrets(made)["value"])

    admin_uuid, admin_secret = service_client(f"kdb-admin-{suffix}")
    account = master.get_client_service_account_user(admin_uuid)["id"]
    master.assign_realm_roles(account, [master.get_realm_role("create-realm")])
    master_realm = master.get_client_id("master-realm")
    assert master_realm is not None
    wanted = {"view-clients", "query-clients", "view-users", "query-users", "manage-users"}
    roles = [r for r in master.get_client_roles(master_realm) if r["name"] in wanted]
    master.assign_client_role(account, master_realm, roles)
    reader_uuid, _ = service_client(f"kdb-reader-{suffix}")
    reader = master.get_client_service_account_user(reader_uuid)["id"]
    keycloak = Keycloak.from_settings(
        load_settings(
            keycloak_url=env["KDB_KEYCLOAK_URL"],
            keycloak_admin_client_id=f"kdb-admin-{suffix}",
            keycloak_admin_client_secret=admin_secret,
            bridge_client_id=f"kdb-reader-{suffix}",
        )
    )
    partner, client = f"sp-{suffix}", f"sc-{suffix}"
    tenants.create_partner(keycloak, partner)
    tenants.create_client(keycloak, client, partner=partner)
    for realm in (partner, client):
        realm_client = master.get_client_id(f"{realm}-realm")
        assert realm_client is not None
        granted = master.get_client_roles_of_user(reader, realm_client)
        assert [role["name"] for role in granted] == ["view-realm"], realm


def test_step_up_by_acr_values_with_acr_and_amr(release: Release) -> None:
    """In a step-up realm, a password login is acr pwd; acr_values=mfa in that SSO session
    goes to Duo and comes back acr mfa with Duo's methods in amr; a deny yields no code."""
    tenant = release.tenant()
    keycloak = Keycloak.from_settings(tenant.settings)
    published = keycloak.get_realm(tenant.realm)["attributes"]
    wires = Wiring(published[attr.BRIDGE_URL], published[attr.BRIDGE_JWKS])
    duo_settings.set_enabled(keycloak, tenant.realm, enabled=True, wires=wires, assurance="step-up")
    tenant.user("sam")
    with browser_like_client(tls_context(tenant.emulator.ca_path)) as client:
        plain = walk(tenant, "sam", client)
        assert not went_to_duo(tenant, plain)
        assert (plain.id_claims["acr"], plain.id_claims["amr"]) == ("pwd", ["pwd"])
        stepped = walk(tenant, "sam", client, acr_values="mfa")
        assert went_to_duo(tenant, stepped)
        assert stepped.id_claims["acr"] == "mfa"
        assert {"pwd", "mfa", "swk"} <= set(stepped.id_claims["amr"])
    tenant.user("sid", behavior="deny")
    with (
        browser_like_client(tls_context(tenant.emulator.ca_path)) as client,
        pytest.raises(WalkError, match="Duo denied the sign-in"),
    ):
        walk(tenant, "sid", client, acr_values="mfa")


@pytest.mark.parametrize("protocol", ["oidc", "saml"])
def test_a_brokered_login_passes_duo_as_its_idp_name(release: Release, protocol: Protocol) -> None:
    """A partner user brokered in over OIDC or SAML passes Duo under the IdP's name for them,
    and Duo's deny yields no code."""
    tenant = release.tenant()
    settings = release.keycloak.settings
    master = KeycloakAdmin(
        server_url=release.keycloak.url,
        username=settings.sandbox_admin_username,
        password=settings.sandbox_admin_password.get_secret_value(),
        realm_name="master",
        user_realm_name="master",
    )
    fed = broker(tenant, master, protocol)
    try:
        fed.partner_user("pat")
        duo_name = fed.duo_name("pat")
        tenant.emulator.control.set_user(duo_name, behavior="allow", enrolled=True)
        before = fed.last_event()
        walked = fed.login("pat")
        assert walked.duo_hop
        assert walked.id_claims["duo"]["result"] == "allow"
        assert fed.duo_names(before) == [duo_name]
        tenant.emulator.control.set_user(duo_name, behavior="deny", enrolled=True)
        with pytest.raises(BrokerWalkError, match="Duo denied"):
            fed.login("pat")
    finally:
        for client in fed.sessions:
            client.close()
        master.delete_realm(fed.idp_realm)
