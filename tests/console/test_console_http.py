"""The console's web security and error pages, against the sandbox, request by request.

People sign in once with Playwright (the real Keycloak login); the test then takes the
session cookie from the browser and sends raw requests with httpx2, setting the Cookie
header itself (the cookie is ``Secure`` and the bridge is plain http on loopback).
"""

from __future__ import annotations

import re
import ssl
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from keycloak import KeycloakAdmin
from playwright.sync_api import Page

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import console_client, record, users
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.console import admin as console_admin
from keycloak_duo_bridge.console.state import ADMIN, Session
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.settings import Settings, cookie_ring
from tests.fixtures_bridge import APP2_ID, Bridge, Tenant, TenantFactory
from tests.fixtures_console import (
    CSRF,
    Browserless,
    Provider,
    keycloak_sign_in,
    location,
    sign_in,
    sign_in_as_master,
)

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]

POLICY = (
    attr.DUO_USER_MODE,
    attr.DUO_FAIL_MODE,
    attr.DUO_REMEMBER,
    attr.DUO_BYPASS_GROUPS,
    attr.DUO_SELF_DEACTIVATE,
    attr.DUO_SELF_PHONES,
)


def set_cookie(response: httpx2.Response, name: str) -> str:
    """The Set-Cookie header that sets (or deletes) cookie ``name``."""
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(found) == 1, response.headers
    return found[0]


def cookie_value(header: str) -> str:
    return header.split(";", 1)[0].partition("=")[2].strip('"')


def realm_attributes(keycloak: Keycloak, realm: str) -> dict[str, str]:
    return dict(keycloak.get_realm(realm).get("attributes") or {})


# -- signing in ---------------------------------------------------------------------------


def test_session_cookie_is_secure_httponly_lax_and_scoped(page: Page, provider: Provider) -> None:
    """After sign-in the session cookie is Secure, HttpOnly, SameSite=Lax, path /admin."""
    sign_in(page, provider.bridge, ADMIN, provider.partner, provider.admin_user)
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["kdb_admin_session"]
    assert (session["secure"], session["httpOnly"], session["sameSite"]) == (True, True, "Lax")
    assert session["path"] == "/admin"
    assert "kdb_admin_sign_in" not in cookies  # deleted once used


def test_sign_in_request_carries_pkce_and_a_scoped_sign_in_cookie(bridge: Bridge) -> None:
    """Sign-in redirects to the realm with PKCE S256, state and nonce; its cookie is scoped."""
    client = Browserless(bridge.url)
    response = client.get("/admin/login?realm=master")
    assert response.status_code == 302
    url = urlsplit(location(response))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path.endswith("/realms/master/protocol/openid-connect/auth")
    assert query["code_challenge_method"] == "S256"
    assert query["client_id"] == "kdb-console"
    assert query["redirect_uri"] == f"{bridge.url.rstrip('/')}/admin/callback"
    assert {"state", "nonce", "code_challenge"} <= set(query)
    header = set_cookie(response, "kdb_admin_sign_in").lower()
    for flag in ("secure", "httponly", "samesite=lax", "path=/admin/callback", "max-age=600"):
        assert flag in header
    assert "form-action 'self' http://127.0.0.1" in response.headers["content-security-policy"]


def test_sign_in_refuses_bad_and_unknown_realms(bridge: Bridge) -> None:
    """A malformed realm is 400; an unknown realm 404; master has no self-service (404)."""
    client = Browserless(bridge.url)
    assert client.get("/admin/login?realm=no%20such/realm").status_code == 400
    assert client.get("/admin/login").status_code == 400
    unknown = client.get("/admin/login?realm=no-such-realm-at-all")
    assert unknown.status_code == 404
    assert "No sign-in here" in unknown.text
    redirect = client.get("/account/duo/?realm=master")
    assert location(redirect) == "/account/duo/login?realm=master"
    assert client.get(location(redirect)).status_code == 404
    assert client.get("/account/duo/login?realm=no-such-realm-at-all").status_code == 404


def test_callback_refuses_what_is_not_this_sign_in(bridge: Bridge) -> None:
    """Callback without the sign-in cookie, with a wrong state, another part's cookie or error=."""
    client = Browserless(bridge.url)
    started = client.get("/admin/login?realm=master")
    sealed = cookie_value(set_cookie(started, "kdb_admin_sign_in"))
    state = parse_qs(urlsplit(location(started)).query)["state"][0]

    no_cookie = client.get(f"/admin/callback?code=c&state={state}")
    assert no_cookie.status_code == 400
    assert "Please sign in again" in no_cookie.text
    client.cookies = {"kdb_admin_sign_in": sealed}
    wrong_state = client.get("/admin/callback?code=c&state=not-the-state")
    assert (wrong_state.status_code, "Please sign in again" in wrong_state.text) == (400, True)
    no_code = client.get(f"/admin/callback?state={state}")
    assert (no_code.status_code, "Please sign in again" in no_code.text) == (400, True)
    refused = client.get("/admin/callback?error=access_denied&state=x")
    assert (refused.status_code, "Not signed in" in refused.text) == (400, True)
    assert 'href="/admin/"' in refused.text  # start again
    client.cookies = {"kdb_account_sign_in": sealed}  # an admin sign-in at the account part
    other_part = client.get(f"/account/duo/callback?code=c&state={state}")
    assert (other_part.status_code, "Please sign in again" in other_part.text) == (400, True)


