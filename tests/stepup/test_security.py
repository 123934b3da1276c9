"""Forged, replayed and misdirected tokens are refused, each with its exact reason."""

from __future__ import annotations

import base64
import html
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from keycloak_duo_bridge.bridge import cookie
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.sandbox.walk import browser_like_client
from keycloak_duo_bridge.settings import signing_key
from keycloak_duo_bridge.signing import SigningKey
from tests.bridge_fakes import logged_reasons
from tests.fixtures_bridge import APP_ID, PASSWORD, Bridge, Tenant, TenantFactory

pytestmark = pytest.mark.keycloak

REFUSED = "The two-factor result could not be verified."


@dataclass
class Paused:
    """A login stopped where the bridge hands its verdict back to Keycloak."""

    http: httpx2.Client
    tenant: Tenant
    user_id: str
    request_token: str
    return_url: str
    verdict: str

    def claims(self) -> dict[str, object]:
        found: dict[str, object] = jwt.decode(self.verdict, options={"verify_signature": False})
        return found

    def submit(self, verdict: str) -> httpx2.Response:
        separator = "&" if "?" in self.return_url else "?"
        return self.http.get(f"{self.return_url}{separator}{urlencode({'verdict': verdict})}")


def _follow(http: httpx2.Client, response: httpx2.Response, stop: str) -> httpx2.Response:
    """Follow redirects until one points at ``stop``; return that redirect."""
    for _ in range(20):
        location = urljoin(str(response.url), response.headers["location"])
        if location.startswith(stop):
            return response
        response = http.get(location)
        assert response.is_redirect, response.text[:300]
    raise AssertionError("too many redirects")


def pause(http: httpx2.Client, tenant: Tenant, username: str, bridge: Bridge) -> Paused:
    """Log in up to the bridge's verdict, without delivering it."""
    user_id = tenant.user(username)
    query = {
        "client_id": APP_ID,
        "redirect_uri": tenant.redirect_uri,
        "response_type": "code",
        "scope": "openid",
    }
    base = f"{tenant.settings.keycloak_url}/realms/{tenant.realm}"
    page = http.get(f"{base}/protocol/openid-connect/auth?{urlencode(query)}")
    match = re.search(r'<form[^>]*\baction="([^"]+)"', page.text)
    assert match
    response = http.post(
        html.unescape(match.group(1)), data={"username": username, "password": PASSWORD}
    )
    response = _follow(http, response, f"{bridge.url}/step-up?")
    to_bridge = urljoin(str(response.url), response.headers["location"])
    request_token = parse_qs(urlsplit(to_bridge).query)["request"][0]
    response = _follow(http, http.get(to_bridge), f"{base}/login-actions/")
    location = urljoin(str(response.url), response.headers["location"])
    parts = urlsplit(location)
    params = parse_qs(parts.query)
    verdict = params.pop("verdict")[0]
    return_url = f"{parts.scheme}://{parts.netloc}{parts.path}?" + urlencode(
        {k: v[0] for k, v in params.items()}
    )
    return Paused(http, tenant, user_id, request_token, return_url, verdict)


@pytest.fixture
def http(stack_settings: object, duo_emulator: object) -> Iterator[httpx2.Client]:
    """A browser stand-in with a cookie jar, trusting the emulator's CA."""
    ca = duo_emulator.ca_path  # type: ignore[attr-defined]
    with browser_like_client(tls_context(ca)) as client:
        yield client


@pytest.fixture
def paused(http: httpx2.Client, duo_tenant: TenantFactory, bridge: Bridge) -> Paused:
    """A fresh login, stopped just before its verdict reaches Keycloak."""
    return pause(http, duo_tenant(), "victor", bridge)


def refusal(paused: Paused, response: httpx2.Response) -> str:
    """Keycloak's page says the result was not verified; return the event's reason."""
    assert response.status_code == 403
    assert REFUSED in response.text
    [event] = paused.tenant.events("CUSTOM_REQUIRED_ACTION_ERROR")
    assert event["error"] == "duo_invalid_verdict"
    reason: str = event["details"]["duo_reason"]
    return reason


def forge(paused: Paused, key: SigningKey | None = None, **changes: object) -> str:
    """The paused verdict's claims with ``changes``, signed by ``key`` (the bridge's by default)."""
    claims = {**paused.claims(), **changes}
    key = key or signing_key(paused.tenant.settings)
    return jwt.encode(claims, key.private, algorithm="ES256", headers={"kid": key.kid})


