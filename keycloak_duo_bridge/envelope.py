"""Envelope encryption of secrets stored in Keycloak attributes (the Duo skey).

AES-256-GCM under a key from the key ring. The stored value names its key id, so keys can
rotate; the associated data binds the realm and the attribute name, so a ciphertext copied
into another realm (or another attribute) fails to decrypt::

    kdb1:<key id>:<base64url nonce>:<base64url ciphertext and tag>

Plaintext never appears in errors or reprs.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keycloak_duo_bridge.errors import BridgeError, ConfigError

VERSION = "kdb1"
KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class DecryptionError(BridgeError):
    """A stored secret could not be decrypted: wrong realm, unknown key, or tampered value."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def associated_data(realm: str, attribute: str) -> bytes:
    """What a ciphertext is bound to: the realm name and the attribute name."""
    return f"{realm}\0{attribute}".encode()


def key_id_of(stored: str) -> str:
    """The key id named in a stored value, or a DecryptionError if it is not ours."""
    parts = stored.split(":")
    if len(parts) != 4 or parts[0] != VERSION:  # noqa: PLR2004
        raise DecryptionError("the stored secret is not in kdb1 envelope format")
    return parts[1]


def generate_key() -> str:
    """A new random key, base64-encoded, for the key ring."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


@dataclass(frozen=True)
class KeyRing:
    """Named AES-256 keys, one of them active for new encryptions."""

    active: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        for kid, key in self.keys.items():
            if not _KEY_ID.match(kid):
                raise ConfigError(f"KDB_KEYRING: key id {kid!r} must match [A-Za-z0-9_-]{{1,32}}")
            if len(key) != KEY_BYTES:
                raise ConfigError(f"KDB_KEYRING: key {kid!r} must be {KEY_BYTES} bytes")
        if self.active not in self.keys:
            raise ConfigError(f"KDB_ACTIVE_KEY_ID: {self.active!r} is not in the key ring")

    def __repr__(self) -> str:
        return f"KeyRing(active={self.active!r}, key_ids={sorted(self.keys)!r})"

    @classmethod
    def from_json(cls, text: str, active: str) -> KeyRing:
        """A key ring from ``{"<key id>": "<base64 key>", ...}`` (the KDB_KEYRING value)."""
        try:
            raw = json.loads(text)
        except ValueError:
            raise ConfigError("KDB_KEYRING: not valid JSON") from None
        if not isinstance(raw, dict) or not raw:
            raise ConfigError('KDB_KEYRING: expected a JSON object {"<key id>": "<base64 key>"}')
        keys: dict[str, bytes] = {}
        for kid, encoded in raw.items():
            try:
                keys[str(kid)] = base64.b64decode(str(encoded), validate=True)
            except binascii.Error:
                raise ConfigError(f"KDB_KEYRING: key {kid!r} is not base64") from None
        return cls(active=active, keys=keys)

    def encrypt(self, plaintext: str, *, realm: str, attribute: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active]).encrypt(
            nonce, plaintext.encode(), associated_data(realm, attribute)
        )
        return f"{VERSION}:{self.active}:{_b64encode(nonce)}:{_b64encode(sealed)}"

    def decrypt(self, stored: str, *, realm: str, attribute: str) -> str:
        kid = key_id_of(stored)
        key = self.keys.get(kid)
        if key is None:
            raise DecryptionError(f"the secret in realm {realm!r} is under unknown key {kid!r}")
        _, _, nonce, sealed = stored.split(":")
        try:
            plain = AESGCM(key).decrypt(
                _b64decode(nonce), _b64decode(sealed), associated_data(realm, attribute)
            )
        except (InvalidTag, ValueError, binascii.Error):
            raise DecryptionError(
                f"the secret in realm {realm!r} does not decrypt: it was tampered with, "
                "copied from another realm, or written under another key"
            ) from None
        return plain.decode()

    def needs_rotation(self, stored: str) -> bool:
        """True when ``stored`` is under a key other than the active one."""
        return key_id_of(stored) != self.active
