"""The few HTML pages a person may see at the bridge: all of them say what to do next.

They speak to the person signing in, in plain words, and always offer a way back: a link that
starts the sign-in again at Keycloak when the bridge knows the login, and otherwise the advice
to go back to the application. The technical reason goes to the log, never to the page.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Final
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.responses import HTMLResponse

# The console's look (keycloak_duo_bridge/console/static/console.css), inline so the page
# needs no other request, and allowed by its hash alone.
_STYLE: Final = (
    ":root{--ink:#1b1f23;--muted:#4a5159;--line:#c9d1d9;--accent:#0b5cad;--bad:#a4161a}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:16px/1.5 system-ui,sans-serif;color:var(--ink);background:#f6f8fa}"
    ".bar{padding:.5rem 1.5rem;background:#fff;border-bottom:1px solid var(--line)}"
    ".brand{font-weight:700;margin:0}"
    "main{max-width:40rem;margin:1.5rem auto;padding:0 1rem}"
    ".panel{background:#fff;border:1px solid var(--line);border-left:4px solid var(--bad);"
    "border-radius:6px;padding:1rem 1.5rem}"
    "h1{margin-top:0;font-size:1.6rem}"
    "a{color:var(--accent)}"
    "a:focus{outline:3px solid #f0b400;outline-offset:2px}"
    "a.button{display:inline-block;padding:.4rem 1rem;border-radius:4px;background:var(--accent);"
    "color:#fff;text-decoration:none}"
    ".help{color:var(--muted);font-size:.9rem}"
)
_STYLE_HASH: Final = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
CSP: Final = f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; frame-ancestors 'none'"

_PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · Sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{style}</style></head>
<body><header class="bar"><p class="brand">Duo two-factor sign-in</p></header>
<main><div class="panel"><h1>{title}</h1><p>{message}</p>{way_back}</div></main></body></html>
"""

NO_LINK: Final = "Go back to the application you were signing in to and sign in again from there."

# What a refusal means to the person, by what went wrong (the log keeps the exact reason).
EXPIRED: Final = "This sign-in took too long and has expired."
OTHER_BROWSER: Final = (
    "This sign-in was not started in this browser, or it has expired. "
    "Finish it in the browser where you started it, or start again."
)
NEWER_SIGN_IN: Final = (
    "Another sign-in was started in this browser since this one, so this one cannot finish. "
    "Finish the newest one, or start again."
)
DAMAGED: Final = "This sign-in cannot continue: the information your browser sent back is damaged."
BAD_LINK: Final = "The link that brought you here is not valid, or it has expired."
UNVERIFIABLE: Final = "Your sign-in cannot be checked right now. Please try again shortly."
BAD_DUO_ANSWER: Final = "Duo's answer could not be used, so this sign-in cannot continue."
ALREADY_USED: Final = (
    "This sign-in step was already used. A reload, the Back button or a second tab cannot "
    "repeat it."
)
IN_PROGRESS: Final = (
    "This sign-in is already waiting for Duo in another tab or window. Finish it there. "
    "If you closed it, start again."
)


def restart_url(issuer: str, return_url: str) -> str | None:
    """Keycloak's "start this login again" address for a login, from its return URL.

    The return URL (already checked to be under the realm's ``login-actions``) names the
    application and the browser tab; without them there is no login to restart.
    """
    query = parse_qs(urlsplit(return_url).query)
    client_id = query.get("client_id", [""])[0]
    tab_id = query.get("tab_id", [""])[0]
    if not client_id or not tab_id:
        return None
    return f"{issuer}/login-actions/restart?{urlencode({'client_id': client_id, 'tab_id': tab_id})}"


def page(title: str, message: str, status: int, *, restart: str | None = None) -> HTMLResponse:
    """A page in plain words with a way back: the restart link if known, else the advice."""
    if restart:
        way_back = (
            f'<p><a class="button" href="{escape(restart)}">Start sign-in again</a></p>'
            '<p class="help">Or go back to the application you were signing in to.</p>'
        )
    else:
        way_back = f'<p class="help">{escape(NO_LINK)}</p>'
    return HTMLResponse(
        _PAGE.format(title=escape(title), message=escape(message), style=_STYLE, way_back=way_back),
        status_code=status,
        headers={
            "Content-Security-Policy": CSP,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


def start_again(message: str, *, restart: str | None = None) -> HTMLResponse:
    """The sign-in cannot continue: say why in plain words, and how to start again."""
    return page("Please sign in again", message, 400, restart=restart)


def already_used(*, restart: str | None = None) -> HTMLResponse:
    """A finished sign-in step opened again (reload, Back, a second tab)."""
    return page("This sign-in step was already used", ALREADY_USED, 400, restart=restart)


def in_progress(*, restart: str | None = None) -> HTMLResponse:
    """A sign-in step opened again while Duo's prompt for it is still open elsewhere."""
    return page("This sign-in is already waiting for Duo", IN_PROGRESS, 400, restart=restart)