def test_callback_with_a_code_keycloak_refuses(bridge: Bridge) -> None:
    """A made-up code with the right state: Keycloak refuses it, the person is not signed in."""
    client = Browserless(bridge.url)
    started = client.get("/admin/login?realm=master")
    client.cookies = {"kdb_admin_sign_in": cookie_value(set_cookie(started, "kdb_admin_sign_in"))}
    state = parse_qs(urlsplit(location(started)).query)["state"][0]
    response = client.get(f"/admin/callback?code=made-up&state={state}")
    assert response.status_code == 400
    assert "Keycloak refused the sign-in (invalid_grant)" in response.text
    assert "set-cookie" not in response.headers


# -- sessions and forms -------------------------------------------------------------------


def test_forms_refuse_missing_or_wrong_csrf_and_foreign_origins(
    page: Page, provider: Provider, admin_keycloak: Keycloak
) -> None:
    """A POST without the CSRF token, with a wrong one, or from another origin: 403, no change."""
    admin = sign_in(page, provider.bridge, ADMIN, provider.partner, provider.admin_user)
    path = f"/admin/tenants/{provider.client}/duo/policy"
    before = realm_attributes(admin_keycloak, provider.client)
    change = {"user_mode": "opt-in", "remember": "30"}
    refusals = {
        "no token": admin.post(path, change, csrf=""),
        "wrong token": admin.post(path, change, csrf="x" * 43),
        "foreign origin": admin.post(path, change, origin="https://evil.example"),
        "null origin": admin.post(path, change, origin="null"),
    }
    for name, response in refusals.items():
        assert response.status_code == 403, name
        assert "Refused" in response.text
    big = admin.post(path, {**change, "bypass_groups": "/g\n" * 6000})
    assert big.status_code == 403
    signed_out = Browserless(provider.bridge.url).post(path, change, csrf="x")
    assert signed_out.status_code == 401
    assert realm_attributes(admin_keycloak, provider.client) == before
    logout = admin.post("/admin/logout", csrf="wrong")
    assert logout.status_code == 403
    assert "set-cookie" not in logout.headers


def test_tampered_expired_or_foreign_sessions_count_as_signed_out(
    page: Page, provider: Provider
) -> None:
    """An altered, expired or other-part session cookie is no session at all."""
    admin = sign_in(page, provider.bridge, ADMIN, provider.partner, provider.admin_user)
    sealed = admin.cookies["kdb_admin_session"]
    key = cookie_ring(provider.settings)
    expired = Session.of(ADMIN, provider.partner, "sub", expires=int(time.time()) - 1).seal(key)
    flipped = sealed[:-5] + ("A" if sealed[-5] != "A" else "B") + sealed[-4:]
    tenant_page = f"/admin/tenants/{provider.client}"
    for value in (flipped, expired, sealed[:40], "x" * 5000):
        admin.cookies = {"kdb_admin_session": value}
        assert "Sign in with Keycloak" in admin.get("/admin/").text
        assert location(admin.get(tenant_page)) == "/admin/"
        assert admin.post(f"{tenant_page}/duo/enabled", {"enabled": "off"}).status_code == 401
    admin.cookies = {"kdb_account_session": sealed}  # an admin session at the account part
    assert "Sign in with Keycloak" in admin.get("/account/duo/").text
    admin.cookies = {"kdb_admin_session": sealed}
    assert admin.get(tenant_page).status_code == 200


def test_security_headers_on_every_page_and_redirect(page: Page, provider: Provider) -> None:
    """Every console answer (pages, refusals, redirects, the style sheet) has the headers."""
    anonymous = Browserless(provider.bridge.url)
    for path in (
        "/admin/",
        "/account/duo/",
        "/account/duo/?realm=x",
        "/admin/tenants/x",
        "/admin/static/console.css",
        "/account/duo/static/console.css",
        "/admin/callback",
        "/account/duo/duo-callback",
        "/admin/no-such-page",
        "/admin/logout",
    ):
        anonymous.get(path)  # asserts the headers
    assert (
        "frame-ancestors 'none'"
        in anonymous.get("/admin/static/console.css").headers["content-security-policy"]
    )
    admin = sign_in(page, provider.bridge, ADMIN, provider.partner, provider.admin_user)
    for path in (
        "/admin/",
        f"/admin/tenants/{provider.client}",
        f"/admin/tenants/{provider.partner}",
    ):
        assert admin.get(path).status_code == 200
    assert admin.get("/admin/tenants/master").status_code == 403
    assert admin.post("/admin/tenants/master/duo/enabled", {"enabled": "off"}).status_code == 403
    assert (
        admin.post(f"/admin/tenants/{provider.client}/apps/{APP2_ID}", {"mode": "off"}).status_code
        == 303
    )


