"""The console's parts under faults real parts cannot be made to produce on demand.

Keycloak going away between two calls, non-JSON token answers, tokens signed by a test key,
sealed values of every wrong shape. The real flows run against the sandbox in
tests/console/test_console_http.py and test_console_browser.py.
"""

from __future__ import annotations

import base64
import dataclasses
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from starlette.datastructures import FormData
from starlette.testclient import TestClient

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import console_client, duo_settings
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.organizations import Organization
from keycloak_duo_bridge.admin.tenants import Tenant
from keycloak_duo_bridge.api import auth
from keycloak_duo_bridge.api.app import Api
from keycloak_duo_bridge.api.auth import Caller
from keycloak_duo_bridge.app import Services, build_services, create_app
from keycloak_duo_bridge.attributes import AppMode, TenantKind
from keycloak_duo_bridge.console import account, admin, oidc, pages
from keycloak_duo_bridge.console.app import Console as ConsolePages
from keycloak_duo_bridge.console.app import ConsoleServices
from keycloak_duo_bridge.console.state import ACCOUNT, ADMIN, PendingActivation, Session, SignIn
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import (
    ConfigError,
    KeycloakError,
    KeycloakUnreachableError,
    NotFoundError,
)
from keycloak_duo_bridge.sandbox.ports import free_port
from tests.aio import run
from tests.bridge_fakes import ISSUER, JWK, KC, KEY, Fakes, bridge_settings, realm_fakes

Json = dict[str, Any]
BRIDGE = "http://bridge.example"
MASTER_ADMIN = Caller("master", "root-id", "root", frozenset({"admin"}), manages_own_realm=False)
USER = Caller("acme", "u1", "alice", frozenset(), manages_own_realm=False)


class Unreachable:
    """A Keycloak admin adapter that reads realms and the known callers (unless ``down``) and
    fails every other call."""

    def __init__(self, realms: dict[str, dict[str, str]], *, down: bool) -> None:
        self.realms, self.down = realms, down
        self.callers = {c.subject: c for c in (MASTER_ADMIN, USER)}
        self.console_client: console_client.ConsoleClient | None = None  # none provisioned

    def _caller(self, user_id: str) -> Caller:
        if self.down:
            raise KeycloakUnreachableError("Keycloak is unreachable")
        if user_id not in self.callers:
            raise NotFoundError("user in realm 'acme' does not exist")
        return self.callers[user_id]

    def get_user(self, realm: str, user_id: str) -> Json:
        del realm
        return {"id": user_id, "username": self._caller(user_id).username, "enabled": True}

    def get_effective_realm_roles(self, realm: str, user_id: str) -> list[str]:
        del realm
        return sorted(self._caller(user_id).realm_roles)

    def get_effective_client_roles(self, realm: str, user_id: str, client_id: str) -> list[str]:
        del realm, client_id
        return ["manage-realm"] if self._caller(user_id).manages_own_realm else []

    def find_realm(self, realm: str) -> Json | None:
        if self.down:
            raise KeycloakUnreachableError("Keycloak is unreachable")
        found = self.realms.get(realm)
        return None if found is None else {"realm": realm, "attributes": dict(found)}

    def get_realm(self, realm: str) -> Json:
        found = self.find_realm(realm)
        assert found is not None
        return found

    def find_client(self, realm: str, client_id: str) -> Json | None:
        if self.down:
            raise KeycloakUnreachableError("Keycloak is unreachable")
        found = self.console_client
        if found is None or (realm, client_id) != (found.realm, console_client.CLIENT_ID):
            return None
        return {"id": "console-client-id", "clientId": client_id}

    def get_client_secret(self, realm: str, client_id: str) -> str:
        assert self.console_client is not None
        assert (realm, client_id) == (self.console_client.realm, "console-client-id")
        return self.console_client.secret

    def __getattr__(self, name: str) -> Any:
        def fail(*args: object, **kwargs: object) -> None:
            raise KeycloakUnreachableError(f"Keycloak is unreachable ({name})")

        return fail


@dataclasses.dataclass
class SignInEndpoints:
    """Keycloak's OIDC endpoints as the console's sign-in meets them (all else: ``fakes``):
    a code redeems for tokens of ``subject`` in ``realm``, with ``claims`` in both."""

    fakes: Fakes
    realm: str = "acme"
    subject: str = "u1"
    claims: dict[str, Any] = dataclasses.field(default_factory=dict)
    issued_id_token: str = ""

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        form = parse_qs(request.content.decode())
        if path.endswith("/openid-connect/token") and form.get("grant_type") == [
            "authorization_code"
        ]:
            issuer = f"{KC}/realms/{self.realm}"
            self.issued_id_token = id_token(
                iss=issuer, sub=self.subject, nonce="nonce", **self.claims
            )
            access = access_token(iss=issuer, sub=self.subject, **self.claims)
            return httpx2.Response(
                200, json={"access_token": access, "id_token": self.issued_id_token}
            )
        if path == f"/realms/{self.realm}/protocol/openid-connect/certs":
            return httpx2.Response(200, json={"keys": [JWK]})
        return self.fakes.keycloak(request)


