"""Partners and clients as realms in the sandbox Keycloak."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.errors import ConfigError, NotFoundError
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak


def test_partner_with_branding_url_and_two_clients(kc: Keycloak, names: Names) -> None:
    """A partner's branding URL is its frontendUrl; clients name their partner; list is a tree."""
    p, a, b = names("p"), names("a"), names("b")
    partner = tenants.create_partner(kc, p, branding_url="https://brand.example.test/")
    tenants.create_client(kc, a, partner=p, display_name="Client A")
    tenants.create_client(kc, b, partner=p)
    assert partner.branding_url == "https://brand.example.test"
    assert kc.get_realm(p)["attributes"]["frontendUrl"] == "https://brand.example.test"
    listed = [
        (t.name, t.kind, t.partner)
        for t in tenants.list_tenants(kc)
        if p in t.name or t.partner == p
    ]
    assert listed == [
        (p, TenantKind.PARTNER, None),
        (a, TenantKind.CLIENT, p),
        (b, TenantKind.CLIENT, p),
    ]
    assert tenants.get_tenant(kc, a).display_name == "Client A"
    assert tenants.get_tenant(kc, a).to_json()["partner"] == p
    assert "branding_url" in partner.to_json()
    tenants.delete_tenant(kc, p, cascade=True)


def test_create_is_idempotent(kc: Keycloak, names: Names, writes: Counter[str]) -> None:
    """Creating a partner and a client twice writes nothing the second time."""
    p, c = names("p"), names("c")
    tenants.create_partner(kc, p, branding_url="https://b.example.test")
    tenants.create_client(kc, c, partner=p)
    writes.clear()
    tenants.create_partner(kc, p, branding_url="https://b.example.test")
    tenants.create_client(kc, c, partner=p)
    assert sum(writes.values()) == 0
    tenants.delete_tenant(kc, p, cascade=True)


def test_rerun_completes_a_half_created_tenant(kc: Keycloak, names: Names) -> None:
    """A realm created without its user-profile declaration is completed by a re-run."""
    p = names("p")
    kc.create_realm({"realm": p, "enabled": True, "attributes": {attr.TENANT_KIND: "partner"}})
    tenants.create_partner(kc, p)
    declared = [a["name"] for a in kc.get_user_profile(p)["attributes"]]
    assert attr.USER_ACTIVATED in declared
    tenants.delete_tenant(kc, p)


def test_updates_keep_hand_set_attributes(kc: Keycloak, names: Names) -> None:
    """Updates read-merge-write: an attribute set by hand survives them."""
    p, q, c = names("p"), names("q"), names("c")
    tenants.create_partner(kc, p)
    tenants.create_partner(kc, q)
    tenants.create_client(kc, c, partner=p)
    record.store(kc, c, {"custom.by.hand": "keep me"})
    record.store(kc, p, {"custom.by.hand": "keep me"})
    assert tenants.update_partner(kc, p, branding_url="https://new.example.test", display_name="P")
    assert tenants.update_client(kc, c, partner=q, display_name="C")
    assert not tenants.update_client(kc, c, partner=q, display_name="C")
    assert kc.get_realm(c)["attributes"]["custom.by.hand"] == "keep me"
    assert kc.get_realm(p)["attributes"]["custom.by.hand"] == "keep me"
    assert tenants.get_tenant(kc, c).partner == q
    assert tenants.update_partner(kc, p, clear_branding_url=True)
    assert tenants.get_tenant(kc, p).branding_url is None
    tenants.delete_tenant(kc, q, cascade=True)
    tenants.delete_tenant(kc, p)


def test_delete_refuses_a_partner_with_clients(kc: Keycloak, names: Names) -> None:
    """Without cascade a partner with clients stays; with it, clients go first."""
    p, c = names("p"), names("c")
    tenants.create_partner(kc, p)
    tenants.create_client(kc, c, partner=p)
    with pytest.raises(ConfigError, match="still has clients"):
        tenants.delete_tenant(kc, p)
    assert kc.find_realm(p) is not None
    assert tenants.delete_tenant(kc, p, cascade=True) == [c, p]
    assert kc.find_realm(c) is None


def test_wrong_kinds_and_unknown_partner(kc: Keycloak, names: Names) -> None:
    """A client needs an existing partner; names cannot switch kind."""
    p, c = names("p"), names("c")
    with pytest.raises(NotFoundError, match="does not exist"):
        tenants.create_client(kc, c, partner=p)
    tenants.create_partner(kc, p)
    tenants.create_client(kc, c, partner=p)
    with pytest.raises(ConfigError, match="not a partner"):
        tenants.create_partner(kc, c)
    with pytest.raises(ConfigError, match="not a client"):
        tenants.create_client(kc, p, partner=p)
    with pytest.raises(NotFoundError, match="not a partner"):
        tenants.create_client(kc, names("x"), partner=c)
    with pytest.raises(NotFoundError, match="not a partner or client"):
        tenants.get_tenant(kc, "master")
    q = names("q")
    tenants.create_partner(kc, q)
    with pytest.raises(ConfigError, match="already belongs to partner"):
        tenants.create_client(kc, c, partner=q)
    tenants.delete_tenant(kc, q)
    tenants.delete_tenant(kc, p, cascade=True)


def test_custom_template_dir(kc: Keycloak, names: Names, tmp_path: Path) -> None:
    """Administrators can supply their own templates."""
    body = {
        "realm": "${REALM}",
        "displayName": "Custom ${DISPLAY_NAME}",
        "enabled": True,
        "attributes": {"custom.template": "yes"},
    }
    (tmp_path / "partner.json").write_text(json.dumps(body), encoding="utf-8")
    p = names("p")
    tenant = tenants.create_partner(kc, p, display_name="X", template_dir=tmp_path)
    assert tenant.display_name == "Custom X"
    assert tenant.attributes["custom.template"] == "yes"
    tenants.delete_tenant(kc, p)
