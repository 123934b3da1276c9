"""What the extension reads: a realm's settings resolved by Python, bound to their sources.

One source of policy. The admin service resolves a realm's effective settings with
:mod:`~keycloak_duo_bridge.admin.effective` (the link rule, fallbacks, defaults, validation)
and writes the part the extension needs into one realm attribute, ``kdb.resolved``, as JSON:

``{"v": 1, "cfg": <fingerprint>, "partner": <proven partner or null>, "enabled": bool,
"apps_off": [clientId, ...], "apps_required": [clientId, ...], "fail_open": bool,
"remember": "session" | "every-login" | "window", "remember_seconds": int,
"bridge_url": str | null, "bridge_jwks": str | null,
"assurance": "enforce" | "step-up", "acr_duo": "mfa", "acr_base": "pwd",
"idp_trusted": [alias, ...]}``

``idp_trusted`` lists the identity providers whose policy is ``trust-upstream-mfa``: the
extension accepts an ``upstream`` verdict only for a login that came through one of them.

The extension reads it verbatim. It is *verified* by its fingerprint: a SHA-256 of the
realm's own ``kdb.*`` attributes and its proven partner's (see :func:`fingerprint`), which
the extension computes the same way at every login. When they differ (someone edited an
attribute by hand, the partner changed outside the admin service, or there is no record),
the extension fails closed: it hands every login to the bridge, accepts no bypass and
remembers no pass; the bridge resolves the live attributes with the same functions as here
and answers ``skip`` where Duo does not apply. ``explain`` reports the record's state.

Every write of a realm's attributes by the admin service goes through :func:`store`, which
writes the record in the same call and, for a partner, refreshes its linked clients' records.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from keycloak_duo_bridge import assurance
from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.effective import (
    EffectiveSettings,
    link_attribute,
    resolve_effective,
    resolve_organization,
    single_values,
)
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.attributes import AppMode, FailMode, IdpMode, TenantKind
from keycloak_duo_bridge.errors import ConfigError, NotFoundError

ORGANIZATIONS_ENABLED: Final = "organizationsEnabled"  # Keycloak's realm switch
# Keycloak keeps an organization's attribute values (its group's) in 255 characters.
MAX_ORGANIZATION_VALUE: Final = 255

VERSION: Final = 1
PARTNER_PREFIX: Final = "partner:"
_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(keycloak: Keycloak, realm: str) -> threading.Lock:
    """One writer per realm in this process: parallel creates all add a link to the partner,
    and a realm PUT replaces its whole attribute set."""
    with _locks_guard:
        return _locks.setdefault((keycloak.url, realm), threading.Lock())


class RecordState(StrEnum):
    CURRENT = "current"  # the extension uses the record
    STALE = "stale"  # the extension fails closed: every login goes to the bridge
    MISSING = "missing"


def fingerprint(own: Mapping[str, str], partner: Mapping[str, str] | None, *, realm: str) -> str:
    """SHA-256 (base64url) of the attributes a record is resolved from, as Java computes it.

    Lines ``name=value`` sorted by name: the realm's ``kdb.*`` attributes but the record, then
    the proven partner's as ``partner:name``, but its record and its links to other clients.
    """
    return _fingerprint(own, partner, link_attribute(realm))


def organization_fingerprint(own: Mapping[str, str], partner: Mapping[str, str]) -> str:
    """The fingerprint of a client organization's record: as :func:`fingerprint`, over the
    organization's ``kdb.*`` attributes and its realm's (``partner:name``), with none of the
    realm's links to client realms."""
    return _fingerprint(own, partner, None)


def _fingerprint(
    own: Mapping[str, str], partner: Mapping[str, str] | None, mine: str | None
) -> str:
    lines: dict[str, str] = {
        name: value
        for name, value in own.items()
        if name.startswith(attr.PREFIX) and name != attr.RESOLVED
    }
    if partner is not None:
        for name, value in partner.items():
            if not name.startswith(attr.PREFIX) or name == attr.RESOLVED:
                continue
            if name.startswith(attr.TENANT_CLIENT_PREFIX) and name != mine:
                continue
            lines[PARTNER_PREFIX + name] = value
    digest = hashlib.sha256()
    for name in sorted(lines):
        digest.update(f"{name}={lines[name]}\n".encode())
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def _inherited(name: str, own: Mapping[str, str], partner: Mapping[str, str] | None) -> str | None:
    value = own.get(name) or (partner or {}).get(name)
    return value or None


