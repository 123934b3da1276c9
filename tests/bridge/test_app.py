"""The bridge's endpoints under faults that real parts cannot be made to produce on demand.

Keycloak and Duo are mock transports here; the real flow is covered end to end in
tests/stepup against the sandbox Keycloak and the emulator.
"""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.app import build_services, create_app
from keycloak_duo_bridge.bridge import app as app_module
from keycloak_duo_bridge.bridge import cookie, pages
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.sandbox import secrets
from keycloak_duo_bridge.settings import Settings, cookie_ring, key_ring, load_settings
from tests.bridge_fakes import (
    IKEY,
    ISSUER,
    KC,
    KEY,
    METRICS_TOKEN,
    SKEY,
    Fakes,
    bridge_client,
    logged_reasons,
    request_token,
)
from tests.step_up_claims import request_claims


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Bridge settings with the sandbox's kind of generated keys."""
    generated = {k.removeprefix("KDB_").lower(): v for k, v in secrets.ensure(tmp_path).items()}
    generated["metrics_token"] = METRICS_TOKEN
    return load_settings(keycloak_url=KC, bridge_url="http://bridge.example", **generated)


@pytest.fixture
def fakes(settings: Settings) -> Fakes:
    """A realm with Duo on and working credentials."""
    sealed = key_ring(settings).encrypt(SKEY, realm="acme", attribute=attr.DUO_SKEY)
    return Fakes(
        attributes={
            attr.DUO_ENABLED: "true",
            attr.DUO_IKEY: IKEY,
            attr.DUO_API_HOST: "duo.example",
            attr.DUO_SKEY: sealed,
        }
    )


@pytest.fixture
def client(settings: Settings, fakes: Fakes) -> Iterator[TestClient]:
    """The bridge app, its Keycloak and Duo replaced by the fakes."""
    with bridge_client(settings, fakes) as test_client:
        yield test_client


UNCACHED = 1e-9  # seconds realm settings are cached: every request reads them again


@pytest.fixture
def uncached(settings: Settings, fakes: Fakes) -> Iterator[TestClient]:
    """The bridge app on the fakes, reading a realm's settings anew at every request."""
    with bridge_client(settings.model_copy(update={"bridge_settings_ttl": UNCACHED}), fakes) as c:
        yield c


def verdict_of(response: httpx2.Response) -> dict[str, Any]:
    """The verdict the bridge sends back to Keycloak, unverified."""
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(f"{ISSUER}/login-actions/required-action?code=c&verdict=")
    token = parse_qs(urlsplit(location).query)["verdict"][0]
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def metrics_text(client: TestClient) -> str:
    """/metrics as Prometheus scrapes it, with the bearer token."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    return response.text


def test_operational_endpoints(client: TestClient, fakes: Fakes) -> None:
    """/healthz is up; /readyz follows Keycloak; /metrics speaks Prometheus."""
    assert client.get("/healthz").text == "ok\n"
    assert client.get("/readyz").status_code == 200
    fakes.realm_status = 503
    assert client.get("/readyz").status_code == 503
    fakes.keycloak_down = True
    assert client.get("/readyz").text == "keycloak unreachable\n"
    assert "# TYPE kdb_stepups_total counter" in metrics_text(client)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", f"Basic {METRICS_TOKEN}", METRICS_TOKEN, "Bearer"],
)
def test_metrics_need_the_bearer_token(client: TestClient, authorization: str | None) -> None:
    """/metrics without the exact bearer token is 401, and shows no metric."""
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "kdb_" not in response.text


def test_metrics_without_a_token_setting_do_not_exist(settings: Settings, fakes: Fakes) -> None:
    """Without KDB_METRICS_TOKEN, /metrics answers 404 to everyone."""
    with bridge_client(settings.model_copy(update={"metrics_token": None}), fakes) as client:
        for headers in ({}, {"Authorization": f"Bearer {METRICS_TOKEN}"}):
            response = client.get("/metrics", headers=headers)
            assert response.status_code == 404
            assert "kdb_" not in response.text


def test_missing_settings_fail_at_start(settings: Settings) -> None:
    """Without a cookie secret the bridge refuses to start, naming the variable."""
    with pytest.raises(ConfigError, match="KDB_BRIDGE_COOKIE_SECRET"):
        build_services(settings.model_copy(update={"bridge_cookie_secret": None}))


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        pytest.param(None, "missing or too large", id="missing"),
        pytest.param({"kid": "other"}, "signed by an unknown key", id="kid"),
        pytest.param(
            {
                "iss": "http://other.example/realms/acme",
                "return_url": "http://other.example/realms/acme/login-actions/x",
            },
            "unknown Keycloak",
            id="issuer",
        ),
    ],
)
def test_bad_requests_get_a_start_again_page(
    client: TestClient, claims: dict[str, str] | None, message: str
) -> None:
    """Refused requests get a plain start-again page; the exact reason goes to the log only."""
    # Minted here, not at collection: a token lives 300 s, and the suite runs longer.
    request_value = "" if claims is None else request_token(**claims)
    with logged_reasons() as reasons:
        response = client.get("/step-up", params={"request": request_value})
    assert response.status_code == 400
    assert escape(pages.BAD_LINK) in response.text
    assert message not in response.text
    assert any(message in reason for reason in reasons)
    assert response.headers["content-security-policy"].endswith("frame-ancestors 'none'")


def test_keycloak_down_while_verifying(client: TestClient, fakes: Fakes) -> None:
    """If the realm's keys cannot be read, the request is refused (fail closed)."""
    fakes.keycloak_down = True
    response = client.get("/step-up", params={"request": request_token()})
    assert response.status_code == 400
    assert escape(pages.UNVERIFIABLE) in response.text


