"""HTML rendering for the home, prompt and error pages (Jinja2, autoescaped)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

__all__ = ["render", "routes"]

_ENV = Environment(
    loader=PackageLoader("keycloak_duo_bridge.emulator", "templates"),
    autoescape=select_autoescape(default=True),
)


def render(template: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """Render a template from ``templates/`` as an HTML response."""
    headers = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}
    body = _ENV.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status_code, headers=headers)


async def home(request: Request) -> Response:
    """``GET /``: what this server is, its endpoints and its control API."""
    api_host = request.headers.get("host") or "localhost"
    return render("home.html", {"api_host": api_host})


def routes() -> list[Route]:
    """The home page's route."""
    return [Route("/", home, methods=["GET"])]
