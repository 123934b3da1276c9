"""A stand-in OIDC application for the demo: a login link, then the token's Duo claims."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from html import escape
from urllib.parse import urlencode

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge import jws

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
</head><body><main><h1>{title}</h1>{body}</main></body></html>"""


def create_demo_app(
    *, keycloak_url: str, realm: str, client_id: str, redirect_uri: str
) -> Starlette:
    base = f"{keycloak_url.rstrip('/')}/realms/{realm}/protocol/openid-connect"

    async def home(request: Request) -> Response:
        del request
        body = '<p><a href="/login">Sign in to the demo application</a></p>'
        return HTMLResponse(_PAGE.format(title="Demo application", body=body))

    async def login(request: Request) -> Response:
        del request
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        query = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        response = RedirectResponse(f"{base}/auth?{urlencode(query)}", status_code=302)
        response.set_cookie("demo_pkce", verifier, httponly=True, samesite="lax", max_age=600)
        return response

    async def callback(request: Request) -> Response:
        code = request.query_params.get("code")
        if not code:
            problem = escape(request.query_params.get("error_description", "no code"))
            return HTMLResponse(_PAGE.format(title="Sign-in failed", body=f"<p>{problem}</p>"))
        async with httpx2.AsyncClient(timeout=10) as client:
            answer = await client.post(
                f"{base}/token",
                data={
                    "grant_type": "authorization_code",
                    "client_id": client_id,
                    "redirect_uri": redirect_uri,
                    "code": code,
                    "code_verifier": request.cookies.get("demo_pkce", ""),
                },
            )
        if answer.status_code != httpx2.codes.OK:
            return HTMLResponse(
                _PAGE.format(title="Sign-in failed", body=f"<p>{escape(answer.text[:300])}</p>")
            )
        claims = jws.parse(answer.json()["id_token"]).claims  # shown, not trusted
        shown = escape(json.dumps(claims.get("duo", {}), indent=2))
        body = (
            f"<p>Signed in as <strong>{escape(str(claims.get('preferred_username')))}</strong>."
            f"</p><h2>The ID token's Duo claims</h2><pre>{shown}</pre>"
        )
        return HTMLResponse(_PAGE.format(title="Signed in", body=body))

    return Starlette(
        routes=[Route("/", home), Route("/login", login), Route("/callback", callback)]
    )
