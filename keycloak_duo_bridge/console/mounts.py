"""The console's two mounts, ``/admin`` and ``/account/duo``, sharing one :class:`Console`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Route

from keycloak_duo_bridge.api.app import Api
from keycloak_duo_bridge.console import account, admin
from keycloak_duo_bridge.console.app import (
    BASE,
    Console,
    ConsoleServices,
    http_error,
    keycloak_error,
    sign_in_page,
    sign_out_page,
    signed_in_page,
    signed_out_page,
    stylesheet,
)
from keycloak_duo_bridge.console.state import ACCOUNT, ADMIN
from keycloak_duo_bridge.errors import KeycloakError


def create_mounts(services: ConsoleServices, api: Api) -> list[Mount]:
    """``/admin`` and ``/account/duo``, sharing one :class:`Console`."""
    console = Console(services, api)
    mounts = []
    for kind, routes in ((ADMIN, admin.routes()), (ACCOUNT, account.routes())):
        app = Starlette(
            routes=[
                Route("/login", sign_in_page(kind)),
                Route("/callback", signed_in_page(kind)),
                Route("/logout", sign_out_page(kind), methods=["POST"]),
                Route("/signed-out", signed_out_page(kind)),
                Route("/static/console.css", stylesheet),
                *routes,
            ],
            exception_handlers={HTTPException: http_error, KeycloakError: keycloak_error},
        )
        app.state.console = console
        mounts.append(Mount(BASE[kind], app=app))
    return mounts
