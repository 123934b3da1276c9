"""Sealing: AES-256-GCM under a key ring, the one way the project seals anything.

Two kinds of value are sealed, both in one format that names its key, so keys can rotate
(seal under the active key, open under any key of the ring)::

    kdb1:<key id>:<base64url nonce>:<base64url ciphertext and tag>

* secrets stored in Keycloak attributes (the Duo skey, :meth:`KeyRing.encrypt`), under the
  ring from ``KDB_KEYRING`` / ``KDB_ACTIVE_KEY_ID``, bound (as associated data) to the realm
  and the attribute name, so a ciphertext copied into another realm fails to decrypt;
* values kept in browsers (the pending step-up, the console's sessions,
  :meth:`KeyRing.seal_json`), under the ring from ``KDB_BRIDGE_COOKIE_SECRET`` and
  ``KDB_BRIDGE_COOKIE_PREVIOUS_SECRETS``, bound to what the value is for. Cookies sealed
  before the format named its key (bare base64url of nonce and ciphertext) still open
  under the active key.

Plaintext and keys never appear in errors or reprs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keycloak_duo_bridge.errors import BridgeError, ConfigError

VERSION = "kdb1"
KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_PARTS = 4


class DecryptionError(BridgeError):
    """A sealed value could not be opened: unknown key, tampered, or sealed for another use."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def associated_data(realm: str, attribute: str) -> bytes:
    """What a stored secret is bound to: the realm name and the attribute name."""
    return f"{realm}\0{attribute}".encode()


def key_id_of(stored: str) -> str:
    """The key id named in a sealed value, or a DecryptionError if it is not ours."""
    parts = stored.split(":")
    if len(parts) != _PARTS or parts[0] != VERSION:
        raise DecryptionError("the stored secret is not in kdb1 envelope format")
    return parts[1]


def generate_key() -> str:
    """A new random key, base64-encoded, for a key ring."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def decode_key(encoded: str, setting: str) -> bytes:
    """A base64 key of :data:`KEY_BYTES` bytes; ConfigError naming ``setting`` if not."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ConfigError(f"{setting}: not base64") from None
    if len(key) != KEY_BYTES:
        raise ConfigError(f"{setting}: must be {KEY_BYTES} bytes, base64-encoded")
    return key


@dataclass(frozen=True)
class KeyRing:
    """Named AES-256 keys, one of them active for new seals."""

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

    @classmethod
    def of_keys(cls, active: bytes, previous: Iterable[bytes] = ()) -> KeyRing:
        """A ring of unnamed keys (the cookie secrets), each named by a digest of itself."""

        def kid(key: bytes) -> str:
            return "k" + hashlib.sha256(b"kdb key id\0" + key).hexdigest()[:12]

        return cls(active=kid(active), keys={kid(k): k for k in (*previous, active)})

    # -- any value ------------------------------------------------------------------------

    def seal(self, plaintext: bytes, aad: bytes) -> str:
        """``plaintext`` sealed under the active key, bound to ``aad``."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active]).encrypt(nonce, plaintext, aad)
        return f"{VERSION}:{self.active}:{_b64encode(nonce)}:{_b64encode(sealed)}"

    def open(self, sealed: str, aad: bytes) -> bytes:
        """What :meth:`seal` sealed with any key of the ring; DecryptionError if it cannot."""
        key = self.keys.get(key_id_of(sealed))
        if key is None:
            raise DecryptionError("the value is sealed under an unknown key")
        _, _, nonce, body = sealed.split(":")
        return self._decrypt(key, _b64decode_checked(nonce), _b64decode_checked(body), aad)

    def needs_rotation(self, stored: str) -> bool:
        """True when ``stored`` is under a key other than the active one."""
        return key_id_of(stored) != self.active

    @staticmethod
    def _decrypt(key: bytes, nonce: bytes, body: bytes, aad: bytes) -> bytes:
        try:
            return AESGCM(key).decrypt(nonce, body, aad)
        except (InvalidTag, ValueError):
            raise DecryptionError("the value was altered or sealed for another use") from None

    # -- JSON kept in browsers -------------------------------------------------------------

    def seal_json(self, data: dict[str, Any], aad: bytes) -> str:
        """``data`` as JSON, sealed and bound to ``aad`` (what the value is for)."""
        return self.seal(json.dumps(data, separators=(",", ":")).encode(), aad)

    def open_json(self, value: str, aad: bytes) -> dict[str, Any]:
        """What :meth:`seal_json` sealed (or, unversioned, the active key sealed before the
        format named its key); DecryptionError if it was altered or sealed for another use."""
        if value.startswith(f"{VERSION}:"):
            plain = self.open(value, aad)
        else:
            raw = _b64decode_checked(value)
            plain = self._decrypt(self.keys[self.active], raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
        try:
            data = json.loads(plain)
        except ValueError:
            raise DecryptionError("the value was altered or sealed for another use") from None
        if not isinstance(data, dict):
            raise DecryptionError("the value was altered or sealed for another use")
        return data

    # -- secrets stored in Keycloak ---------------------------------------------------------

    def encrypt(self, plaintext: str, *, realm: str, attribute: str) -> str:
        return self.seal(plaintext.encode(), associated_data(realm, attribute))

    def decrypt(self, stored: str, *, realm: str, attribute: str) -> str:
        kid = key_id_of(stored)
        if kid not in self.keys:
            raise DecryptionError(f"the secret in realm {realm!r} is under unknown key {kid!r}")
        try:
            return self.open(stored, associated_data(realm, attribute)).decode()
        except DecryptionError:
            raise DecryptionError(
                f"the secret in realm {realm!r} does not decrypt: it was tampered with, "
                "copied from another realm, or written under another key"
            ) from None


def _b64decode_checked(text: str) -> bytes:
    try:
        return _b64decode(text)
    except (binascii.Error, ValueError):
        raise DecryptionError("the value was altered or sealed for another use") from None
