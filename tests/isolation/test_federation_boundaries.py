"""Federation boundaries against the real Keycloak (issue 19): what a partner's IdP, its
mappers or its claims can write never decides whether Duo runs.

The attacker is the partner: it controls its IdP (claims, NameID, the users' attributes
there), and the client realm's IdP mappers copy what it sends onto the brokered user, on
every login (sync mode FORCE).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from starlette.testclient import TestClient

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge import jws
from keycloak_duo_bridge.admin import apps, duo_settings, idps, users
from keycloak_duo_bridge.admin.idp_policy import policy_of
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.app import create_app
from keycloak_duo_bridge.settings import Settings
from tests.fixtures_bridge import APP2_ID, APP_ID, PASSWORD
from tests.fixtures_federation import BrokerWalk, FederationFactory

pytestmark = pytest.mark.keycloak

PROTOCOLS = ["oidc", "saml"]
SAML_MFA: Final = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
LESSER_ROLES: Final = ("manage-clients", "manage-identity-providers", "view-realm")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_idp_mapper_clearing_the_activation_does_not_skip_duo(
    federation: FederationFactory, admin_keycloak: Keycloak, protocol: str
) -> None:
    """Opt-in realm, the brokered user activated Duo; a mapper then writes the activation
    attribute to false at every login: Duo still runs for them."""
    fed = federation(protocol, user_mode="opt-in")
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    fed.login("pat")
    users.set_activated(admin_keycloak, fed.tenant.realm, "pat", activated=True)
    fed.add_mapper(
        "deactivate",
        "hardcoded-attribute-idp-mapper",
        {
            "attribute": attr.USER_ACTIVATED,
            "attribute.value": "false",
        },
    )
    before = fed.last_event()
    walk = fed.login("pat")
    assert walk.duo_hop
    assert walk.id_claims["duo"]["result"] == "allow"
    assert fed.duo_names(before) == [fed.duo_name("pat")]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_idp_mapper_adding_a_bypass_group_does_not_skip_duo(
    federation: FederationFactory, protocol: str
) -> None:
    """A mapper puts every brokered user in the realm's bypass group: Duo still runs for
    them, while a local member of that group is still bypassed."""
    fed = federation(protocol, bypass_groups=["/staff"])
    admin = fed.tenant.admin()
    group_id = admin.create_group({"name": "staff"})
    fed.add_mapper("staff", "oidc-hardcoded-group-idp-mapper", {"group": "/staff"})
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    before = fed.last_event()
    walk = fed.login("pat")
    assert walk.duo_hop
    assert fed.duo_names(before) == [fed.duo_name("pat")]
    member = admin.get_user_id("pat")
    assert [g["path"] for g in admin.get_user_groups(str(member))] == ["/staff"]

    local_id = fed.local_user("lou")
    admin.group_user_add(local_id, str(group_id))
    before = fed.last_event()
    local = fed.login("lou", hint=False)
    assert local.id_claims["duo"] == {**local.id_claims["duo"], "result": "skip"}
    assert local.id_claims["duo"]["reason"] == "bypass_group"
    assert fed.duo_names(before) == []


def test_an_upstream_claim_imitating_mfa_is_not_a_pass(federation: FederationFactory) -> None:
    """The partner's IdP claims amr mfa/hwk and acr mfa, and mappers copy them onto the
    user and the session: Duo runs all the same, and the result is Duo's own allow."""
    fed = federation("oidc")
    fed.upstream_claim("amr", '["mfa", "hwk"]', "JSON")
    fed.upstream_claim("acr", "mfa")
    fed.add_mapper(
        "amr", "oidc-user-attribute-idp-mapper", {"claim": "amr", "user.attribute": "amr"}
    )
    fed.add_mapper(
        "acr-note", "oidc-user-session-note-idp-mapper", {"claims": '[{"key":"acr","value":""}]'}
    )
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    before = fed.last_event()
    walk = fed.login("pat")
    assert walk.duo_hop
    assert walk.id_claims["duo"]["result"] == "allow"
    assert fed.duo_names(before) == [fed.duo_name("pat")]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_idp_mapper_forging_duo_session_notes_is_not_a_pass(
    federation: FederationFactory, protocol: str
) -> None:
    """A mapper writes the Duo pass notes (result allow, a time in the future) into the
    session of a login to an app with Duo off: the next app that needs Duo still runs it."""
    fed = federation(protocol)
    keycloak = Keycloak.from_settings(fed.tenant.settings)
    apps.set_mode(keycloak, fed.tenant.realm, APP_ID, "off")
    forged = {attr.NOTE_RESULT: "allow", attr.NOTE_TIME: str(int(time.time()) + 3600)}
    for note, value in forged.items():
        fed.add_mapper(
            note,
            "hardcoded-user-session-attribute-idp-mapper",
            {
                "attribute": note,
                "attribute.value": value,
            },
        )
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    browser = fed.session()
    off = fed.login("pat", session=browser)
    assert not off.duo_hop
    before = fed.last_event()
    assert "duo" not in off.id_claims
    needs_duo = fed.login("pat", session=browser, hint=False, client_id=APP2_ID)
    assert needs_duo.duo_hop
    assert needs_duo.id_claims["duo"]["time"] != forged[attr.NOTE_TIME]
    assert fed.duo_names(before) == [fed.duo_name("pat")]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_idp_mapper_cannot_name_another_idp_for_the_login(
    federation: FederationFactory, protocol: str
) -> None:
    """A mapper writes Keycloak's identity_provider session note: the request token still
    names the IdP the login came through, with the link Keycloak's broker stored."""
    fed = federation(protocol)
    fed.add_mapper(
        "forge",
        "hardcoded-user-session-attribute-idp-mapper",
        {
            "attribute": "identity_provider",
            "attribute.value": "trusted-elsewhere",
        },
    )
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    claims = request_claims(fed.login("pat"))
    assert claims["idp"] == fed.alias
    assert claims["idp_links"] == [{"alias": fed.alias, "subject": fed.subject("pat")}]
    assert claims["local_password"] is False
    fed.local_user("lou")
    fed.tenant.emulator.control.set_user("lou", behavior="allow", enrolled=True)
    local = request_claims(fed.login("lou", hint=False))
    assert "idp" not in local
    assert (local["idp_links"], local["local_password"]) == ([], True)


