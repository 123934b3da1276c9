"""The CIBA channel's units (#16): Keycloak's bearer token, the policy, the Duo steps and
the callback, with Keycloak and Duo replaced by mock transports."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx2
import jwt
import pytest
from starlette.testclient import TestClient

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.app import Services, build_services, create_app
from keycloak_duo_bridge.bridge import ciba, ciba_token
from keycloak_duo_bridge.bridge.ciba_policy import ChannelStatus, Outcome, max_polls
from keycloak_duo_bridge.bridge.ciba_token import ChannelRequest, ChannelTokenError
from keycloak_duo_bridge.settings import Settings, key_ring
from tests.aio import run
from tests.bridge_fakes import ISSUER, JWK, KEY, bridge_settings

SKEY = "s" * 40
CALLBACK = "/realms/acme/protocol/openid-connect/ext/ciba/auth/callback"


def channel_claims(**changes: Any) -> dict[str, Any]:
    """Claims as Keycloak's createBearerToken writes them; ``None`` drops one."""
    claims: dict[str, Any] = {
        "typ": "Bearer",
        "iss": ISSUER,
        "aud": ISSUER,
        "jti": "auth-result-1",
        "azp": "ciba-cli",
        "sub": "u1",
        "exp": int(time.time()) + 120,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def channel_token(**changes: Any) -> str:
    """A channel token signed with the fake realm's key."""
    kid = changes.pop("kid", "rk")
    return jwt.encode(channel_claims(**changes), KEY, algorithm="RS256", headers={"kid": kid})


@dataclass
class World:
    """What the mock Keycloak and Duo answer, and what they were asked."""

    attributes: dict[str, str]
    user: dict[str, Any] = field(
        default_factory=lambda: {"username": "ann", "email": "Ann@x.example"}
    )
    groups: list[Any] = field(default_factory=list)
    keycloak_down: bool = False
    callbacks: list[int] = field(default_factory=lambda: [200])
    preauth: dict[str, Any] = field(
        default_factory=lambda: {
            "result": "auth",
            "devices": [{"device": "D", "capabilities": ["push"]}],
        }
    )
    statuses: list[dict[str, Any]] = field(
        default_factory=lambda: [{"result": "allow", "status": "allow"}]
    )
    duo_status: int = 200
    pushes: list[dict[str, Any]] = field(default_factory=list)
    called_back: list[dict[str, Any]] = field(default_factory=list)

    def keycloak(self, request: httpx2.Request) -> httpx2.Response:  # noqa: PLR0911 - one answer per path
        if self.keycloak_down:
            raise httpx2.ConnectError("down", request=request)
        path = request.url.path
        if path == CALLBACK:
            self.called_back.append(json.loads(request.content))
            return httpx2.Response(
                self.callbacks.pop(0) if len(self.callbacks) > 1 else self.callbacks[0]
            )
        if path.endswith("/token"):
            return httpx2.Response(200, json={"access_token": "t", "expires_in": 300})
        if path == "/realms/acme/protocol/openid-connect/certs":
            return httpx2.Response(200, json={"keys": [JWK]})
        if path.endswith("/certs"):
            return httpx2.Response(404)
        if path == "/admin/realms/acme":
            return httpx2.Response(200, json={"id": "id", "attributes": self.attributes})
        if path == "/admin/realms/acme/users/u1":
            return httpx2.Response(200, json=self.user)
        if path == "/admin/realms/acme/users/u1/groups":
            return httpx2.Response(200, json=self.groups)
        return httpx2.Response(404)

    def duo(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if self.duo_status != 200:
            return httpx2.Response(self.duo_status, json={"stat": "FAIL", "code": 40301})
        if path == "/auth/v2/preauth":
            return httpx2.Response(200, json={"stat": "OK", "response": self.preauth})
        if path == "/auth/v2/auth":
            self.pushes.append(json.loads(request.content))
            return httpx2.Response(200, json={"stat": "OK", "response": {"txid": "tx"}})
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return httpx2.Response(200, json={"stat": "OK", "response": status})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Bridge settings for the fake Keycloak at kc.example."""
    return bridge_settings(tmp_path)


@pytest.fixture
def world(settings: Settings) -> World:
    """Realm acme with Duo on and Auth API credentials; user u1 (ann) enrolled."""
    sealed = key_ring(settings).encrypt(SKEY, realm="acme", attribute=attr.AUTH_API_SKEY)
    return World(
        attributes={
            attr.DUO_ENABLED: "true",
            attr.AUTH_API_IKEY: "DIXXXXXXXXXXXXXXXXXX",
            attr.AUTH_API_HOST: "api-abc.duosecurity.com",
            attr.AUTH_API_SKEY: sealed,
        }
    )


def services_for(settings: Settings, world: World) -> Services:
    """The bridge's services with Keycloak and Duo mocked."""
    return build_services(
        settings,
        duo_transport=httpx2.MockTransport(world.duo),
        keycloak_transport=httpx2.MockTransport(world.keycloak),
    )


async def _no_sleep(_: float) -> None:
    return None


REFUSED = Outcome(ChannelStatus.UNAUTHORIZED, "duo_deny")


def request(**changes: Any) -> ChannelRequest:
    """A verified channel request of realm acme."""
    return ChannelRequest(
        issuer=ISSUER,
        realm="acme",
        user_id="u1",
        client_id="ciba-cli",
        auth_result_id="r1",
        expires=int(changes.pop("expires", time.time() + 120)),
        token="tok",
    )


def outcome_of(settings: Settings, world: World, binding: str | None = "B-1") -> Outcome:
    """Run the whole decision against the world."""

    async def main() -> Outcome:
        services = services_for(settings, world)
        try:
            return await ciba.authenticate(services, request(), binding, sleep=_no_sleep)
        finally:
            await services.aclose()

    return run(main())


def test_an_approval_after_waiting_succeeds_and_shows_the_binding_message(
    settings: Settings, world: World
) -> None:
    """Waiting, then allow: SUCCEED; the push names the user and carries the message."""
    world.statuses = [
        {"result": "waiting", "status": "pushed"},
        {"result": "allow", "status": "allow"},
    ]
    outcome = outcome_of(settings, world)
    assert (outcome.status, outcome.reason, outcome.factor) == (
        ChannelStatus.SUCCEED,
        "user_approved",
        "duo_push",
    )
    assert outcome.txid
    [push] = world.pushes
    assert (push["username"], push["pushinfo"], push["async"]) == (
        "ann",
        "binding_message=B-1",
        "1",
    )


@pytest.mark.parametrize(
    ("preauth", "expected"),
    [
        ({"result": "enroll"}, Outcome(ChannelStatus.UNAUTHORIZED, "not_enrolled")),
        ({"result": "allow"}, Outcome(ChannelStatus.UNAUTHORIZED, "no_second_factor:duo_allow")),
        ({"result": "deny"}, Outcome(ChannelStatus.UNAUTHORIZED, "duo_deny")),
        (
            {"result": "auth", "devices": [{"capabilities": ["sms"]}, "junk", {}]},
            Outcome(ChannelStatus.UNAUTHORIZED, "passcode_required"),
        ),
        (
            {"result": "auth", "devices": [{"capabilities": ["phone"]}]},
            Outcome(ChannelStatus.UNAUTHORIZED, "no_push_device"),
        ),
        (
            {"result": "auth", "devices": "none"},
            Outcome(ChannelStatus.UNAUTHORIZED, "no_push_device"),
        ),
        ({"result": "?"}, Outcome(ChannelStatus.CANCELLED, "duo_protocol")),
    ],
)
def test_preauth_refusals_send_no_push(
    settings: Settings, world: World, preauth: dict[str, Any], expected: Outcome
) -> None:
    """Not enrolled, Duo's allow or deny, no push device (named apart when only passcodes
    would do), a bad answer: refused, no push."""
    world.preauth = preauth
    assert outcome_of(settings, world) == expected
    assert world.pushes == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"result": "deny", "status": "deny"}, Outcome(ChannelStatus.UNAUTHORIZED, "duo_deny")),
        ({"result": "deny", "status": "fraud"}, Outcome(ChannelStatus.UNAUTHORIZED, "duo_fraud")),
        ({"result": "deny", "status": "timeout"}, Outcome(ChannelStatus.CANCELLED, "duo_timeout")),
    ],
)
def test_the_phones_refusals(
    settings: Settings, world: World, status: dict[str, Any], expected: Outcome
) -> None:
    """Deny, fraud and Duo's timeout map to Keycloak's statuses (Duo's txid kept for the log)."""
    world.statuses = [status]
    assert outcome_of(settings, world) == replace(expected, txid="tx")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({attr.DUO_ENABLED: "false"}, "no_second_factor:realm_off"),
        ({attr.DUO_APPS: '{"ciba-cli": "off"}'}, "no_second_factor:app_off"),
        ({attr.DUO_BYPASS_GROUPS: '["/staff"]'}, "no_second_factor:bypassed_by_group"),
        ({attr.DUO_USER_MODE: "opt-in"}, "no_second_factor:not_activated"),
    ],
)
def test_what_skips_duo_in_a_browser_refuses_a_ciba_login(
    settings: Settings, world: World, changes: dict[str, str], reason: str
) -> None:
    """Realm off, app off, bypass group, not activated: refused, nothing pushed."""
    world.attributes.update(changes)
    world.groups = [{"path": "/staff"}, "junk"]
    assert outcome_of(settings, world) == Outcome(ChannelStatus.UNAUTHORIZED, reason)
    assert world.pushes == []