@dataclasses.dataclass
class Console:
    """The bridge app on mock transports, its services, and a hand to seal cookies."""

    client: TestClient
    services: Services
    fakes: Fakes
    keycloak: Unreachable
    sign_in: SignInEndpoints

    def seal(self, value: Session | SignIn | PendingActivation) -> str:
        return value.seal(self.services.cookie_ring)

    def session(self, kind: str, caller: Caller) -> Session:
        return Session.of(kind, caller.realm, caller.subject, expires=int(time.time()) + 600)

    def request(
        self, method: str, path: str, cookies: dict[str, str], **kwargs: Any
    ) -> httpx2.Response:
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        response = self.client.request(method, path, headers={"Cookie": cookie}, **kwargs)
        assert response.headers["x-frame-options"] == "DENY"
        return response

    def as_user(self, method: str, path: str, session: Session, **kwargs: Any) -> httpx2.Response:
        """A request with ``session``'s cookie (and, for a POST, its CSRF token)."""
        if method == "POST":
            kwargs["data"] = {"csrf": session.csrf, **kwargs.get("data", {})}
        cookies = {f"kdb_{session.kind}_session": self.seal(session)}
        return self.request(method, path, {**cookies, **kwargs.pop("cookies", {})}, **kwargs)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    """The bridge with partner ``acme`` (Duo on, opt-in, self-deactivation) on mock transports."""
    settings = bridge_settings(tmp_path)
    fakes = realm_fakes(settings)
    fakes.attributes |= {
        attr.TENANT_KIND: "partner",
        attr.DUO_USER_MODE: "opt-in",
        attr.DUO_SELF_DEACTIVATE: "true",
    }
    keycloak = Unreachable({"acme": fakes.attributes}, down=False)
    endpoints = SignInEndpoints(fakes)
    services = build_services(
        settings,
        keycloak_transport=httpx2.MockTransport(endpoints),
        duo_transport=httpx2.MockTransport(fakes.answer_duo),
        connect=lambda: cast("Keycloak", keycloak),
    )
    with TestClient(create_app(settings, services), base_url=BRIDGE) as client:
        yield Console(client, services, fakes, keycloak, endpoints)


def use_keycloak(console: Console, *, down: bool) -> None:
    """The admin service's Keycloak: ``acme`` readable unless ``down``, nothing else works."""
    console.keycloak.down = down


def sign_in_cookie(console: Console, kind: str) -> dict[str, str]:
    sign_in = SignIn(kind, "acme", "st", "verifier", "nonce", int(time.time()) + 60)
    return {f"kdb_{kind}_sign_in": console.seal(sign_in)}


# -- Keycloak away ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "method", "path"),
    [
        (ADMIN, "GET", "/admin/"),
        (ADMIN, "GET", "/admin/tenants/acme"),
        (ADMIN, "POST", "/admin/tenants/acme/duo/policy"),
        (ACCOUNT, "GET", "/account/duo/"),
        (ACCOUNT, "POST", "/account/duo/activate"),
        (ACCOUNT, "POST", "/account/duo/deactivate"),
    ],
)
def test_keycloak_down_is_a_502_page(console: Console, kind: str, method: str, path: str) -> None:
    """With Keycloak unreachable, every signed-in page answers 502 'Keycloak is unavailable'."""
    use_keycloak(console, down=True)
    caller = MASTER_ADMIN if kind == ADMIN else USER
    response = console.as_user(method, path, console.session(kind, caller))
    assert response.status_code == 502
    assert "Keycloak is unavailable" in response.text


@pytest.mark.parametrize(
    ("kind", "method", "path", "data"),
    [
        (ADMIN, "GET", "/admin/tenants/acme", {}),
        (ADMIN, "POST", "/admin/tenants/acme/duo/policy", {"remember": "5"}),
        (ACCOUNT, "POST", "/account/duo/deactivate", {}),
    ],
)
def test_keycloak_lost_after_the_first_read_is_a_502_page(
    console: Console,
    kind: str,
    method: str,
    path: str,
    data: dict[str, str],
) -> None:
    """Keycloak answers the realm read, then fails: the page is 502, not a crash."""
    use_keycloak(console, down=False)
    caller = MASTER_ADMIN if kind == ADMIN else USER
    response = console.as_user(method, path, console.session(kind, caller), data=data)
    assert (response.status_code, "Keycloak is unavailable" in response.text) == (502, True)


