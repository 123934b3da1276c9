"""``/account/duo``: Duo self-service for the users of a Duo-enabled realm.

A user signs in through their realm and sees whether Duo is on for them: always in a realm
that requires Duo of every user (with when they last passed it, read from their sign-in's
``duo`` claim), once activated in an opt-in realm. In an opt-in realm, "Activate
Duo" runs Duo's prompt (which enrols a new user: phone, then push or passcode) and records
the activation (user attribute ``kdb.duo.activated``) once Duo says allow for this very
user. "Deactivate" appears only where the realm allows it (``kdb.duo.self_deactivate``).
When Duo is off for the realm, the page offers nothing. Every change is audited.

Phones (issue 17): where the realm allows it (``kdb.duo.self_phones``, which only realm
admins set: ``add`` or ``manage``), the page lists the user's phones at Duo (type and last
four digits) and registers a mobile number through the Admin API of the Duo account the
realm's partner linked (see :mod:`keycloak_duo_bridge.admin.phones`); with ``manage`` the
user may remove one of their own. The user is always the signed-in one: no form names a user.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from keycloak_duo_bridge.admin import phones, users
from keycloak_duo_bridge.admin.effective import EffectiveSettings
from keycloak_duo_bridge.admin.explain import effective_settings
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.api.app import rest_options
from keycloak_duo_bridge.attributes import SelfPhones, UserMode
from keycloak_duo_bridge.bridge.app import duo_credentials, duo_name
from keycloak_duo_bridge.console import pages
from keycloak_duo_bridge.console.app import Console, console_of, guarded
from keycloak_duo_bridge.console.state import ACCOUNT, PendingActivation, SignedIn
from keycloak_duo_bridge.duo.protocol import auth_status
from keycloak_duo_bridge.errors import (
    BridgeError,
    ConfigError,
    DuoConfigError,
    DuoError,
    KeycloakError,
    NotFoundError,
)
from keycloak_duo_bridge.logs import event

BASE: Final = "/account/duo"
DUO_CALLBACK: Final = f"{BASE}/duo-callback"
ACTIVATION_COOKIE: Final = "kdb_account_activation"
ACTIVATION_LIFETIME: Final = 600
NOTICES: Final = {
    "activated": "Duo is activated: you will be asked for it when you sign in.",
    "deactivated": "Duo is deactivated.",
    "phone-added": "Your phone is registered: Duo sent it a text message to activate Duo Mobile.",
    "phone-removed": "The phone is removed from Duo.",
}
logger = logging.getLogger("keycloak_duo_bridge.console")


@dataclass(frozen=True)
class AccountView:
    realm: str
    username: str
    offered: bool
    activated: bool
    required_for_all: bool
    may_deactivate: bool
    duo_origin: str | None
    last_passed: datetime | None = None  # the Duo step-up of the session signed in with
    self_phones: SelfPhones = SelfPhones.OFF
    devices: tuple[phones.Device, ...] | None = None  # None: not shown, or Duo did not answer


def load_view(
    keycloak: Keycloak, realm: str, username: str, *, duo_passed: int | None = None
) -> AccountView:
    """What the page shows; ``duo_passed`` is when the user last passed Duo, if known."""
    effective = effective_settings(keycloak, realm)
    status = users.status(keycloak, realm, username)
    creds = effective.credentials.value
    offered = effective.enabled.value and creds is not None
    return AccountView(
        realm=realm,
        username=status.username,
        offered=offered,
        activated=status.activated,
        required_for_all=effective.user_mode.value is UserMode.REQUIRED,
        may_deactivate=effective.self_deactivate.value,
        duo_origin=f"https://{creds.api_host}" if offered and creds else None,
        last_passed=None if duo_passed is None else datetime.fromtimestamp(duo_passed, UTC),
        self_phones=effective.self_phones.value if offered else SelfPhones.OFF,
    )


def with_devices(console: Console, view: AccountView) -> AccountView:
    """The view with the user's phones at Duo, where the realm lets users manage them."""
    if not view.self_phones.may_add:
        return view
    try:
        found = phones.list_devices(
            console.api.keycloak,
            view.realm,
            view.username,
            ring=console.services.keyring,
            options=rest_options(console.services.settings),
        )
    except BridgeError as exc:
        event(logger, "self-service phones unavailable", realm=view.realm, reason=str(exc))
        return view
    return replace(view, devices=tuple(found))


def _targets(console: Console, view: AccountView | None = None) -> list[str]:
    extra = [view.duo_origin] if view is not None and view.duo_origin else []
    return [console.keycloak_origin, *extra]


