"""An organization's effective settings, its members' decision and its record: pure rules."""

from __future__ import annotations

import json

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record
from keycloak_duo_bridge.admin.effective import (
    EffectiveSettings,
    Origin,
    PolicyOutcome,
    decide_member,
    fails_open,
    organization_scope,
    resolve_effective,
    resolve_organization,
    single_values,
)
from keycloak_duo_bridge.attributes import AppMode

PARTNER = {
    attr.TENANT_KIND: "partner",
    attr.DUO_ENABLED: "true",
    attr.DUO_IKEY: "DIPARTNERXXXXXXXXXXX",
    attr.DUO_API_HOST: "api-p.duosecurity.com",
    attr.DUO_SKEY: "sealed-p",
    attr.DUO_APPS: '{"payroll":"off"}',
    attr.DUO_USERNAME: "email",
    "kdb.tenant.client.north": "north-id",
}


def member(
    own: dict[str, str], partner: dict[str, str] = PARTNER
) -> tuple[EffectiveSettings, EffectiveSettings]:
    realm = resolve_effective(partner, None, realm="acme", realm_id="acme-id")
    org = resolve_organization(own, realm, partner, organization="initech", organization_id="o1")
    return realm, org


def test_an_organization_overrides_and_inherits_like_a_client_realm() -> None:
    """Its own values win, the partner's fill the rest; its skey is bound to realm and id; the
    username mapping stays the realm's; its app modes go over the partner's."""
    _, org = member(
        {
            attr.DUO_IKEY: "DIORGXXXXXXXXXXXXXXX",
            attr.DUO_API_HOST: "api-o.duosecurity.com",
            attr.DUO_SKEY: "sealed-o",
            attr.DUO_APPS: '{"wiki":"required"}',
            attr.DUO_USERNAME: "username",
        }
    )
    assert org.organization == "initech"
    creds = org.credentials
    assert (creds.origin, creds.realm) == (Origin.ORGANIZATION, "initech")
    assert creds.value is not None
    assert creds.value.realm == organization_scope("acme", "o1") == "acme/organization/o1"
    assert org.enabled.origin is Origin.PARTNER_REALM
    assert org.username_mapping.value.value == "email"
    assert org.apps == {"payroll": AppMode.OFF, "wiki": AppMode.REQUIRED}
    assert org.problems == (
        "kdb.duo.username is not an organization setting and is ignored on organization 'initech'",
    )


def test_membership_never_lowers_the_requirement() -> None:
    """Duo when the realm's or the organization's policy requires it, each with its own app
    mode; skipped only when neither does; a login of no organization decides alone."""
    realm, org = member({attr.DUO_ENABLED: "false", attr.DUO_APPS: '{"payroll":"required"}'})
    required = decide_member(realm, org, "wiki")
    assert required.outcome is PolicyOutcome.REQUIRED
    assert required.reason.startswith("partner realm acme:")
    added = decide_member(realm, member({attr.DUO_APPS: '{"payroll":"required"}'})[1], "payroll")
    assert added.reason.startswith("organization initech:")
    off = decide_member(realm, org, "payroll")
    assert off.outcome is PolicyOutcome.REALM_OFF
    alone = decide_member(realm, realm, "payroll")
    assert alone.outcome is PolicyOutcome.APP_OFF


def test_the_organizations_record_and_fingerprint() -> None:
    """The record holds what the extension combines; its fingerprint takes the realm's
    attributes but none of its links; one too long for Keycloak is no record."""
    _, org = member({attr.DUO_REMEMBER: "30"})
    own = {attr.TENANT_KIND: "client", attr.DUO_REMEMBER: "30"}
    body = json.loads(str(record.organization_record(org, own, PARTNER)))
    assert body["remember"] == "window"
    assert body["remember_seconds"] == 1800
    assert body["apps_off"] == ["payroll"]
    unlinked = {k: v for k, v in PARTNER.items() if not k.startswith(attr.TENANT_CLIENT_PREFIX)}
    assert record.organization_fingerprint(own, PARTNER) == record.organization_fingerprint(
        own, unlinked
    )
    many = {attr.DUO_APPS: json.dumps({f"application-{n}": "off" for n in range(20)})}
    _, crowded = member(many)
    assert record.organization_record(crowded, many, PARTNER) is None


def test_single_values_take_keycloaks_first() -> None:
    """Keycloak's attribute lists become one value each; empty ones are dropped."""
    found = single_values({"attributes": {"a": ["1", "2"], "b": [], "c": "3"}})
    assert found == {"a": "1", "c": "3"}
    assert single_values({}) == {}


def test_each_of_the_users_organizations_counts_whichever_is_selected() -> None:
    """A member of a lax and a strict organization meets Duo by the strict one's app mode
    even with the lax one selected; the reason names the strict one."""
    partner = {**PARTNER, attr.DUO_ENABLED: "false"}
    realm, lax = member({}, partner)
    strict = resolve_organization(
        {attr.DUO_ENABLED: "true", attr.DUO_APPS: '{"wiki":"required"}'},
        realm,
        partner,
        organization="globex",
        organization_id="o2",
    )
    assert not decide_member(realm, lax, "wiki").requires_duo
    decided = decide_member(realm, lax, "wiki", others=[strict])
    assert decided.outcome is PolicyOutcome.REQUIRED
    assert decided.reason.startswith("organization globex (the user is a member of it too):")
    assert not decide_member(realm, lax, "wiki", others=[lax]).requires_duo


def test_an_outage_bypasses_only_when_every_organization_fails_open() -> None:
    """fails_open holds for one fail-open settings alone, and not once any other is closed."""
    _, fail_open = member({attr.DUO_FAIL_MODE: "open"})
    _, closed = member({attr.DUO_FAIL_MODE: "closed"})
    assert fails_open(fail_open)
    assert fails_open(fail_open, [fail_open])
    assert not fails_open(fail_open, [closed])
    assert not fails_open(closed)