def test_an_activated_opt_in_user_is_pushed(settings: Settings, world: World) -> None:
    """Opt-in with the user's activation attribute set: Duo applies."""
    world.attributes[attr.DUO_USER_MODE] = "opt-in"
    world.user["attributes"] = {attr.USER_ACTIVATED: ["true"]}
    assert outcome_of(settings, world).status is ChannelStatus.SUCCEED


@pytest.mark.parametrize(
    ("fail_mode", "suffix"), [("closed", ""), ("open", ":fail_open_not_applied")]
)
def test_an_outage_cancels_in_either_fail_mode(
    settings: Settings, world: World, fail_mode: str, suffix: str
) -> None:
    """Duo answers 503: CANCELLED, whatever the fail mode says."""
    world.attributes[attr.DUO_FAIL_MODE] = fail_mode
    world.duo_status = 503
    assert outcome_of(settings, world) == Outcome(
        ChannelStatus.CANCELLED, "duo_unavailable" + suffix
    )


def test_configuration_faults_cancel(settings: Settings, world: World) -> None:
    """Refused credentials, none stored, an undecryptable skey, no verified email: duo_config."""
    config = Outcome(ChannelStatus.CANCELLED, "duo_config")
    world.duo_status = 401
    assert outcome_of(settings, world) == config
    world.duo_status = 200
    sealed = world.attributes[attr.AUTH_API_SKEY]
    world.attributes[attr.AUTH_API_SKEY] = "kdb1:nope"
    assert outcome_of(settings, world) == config
    world.attributes[attr.AUTH_API_SKEY] = sealed
    world.user["emailVerified"] = False
    world.attributes[attr.DUO_USERNAME] = "email"
    assert outcome_of(settings, world) == config
    for name in (attr.AUTH_API_IKEY, attr.AUTH_API_HOST, attr.AUTH_API_SKEY):
        del world.attributes[name]
    assert outcome_of(settings, world) == config


