"""The composition root: the one module that knows every part of the bridge's server.

It builds the :class:`Services` from the settings and composes one Starlette application:

* the step-up routes and operations (:mod:`keycloak_duo_bridge.bridge.app`);
* the admin REST API at ``/admin/api`` (:mod:`keycloak_duo_bridge.api`);
* the admin console at ``/admin`` and Duo self-service at ``/account/duo``
  (:mod:`keycloak_duo_bridge.console`).

Each part declares what it needs (a protocol or a small dataclass) and never imports this
module, so the parts depend on each other one way only.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx2
from cachetools import TTLCache
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount

from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.api import ApiServices
from keycloak_duo_bridge.api.app import Api, create_api
from keycloak_duo_bridge.bridge import app as step_up
from keycloak_duo_bridge.bridge import ciba
from keycloak_duo_bridge.bridge.health import HealthGate
from keycloak_duo_bridge.bridge.metrics import Metrics
from keycloak_duo_bridge.bridge.realms import JwksCache, RealmSource
from keycloak_duo_bridge.console.mounts import create_mounts
from keycloak_duo_bridge.duo import DuoClient
from keycloak_duo_bridge.duo.auth_api import AuthApiClient
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.settings import Settings, cookie_ring, key_ring, signing_key
from keycloak_duo_bridge.signing import SigningKey

MAX_UNKNOWN_ISSUERS = 4096


@dataclass
class Services:
    """Everything the parts share, built once per application."""

    settings: Settings
    signing_key: SigningKey
    cookie_ring: KeyRing  # seals what browsers keep
    keyring: KeyRing
    duo: DuoClient
    gate: HealthGate
    realms: RealmSource
    jwks: JwksCache
    metrics: Metrics
    keycloak_http: httpx2.AsyncClient
    # (realm, issuer base) pairs a verified token named but the realm does not brand with
    unknown_issuers: TTLCache[tuple[str, str], bool]
    # the admin service's Keycloak (python-keycloak), made on first use
    connect: Callable[[], Keycloak]
    auth_api: AuthApiClient  # Duo's Auth API, for CIBA (issue #16)

    async def aclose(self) -> None:
        await self.duo.aclose()
        await self.auth_api.aclose()
        await self.keycloak_http.aclose()


def build_services(
    settings: Settings,
    *,
    duo_transport: httpx2.AsyncBaseTransport | None = None,
    keycloak_transport: httpx2.AsyncBaseTransport | None = None,
    connect: Callable[[], Keycloak] | None = None,
) -> Services:
    """Everything the bridge needs, validated now so bad settings fail at start.

    Tests inject transports (Duo, Keycloak's OIDC and admin endpoints) and ``connect``, the
    admin service's Keycloak; by default it is made from the settings on first use.
    """
    cookies = cookie_ring(settings)
    duo_timeout = httpx2.Timeout(
        connect=settings.duo_connect_timeout,
        read=settings.duo_read_timeout,
        write=settings.duo_read_timeout,
        pool=settings.duo_connect_timeout,
    )
    duo = DuoClient(
        ca_file=settings.duo_ca_file,
        timeout=duo_timeout,
        transport=duo_transport,
        allow_any_host=settings.duo_allow_any_host,
    )
    keycloak_http = httpx2.AsyncClient(timeout=httpx2.Timeout(10.0), transport=keycloak_transport)
    gate = HealthGate(
        duo,
        ttl=settings.duo_health_ttl,
        cooldown=settings.duo_breaker_cooldown,
        threshold=settings.duo_breaker_failures,
    )
    return Services(
        settings=settings,
        signing_key=signing_key(settings),
        cookie_ring=cookies,
        keyring=key_ring(settings),
        duo=duo,
        gate=gate,
        realms=RealmSource(settings, keycloak_http),
        jwks=JwksCache(
            settings.keycloak_url,
            keycloak_http,
            min_refresh_interval=settings.bridge_jwks_refresh_interval,
            max_age=settings.bridge_jwks_max_age,
            negative_ttl=settings.bridge_negative_ttl,
        ),
        unknown_issuers=TTLCache(MAX_UNKNOWN_ISSUERS, settings.bridge_negative_ttl),
        metrics=Metrics(gate.states),
        keycloak_http=keycloak_http,
        connect=connect or (lambda: Keycloak.from_settings(settings)),
        auth_api=AuthApiClient(
            ca_file=settings.duo_ca_file,
            timeout=duo_timeout,
            transport=duo_transport,
            allow_any_host=settings.duo_allow_any_host,
        ),
    )


async def not_found(request: Request, exc: Exception) -> Response:
    """A path no route takes (one with a newline, say): JSON under the admin API, as it says."""
    del exc
    if request.url.path.startswith("/admin/api/"):
        return JSONResponse({"error": "no such path"}, status_code=404)
    return PlainTextResponse("Not Found", status_code=404)


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """The bridge's server; ``services`` may be injected (tests inject faulty transports)."""
    services = services or build_services(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        del app
        yield
        await services.aclose()

    api = Api(
        settings,
        ApiServices(services.keyring, Wiring.of(settings), services.jwks.jwks),
        services.connect,
    )
    app = Starlette(
        routes=[
            *step_up.routes(),
            *ciba.routes(),
            Mount("/admin/api", app=create_api(api)),
            *create_mounts(services, api),
        ],
        lifespan=lifespan,
        exception_handlers={404: not_found},
    )
    app.state.services = services
    return app