def test_branded_issuer_is_accepted(client: TestClient, fakes: Fakes) -> None:
    """A partner's branding URL, as the realm's frontendUrl, is a valid issuer base."""
    fakes.attributes["frontendUrl"] = "https://brand.example/"
    issuer = "https://brand.example/realms/acme"
    token = request_token(iss=issuer, return_url=f"{issuer}/login-actions/x")
    response = client.get("/step-up", params={"request": token})
    assert response.status_code == 302
    assert response.headers["location"].startswith("https://duo.example/oauth/v1/authorize?")


def test_start_sets_a_sealed_cookie_and_goes_to_duo(client: TestClient) -> None:
    """A good request goes to Duo with a sealed, HttpOnly, Lax cookie on /step-up."""
    response = client.get("/step-up", params={"request": request_token()})
    assert response.status_code == 302
    assert response.headers["location"].startswith("https://duo.example/oauth/v1/authorize?")
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{cookie.COOKIE_NAME}=")
    for flag in ("HttpOnly", "Path=/step-up", "SameSite=lax"):
        assert flag in set_cookie
    assert "alice" not in set_cookie


@pytest.mark.parametrize(
    ("change", "result", "reason"),
    [
        pytest.param({"realm_status": 500}, "error", "settings_unavailable", id="settings"),
        pytest.param({"brief": True}, "error", "settings_unavailable", id="not-viewable"),
        pytest.param({attr.DUO_ENABLED: "false"}, "skip", "realm_off", id="realm-off"),
        pytest.param({attr.DUO_SKEY: "kdb1:gone:AAAA:AAAA"}, "error", "duo_config", id="skey"),
        pytest.param({attr.DUO_IKEY: None}, "error", "duo_config", id="no-credentials"),
        pytest.param({attr.DUO_USERNAME: "email"}, "error", "duo_config", id="no-verified-email"),
    ],
)
def test_policy_verdicts(
    client: TestClient, fakes: Fakes, change: dict[str, Any], result: str, reason: str
) -> None:
    """Settings Keycloak cannot give, or that say no Duo, become verdicts; never a silent pass."""
    for name, value in change.items():
        if name in {"realm_status", "brief"}:
            setattr(fakes, name, value)
        elif value is None:
            fakes.attributes.pop(name)
        else:
            fakes.attributes[name] = value
    claims = verdict_of(client.get("/step-up", params={"request": request_token()}))
    assert (claims["result"], claims["reason"]) == (result, reason)


def test_an_application_the_realm_switched_off_is_skipped(client: TestClient, fakes: Fakes) -> None:
    """kdb.duo.apps names the request's client (azp) off: a skip, whatever the extension's
    record said; other applications still go to Duo."""
    fakes.attributes[attr.DUO_APPS] = '{"portal":"off"}'
    claims = verdict_of(client.get("/step-up", params={"request": request_token(azp="portal")}))
    assert (claims["result"], claims["reason"]) == ("skip", "app_off")
    other = client.get("/step-up", params={"request": request_token(azp="other")})
    assert other.headers["location"].startswith("https://duo.example/oauth/v1/authorize?")


