"""HTML rendering for the prompt and error pages (Jinja2, autoescaped)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse

__all__ = ["render"]

_ENV = Environment(
    loader=PackageLoader("keycloak_duo_bridge.emulator", "templates"),
    autoescape=select_autoescape(default=True),
)


def render(template: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """Render a template from ``templates/`` as an HTML response."""
    headers = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}
    body = _ENV.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status_code, headers=headers)
