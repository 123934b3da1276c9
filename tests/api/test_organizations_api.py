"""The admin API on clients kept as organizations of a partner realm, and who may reach them."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import organizations
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from tests.api.conftest import Call, Fleet, make_user, token

pytestmark = pytest.mark.keycloak

# operation -> (method, path under the organization, body)
OPERATIONS: dict[str, tuple[str, str, Any]] = {
    "show": ("GET", "", None),
    "credentials": (
        "PUT",
        "/duo/credentials",
        {"ikey": "DI" + "A" * 18, "skey": "s" * 40, "api_host": "api-1.duosecurity.com"},
    ),
    "clear credentials": ("DELETE", "/duo/credentials", None),
    "policy": ("PUT", "/duo/policy", {"remember": "15"}),
    "switch": ("PUT", "/duo/enabled", {"enabled": False}),
    "app mode": ("PUT", "/apps/account", {"mode": "off"}),
    "explain": ("GET", "/explain?user=member", None),
    "delete": ("DELETE", "", None),
}
REFUSED = ("client-admin", "plain-user", "other-partner-admin")


@pytest.fixture(scope="module")
def other_admin(keycloak_sandbox: SandboxKeycloak, fleet: Fleet) -> str:
    """A token of an admin (manage-realm) of the other partner, q."""
    make_user(keycloak_sandbox, fleet.q, "qadmin", manage=True)
    return token(keycloak_sandbox, fleet.q, "qadmin")


@pytest.fixture
def kc(admin_keycloak: Keycloak) -> Keycloak:
    """The admin service's adapter, to read what Keycloak holds."""
    return admin_keycloak


@pytest.fixture
def org(kc: Keycloak, fleet: Fleet) -> organizations.Organization:
    """A client organization of partner p, with partner p's user "plain" as a member."""
    made = organizations.create_organization(kc, f"api-o-{uuid.uuid4().hex[:8]}", partner=fleet.p)
    organizations.add_member(kc, made, "plain")
    return made


def _as(call: Call, client: TestClient, other_admin: str, role: str) -> Call:
    """``call`` for ``role``, the other partner's admin included."""
    if role != "other-partner-admin":
        return lambda method, path, **kw: call(role, method, path, **kw)
    header = {"Authorization": f"Bearer {other_admin}"}
    return lambda method, path, **kw: client.request(
        method, f"/admin/api{path}", headers=header, **kw
    )