def start(client: TestClient) -> str:
    """Start a step-up; return Duo's state (the cookie stays in the client)."""
    response = client.get("/step-up", params={"request": request_token()})
    request = parse_qs(urlsplit(response.headers["location"]).query)["request"][0]
    state: str = jwt.decode(request, options={"verify_signature": False})["state"]
    return state


def test_malformed_callbacks(client: TestClient) -> None:
    """A callback without a state, or with oversized values, is refused outright."""
    assert client.get("/step-up/callback").status_code == 400
    response = client.get("/step-up/callback", params={"state": "s", "x": "y" * 9000})
    assert escape(pages.BAD_DUO_ANSWER) in response.text


def test_callback_with_duo_error_is_a_deny(client: TestClient) -> None:
    """Duo's error on the callback (e.g. access_denied) becomes a deny verdict."""
    state = start(client)
    response = client.get("/step-up/callback", params={"state": state, "error": "access_denied"})
    claims = verdict_of(response)
    assert (claims["result"], claims["reason"]) == ("deny", "access_denied")
    assert cookie.COOKIE_NAME in response.headers["set-cookie"]  # deleted


def test_callback_without_a_code(client: TestClient) -> None:
    """A callback with neither code nor error is refused."""
    state = start(client)
    response = client.get("/step-up/callback", params={"state": state})
    assert escape(pages.BAD_DUO_ANSWER) in response.text
    assert 'href="http://kc.example/realms/acme/login-actions/restart?' not in response.text


@pytest.mark.parametrize(
    ("duo", "reason"),
    [
        pytest.param(httpx2.ConnectError, "duo_unavailable", id="down"),
        pytest.param(
            httpx2.Response(401, json={"error": "invalid_client"}), "duo_config", id="client"
        ),
        pytest.param(
            httpx2.Response(200, json={"id_token": "x.y.z", "token_type": "Bearer"}),
            "duo_protocol",
            id="bad-token",
        ),
    ],
)
def test_exchange_faults_fail_closed(
    client: TestClient, fakes: Fakes, duo: httpx2.Response | type[httpx2.ConnectError], reason: str
) -> None:
    """A failed code exchange is an error verdict whatever the fail mode: never a bypass."""
    fakes.attributes[attr.DUO_FAIL_MODE] = "open"
    state = start(client)
    fakes.duo = duo
    response = client.get("/step-up/callback", params={"state": state, "duo_code": "c"})
    claims = verdict_of(response)
    assert (claims["result"], claims["reason"]) == ("error", reason)


def test_exchange_without_settings(uncached: TestClient, fakes: Fakes) -> None:
    """Settings unreadable at the callback (read anew there) give an error verdict."""
    state = start(uncached)
    fakes.realm_status = 500
    claims = verdict_of(uncached.get("/step-up/callback", params={"state": state, "duo_code": "c"}))
    assert claims["reason"] == "settings_unavailable"


def test_exchange_with_broken_credentials(uncached: TestClient, fakes: Fakes) -> None:
    """Credentials that stopped decrypting by the callback give a configuration fault."""
    state = start(uncached)
    fakes.attributes[attr.DUO_SKEY] = "kdb1:gone:AAAA:AAAA"
    claims = verdict_of(uncached.get("/step-up/callback", params={"state": state, "duo_code": "c"}))
    assert claims["reason"] == "duo_config"


def test_outage_with_fail_open_is_a_bypass_and_counted(client: TestClient, fakes: Fakes) -> None:
    """Duo down at the health check with fail mode open: a bypass verdict, counted."""
    fakes.attributes[attr.DUO_FAIL_MODE] = "open"
    fakes.duo = httpx2.ConnectError
    claims = verdict_of(client.get("/step-up", params={"request": request_token()}))
    assert (claims["result"], claims["reason"]) == ("bypass", "duo_unavailable")
    text = metrics_text(client)
    assert 'kdb_fail_open_total{realm="acme"} 1.0' in text
    assert IKEY not in text


def admin_reads(fakes: Fakes) -> int:
    """How many times the bridge read realm settings through Keycloak's admin API."""
    return len([path for path in fakes.calls if path.startswith("/admin/")])


def unsigned(claims: dict[str, Any]) -> str:
    """A token with ``alg: none``, as an attacker needs no key to make."""
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{body}."