async def home(request: Request) -> Response:
    console = console_of(request)
    session = await console.session(request, ACCOUNT)
    realm = request.query_params.get("realm")
    if session is None or (realm and realm != session.realm):
        if realm:
            return pages.redirect(f"{BASE}/login?realm={quote(realm, safe='')}")
        return pages.render(
            "signin.html",
            {
                "title": "Duo two-factor",
                "action": f"{BASE}/login",
                "realm": "",
                "text": "Sign in with your account to see or change your Duo two-factor. "
                "The link from your application names your organization for you; if you came "
                "here another way, type the realm name your administrator gave you.",
            },
            form_targets=_targets(console),
        )
    try:
        view = await run_in_threadpool(
            lambda: with_devices(
                console,
                load_view(
                    console.api.keycloak,
                    session.realm,
                    session.username,
                    duo_passed=session.session.duo_passed,
                ),
            )
        )
    except KeycloakError:
        return pages.message(
            "Keycloak is unavailable", "Try again shortly.", status=502, part=ACCOUNT
        )
    return pages.render(
        "account.html",
        {
            "title": "Duo two-factor",
            "session": session,
            "part": "account",
            "view": view,
            "notice": NOTICES.get(request.query_params.get("notice", "")),
        },
        form_targets=_targets(console, view),
    )


def _back(title: str, text: str, status: int) -> Response:
    return pages.message(title, text, status=status, link=(f"{BASE}/", "Back"), part=ACCOUNT)


async def _effective(console: Console, session: SignedIn) -> EffectiveSettings | Response:
    try:
        effective = await run_in_threadpool(effective_settings, console.api.keycloak, session.realm)
    except KeycloakError:
        return _back("Keycloak is unavailable", "Try again shortly.", 502)
    if not effective.enabled.value:
        return _back("Duo is off", "Duo two-factor is not offered in your realm.", 400)
    return effective


async def activate(
    request: Request, console: Console, session: SignedIn, form: FormData
) -> Response:
    """Send the user to Duo's prompt, with a sealed record of what to activate."""
    del request, form
    effective = await _effective(console, session)
    if isinstance(effective, Response):
        return effective
    services = console.services
    try:
        duo_name = await run_in_threadpool(_duo_name, console, session, effective)
        creds = duo_credentials(services.keyring, effective)
        owner = effective.credentials.realm or session.realm
        await services.gate.check(creds, owner=owner, fail_fast=True)
    except KeycloakError:
        return _back("Keycloak is unavailable", "Try again shortly.", 502)
    except DuoConfigError:
        return _back("Duo is not set up", "Tell your administrator: Duo is misconfigured.", 503)
    except DuoError:
        return _back("Duo is unreachable", "Try again in a few minutes.", 503)
    activation = PendingActivation(
        realm=session.realm,
        subject=session.subject,
        username=duo_name,
        state=secrets.token_urlsafe(32),
        duo_nonce=secrets.token_urlsafe(32),
        expires=int(time.time()) + ACTIVATION_LIFETIME,
    )
    url = services.duo.authorize_url(
        creds,
        redirect_uri=console.bridge_url + DUO_CALLBACK,
        state=activation.state,
        username=duo_name,
        nonce=activation.duo_nonce,
    )
    response = pages.redirect(url, [pages.origin(f"https://{creds.api_host}")])
    console.set_cookie(
        response, ACTIVATION_COOKIE, activation.seal(console.key), DUO_CALLBACK, ACTIVATION_LIFETIME
    )
    return response


def _duo_name(console: Console, session: SignedIn, effective: EffectiveSettings) -> str:
    """The user's name at Duo under the realm's mapping, as the step-up uses it."""
    status = users.status(console.api.keycloak, session.realm, session.username)
    return duo_name(
        effective,
        username=status.username,
        email=status.email,
        email_verified=status.email_verified,
        links=status.links,
        local_password=status.local_password,
    )


async def duo_callback(request: Request) -> Response:
    """Duo's answer: record the activation if Duo allowed this very user."""
    console = console_of(request)
    session = await console.session(request, ACCOUNT)
    params = request.query_params
    activation = PendingActivation.open(
        request.cookies.get(ACTIVATION_COOKIE), console.key, now=time.time()
    )
    if (
        session is None
        or activation is None
        or activation.subject != session.subject
        or activation.realm != session.realm
        or not activation.matches(params.get("state", "")[:1024])
    ):
        return _back("Please start again", "This activation expired or is not yours.", 400)
    if params.get("error") or not params.get("duo_code"):
        return _back("Not activated", "Duo did not confirm; nothing changed.", 400)
    response = await _record(console, session, activation, params["duo_code"][:4096])
    response.delete_cookie(ACTIVATION_COOKIE, path=DUO_CALLBACK)
    return response


