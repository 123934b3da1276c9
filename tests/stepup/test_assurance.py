"""Duo in Keycloak's own language: acr and amr, step-up asked for the standard way (real
Keycloak, Chromium, and an Authlib relying party that validates what it receives)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from keycloak_duo_bridge.admin import apps
from keycloak_duo_bridge.admin.keycloak import Keycloak
from tests.fixtures_assurance import AssuranceTenant, RelyingParty
from tests.fixtures_bridge import APP2_ID

pytestmark = pytest.mark.keycloak

RP = Callable[..., RelyingParty]


def test_acr_values_step_up_an_sso_session_at_level_1(
    step_up_tenant: AssuranceTenant, relying_party: RP
) -> None:
    """A password login is acr pwd; acr_values=mfa in that session goes to Duo: acr mfa, amr."""
    tenant = step_up_tenant()
    tenant.user("ann")
    app = relying_party(tenant)
    plain = app.sign_in("ann")
    assert (plain.claims["acr"], plain.amr, plain.duo_hops) == ("pwd", ["pwd"], [])
    stepped = app.sign_in("ann", essential_acr="mfa", acr_values="mfa")
    assert not stepped.asked_password
    assert stepped.duo_hops
    assert stepped.claims["acr"] == "mfa"
    assert {"pwd", "mfa", "swk"} <= set(stepped.amr)
    assert stepped.claims["duo"]["result"] == "allow"


def test_a_second_app_without_acr_values_gets_no_duo_prompt(
    step_up_tenant: AssuranceTenant, relying_party: RP
) -> None:
    """In one SSO session, an app that asks for no level signs in without a Duo prompt and at
    a lower acr than the app that stepped up."""
    tenant = step_up_tenant()
    tenant.user("bea")
    other = relying_party(tenant, APP2_ID).sign_in("bea")
    stepped = relying_party(tenant).sign_in("bea", essential_acr="mfa", acr_values="mfa")
    again = relying_party(tenant, APP2_ID).sign_in("bea")
    assert stepped.duo_hops
    assert (other.duo_hops, again.duo_hops) == ([], [])
    assert other.claims["acr"] == "pwd"
    assert "mfa" not in other.amr


def test_an_essential_acr_claim_steps_up(
    step_up_tenant: AssuranceTenant, relying_party: RP
) -> None:
    """The claims parameter with an essential acr of mfa brings the Duo step."""
    tenant = step_up_tenant()
    tenant.user("cid")
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": ["mfa"]}}})
    signed = relying_party(tenant).sign_in("cid", essential_acr="mfa", claims=claims)
    assert signed.duo_hops
    assert signed.asked_password


def test_max_age_forces_a_new_duo_step(step_up_tenant: AssuranceTenant, relying_party: RP) -> None:
    """After a Duo pass, max_age shorter than its age asks for the password and Duo again."""
    tenant = step_up_tenant()
    tenant.user("dee")
    app = relying_party(tenant)
    first = app.sign_in("dee", essential_acr="mfa", acr_values="mfa")
    time.sleep(2.2)
    again = app.sign_in("dee", essential_acr="mfa", acr_values="mfa", max_age="1")
    assert again.asked_password
    assert again.duo_hops
    assert again.claims["duo"]["txid"] != first.claims["duo"]["txid"]
    assert again.claims["auth_time"] > first.claims["auth_time"]


def test_a_client_minimum_acr_requires_duo(
    step_up_tenant: AssuranceTenant, relying_party: RP, admin_keycloak: Keycloak
) -> None:
    """An application whose minimum ACR is mfa gets Duo without asking for it."""
    tenant = step_up_tenant()
    tenant.user("eve")
    assert apps.set_minimum_acr(admin_keycloak, tenant.realm, APP2_ID, "mfa")
    signed = relying_party(tenant, APP2_ID).sign_in("eve", essential_acr="mfa")
    assert signed.duo_hops
    assert signed.claims["acr"] == "mfa"
    assert apps.set_minimum_acr(admin_keycloak, tenant.realm, APP2_ID, None)
    assert not apps.set_minimum_acr(admin_keycloak, tenant.realm, APP2_ID, None)


def test_kc_action_still_runs_duo_in_step_up_mode(
    step_up_tenant: AssuranceTenant, relying_party: RP
) -> None:
    """An application-initiated kc_action=duo-step-up runs Duo in a step-up realm too."""
    tenant = step_up_tenant()
    tenant.user("fay")
    app = relying_party(tenant)
    app.sign_in("fay")
    acted = app.sign_in("fay", kc_action="duo-step-up")
    assert acted.duo_hops


def test_a_refusal_in_step_up_mode_yields_no_token(
    step_up_tenant: AssuranceTenant, relying_party: RP
) -> None:
    """Duo denies the step-up: no code, the refusal page, and the session stays at pwd."""
    tenant = step_up_tenant()
    tenant.user("gus", behavior="deny")
    app = relying_party(tenant)
    assert app.sign_in("gus").claims["acr"] == "pwd"
    assert "Duo denied the sign-in." in app.refused("gus", acr_values="mfa")
    after = app.sign_in("gus")
    assert after.claims["acr"] == "pwd"
    assert "mfa" not in after.amr


def test_a_bypass_group_member_gets_the_lower_acr(
    step_up_tenant: AssuranceTenant, relying_party: RP
) -> None:
    """A member of a bypass group passes the step-up without Duo, and acr says pwd, not mfa."""
    tenant = step_up_tenant(bypass_groups=["/staff"])
    user_id = tenant.user("hal")
    admin = tenant.admin()
    group = admin.create_group({"name": "staff"})
    assert group is not None
    admin.group_user_add(user_id, group)
    signed = relying_party(tenant).sign_in("hal", acr_values="mfa")
    assert signed.duo_hops == []
    assert signed.claims["acr"] == "pwd"
    assert "mfa" not in signed.amr
    assert signed.claims["duo"]["result"] == "skip"


def test_enforce_mode_puts_duo_in_acr_and_amr(
    step_up_tenant: AssuranceTenant, relying_party: RP
) -> None:
    """In the enforce mode every login passes Duo, and acr and amr say so."""
    tenant = step_up_tenant("enforce")
    tenant.user("ida")
    signed = relying_party(tenant).sign_in("ida", essential_acr="mfa")
    assert signed.duo_hops
    assert signed.claims["acr"] == "mfa"
    assert {"mfa", "swk"} <= set(signed.amr)


def test_max_age_brings_a_new_duo_step_in_enforce_mode_too(
    step_up_tenant: AssuranceTenant, relying_party: RP
) -> None:
    """In the enforce mode the remembered pass does not outlive an app's max_age either."""
    tenant = step_up_tenant("enforce")
    tenant.user("joe")
    app = relying_party(tenant)
    first = app.sign_in("joe")
    remembered = app.sign_in("joe")
    assert first.duo_hops
    assert remembered.duo_hops == []
    time.sleep(2.2)
    again = app.sign_in("joe", max_age="1")
    assert again.asked_password
    assert again.duo_hops
    assert again.claims["duo"]["txid"] != first.claims["duo"]["txid"]