def test_item6_unsigned_and_forged_tokens_make_no_admin_read(
    client: TestClient, fakes: Fakes
) -> None:
    """Unsigned, HMAC and foreign-key tokens with random cfg cost no admin read or cache entry."""
    brand = "https://brand.example/realms/acme"
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for n in range(3):
        claims = request_claims(brand, cfg=f"random-{n}", return_url=f"{brand}/login-actions/x")
        for token, message in [
            (unsigned(claims), "asymmetric"),
            (jwt.encode(claims, "k" * 64, algorithm="HS256", headers={"kid": "rk"}), "asymmetric"),
            (jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": "rk"}), "verify"),
            (jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "x"}), "unknown key"),
        ]:
            with logged_reasons() as reasons:
                response = client.get("/step-up", params={"request": token})
            assert response.status_code == 400
            assert any(message in reason for reason in reasons)
    assert admin_reads(fakes) == 0


def test_item6_realm_claim_must_be_the_issuers_realm(client: TestClient, fakes: Fakes) -> None:
    """A token whose realm claim names another realm than its issuer is refused unread."""
    with logged_reasons() as reasons:
        response = client.get("/step-up", params={"request": request_token(realm="globex")})
    assert escape(pages.BAD_LINK) in response.text
    assert any("not its issuer's realm" in reason for reason in reasons)
    assert fakes.calls == []


def test_item6_a_warm_cache_survives_forged_tokens(client: TestClient, fakes: Fakes) -> None:
    """After forged tokens with random cfg, a real login still makes no admin read."""
    assert client.get("/step-up", params={"request": request_token()}).status_code == 302
    warm = admin_reads(fakes)
    for n in range(5):
        client.get("/step-up", params={"request": unsigned(request_claims(ISSUER, cfg=str(n)))})
    assert client.get("/step-up", params={"request": request_token(nonce="n2")}).status_code == 302
    assert admin_reads(fakes) == warm


def test_item6_unknown_issuers_are_remembered(client: TestClient, fakes: Fakes) -> None:
    """A verified token from a base the realm does not brand with is refused, then unread."""
    issuer = "https://not-the-brand.example/realms/acme"
    for n in range(3):
        token = request_token(iss=issuer, return_url=f"{issuer}/login-actions/x", cfg=str(n))
        with logged_reasons() as reasons:
            client.get("/step-up", params={"request": token})
        assert any("unknown Keycloak" in reason for reason in reasons)
    assert admin_reads(fakes) == 1  # the realm's frontendUrl, once


def test_item6_unknown_realms_are_remembered(client: TestClient, fakes: Fakes) -> None:
    """A realm Keycloak does not know costs one key read, then none for the negative TTL."""
    issuer = f"{KC}/realms/nowhere"
    token = request_token(iss=issuer, realm="nowhere", return_url=f"{issuer}/login-actions/x")
    for _ in range(3):
        assert escape(pages.UNVERIFIABLE) in client.get("/step-up", params={"request": token}).text
    assert fakes.calls == ["/realms/nowhere/protocol/openid-connect/certs"]


HEALTH_PATH = "/oauth/v1/health_check"


def test_item5_a_failed_exchange_opens_no_bypass(settings: Settings, fakes: Fakes) -> None:
    """After a failed code exchange in a fail-open realm, the next login still goes to Duo."""
    fakes.attributes[attr.DUO_FAIL_MODE] = "open"
    with bridge_client(settings.model_copy(update={"duo_health_ttl": 0.0}), fakes) as client:
        state = start(client)
        fakes.duo_token = httpx2.Response(500, text="oops")
        failed = client.get("/step-up/callback", params={"state": state, "duo_code": "c"})
        assert (verdict_of(failed)["result"], verdict_of(failed)["reason"]) == (
            "error",
            "duo_unavailable",
        )
        health_checks = fakes.duo_calls.count(HEALTH_PATH)
        response = client.get("/step-up", params={"request": request_token(nonce="n2")})
        assert response.headers["location"].startswith("https://duo.example/oauth/v1/authorize?")
        assert fakes.duo_calls.count(HEALTH_PATH) == health_checks + 1


