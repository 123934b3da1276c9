"""The few HTML pages a person may see at the bridge: all of them say what to do next."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>{title}</h1><p>{message}</p></main></body></html>
"""


def page(title: str, message: str, status: int) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(title=escape(title), message=escape(message)),
        status_code=status,
        headers={
            "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


def start_again(reason: str) -> HTMLResponse:
    return page(
        "Please sign in again",
        f"This sign-in cannot continue ({reason}). Go back to the application and start again.",
        400,
    )
