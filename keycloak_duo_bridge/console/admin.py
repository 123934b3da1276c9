"""``/admin``: the tenants an administrator may manage, and each one's Duo page.

The navigation shows the partners and clients the signed-in administrator may manage, by
the admin REST API's rules; every change goes through the same library functions, is
authorized the same way, and is audited the same way (with ``via: console``).

Both pages have one heading scheme: the tenant's name as the title, then its Duo panel, titled
"Authentication Mechanism" for a client and "Duo Security MFA Configuration" for a partner.
Both offer: the Duo switch, the credentials (the skey is
write-only: never rendered back), "Test connection", the Auth API keys for sign-in without a
browser (CIBA: checked live with Duo's ``/auth/v2/check`` before they are saved, skey
write-only too), the policy, and one switch per application (required / off / inherit).

A client kept as an organization of its partner's realm has the same page under the
partner's (``/tenants/{partner}/organizations/{name}``), whose forms run through the same
handlers (each :data:`Target`-aware function picks the realm's or the organization's library
call); who manages the partner realm manages its organizations. Its page shows no identity
providers (the realm's own) and no Auth API keys (the CLI sets an organization's).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import (
    apps,
    auth_api_settings,
    duo_settings,
    idps,
    organizations,
    tenants,
)
from keycloak_duo_bridge.admin.auth_api_settings import AuthApiCheck
from keycloak_duo_bridge.admin.duo_settings import HealthVerdictLike
from keycloak_duo_bridge.admin.effective import (
    Decision,
    EffectiveSettings,
    PolicyOutcome,
    decide,
    decide_member,
    parse_apps,
    parse_bypass_groups,
)
from keycloak_duo_bridge.admin.explain import effective_settings
from keycloak_duo_bridge.admin.idp_policy import policy_of
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.organizations import Organization
from keycloak_duo_bridge.admin.tenants import Tenant
from keycloak_duo_bridge.api.app import Forbidden
from keycloak_duo_bridge.attributes import AppMode, TenantKind, UserMode
from keycloak_duo_bridge.console import pages
from keycloak_duo_bridge.console.app import Console, console_of, guarded
from keycloak_duo_bridge.console.state import ADMIN, SignedIn
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.envelope import DecryptionError
from keycloak_duo_bridge.errors import ConfigError, DuoError, KeycloakError, NotFoundError

NOTICES: Final = {
    "switched": "The Duo switch is saved.",
    "credentials": "The Duo credentials are saved.",
    "credentials_cleared": "The Duo credentials are removed.",
    "auth_api": "The Duo Auth API keys are saved.",
    "auth_api_cleared": "The Duo Auth API keys are removed.",
    "unchanged": "Nothing changed.",
    "policy": "The policy is saved.",
    "app": "The application's switch is saved.",
    "idp": "The identity provider's Duo policy is saved.",
}
VERDICTS: Final = {
    "ok": "Works",
    "invalid_client": "Wrong keys",
    "unreachable": "Duo unreachable",
    "untrusted": "Certificate not trusted",
}


# "Test connection" answers with a redirect (so Reload does not test again); its result
# rides in the URL, sealed and bound to the realm and the administrator, for a short while.
TESTED_LIFETIME: Final = 600
_TESTED_AAD: Final = b"kdb-console-tested-v1"
_TESTED_FIELDS: Final = ("status", "message", "ikey", "api_host")
# What a refused form shows again as typed (never a secret key)
_TYPED: Final = ("ikey", "api_host", "authapi_ikey", "authapi_host")


@dataclass(frozen=True)
class ConnectionVerdict:
    """A "Test connection" result, as the page after the redirect shows it."""

    status: str
    message: str


# What a page of the console is about: a tenant realm, or a client kept as an organization
# of its partner's realm.
Target = Tenant | Organization


def url_of(target: Target) -> str:
    """The console page of a tenant realm or of a client organization."""
    if isinstance(target, Organization):
        return f"/admin/tenants/{target.partner}/organizations/{target.name}"
    return f"/admin/tenants/{target.name}"


def kind_of(target: Target) -> str:
    """What the navigation says a tenant is."""
    return "client organization" if isinstance(target, Organization) else target.kind.value


def _is_partner(target: Target) -> bool:
    return isinstance(target, Tenant) and target.kind is TenantKind.PARTNER


@dataclass(frozen=True)
class Branch:
    tenant: Target
    clients: tuple[Target, ...]


def tree(visible: list[Target]) -> list[Branch]:
    """Partners with their clients (realms and organizations); a client whose partner is
    not visible stands alone."""
    partners = {t.name for t in visible if _is_partner(t)}
    return [
        Branch(t, tuple(c for c in visible if not _is_partner(c) and c.partner == t.name))
        for t in visible
        if _is_partner(t) or t.partner not in partners
    ]


@dataclass(frozen=True)
class AppRow:
    client_id: str
    name: str | None
    mode: str
    effect: str


_EFFECTS: Final = {
    PolicyOutcome.APP_OFF: "No Duo: the application is off",
    PolicyOutcome.REALM_OFF: "No Duo: Duo is off for the realm",
}


def _effect(effective: EffectiveSettings, decision: Decision) -> str:
    if decision.outcome is not PolicyOutcome.REQUIRED:
        return _EFFECTS[decision.outcome]
    if effective.user_mode.value is UserMode.OPT_IN:
        return "Duo for users who activated it"
    return "Duo required"


@dataclass(frozen=True)
class IdpRow:
    """An identity provider of the realm and its Duo policy, proofs space-separated."""

    alias: str
    mode: str
    amr: str
    acr: str
    saml_context: str


@dataclass(frozen=True)
class TenantView:
    """What a tenant's page shows: of a realm (``tenant``), or of a client organization
    (``organization``, kept in partner realm ``tenant``), whose page shows no Auth API keys
    or identity providers."""

    tenant: Tenant
    own: dict[str, Any]
    effective: EffectiveSettings
    apps: list[AppRow]
    bypass_groups: str
    auth_api: AuthApiView | None
    idps: list[IdpRow] = field(default_factory=list)
    organization: Organization | None = None

    @property
    def url(self) -> str:
        """Where the page's forms post."""
        return url_of(self.organization or self.tenant)


