"""The console's plumbing: who is signed in, sign-in and sign-out, and guarded forms.

Both parts (``/admin`` and ``/account/duo``) share it; each has its own session cookie,
scoped to its path, sealed, ``Secure``, ``HttpOnly`` and ``SameSite=Lax``. Every form
carries the session's CSRF token, and a POST whose ``Origin`` is not the bridge's is refused.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Final, Protocol, cast
from urllib.parse import urlencode

import httpx2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from keycloak_duo_bridge.admin import console_client
from keycloak_duo_bridge.admin.tenants import tenant_of
from keycloak_duo_bridge.api.app import Api
from keycloak_duo_bridge.api.auth import AuthenticationError
from keycloak_duo_bridge.bridge.health import HealthGate
from keycloak_duo_bridge.bridge.realms import JwksCache
from keycloak_duo_bridge.console import oidc, pages
from keycloak_duo_bridge.console.state import ACCOUNT, ADMIN, Session, SignedIn, SignIn
from keycloak_duo_bridge.duo import DuoClient
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import KeycloakError
from keycloak_duo_bridge.logs import event
from keycloak_duo_bridge.realm_names import is_realm_name
from keycloak_duo_bridge.settings import Settings

logger = logging.getLogger("keycloak_duo_bridge.console")
SIGN_IN_LIFETIME: Final = 600
MAX_FORM: Final = 16384
STATIC: Final = Path(__file__).parent / "static"
BASE: Final = {ADMIN: "/admin", ACCOUNT: "/account/duo"}
CALLBACK: Final = {
    ADMIN: console_client.ADMIN_CALLBACK,
    ACCOUNT: console_client.ACCOUNT_CALLBACK,
}
SIGNED_OUT: Final = {
    ADMIN: console_client.ADMIN_SIGNED_OUT,
    ACCOUNT: console_client.ACCOUNT_SIGNED_OUT,
}
# What each part is called on its pages: administrators use the console, end users their
# own Duo two-factor page (never "console" to them).
PLACE: Final = {ADMIN: "the Duo console", ACCOUNT: "the Duo two-factor self-service"}


class ConsoleServices(Protocol):
    """What the console needs, as the composition root provides it."""

    settings: Settings
    cookie_ring: KeyRing
    keyring: KeyRing
    duo: DuoClient
    gate: HealthGate
    jwks: JwksCache
    keycloak_http: httpx2.AsyncClient


@dataclass
class Console:
    services: ConsoleServices
    api: Api
    _clients: dict[str, console_client.ConsoleClient] = field(default_factory=dict)

    @property
    def bridge_url(self) -> str:
        return self.services.settings.bridge_url.rstrip("/")

    @property
    def keycloak_public_url(self) -> str:
        settings = self.services.settings
        return (settings.keycloak_public_url or settings.keycloak_url).rstrip("/")

    @property
    def keycloak_origin(self) -> str:
        return pages.origin(self.keycloak_public_url)

    @property
    def key(self) -> KeyRing:
        return self.services.cookie_ring

    async def session(self, request: Request, kind: str) -> SignedIn | None:
        """The signed-in person, as Keycloak knows them now (by the session's ``sub``); None
        without a valid session, or when Keycloak no longer has them enabled.

        KeycloakError when Keycloak cannot say (a 502 page).
        """
        found = Session.open(request.cookies.get(_session_cookie(kind)), self.key, now=time.time())
        if found is None or found.kind != kind:
            return None
        try:
            caller = await self.api.identities.caller(found.realm, found.subject)
        except AuthenticationError:
            return None
        return SignedIn(found, caller)

    async def client(self, realm: str) -> console_client.ConsoleClient | None:
        """The realm's console client with its secret; None where it was never provisioned.

        Only reads: the client is made when a realm is created or wired, never here.
        """
        known = self._clients.get(realm)
        if known is None:
            known = await run_in_threadpool(console_client.find, self.api.keycloak, realm)
            if known is not None:
                self._clients[realm] = known
        return known

    def forget_client(self, realm: str) -> None:
        self._clients.pop(realm, None)

    def set_cookie(self, response: Response, name: str, value: str, path: str, age: int) -> None:
        response.set_cookie(
            name, value, max_age=age, path=path, secure=True, httponly=True, samesite="lax"
        )


def _session_cookie(kind: str) -> str:
    return f"kdb_{kind}_session"


def _sign_in_cookie(kind: str) -> str:
    return f"kdb_{kind}_sign_in"


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


# -- sign-in -------------------------------------------------------------------------------


def sign_in_page(kind: str) -> Callable[[Request], Awaitable[Response]]:
    """GET ``…/login?realm=R``: send the browser to realm R's Keycloak, with PKCE."""

    async def login(request: Request) -> Response:
        console = console_of(request)
        realm = request.query_params.get("realm", "")
        if not is_realm_name(realm):
            return pages.message(
                "Which realm?", "Give the name of your realm.", part=kind, status=400
            )
        try:
            found = await run_in_threadpool(console.api.keycloak.find_realm, realm)
            admin_realm = kind == ADMIN and realm == console.services.settings.keycloak_admin_realm
            if found is None or (tenant_of(found) is None and not admin_realm):
                return _no_sign_in(realm, kind)
            if await console.client(realm) is None:
                event(logger, "console sign-in without a console client", realm=realm)
                return _no_sign_in(realm, kind)
        except KeycloakError as exc:
            event(logger, "console sign-in unavailable", realm=realm, reason=str(exc))
            return _keycloak_unavailable(kind)
        verifier, challenge = oidc.pkce_pair()
        sign_in = SignIn(
            kind=kind,
            realm=realm,
            state=secrets.token_urlsafe(24),
            verifier=verifier,
            nonce=secrets.token_urlsafe(24),
            expires=int(time.time()) + SIGN_IN_LIFETIME,
        )
        url = oidc.authorize_url(
            console.keycloak_public_url,
            realm,
            redirect_uri=console.bridge_url + CALLBACK[kind],
            state=sign_in.state,
            nonce=sign_in.nonce,
            challenge=challenge,
        )
        response = pages.redirect(url, [console.keycloak_origin])
        response.status_code = 302
        console.set_cookie(
            response,
            _sign_in_cookie(kind),
            sign_in.seal(console.key),
            CALLBACK[kind],
            SIGN_IN_LIFETIME,
        )
        return response

    return login


def signed_in_page(kind: str) -> Callable[[Request], Awaitable[Response]]:
    """GET the callback: redeem the code, verify the tokens, start the session."""

    async def callback(request: Request) -> Response:
        console = console_of(request)
        params = request.query_params
        again = (f"{BASE[kind]}/", "Start again")
        if params.get("error"):
            return pages.message(
                "Not signed in", "Keycloak did not sign you in.", part=kind, status=400, link=again
            )
        sign_in = SignIn.open(
            request.cookies.get(_sign_in_cookie(kind)), console.key, now=time.time()
        )
        code, state = params.get("code", ""), params.get("state", "")
        if sign_in is None or sign_in.kind != kind or not code or not sign_in.matches(state):
            return pages.message(
                "Please sign in again",
                "This sign-in expired or belongs to another browser tab.",
                part=kind,
                status=400,
                link=again,
            )
        try:
            client = await console.client(sign_in.realm)
            if client is None:
                return _no_sign_in(sign_in.realm, kind)
            tokens = await oidc.exchange(
                console.services.keycloak_http,
                console.services.settings.keycloak_url,
                sign_in.realm,
                secret=client.secret,
                code=code[:4096],
                redirect_uri=console.bridge_url + CALLBACK[kind],
                verifier=sign_in.verifier,
            )
            verified = await oidc.signed_in(tokens, console.services.jwks.jwks, nonce=sign_in.nonce)
            if verified.realm != sign_in.realm:
                return pages.message(
                    "Not signed in", "Wrong realm.", part=kind, status=400, link=again
                )
            caller = await console.api.identities.caller(verified.realm, verified.subject)
        except (oidc.SignInError, AuthenticationError, KeycloakError) as exc:
            console.forget_client(sign_in.realm)  # the secret may have been regenerated
            event(logger, "console sign-in refused", realm=sign_in.realm, reason=str(exc))
            return pages.message("Not signed in", f"{exc}.", part=kind, status=400, link=again)
        lifetime = console.services.settings.console_session_lifetime
        session = Session.of(
            kind,
            caller.realm,
            caller.subject,
            expires=int(time.time()) + lifetime,
            id_token=str(tokens["id_token"]),  # verified by signed_in; sealed, never logged
            duo_passed=oidc.duo_passed(verified.claims),
        )
        event(logger, "console sign-in", part=kind, realm=caller.realm, user=caller.username)
        response = pages.redirect(f"{BASE[kind]}/")
        console.set_cookie(
            response,
            _session_cookie(kind),
            session.seal_within_limit(console.key),
            BASE[kind],
            lifetime,
        )
        response.delete_cookie(_sign_in_cookie(kind), path=CALLBACK[kind])
        return response

    return callback


def sign_out_page(kind: str) -> Callable[[Request], Awaitable[Response]]:
    """POST ``…/logout``: end our session, then Keycloak's (without its confirmation page,
    thanks to the ID token), which sends the browser back to ``…/signed-out``."""

    async def logout(request: Request) -> Response:
        console = console_of(request)
        session = await checked(request, console, kind)
        if isinstance(session, Response):
            return session
        url = oidc.logout_url(
            console.keycloak_public_url,
            session.realm,
            redirect_uri=console.bridge_url + SIGNED_OUT[kind],
            id_token=session.session.id_token,
            state=session.realm,
        )
        response = pages.redirect(url, [console.keycloak_origin])
        response.delete_cookie(_session_cookie(kind), path=BASE[kind])
        event(logger, "console sign-out", part=kind, realm=session.realm, user=session.username)
        return response

    return logout


def signed_out_page(kind: str) -> Callable[[Request], Awaitable[Response]]:
    """GET ``…/signed-out``, where Keycloak's logout lands: say so, and offer to sign in
    again to the realm Keycloak hands back (``state``, the realm we sent)."""

    async def signed_out(request: Request) -> Response:
        realm = request.query_params.get("state", "")
        again = (
            f"{BASE[kind]}/login?{urlencode({'realm': realm})}"
            if is_realm_name(realm)
            else f"{BASE[kind]}/"
        )
        response = pages.message(
            "Signed out",
            f"You are signed out of {PLACE[kind]} and of your Keycloak account.",
            part=kind,
            status=200,
            link=(again, "Sign in again"),
        )
        response.delete_cookie(_session_cookie(kind), path=BASE[kind])
        return response

    return signed_out


# -- guarded forms -----------------------------------------------------------------------


async def checked(request: Request, console: Console, kind: str) -> SignedIn | Response:
    """The session of a POST, or the refusal: no session, foreign origin, bad CSRF token."""
    session = await console.session(request, kind)
    if session is None:
        return pages.message(
            "Please sign in again",
            "Your session has ended.",
            part=kind,
            status=401,
            link=(f"{BASE[kind]}/", "Sign in"),
        )
    sent_origin = request.headers.get("origin")
    if sent_origin is not None and sent_origin != pages.origin(console.bridge_url):
        return pages.message(
            "Refused", "This form was sent from another site.", part=kind, status=403
        )
    length = request.headers.get("content-length", "")
    form = (
        await request.form(max_files=0, max_fields=64)
        if length.isdigit() and int(length) <= MAX_FORM
        else None
    )
    if form is None or not session.csrf_ok(form.get("csrf")):
        return pages.message(
            "Refused",
            "This form is stale or was not sent by this page; reload the page and try again.",
            part=kind,
            status=403,
        )
    return session


Handler = Callable[[Request, Console, SignedIn, FormData], Awaitable[Response]]


def guarded(kind: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A POST endpoint: signed in, same origin, CSRF token checked, then ``handler``."""

    async def endpoint(request: Request) -> Response:
        console = console_of(request)
        session = await checked(request, console, kind)
        if isinstance(session, Response):
            return session
        return await handler(request, console, session, await request.form())

    return endpoint


def _keycloak_unavailable(kind: str) -> Response:
    return pages.message(
        "Keycloak is unavailable",
        "Keycloak did not answer; try again shortly.",
        status=502,
        part=kind,
    )


async def keycloak_error(request: Request, exc: Exception) -> Response:
    """Keycloak could not say who is signed in, or what they may do: a 502 page."""
    event(logger, "console page without Keycloak", path=request.url.path, reason=str(exc))
    return pages.message(
        "Keycloak is unavailable", "Try again shortly.", status=502, part=_part_of(request)
    )


def _no_sign_in(realm: str, kind: str) -> Response:
    return pages.message(
        "No sign-in here",
        f"Realm {realm!r} has no {PLACE[kind]} to sign in to. Ask your administrator.",
        status=404,
        part=kind,
    )


def _part_of(request: Request) -> str:
    """Which part a path belongs to, so its page carries that part's name and look."""
    return ACCOUNT if request.url.path.startswith(BASE[ACCOUNT]) else ADMIN


async def stylesheet(request: Request) -> Response:
    del request
    response = FileResponse(STATIC / "console.css", media_type="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return pages.secure(response)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own answers under the console's paths (404, 405), as pages with the headers."""
    exc = cast("HTTPException", exc)  # registered for HTTPException only
    known = exc.status_code == HTTPStatus.NOT_FOUND
    response = pages.message(
        "Not found" if known else "Not allowed",
        "There is no such page." if known else "This page does not take this request.",
        status=exc.status_code,
        part=_part_of(request),
    )
    response.headers.update(exc.headers or {})  # 405: Allow
    return response
