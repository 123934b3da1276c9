"""A stand-in OIDC application for the demo: sign in, the token's Duo claims, sign out.

It is a public client with PKCE. A session lives in this process only (a cookie names it),
and holds the ID token, which sign-out sends to Keycloak as ``id_token_hint`` so that
Keycloak ends its own session without asking for confirmation.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge import jws

__all__ = ["SESSION_COOKIE", "create_demo_app"]

SESSION_COOKIE = "demo_session"
PKCE_COOKIE = "demo_pkce"
_STYLE = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1d2330;background:#f3f5f8}
main{max-width:40rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:.5rem;
box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin:0 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
pre{background:#f3f5f8;padding:.75rem;border-radius:.25rem;overflow-x:auto;
white-space:pre-wrap;word-break:break-word;font-size:.85rem}
a.button,button{display:inline-block;padding:.6rem 1rem;border:0;border-radius:.25rem;
background:#2456c7;color:#fff;font:inherit;text-decoration:none;cursor:pointer}
form{margin:1rem 0 0}
.note{color:#4a5366;font-size:.9rem}
@media (max-width:30rem){main{margin:0;border-radius:0;box-shadow:none;padding:1rem}}
"""
_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - Demo application</title><style>{style}</style></head>
<body><main><h1>{title}</h1>{body}</main></body></html>"""
_SIGN_IN = '<p><a class="button" id="sign-in" href="/login">Sign in to the demo application</a></p>'


@dataclass
class _Session:
    username: str
    id_token: str = field(repr=False)
    duo: dict[str, Any]


def _page(title: str, body: str, *, status_code: int = 200) -> HTMLResponse:
    html = _PAGE.format(title=escape(title), style=_STYLE, body=body)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


@dataclass
class _Demo:
    """The application's endpoints over its settings and its in-memory sessions."""

    base: str  # Keycloak's openid-connect URL for the realm
    client_id: str
    redirect_uri: str
    post_logout_redirect_uri: str
    transport: httpx2.AsyncBaseTransport | None
    self_service_url: str | None = None  # the bridge's /account/duo/?realm=… for this realm
    sessions: dict[str, _Session] = field(default_factory=dict)

    def self_service(self) -> str:
        """A link to the users' own Duo page, naming the realm (nobody types it there)."""
        if not self.self_service_url:
            return ""
        return (
            f'<p class="note"><a id="self-service" href="{escape(self.self_service_url)}">'
            "Manage your Duo two-factor sign-in</a></p>"
        )

    def current(self, request: Request) -> _Session | None:
        return self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))

    async def home(self, request: Request) -> Response:
        session = self.current(request)
        if session is None:
            return _page("Demo application", _SIGN_IN)
        shown = escape(json.dumps(session.duo, indent=2))
        body = (
            f"<p>Signed in as <strong>{escape(session.username)}</strong>.</p>"
            f"<h2>The ID token's Duo claims</h2><pre>{shown}</pre>"
            '<form method="post" action="/logout">'
            '<button id="sign-out" type="submit">Sign out</button></form>'
            f"{self.self_service()}"
        )
        return _page("Signed in", body)

    async def login(self, request: Request) -> Response:
        del request
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        query = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        response = RedirectResponse(f"{self.base}/auth?{urlencode(query)}", status_code=302)
        response.set_cookie(PKCE_COOKIE, verifier, httponly=True, samesite="lax", max_age=600)
        return response

    def failed(self, message: str, request: Request) -> Response:
        session = self.current(request)
        follow = (
            f'<p class="note">You are still signed in as {escape(session.username)}.</p>'
            '<p><a class="button" href="/">Back to the application</a></p>'
            if session is not None
            else '<p><a class="button" id="sign-in" href="/login">Sign in again</a></p>'
        )
        return _page("Sign-in did not finish", f"<p>{escape(message)}</p>{follow}")

    async def callback(self, request: Request) -> Response:
        code = request.query_params.get("code")
        if not code:
            problem = request.query_params.get("error_description") or "Keycloak sent no code."
            return self.failed(problem, request)
        async with httpx2.AsyncClient(timeout=10, transport=self.transport) as client:
            answer = await client.post(
                f"{self.base}/token",
                data={
                    "grant_type": "authorization_code",
                    "client_id": self.client_id,
                    "redirect_uri": self.redirect_uri,
                    "code": code,
                    "code_verifier": request.cookies.get(PKCE_COOKIE, ""),
                },
            )
        if answer.status_code != httpx2.codes.OK:
            return self.failed(_refusal(answer), request)
        id_token = str(answer.json()["id_token"])
        claims = jws.parse(id_token).claims  # shown, not trusted
        duo = claims.get("duo")
        key = secrets.token_urlsafe(32)
        self.sessions[key] = _Session(
            str(claims.get("preferred_username")), id_token, duo if isinstance(duo, dict) else {}
        )
        # Redirect after the exchange, so a reload shows the page, not a used code.
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, key, httponly=True, samesite="lax")
        response.delete_cookie(PKCE_COOKIE)
        return response

    async def logout(self, request: Request) -> Response:
        session = self.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        if session is None:
            response: Response = RedirectResponse("/signed-out", status_code=303)
        else:
            query = {
                "client_id": self.client_id,
                "id_token_hint": session.id_token,
                "post_logout_redirect_uri": self.post_logout_redirect_uri,
            }
            url = f"{self.base}/logout?{urlencode(query)}"
            response = RedirectResponse(url, status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    async def signed_out(self, request: Request) -> Response:
        del request
        body = "<p>You are signed out of the demo application and of Keycloak.</p>" + _SIGN_IN
        return _page("Signed out", body)


def _refusal(answer: httpx2.Response) -> str:
    """What to tell the person when Keycloak's token endpoint refuses the code."""
    try:
        error = answer.json().get("error")
    except ValueError:
        error = None
    if error == "invalid_grant":
        return (
            "This sign-in step was already used, or it expired. "
            "A reload or Back cannot repeat it: sign in again."
        )
    return f"Keycloak refused the sign-in (HTTP {answer.status_code})."


def create_demo_app(
    *,
    keycloak_url: str,
    realm: str,
    client_id: str,
    redirect_uri: str,
    post_logout_redirect_uri: str,
    transport: httpx2.AsyncBaseTransport | None = None,
    bridge_url: str | None = None,
) -> Starlette:
    """The demo application for ``client_id`` of ``realm``; ``transport`` is for tests.

    With ``bridge_url``, a signed-in page links to the users' own Duo page at the bridge,
    with the realm in the link, so nobody types a realm name there."""
    base = f"{keycloak_url.rstrip('/')}/realms/{realm}/protocol/openid-connect"
    self_service = (
        f"{bridge_url.rstrip('/')}/account/duo/?{urlencode({'realm': realm})}"
        if bridge_url
        else None
    )
    demo = _Demo(base, client_id, redirect_uri, post_logout_redirect_uri, transport, self_service)
    return Starlette(
        routes=[
            Route("/", demo.home),
            Route("/login", demo.login),
            Route("/callback", demo.callback),
            Route("/logout", demo.logout, methods=["POST"]),
            Route("/signed-out", demo.signed_out),
        ]
    )