def record(
    effective: EffectiveSettings,
    own: Mapping[str, str],
    partner: Mapping[str, str] | None,
) -> str:
    """The record for a realm whose settings resolved to ``effective`` (``partner``: the
    partner's attributes, used only when the link is proven)."""
    linked = partner if effective.linked else None
    cfg = fingerprint(own, linked, realm=effective.realm)
    return _record(effective, own, linked, cfg, effective.partner if effective.linked else None)


def organization_record(
    effective: EffectiveSettings, own: Mapping[str, str], partner: Mapping[str, str]
) -> str | None:
    """The record of a client organization whose members' settings resolved to ``effective``
    (``own``: its attributes; ``partner``: its realm's): only what the extension combines
    with the realm's record for a member (the rest is the realm's). None when it would not
    fit an organization attribute value: the extension then fails closed for the members."""
    remember = effective.remember.value
    body = {
        "v": VERSION,
        "cfg": organization_fingerprint(own, partner),
        "enabled": effective.enabled.value,
        "apps_off": sorted(k for k, v in effective.apps.items() if v is AppMode.OFF),
        "apps_required": sorted(k for k, v in effective.apps.items() if v is AppMode.REQUIRED),
        "fail_open": effective.fail_mode.value is FailMode.OPEN,
        "remember": "window" if isinstance(remember, int) else remember.value,
        "remember_seconds": remember * 60 if isinstance(remember, int) else 0,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= MAX_ORGANIZATION_VALUE else None


def _record(
    effective: EffectiveSettings,
    own: Mapping[str, str],
    linked: Mapping[str, str] | None,
    cfg: str,
    partner: str | None,
) -> str:
    remember = effective.remember.value
    body: dict[str, Any] = {
        "v": VERSION,
        "cfg": cfg,
        "partner": partner,
        "enabled": effective.enabled.value,
        "apps_off": sorted(k for k, v in effective.apps.items() if v is AppMode.OFF),
        "apps_required": sorted(k for k, v in effective.apps.items() if v is AppMode.REQUIRED),
        "fail_open": effective.fail_mode.value is FailMode.OPEN,
        "remember": "window" if isinstance(remember, int) else remember.value,
        "remember_seconds": remember * 60 if isinstance(remember, int) else 0,
        "bridge_url": _inherited(attr.BRIDGE_URL, own, linked),
        "bridge_jwks": _inherited(attr.BRIDGE_JWKS, own, linked),
        "assurance": effective.assurance.value.value,
        "acr_duo": assurance.ACR_DUO,
        "acr_base": assurance.ACR_BASE,
        "idp_trusted": sorted(
            alias for alias, p in effective.idps.items() if p.mode is IdpMode.TRUST_UPSTREAM_MFA
        ),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def state_of(
    own: Mapping[str, str], partner: Mapping[str, str] | None, *, realm: str
) -> RecordState:
    """Whether the extension would use the realm's record (it computes the same check)."""
    text = own.get(attr.RESOLVED)
    if not text:
        return RecordState.MISSING
    try:
        body = json.loads(text)
    except ValueError:
        return RecordState.STALE
    if not isinstance(body, dict) or body.get("v") != VERSION:
        return RecordState.STALE
    named = body.get("partner")
    hashed = partner if isinstance(named, str) and partner is not None else None
    current = fingerprint(own, hashed, realm=realm)
    return RecordState.CURRENT if body.get("cfg") == current else RecordState.STALE


def resolve(
    keycloak: Keycloak, representation: Json
) -> tuple[EffectiveSettings, dict[str, str] | None]:
    """A realm's effective settings from its representation, reading its partner if it names
    one; and the partner's attributes (None without one)."""
    own: dict[str, str] = dict(representation.get("attributes") or {})
    realm = str(representation["realm"])
    partner_name = own.get(attr.TENANT_PARTNER)
    partner: dict[str, str] | None = None
    if partner_name and partner_name != realm:
        found = keycloak.find_realm(partner_name)
        partner = dict(found.get("attributes") or {}) if found else None
    realm_id = str(representation.get("id") or "")
    return resolve_effective(own, partner, realm=realm, realm_id=realm_id), partner


def _shapes_clients(before: Mapping[str, str], after: Mapping[str, str]) -> bool:
    """Whether a partner's change can change its clients' records (links to clients cannot,
    except each client's own, which :func:`link` refreshes itself)."""

    def relevant(attributes: Mapping[str, str]) -> dict[str, str]:
        return {
            k: v
            for k, v in attributes.items()
            if k.startswith(attr.PREFIX)
            and k != attr.RESOLVED
            and not k.startswith(attr.TENANT_CLIENT_PREFIX)
        }

    return relevant(before) != relevant(after)


def store(
    keycloak: Keycloak,
    realm: str,
    attributes: Mapping[str, str | None] | None = None,
    fields: Mapping[str, Any] | None = None,
) -> bool:
    """Set (``None``: remove) realm attributes and top-level fields, keep the rest, and write
    the realm's record in the same call. Returns False, writing nothing, when nothing would
    change. A partner whose change reaches its clients has their records refreshed too.

    Keycloak replaces the whole attribute set on PUT, so this reads the representation,
    merges and writes it all back.
    """
    with _lock(keycloak, realm):
        written, current, merged = _store(keycloak, realm, attributes, fields)
    partner = merged.get(attr.TENANT_KIND) == TenantKind.PARTNER
    if written and partner and _shapes_clients(current, merged):
        for name in linked_clients(merged):
            refresh(keycloak, name)
        refresh_organizations(keycloak, realm)
    return written


def store_organization(
    keycloak: Keycloak,
    realm: str,
    representation: Json,
    changes: Mapping[str, str | None],
    partner: Json | None = None,
) -> bool:
    """Set (``None``: remove) a client organization's attributes, keep the rest, and write its
    record (resolved over its realm, ``partner``: read when not given) in the same call.
    False, writing nothing, when nothing would change. Keycloak replaces the whole attribute
    set on PUT, so the whole representation is written back."""
    for name, value in changes.items():
        if value is not None and len(value) > MAX_ORGANIZATION_VALUE:
            raise ConfigError(
                f"{name} would take {len(value)} characters, and Keycloak keeps at most "
                f"{MAX_ORGANIZATION_VALUE} in an organization attribute: nothing saved"
            )
    partner = partner if partner is not None else keycloak.get_realm(realm)
    partner_attributes: dict[str, str] = dict(partner.get("attributes") or {})
    current = single_values(representation)
    merged = dict(current)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    realm_settings = resolve_effective(
        partner_attributes, None, realm=realm, realm_id=str(partner.get("id") or "")
    )
    effective = resolve_organization(
        merged,
        realm_settings,
        partner_attributes,
        organization=str(representation["name"]),
        organization_id=str(representation["id"]),
    )
    resolved = organization_record(effective, merged, partner_attributes)
    if resolved is None:
        merged.pop(attr.RESOLVED, None)
    else:
        merged[attr.RESOLVED] = resolved
    if merged == current:
        return False
    representation["attributes"] = {name: [value] for name, value in merged.items()}
    keycloak.update_organization(realm, str(representation["id"]), representation)
    return True


def refresh_organizations(keycloak: Keycloak, realm: str) -> list[str]:
    """Rewrite the records of the realm's client organizations that are out of date (after a
    change of the realm's settings); the names of those rewritten."""
    partner = keycloak.get_realm(realm)
    if not partner.get(ORGANIZATIONS_ENABLED):
        return []
    return [
        str(o["name"])
        for o in keycloak.get_organizations(realm)
        if single_values(o).get(attr.TENANT_KIND) == TenantKind.CLIENT
        and store_organization(keycloak, realm, o, {}, partner)
    ]


def _store(
    keycloak: Keycloak,
    realm: str,
    attributes: Mapping[str, str | None] | None,
    fields: Mapping[str, Any] | None,
) -> tuple[bool, dict[str, str], dict[str, str]]:
    representation = keycloak.get_realm(realm)
    current: dict[str, str] = dict(representation.get("attributes") or {})
    merged = dict(current)
    for name, value in (attributes or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    changed = False
    for name, value in (fields or {}).items():
        if representation.get(name) != value:
            representation[name] = value
            changed = True
    representation["attributes"] = merged
    effective, partner = resolve(keycloak, representation)
    merged[attr.RESOLVED] = record(effective, merged, partner)
    if merged != current:
        changed = True
    if changed:
        keycloak.update_realm(realm, representation)
    return changed, current, merged


def link(keycloak: Keycloak, partner: str, client: str, client_id: str | None) -> dict[str, str]:
    """Write (``client_id``) or remove (None) the partner's side of a client's link; returns
    the partner's attributes after. Only the admin service calls this: it is the proof."""
    with _lock(keycloak, partner):
        _, _, merged = _store(keycloak, partner, {link_attribute(client): client_id}, None)
    return merged


def refresh(keycloak: Keycloak, realm: str) -> bool:
    """Rewrite a realm's record from its current attributes; False when it was current.

    A realm that no longer exists is skipped (a partner may list a deleted client).
    """
    try:
        return store(keycloak, realm)
    except NotFoundError:
        return False


def linked_clients(partner_attributes: Mapping[str, str]) -> list[str]:
    """The client realms a partner's side names."""
    return sorted(
        name.removeprefix(attr.TENANT_CLIENT_PREFIX)
        for name in partner_attributes
        if name.startswith(attr.TENANT_CLIENT_PREFIX)
    )