def test_logout_clears_the_session_and_ends_keycloaks(page: Page, provider: Provider) -> None:
    """Sign-out deletes the session cookie and sends the browser to the realm's logout, with
    the ID token, back to the bridge's signed-out page."""
    admin = sign_in(page, provider.bridge, ADMIN, provider.partner, provider.admin_user)
    response = admin.post("/admin/logout")
    url = urlsplit(location(response))
    assert url.path == f"/realms/{provider.partner}/protocol/openid-connect/logout"
    query = parse_qs(url.query)
    [id_token] = query.pop("id_token_hint")
    assert id_token.count(".") == 2
    assert query == {
        "client_id": ["kdb-console"],
        "post_logout_redirect_uri": [f"{provider.bridge.url.rstrip('/')}/admin/signed-out"],
        "state": [provider.partner],
    }
    deleted = set_cookie(response, "kdb_admin_session").lower()
    assert "max-age=0" in deleted
    assert "path=/admin" in deleted
    page.goto(f"{provider.bridge.url}/admin/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{provider.bridge.url}/admin/signed-out?state={provider.partner}")
    assert "kdb_admin_session" not in {c["name"] for c in page.context.cookies()}
    page.goto(f"{provider.bridge.url}/admin/")
    assert page.get_by_role("button", name="Sign in with Keycloak").is_visible()


# -- the admin pages ----------------------------------------------------------------------


def test_master_admin_sees_every_tenant(
    page: Page, provider: Provider, duo_tenant: TenantFactory, stack_settings: Settings
) -> None:
    """The sandbox's master admin sees all partners and clients; a non-tenant realm is 404."""
    tenant = duo_tenant(user_mode="opt-in")
    admin = sign_in_as_master(page, provider.bridge, stack_settings)
    home = admin.get("/admin/").text
    for realm in (provider.partner, provider.client, tenant.partner, tenant.realm):
        assert f'href="/admin/tenants/{realm}"' in home
    opt_in = admin.get(f"/admin/tenants/{tenant.realm}").text
    assert "Duo for users who activated it" in opt_in
    assert "Duo required" not in opt_in
    missing = admin.get("/admin/tenants/master")
    assert (missing.status_code, "Unknown realm" in missing.text) == (404, True)
    assert admin.get("/admin/tenants/no-such-realm-x").status_code == 404


def test_policy_form_saves_and_bad_values_are_shown(
    page: Page, provider: Provider, admin_keycloak: Keycloak
) -> None:
    """The policy form writes the realm's attributes; remember=abc is 400 with the error shown."""
    admin = sign_in(page, provider.bridge, ADMIN, provider.partner, provider.admin_user)
    path = f"/admin/tenants/{provider.client}/duo/policy"
    policy = {
        "user_mode": "opt-in",
        "fail_mode": "open",
        "remember": "30",
        "bypass_groups": "/staff\r\n\r\n /ops/oncall \r\n",
        "self_deactivate": "true",
        "self_phones": "manage",
    }
    saved = admin.post(path, policy)
    assert location(saved) == f"/admin/tenants/{provider.client}?notice=policy"
    assert "The policy is saved." in admin.get(location(saved)).text
    stored = realm_attributes(admin_keycloak, provider.client)
    assert {k: stored.get(k) for k in POLICY} == {
        attr.DUO_USER_MODE: "opt-in",
        attr.DUO_FAIL_MODE: "open",
        attr.DUO_REMEMBER: "30",
        attr.DUO_BYPASS_GROUPS: '["/ops/oncall", "/staff"]',
        attr.DUO_SELF_DEACTIVATE: "true",
        attr.DUO_SELF_PHONES: "manage",
    }
    assert location(admin.post(path, policy)).endswith("?notice=unchanged")
    for bad in (
        {"remember": "abc"},
        {"user_mode": "sometimes"},
        {"bypass_groups": "staff"},
        {"self_phones": "everything"},
    ):
        refused = admin.post(path, {**policy, **bad})
        assert refused.status_code == 400, bad
        assert 'role="alert"' in refused.text
    assert (
        "remember must be session, every-login or minutes"
        in admin.post(path, {**policy, "remember": "abc"}).text
    )
    assert realm_attributes(admin_keycloak, provider.client) == stored
    inherit = {"user_mode": "inherit", "fail_mode": "", "remember": "", "bypass_groups": ""}
    assert location(admin.post(path, inherit)).endswith("?notice=policy")
    assert attr.DUO_USER_MODE not in realm_attributes(admin_keycloak, provider.client)