def request_claims(walk: BrokerWalk) -> dict[str, Any]:
    """The claims of the request token the extension sent to the bridge (read, not trusted)."""
    [url] = [u for u in walk.urls if "/step-up?" in u]
    return jws.parse(parse_qs(urlsplit(url).query)["request"][0]).claims


def test_forged_duo_notes_raise_neither_acr_nor_amr_in_step_up_mode(
    federation: FederationFactory,
) -> None:
    """In a step-up realm, a mapper's forged Duo pass (result allow, amr mfa) gives no mfa in
    amr and no acr mfa, also when the application asks acr_values=mfa: where Duo is off for
    the application, a brokered login passes no Duo step, so it stays below mfa."""
    fed = federation("oidc")
    keycloak = Keycloak.from_settings(fed.tenant.settings)
    published = keycloak.get_realm(fed.tenant.realm)["attributes"]
    wires = Wiring(published[attr.BRIDGE_URL], published[attr.BRIDGE_JWKS])
    duo_settings.set_enabled(
        keycloak, fed.tenant.realm, enabled=True, wires=wires, assurance="step-up"
    )
    apps.set_mode(keycloak, fed.tenant.realm, APP_ID, "off")  # else Duo runs, as in enforce
    forged = {attr.NOTE_RESULT: "allow", attr.NOTE_AMR: "mfa swk"}
    for note, value in forged.items():
        fed.add_mapper(
            note,
            "hardcoded-user-session-attribute-idp-mapper",
            {"attribute": note, "attribute.value": value},
        )
    fed.partner_user("pia")
    fed.tenant.emulator.control.set_user(fed.duo_name("pia"), behavior="allow", enrolled=True)
    browser = fed.session()
    plain = fed.login("pia", session=browser)
    assert not plain.duo_hop
    assert "mfa" not in plain.id_claims.get("amr", [])
    assert plain.id_claims.get("acr") != "mfa"
    asked = fed.login("pia", session=browser, acr_values="mfa")
    assert not asked.duo_hop
    assert asked.id_claims.get("acr") != "mfa", asked.id_claims
    assert "mfa" not in asked.id_claims.get("amr", [])


