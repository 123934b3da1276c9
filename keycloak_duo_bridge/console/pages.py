"""Rendering the console's pages: Jinja2 (autoescaped), and the headers every page carries.

The pages run no script at all. The Content-Security-Policy allows the bridge's own style
sheet, forms posting to the bridge (and the redirects those forms lead to: Keycloak for
sign-in and sign-out, Duo for activation), and no framing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

ENV: Final = Environment(
    loader=PackageLoader("keycloak_duo_bridge.console", "templates"),
    autoescape=select_autoescape(default=True),
)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def csp(form_targets: Iterable[str] = ()) -> str:
    """The policy: nothing by default, our style sheet, forms to us and ``form_targets``."""
    targets = " ".join(["'self'", *sorted(set(form_targets))])
    return (
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        f"form-action {targets}; frame-ancestors 'none'; base-uri 'none'"
    )


def secure(response: Response, form_targets: Iterable[str] = ()) -> Response:
    """Add the security headers (a handler's own CSP wins)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", csp(form_targets))
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"  # no-referrer would make form posts say Origin: null
    headers.setdefault("Cache-Control", "no-store")
    return response


def render(
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    form_targets: Iterable[str] = (),
) -> Response:
    body = ENV.get_template(template).render(**context)
    return secure(HTMLResponse(body, status_code=status), form_targets)


def message(
    title: str,
    text: str,
    *,
    status: int,
    link: tuple[str, str] | None = None,
    form_targets: Iterable[str] = (),
    part: str = "admin",
) -> Response:
    """A page that says what happened and what to do next, in ``part``'s name and look
    (``admin``: the Duo console; ``account``: the end users' Duo two-factor page)."""
    return render(
        "message.html",
        {"title": title, "text": text, "link": link, "part": part},
        status=status,
        form_targets=form_targets,
    )


def redirect(url: str, form_targets: Iterable[str] = ()) -> Response:
    """A 303 (after a form, the browser follows with GET)."""
    return secure(RedirectResponse(url, status_code=303), form_targets)
