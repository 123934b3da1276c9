"""A member's settings in the bridge: read once per organization, cached by fingerprint."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from keycloak_duo_bridge.bridge.realms import RealmSource
from keycloak_duo_bridge.errors import NotFoundError
from keycloak_duo_bridge.settings import load_settings
from tests.aio import run

KC = "http://kc.example"
ORGS: dict[str, dict[str, Any]] = {
    "o1": {
        "name": "initech",
        "attributes": {"kdb.tenant.kind": ["client"], "kdb.duo.fail_mode": ["open"]},
    },
    "o2": {"name": "other", "attributes": {}},
}


def keycloak(calls: list[str]) -> httpx2.MockTransport:
    """Keycloak's token, realm and organization endpoints."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        calls.append(path)
        if path.endswith("/token"):
            return httpx2.Response(200, json={"access_token": "t", "expires_in": 60})
        if path == "/admin/realms/acme":
            body = {
                "id": "acme-id",
                "attributes": {"kdb.tenant.kind": "partner", "kdb.duo.enabled": "true"},
            }
            return httpx2.Response(200, json=body)
        org = ORGS.get(path.rsplit("/", 1)[1])
        return httpx2.Response(200, json={"id": "x", **org}) if org else httpx2.Response(404)

    return httpx2.MockTransport(answer)


def test_a_warm_members_login_makes_no_admin_call() -> None:
    """The organization is read once; the same fingerprints again make no admin call, and a
    new organization fingerprint reads it again."""
    calls: list[str] = []
    settings = load_settings(keycloak_url=KC, keycloak_admin_password="pw")

    async def work() -> list[int]:
        async with httpx2.AsyncClient(transport=keycloak(calls)) as http:
            source = RealmSource(settings, http)
            counts = []
            member = await source.member("acme", "f", "o1", "g1")
            assert member.organization.organization == "initech"
            assert member.organization.fail_mode.value == "open"
            assert member.partner.fail_mode.value == "closed"
            counts.append(len(calls))
            await source.member("acme", "f", "o1", "g1")
            counts.append(len(calls))
            await source.member("acme", "f", "o1", "g2")
            counts.append(len(calls))
            return counts

    assert run(work()) == [3, 3, 4]


@pytest.mark.parametrize("organization", ["o2", "missing"])
def test_an_organization_that_is_no_client_is_refused(organization: str) -> None:
    """A request naming an organization that is no client organization (or none) resolves no
    settings: the login gets an error verdict, never the partner's settings silently."""
    settings = load_settings(keycloak_url=KC, keycloak_admin_password="pw")

    async def work() -> None:
        async with httpx2.AsyncClient(transport=keycloak([])) as http:
            await RealmSource(settings, http).member("acme", "f", organization, "g")

    with pytest.raises(NotFoundError):
        run(work())
