"""``console setup``: the console's sign-in client is made at setup, never by a request."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from keycloak_duo_bridge.admin import console_client, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]
BRIDGE = "https://bridge.example.test"  # KDB_BRIDGE_URL of the ``cli`` fixture


def redirects(kc: Keycloak, realm: str) -> list[str]:
    found = kc.find_client(realm, console_client.CLIENT_ID)
    assert found is not None
    return sorted(found["redirectUris"])


def test_setup_brings_the_named_tenants_to_the_bridge_url(
    cli: Cli, kc: Keycloak, names: Names
) -> None:
    """The client of a tenant follows KDB_BRIDGE_URL; a re-run writes nothing; a realm that is
    no tenant is refused before anything is written."""
    p = names("p")
    tenants.create_partner(kc, p)
    before = redirects(kc, p)  # made with the realm, for the admin service's bridge URL
    assert before == sorted(
        f"{kc.console_url}{path}"
        for path in (console_client.ADMIN_CALLBACK, console_client.ACCOUNT_CALLBACK)
    )
    code, out, err = cli("console", "setup", p, "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"bridge_url": BRIDGE, "written": {p: True}}
    moved = [f"{BRIDGE}/account/duo/callback", f"{BRIDGE}/admin/callback"]
    assert redirects(kc, p) == moved
    code, out, _ = cli("console", "setup", p, p)
    assert code == 0
    assert out.splitlines()[2].split() == [p, "unchanged"]
    code, out, err = cli("console", "setup", p, "master-of-nothing")
    assert (code, out) == (1, "")
    assert err == (
        "error: not a tenant nor the admin realm: master-of-nothing (nothing was changed)\n"
    )
    assert kc.find_realm("master-of-nothing") is None
    tenants.delete_tenant(kc, p)
