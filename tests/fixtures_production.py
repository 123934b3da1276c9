"""Production-mode fixtures: one ``kc.sh build`` and one PostgreSQL for the session, the
harness's TLS, nodes on the built distribution, and a client that sees which server answered.

The build, the database server and the certificates are made once and only when a
production test asks for them; each test module makes its own database and nodes.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest

from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.sandbox import production
from keycloak_duo_bridge.sandbox import secrets as sandbox_secrets
from keycloak_duo_bridge.sandbox.balancer import SERVED_BY
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.sandbox.postgres import Database, PostgresServer
from keycloak_duo_bridge.sandbox.tls import ServerTls, server_tls, trust_bundle
from keycloak_duo_bridge.sandbox.walk import browser_like_client
from keycloak_duo_bridge.settings import Settings, load_settings
from tests.fixtures_sandbox import say

HOSTNAME = "localhost"
PIN = "X-Kdb-Pin"  # the balancers' test hook: route this request to the named server


@pytest.fixture(scope="session")
def production_build(
    sandbox_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> Path:
    """Keycloak with the extension, after ``kc.sh build`` (once; every node copies it)."""
    home, seconds = production.build_distribution(
        sandbox_settings, tmp_path_factory.mktemp("production-build")
    )
    say(pytestconfig, f"production: kc.sh build took {seconds:.0f} s")
    return home


@pytest.fixture(scope="session")
def postgres(pytestconfig: pytest.Config) -> Iterator[PostgresServer]:
    """Debian's PostgreSQL on a free port, run as an unprivileged user."""
    server = PostgresServer()
    try:
        seconds = server.start()
        say(pytestconfig, f"production: PostgreSQL on port {server.port} after {seconds:.1f} s")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def production_tls(tmp_path_factory: pytest.TempPathFactory) -> ServerTls:
    """The harness's test CA and a certificate for ``localhost``."""
    return server_tls(tmp_path_factory.mktemp("production-tls"), HOSTNAME)


@pytest.fixture(scope="session")
def trust(
    production_tls: ServerTls,
    duo_emulator: RunningEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A CA bundle that trusts the harness's servers and the Duo emulator."""
    target = tmp_path_factory.mktemp("production-trust") / "ca-bundle.pem"
    return trust_bundle(target, production_tls.ca, duo_emulator.ca_path)


@dataclass(frozen=True)
class Kit:
    """What every production module starts from: the build, PostgreSQL, TLS and trust."""

    built: Path
    postgres: PostgresServer
    tls: ServerTls
    trust: Path
    settings: Settings  # the sandbox's: admin credentials, JDK search, start timeout


@pytest.fixture(scope="session")
def production_kit(
    production_build: Path,
    postgres: PostgresServer,
    production_tls: ServerTls,
    trust: Path,
    sandbox_settings: Settings,
) -> Kit:
    """The session's production build, PostgreSQL server, certificates and CA bundle."""
    return Kit(production_build, postgres, production_tls, trust, sandbox_settings)


@contextlib.contextmanager
def trusting(bundle: Path) -> Iterator[None]:
    """Point this process's HTTP clients (httpx2, requests) at ``bundle``, as an operator
    points the bridge's at their CA with ``SSL_CERT_FILE``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(bundle))
        patch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        yield


def new_database(postgres: PostgresServer, name: str) -> Database:
    """A database of its own for a test module, owned by a role of the same name."""
    return postgres.create_database(name, owner=name, password=secrets.token_urlsafe(18))


def new_node(
    name: str,
    kit: Kit,
    *,
    root: Path,
    database: Database,
    public_url: str | None = None,
) -> production.ProductionNode:
    """A node on its own copy of the build, its own ports; the cluster's URL or its own."""
    tls, port = kit.tls, free_port()
    config = production.NodeConfig(
        name=name,
        public_url=public_url or f"https://{tls.hostname}:{port}",
        https_port=port,
        management_port=free_port(),
        jgroups_port=production.jgroups_port(),
        tls=tls,
        database=database,
    )
    home = production.node_home(kit.built, root / name)
    return production.ProductionNode(
        home, config, settings=kit.settings, log_file=root / f"{name}.log"
    )


def start_all(nodes: list[production.ProductionNode], config: pytest.Config) -> None:
    """Start the first node alone (it creates the schema on an empty database: two nodes
    doing that at once race and one fails), then the others together."""
    started = time.monotonic()
    first, *others = nodes
    say(config, f"production: {first.config.name} ready after {first.start():.0f} s")
    for node in others:
        node.launch()
    for node in others:
        seconds = node.wait()
        say(config, f"production: {node.config.name} ready after {seconds:.0f} s")
    say(config, f"production: {len(nodes)} node(s) up in {time.monotonic() - started:.0f} s")


def stack_settings_at(
    keycloak_url: str, admin: Settings, emulator: RunningEmulator, **more: object
) -> Settings:
    """Settings for the admin service and bridges against ``keycloak_url`` and the emulator."""
    return load_settings(
        keycloak_url=keycloak_url,
        keycloak_admin_username=admin.sandbox_admin_username,
        keycloak_admin_password=admin.sandbox_admin_password,
        duo_ca_file=emulator.ca_path,
        **{
            k.removeprefix("KDB_").lower(): v
            for k, v in sandbox_secrets.ensure(admin.state_dir).items()
        },
        **more,
    )


@dataclass(frozen=True)
class Answer:
    """One answer the browser got: what it asked, the status, and the server behind it."""

    method: str
    url: httpx2.URL
    status: int
    served_by: str | None


Hook = Callable[[httpx2.Request], None]


@dataclass
class Traffic:
    """What a browser-like client saw, and the hooks it runs before each request."""

    answers: list[Answer] = field(default_factory=list)
    before: list[Hook] = field(default_factory=list)

    def served(self, predicate: Callable[[Answer], bool]) -> list[str | None]:
        return [a.served_by for a in self.answers if predicate(a)]


def watched_client(bundle: Path, traffic: Traffic) -> httpx2.Client:
    """A browser-like client that trusts ``bundle`` and records every answer in ``traffic``."""
    client = browser_like_client(tls_context(bundle))

    def on_request(request: httpx2.Request) -> None:
        for hook in traffic.before:
            hook(request)

    def on_response(response: httpx2.Response) -> None:
        request = response.request
        traffic.answers.append(
            Answer(
                request.method, request.url, response.status_code, response.headers.get(SERVED_BY)
            )
        )

    client.event_hooks = {"request": [on_request], "response": [on_response]}
    return client


def is_password_post(request: httpx2.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/login-actions/authenticate")


def is_verdict(request: httpx2.Request) -> bool:
    return "verdict" in request.url.params


def pin(when: Callable[[httpx2.Request], bool], server: str) -> Hook:
    """A hook that sends matching requests to ``server`` through the balancer's pin."""

    def hook(request: httpx2.Request) -> None:
        if when(request):
            request.headers[PIN] = server

    return hook
