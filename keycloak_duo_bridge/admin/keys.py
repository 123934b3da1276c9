"""Envelope key rotation of the stored skeys, across every realm.

``rotate`` re-encrypts each realm's skey under the active key. It only writes realms whose
secret is under another key, one realm at a time, so it is idempotent and, after a failure,
a re-run resumes where it stopped. ``check`` reports secrets under a retired (no longer in
the ring) or unknown key, and secrets that no longer decrypt where they are (e.g. copied from
another realm). Old keys can be removed from ``KDB_KEYRING`` once ``check`` is clean.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record
from keycloak_duo_bridge.admin.keycloak import Keycloak
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


def _secrets(keycloak: Keycloak) -> list[tuple[str, str, str]]:
    """``(realm, attribute, ciphertext)`` of every sealed secret."""
    found = []
    for realm in keycloak.get_realms():
        attributes = realm.get("attributes") or {}
        for attribute in _SEALED:
            stored = attributes.get(attribute)
            if stored:
                found.append((str(realm["realm"]), attribute, str(stored)))
    return sorted(found)


def check(keycloak: Keycloak, ring: KeyRing) -> list[SecretReport]:
    return [
        SecretReport(realm, *_state(ring, realm, stored, attribute), attribute=attribute)
        for realm, attribute, stored in _secrets(keycloak)
    ]


def rotate(keycloak: Keycloak, ring: KeyRing) -> list[SecretReport]:
    """Re-encrypt every skey under an old key; unknown or broken ones are reported, kept."""
    reports = []
    for realm, attribute, stored in _secrets(keycloak):
        kid, state = _state(ring, realm, stored, attribute)
        if state is not KeyState.OLD:
            reports.append(SecretReport(realm, kid, state, attribute=attribute))
            continue
        plain = ring.decrypt(stored, realm=realm, attribute=attribute)
        sealed = ring.encrypt(plain, realm=realm, attribute=attribute)
        del plain
        record.store(keycloak, realm, {attribute: sealed})
        log.info("re-encrypted %s of realm %s: key %s -> %s", attribute, realm, kid, ring.active)
        reports.append(
            SecretReport(realm, ring.active, KeyState.ACTIVE, rotated=True, attribute=attribute)
        )
    return reports
