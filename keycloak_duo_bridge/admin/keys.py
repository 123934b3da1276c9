"""Envelope key rotation of the stored skeys, across every realm.

``rotate`` re-encrypts each realm's skey (and each client organization's, sealed for its
realm and id) under the active key. It only writes realms whose
secret is under another key, one realm at a time, so it is idempotent and, after a failure,
a re-run resumes where it stopped. ``check`` reports secrets under a retired (no longer in
the ring) or unknown key, and secrets that no longer decrypt where they are (e.g. copied from
another realm). Old keys can be removed from ``KDB_KEYRING`` once ``check`` is clean.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record
from keycloak_duo_bridge.admin.effective import organization_scope, single_values
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.envelope import DecryptionError, KeyRing, key_id_of

log = logging.getLogger(__name__)


class KeyState(StrEnum):
    ACTIVE = "active"  # under the active key, decrypts
    OLD = "old"  # under another key of the ring: rotate
    UNKNOWN = "unknown"  # under a key not in the ring (retired too early, or foreign)
    BROKEN = "broken"  # does not decrypt here: tampered, or copied from another realm


@dataclass(frozen=True)
class SecretReport:
    realm: str
    key_id: str | None
    state: KeyState
    rotated: bool = False
    attribute: str = attr.DUO_SKEY  # or a partner's admin link skey (kdb.duo.admin.skey)

    @property
    def ok(self) -> bool:
        return self.state is KeyState.ACTIVE


def _state(
    ring: KeyRing, realm: str, stored: str, attribute: str = attr.DUO_SKEY
) -> tuple[str | None, KeyState]:
    try:
        kid = key_id_of(stored)
    except DecryptionError:
        return None, KeyState.BROKEN
    if kid not in ring.keys:
        return kid, KeyState.UNKNOWN
    try:
        ring.decrypt(stored, realm=realm, attribute=attribute)
    except DecryptionError:
        return kid, KeyState.BROKEN
    return kid, KeyState.ACTIVE if kid == ring.active else KeyState.OLD


_SEALED = (attr.DUO_SKEY, attr.DUO_ADMIN_SKEY)  # a realm's skey, a partner's admin link skey


@dataclass(frozen=True)
class _Secret:
    holder: str  # the realm, or a client organization's scope (its realm and id)
    attribute: str
    stored: str = field(repr=False)
    realm: str
    organization: Json | None = field(default=None, repr=False, compare=False)


def _secrets(keycloak: Keycloak) -> list[_Secret]:
    """Every sealed secret: the realms', and their client organizations' skeys."""
    found = []
    for realm in keycloak.get_realms():
        name = str(realm["realm"])
        attributes = realm.get("attributes") or {}
        for attribute in _SEALED:
            stored = attributes.get(attribute)
            if stored:
                found.append(_Secret(name, attribute, str(stored), name))
        if realm.get(record.ORGANIZATIONS_ENABLED):
            for organization in keycloak.get_organizations(name):
                values = single_values(organization)
                stored = values.get(attr.DUO_SKEY)
                if values.get(attr.TENANT_KIND) == TenantKind.CLIENT and stored:
                    scope = organization_scope(name, str(organization["id"]))
                    found.append(_Secret(scope, attr.DUO_SKEY, stored, name, organization))
    return sorted(found, key=lambda secret: (secret.holder, secret.attribute))


def check(keycloak: Keycloak, ring: KeyRing) -> list[SecretReport]:
    return [
        SecretReport(
            s.holder, *_state(ring, s.holder, s.stored, s.attribute), attribute=s.attribute
        )
        for s in _secrets(keycloak)
    ]


def rotate(keycloak: Keycloak, ring: KeyRing) -> list[SecretReport]:
    """Re-encrypt every skey under an old key; unknown or broken ones are reported, kept."""
    reports = []
    for secret in _secrets(keycloak):
        holder, attribute = secret.holder, secret.attribute
        kid, state = _state(ring, holder, secret.stored, attribute)
        if state is not KeyState.OLD:
            reports.append(SecretReport(holder, kid, state, attribute=attribute))
            continue
        plain = ring.decrypt(secret.stored, realm=holder, attribute=attribute)
        sealed = ring.encrypt(plain, realm=holder, attribute=attribute)
        del plain
        if secret.organization is None:
            record.store(keycloak, holder, {attribute: sealed})
        else:
            record.store_organization(
                keycloak, secret.realm, secret.organization, {attribute: sealed}
            )
        log.info("re-encrypted %s of %s: key %s -> %s", attribute, holder, kid, ring.active)
        reports.append(
            SecretReport(holder, ring.active, KeyState.ACTIVE, rotated=True, attribute=attribute)
        )
    return reports