@dataclass(frozen=True)
class AuthApiView:
    """The realm's own Auth API keys as the page shows them: never the skey, only whether
    one is stored."""

    ikey: str
    api_host: str
    skey_stored: bool

    @classmethod
    def of(cls, attributes: Mapping[str, str]) -> AuthApiView:
        """The keys a realm's or an organization's own attributes hold."""
        return cls(
            ikey=attributes.get(attr.AUTH_API_IKEY, ""),
            api_host=attributes.get(attr.AUTH_API_HOST, ""),
            skey_stored=bool(attributes.get(attr.AUTH_API_SKEY)),
        )


def _applications(keycloak: Keycloak, realm: str) -> list[apps.AppInfo]:
    """The realm's own applications (Keycloak's built-in clients left out)."""
    return [a for a in apps.list_apps(keycloak, realm) if a.client_id not in apps.BUILT_IN_CLIENTS]


def load_view(keycloak: Keycloak, tenant: Tenant) -> TenantView:
    effective = effective_settings(keycloak, tenant.name)
    rows = [
        AppRow(
            app.client_id,
            app.name,
            app.mode.value,
            _effect(effective, decide(effective, app.mode, activated=True)),
        )
        for app in _applications(keycloak, tenant.name)
    ]
    own = duo_settings.show(keycloak, tenant.name)
    found = idps.show_idp_policies(keycloak, tenant.name)
    idp_rows = [
        IdpRow(a, p.mode.value, " ".join(p.amr), " ".join(p.acr), " ".join(p.saml_context))
        for a, p in found.items()
    ]
    return TenantView(
        tenant=tenant,
        own=own,
        effective=effective,
        apps=rows,
        bypass_groups=shown_groups(own.get("bypass_groups")),
        auth_api=AuthApiView.of(tenant.attributes),
        idps=idp_rows,
    )


def load_organization_view(
    keycloak: Keycloak, partner: Tenant, organization: Organization
) -> TenantView:
    """A client organization's page: its own settings, what its members get, and each of
    the partner realm's applications with the organization's switch and its effect on a
    member."""
    resolved = organizations.resolve(keycloak, organization)
    stored = organization.attributes.get(attr.DUO_APPS)
    modes = stored_app_modes(stored) if stored else {}
    rows = [
        AppRow(
            app.client_id,
            app.name,
            modes.get(app.client_id, AppMode.INHERIT).value,
            _effect(
                resolved.organization,
                decide_member(
                    resolved.partner, resolved.organization, app.client_id, activated=True
                ),
            ),
        )
        for app in _applications(keycloak, organization.partner)
    ]
    own = organizations.show(organization)
    return TenantView(
        tenant=partner,
        own=own,
        effective=resolved.organization,
        apps=rows,
        bypass_groups=shown_groups(own.get("bypass_groups")),
        auth_api=AuthApiView.of(organization.attributes),
        organization=organization,
    )