def test_switch_credentials_and_app_forms(
    page: Page, provider: Provider, admin_keycloak: Keycloak
) -> None:
    """Switch: inherit refused for a partner, on refused without keys; bad keys and apps 400;
    stored keys can be removed. The partner's page preselects its current state, and both
    pages head alike."""
    admin = sign_in(page, provider.bridge, ADMIN, provider.partner, provider.admin_user)
    partner, client = (f"/admin/tenants/{r}" for r in (provider.partner, provider.client))
    suffix = provider.client[3:]
    headings = {
        partner: (f"Partner {suffix}", "Duo Security MFA Configuration", "off"),
        client: (f"Client {suffix}", "Authentication Mechanism", "inherit"),
    }
    for path, (title, panel, preselected) in headings.items():
        shown = admin.get(path).text
        assert "(now off" in shown
        assert re.findall(r'name="enabled" value="(\w+)"\s*checked', shown) == [preselected]
        assert f"<h1>{title}</h1>" in shown
        assert f'<h2 id="mechanism">{panel}</h2>' in shown
    inherit = admin.post(f"{partner}/duo/enabled", {"enabled": "inherit"})
    assert (inherit.status_code, "choose on or off" in inherit.text) == (400, True)
    assert "or inherit" not in inherit.text
    assert admin.post(f"{client}/duo/enabled", {"enabled": "maybe"}).status_code == 400
    no_keys = admin.post(f"{client}/duo/enabled", {"enabled": "on"})
    assert no_keys.status_code == 400
    assert location(admin.post(f"{client}/duo/enabled", {"enabled": "inherit"})).endswith(
        "?notice=switched"
    )
    assert attr.DUO_ENABLED not in realm_attributes(admin_keycloak, provider.client)

    creds = provider.integration
    typed = {"ikey": creds.client_id, "skey": "y" * 40, "api_host": "not a host!"}
    bad_host = admin.post(f"{client}/duo/credentials", typed)
    assert bad_host.status_code == 400
    assert "y" * 40 not in bad_host.text
    assert f'value="{creds.client_id}"' in bad_host.text  # what was typed, but never the skey
    too_long = admin.post(f"{client}/duo/credentials", {**typed, "ikey": "D" * 600})
    assert (too_long.status_code, "ikey is too long" in too_long.text) == (400, True)
    dead_host = f"127.0.0.1:{free_port()}"
    unreachable = {"ikey": creds.client_id, "skey": creds.client_secret, "api_host": dead_host}
    refused = admin.post(f"{client}/duo/credentials", unreachable)
    assert (refused.status_code, "nothing saved" in refused.text) == (400, True)
    assert attr.DUO_IKEY not in realm_attributes(admin_keycloak, provider.client)
    saved = admin.post(f"{client}/duo/credentials", {**unreachable, "allow_unverified": "yes"})
    assert location(saved).endswith("?notice=credentials")
    stored = realm_attributes(admin_keycloak, provider.client)
    assert stored[attr.DUO_API_HOST] == dead_host
    assert creds.client_secret not in str(stored)
    assert "Remove credentials" in admin.get(location(saved)).text
    cleared = admin.post(f"{client}/duo/credentials/clear")
    assert location(cleared).endswith("?notice=credentials_cleared")
    assert attr.DUO_SKEY not in realm_attributes(admin_keycloak, provider.client)
    again = admin.post(f"{client}/duo/credentials/clear")
    assert location(again).endswith("?notice=unchanged")

    assert admin.post(f"{client}/apps/{APP2_ID}", {"mode": "maybe"}).status_code == 400
    assert admin.post(f"{client}/apps/no-such-app", {"mode": "off"}).status_code == 400
    assert location(admin.post(f"{client}/apps/{APP2_ID}", {"mode": "off"})).endswith("?notice=app")
    assert location(admin.post(f"{client}/apps/{APP2_ID}", {"mode": "off"})).endswith(
        "?notice=unchanged"
    )


