"""The sealed cookie that carries a pending step-up between bridge replicas."""

from __future__ import annotations

import base64
import os
from dataclasses import replace

import pytest

from keycloak_duo_bridge.bridge import cookie
from keycloak_duo_bridge.bridge.cookie import CookieError, Pending
from keycloak_duo_bridge.errors import ConfigError

KEY = os.urandom(32)
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
    sealed = cookie.seal(replace(PENDING), os.urandom(32))
    with pytest.raises(CookieError, match="tampered"):
        cookie.open_sealed(sealed, KEY, state=PENDING.state, now=1000)


def test_cookie_secret_must_be_32_base64_bytes() -> None:
    """KDB_BRIDGE_COOKIE_SECRET must be base64 of exactly 32 bytes."""
    assert cookie.cookie_key(base64.b64encode(KEY).decode()) == KEY
    with pytest.raises(ConfigError, match="not base64"):
        cookie.cookie_key("***")
    with pytest.raises(ConfigError, match="must be 32 bytes"):
        cookie.cookie_key(base64.b64encode(b"short").decode())


def test_peek_finds_the_pending_step_up_whatever_its_state() -> None:
    """Peeking opens a live cookie without a state; anything unusable is no pending step-up."""
    sealed = cookie.seal(PENDING, KEY)
    assert cookie.peek_pending(sealed, KEY, now=1000) == PENDING
    assert cookie.peek_pending(sealed, KEY, now=2001) is None
    assert cookie.peek_pending(sealed, os.urandom(32), now=1000) is None
    assert cookie.peek_pending("x" * 5000, KEY, now=1000) is None
    assert cookie.peek_pending(None, KEY, now=1000) is None
