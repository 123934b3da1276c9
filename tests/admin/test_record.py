"""The resolved record the extension reads, and its fingerprint (pure, no Keycloak)."""

from __future__ import annotations

import json

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record
from keycloak_duo_bridge.admin.effective import resolve_effective
from keycloak_duo_bridge.admin.record import RecordState

PARTNER = {
    attr.TENANT_KIND: "partner",
    attr.DUO_ENABLED: "true",
    attr.DUO_FAIL_MODE: "open",
    attr.BRIDGE_URL: "https://bridge",
    attr.BRIDGE_JWKS: '{"keys":[]}',
    attr.TENANT_CLIENT_PREFIX + "c": "cid",
    attr.TENANT_CLIENT_PREFIX + "other": "oid",
    "frontendUrl": "https://p",
}
CLIENT = {
    attr.TENANT_KIND: "client",
    attr.TENANT_PARTNER: "p",
    attr.DUO_REMEMBER: "15",
    attr.DUO_APPS: '{"app":"off","b":"required"}',
}


def written(own: dict[str, str], partner: dict[str, str] | None) -> dict[str, str]:
    effective = resolve_effective(own, partner, realm="c", realm_id="cid")
    return {**own, attr.RESOLVED: record.record(effective, own, partner)}


def test_the_record_carries_what_the_extension_needs_resolved() -> None:
    """Inherited switch, fail mode and wiring; own apps off; the window in seconds."""
    body = json.loads(written(CLIENT, PARTNER)[attr.RESOLVED])
    assert body == {
        "v": 1,
        "cfg": record.fingerprint(CLIENT, PARTNER, realm="c"),
        "partner": "p",
        "enabled": True,
        "apps_off": ["app"],
        "apps_required": ["b"],
        "fail_open": True,
        "remember": "window",
        "remember_seconds": 900,
        "bridge_url": "https://bridge",
        "bridge_jwks": '{"keys":[]}',
        "assurance": "enforce",
        "acr_duo": "mfa",
        "acr_base": "pwd",
        "idp_trusted": [],
    }


def test_an_unproven_partner_contributes_nothing() -> None:
    """Without the partner's side of the link the record inherits nothing and hashes no
    partner attribute."""
    partner = {k: v for k, v in PARTNER.items() if k != attr.TENANT_CLIENT_PREFIX + "c"}
    body = json.loads(written(CLIENT, partner)[attr.RESOLVED])
    assert body["partner"] is None
    assert body["enabled"] is False
    assert body["bridge_url"] is None
    assert body["cfg"] == record.fingerprint(CLIENT, None, realm="c")


def test_the_fingerprint_covers_kdb_attributes_and_the_own_link_only() -> None:
    """Other clients' links, records and non-kdb attributes do not move it; the rest does."""
    base = record.fingerprint(CLIENT, PARTNER, realm="c")
    noise = {**PARTNER, attr.TENANT_CLIENT_PREFIX + "new": "x", attr.RESOLVED: "{}", "x": "y"}
    assert record.fingerprint({**CLIENT, "frontendUrl": "z"}, noise, realm="c") == base
    assert record.fingerprint(CLIENT, {**PARTNER, attr.DUO_ENABLED: "false"}, realm="c") != base
    unlinked = {k: v for k, v in PARTNER.items() if k != attr.TENANT_CLIENT_PREFIX + "c"}
    assert record.fingerprint(CLIENT, unlinked, realm="c") != base
    assert record.fingerprint({**CLIENT, attr.DUO_ENABLED: "TRUE"}, PARTNER, realm="c") != base


def test_record_states() -> None:
    """Current when it matches; stale after a hand edit, for garbage or another version."""
    own = written(CLIENT, PARTNER)
    assert record.state_of(own, PARTNER, realm="c") is RecordState.CURRENT
    assert record.state_of(CLIENT, PARTNER, realm="c") is RecordState.MISSING
    edited = {**own, attr.DUO_ENABLED: "TRUE"}
    assert record.state_of(edited, PARTNER, realm="c") is RecordState.STALE
    for text in ("not json", "[]", json.dumps({**json.loads(own[attr.RESOLVED]), "v": 2})):
        assert record.state_of({**own, attr.RESOLVED: text}, PARTNER, realm="c") is (
            RecordState.STALE
        )
    partner_changed = {**PARTNER, attr.DUO_FAIL_MODE: "closed"}
    assert record.state_of(own, partner_changed, realm="c") is RecordState.STALE


def test_linked_clients_are_named_on_the_partner() -> None:
    """The partner's kdb.tenant.client.* attributes list its clients, sorted."""
    assert record.linked_clients(PARTNER) == ["c", "other"]