def test_keycloak_down_cancels(settings: Settings, world: World) -> None:
    """The settings or the user cannot be read: CANCELLED, settings_unavailable."""
    world.keycloak_down = True
    assert outcome_of(settings, world) == Outcome(ChannelStatus.CANCELLED, "settings_unavailable")
    world.keycloak_down = False
    world.user = {}
    world.attributes = {attr.DUO_ENABLED: "true"}

    async def missing_user() -> Outcome:
        services = services_for(settings, world)
        try:
            lost = ChannelRequest(ISSUER, "acme", "nobody", "ciba-cli", "r", int(time.time()), "t")
            return await ciba.authenticate(services, lost, None, sleep=_no_sleep)
        finally:
            await services.aclose()

    assert run(missing_user()) == Outcome(ChannelStatus.CANCELLED, "settings_unavailable")


def test_polling_stops_when_the_request_expires(settings: Settings, world: World) -> None:
    """A phone that never answers: polls bounded by the expiry, then CANCELLED."""
    world.statuses = [{"result": "waiting", "status": "pushed"}]

    async def main() -> Outcome:
        services = services_for(settings, world)
        try:
            soon = request(expires=time.time() + 3)
            return await ciba.authenticate(services, soon, None, sleep=_no_sleep)
        finally:
            await services.aclose()

    assert run(main()) == Outcome(ChannelStatus.CANCELLED, "no_answer_in_time")
    assert max_polls(now=0, expires=10_000, interval=1) == 300
    assert max_polls(now=0, expires=-5, interval=1) == 1


