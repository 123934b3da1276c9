"""The emulator's pure helpers: hosts, dates, redirects, user agents, phones, JWTs, state."""

from __future__ import annotations

import jwt
import pytest

from keycloak_duo_bridge.duo import jose
from keycloak_duo_bridge.duo.phone_numbers import mask, normalize_e164
from keycloak_duo_bridge.emulator.assertions import accepted_hosts, numeric_date, redirect_with
from keycloak_duo_bridge.emulator.claims import access_device
from keycloak_duo_bridge.emulator.state import EmulatorState


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("duo.example", {"duo.example", "duo.example:443"}),
        ("Duo.Example:443", {"duo.example:443", "duo.example"}),
        ("127.0.0.1:8443", {"127.0.0.1:8443"}),
        ("[::1]:8443", {"[::1]:8443"}),
        ("[::1]", {"[::1]", "[::1]:443"}),
    ],
)
def test_accepted_hosts(header: str, expected: set[str]) -> None:
    """A Host header stands for itself, and for its spelling with or without ``:443``."""
    assert accepted_hosts(header) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5.0), (5.5, 5.5), ("7", 7.0), ("7.5", 7.5), ("x", None), (True, None), (None, None)],
)
def test_numeric_date(value: object, expected: float | None) -> None:
    """NumericDates come as int, float or numeric string; anything else is no date."""
    assert numeric_date(value) == expected


def test_redirect_with_keeps_the_query() -> None:
    """Parameters are appended to a query the redirect URI already has."""
    assert redirect_with("https://a/cb?x=1", {"state": "s"}) == "https://a/cb?x=1&state=s"
    assert redirect_with("https://a/cb", {"code": "c d"}) == "https://a/cb?code=c+d"


@pytest.mark.parametrize(
    ("agent", "browser", "system"),
    [
        (
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
                " HeadlessChrome/140.0.0.0 Safari/537.36"
            ),
            ("Chrome", "140.0.0.0"),
            ("Linux", None),
        ),
        (
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
                " Chrome/140.0 Safari/537.36 Edg/140.0.1"
            ),
            ("Edge", "140.0.1"),
            ("Windows", "10.0"),
        ),
        (
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"
                " (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
            ),
            ("Safari", "17.4"),
            ("iOS", "17.4"),
        ),
        ("python-requests/2.32", ("Unknown", None), ("Unknown", None)),
    ],
)
def test_access_device(
    agent: str, browser: tuple[str, str | None], system: tuple[str, str | None]
) -> None:
    """The access device names the browser and system from the User-Agent."""
    device = access_device("10.0.0.1", agent)
    assert (device["browser"], device["browser_version"]) == browser
    assert (device["os"], device["os_version"]) == system
    assert device["ip"] == "10.0.0.1"


def test_phones() -> None:
    """Phones are E.164 after removing separators, and shown by their last four digits."""
    assert normalize_e164("+1 (415) 555-0123") == "+14155550123"
    assert normalize_e164("+0123") is None
    assert normalize_e164("+1234567890123456") is None
    assert mask("+14155550123") == "XXX-XXX-0123"
    assert mask(None) == "your phone"


@pytest.mark.parametrize("token", ["x", "e30.W10.c2ln", "e30.bm90LWpzb24.c2ln"])
def test_jose_refuses_malformed_tokens(token: str) -> None:
    """Malformed tokens and payloads that are not JSON objects are refused."""
    with pytest.raises(jose.JoseError):
        jose.unverified_claims(token)


def test_jose_decode_checks_the_payload() -> None:
    """A correctly signed payload must still be a JSON object."""
    signed = jwt.PyJWS().encode(b"[1]", "k" * 64, algorithm="HS512")
    with pytest.raises(jose.JoseError, match="not a JSON object"):
        jose.decode(signed, "k" * 64)
    with pytest.raises(jose.JoseError):
        jose.unverified_header("x")


def test_enrolling_a_known_user_keeps_its_keys() -> None:
    """A scripted but unenrolled user keeps its user key when the wizard enrols it."""
    state = EmulatorState()
    before = state.put_user("kim", behavior="prompt", enrolled=False, phone=None)
    after = state.enroll("KIM", "+15555550100")
    assert after.key == before.key
    assert after.enrolled
    assert not state.use_passcode("nobody", "123456")