def test_the_genuine_verdict_passes(paused: Paused) -> None:
    """Control: the bridge's own verdict is accepted and the app gets its code."""
    response = paused.submit(paused.verdict)
    assert response.status_code == 302
    assert response.headers["location"].startswith(paused.tenant.redirect_uri)


def test_verdict_signed_by_another_key(paused: Paused) -> None:
    """A verdict signed by a key the realm does not publish is refused."""
    response = paused.submit(forge(paused, SigningKey.generate()))
    assert refusal(paused, response) == "verdict signed by an unknown key"


def test_verdict_signed_by_another_key_under_a_known_kid(paused: Paused) -> None:
    """A verdict claiming the bridge's key id but signed by another key is refused."""
    impostor = SigningKey.generate()
    claims = paused.claims()
    kid = signing_key(paused.tenant.settings).kid
    token = jwt.encode(claims, impostor.private, algorithm="ES256", headers={"kid": kid})
    response = paused.submit(token)
    assert refusal(paused, response) == "verdict signature does not verify"


def test_verdict_with_alg_none(paused: Paused) -> None:
    """An unsigned verdict (alg none) is refused."""
    body = base64.urlsafe_b64encode(json.dumps(paused.claims()).encode()).rstrip(b"=").decode()
    token = f"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{body}."
    assert refusal(paused, paused.submit(token)) == "verdict not signed ES256"


def test_verdict_for_another_user(paused: Paused) -> None:
    """A genuine-looking verdict for another user id is refused."""
    token = forge(paused, sub=str(uuid.uuid4()))
    assert refusal(paused, paused.submit(token)) == "verdict for another user"


def test_verdict_for_another_realm(paused: Paused) -> None:
    """A verdict addressed to another realm's issuer is refused."""
    other = f"{paused.tenant.settings.keycloak_url}/realms/someone-else"
    assert refusal(paused, paused.submit(forge(paused, aud=other))) == "verdict for another realm"


def test_expired_verdict(paused: Paused) -> None:
    """An expired verdict is refused."""
    token = forge(paused, exp=int(time.time()) - 5)
    assert refusal(paused, paused.submit(token)) == "verdict expired"


def test_verdict_with_a_wrong_nonce(paused: Paused) -> None:
    """A verdict for another login's nonce is refused."""
    token = forge(paused, nonce="not-this-login")
    assert refusal(paused, paused.submit(token)) == "verdict for another login"


def test_verdict_replayed_on_a_later_login(
    http: httpx2.Client, duo_tenant: TenantFactory, bridge: Bridge
) -> None:
    """A verdict that completed one login is refused on the next one."""
    tenant = duo_tenant()
    first = pause(http, tenant, "walter", bridge)
    assert first.submit(first.verdict).status_code == 302
    http.cookies.clear()
    second = pause(http, tenant, "walter", bridge)
    response = second.submit(first.verdict)
    assert refusal(second, response) == "verdict for another login"


# -- request tokens, at the bridge ------------------------------------------------------


def bridge_page(bridge: Bridge, request_token: str) -> tuple[httpx2.Response, list[str]]:
    """The bridge's answer to a request token, and the reasons it logged meanwhile."""
    with logged_reasons() as reasons:
        response = httpx2.get(f"{bridge.url}/step-up", params={"request": request_token})
    return response, reasons


def refused_for(bridge: Bridge, request_token: str, reason: str) -> None:
    """The bridge refuses the token with its plain start-again page, logging ``reason``."""
    response, reasons = bridge_page(bridge, request_token)
    assert response.status_code == 400
    assert "Please sign in again" in response.text
    assert "request token" not in response.text
    assert any(reason in logged for logged in reasons), reasons


def test_request_token_forged(paused: Paused, bridge: Bridge) -> None:
    """A request token whose claims were altered after signing is refused."""
    header, _, signature = paused.request_token.split(".")
    claims = jwt.decode(paused.request_token, options={"verify_signature": False})
    claims["sub"] = str(uuid.uuid4())
    altered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    refused_for(bridge, f"{header}.{altered}.{signature}", "the request token does not verify")


def realm_key(tenant: Tenant) -> tuple[rsa.RSAPrivateKey, str]:
    """Import an RSA key the test knows into the realm, as its active key; return it and its kid."""
    found = provision.import_rsa_key(tenant.settings, tenant.realm, "test-known-rsa")
    time.sleep(tenant.settings.bridge_jwks_refresh_interval + 0.1)  # the bridge may re-read
    return found