def test_keycloak_lost_before_recording_an_activation(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Duo allowed, then Keycloak fails to record it: 502, 'nothing changed'."""
    activation = PendingActivation("acme", "u1", "alice", "st", "dn", int(time.time()) + 60)
    back = {"kdb_account_activation": console.seal(activation)}
    use_keycloak(console, down=True)
    path = "/account/duo/duo-callback?state=st&duo_code=c"
    away = console.as_user("GET", path, console.session(ACCOUNT, USER), cookies=back)
    assert (away.status_code, "Try again shortly" in away.text) == (502, True)
    use_keycloak(console, down=False)

    async def allowed(*args: object, **kwargs: object) -> Json:
        return {"auth_result": {"status": "allow"}}

    monkeypatch.setattr(console.services.duo, "exchange", allowed)
    response = console.as_user("GET", path, console.session(ACCOUNT, USER), cookies=back)
    assert (response.status_code, "Nothing changed" in response.text) == (502, True)


def test_forms_on_a_realm_not_yours_are_refused(console: Console) -> None:
    """A signed-in person who does not manage the realm gets 403 from its forms."""
    use_keycloak(console, down=False)
    session = console.session(ADMIN, USER)
    refused = console.as_user(
        "POST", "/admin/tenants/acme/duo/enabled", session, data={"enabled": "off"}
    )
    assert (refused.status_code, "Not yours" in refused.text) == (403, True)


def test_keycloak_down_at_sign_in(console: Console) -> None:
    """Keycloak away: sign-in is a 502 page; a callback is 'not signed in' and nothing cached."""
    use_keycloak(console, down=True)
    started = console.request("GET", "/admin/login?realm=acme", {})
    assert (started.status_code, "Keycloak is unavailable" in started.text) == (502, True)
    callback = console.request(
        "GET", "/admin/callback?code=c&state=st", sign_in_cookie(console, ADMIN)
    )
    assert (callback.status_code, "Not signed in" in callback.text) == (400, True)
    assert "set-cookie" not in callback.headers


def test_callback_tokens_from_another_realm_are_refused(console: Console) -> None:
    """Tokens that verify but name another realm than the sign-in's do not sign anyone in."""
    secret = console_client.ConsoleClient("acme", "s3cret")
    console.keycloak.console_client = secret
    console.sign_in.realm = "elsewhere"
    response = console.request(
        "GET", "/admin/callback?code=c&state=st", sign_in_cookie(console, ADMIN)
    )
    assert (response.status_code, "Wrong realm" in response.text) == (400, True)
    assert "s3cret" not in repr(secret)


def fake_sign_in(
    console: Console,
    found: console_client.ConsoleClient | None,
    subject: str,
    **claims: object,
) -> httpx2.Response:
    """The admin callback, Keycloak holding the realm's console client ``found`` and its
    token endpoint redeeming the code for tokens of ``subject`` of acme (with ``claims``)."""
    console.keycloak.console_client = found
    console.sign_in.subject = subject
    console.sign_in.claims = dict(claims)
    return console.request(
        "GET",
        "/admin/callback?code=c&state=st",
        sign_in_cookie(console, ADMIN),
        follow_redirects=False,
    )


def test_callback_signs_in_the_user_keycloak_knows(console: Console) -> None:
    """A verified subject Keycloak knows gets a session holding only realm, subject, form token."""
    response = fake_sign_in(console, console_client.ConsoleClient("acme", "s"), "u1")
    assert response.headers["location"] == "/admin/"
    sealed = response.cookies["kdb_admin_session"]
    opened = Session.open(sealed.strip('"'), console.services.cookie_ring, now=time.time())
    assert opened is not None
    assert (opened.realm, opened.subject) == ("acme", "u1")


def test_callback_keeps_the_id_token_and_when_duo_passed(console: Console) -> None:
    """The session keeps the ID token (for sign-out) and the sign-in's Duo time, if any."""
    duo = {"result": "allow", "time": "1700000000"}
    response = fake_sign_in(console, console_client.ConsoleClient("acme", "s"), "u1", duo=duo)
    sealed = response.cookies["kdb_admin_session"]
    opened = Session.open(sealed.strip('"'), console.services.cookie_ring, now=time.time())
    assert opened is not None
    assert (opened.id_token, opened.duo_passed) == (console.sign_in.issued_id_token, 1_700_000_000)


def test_sign_out_ends_keycloaks_session_without_asking_and_lands_on_a_page(
    console: Console,
) -> None:
    """Sign-out sends the ID token and comes back to a signed-out page that offers the realm."""
    use_keycloak(console, down=False)
    signed_in = dataclasses.replace(console.session(ADMIN, USER), id_token="the.id.token")
    response = console.as_user("POST", "/admin/logout", signed_in, follow_redirects=False)
    target = urlsplit(response.headers["location"])
    assert parse_qs(target.query) == {
        "client_id": ["kdb-console"],
        "post_logout_redirect_uri": [f"{BRIDGE}/admin/signed-out"],
        "id_token_hint": ["the.id.token"],
        "state": ["acme"],
    }
    for part, realm, link in (
        ("/admin", "acme", "/admin/login?realm=acme"),
        ("/account/duo", "acme", "/account/duo/login?realm=acme"),
        ("/account/duo", "../x", "/account/duo/"),
        ("/admin", "", "/admin/"),
    ):
        page = console.request("GET", f"{part}/signed-out?state={realm}", {})
        assert page.status_code == 200
        assert "You are signed out" in page.text
        assert f'href="{link}"' in page.text
        assert "max-age=0" in page.headers["set-cookie"].lower()


def test_account_page_in_a_required_realm_says_duo_is_on() -> None:
    """Required realm: Duo is on, with when it last passed if known; nothing to activate."""
    view = account.AccountView(
        realm="acme",
        username="alice",
        offered=True,
        activated=False,
        required_for_all=True,
        may_deactivate=True,
        duo_origin="https://api.example",
        last_passed=datetime(2026, 12, 1, 19, 5, tzinfo=UTC),
    )
    context = {"title": "Duo", "session": USER, "part": "account", "view": view, "notice": None}
    page = bytes(pages.render("account.html", context).body).decode()
    assert 'id="duo-status">On<' in page
    assert "2026-12-01 19:05 UTC" in page
    assert "Activate Duo" not in page
    assert "Deactivate" not in page
    unknown = dataclasses.replace(view, last_passed=None)
    page = bytes(pages.render("account.html", {**context, "view": unknown}).body).decode()
    assert 'id="duo-status">On<' in page
    assert "last passed" not in page


def test_callback_for_a_user_keycloak_no_longer_has_is_refused(console: Console) -> None:
    """Tokens that verify for a user Keycloak does not have (deleted meanwhile): not signed in."""
    response = fake_sign_in(console, console_client.ConsoleClient("acme", "s"), "gone")
    assert (response.status_code, "no longer exists" in response.text) == (400, True)
    assert "kdb_admin_session" not in response.cookies


def test_callback_where_the_console_client_is_gone_creates_nothing(console: Console) -> None:
    """The realm's console client removed between sign-in and callback: a clear 404 page."""
    response = fake_sign_in(console, None, "u1")
    assert (response.status_code, "No sign-in here" in response.text) == (404, True)


def test_a_session_whose_user_keycloak_no_longer_has_is_signed_out(console: Console) -> None:
    """A sealed session for a user deleted (or disabled) in Keycloak counts as no session."""
    use_keycloak(console, down=False)
    gone = Session.of(ADMIN, "acme", "deleted-user", expires=int(time.time()) + 600)
    page = console.as_user("GET", "/admin/", gone)
    assert (page.status_code, "Sign in with Keycloak" in page.text) == (200, True)
    form = console.as_user("POST", "/admin/tenants/acme/duo/enabled", gone, data={"enabled": "off"})
    assert form.status_code == 401


def test_fold_without_a_bridge_url_adds_no_client() -> None:
    """A realm made without a known bridge URL gets no console client in its create call."""
    realm: Json = {"realm": "acme", "clients": [{"clientId": "app"}]}
    console_client.fold(realm, None)
    assert realm["clients"] == [{"clientId": "app"}]
    console_client.fold(realm, BRIDGE)
    assert [c["clientId"] for c in realm["clients"]] == ["app", console_client.CLIENT_ID]


def test_unknown_pages_and_methods_are_pages_with_the_headers(console: Console) -> None:
    """Starlette's 404 and 405 under /admin and /account/duo carry the console's headers."""
    for path in ("/admin/no-such-page", "/account/duo/no/such/page"):
        missing = console.request("GET", path, {})
        assert (missing.status_code, "Not found" in missing.text) == (404, True)
        assert "frame-ancestors 'none'" in missing.headers["content-security-policy"]
    wrong = console.request("GET", "/admin/logout", {})
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")
    assert wrong.headers["x-content-type-options"] == "nosniff"


# -- oidc: the code exchange and the tokens -----------------------------------------------


def exchange(http: httpx2.AsyncClient, url: str = KC) -> Json:
    return run(
        oidc.exchange(
            http, url, "acme", secret="s", code="c", redirect_uri="http://b/cb", verifier="v"
        )
    )


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx2.Response(200, text="<html>not json</html>"), r"refused the sign-in \(200\)"),
        (httpx2.Response(200, json=["a", "list"]), r"refused the sign-in \(200\)"),
        (httpx2.Response(502, text="Bad Gateway"), r"refused the sign-in \(502\)"),
        (httpx2.Response(400, json={"error": "invalid_grant"}), r"\(invalid_grant\)"),
        (httpx2.Response(401, json={"nope": 1}), r"refused the sign-in \(401\)"),
    ],
)
def test_exchange_refuses_what_is_not_a_token_response(
    answer: httpx2.Response, message: str
) -> None:
    """A non-JSON, non-object or error answer from the token endpoint is a SignInError."""
    sent: list[httpx2.Request] = []

    def endpoint(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return answer

    http = httpx2.AsyncClient(transport=httpx2.MockTransport(endpoint))
    with pytest.raises(oidc.SignInError, match=message):
        exchange(http)
    form = dict(httpx2.QueryParams(sent[0].content.decode()))
    assert form["code_verifier"] == "v"
    assert sent[0].url == f"{KC}/realms/acme/protocol/openid-connect/token"


def test_exchange_with_keycloak_unreachable() -> None:
    """Nothing listening at Keycloak's address: 'Keycloak is unreachable'."""
    with pytest.raises(oidc.SignInError, match="Keycloak is unreachable"):
        exchange(httpx2.AsyncClient(), f"http://127.0.0.1:{free_port()}")


def test_exchange_returns_the_token_response() -> None:
    """A 200 JSON object is the token response, as sent."""
    http = httpx2.AsyncClient(
        transport=httpx2.MockTransport(lambda _: httpx2.Response(200, json={"id_token": "x"}))
    )
    assert exchange(http) == {"id_token": "x"}


def access_token(**changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "u1",
        "typ": "Bearer",
        "iat": now,
        "exp": now + 3600,
        "azp": console_client.CLIENT_ID,
        "preferred_username": "alice",
        "realm_access": {"roles": ["admin"]},
        "resource_access": {"realm-management": {"roles": ["manage-realm"]}},
        **changes,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": JWK["kid"]})


def id_token(kid: str = JWK["kid"], **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "u1",
        "aud": console_client.CLIENT_ID,
        "typ": "ID",
        "iat": now,
        "exp": now + 3600,
        "nonce": "n1",
        **changes,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": kid})


def repeated(token: str, part: int, member: str) -> str:
    """``token`` with a second copy of ``member`` in its header (0) or payload (1), re-signed;
    the copy comes last, so a reader where the last copy wins sees ``"forged"``."""
    parts = token.split(".")
    text = base64.urlsafe_b64decode(parts[part] + "==").decode()
    parts[part] = jws_b64(text[:-1] + f',"{member}":"forged"}}')
    signing_input = f"{parts[0]}.{parts[1]}".encode()
    signature = KEY.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{parts[0]}.{parts[1]}.{jws_b64(signature)}"


def jws_b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def acme_keys(realm: str, kid: str | None) -> Json:
    assert realm == "acme"
    return {"keys": [JWK]}


def signed_in(tokens: Json) -> auth.Verified:
    return run(oidc.signed_in(tokens, acme_keys, nonce="n1"))


def test_signed_in_gives_the_verified_subject_only() -> None:
    """Matching access and ID tokens give the realm and subject; no name or role is taken."""
    verified = signed_in({"access_token": access_token(), "id_token": id_token()})
    assert (verified.realm, verified.subject) == ("acme", "u1")
    assert "realm_access" not in repr(verified)
    addressed = id_token(aud=["app", console_client.CLIENT_ID], azp=console_client.CLIENT_ID)
    assert signed_in({"access_token": access_token(), "id_token": addressed}).subject == "u1"


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        ({"id_token": id_token()}, "lacks the tokens"),
        ({"access_token": access_token()}, "lacks the tokens"),
        ({"access_token": access_token(), "id_token": 7}, "lacks the tokens"),
        ({"access_token": "not-a-jwt", "id_token": id_token()}, "tokens do not verify"),
        ({"access_token": access_token(), "id_token": "x.y.z"}, "tokens do not verify"),
        ({"access_token": id_token(), "id_token": id_token()}, "tokens do not verify"),
        ({"access_token": access_token(), "id_token": id_token("other")}, "key is unknown"),
        (
            {"access_token": access_token(), "id_token": id_token(aud="app")},
            "not addressed to the console",
        ),
        (
            {"access_token": access_token(), "id_token": id_token(aud={"kdb-console": 1})},
            "not addressed to the console",
        ),
        (
            {"access_token": access_token(), "id_token": id_token(azp="app")},
            "not addressed to the console",
        ),
        (
            {"access_token": access_token(), "id_token": id_token(typ="Bearer")},
            "not addressed to the console",
        ),
        (
            {"access_token": access_token(azp="app"), "id_token": id_token()},
            "issued to another application",
        ),
        (
            {"access_token": access_token(azp=None), "id_token": id_token()},
            "issued to another application",
        ),
        (
            {"access_token": repeated(access_token(), 1, "azp"), "id_token": id_token()},
            "repeats a member",
        ),
        (
            {"access_token": access_token(), "id_token": repeated(id_token(), 0, "kid")},
            "repeats a member",
        ),
        (
            {"access_token": access_token(), "id_token": repeated(id_token(), 1, "nonce")},
            "repeats a member",
        ),
        ({"access_token": access_token(), "id_token": id_token(nonce=None)}, "another sign-in"),
        ({"access_token": access_token(), "id_token": id_token(nonce="n2")}, "another sign-in"),
        ({"access_token": access_token(), "id_token": id_token(sub="u2")}, "another sign-in"),
        (
            {"access_token": access_token(), "id_token": id_token(iss="https://x/realms/acme")},
            "another sign-in",
        ),
        (
            {"access_token": access_token(), "id_token": id_token(exp=int(time.time()) - 60)},
            "expired",
        ),
    ],
)
def test_signed_in_refuses_tokens_that_do_not_belong_together(tokens: Json, message: str) -> None:
    """Missing tokens, a bad access token, an unknown kid, another audience, client or nonce,
    a repeated member: refused."""
    with pytest.raises(oidc.SignInError, match=message):
        signed_in(tokens)


def test_authorization_request_and_logout_urls() -> None:
    """The authorize URL asks for a code with an S256 challenge; the logout names the client."""
    verifier, challenge = oidc.pkce_pair()
    assert len(verifier) >= 43
    assert "=" not in challenge
    url = oidc.authorize_url(
        KC + "/", "acme", redirect_uri="http://b/cb", state="s", nonce="n", challenge=challenge
    )
    assert url.startswith(f"{KC}/realms/acme/protocol/openid-connect/auth?client_id=kdb-console")
    assert f"code_challenge={challenge}&code_challenge_method=S256" in url
    assert oidc.logout_url(KC, "acme", redirect_uri="http://b/").endswith(
        "/logout?client_id=kdb-console&post_logout_redirect_uri=http%3A%2F%2Fb%2F"
    )
    assert oidc.logout_url(
        KC, "acme", redirect_uri="http://b/", id_token="t", state="acme"
    ).endswith("post_logout_redirect_uri=http%3A%2F%2Fb%2F&id_token_hint=t&state=acme")


@pytest.mark.parametrize(
    ("claims", "passed"),
    [
        ({"duo": {"result": "allow", "time": "1700000000"}}, 1_700_000_000),
        ({"duo": {"result": "deny", "time": "1700000000"}}, None),
        ({"duo": {"result": "allow", "time": "soon"}}, None),
        ({"duo": {"result": "allow", "time": "\u00b2"}}, None),
        ({"duo": {"result": "allow", "time": 1700000000}}, None),
        ({"duo": "allow"}, None),
        ({}, None),
    ],
)
def test_duo_passed_is_the_time_of_an_allowed_step_up(claims: Json, passed: int | None) -> None:
    """Only an ``allow`` with an epoch-seconds ``time`` counts as a passed Duo step-up."""
    assert oidc.duo_passed(claims) == passed


# -- sealed values ------------------------------------------------------------------------

KEY_RING = KeyRing.of_keys(bytes(range(32)))
NOW = 1_000_000.0


def session(**changes: Any) -> Session:
    made = Session.of(ADMIN, USER.realm, USER.subject, expires=int(NOW) + 60)
    return dataclasses.replace(made, **changes)


def test_a_session_keeps_its_id_token_unless_it_would_not_fit_in_a_cookie() -> None:
    """The ID token is sealed into the session; one too big for a cookie is left out."""
    small = session(id_token="header.payload.signature", duo_passed=int(NOW))
    opened = Session.open(small.seal_within_limit(KEY_RING), KEY_RING, now=NOW)
    assert opened == small
    assert "header.payload" not in repr(small)
    big = session(id_token="x" * 4000)
    opened = Session.open(big.seal_within_limit(KEY_RING), KEY_RING, now=NOW)
    assert opened == dataclasses.replace(big, id_token="")


def test_sealed_values_round_trip() -> None:
    """A value opens as what was sealed, until its expiry (inclusive)."""
    value = session()
    assert Session.open(value.seal(KEY_RING), KEY_RING, now=NOW + 60) == value
    assert value.csrf_ok(value.csrf)
    assert not value.csrf_ok(value.csrf[:-1])
    assert not value.csrf_ok(None)
    sign_in = SignIn(ADMIN, "acme", "st", "v", "n", int(NOW))
    assert SignIn.open(sign_in.seal(KEY_RING), KEY_RING, now=NOW) == sign_in
    assert sign_in.matches("st")
    assert not sign_in.matches("sT")
    assert not sign_in.matches("é")


def _raw(data: Any, cls: type) -> str:
    """``data`` sealed with the console's key and ``cls``'s purpose, whatever its shape."""
    return KEY_RING.seal_json(data, f"kdb-console-{cls.__name__}-v1".encode())


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (None, "missing"),
        ("", "empty"),
        ("A" * 5000, "too long"),
        ("not base64 !!", "not a sealed value"),
        (session().seal(KEY_RING)[:-3] + "AAA", "altered"),
        (session().seal(KeyRing.of_keys(bytes(32))), "another key"),
        (session(expires=int(NOW) - 1).seal(KEY_RING), "expired"),
        (SignIn(ADMIN, "acme", "s", "v", "n", int(NOW) + 60).seal(KEY_RING), "a SignIn"),
        (
            PendingActivation("acme", "u1", "alice", "s", "n", int(NOW) + 60).seal(KEY_RING),
            "an PendingActivation",
        ),
        (_raw({**dataclasses.asdict(session()), "admin": True}, Session), "an extra field"),
        (
            _raw({k: v for k, v in dataclasses.asdict(session()).items() if k != "csrf"}, Session),
            "a missing field",
        ),
        (_raw({**dataclasses.asdict(session()), "expires": "later"}, Session), "a text expiry"),
        (_raw([1, 2], Session), "a list"),
        (_raw(7, Session), "a number"),
    ],
)
def test_sealed_session_refuses(value: str | None, why: str) -> None:
    """Missing, altered, foreign, expired or wrongly shaped values do not open as a Session."""
    assert Session.open(value, KEY_RING, now=NOW) is None, why


