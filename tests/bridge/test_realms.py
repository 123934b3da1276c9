"""Realm settings and keys from Keycloak, cached; faults injected with a mock transport."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import httpx2
import pytest
from pydantic import SecretStr

from keycloak_duo_bridge.bridge.realms import JwksCache, RealmSource
from keycloak_duo_bridge.errors import (
    KeycloakAuthError,
    KeycloakError,
    KeycloakForbiddenError,
    KeycloakUnreachableError,
    NotFoundError,
)
from keycloak_duo_bridge.settings import Settings, load_settings
from tests.aio import run as run_async

T = TypeVar("T")
KC = "http://kc.example"


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def settings() -> Settings:
    return load_settings(keycloak_url=KC, keycloak_admin_password="pw", bridge_settings_ttl=60)


class FakeKeycloak:
    """Keycloak's token, realm and certs endpoints, with scriptable answers."""

    def __init__(self) -> None:
        self.realms: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.token_status = 200
        self.expire_next_token = False
        self.fail: type[httpx2.ConnectError] | None = None
        self.realm_status: int | None = None
        self.certs_status = 200
        self.grants: list[dict[str, str]] = []
        self.kids: dict[str, list[str]] = {}

    def __call__(self, request: httpx2.Request) -> httpx2.Response:  # noqa: PLR0911 - one per endpoint
        self.calls.append(f"{request.method} {request.url.path}")
        if self.fail is not None:
            raise self.fail("down", request=request)
        path = request.url.path
        if path.endswith("/protocol/openid-connect/token"):
            self.grants.append(dict(parse_qsl(request.content.decode())))
            if self.token_status != 200:
                return httpx2.Response(self.token_status, json={"error": "invalid_grant"})
            return httpx2.Response(200, json={"access_token": "t", "expires_in": 60})
        if path.endswith("/protocol/openid-connect/certs"):
            realm = path.split("/")[2]
            if realm not in self.realms:
                return httpx2.Response(404)
            if self.certs_status != 200:
                return httpx2.Response(self.certs_status)
            kids = self.kids.get(realm, [f"{realm}-k"])
            return httpx2.Response(200, json={"keys": [{"kid": kid} for kid in kids]})
        if self.expire_next_token:
            self.expire_next_token = False
            return httpx2.Response(401)
        if self.realm_status is not None:
            return httpx2.Response(self.realm_status)
        realm = path.removeprefix("/admin/realms/")
        if realm not in self.realms:
            return httpx2.Response(404)
        return httpx2.Response(200, json={"id": f"id-{realm}", **self.realms[realm]})


def run(work: Callable[[httpx2.AsyncClient], Coroutine[Any, Any, T]], fake: FakeKeycloak) -> T:
    async def main() -> T:
        async with httpx2.AsyncClient(transport=httpx2.MockTransport(fake)) as http:
            return await work(http)

    return run_async(main())


def test_settings_are_cached_by_fingerprint_and_ttl() -> None:
    """The same fingerprint within the TTL makes no admin call; a new one re-reads."""
    fake, clock = FakeKeycloak(), Clock()
    fake.realms["globex"] = {
        "id": "globex-id",
        "attributes": {
            "kdb.tenant.kind": "client",
            "kdb.tenant.partner": "acme",
            "kdb.duo.enabled": "true",
        },
    }
    fake.realms["acme"] = {
        "attributes": {
            "kdb.tenant.kind": "partner",
            "kdb.tenant.client.globex": "globex-id",
            "kdb.duo.fail_mode": "open",
            "frontendUrl": "https://a/",
        }
    }

    async def work(http: httpx2.AsyncClient) -> list[int]:
        source = RealmSource(settings(), http, clock=clock)
        counts = []
        first = await source.effective("globex", "f1")
        assert first.fail_mode.value == "open"
        counts.append(admin_calls(fake))
        await source.effective("globex", "f1")
        counts.append(admin_calls(fake))
        await source.effective("globex", "f2")
        counts.append(admin_calls(fake))
        clock.now = 61
        await source.effective("globex", "f2")
        counts.append(admin_calls(fake))
        assert await source.frontend_url("acme", "x") == "https://a"
        assert await source.frontend_url("globex", "f2") is None
        return counts

    assert run(work, fake) == [3, 3, 5, 8]  # after the TTL the admin token is stale too