def stored_app_modes(stored: str) -> dict[str, AppMode]:
    try:
        return parse_apps(stored)
    except ConfigError:
        return {}


def shown_groups(stored: str | None) -> str:
    return "\n".join(_groups(stored)) if stored else ""


def _groups(stored: str) -> list[str]:
    try:
        return list(parse_bypass_groups(stored))
    except ConfigError:
        return []


async def _page(
    console: Console,
    session: SignedIn,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> Response:
    visible = await run_in_threadpool(console.api.visible_clients, session.caller)
    return pages.render(
        template,
        {
            "session": session,
            "tree": tree(visible),
            "part": "admin",
            "url_of": url_of,
            "kind_of": kind_of,
            **context,
        },
        status=status,
        form_targets=[console.keycloak_origin],
    )


async def home(request: Request) -> Response:
    console = console_of(request)
    session = await console.session(request, ADMIN)
    if session is None:
        return pages.render(
            "signin.html",
            {
                "title": "Duo console",
                "action": "/admin/login",
                "realm": console.services.settings.keycloak_admin_realm,
                "text": "Administrators sign in with their Keycloak account, in their own realm.",
            },
            form_targets=[console.keycloak_origin],
        )
    try:
        return await _page(console, session, "home.html", {"title": "Duo console"})
    except KeycloakError:
        return _unavailable()


T = TypeVar("T", bound=Target)
Finder = Callable[[Console, SignedIn, Request], Awaitable[T]]


async def _realm(console: Console, session: SignedIn, request: Request) -> Tenant:
    """The tenant realm ``{realm}``, if the signed-in admin may manage it."""
    return await console.api.authorize(session.caller, request.path_params["realm"])


async def _organization(console: Console, session: SignedIn, request: Request) -> Organization:
    """The client organization ``{org}`` of partner realm ``{realm}``, if the signed-in admin
    may manage that realm (Keycloak's roles decide, as for the realm's own page)."""
    params = request.path_params
    return await console.api.authorize_organization(session.caller, params["realm"], params["org"])


async def _authorized(
    console: Console, session: SignedIn, request: Request, find: Finder[T]
) -> T | Response:
    try:
        return await find(console, session, request)
    except Forbidden:
        return pages.message("Not yours", "You may not manage this realm.", status=403)
    except NotFoundError:
        return pages.message(
            "Unknown realm",
            "This realm is not a partner or client, or holds no such client organization.",
            status=404,
        )
    except KeycloakError:
        return _unavailable()


def _unavailable() -> Response:
    return pages.message("Keycloak is unavailable", "Try again shortly.", status=502)


def _view(keycloak: Keycloak, target: Target) -> TenantView:
    """The page's view of a realm or of a client organization."""
    if isinstance(target, Tenant):
        return load_view(keycloak, target)
    partner = tenants.get_tenant(keycloak, target.partner)
    return load_organization_view(keycloak, partner, target)


async def _tenant_page(
    console: Console,
    session: SignedIn,
    target: Target,
    *,
    notice: str | None = None,
    error: str | None = None,
    verdict: HealthVerdictLike | None = None,
    typed: FormData | dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    try:
        view = await run_in_threadpool(_view, console.api.keycloak, target)
        return await _page(
            console,
            session,
            "tenant.html",
            {
                "title": target.display_name or target.name,
                "view": view,
                "partner": _is_partner(target),
                "notice": NOTICES.get(notice or ""),
                "error": error,
                "verdict": verdict,
                "verdict_label": VERDICTS.get(verdict.status) if verdict else None,
                "typed": {k: str(typed.get(k) or "")[:256] for k in _TYPED} if typed else None,
            },
            status=status,
        )
    except KeycloakError:
        return _unavailable()


def show(find: Finder[T]) -> Callable[[Request], Awaitable[Response]]:
    """A tenant's page (a realm's or a client organization's), found by ``find``."""

    async def page(request: Request) -> Response:
        console = console_of(request)
        session = await console.session(request, ADMIN)
        if session is None:
            return pages.redirect("/admin/")
        found = await _authorized(console, session, request, find)
        if isinstance(found, Response):
            return found
        tested = _opened_test(console, session, found, request.query_params.get("tested"))
        if tested is None:
            return await _tenant_page(
                console, session, found, notice=request.query_params.get("notice")
            )
        verdict, typed = tested
        return await _tenant_page(console, session, found, verdict=verdict, typed=typed)

    return page


def _sealed_test(
    console: Console, session: SignedIn, target: Target, verdict: HealthVerdictLike, form: FormData
) -> str:
    """The test's result and the typed ikey and host (never the skey), sealed for the URL."""
    data = {
        "realm": url_of(target),
        "by": session.username,
        "status": verdict.status,
        "message": verdict.message[:512],
        "ikey": str(form.get("ikey") or "")[:256],
        "api_host": str(form.get("api_host") or "")[:256],
        "expires": int(time.time()) + TESTED_LIFETIME,
    }
    return console.key.seal_json(data, _TESTED_AAD)


def _opened_test(
    console: Console, session: SignedIn, target: Target, value: str | None
) -> tuple[ConnectionVerdict, dict[str, str]] | None:
    """What :func:`_sealed_test` sealed for this page and administrator, while fresh."""
    if not value:
        return None
    try:
        data = console.key.open_json(value, _TESTED_AAD)
    except DecryptionError:
        return None
    texts = {name: str(data.get(name, "")) for name in _TESTED_FIELDS}
    if (data.get("realm"), data.get("by")) != (url_of(target), session.username) or not (
        isinstance(data.get("expires"), int) and data["expires"] >= time.time()
    ):
        return None
    verdict = ConnectionVerdict(texts["status"], texts["message"])
    return verdict, {"ikey": texts["ikey"], "api_host": texts["api_host"]}


Action = Callable[[Console, SignedIn, T, FormData, Request], Awaitable[str | HealthVerdictLike]]


def change(action: Action[T], find: Finder[T]) -> Callable[[Request], Awaitable[Response]]:
    """A form on a tenant's page (found by ``find``): authorize, act, then show the page
    again."""

    async def handler(
        request: Request, console: Console, session: SignedIn, form: FormData
    ) -> Response:
        found = await _authorized(console, session, request, find)
        if isinstance(found, Response):
            return found
        try:
            done = await action(console, session, found, form, request)
        except (ConfigError, DuoError, NotFoundError) as exc:
            return await _tenant_page(
                console, session, found, error=str(exc), typed=form, status=400
            )
        except KeycloakError:
            return _unavailable()
        if isinstance(done, str):
            return pages.redirect(f"{url_of(found)}?notice={done}")
        sealed = _sealed_test(console, session, found, done, form)
        return pages.redirect(f"{url_of(found)}?{urlencode({'tested': sealed})}")

    return guarded(ADMIN, handler)


def _text(form: FormData, name: str, limit: int = 512) -> str:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > limit:
        raise ConfigError(f"{name} is too long")
    return text


_SWITCH: Final = {"on": True, "off": False, "inherit": None}


def _audit(
    console: Console, session: SignedIn, target: Target, action: str, **details: Any
) -> None:
    """Audit a change of the console: a client organization's under its partner realm."""
    if isinstance(target, Organization):
        realm, details = target.partner, {"organization": target.name, **details}
    else:
        realm = target.name
    console.api.audit(session.caller, realm, action, **details, via="console")


def _switched(console: Console, target: Target, *, enabled: bool | None) -> bool | list[str]:
    keycloak = console.api.keycloak
    if isinstance(target, Organization):
        return organizations.set_enabled(keycloak, target, enabled=enabled)
    wires = console.api.services.wires
    return duo_settings.set_enabled(keycloak, target.name, enabled=enabled, wires=wires)


async def switch(
    console: Console, session: SignedIn, target: Target, form: FormData, request: Request
) -> str:
    del request
    choice = _text(form, "enabled")
    partner = _is_partner(target)
    if choice not in _SWITCH or (choice == "inherit" and partner):
        raise ConfigError("choose on or off" + ("" if partner else " or inherit"))
    await run_in_threadpool(lambda: _switched(console, target, enabled=_SWITCH[choice]))
    _audit(console, session, target, "switch duo", enabled=_SWITCH[choice])
    return "switched"


def _set_credentials(
    console: Console, target: Target, form: FormData, **typed: str
) -> duo_settings.SetResult:
    settings = console.services.settings
    keycloak = console.api.keycloak
    options: dict[str, Any] = {
        **typed,
        "ring": console.services.keyring,
        "health": duo_settings.duo_health_check(
            settings.duo_ca_file, allow_any_host=settings.duo_allow_any_host
        ),
        "allow_unverified": form.get("allow_unverified") == "yes",
    }
    if isinstance(target, Organization):
        return organizations.set_credentials(keycloak, target, **options)
    return duo_settings.set_credentials(keycloak, target.name, **options)


async def credentials(
    console: Console, session: SignedIn, target: Target, form: FormData, request: Request
) -> str:
    del request
    ikey, skey, host = _text(form, "ikey"), _text(form, "skey"), _text(form, "api_host")
    try:
        result = await run_in_threadpool(
            lambda: _set_credentials(console, target, form, ikey=ikey, skey=skey, api_host=host)
        )
    except DuoError as exc:
        raise DuoError(
            f"Duo did not answer, nothing saved: {exc}. "
            "Tick “Save even if Duo is unreachable” to save anyway."
        ) from None
    _audit(console, session, target, "set duo credentials", ikey=ikey, api_host=host)
    return "credentials" if result.written else "unchanged"


def _clearing(
    of_realm: Callable[[Keycloak, str], bool],
    of_organization: Callable[[Keycloak, Organization], bool],
    action: str,
    notice: str,
) -> Action[Target]:
    """A form that removes the target's own keys (a client then uses its partner's), with
    the realm's or the organization's function, audited as ``action``."""

    async def clear(
        console: Console, session: SignedIn, target: Target, form: FormData, request: Request
    ) -> str:
        del form, request
        keycloak = console.api.keycloak
        written = await run_in_threadpool(
            lambda: (
                of_organization(keycloak, target)
                if isinstance(target, Organization)
                else of_realm(keycloak, target.name)
            )
        )
        _audit(console, session, target, action)
        return notice if written else "unchanged"

    return clear


clear_credentials = _clearing(
    duo_settings.clear_credentials,
    organizations.clear_credentials,
    "clear duo credentials",
    "credentials_cleared",
)


def _sealed_scope(target: Target) -> str:
    """What the target's stored skey is sealed for: the realm, or realm and organization."""
    return target.scope if isinstance(target, Organization) else target.name


async def test_connection(
    console: Console, session: SignedIn, target: Target, form: FormData, request: Request
) -> HealthVerdictLike:
    """A live health check with the typed keys, or the stored ones where a field is blank."""
    del session, request
    stored = target.attributes
    ikey = _text(form, "ikey") or stored.get(attr.DUO_IKEY, "")
    host = _text(form, "api_host") or stored.get(attr.DUO_API_HOST, "")
    skey = _text(form, "skey")
    if not skey:
        sealed = stored.get(attr.DUO_SKEY)
        if not sealed:
            raise ConfigError("enter the secret key (none is stored here)")
        try:
            skey = console.services.keyring.decrypt(
                sealed, realm=_sealed_scope(target), attribute=attr.DUO_SKEY
            )
        except DecryptionError as exc:
            raise ConfigError(f"the stored secret key cannot be read: {exc}") from None
    settings = console.services.settings
    duo_settings.validate_credentials(ikey, skey, host, allow_any_host=settings.duo_allow_any_host)
    check = duo_settings.duo_health_check(
        settings.duo_ca_file, allow_any_host=settings.duo_allow_any_host
    )
    return await run_in_threadpool(check, ikey, skey, host)


def _auth_api_set(
    console: Console, target: Target, creds: AuthApiCredentials, check: AuthApiCheck
) -> bool:
    keycloak, ring = console.api.keycloak, console.services.keyring
    if isinstance(target, Organization):
        found = organizations.set_auth_api(keycloak, target, creds=creds, ring=ring, check=check)
    else:
        found = auth_api_settings.set_auth_api(
            keycloak, target.name, creds=creds, ring=ring, check=check
        )
    return found.written


async def auth_api(
    console: Console, session: SignedIn, target: Target, form: FormData, request: Request
) -> str:
    """Store the Auth API keys once Duo's ``/auth/v2/check`` accepts them (no check, no save)."""
    del request
    creds = AuthApiCredentials(
        _text(form, "authapi_ikey"), _text(form, "authapi_skey"), _text(form, "authapi_host")
    )
    settings = console.services.settings
    check = auth_api_settings.live_check(
        settings.duo_ca_file, settings.duo_read_timeout, allow_any_host=settings.duo_allow_any_host
    )
    try:
        written = await run_in_threadpool(_auth_api_set, console, target, creds, check)
    except DuoError:
        raise DuoError(
            "Duo's Auth API did not answer, so the keys could not be checked: nothing saved. "
            "Try again later."
        ) from None
    _audit(console, session, target, "set duo auth api", ikey=creds.ikey, api_host=creds.api_host)
    return "auth_api" if written else "unchanged"


clear_auth_api = _clearing(
    auth_api_settings.clear_auth_api,
    organizations.clear_auth_api,
    "clear duo auth api",
    "auth_api_cleared",
)


def _policy_set(keycloak: Keycloak, target: Target, changes: duo_settings.Policy) -> bool:
    if isinstance(target, Organization):
        return organizations.set_policy(keycloak, target, changes)
    return duo_settings.set_policy(keycloak, target.name, changes)


async def policy(
    console: Console, session: SignedIn, target: Target, form: FormData, request: Request
) -> str:
    del request
    groups = [line.strip() for line in _text(form, "bypass_groups", 4096).splitlines()]
    changes = duo_settings.Policy(
        user_mode=_text(form, "user_mode") or None,
        fail_mode=_text(form, "fail_mode") or None,
        remember=_text(form, "remember") or "inherit",
        bypass_groups=[g for g in groups if g] or ["inherit"],
        self_deactivate=_text(form, "self_deactivate") or None,
        self_phones=_text(form, "self_phones") or None,
    )
    written = await run_in_threadpool(_policy_set, console.api.keycloak, target, changes)
    _audit(console, session, target, "set duo policy", changes=changes.changes())
    return "policy" if written else "unchanged"


def _mode_set(keycloak: Keycloak, target: Target, client_id: str, mode: str) -> bool:
    if isinstance(target, Organization):
        return organizations.set_app_mode(keycloak, target, client_id, mode)
    return apps.set_mode(keycloak, target.name, client_id, mode).written


async def app_mode(
    console: Console, session: SignedIn, target: Target, form: FormData, request: Request
) -> str:
    client_id = request.path_params["client_id"]
    mode = _text(form, "mode")
    written = await run_in_threadpool(_mode_set, console.api.keycloak, target, client_id, mode)
    _audit(console, session, target, "set app mode", app=client_id, mode=mode)
    return "app" if written else "unchanged"


async def idp_policy(
    console: Console, session: SignedIn, tenant: Tenant, form: FormData, request: Request
) -> str:
    """An identity provider's Duo policy: proofs as space-separated values; off needs its
    confirmation box ticked."""
    alias = request.path_params["alias"]
    chosen = policy_of(
        _text(form, "mode"),
        amr=_text(form, "amr").split(),
        acr=_text(form, "acr").split(),
        saml_context=_text(form, "saml_context", 4096).split(),
    )
    confirmed = form.get("confirm_off") == "yes"
    written = await run_in_threadpool(
        lambda: idps.set_idp_policy(
            console.api.keycloak, tenant.name, alias, chosen, confirm_off=confirmed
        )
    )
    console.api.audit(
        session.caller, tenant.name, "set idp policy", idp=alias, **chosen.stored(), via="console"
    )
    return "idp" if written else "unchanged"


# The forms a realm's page and a client organization's page both have, under their page.
SHARED: Final[tuple[tuple[str, Action[Target]], ...]] = (
    ("/duo/enabled", switch),
    ("/duo/credentials", credentials),
    ("/duo/credentials/clear", clear_credentials),
    ("/duo/test", test_connection),
    ("/duo/policy", policy),
    ("/duo/auth-api", auth_api),
    ("/duo/auth-api/clear", clear_auth_api),
    ("/apps/{client_id:str}", app_mode),
)


def _pages(base: str, find: Finder[T]) -> list[Route]:
    """A tenant's page at ``base`` and the forms it shares with every tenant's page."""
    return [
        Route(base, show(find)),
        *(Route(base + path, change(act, find), methods=["POST"]) for path, act in SHARED),
    ]


def routes() -> list[Route]:
    realm = "/tenants/{realm:str}"
    return [
        Route("/", home),
        *_pages(realm, _realm),
        *_pages(f"{realm}/organizations/{{org:str}}", _organization),
        Route(f"{realm}/idps/{{alias:str}}", change(idp_policy, _realm), methods=["POST"]),
    ]