def signed_request(paused: Paused, key: rsa.RSAPrivateKey, kid: str, **changes: object) -> str:
    claims = jwt.decode(paused.request_token, options={"verify_signature": False})
    claims.update(changes)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_item1_request_token_repeating_a_member_is_refused(paused: Paused, bridge: Bridge) -> None:
    """A request token signed by the realm's key but naming a member twice is refused at the
    parser; the same token without the repetition is accepted (issue 12)."""
    key, kid = realm_key(paused.tenant)
    good = signed_request(paused, key, kid)
    header, payload, _ = good.split(".")

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    def resigned(head: str, body: str) -> str:
        signing_input = f"{head}.{body}"
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64(signature)}"

    text = base64.urlsafe_b64decode(payload + "==").decode()
    head_text = base64.urlsafe_b64decode(header + "==").decode()
    repeated = {
        "payload": resigned(header, b64((text[:-1] + ',"sub":"someone-else"}').encode())),
        "header": resigned(b64((head_text[:-1] + ',"kid":"other"}').encode()), payload),
    }
    for token in repeated.values():
        refused_for(bridge, token, "the request token is malformed")
    accepted, _ = bridge_page(bridge, resigned(header, payload))
    assert accepted.status_code == 302


def test_request_token_expired(paused: Paused, bridge: Bridge) -> None:
    """A request token signed by the realm but expired is refused."""
    key, kid = realm_key(paused.tenant)
    now = int(time.time())
    token = signed_request(paused, key, kid, iat=now - 900, exp=now - 600)
    refused_for(bridge, token, "the request token has expired")


def test_request_token_with_a_foreign_return_url(paused: Paused, bridge: Bridge) -> None:
    """A return URL outside the realm's login-actions path is refused: no open redirect."""
    key, kid = realm_key(paused.tenant)
    for target in ("https://evil.example/login-actions/x", paused.tenant.redirect_uri):
        token = signed_request(paused, key, kid, return_url=target)
        refused_for(bridge, token, "outside the realm's login-actions path")


def test_request_token_from_an_unknown_realm(paused: Paused, bridge: Bridge) -> None:
    """A request token claiming a realm that does not exist is refused."""
    key, kid = realm_key(paused.tenant)
    issuer = f"{paused.tenant.settings.keycloak_url}/realms/no-such-realm"
    token = signed_request(paused, key, kid, iss=issuer, realm="no-such-realm")
    response, reasons = bridge_page(bridge, token)
    assert response.status_code == 400
    assert "cannot be checked right now" in response.text
    assert reasons


def test_item6_request_token_naming_another_realm(paused: Paused, bridge: Bridge) -> None:
    """A realm-signed token whose realm claim is not its issuer's realm is refused."""
    key, kid = realm_key(paused.tenant)
    token = signed_request(paused, key, kid, realm=f"{paused.tenant.realm}-other")
    refused_for(bridge, token, "realm is not its issuer's realm")


def test_item6_unsigned_request_token_with_a_random_cfg(paused: Paused, bridge: Bridge) -> None:
    """An unsigned request token (alg none) with a made-up cfg is refused before any read."""
    claims = jwt.decode(paused.request_token, options={"verify_signature": False})
    claims["cfg"] = uuid.uuid4().hex
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    refused_for(
        bridge, f"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{body}.", "not signed with an asymmetric key"
    )


