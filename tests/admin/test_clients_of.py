"""A partner's clients come from its own links, and only realms linked from both sides count."""

from __future__ import annotations

from typing import Any, cast

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.tenants import clients_of


class Realms:
    """Realm reads by name only: a listing of every realm would fail the test."""

    def __init__(self, realms: dict[str, dict[str, Any]]) -> None:
        self.realms = realms

    def find_realm(self, realm: str) -> dict[str, Any] | None:
        return self.realms.get(realm)


def _realm(name: str, **attributes: str) -> dict[str, Any]:
    return {"realm": name, "id": f"{name}-id", "attributes": attributes}


def test_only_realms_linked_both_ways_are_clients() -> None:
    """A link to a deleted realm, a non-tenant or a realm naming another partner is skipped."""
    partner = _realm(
        "hq",
        **{
            attr.TENANT_KIND: "partner",
            attr.TENANT_CLIENT_PREFIX + "ok": "ok-id",
            attr.TENANT_CLIENT_PREFIX + "gone": "gone-id",
            attr.TENANT_CLIENT_PREFIX + "plain": "plain-id",
            attr.TENANT_CLIENT_PREFIX + "foreign": "foreign-id",
        },
    )
    realms = Realms(
        {
            "hq": partner,
            "ok": _realm("ok", **{attr.TENANT_KIND: "client", attr.TENANT_PARTNER: "hq"}),
            "plain": _realm("plain"),
            "foreign": _realm(
                "foreign", **{attr.TENANT_KIND: "client", attr.TENANT_PARTNER: "other"}
            ),
        }
    )
    found = clients_of(cast("Keycloak", realms), "hq")
    assert [c.name for c in found] == ["ok"]


def test_a_missing_or_plain_partner_has_no_clients() -> None:
    """No partner realm, or a realm that is no tenant, has no clients."""
    realms = Realms({"plain": _realm("plain")})
    assert clients_of(cast("Keycloak", realms), "nowhere") == []
    assert clients_of(cast("Keycloak", realms), "plain") == []
