"""The admin API's phone operations for the helpdesk, and who may let users manage their
phones (issue 17), on the sandbox and the emulator."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError as PythonKeycloakError

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import duo_link
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.settings import Settings
from tests.api.conftest import PASSWORD, Call, Fleet, make_user, realm_admin, token
from tests.fixtures_provisioning import LinkPartner

pytestmark = pytest.mark.keycloak


@pytest.fixture
def linked(fleet: Fleet, stack_settings: Settings, link_partner: LinkPartner) -> Iterator[str]:
    """Partner p linked to the emulator's Admin API; unlinked afterwards."""
    link_partner(fleet.p)
    yield fleet.p
    duo_link.clear_link(Keycloak.from_settings(stack_settings), fleet.p)


def test_helpdesk_adds_lists_and_removes_a_phone(
    call: Call, fleet: Fleet, linked: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The partner's admin registers a client user's phone, sees it masked, removes it; each
    change is audited with the masked number only."""
    del linked
    caplog.set_level(logging.INFO, logger="keycloak_duo_bridge.audit")
    path = f"/tenants/{fleet.c}/users/member/phones"
    mobile = f"+1555{uuid.uuid4().int % 10**7:07d}"
    added = call("partner-admin", "POST", path, json={"number": mobile})
    assert added.status_code == 201, added.text
    device = added.json()
    assert device["number"] == f"XXX-XXX-{mobile[-4:]}"
    assert device["sms_activation"] == "sent"
    listed = call("client-admin", "GET", path)
    assert listed.status_code == 200
    assert [d["phone_id"] for d in listed.json()] == [device["phone_id"]]
    bad = call("partner-admin", "POST", path, json={"number": "0800 555"})
    assert (bad.status_code, "E.164" in bad.json()["error"]) == (400, True)
    gone = call("client-admin", "DELETE", f"{path}/{device['phone_id']}")
    assert gone.status_code == 200, gone.text
    assert call("client-admin", "GET", path).json() == []
    assert call("client-admin", "DELETE", f"{path}/{device['phone_id']}").status_code == 404
    audited = [r for r in caplog.records if r.name == "keycloak_duo_bridge.audit"]
    actions = [r.fields["action"] for r in audited]  # type: ignore[attr-defined]
    assert actions == ["add duo phone", "remove duo phone"]
    shown = [r.fields["phone"] for r in audited]  # type: ignore[attr-defined]
    assert shown == [device["number"]] * 2
    assert mobile not in caplog.text + str([r.fields for r in audited])  # type: ignore[attr-defined]


def test_who_may_not_touch_phones(call: Call, fleet: Fleet, linked: str) -> None:
    """A plain user, another partner's realm, or a client's admin on its partner: 403."""
    del linked
    body = {"number": "+15555550101"}
    assert (
        call("plain-user", "POST", f"/tenants/{fleet.c}/users/member/phones", json=body).status_code
        == 403
    )
    assert (
        call(
            "client-admin", "POST", f"/tenants/{fleet.p}/users/padmin/phones", json=body
        ).status_code
        == 403
    )
    assert (
        call("partner-admin", "GET", f"/tenants/{fleet.q}/users/member/phones").status_code == 403
    )
    assert call(None, "GET", f"/tenants/{fleet.c}/users/member/phones").status_code == 401


def test_a_client_level_admin_cannot_let_users_manage_phones(
    call: Call, fleet: Fleet, keycloak_sandbox: SandboxKeycloak, stack_settings: Settings
) -> None:
    """A ``manage-clients`` admin of the realm can set ``self_phones`` neither through the
    admin API (403) nor through Keycloak's own (refused); the realm keeps its setting."""
    kc = realm_admin(keycloak_sandbox, fleet.c)
    make_user(keycloak_sandbox, fleet.c, "phoneclerk", manage=False)
    management = str(kc.get_client_id("realm-management"))
    role = kc.get_client_role(management, "manage-clients")
    kc.assign_client_role(str(kc.get_user_id("phoneclerk")), management, [role])
    bearer = token(keycloak_sandbox, fleet.c, "phoneclerk")
    ours = Keycloak.from_settings(stack_settings)
    before = ours.get_realm(fleet.c)["attributes"].get(attr.DUO_SELF_PHONES)

    fleet.tokens["phoneclerk"] = bearer
    try:
        answer = call(
            "phoneclerk", "PUT", f"/tenants/{fleet.c}/duo/policy", json={"self_phones": "manage"}
        )
    finally:
        del fleet.tokens["phoneclerk"]
    assert answer.status_code == 403
    clerk = KeycloakAdmin(
        server_url=keycloak_sandbox.url,
        username="phoneclerk",
        password=PASSWORD,
        realm_name=fleet.c,
        user_realm_name=fleet.c,
    )
    with pytest.raises(PythonKeycloakError):
        clerk.update_realm(fleet.c, {"attributes": {attr.DUO_SELF_PHONES: "manage"}})
    assert ours.get_realm(fleet.c)["attributes"].get(attr.DUO_SELF_PHONES) == before

    allowed = call(
        "client-admin", "PUT", f"/tenants/{fleet.c}/duo/policy", json={"self_phones": "manage"}
    )
    assert allowed.status_code == 200, allowed.text
    assert ours.get_realm(fleet.c)["attributes"][attr.DUO_SELF_PHONES] == "manage"
    bad = call("client-admin", "PUT", f"/tenants/{fleet.c}/duo/policy", json={"self_phones": "all"})
    assert bad.status_code == 400
    reset = call(
        "client-admin", "PUT", f"/tenants/{fleet.c}/duo/policy", json={"self_phones": "inherit"}
    )
    assert reset.status_code == 200
    assert attr.DUO_SELF_PHONES not in ours.get_realm(fleet.c)["attributes"]