# -- admin navigation and the console client ----------------------------------------------


def tenant(name: str, kind: TenantKind, partner: str | None = None) -> Tenant:
    return Tenant(name=name, kind=kind, partner=partner, display_name=None, attributes={})


def test_tree_puts_clients_under_their_partner_or_alone() -> None:
    """A client whose partner the admin cannot see stands alone in the navigation."""
    p, q = tenant("p", TenantKind.PARTNER), tenant("q", TenantKind.PARTNER)
    c1, c2 = tenant("c1", TenantKind.CLIENT, "p"), tenant("c2", TenantKind.CLIENT, "x")
    assert admin.tree([p, q, c1, c2]) == [
        admin.Branch(p, (c1,)),
        admin.Branch(q, ()),
        admin.Branch(c2, ()),
    ]


ORG = Organization("p", "o1", "id-1", {}, "Org one")


def test_tree_puts_client_organizations_under_their_partner() -> None:
    """A partner's client organizations sit under it, next to its client realms."""
    p, c1 = tenant("p", TenantKind.PARTNER), tenant("c1", TenantKind.CLIENT, "p")
    assert admin.tree([p, c1, ORG]) == [admin.Branch(p, (c1, ORG))]


def test_pages_of_realms_and_organizations() -> None:
    """A realm's page is under its name, an organization's under its partner's page."""
    assert admin.url_of(tenant("c1", TenantKind.CLIENT, "p")) == "/admin/tenants/c1"
    assert admin.url_of(ORG) == "/admin/tenants/p/organizations/o1"
    assert admin.kind_of(ORG) == "client organization"
    assert admin.kind_of(tenant("p", TenantKind.PARTNER)) == "partner"


