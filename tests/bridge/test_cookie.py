"""The sealed cookie that carries a pending step-up between bridge replicas."""

from __future__ import annotations

import base64
import os
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr

from keycloak_duo_bridge.bridge import cookie
from keycloak_duo_bridge.bridge.cookie import CookieError, Pending
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.settings import Settings, cookie_ring

KEY = KeyRing.of_keys(os.urandom(32))
PENDING = Pending(
    state="s" * 43,
    duo_nonce="d",
    realm="acme",
    issuer="http://kc/realms/acme",
    user_id="u",
    username="alice",
    client_id="app",
    nonce="n",
    return_url="http://kc/x",
    fingerprint="f",
    expires=2000,
    duo_username="alice",
)


def test_round_trip() -> None:
    """A sealed pending step-up opens with the same key and state, before it expires."""
    sealed = cookie.seal(PENDING, KEY)
    assert "alice" not in sealed
    assert cookie.open_sealed(sealed, KEY, state=PENDING.state, now=1000) == PENDING


@pytest.mark.parametrize(
    ("value", "state", "now", "message"),
    [
        pytest.param(None, "s" * 43, 1000, "no pending step-up", id="missing"),
        pytest.param("", "s" * 43, 1000, "no pending step-up", id="empty"),
        pytest.param("A" * 5000, "s" * 43, 1000, "too large", id="large"),
        pytest.param("!!!", "s" * 43, 1000, "tampered", id="garbage"),
        pytest.param(None, "t" * 43, 1000, "another Duo transaction", id="state"),
        pytest.param(None, "s" * 43, 3000, "expired", id="expired"),
    ],
)
def test_refusals(value: str | None, state: str, now: int, message: str) -> None:
    """Missing, oversized, tampered, foreign or expired cookies are refused, saying which."""
    if value is None and message != "no pending step-up":
        value = cookie.seal(PENDING, KEY)
    with pytest.raises(CookieError, match=message):
        cookie.open_sealed(value, KEY, state=state, now=now)


def test_another_key_cannot_open_it() -> None:
    """A cookie sealed by a bridge with another secret does not open."""
    sealed = cookie.seal(replace(PENDING), KeyRing.of_keys(os.urandom(32)))
    with pytest.raises(CookieError, match="tampered"):
        cookie.open_sealed(sealed, KEY, state=PENDING.state, now=1000)


def test_a_cookie_from_before_a_secret_roll_still_opens() -> None:
    """Sealed under the previous secret, a pending step-up opens while that secret is kept."""
    old = os.urandom(32)
    sealed = cookie.seal(PENDING, KeyRing.of_keys(old))
    rolled = KeyRing.of_keys(os.urandom(32), [old])
    assert cookie.open_sealed(sealed, rolled, state=PENDING.state, now=1000) == PENDING
    assert rolled.needs_rotation(sealed)


def test_cookie_secrets_come_from_the_settings(tmp_path: Path) -> None:
    """KDB_BRIDGE_COOKIE_SECRET seals; KDB_BRIDGE_COOKIE_PREVIOUS_SECRETS only open."""
    secret, old = os.urandom(32), os.urandom(32)
    settings = Settings(
        state_dir=tmp_path,
        bridge_cookie_secret=SecretStr(base64.b64encode(secret).decode()),
        bridge_cookie_previous_secrets=SecretStr(f" {base64.b64encode(old).decode()}, "),
    )
    ring = cookie_ring(settings)
    assert ring == KeyRing.of_keys(secret, [old])
    assert ring.keys[ring.active] == secret
    alone = cookie_ring(settings.model_copy(update={"bridge_cookie_previous_secrets": None}))
    assert list(alone.keys.values()) == [secret]


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, "KDB_BRIDGE_COOKIE_SECRET must be set"),
        ("***", "KDB_BRIDGE_COOKIE_SECRET: not base64"),
        (base64.b64encode(b"short").decode(), "KDB_BRIDGE_COOKIE_SECRET: must be 32 bytes"),
    ],
)
def test_cookie_secret_must_be_32_base64_bytes(
    tmp_path: Path, secret: str | None, message: str
) -> None:
    """KDB_BRIDGE_COOKIE_SECRET must be set, to base64 of exactly 32 bytes."""
    settings = Settings(
        state_dir=tmp_path, bridge_cookie_secret=None if secret is None else SecretStr(secret)
    )
    with pytest.raises(ConfigError, match=message):
        cookie_ring(settings)


def test_peek_finds_the_pending_step_up_whatever_its_state() -> None:
    """Peeking opens a live cookie without a state; anything unusable is no pending step-up."""
    sealed = cookie.seal(PENDING, KEY)
    assert cookie.peek_pending(sealed, KEY, now=1000) == PENDING
    assert cookie.peek_pending(sealed, KEY, now=2001) is None
    assert cookie.peek_pending(sealed, KeyRing.of_keys(os.urandom(32)), now=1000) is None
    assert cookie.peek_pending("x" * 5000, KEY, now=1000) is None
    assert cookie.peek_pending(None, KEY, now=1000) is None