def test_create_list_and_show_an_organization_client(
    call: Call, fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    """A partner admin creates a client with "as": "organization"; the listings show it under
    the partner, to the partner's admins and master only; showing it gives its Duo settings."""
    caplog.set_level(logging.INFO, logger="keycloak_duo_bridge.audit")
    name = f"api-o-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "partner": fleet.p, "as": "organization", "display_name": "Org"}
    assert call("client-admin", "POST", "/clients", json=body).status_code == 403
    refused = call("partner-admin", "POST", "/clients", json={**body, "duo_provision": True})
    assert refused.status_code == 400, refused.text  # the partner has no Duo admin link
    assert "no Duo admin link" in refused.json()["error"]
    assert name not in [o["name"] for o in call("master", "GET", "/tenants").json()]
    made = call("partner-admin", "POST", "/clients", json=body)
    assert made.status_code == 201, made.text
    view = {"name": name, "kind": "client", "as": "organization", "partner": fleet.p}
    assert made.json() == {**view, "display_name": "Org"}
    assert call("partner-admin", "POST", "/clients", json=body).status_code == 201  # idempotent
    listed = call("partner-admin", "GET", "/tenants").json()
    names = [t["name"] for t in listed]
    assert names[:2] == [fleet.p, fleet.c]
    assert next(t for t in listed if t["name"] == name)["as"] == "organization"
    assert name in {t["name"] for t in call("master", "GET", "/tenants").json()}
    assert [t["name"] for t in call("client-admin", "GET", "/tenants").json()] == [fleet.c]
    held = call("partner-admin", "GET", f"/tenants/{fleet.p}/organizations").json()
    assert name in [o["name"] for o in held]
    shown = call("partner-admin", "GET", f"/tenants/{fleet.p}/organizations/{name}").json()
    assert shown["duo"]["skey"] is None
    assert {k: shown[k] for k in view} == view
    audited = [getattr(r, "fields", {}) for r in caplog.records]
    assert ("create client organization", fleet.p, name) in {
        (f.get("action"), f.get("realm"), f.get("organization")) for f in audited
    }


def test_duo_settings_of_an_organization_client(
    call: Call,
    fleet: Fleet,
    kc: Keycloak,
    duo_emulator: RunningEmulator,
    org: organizations.Organization,
) -> None:
    """A partner admin sets an organization's credentials (skey sealed), policy, switch and
    app mode, explains a member's login, and clears them; realm-only settings are refused."""
    base = f"/tenants/{fleet.p}/organizations/{org.name}"
    duo = duo_emulator.control.add_integration()
    body = {"ikey": duo.client_id, "skey": duo.client_secret, "api_host": duo.api_host}
    written = call("partner-admin", "PUT", f"{base}/duo/credentials", json=body)
    assert written.json() == {"realm": fleet.p, "organization": org.name, "written": True}
    assert call("partner-admin", "PUT", f"{base}/duo/policy", json={"remember": "20"}).json()[
        "written"
    ]
    assert call("partner-admin", "PUT", f"{base}/duo/enabled", json={"enabled": True}).json()[
        "written"
    ]
    assert call("partner-admin", "PUT", f"{base}/apps/account", json={"mode": "off"}).json()[
        "written"
    ]
    stored = organizations.get_organization(kc, fleet.p, org.name).attributes
    assert duo.client_secret not in str(kc.find_organization(fleet.p, org.name))
    assert (stored[attr.DUO_IKEY], stored[attr.DUO_REMEMBER], stored[attr.DUO_ENABLED]) == (
        duo.client_id,
        "20",
        "true",
    )
    explained = call("partner-admin", "GET", f"{base}/explain?user=plain&app=account").json()
    assert explained["organization"] == org.name
    assert explained["settings"]["ikey"]["value"] == duo.client_id
    shown = call("master", "GET", base).json()
    assert shown["duo"]["skey"].startswith("******** (encrypted")
    realm_only = call("partner-admin", "PUT", f"{base}/duo/policy", json={"duo_username": "email"})
    assert realm_only.status_code == 400
    assurance = {"enabled": True, "assurance": "step-up"}
    assert call("partner-admin", "PUT", f"{base}/duo/enabled", json=assurance).status_code == 400
    call("partner-admin", "PUT", f"{base}/duo/enabled", json={"enabled": None})
    cleared = call("partner-admin", "DELETE", f"{base}/duo/credentials")
    assert cleared.json()["written"] is True
    assert attr.DUO_IKEY not in organizations.get_organization(kc, fleet.p, org.name).attributes


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("role", REFUSED)
def test_only_the_partners_admins_reach_an_organization(  # noqa: PLR0917
    call: Call,
    client: TestClient,
    fleet: Fleet,
    kc: Keycloak,
    other_admin: str,
    org: organizations.Organization,
    role: str,
    operation: str,
) -> None:
    """A client realm's admin under the same partner, a member of the organization, and
    another partner's admin are refused every operation on an organization client, through
    the partner's path (403) and through their own realm's (404); nothing is written."""
    before = kc.get_organization(fleet.p, org.id)
    method, suffix, body = OPERATIONS[operation]
    attacker = _as(call, client, other_admin, role)
    response = attacker(method, f"/tenants/{fleet.p}/organizations/{org.name}{suffix}", json=body)
    assert response.status_code == 403, response.text
    own = {"client-admin": fleet.c, "other-partner-admin": fleet.q}.get(role)
    if own is not None:
        path = f"/tenants/{own}/organizations/{org.name}{suffix}"
        assert attacker(method, path, json=body).status_code == 404
    assert kc.get_organization(fleet.p, org.id) == before


def test_refused_listings_and_the_partners_own_delete(  # noqa: PLR0917
    call: Call,
    client: TestClient,
    fleet: Fleet,
    kc: Keycloak,
    other_admin: str,
    org: organizations.Organization,
) -> None:
    """Another partner's admin cannot list the partner's organizations nor see them in
    /tenants; the partner's admin deletes one, and its members stay users of the realm."""
    other = _as(call, client, other_admin, "other-partner-admin")
    assert other("GET", f"/tenants/{fleet.p}/organizations").status_code == 403
    assert org.name not in {t["name"] for t in other("GET", "/tenants").json()}
    deleted = call("partner-admin", "DELETE", f"/tenants/{fleet.p}/organizations/{org.name}")
    assert deleted.json() == {"deleted": [org.name], "members_kept": 1}
    assert kc.find_organization(fleet.p, org.name) is None
    assert kc.find_user(fleet.p, "plain") is not None
    missing = call("master", "GET", f"/tenants/{fleet.p}/organizations/{org.name}")
    assert missing.status_code == 404
    assert call("master", "GET", f"/tenants/{fleet.q}/organizations/x").status_code == 404