def test_item5_an_open_circuit_is_no_bypass_for_a_healthy_duo(
    settings: Settings, fakes: Fakes
) -> None:
    """Fail-closed logins fail fast on an open circuit; fail-open logins ask Duo themselves."""
    fast = {"duo_health_ttl": 0.0, "duo_breaker_failures": 2, "bridge_settings_ttl": UNCACHED}
    with bridge_client(settings.model_copy(update=fast), fakes) as client:
        fakes.duo = httpx2.ConnectError
        for _ in range(2):
            claims = verdict_of(client.get("/step-up", params={"request": request_token()}))
            assert (claims["result"], claims["reason"]) == ("error", "duo_unavailable")
        assert 'kdb_duo_healthy{realm="acme"} 0.0' in metrics_text(client)
        fakes.duo = httpx2.Response(200, json={"stat": "OK"})  # Duo is back
        calls = len(fakes.duo_calls)
        claims = verdict_of(client.get("/step-up", params={"request": request_token()}))
        assert claims["result"] == "error"  # fail-closed: the open circuit answers, no call
        assert len(fakes.duo_calls) == calls
        fakes.attributes[attr.DUO_FAIL_MODE] = "open"
        response = client.get("/step-up", params={"request": request_token()})
        assert response.headers["location"].startswith("https://duo.example/oauth/v1/authorize?")
        assert fakes.duo_calls[calls:] == [HEALTH_PATH]


def test_item5_a_non_json_answer_is_no_bypass(client: TestClient, fakes: Fakes) -> None:
    """A health check answered 4xx without JSON (a stray 408, a proxy) is a config fault."""
    fakes.attributes[attr.DUO_FAIL_MODE] = "open"
    fakes.duo = httpx2.Response(408, text="Request Timeout")
    claims = verdict_of(client.get("/step-up", params={"request": request_token()}))
    assert (claims["result"], claims["reason"]) == ("error", "duo_config")


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A local HTTP-capable listener that records whether anyone connected."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)  # noqa: FBT003 - socket API
        yield server


def connections(server: socket.socket) -> int:
    """How many connections reached the listener (it never accepts: they wait in its backlog)."""
    count = 0
    while True:
        try:
            accepted, _ = server.accept()
        except BlockingIOError:
            return count
        accepted.close()
        count += 1


def test_item12_ssrf_login_sends_nothing_to_a_host_that_is_not_duos(
    settings: Settings, fakes: Fakes, listener: socket.socket
) -> None:
    """With the allowance off, a realm's api_host on an internal listener gets no request."""
    fakes.attributes[attr.DUO_FAIL_MODE] = "open"
    fakes.attributes[attr.DUO_API_HOST] = f"127.0.0.1:{listener.getsockname()[1]}"
    strict = settings.model_copy(update={"duo_allow_any_host": False})
    services = build_services(strict, keycloak_transport=httpx2.MockTransport(fakes.keycloak))
    app = create_app(strict, services)
    with TestClient(app, base_url="http://bridge.example", follow_redirects=False) as client:
        claims = verdict_of(client.get("/step-up", params={"request": request_token()}))
    assert (claims["result"], claims["reason"]) == ("error", "duo_config")  # not a bypass
    assert connections(listener) == 0


# -- one request token, one Duo prompt ---------------------------------------------------

TABBED_RETURN = f"{ISSUER}/login-actions/required-action?code=c&client_id=app&tab_id=t1"
RESTART = f"{ISSUER}/login-actions/restart?client_id=app&amp;tab_id=t1"


def test_a_second_open_while_at_duo_starts_no_second_prompt(client: TestClient) -> None:
    """The same request token opened again while its prompt is open is sent back to it."""
    token = request_token(return_url=TABBED_RETURN)
    assert client.get("/step-up", params={"request": token}).status_code == 302
    again = client.get("/step-up", params={"request": token})
    assert again.status_code == 400
    assert "already waiting for Duo" in again.text
    assert f'href="{RESTART}"' in again.text
    assert "set-cookie" not in again.headers
    other = client.get("/step-up", params={"request": request_token(nonce="n2")})
    assert other.headers["location"].startswith("https://duo.example/oauth/v1/authorize?")


def test_a_finished_step_is_refused_as_used_on_open_and_on_reload(client: TestClient) -> None:
    """After the callback, the token and a reload of the callback both say "already used"."""
    token = request_token(return_url=TABBED_RETURN)
    response = client.get("/step-up", params={"request": token})
    state = parse_qs(urlsplit(response.headers["location"]).query)["request"][0]
    state = jwt.decode(state, options={"verify_signature": False})["state"]
    done = client.get("/step-up/callback", params={"state": state, "error": "access_denied"})
    assert done.status_code == 302
    assert "Path=/step-up" in done.headers["set-cookie"]
    reload = client.get("/step-up/callback", params={"state": state, "error": "access_denied"})
    again = client.get("/step-up", params={"request": token})
    for page in (reload, again):
        assert page.status_code == 400
        assert "This sign-in step was already used" in page.text
        assert f'href="{RESTART}"' in page.text
        assert "cookie" not in page.text
    later = client.get("/step-up", params={"request": request_token(nonce="n2")})
    assert later.status_code == 302
    foreign = client.get("/step-up/callback", params={"state": "s" * 43, "duo_code": "x"})
    assert "already used" not in foreign.text