def test_missing_partner_and_expired_token() -> None:
    """A vanished partner reads as none; a 401 refreshes the admin token once."""
    fake = FakeKeycloak()
    fake.realms["globex"] = {
        "attributes": {"kdb.tenant.kind": "client", "kdb.tenant.partner": "gone"}
    }

    async def work(http: httpx2.AsyncClient) -> None:
        source = RealmSource(settings(), http)
        effective = await source.effective("globex", "f")
        assert effective.problems == ("partner realm 'gone' does not exist",)
        fake.expire_next_token = True
        await source.effective("globex", "changed")

    run(work, fake)
    assert fake.calls.count("POST /realms/master/protocol/openid-connect/token") == 2


@pytest.mark.parametrize(
    ("setup", "error", "message"),
    [
        pytest.param({"token_status": 400}, KeycloakAuthError, "admin credentials", id="creds"),
        pytest.param(
            {"fail": httpx2.ConnectError}, KeycloakUnreachableError, "unreachable", id="down"
        ),
        pytest.param({}, NotFoundError, "does not exist", id="no-realm"),
        pytest.param({"realm_status": 500}, KeycloakError, "HTTP 500", id="server-error"),
    ],
)
def test_faults_are_translated(setup: dict[str, Any], error: type[Exception], message: str) -> None:
    """Keycloak's faults become the package's own errors, once."""
    fake = FakeKeycloak()
    for name, value in setup.items():
        setattr(fake, name, value)

    async def work(http: httpx2.AsyncClient) -> None:
        await RealmSource(settings(), http).effective("globex", "f")

    with pytest.raises(error, match=message):
        run(work, fake)


def test_a_token_rejected_twice_is_an_auth_error() -> None:
    """If Keycloak keeps answering 401, the bridge gives up with an auth error."""
    fake = FakeKeycloak()
    fake.realm_status = 401

    async def work(http: httpx2.AsyncClient) -> None:
        await RealmSource(settings(), http).effective("globex", "f")

    with pytest.raises(KeycloakAuthError, match="admin token"):
        run(work, fake)


def test_admin_token_endpoint_unreachable() -> None:
    """Keycloak down at the token endpoint is reported as unreachable."""
    fake = FakeKeycloak()
    fake.fail = httpx2.ConnectError

    async def work(http: httpx2.AsyncClient) -> None:
        source = RealmSource(settings(), http)
        await source._admin_token(refresh=False)

    with pytest.raises(KeycloakUnreachableError):
        run(work, fake)


def test_jwks_refresh_is_rate_limited() -> None:
    """Known kids come from the cache; an unknown kid re-reads at most once per interval."""
    fake, clock = FakeKeycloak(), Clock()
    fake.realms["acme"] = {}

    async def work(http: httpx2.AsyncClient) -> int:
        cache = JwksCache(KC, http, min_refresh_interval=10, clock=clock)
        await cache.jwks("acme", "acme-k")
        await cache.jwks("acme", "acme-k")
        await cache.jwks("acme", "unknown")
        clock.now = 11
        await cache.jwks("acme", "unknown")
        with pytest.raises(NotFoundError):
            await cache.jwks("nowhere", "k")
        fake.fail = httpx2.ConnectError
        with pytest.raises(KeycloakUnreachableError):
            await cache.jwks("other", "k")
        return len([c for c in fake.calls if c.endswith("/certs")])

    assert run(work, fake) == 4  # first read, the unknown kid after 11 s, and the two faults


def admin_calls(fake: FakeKeycloak) -> int:
    """Requests to the admin API, and for admin tokens, the fake Keycloak has answered."""
    return len([c for c in fake.calls if c.startswith("GET /admin/") or c.endswith("/token")])


def certs_calls(fake: FakeKeycloak) -> int:
    return len([c for c in fake.calls if c.endswith("/certs")])