async def _record(
    console: Console, session: SignedIn, activation: PendingActivation, code: str
) -> Response:
    """Redeem Duo's code; on allow, mark the user activated."""
    effective = await _effective(console, session)
    if isinstance(effective, Response):
        return effective
    services = console.services
    try:
        claims = await services.duo.exchange(
            duo_credentials(services.keyring, effective),
            code=code,
            redirect_uri=console.bridge_url + DUO_CALLBACK,
            username=activation.username,
            nonce=activation.duo_nonce,
        )
    except DuoError:
        return _back("Not activated", "Duo's answer could not be confirmed; nothing changed.", 502)
    if auth_status(claims) != "allow":
        return _back("Not activated", "Duo did not allow it; nothing changed.", 403)
    return await _set_activated(console, session, activated=True)


async def _set_activated(console: Console, session: SignedIn, *, activated: bool) -> Response:
    """Record the user's choice, audit it, and show the page again with a notice."""
    try:
        await run_in_threadpool(
            lambda: users.set_activated(
                console.api.keycloak, session.realm, session.username, activated=activated
            )
        )
    except KeycloakError:
        return _back("Keycloak is unavailable", "Nothing changed; try again shortly.", 502)
    action = "activate duo" if activated else "deactivate duo"
    console.api.audit(
        session.caller, session.realm, action, user=session.username, via="self-service"
    )
    return pages.redirect(f"{BASE}/?notice={'activated' if activated else 'deactivated'}")


async def deactivate(
    request: Request, console: Console, session: SignedIn, form: FormData
) -> Response:
    del request, form
    effective = await _effective(console, session)
    if isinstance(effective, Response):
        return effective
    if not effective.self_deactivate.value:
        return _back("Not allowed", "Your realm does not let users deactivate Duo.", 403)
    return await _set_activated(console, session, activated=False)


async def _phones_allowed(
    console: Console, session: SignedIn, *, remove: bool
) -> EffectiveSettings | Response:
    effective = await _effective(console, session)
    if isinstance(effective, Response):
        return effective
    allowed = effective.self_phones.value
    if not (allowed.may_remove if remove else allowed.may_add):
        verb = "remove" if remove else "register"
        return _back("Not allowed", f"Your realm does not let users {verb} phones here.", 403)
    return effective


async def add_phone(
    request: Request, console: Console, session: SignedIn, form: FormData
) -> Response:
    """Register the signed-in user's mobile number at Duo, and send its SMS activation."""
    del request
    allowed = await _phones_allowed(console, session, remove=False)
    if isinstance(allowed, Response):
        return allowed
    try:
        number = phones.valid_number(str(form.get("number") or ""))
    except ConfigError as exc:
        return _back("Not a phone number", f"{exc}.", 400)
    try:
        added = await run_in_threadpool(
            lambda: phones.add_phone(
                console.api.keycloak,
                session.realm,
                session.username,
                number,
                ring=console.services.keyring,
                options=rest_options(console.services.settings),
            )
        )
    except BridgeError as exc:
        event(logger, "self-service phone refused", realm=session.realm, reason=str(exc))
        return _back(
            "Not registered",
            "Duo could not register this phone; nothing changed. "
            "If it happens again, tell your administrator.",
            502 if isinstance(exc, KeycloakError | DuoError) else 400,
        )
    console.api.audit(
        session.caller,
        session.realm,
        "add duo phone",
        user=session.username,
        phone=added.device.masked,
        via="self-service",
    )
    return pages.redirect(f"{BASE}/?notice=phone-added")


async def remove_phone(
    request: Request, console: Console, session: SignedIn, form: FormData
) -> Response:
    """Remove one of the signed-in user's own phones from Duo."""
    del request
    allowed = await _phones_allowed(console, session, remove=True)
    if isinstance(allowed, Response):
        return allowed
    phone_id = str(form.get("phone_id") or "")
    try:
        removed = await run_in_threadpool(
            lambda: phones.remove_phone(
                console.api.keycloak,
                session.realm,
                session.username,
                phone_id,
                ring=console.services.keyring,
                options=rest_options(console.services.settings),
            )
        )
    except NotFoundError:
        return _back("No such phone", "This phone is not one of yours; nothing changed.", 404)
    except BridgeError as exc:
        event(logger, "self-service phone refused", realm=session.realm, reason=str(exc))
        return _back(
            "Not removed",
            "Duo could not remove this phone; nothing changed. "
            "If it happens again, tell your administrator.",
            502,
        )
    console.api.audit(
        session.caller,
        session.realm,
        "remove duo phone",
        user=session.username,
        phone=removed.masked,
        via="self-service",
    )
    return pages.redirect(f"{BASE}/?notice=phone-removed")


def routes() -> list[Route]:
    return [
        Route("/", home),
        Route("/activate", guarded(ACCOUNT, activate), methods=["POST"]),
        Route("/duo-callback", duo_callback),
        Route("/deactivate", guarded(ACCOUNT, deactivate), methods=["POST"]),
        Route("/phones", guarded(ACCOUNT, add_phone), methods=["POST"]),
        Route("/phones/remove", guarded(ACCOUNT, remove_phone), methods=["POST"]),
    ]