def test_the_used_steps_keep_the_newest_few(client: TestClient) -> None:
    """The used-steps cookie keeps the newest steps only, so it stays small."""
    for n in range(app_module.MAX_USED + 2):
        state = start_with(client, request_token(nonce=f"m{n}"))
        client.get("/step-up/callback", params={"state": state, "error": "access_denied"})
    assert len(client.cookies[app_module.USED_COOKIE]) < cookie.MAX_COOKIE_LENGTH
    newest = client.get("/step-up", params={"request": request_token(nonce="m9")})
    oldest = client.get("/step-up", params={"request": request_token(nonce="m0")})
    assert ("already used" in newest.text, oldest.status_code) == (True, 302)


def start_with(client: TestClient, token: str) -> str:
    """Start a step-up with ``token``; return Duo's state."""
    response = client.get("/step-up", params={"request": token})
    request = parse_qs(urlsplit(response.headers["location"]).query)["request"][0]
    state: str = jwt.decode(request, options={"verify_signature": False})["state"]
    return state


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("x" * 5000, id="oversized"),
        pytest.param("not-sealed", id="altered"),
        pytest.param("list", id="not-a-list"),
        pytest.param("entries", id="bad-entries"),
    ],
)
def test_an_unusable_used_steps_cookie_is_ignored(
    client: TestClient, settings: Settings, value: str
) -> None:
    """A used-steps cookie that is oversized, altered or malformed counts as empty."""
    ring = cookie_ring(settings)
    aad = b"kdb-step-up-used-v1"
    sealed = {
        "list": ring.seal_json({"used": "x"}, aad),
        "entries": ring.seal_json({"used": ["x", {"n": "y"}, {"e": "1"}]}, aad),
    }
    client.cookies.set(app_module.USED_COOKIE, sealed.get(value, value), path="/step-up")
    assert client.get("/step-up", params={"request": request_token()}).status_code == 302


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        pytest.param("none", pages.OTHER_BROWSER, id="other-browser"),
        pytest.param("newer", pages.NEWER_SIGN_IN, id="newer-sign-in"),
        pytest.param("tampered", pages.DAMAGED, id="damaged"),
    ],
)
def test_callback_refusals_are_in_plain_words(client: TestClient, setup: str, message: str) -> None:
    """A callback this browser cannot finish says why in plain words, never "cookie"."""
    if setup == "newer":
        start(client)
    if setup == "tampered":
        client.cookies.set(cookie.COOKIE_NAME, "A" * 200, path="/step-up")
    response = client.get("/step-up/callback", params={"state": "s" * 43, "duo_code": "x"})
    assert response.status_code == 400
    assert escape(message) in response.text
    assert "cookie" not in response.text
    assert "Go back to the application" in response.text


def test_an_expired_step_up_says_so(client: TestClient, settings: Settings) -> None:
    """A callback after the pending step-up expired says it took too long."""
    key = cookie_ring(settings)
    fields = dict.fromkeys(cookie.Pending.__dataclass_fields__, "x")
    pending = cookie.Pending(**{**fields, "state": "s" * 43, "expires": int(time.time()) - 1})  # type: ignore[arg-type]
    client.cookies.set(cookie.COOKIE_NAME, cookie.seal(pending, key), path="/step-up")
    response = client.get("/step-up/callback", params={"state": "s" * 43, "duo_code": "x"})
    assert escape(pages.EXPIRED) in response.text


def test_restart_needs_the_application_and_the_tab() -> None:
    """Keycloak's restart address is made only from a return URL naming client and tab."""
    assert pages.restart_url(ISSUER, f"{ISSUER}/login-actions/x?client_id=app") is None
    assert pages.restart_url(ISSUER, TABBED_RETURN) == RESTART.replace("&amp;", "&")


def test_bridge_pages_are_styled_by_hash_only(client: TestClient) -> None:
    """The pages carry their style inline, allowed by its hash, and nothing else."""
    response = client.get("/step-up")
    policy = response.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    assert "<style>" in response.text
    assert "<script" not in response.text