def forged_id_token(subject: str, issuer: str) -> str:
    """An unsigned ID token that claims MFA for ``subject``, issued now: what a mapper could
    write into Keycloak's FEDERATED_ID_TOKEN note."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = {"sub": subject, "iss": issuer, "iat": int(time.time()), "amr": ["mfa", "hwk"]}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_idp_mapper_imitating_the_upstream_proof_does_not_skip_duo(
    federation: FederationFactory, admin_keycloak: Keycloak, protocol: str
) -> None:
    """The realm trusts the IdP's MFA on amr mfa; the IdP proves none, and a mapper writes a
    forged upstream ID token (amr mfa, the link's subject) as Keycloak's FEDERATED_ID_TOKEN
    note, and a hardcoded amr attribute: Duo runs, and the result is Duo's own allow."""
    fed = federation(protocol)
    fed.partner_user("pat")
    trusted = policy_of("trust-upstream-mfa", amr=["mfa"], saml_context=[SAML_MFA])
    idps.set_idp_policy(admin_keycloak, fed.tenant.realm, fed.alias, trusted)
    issuer = f"{fed.keycloak_url}/realms/{fed.idp_realm}"
    fed.add_mapper(
        "forged-token",
        "hardcoded-user-session-attribute-idp-mapper",
        {
            "attribute": "FEDERATED_ID_TOKEN",
            "attribute.value": forged_id_token(fed.subject("pat"), issuer),
        },
    )
    fed.add_mapper(
        "forged-amr",
        "hardcoded-attribute-idp-mapper",
        {"attribute": "amr", "attribute.value": "mfa"},
    )
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    before = fed.last_event()
    walk = fed.login("pat")
    assert walk.duo_hop
    assert fed.duo_names(before) == [fed.duo_name("pat")]
    assert walk.id_claims["duo"]["result"] == "allow"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_idp_mapper_writing_the_policy_or_an_upstream_pass_does_not_skip_duo(
    federation: FederationFactory, protocol: str
) -> None:
    """Mappers write what an "off" IdP or an upstream pass would look like: the policy's
    name as a user attribute and session note, and the notes of an upstream result for this
    IdP. The policy lives only in the realm's attributes, so Duo runs."""
    fed = federation(protocol)
    off = json.dumps({fed.alias: {"mode": "off"}})
    for kind, name, value in (
        ("hardcoded-attribute-idp-mapper", attr.DUO_IDPS, off),
        ("hardcoded-user-session-attribute-idp-mapper", attr.DUO_IDPS, off),
        ("hardcoded-user-session-attribute-idp-mapper", attr.NOTE_RESULT, "upstream"),
        ("hardcoded-user-session-attribute-idp-mapper", attr.NOTE_IDP, fed.alias),
        ("hardcoded-user-session-attribute-idp-mapper", attr.NOTE_AMR, "mfa"),
    ):
        fed.add_mapper(f"{kind[:12]}-{name}", kind, {"attribute": name, "attribute.value": value})
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    before = fed.last_event()
    walk = fed.login("pat")
    assert walk.duo_hop
    assert fed.duo_names(before) == [fed.duo_name("pat")]
    assert walk.id_claims["duo"]["result"] == "allow"
    assert "idp" not in walk.id_claims["duo"]


def test_a_client_level_admin_cannot_set_an_idp_policy(
    federation: FederationFactory, stack_settings: Settings
) -> None:
    """An administrator of the realm's clients and identity providers (manage-clients,
    manage-identity-providers, not manage-realm) is refused by the admin API, and by
    Keycloak when writing the realm attribute itself; the IdP's own config holds no policy."""
    fed = federation("oidc")
    realm = fed.tenant.realm
    admin = fed.tenant.admin()
    admin.create_client(
        {"clientId": "kdb-idp-admin", "publicClient": True, "directAccessGrantsEnabled": True}
    )
    user_id = admin.create_user(
        {
            "username": "idp-admin",
            "enabled": True,
            "email": "idp-admin@client.example",
            "emailVerified": True,
            "firstName": "Idp",
            "lastName": "Admin",
            "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
        }
    )
    keycloak = Keycloak.from_settings(fed.tenant.settings)
    apps.set_mode(keycloak, realm, "kdb-idp-admin", "off")  # its password grant, no Duo
    management = str(admin.get_client_id("realm-management"))
    roles = [admin.get_client_role(management, r) for r in LESSER_ROLES]
    admin.assign_client_role(user_id, management, roles)
    base = fed.keycloak_url
    with httpx2.Client() as http:
        issued = http.post(
            f"{base}/realms/{realm}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "kdb-idp-admin",
                "username": "idp-admin",
                "password": PASSWORD,
            },
        )
        issued.raise_for_status()
        bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
        # Keycloak itself: the realm's attributes are manage-realm's
        refused = http.put(
            f"{base}/admin/realms/{realm}",
            json={"attributes": {attr.DUO_IDPS: json.dumps({fed.alias: {"mode": "off"}})}},
            headers=bearer,
        )
        assert refused.status_code == 403, refused.text
        # what this admin can write, the IdP's config, decides nothing
        idp = http.get(
            f"{base}/admin/realms/{realm}/identity-provider/instances/{fed.alias}", headers=bearer
        ).json()
        idp["config"][attr.DUO_IDPS] = "off"
        written = http.put(
            f"{base}/admin/realms/{realm}/identity-provider/instances/{fed.alias}",
            json=idp,
            headers=bearer,
        )
        assert written.status_code == 204, written.text
    with TestClient(create_app(stack_settings), base_url="https://testserver") as api:
        answer = api.put(
            f"/admin/api/tenants/{realm}/idps/{fed.alias}",
            json={"mode": "off", "confirm_off": True},
            headers=bearer,
        )
        assert answer.status_code == 403, answer.text
    assert attr.DUO_IDPS not in keycloak.get_realm(realm)["attributes"]
    fed.partner_user("pat")
    fed.tenant.emulator.control.set_user(fed.duo_name("pat"), behavior="allow", enrolled=True)
    before = fed.last_event()
    assert fed.login("pat").duo_hop
    assert fed.duo_names(before) == [fed.duo_name("pat")]