def test_the_callback_is_sent_again_until_keycloak_takes_it(
    settings: Settings, world: World
) -> None:
    """403 (not stored yet), then 200: taken; a Keycloak that never answers: False."""
    world.callbacks = [403, 200]

    async def main() -> tuple[bool, bool]:
        services = services_for(settings, world)
        try:
            taken = await ciba.notify(services, request(), REFUSED, sleep=_no_sleep)
            world.keycloak_down = True
            lost = await ciba.notify(services, request(), REFUSED, sleep=_no_sleep)
            return taken, lost
        finally:
            await services.aclose()

    assert run(main()) == (True, False)
    assert world.called_back == [{"status": "UNAUTHORIZED"}] * 2


def test_an_approval_carries_a_verdict_signed_for_the_realm_user_and_client(
    settings: Settings, world: World
) -> None:
    """SUCCEED: the callback carries a CIBA verdict the bridge signed (ES256), addressed to the
    realm, the user and the client, with Duo's factor and its amr, until the request expires."""
    approved = Outcome(ChannelStatus.SUCCEED, "user_approved", factor="duo_push", txid="TX1")

    async def main() -> Services:
        services = services_for(settings, world)
        try:
            assert await ciba.notify(services, request(), approved, sleep=_no_sleep)
            return services
        finally:
            await services.aclose()

    services = run(main())
    [body] = world.called_back
    assert body["status"] == "SUCCEED"
    public = jwt.PyJWK(services.signing_key.public_jwk()).key
    claims = jwt.decode(body[ciba.VERDICT_PARAM], public, algorithms=["ES256"], audience=ISSUER)
    assert claims["typ"] == "kdb-ciba-verdict"
    assert (claims["sub"], claims["azp"], claims["nonce"]) == ("u1", "ciba-cli", "r1")
    assert (claims["result"], claims["reason"], claims["factor"], claims["txid"]) == (
        "allow",
        "user_approved",
        "duo_push",
        "TX1",
    )
    assert claims["amr"] == ["mfa", "swk"]
    assert 100 < claims["exp"] - claims["iat"] <= 120


@pytest.fixture
def client(settings: Settings, world: World) -> Iterator[TestClient]:
    """The bridge app with the mocks (background tasks run before the answer returns)."""
    with TestClient(create_app(settings, services_for(settings, world))) as test_client:
        yield test_client


BODY = {"login_hint": "ann", "scope": "openid", "binding_message": "B-1"}