@pytest.mark.parametrize(
    ("stored", "shown"),
    [('{"kdb-app": "off"}', {"kdb-app": AppMode.OFF}), ('{"kdb-app": "maybe"}', {})],
)
def test_an_organizations_stored_app_modes_or_none_when_unreadable(
    stored: str, shown: dict[str, AppMode]
) -> None:
    """An organization's application switches as stored; unreadable ones show as inherit."""
    assert admin.stored_app_modes(stored) == shown


def test_shown_bypass_groups_one_a_line_or_blank() -> None:
    """Stored bypass groups show one a line; none stored, or unreadable, show blank."""
    assert admin.shown_groups(None) == ""
    assert admin.shown_groups('["/a", "/b"]') == "/a\n/b"
    assert admin.shown_groups("/a") == ""


class Vanishing:
    """A realm whose console client is gone again as soon as it is created."""

    def __init__(self) -> None:
        self.created: list[Json] = []

    def find_client(self, realm: str, client_id: str) -> Json | None:
        del realm, client_id
        return None

    def create_client(self, realm: str, representation: Json) -> None:
        del realm
        self.created.append(representation)


def test_provision_reports_a_client_that_vanished() -> None:
    """A console client deleted between create and read is a KeycloakError, not a crash."""
    keycloak = Vanishing()
    with pytest.raises(KeycloakError, match="vanished"):
        console_client.provision(keycloak, "acme", BRIDGE + "/")  # type: ignore[arg-type]
    assert keycloak.created[0]["redirectUris"] == [
        f"{BRIDGE}/admin/callback",
        f"{BRIDGE}/account/duo/callback",
    ]