def test_request_token_signed_with_hmac(paused: Paused, bridge: Bridge) -> None:
    """A request token signed with HMAC (never Keycloak's way for these) is refused."""
    claims = jwt.decode(paused.request_token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(paused.request_token)["kid"]
    token = jwt.encode(claims, "k" * 64, algorithm="HS256", headers={"kid": kid})
    refused_for(bridge, token, "not signed with an asymmetric key")


# -- callbacks ---------------------------------------------------------------------------


def test_callback_without_its_cookie(bridge: Bridge) -> None:
    """A Duo callback in a browser that never started a step-up is refused."""
    response = httpx2.get(
        f"{bridge.url}/step-up/callback", params={"state": "s" * 43, "duo_code": "x"}
    )
    assert response.status_code == 400
    assert "not started in this browser" in response.text


def test_callback_with_a_tampered_cookie(bridge: Bridge) -> None:
    """A callback whose sealed cookie was altered is refused."""
    response = httpx2.get(
        f"{bridge.url}/step-up/callback",
        params={"state": "s" * 43, "duo_code": "x"},
        cookies={cookie.COOKIE_NAME: "A" * 200},
    )
    assert response.status_code == 400
    assert "the information your browser sent back is damaged" in response.text


def test_callback_with_a_used_duo_code(
    http: httpx2.Client, duo_tenant: TenantFactory, bridge: Bridge
) -> None:
    """Replaying Duo's callback (same cookie, same code) gets an error verdict, never allow."""
    tenant = duo_tenant()
    tenant.user("yolanda")
    captured: dict[str, str] = {}

    def spy(request: httpx2.Request) -> None:
        if request.url.path == "/step-up/callback":
            captured["url"] = str(request.url)
            captured["cookie"] = request.headers.get("cookie", "")

    http.event_hooks["request"] = [spy]
    first = pause(http, tenant, "yolanda", bridge)
    assert first.claims()["result"] == "allow"
    replay = httpx2.get(captured["url"], headers={"cookie": captured["cookie"]})
    assert replay.status_code == 302
    verdict = parse_qs(urlsplit(replay.headers["location"]).query)["verdict"][0]
    claims = jwt.decode(verdict, options={"verify_signature": False})
    assert (claims["result"], claims["reason"]) == ("error", "duo_protocol")


# -- one request token, one Duo prompt ----------------------------------------------------


def to_bridge(http: httpx2.Client, tenant: Tenant, username: str, bridge: Bridge) -> str:
    """Log in up to Keycloak's redirect to the bridge; return the step-up URL."""
    tenant.user(username)
    query = {
        "client_id": APP_ID,
        "redirect_uri": tenant.redirect_uri,
        "response_type": "code",
        "scope": "openid",
    }
    base = f"{tenant.settings.keycloak_url}/realms/{tenant.realm}"
    page = http.get(f"{base}/protocol/openid-connect/auth?{urlencode(query)}")
    match = re.search(r'<form[^>]*\baction="([^"]+)"', page.text)
    assert match
    response = http.post(
        html.unescape(match.group(1)), data={"username": username, "password": PASSWORD}
    )
    response = _follow(http, response, f"{bridge.url}/step-up?")
    return urljoin(str(response.url), response.headers["location"])


def test_a_second_tab_starts_no_second_duo_prompt(
    http: httpx2.Client, duo_tenant: TenantFactory, bridge: Bridge
) -> None:
    """The step-up URL opened again while its Duo prompt is open starts none, and offers a
    restart that leads to a new step-up."""
    tenant = duo_tenant()
    step_up = to_bridge(http, tenant, "xavier", bridge)
    first = http.get(step_up)
    assert first.status_code == 302
    assert "/oauth/v1/authorize" in first.headers["location"]
    second = http.get(step_up)
    assert second.status_code == 400
    assert "already waiting for Duo" in second.text
    assert "/oauth/v1/authorize" not in second.text
    restart = re.search(r'<a class="button" href="([^"]+)"', second.text)
    assert restart
    login = http.get(html.unescape(restart.group(1)), follow_redirects=True)
    form = re.search(r'<form[^>]*\baction="([^"]+)"', login.text)  # Keycloak's login, afresh
    assert form
    response = http.post(
        html.unescape(form.group(1)), data={"username": "xavier", "password": PASSWORD}
    )
    again = _follow(http, response, f"{bridge.url}/step-up?")
    new_step_up = urljoin(str(again.url), again.headers["location"])
    assert new_step_up != step_up
    assert "/oauth/v1/authorize" in http.get(new_step_up).headers["location"]


def test_a_used_step_up_url_is_refused_as_used(paused: Paused, bridge: Bridge) -> None:
    """After Duo answered, the same step-up URL (Back, a second tab) and a reload of Duo's
    callback say the step was already used, and start no Duo prompt."""
    again = paused.http.get(f"{bridge.url}/step-up", params={"request": paused.request_token})
    assert again.status_code == 400
    assert "This sign-in step was already used" in again.text
    assert "Start sign-in again" in again.text
    assert paused.submit(paused.verdict).status_code == 302
    after_login = paused.http.get(f"{bridge.url}/step-up", params={"request": paused.request_token})
    assert "This sign-in step was already used" in after_login.text


def test_an_upstream_verdict_for_a_login_no_trusted_idp_made_is_refused(paused: Paused) -> None:
    """A bridge-signed "upstream" verdict naming an IdP, on a local login (no IdP, and none
    trusted in the realm's record): Keycloak refuses it; only a trusted IdP's login takes it."""
    forged = forge(paused, result="upstream", reason="upstream_mfa", idp="partner", proof="amr:mfa")
    response = paused.submit(forged)
    assert response.status_code == 403
    [event] = paused.tenant.events("CUSTOM_REQUIRED_ACTION_ERROR")
    assert event["error"] == "duo_upstream_refused"