def test_test_connection_with_the_stored_key_or_none(
    page: Page,
    provider: Provider,
    duo_tenant: TenantFactory,
    admin_keycloak: Keycloak,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Test connection: a blank skey uses the stored one; none stored, or unreadable, is 400.
    Its result comes after a redirect (Reload does not test again), for this realm only."""
    tenant = duo_tenant()
    admin = sign_in_as_master(page, provider.bridge, provider.bridge.settings)
    stored = admin.post(f"/admin/tenants/{tenant.realm}/duo/test", {"skey": ""})
    assert stored.status_code == 303
    shown = admin.get(location(stored))
    assert (shown.status_code, "<strong>Works:</strong>" in shown.text) == (200, True)
    dead_host = f"127.0.0.1:{free_port()}"
    dead = admin.post(f"/admin/tenants/{tenant.realm}/duo/test", {"api_host": dead_host})
    dead_page = admin.get(location(dead)).text
    assert "<strong>Duo unreachable:</strong>" in dead_page
    assert f'value="{dead_host}"' in dead_page  # what was typed is kept
    sealed = parse_qs(urlsplit(location(dead)).query)["tested"][0]
    elsewhere = admin.get(f"/admin/tenants/{provider.client}?{urlencode({'tested': sealed})}")
    assert "Duo unreachable" not in elsewhere.text
    altered = admin.get(f"/admin/tenants/{tenant.realm}?{urlencode({'tested': 'x' + sealed})}").text
    assert "Duo unreachable" not in altered
    monkeypatch.setattr(console_admin, "TESTED_LIFETIME", -1)
    stale = admin.post(f"/admin/tenants/{tenant.realm}/duo/test", {"api_host": dead_host})
    assert "Duo unreachable" not in admin.get(location(stale)).text
    none = admin.post(f"/admin/tenants/{provider.client}/duo/test", {"skey": ""})
    assert none.status_code == 400
    assert "none is stored here" in none.text
    record.store(admin_keycloak, tenant.realm, {attr.DUO_SKEY: "garbage"})
    try:
        unreadable = admin.post(f"/admin/tenants/{tenant.realm}/duo/test", {"skey": ""})
        assert (unreadable.status_code, "cannot be read" in unreadable.text) == (400, True)
    finally:  # `keys check` over the whole Keycloak (docs/tenants.md) must not meet it
        record.store(admin_keycloak, tenant.realm, {attr.DUO_SKEY: None})


def test_stored_garbage_bypass_groups_show_as_none(
    page: Page, provider: Provider, admin_keycloak: Keycloak
) -> None:
    """A tenant page still renders when the stored bypass groups are not a JSON list."""
    record.store(admin_keycloak, provider.client, {attr.DUO_BYPASS_GROUPS: "not json"})
    admin = sign_in(page, provider.bridge, ADMIN, provider.partner, provider.admin_user)
    shown = admin.get(f"/admin/tenants/{provider.client}")
    assert shown.status_code == 200
    assert (
        '<textarea id="bypass_groups" name="bypass_groups" rows="3" spellcheck="false"></textarea>'
        in shown.text
    )


# -- self-service -------------------------------------------------------------------------


def emulator_http(emulator: RunningEmulator) -> httpx2.Client:
    """A client for the Duo emulator's prompt, trusting its CA."""
    return httpx2.Client(
        verify=ssl.create_default_context(cafile=str(emulator.ca_path)), follow_redirects=False
    )


def activate(user: Browserless, emulator: RunningEmulator) -> httpx2.Response:
    """Activate Duo; the emulator answers headlessly; the bridge's answer to Duo's callback."""
    started = user.post("/account/duo/activate")
    sealed = cookie_value(set_cookie(started, "kdb_account_activation"))
    with emulator_http(emulator) as duo:
        callback = location(duo.get(location(started)))
    user.cookies["kdb_account_activation"] = sealed
    try:
        return user.get(callback.removeprefix(user.bridge_url.rstrip("/")))
    finally:
        del user.cookies["kdb_account_activation"]


def activated(tenant: Tenant, keycloak: Keycloak, username: str) -> bool:
    return users.status(keycloak, tenant.realm, username).activated


def test_activation_refuses_bad_state_errors_and_deny(
    page: Page,
    bridge: Bridge,
    duo_tenant: TenantFactory,
    duo_emulator: RunningEmulator,
    admin_keycloak: Keycloak,
) -> None:
    """Duo's callback: bad state, error=, a made-up code or a deny activate nothing; allow does."""
    tenant = duo_tenant(user_mode="opt-in")
    tenant.user("vera", behavior="deny")
    user = sign_in(page, bridge, "account", tenant.realm, "vera")
    assert 'id="duo-status">Not activated' in user.get("/account/duo/").text
    started = user.post("/account/duo/activate")
    duo_url = location(started)
    assert duo_url.startswith(f"https://{tenant.integration.api_host}/oauth/v1/authorize?")
    assert f"https://{tenant.integration.api_host}" in started.headers["content-security-policy"]
    header = set_cookie(started, "kdb_account_activation")
    for flag in ("secure", "httponly", "samesite=lax", "path=/account/duo/duo-callback"):
        assert flag in header.lower()
    user.cookies["kdb_account_activation"] = cookie_value(header)
    with emulator_http(duo_emulator) as duo:
        callback = urlsplit(location(duo.get(duo_url)))
    state = parse_qs(callback.query)["state"][0]
    refusals = {
        "bad state": (
            "/account/duo/duo-callback?state=wrong&duo_code=x",
            400,
            "Please start again",
        ),
        "error": (
            f"/account/duo/duo-callback?state={state}&error=access_denied",
            400,
            "Duo did not confirm",
        ),
        "no code": (f"/account/duo/duo-callback?state={state}", 400, "Duo did not confirm"),
        "made-up code": (
            f"/account/duo/duo-callback?state={state}&duo_code=made-up",
            502,
            "could not be confirmed",
        ),
        "deny": (f"{callback.path}?{callback.query}", 403, "Duo did not allow it"),
    }
    for name, (path, status, text) in refusals.items():
        response = user.get(path)
        assert (response.status_code, text in response.text) == (status, True), name
    assert not activated(tenant, admin_keycloak, "vera")
    record.store(admin_keycloak, tenant.realm, {attr.DUO_ENABLED: "false"})  # off meanwhile
    off = user.get(f"{callback.path}?{callback.query}")
    assert (off.status_code, "Duo is off" in off.text) == (400, True)
    record.store(admin_keycloak, tenant.realm, {attr.DUO_ENABLED: "true"})
    session_only = Browserless(
        bridge.url, {"kdb_account_session": user.cookies["kdb_account_session"]}
    )
    assert session_only.get(f"{callback.path}?{callback.query}").status_code == 400
    anonymous = Browserless(
        bridge.url, {"kdb_account_activation": user.cookies["kdb_account_activation"]}
    )
    assert anonymous.get(f"{callback.path}?{callback.query}").status_code == 400
    del user.cookies["kdb_account_activation"]

    duo_emulator.control.set_user("vera", behavior="allow", enrolled=True)
    done = activate(user, duo_emulator)
    assert location(done) == "/account/duo/?notice=activated"
    assert "max-age=0" in set_cookie(done, "kdb_account_activation").lower()
    assert activated(tenant, admin_keycloak, "vera")
    shown = user.get(location(done)).text
    assert 'id="duo-status">Activated' in shown
    assert "Duo is activated" in shown
    refused = user.post("/account/duo/deactivate")
    assert (refused.status_code, "Not allowed" in refused.text) == (403, True)
    assert activated(tenant, admin_keycloak, "vera")


def test_self_deactivation_where_the_realm_allows_it(
    page: Page, bridge: Bridge, duo_tenant: TenantFactory, admin_keycloak: Keycloak
) -> None:
    """Where the realm allows it, an activated user deactivates Duo; the forms are guarded."""
    tenant = duo_tenant(user_mode="opt-in", self_deactivate="true")
    tenant.user("walt")
    users.set_activated(admin_keycloak, tenant.realm, "walt", activated=True)
    user = sign_in(page, bridge, "account", tenant.realm, "walt")
    assert user.post("/account/duo/deactivate", csrf="x").status_code == 403
    assert user.post("/account/duo/deactivate", origin="https://evil.example").status_code == 403
    assert activated(tenant, admin_keycloak, "walt")
    done = user.post("/account/duo/deactivate")
    assert location(done) == "/account/duo/?notice=deactivated"
    assert not activated(tenant, admin_keycloak, "walt")
    assert "Duo is deactivated." in user.get(location(done)).text
    other = user.get(f"/account/duo/?realm={tenant.partner}")
    assert location(other) == f"/account/duo/login?realm={tenant.partner}"
    assert user.get(f"/account/duo/?realm={tenant.realm}").status_code == 200
    logout = user.post("/account/duo/logout")
    assert f"/realms/{tenant.realm}/protocol/openid-connect/logout" in location(logout)
    assert "path=/account/duo" in set_cookie(logout, "kdb_account_session").lower()


def test_activation_when_duo_is_off_misconfigured_or_unreachable(  # noqa: PLR0917
    page: Page,
    bridge: Bridge,
    duo_tenant: TenantFactory,
    provider: Provider,
    duo_emulator: RunningEmulator,
    admin_keycloak: Keycloak,
) -> None:
    """Activate: Duo off is 400, an unreadable skey 503 (not set up), a dead API host 503."""
    tenant = duo_tenant(user_mode="opt-in", self_deactivate="true")
    tenant.user("xena")
    user = sign_in(page, bridge, "account", tenant.realm, "xena")
    record.store(admin_keycloak, tenant.realm, {attr.DUO_API_HOST: f"127.0.0.1:{free_port()}"})
    dead = user.post("/account/duo/activate")
    assert (dead.status_code, "Duo is unreachable" in dead.text) == (503, True)
    record.store(admin_keycloak, tenant.realm, {attr.DUO_SKEY: "garbage"})
    try:
        broken = user.post("/account/duo/activate")
        assert (broken.status_code, "Duo is not set up" in broken.text) == (503, True)
        assert "set-cookie" not in broken.headers
    finally:  # `keys check` over the whole Keycloak (docs/tenants.md) must not meet it
        record.store(admin_keycloak, tenant.realm, {attr.DUO_SKEY: None})

    provider.user(duo_emulator, "yuri")
    page.context.clear_cookies()
    off = sign_in(page, bridge, "account", provider.client, "yuri")
    for action in ("activate", "deactivate"):
        response = off.post(f"/account/duo/{action}")
        assert (response.status_code, "Duo is off" in response.text) == (400, True)


# -- the console's sign-in client -----------------------------------------------------------


def test_console_client_follows_the_bridge_url(
    provider: Provider, admin_keycloak: Keycloak
) -> None:
    """The kdb-console client is created once, left alone, then brought to a new bridge URL."""
    realm = provider.client
    assert console_client.ensure(admin_keycloak, realm, "http://a.example") is True
    assert console_client.ensure(admin_keycloak, realm, "http://a.example/") is False
    current = admin_keycloak.find_client(realm, console_client.CLIENT_ID)
    assert current is not None
    current["attributes"]["kept.attribute"] = "yes"
    current["directAccessGrantsEnabled"] = True
    admin_keycloak.update_client(realm, str(current["id"]), current)
    assert console_client.ensure(admin_keycloak, realm, "http://a.example") is True
    assert console_client.ensure(admin_keycloak, realm, "http://b.example") is True
    updated = admin_keycloak.find_client(realm, console_client.CLIENT_ID)
    assert updated is not None
    assert sorted(updated["redirectUris"]) == [
        "http://b.example/account/duo/callback",
        "http://b.example/admin/callback",
    ]
    assert updated["directAccessGrantsEnabled"] is False
    assert updated["attributes"]["kept.attribute"] == "yes"
    assert updated["attributes"]["pkce.code.challenge.method"] == "S256"
    provisioned = console_client.provision(admin_keycloak, realm, "http://b.example")
    assert provisioned.secret == admin_keycloak.get_client_secret(realm, str(updated["id"]))
    assert provisioned.secret not in repr(provisioned)


# -- issue 12: who the user is comes from Keycloak; no client is made on a request ---------


def claim_mapper(claim: str, value: str, json_type: str = "String") -> dict[str, Any]:
    """A hardcoded-claim mapper: every token of the client carries ``claim`` = ``value``."""
    return {
        "name": f"forged {claim}",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-hardcoded-claim-mapper",
        "config": {
            "claim.name": claim,
            "claim.value": value,
            "jsonType.label": json_type,
            "access.token.claim": "true",
            "id.token.claim": "true",
            "introspection.token.claim": "true",
            "userinfo.token.claim": "false",
        },
    }


def add_console_mapper(tenant: Tenant, mapper: dict[str, Any]) -> None:
    """Put ``mapper`` on the realm's kdb-console client (what a manage-clients admin may do)."""
    kc = tenant.admin()
    kc.add_mapper_to_client(str(kc.get_client_id(console_client.CLIENT_ID)), mapper)


def try_sign_in(page: Page, bridge: Bridge, realm: str, username: str) -> Browserless | None:
    """Sign in to the self-service page; None when the console refused the sign-in."""
    page.context.clear_cookies()
    page.goto(f"{bridge.url}/account/duo/login?realm={realm}")
    keycloak_sign_in(page, username)
    page.wait_for_url(f"{bridge.url}/account/duo/**")
    found = [c for c in page.context.cookies() if c["name"] == "kdb_account_session"]
    if not found:
        return None
    client = Browserless(bridge.url, {"kdb_account_session": found[0]["value"]})
    match = CSRF.search(client.get("/account/duo/").text)
    assert match is not None
    client.csrf = match.group(1)
    return client


def test_item1_mapper_set_preferred_username_does_not_change_the_self_service_user(
    page: Page, bridge: Bridge, duo_tenant: TenantFactory, admin_keycloak: Keycloak
) -> None:
    """A mapper naming victor in the console's tokens: mallory's page acts for mallory, and
    victor's Duo activation is untouched."""
    tenant = duo_tenant(user_mode="opt-in", self_deactivate="true")
    for name in ("victor", "mallory"):
        tenant.user(name)
        users.set_activated(admin_keycloak, tenant.realm, name, activated=True)
    add_console_mapper(tenant, claim_mapper("preferred_username", "victor"))
    user = try_sign_in(page, bridge, tenant.realm, "mallory")
    assert user is not None, page.content()
    shown = user.get("/account/duo/").text
    assert "Signed in as <strong>mallory</strong>" in shown
    assert "victor" not in shown
    assert location(user.post("/account/duo/deactivate")) == "/account/duo/?notice=deactivated"
    assert not activated(tenant, admin_keycloak, "mallory")
    assert activated(tenant, admin_keycloak, "victor")


def test_item1_console_refuses_tokens_repeating_a_claim(
    page: Page, bridge: Bridge, duo_tenant: TenantFactory, admin_keycloak: Keycloak
) -> None:
    """A mapper that makes Keycloak write resource_access twice: the console signs nobody in."""
    tenant = duo_tenant(user_mode="opt-in", self_deactivate="true")
    tenant.user("mona")
    users.set_activated(admin_keycloak, tenant.realm, "mona", activated=True)
    grant = '{"realm-management":{"roles":["manage-realm"]}}'
    add_console_mapper(tenant, claim_mapper("resource_access", grant, "JSON"))
    assert try_sign_in(page, bridge, tenant.realm, "mona") is None
    assert "repeats a member name" in page.content()
    assert activated(tenant, admin_keycloak, "mona")


def test_item7_anonymous_sign_in_creates_no_client(
    bridge: Bridge, keycloak_admin: KeycloakAdmin, provider: Provider, admin_keycloak: Keycloak
) -> None:
    """Sign-in for a realm that is no tenant, or a tenant without the console client, is a
    clear 404 page, and no kdb-console client appears."""
    name = f"not-a-tenant-{uuid.uuid4().hex[:8]}"
    keycloak_admin.create_realm({"realm": name, "enabled": True})
    tenant_admin = KeycloakAdmin(
        server_url=provider.settings.keycloak_url,
        username=provider.settings.keycloak_admin_username,
        password=provider.settings.keycloak_admin_password.get_secret_value(),
        realm_name=provider.client,
        user_realm_name="master",
    )
    tenant_admin.delete_client(str(tenant_admin.get_client_id(console_client.CLIENT_ID)))
    anonymous = Browserless(bridge.url)
    try:
        for realm in (name, provider.client):
            for part in ("/admin", "/account/duo"):
                response = anonymous.get(f"{part}/login?realm={realm}")
                assert response.status_code == 404, (realm, part)
                assert "No sign-in here" in response.text
                assert "set-cookie" not in response.headers
            assert admin_keycloak.find_client(realm, console_client.CLIENT_ID) is None
    finally:
        keycloak_admin.delete_realm(name)


def test_the_idp_policy_form(page: Page, provider: Provider, admin_keycloak: Keycloak) -> None:
    """A realm's identity providers are listed with their Duo policy; trust needs a proof,
    off needs the confirmation box; a saved policy shows preselected."""
    idp_admin = KeycloakAdmin(
        server_url=provider.settings.keycloak_url,
        username=provider.settings.keycloak_admin_username,
        password=provider.settings.keycloak_admin_password.get_secret_value(),
        realm_name=provider.client,
        user_realm_name="master",
    )
    issuer = "https://partner-idp.example.test/realms/p"
    idp_admin.create_idp(
        {
            "alias": "partner-sso",
            "providerId": "oidc",
            "enabled": True,
            "config": {
                "issuer": issuer,
                "authorizationUrl": f"{issuer}/auth",
                "tokenUrl": f"{issuer}/token",
                "clientId": "broker",
                "clientSecret": "a-secret-for-the-test",
                "clientAuthMethod": "client_secret_post",
            },
        }
    )
    admin = sign_in(page, provider.bridge, ADMIN, provider.partner, provider.admin_user)
    client = f"/admin/tenants/{provider.client}"
    shown = admin.get(client).text
    assert "Identity providers" in shown
    assert re.findall(r'name="mode" value="([\w-]+)"\s*checked', shown)[-1] == "duo"
    path = f"{client}/idps/partner-sso"
    no_proof = admin.post(path, {"mode": "trust-upstream-mfa"})
    assert (no_proof.status_code, "needs its proof" in no_proof.text) == (400, True)
    unconfirmed = admin.post(path, {"mode": "off"})
    assert (unconfirmed.status_code, "confirm" in unconfirmed.text) == (400, True)
    assert attr.DUO_IDPS not in realm_attributes(admin_keycloak, provider.client)
    saved = admin.post(path, {"mode": "trust-upstream-mfa", "amr": "mfa hwk"})
    assert location(saved).endswith("?notice=idp")
    shown = admin.get(client).text
    assert 'value="mfa hwk"' in shown
    assert re.findall(r'name="mode" value="([\w-]+)"\s*checked', shown)[-1] == (
        "trust-upstream-mfa"
    )
    off = admin.post(path, {"mode": "off", "confirm_off": "yes"})
    assert location(off).endswith("?notice=idp")
    stored = realm_attributes(admin_keycloak, provider.client)[attr.DUO_IDPS]
    assert stored == '{"partner-sso":{"mode":"off"}}'
