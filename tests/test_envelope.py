"""Envelope encryption of Duo secret keys in realm attributes."""

from __future__ import annotations

import base64
import json
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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


def test_values_sealed_under_an_old_key_open_after_a_roll(ring: KeyRing) -> None:
    """A JSON value seals under the active key and opens under any key of the ring."""
    sealed = ring.seal_json({"a": 1}, b"purpose")
    assert sealed.startswith("kdb1:new:")
    rolled = KeyRing(active="newer", keys={**ring.keys, "newer": bytes(32)})
    assert rolled.open_json(sealed, b"purpose") == {"a": 1}
    assert rolled.needs_rotation(sealed)
    with pytest.raises(DecryptionError, match="another use"):
        ring.open_json(sealed, b"another purpose")
    with pytest.raises(DecryptionError, match="unknown key"):
        KeyRing(active="other", keys={"other": bytes(32)}).open_json(sealed, b"purpose")


def test_unversioned_values_open_under_the_active_key(ring: KeyRing) -> None:
    """A value sealed before the format named its key (nonce and ciphertext, base64url)
    opens under the active key, and only as a JSON object."""
    aad = b"kdb-step-up-cookie-v1"

    def unversioned(plain: bytes, key: bytes) -> str:
        nonce = os.urandom(12)
        raw = nonce + AESGCM(key).encrypt(nonce, plain, aad)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    active = ring.keys[ring.active]
    assert ring.open_json(unversioned(b'{"a":1}', active), aad) == {"a": 1}
    for plain in (b"[1]", b"not json"):
        with pytest.raises(DecryptionError, match="altered"):
            ring.open_json(unversioned(plain, active), aad)
    for value in (unversioned(b'{"a":1}', ring.keys["old"]), "!!!", "kdb1:new:!!!:AAAA"):
        with pytest.raises(DecryptionError, match="altered"):
            ring.open_json(value, aad)


def test_unnamed_keys_are_named_by_a_digest() -> None:
    """Keys without names (the cookie secrets) get stable names that reveal nothing."""
    key = bytes(range(32))
    ring = KeyRing.of_keys(key)
    assert ring == KeyRing.of_keys(key)
    assert ring.active.startswith("k")
    assert key.hex()[:12] not in ring.active
    assert KeyRing.of_keys(bytes(32)).active != ring.active


def test_values_sealed_before_the_merge_still_open() -> None:
    """An skey envelope and a cookie sealed by the code before the one sealing module (fixed
    key, recorded values) open unchanged."""
    key = bytes(range(32))
    stored = (
        "kdb1:k1:Ue3LfekcaiDWgM9V:"
        "s9bihrvS0yPx6fXwdLIHCiGWetzpEFwfSG49ZGSNHblWcb0nGOM9vCdD3V3_3hN9jeTHMXFumQA"
    )
    ring = KeyRing(active="k1", keys={"k1": key})
    assert ring.decrypt(stored, realm="acme", attribute=ATTR) == SKEY
    cookie = "wECuhNPBMmw894C6YKoLhihVNWbraA3L5mjEUize1oUImtM"
    assert KeyRing.of_keys(key).open_json(cookie, b"kdb-step-up-cookie-v1") == {"a": 1}
