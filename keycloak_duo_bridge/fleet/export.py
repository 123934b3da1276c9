"""Live Keycloak written out as a tenant file, with secret references in place of secrets.

Only what a realm sets itself is written, so applying the export to empty realms and
planning again shows no changes. An skey becomes ``env:KDB_SKEY_<REALM>`` (an Auth API
skey ``env:KDB_AUTHAPI_SKEY_<REALM>``); with a secrets directory, it is decrypted into
``<dir>/<realm>.skey`` (``<realm>.authapi.skey``), mode 0600, and referenced as
``file:...``, relative to the tenant file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import yaml

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import apps, organizations
from keycloak_duo_bridge.admin.effective import parse_apps, parse_bypass_groups
from keycloak_duo_bridge.admin.idp_policy import IdpPolicy, parse_idps
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.tenants import Tenant, list_tenants
from keycloak_duo_bridge.attributes import AppMode, IdpMode, TenantKind
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import ConfigError, NotFoundError
from keycloak_duo_bridge.fleet.spec import VERSION

HEADER = "# keycloak-duo-bridge tenant file (docs/fleet.md), written by `export`\n"
_NOT_NAME = re.compile(r"[^A-Z0-9]")


def env_name(realm: str, prefix: str = "KDB_SKEY_") -> str:
    """The environment variable an exported skey reference names."""
    return f"{prefix}{_NOT_NAME.sub('_', realm.upper())}"


_WEB_SDK: Final = (attr.DUO_SKEY, "KDB_SKEY_", ".skey")
_AUTH_API: Final = (attr.AUTH_API_SKEY, "KDB_AUTHAPI_SKEY_", ".authapi.skey")


def export(
    keycloak: Keycloak,
    *,
    partners: Sequence[str] = (),
    ring: KeyRing | None = None,
    secrets_dir: Path | None = None,
    base: Path | None = None,
) -> str:
    """The tenant file for ``partners`` (default: every partner) and their clients.

    ``base`` is the directory the tenant file will live in (file references are relative to
    it); ``secrets_dir`` needs ``ring`` to decrypt the skeys it writes.
    """
    found = list_tenants(keycloak)
    known = {t.name for t in found if t.kind is TenantKind.PARTNER}
    for name in partners:
        if name not in known:
            raise NotFoundError(f"realm {name!r} is not a partner")
    chosen = set(partners) or known
    body: dict[str, Any] = {"version": VERSION, "partners": {}}
    for tenant in found:
        owner = tenant.name if tenant.kind is TenantKind.PARTNER else str(tenant.partner)
        if owner not in chosen:
            continue
        entry = _tenant(tenant, ring, secrets_dir, base)
        if tenant.kind is TenantKind.PARTNER:
            body["partners"][tenant.name] = entry
        else:  # partners sort before their clients
            body["partners"][owner].setdefault("clients", {})[tenant.name] = entry
    for partner in [t for t in found if t.kind is TenantKind.PARTNER and t.name in chosen]:
        for organization in organizations.list_organizations(keycloak, partner.name):
            clients = body["partners"][partner.name].setdefault("clients", {})
            clients[organization.name] = _organization(organization, ring, secrets_dir, base)
    return HEADER + yaml.safe_dump(body, sort_keys=False, default_flow_style=False)


def _tenant(
    tenant: Tenant,
    ring: KeyRing | None,
    secrets_dir: Path | None,
    base: Path | None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if tenant.display_name and tenant.display_name != tenant.name:
        entry["display_name"] = tenant.display_name
    if tenant.kind is TenantKind.PARTNER and tenant.branding_url:
        entry["branding_url"] = tenant.branding_url
    duo = _duo(tenant.name, tenant.name, tenant.attributes, ring, secrets_dir, base)
    if duo:
        entry["duo"] = duo
    modes = {
        client_id: mode.value
        for client_id, mode in apps.stored_modes(dict(tenant.attributes)).items()
        if mode is not AppMode.INHERIT
    }
    if modes:
        entry["apps"] = dict(sorted(modes.items()))
    stored = tenant.attributes.get(attr.DUO_IDPS)
    if stored:
        entry["idps"] = {alias: _idp(policy) for alias, policy in parse_idps(stored).items()}
    return entry


def _organization(
    organization: organizations.Organization,
    ring: KeyRing | None,
    secrets_dir: Path | None,
    base: Path | None,
) -> dict[str, Any]:
    """A client kept as an organization: ``as: organization``, its display name (the
    organization's description), its own Duo settings and app modes."""
    entry: dict[str, Any] = {"as": "organization"}
    description = organization.display_name
    if description and description != organization.name:
        entry["display_name"] = description
    a = organization.attributes
    duo = _duo(organization.name, organization.scope, a, ring, secrets_dir, base)
    if duo:
        entry["duo"] = duo
    stored = parse_apps(a[attr.DUO_APPS]) if a.get(attr.DUO_APPS) else {}
    if stored:
        entry["apps"] = {client_id: mode.value for client_id, mode in sorted(stored.items())}
    return entry


def _idp(policy: IdpPolicy) -> dict[str, Any]:
    body = policy.stored()
    out: dict[str, Any] = {"policy": body.pop("mode"), **body}
    if policy.mode is IdpMode.OFF:
        out["confirm_off"] = True  # it was confirmed when set
    return out


def _duo(  # noqa: PLR0917
    holder: str,
    scope: str,
    a: Mapping[str, str],
    ring: KeyRing | None,
    secrets_dir: Path | None,
    base: Path | None,
) -> dict[str, Any]:
    """The Duo settings of the realm or organization ``holder``; ``scope``: what its sealed
    skeys are bound to (a realm's name, an organization's realm and id)."""
    duo: dict[str, Any] = {}
    if attr.DUO_ENABLED in a:
        duo["enabled"] = {"true": True, "false": False}.get(
            a[attr.DUO_ENABLED], a[attr.DUO_ENABLED]
        )
    if a.get(attr.DUO_PROVISIONED_IKEY) and a.get(attr.DUO_IKEY) == a[attr.DUO_PROVISIONED_IKEY]:
        duo["provision"] = True  # its keys come from the partner's link, never a file
    elif a.get(attr.DUO_IKEY) and a.get(attr.DUO_API_HOST) and a.get(attr.DUO_SKEY):
        duo["ikey"] = a[attr.DUO_IKEY]
        duo["api_host"] = a[attr.DUO_API_HOST]
        duo["skey"] = _skey_reference(holder, _WEB_SDK, a, ring, secrets_dir, base, scope)
    for key, name in (
        ("user_mode", attr.DUO_USER_MODE),
        ("fail_mode", attr.DUO_FAIL_MODE),
        ("duo_username", attr.DUO_USERNAME),
        ("assurance", attr.DUO_ASSURANCE),
        ("brokered_username", attr.DUO_BROKERED_USERNAME),
        ("brokered_enrollment", attr.DUO_BROKERED_ENROLLMENT),
    ):
        if name in a:
            duo[key] = a[name]
    if attr.DUO_BYPASS_GROUPS in a:
        duo["bypass_groups"] = list(parse_bypass_groups(a[attr.DUO_BYPASS_GROUPS]))
    if attr.DUO_REMEMBER in a:
        remember = a[attr.DUO_REMEMBER]
        duo["remember"] = int(remember) if remember.isdigit() else remember
    if a.get(attr.AUTH_API_IKEY) and a.get(attr.AUTH_API_HOST) and a.get(attr.AUTH_API_SKEY):
        duo["auth_api"] = {
            "ikey": a[attr.AUTH_API_IKEY],
            "api_host": a[attr.AUTH_API_HOST],
            "skey": _skey_reference(holder, _AUTH_API, a, ring, secrets_dir, base, scope),
        }
    return duo


def _skey_reference(  # noqa: PLR0917
    realm: str,
    kind: tuple[str, str, str],
    stored_attributes: Mapping[str, str],
    ring: KeyRing | None,
    secrets_dir: Path | None,
    base: Path | None,
    scope: str | None = None,
) -> str:
    """``env:``/``file:`` named after ``realm``; ``scope``: what the skey is sealed for (an
    organization's realm and id; default the realm)."""
    attribute, prefix, suffix = kind
    stored = stored_attributes[attribute]
    if secrets_dir is None:
        return f"env:{env_name(realm, prefix)}"
    if ring is None:
        raise ConfigError("KDB_KEYRING and KDB_ACTIVE_KEY_ID must be set to export skeys")
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = secrets_dir / f"{realm}{suffix}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when the file was there before
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(ring.decrypt(stored, realm=scope or realm, attribute=attribute) + "\n")
    target = Path(os.path.relpath(path.resolve(), base.resolve())) if base else path.resolve()
    return f"file:{target.as_posix()}"