def test_item6_a_key_keycloak_stops_publishing_expires_with_max_age() -> None:
    """A cached key set serves logins until max_age, then a re-read drops a withdrawn key."""
    fake, clock = FakeKeycloak(), Clock()
    fake.realms["acme"] = {}
    fake.kids["acme"] = ["old", "new"]

    async def work(http: httpx2.AsyncClient) -> list[str]:
        cache = JwksCache(KC, http, min_refresh_interval=10, max_age=300, clock=clock)
        await cache.jwks("acme", "old")
        fake.kids["acme"] = ["new"]  # Keycloak withdraws the old key
        clock.now = 299
        still = await cache.jwks("acme", "old")
        assert certs_calls(fake) == 1  # no read per login within max_age
        assert [k["kid"] for k in still["keys"]] == ["old", "new"]
        clock.now = 301
        later = await cache.jwks("acme", "old")
        return [k["kid"] for k in later["keys"]]

    assert run(work, fake) == ["new"]
    assert certs_calls(fake) == 2


def test_item6_unknown_realms_are_remembered_as_unknown() -> None:
    """A realm Keycloak does not know is refused without a read for the negative TTL."""
    fake, clock = FakeKeycloak(), Clock()

    async def work(http: httpx2.AsyncClient) -> None:
        cache = JwksCache(KC, http, negative_ttl=60, max_unknown=2, clock=clock)
        for _ in range(3):
            with pytest.raises(NotFoundError, match="publishes no keys"):
                await cache.jwks("made-up", "k")
        assert certs_calls(fake) == 1
        clock.now = 61
        fake.realms["made-up"] = {}  # created since
        await cache.jwks("made-up", "made-up-k")
        assert certs_calls(fake) == 2
        del fake.realms["made-up"]  # deleted: the next re-read forgets its keys
        clock.now = 72
        with pytest.raises(NotFoundError):
            await cache.jwks("made-up", "unknown-kid")

    run(work, fake)


def test_item6_keycloak_errors_on_keys_are_not_remembered() -> None:
    """A 5xx on a realm's keys is an error for this login only, not a negative entry."""
    fake = FakeKeycloak()
    fake.realms["acme"] = {}
    fake.certs_status = 503

    async def work(http: httpx2.AsyncClient) -> None:
        cache = JwksCache(KC, http)
        for _ in range(2):
            with pytest.raises(KeycloakError, match="HTTP 503"):
                await cache.jwks("acme", "acme-k")

    run(work, fake)
    assert certs_calls(fake) == 2


def test_least_privilege_the_bridge_reads_realms_as_its_service_account(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With a bridge client set, realms are read with client credentials, never the password."""
    fake = FakeKeycloak()
    fake.realms["globex"] = {"attributes": {}}
    own = settings().model_copy(
        update={"bridge_client_id": "kdb-bridge", "bridge_client_secret": SecretStr("cs-1")}
    )

    async def work(http: httpx2.AsyncClient) -> None:
        await RealmSource(own, http).effective("globex", "f")

    with caplog.at_level(logging.WARNING):
        run(work, fake)
    assert fake.grants == [
        {"grant_type": "client_credentials", "client_id": "kdb-bridge", "client_secret": "cs-1"}
    ]
    assert caplog.records == []


def test_least_privilege_without_a_service_account_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without one, the admin password is used, with one warning that names the settings."""
    fake = FakeKeycloak()
    fake.realms["globex"] = {"attributes": {}}

    async def work(http: httpx2.AsyncClient) -> None:
        source = RealmSource(settings(), http)
        await source.effective("globex", "f")
        await source._admin_token(refresh=True)

    with caplog.at_level(logging.WARNING):
        run(work, fake)
    assert [g["grant_type"] for g in fake.grants] == ["password", "password"]
    [warning] = caplog.records
    assert "KDB_BRIDGE_CLIENT_ID" in warning.getMessage()
    assert "pw" not in warning.getMessage()


def test_least_privilege_a_realm_the_account_may_not_view_is_an_error_not_duo_off() -> None:
    """Keycloak's brief answer (name only) to a reader without view-realm fails closed."""
    fake = FakeKeycloak()
    fake.realms["globex"] = {}

    def brief(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/admin/realms/globex":
            return httpx2.Response(200, json={"realm": "globex"})
        return fake(request)

    async def main() -> None:
        async with httpx2.AsyncClient(transport=httpx2.MockTransport(brief)) as http:
            await RealmSource(settings(), http).effective("globex", "f")

    with pytest.raises(KeycloakForbiddenError, match="may not view realm 'globex'"):
        run_async(main())