def test_the_channel_accepts_once_and_calls_back(client: TestClient, world: World) -> None:
    """A good token: 201 and a callback; the same token again: 401 (replayed)."""
    headers = {"Authorization": f"Bearer {channel_token()}"}
    assert client.post("/ciba/channel", json=BODY, headers=headers).status_code == 201
    [called_back] = world.called_back
    assert called_back["status"] == "SUCCEED"
    assert ciba.VERDICT_PARAM in called_back
    again = client.post("/ciba/channel", json=BODY, headers=headers)
    assert (again.status_code, again.json()) == (401, {"error": "invalid_token"})
    assert len(world.pushes) == 1


@pytest.mark.parametrize(
    "token",
    [
        channel_token(iss="http://other.example/realms/acme"),
        channel_token(iss="http://kc.example/realms/nope"),
        channel_token(kid="other"),
        channel_token(typ="ID"),
        channel_token(aud="account"),
        channel_token(exp=None),
        channel_token(exp=int(time.time()) - 600),
        channel_token(exp=int(time.time()) + 7200),
        channel_token(sub=None),
        channel_token(iss=None),
        channel_token(iss="http://kc.example/nowhere"),
        jwt.encode(channel_claims(), "k" * 32, algorithm="HS256"),
        channel_token()[:-4] + "AAAA",
        "x" * 9000,
        "not.a.jwt",
    ],
)
def test_the_channel_refuses_bad_tokens(client: TestClient, world: World, token: str) -> None:
    """Another Keycloak, realm or key; wrong typ, audience, expiry or subject; HMAC; a bad
    signature; too large or malformed: 401, nothing pushed."""
    answer = client.post("/ciba/channel", json=BODY, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert world.pushes == []


@pytest.mark.parametrize("body", [b"[1]", b"{", b" " * 20000])
def test_the_channel_refuses_bad_bodies(client: TestClient, body: bytes) -> None:
    """A body that is not a small JSON object: 400."""
    headers = {"Authorization": f"Bearer {channel_token(jti='b')}"}
    answer = client.post("/ciba/channel", content=body, headers=headers)
    assert (answer.status_code, answer.json()) == (400, {"error": "invalid_request"})


def test_only_keycloak_shaped_binding_messages_are_shown() -> None:
    """A binding message with spaces or over 50 characters is not shown on the phone."""
    assert ciba_token.binding_message({"binding_message": "A-1"}) == "A-1"
    assert ciba_token.binding_message({"binding_message": "a b"}) is None
    assert ciba_token.binding_message({"binding_message": "x" * 51}) is None
    assert ciba_token.binding_message([]) is None


def test_a_missing_bearer_is_refused() -> None:
    """No header or another scheme: ChannelTokenError."""
    for header in (None, "Basic abc", "Bearer "):
        with pytest.raises(ChannelTokenError, match="no bearer token"):
            ciba_token.bearer(header)
    assert "tok" not in repr(request())


def test_a_fraud_report_is_logged_as_fraud(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A push the user reported: UNAUTHORIZED to Keycloak, and a warning that says fraud."""
    world.statuses = [{"result": "deny", "status": "fraud"}]
    headers = {"Authorization": f"Bearer {channel_token(jti='f')}"}
    with caplog.at_level(logging.INFO, logger="keycloak_duo_bridge.ciba"):
        assert client.post("/ciba/channel", json=BODY, headers=headers).status_code == 201
    assert world.called_back == [{"status": "UNAUTHORIZED"}]
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "keycloak_duo_bridge.ciba"
    ]
    assert warnings == ["duo push reported as fraud"]


@pytest.mark.parametrize("claim", ["sub", "azp", "jti"])
def test_a_token_without_its_request_claims_is_refused(claim: str) -> None:
    """No user, client or request id: ChannelTokenError naming the claim."""
    with pytest.raises(ChannelTokenError, match=f"lacks '{claim}'"):
        ciba_token.verify(channel_token(**{claim: None}), jwt.PyJWK(JWK), now=time.time())