def test_browsers_sign_in_at_the_public_keycloak_url(tmp_path: Path) -> None:
    """KDB_KEYCLOAK_PUBLIC_URL, when set, is where browsers go; else KDB_KEYCLOAK_URL."""
    settings = bridge_settings(tmp_path)
    public = settings.model_copy(update={"keycloak_public_url": "https://login.example/"})
    pages_for = {
        s.keycloak_public_url: ConsolePages(
            cast("ConsoleServices", SimpleNamespace(settings=s)), cast(Api, None)
        )
        for s in (settings, public)
    }
    assert pages_for[None].keycloak_public_url == settings.keycloak_url.rstrip("/")
    assert pages_for["https://login.example/"].keycloak_public_url == "https://login.example"
    assert pages_for["https://login.example/"].keycloak_origin == "https://login.example"


def test_item12_ssrf_test_connection_sends_nothing_to_a_host_that_is_not_duos(
    tmp_path: Path,
) -> None:
    """Test connection with the allowance off names the rule and no request leaves."""
    settings = bridge_settings(tmp_path).model_copy(update={"duo_allow_any_host": False})
    services = SimpleNamespace(settings=settings, keyring=None)
    tenant = Tenant(name="acme", kind=TenantKind.CLIENT)
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)  # noqa: FBT003 - socket API
        form = FormData(
            {"ikey": "D" * 20, "skey": "s" * 40, "api_host": f"127.0.0.1:{server.getsockname()[1]}"}
        )
        with pytest.raises(ConfigError, match="not a Duo API hostname"):
            run(
                admin.test_connection(
                    cast("Any", SimpleNamespace(services=services)),
                    cast("Any", None),
                    tenant,
                    form,
                    cast("Any", None),
                )
            )
        check = duo_settings.duo_health_check(allow_any_host=False)
        verdict = check("D" * 20, "s" * 40, f"127.0.0.1:{server.getsockname()[1]}")
        assert verdict.status == "invalid_client"
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected


@pytest.mark.parametrize(
    ("path", "brand", "sheet"),
    [
        ("/account/duo/no/such/page", "Duo two-factor", "/account/duo/static/console.css"),
        ("/account/duo/login?realm=!", "Duo two-factor", "/account/duo/static/console.css"),
        ("/admin/no-such-page", "Duo console", "/admin/static/console.css"),
        ("/admin/login?realm=!", "Duo console", "/admin/static/console.css"),
    ],
)
def test_message_pages_carry_their_parts_name(
    console: Console, path: str, brand: str, sheet: str
) -> None:
    """End users' message pages say "Duo two-factor", never "Duo console"; admins' the console."""
    page = console.request("GET", path, {}).text
    assert f'<p class="brand">{brand}</p>' in page
    assert f'href="{sheet}"' in page
    if "account" in path:
        assert "console" not in page.replace("console.css", "")


def test_account_pages_without_keycloak_name_self_service(console: Console) -> None:
    """Keycloak away under /account/duo: the 502 page is the self-service's, not the console's."""
    use_keycloak(console, down=True)
    page = console.as_user("GET", "/account/duo/", console.session(ACCOUNT, USER)).text
    assert '<p class="brand">Duo two-factor</p>' in page
