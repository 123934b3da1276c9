"""Envelope encryption of Duo secret keys in realm attributes."""

from __future__ import annotations

import base64
import json

import pytest

from keycloak_duo_bridge.envelope import DecryptionError, KeyRing, generate_key, key_id_of
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.settings import key_ring, load_settings

SKEY = "S" * 40
ATTR = "kdb.duo.skey"


@pytest.fixture
def ring() -> KeyRing:
    """A ring with an old key and an active one."""
    return KeyRing.from_json(json.dumps({"old": generate_key(), "new": generate_key()}), "new")


def test_round_trip_names_the_key(ring: KeyRing) -> None:
    """A value encrypts under the active key, names it, and decrypts in its own realm."""
    stored = ring.encrypt(SKEY, realm="acme", attribute=ATTR)
    assert stored.startswith("kdb1:new:")
    assert SKEY not in stored
    assert key_id_of(stored) == "new"
    assert ring.decrypt(stored, realm="acme", attribute=ATTR) == SKEY
    assert not ring.needs_rotation(stored)


def test_ciphertext_copied_to_another_realm_fails(ring: KeyRing) -> None:
    """The AAD binds the realm: a ciphertext copied into another realm does not decrypt."""
    stored = ring.encrypt(SKEY, realm="acme", attribute=ATTR)
    with pytest.raises(DecryptionError, match="'globex' does not decrypt") as caught:
        ring.decrypt(stored, realm="globex", attribute=ATTR)
    assert SKEY not in str(caught.value)


def test_ciphertext_moved_to_another_attribute_fails(ring: KeyRing) -> None:
    """The AAD binds the attribute name too."""
    stored = ring.encrypt(SKEY, realm="acme", attribute=ATTR)
    with pytest.raises(DecryptionError):
        ring.decrypt(stored, realm="acme", attribute="kdb.other")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s: s[:-2] + ("BB" if s.endswith("AA") else "AA"), id="flipped"),
        pytest.param(lambda s: s.replace(":new:", ":old:"), id="other-key-id"),
        pytest.param(lambda s: s.rsplit(":", 1)[0] + ":!!!notbase64", id="bad-base64"),
    ],
)
def test_tampered_values_fail(ring: KeyRing, tamper: object) -> None:
    """A flipped byte, a swapped key id or broken base64 fails cleanly."""
    stored = ring.encrypt(SKEY, realm="acme", attribute=ATTR)
    with pytest.raises(DecryptionError):
        ring.decrypt(tamper(stored), realm="acme", attribute=ATTR)  # type: ignore[operator]


def test_unknown_key_and_foreign_format(ring: KeyRing) -> None:
    """A value under a key not in the ring, or not in envelope format, is refused."""
    other = KeyRing.from_json(json.dumps({"gone": generate_key()}), "gone")
    stored = other.encrypt(SKEY, realm="acme", attribute=ATTR)
    with pytest.raises(DecryptionError, match="unknown key 'gone'"):
        ring.decrypt(stored, realm="acme", attribute=ATTR)
    with pytest.raises(DecryptionError, match="not in kdb1 envelope format"):
        ring.decrypt(SKEY, realm="acme", attribute=ATTR)


def test_rotation_need(ring: KeyRing) -> None:
    """A value under a non-active key needs rotation."""
    old = KeyRing(active="old", keys=ring.keys).encrypt(SKEY, realm="a", attribute=ATTR)
    assert ring.needs_rotation(old)
    assert ring.decrypt(old, realm="a", attribute=ATTR) == SKEY


def test_repr_hides_keys(ring: KeyRing) -> None:
    """The ring's repr lists key ids, never key material."""
    assert repr(ring) == "KeyRing(active='new', key_ids=['new', 'old'])"


@pytest.mark.parametrize(
    ("text", "active", "message"),
    [
        ("not json", "a", "not valid JSON"),
        ("[]", "a", "expected a JSON object"),
        ('{"a": "***"}', "a", "not base64"),
        (json.dumps({"a": base64.b64encode(b"short").decode()}), "a", "must be 32 bytes"),
        (json.dumps({"a:b": generate_key()}), "a:b", "must match"),
        (json.dumps({"a": generate_key()}), "b", "KDB_ACTIVE_KEY_ID: 'b' is not in the key ring"),
    ],
)
def test_bad_key_rings_are_config_errors(text: str, active: str, message: str) -> None:
    """Malformed KDB_KEYRING values fail with a message naming the variable."""
    with pytest.raises(ConfigError, match=message):
        KeyRing.from_json(text, active)


def test_key_ring_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings give the ring, or say which variables to set."""
    with pytest.raises(ConfigError, match="KDB_KEYRING and KDB_ACTIVE_KEY_ID must be set"):
        key_ring(load_settings())
    monkeypatch.setenv("KDB_KEYRING", json.dumps({"k1": generate_key()}))
    monkeypatch.setenv("KDB_ACTIVE_KEY_ID", "k1")
    assert key_ring(load_settings()).active == "k1"
