"""The admin API's client create with ``duo_provision`` (issue 17), on the sandbox."""

from __future__ import annotations

import contextlib
import logging
import uuid

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import duo_link, organizations, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.rest_client import RestCredentials
from keycloak_duo_bridge.duo.rest_protocol import Api
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import NotFoundError
from keycloak_duo_bridge.settings import Settings, key_ring
from tests.api.conftest import Call, Fleet
from tests.fixtures_provisioning import MakeRestCreds

pytestmark = pytest.mark.keycloak


def _link(kc: Keycloak, partner: str, creds: RestCredentials, ring: KeyRing) -> None:
    """The partner's Duo admin link (Admin API), stored unchecked."""
    duo_link.set_link(
        kc,
        partner,
        ikey=creds.ikey,
        skey=creds.skey,
        api_host=creds.api_host,
        api=Api.ADMIN,
        ring=ring,
        check=None,
    )


def test_create_with_duo_provision(  # noqa: PLR0917
    call: Call,
    fleet: Fleet,
    stack_settings: Settings,
    duo_rest_creds: MakeRestCreds,
    duo_emulator: RunningEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refused link answers 400 naming the plan and leaves no realm; a linked partner's
    new client gets its Duo application, audited, and a repeat creates nothing."""
    caplog.set_level(logging.INFO, logger="keycloak_duo_bridge.audit")
    kc = Keycloak.from_settings(stack_settings)
    new = f"{fleet.p}-prov-{uuid.uuid4().hex[:4]}"
    refused = duo_rest_creds(Api.ADMIN, refusal="admin_api_not_in_plan")
    ring = key_ring(stack_settings)
    _link(kc, fleet.p, refused, ring)
    body = {"name": new, "partner": fleet.p, "duo_provision": True}
    answer = call("partner-admin", "POST", "/clients", json=body)
    assert answer.status_code == 400, answer.text
    assert "paid editions" in answer.json()["error"]
    with pytest.raises(NotFoundError):
        tenants.get_tenant(kc, new)

    creds = duo_rest_creds(Api.ADMIN)
    _link(kc, fleet.p, creds, ring)
    try:
        answer = call("partner-admin", "POST", "/clients", json=body)
        assert answer.status_code == 201, answer.text
        done = answer.json()["duo_provisioned"]
        assert done["health_check"] == "ok"
        made = duo_emulator.state.integration(done["ikey"])
        assert made is not None
        assert made.client_secret not in answer.text
        again = call("partner-admin", "POST", "/clients", json=body).json()["duo_provisioned"]
        assert (again["ikey"], again["created"]) == (done["ikey"], [])
        actions = [getattr(r, "fields", {}).get("action") for r in caplog.records]
        assert "provision duo" in actions
    finally:
        tenants.delete_tenant(kc, new)
        duo_link.clear_link(kc, fleet.p)


def test_create_an_organization_with_duo_provision(
    call: Call,
    fleet: Fleet,
    stack_settings: Settings,
    duo_rest_creds: MakeRestCreds,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """ "as": "organization" with duo_provision gives the new client organization its own
    Duo application, the skey sealed for the organization and audited under the partner;
    a repeat creates nothing."""
    caplog.set_level(logging.INFO, logger="keycloak_duo_bridge.audit")
    kc = Keycloak.from_settings(stack_settings)
    ring = key_ring(stack_settings)
    creds = duo_rest_creds(Api.ADMIN)
    _link(kc, fleet.p, creds, ring)
    name = f"api-po-{uuid.uuid4().hex[:6]}"
    body = {"name": name, "partner": fleet.p, "as": "organization", "duo_provision": True}
    try:
        answer = call("partner-admin", "POST", "/clients", json=body)
        assert answer.status_code == 201, answer.text
        done = answer.json()["duo_provisioned"]
        assert answer.json()["as"] == "organization"
        made = organizations.get_organization(kc, fleet.p, name)
        assert made.attributes[attr.DUO_IKEY] == done["ikey"]
        sealed = made.attributes[attr.DUO_SKEY]
        assert ring.decrypt(sealed, realm=made.scope, attribute=attr.DUO_SKEY) not in answer.text
        again = call("partner-admin", "POST", "/clients", json=body).json()["duo_provisioned"]
        assert (again["ikey"], again["created"]) == (done["ikey"], [])
        audited = [getattr(r, "fields", {}) for r in caplog.records]
        assert {"action": "provision duo", "organization": name}.items() <= next(
            f for f in audited if f.get("action") == "provision duo"
        ).items()
    finally:
        with contextlib.suppress(NotFoundError):
            organizations.delete(kc, organizations.get_organization(kc, fleet.p, name))
        duo_link.clear_link(kc, fleet.p)
