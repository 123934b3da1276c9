"""Past one machine: two Keycloak nodes as one cluster and two bridge replicas, each pair
behind its own HAProxy (round robin per request, no stickiness).

The nodes share one PostgreSQL database and Keycloak's default distributed caches; they
find each other through the database (``jdbc-ping``). The replicas share every key. The
balancers' pin header puts chosen hops on chosen servers; every answer names its server.
Tests run in file order: the last one kills a Keycloak node for good.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.errors import SandboxError
from keycloak_duo_bridge.sandbox.balancer import Balancer, BalancerConfig, Upstream
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.sandbox.production import ProductionNode
from keycloak_duo_bridge.sandbox.replica import BridgeReplica
from keycloak_duo_bridge.sandbox.walk import WalkError
from keycloak_duo_bridge.settings import Settings
from tests.fixtures_bridge import Tenant, TenantFactory, tenant_factory
from tests.fixtures_production import (
    PIN,
    Kit,
    Traffic,
    is_password_post,
    is_verdict,
    new_database,
    new_node,
    pin,
    stack_settings_at,
    start_all,
    trusting,
    watched_client,
)
from tests.fixtures_sandbox import say
from tests.restart_helpers import walk, went_to_duo

# Setup builds Keycloak and starts nodes: minutes on a busy machine, counted in the first test.
pytestmark = [pytest.mark.keycloak, pytest.mark.production, pytest.mark.timeout(1200)]

TIMED_OUT = "Your login attempt timed out. Login will start from the beginning."


@dataclass
class Pair:
    """Two servers and the balancer in front of them."""

    servers: dict[str, ProductionNode] | dict[str, BridgeReplica]
    balancer: Balancer

    @property
    def url(self) -> str:
        return self.balancer.url


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's directory: node homes, logs, balancer configs."""
    return tmp_path_factory.mktemp("production-cluster")


@pytest.fixture(scope="module")
def keycloaks(production_kit: Kit, root: Path, pytestconfig: pytest.Config) -> Iterator[Pair]:
    """Two nodes on one database, started together, behind a TLS balancer."""
    port = free_port()
    public_url = f"https://{production_kit.tls.hostname}:{port}"
    database = new_database(production_kit.postgres, "kc_cluster")
    nodes = {
        name: new_node(name, production_kit, root=root, database=database, public_url=public_url)
        for name in ("kc-1", "kc-2")
    }
    upstreams = tuple(
        Upstream(
            name,
            node.config.https_port,
            ca=production_kit.tls.ca,
            check_port=node.config.management_port,
        )
        for name, node in nodes.items()
    )
    config = BalancerConfig(
        "keycloak", port, upstreams, "/health/ready", tls=production_kit.tls, pin_header=PIN
    )
    balancer = Balancer(config, root)
    with trusting(production_kit.trust):
        try:
            balancer.start()
            start_all(list(nodes.values()), pytestconfig)
            yield Pair(nodes, balancer)
        finally:
            for node in nodes.values():
                node.stop()
            balancer.stop()


@pytest.fixture(scope="module")
def bridge_port() -> int:
    """The port of the bridges' balancer, known before the replicas start."""
    return free_port()


@pytest.fixture(scope="module")
def stack_settings(
    keycloaks: Pair, production_kit: Kit, duo_emulator: RunningEmulator, bridge_port: int
) -> Settings:
    """Settings for the admin service and every replica: both balancers' URLs."""
    return stack_settings_at(
        keycloaks.url,
        production_kit.settings,
        duo_emulator,
        bridge_url=f"https://{production_kit.tls.hostname}:{bridge_port}",
    )


@pytest.fixture(scope="module")
def bridges(
    stack_settings: Settings, production_kit: Kit, root: Path, bridge_port: int
) -> Iterator[Pair]:
    """Two ``serve`` processes with the same keys, behind a TLS balancer."""
    replicas = {
        name: BridgeReplica(
            name,
            stack_settings,
            port=free_port(),
            log_file=root / f"{name}.log",
            extra_env={"SSL_CERT_FILE": str(production_kit.trust)},
        )
        for name in ("bridge-1", "bridge-2")
    }
    upstreams = tuple(Upstream(name, replica.port) for name, replica in replicas.items())
    config = BalancerConfig(
        "bridge", bridge_port, upstreams, "/healthz", tls=production_kit.tls, pin_header=PIN
    )
    balancer = Balancer(config, root)
    try:
        for replica in replicas.values():
            replica.start()
        balancer.start()
        yield Pair(replicas, balancer)
    finally:
        balancer.stop()
        for replica in replicas.values():
            replica.stop()


@pytest.fixture(scope="module")
def admin_keycloak(stack_settings: Settings) -> Keycloak:
    """The admin service's adapter, through the Keycloak balancer."""
    return Keycloak.from_settings(stack_settings)


@pytest.fixture
def duo_tenant(
    admin_keycloak: Keycloak,
    stack_settings: Settings,
    bridges: Pair,
    duo_emulator: RunningEmulator,
    app_redirect: str,
) -> TenantFactory:
    """Tenants wired to the bridges' balancer, on the cluster."""
    return tenant_factory(admin_keycloak, stack_settings, bridges, duo_emulator, app_redirect)


def no_server_errors(traffic: Traffic) -> list[str]:
    return [f"{a.status} {a.method} {a.url.path}" for a in traffic.answers if a.status >= 500]


def on_first(
    when: Callable[[httpx2.Request], bool], action: Callable[[], None]
) -> Callable[..., None]:
    """A request hook that runs ``action`` once, before the first matching request."""
    done: list[bool] = []

    def hook(request: httpx2.Request) -> None:
        if not done and when(request):
            done.append(True)
            action()

    return hook


def test_password_on_one_node_verdict_on_the_other(duo_tenant: TenantFactory, trust: Path) -> None:
    """The password step on kc-1 and the Duo verdict on kc-2: the login completes."""
    tenant = duo_tenant()
    tenant.user("nina")
    traffic = Traffic(before=[pin(is_password_post, "kc-1"), pin(is_verdict, "kc-2")])
    with watched_client(trust, traffic) as client:
        result = walk(tenant, "nina", client)
    assert result.id_claims["duo"]["result"] == "allow"
    assert traffic.served(lambda a: is_password_post_answer(a.method, a.url)) == ["kc-1"]
    assert traffic.served(lambda a: "verdict" in a.url.params) == ["kc-2"]
    assert no_server_errors(traffic) == []


def is_password_post_answer(method: str, url: httpx2.URL) -> bool:
    return method == "POST" and url.path.endswith("/login-actions/authenticate")


def at_duo(tenant: Tenant) -> Callable[[httpx2.Request], bool]:
    return lambda request: request.url.netloc.decode() == tenant.emulator.api_host


def test_a_bridge_replica_dies_mid_flow(
    duo_tenant: TenantFactory, bridges: Pair, trust: Path
) -> None:
    """bridge-1 starts the step-up and dies at the Duo prompt; bridge-2 completes it."""
    tenant = duo_tenant()
    tenant.user("otto")
    victim = bridges.servers["bridge-1"]
    assert isinstance(victim, BridgeReplica)
    with pytest.raises(SandboxError, match="already running"):
        victim.start()
    starts_step_up = pin(lambda r: r.url.path == "/step-up", "bridge-1")
    traffic = Traffic(before=[starts_step_up, on_first(at_duo(tenant), victim.kill)])
    try:
        with watched_client(trust, traffic) as client:
            result = walk(tenant, "otto", client)
    finally:
        victim.start()
    assert went_to_duo(tenant, result)
    assert result.id_claims["duo"]["result"] == "allow"
    assert traffic.served(lambda a: a.url.path == "/step-up") == ["bridge-1"]
    assert traffic.served(lambda a: a.url.path == "/step-up/callback") == ["bridge-2"]
    assert no_server_errors(traffic) == []


LOGINS = 100
PEOPLE = 4


def test_a_load_run_across_the_cluster(
    duo_tenant: TenantFactory, trust: Path, pytestconfig: pytest.Config
) -> None:
    """100 logins by 4 users over both nodes and replicas: no error, no misdelivered verdict."""
    tenants = [duo_tenant(remember="every-login") for _ in range(2)]
    people = [
        (tenant, f"load{index}", tenant.user(f"load{index}"))
        for index, tenant in enumerate(tenants * (PEOPLE // 2))
    ]
    traffic = Traffic()
    errors: Counter[str] = Counter()

    def login(turn: int) -> bool:
        tenant, name, user_id = people[turn % PEOPLE]
        with watched_client(trust, traffic) as client:
            try:
                result = walk(tenant, name, client)
            except WalkError as exc:
                errors[str(exc)[-200:]] += 1
                return True
        claims = result.access_claims
        return not (
            claims.get("sub") == user_id
            and str(claims.get("iss")).endswith(f"/realms/{tenant.realm}")
            and result.id_claims["duo"]["result"] == "allow"
            and went_to_duo(tenant, result)
        )

    def person(index: int) -> list[bool]:  # one login in flight per user, as a person does
        return [login(turn) for turn in range(index, LOGINS, PEOPLE)]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        outcomes = [wrong for batch in pool.map(person, range(PEOPLE)) for wrong in batch]
    seconds = time.perf_counter() - started
    served = Counter(a.served_by for a in traffic.answers if a.served_by)
    say(
        pytestconfig,
        f"production: load {LOGINS} logins, {PEOPLE} users, {seconds:.1f} s; "
        f"{sum(errors.values())} errors, {sum(outcomes) - sum(errors.values())} misdelivered; "
        f"answers per server {dict(sorted(served.items()))}",
    )
    assert errors == Counter()
    assert sum(outcomes) == 0
    assert no_server_errors(traffic) == []
    assert min(served[name] for name in ("kc-1", "kc-2", "bridge-1", "bridge-2")) > LOGINS // 2


def test_a_keycloak_node_dies_at_the_duo_prompt(
    duo_tenant: TenantFactory, keycloaks: Pair, trust: Path, pytestconfig: pytest.Config
) -> None:
    """kc-1 dies at the Duo prompt: the login completes with Duo or starts again, never a 5xx."""
    tenant = duo_tenant()
    tenant.user("pia")
    tenant.user("quentin")
    victim = keycloaks.servers["kc-1"]
    assert isinstance(victim, ProductionNode)
    traffic = Traffic(before=[pin(is_password_post, "kc-1"), on_first(at_duo(tenant), victim.kill)])
    outcome: str
    with watched_client(trust, traffic) as client:
        try:
            result = walk(tenant, "pia", client)
        except WalkError as exc:  # it may only be Keycloak's own page, from the survivor
            outcome = str(exc)
        else:
            assert went_to_duo(tenant, result)
            assert result.id_claims["duo"]["result"] == "allow"
            outcome = "completed"
    after_kill = {a.served_by for a in traffic.answers if a.url.host == "localhost"}
    say(pytestconfig, f"production: kc-1 killed at the Duo prompt: {outcome}; {after_kill}")
    assert outcome == "completed" or (
        TIMED_OUT in outcome and str(traffic.answers[-1].served_by).startswith("kc-2")
    ), outcome
    assert not victim.running
    assert traffic.served(lambda a: is_password_post_answer(a.method, a.url)) == ["kc-1"]
    assert no_server_errors(traffic) == []
    survivor = Traffic()
    with watched_client(trust, survivor) as client:  # the survivor serves new logins
        after = walk(tenant, "quentin", client)
    assert went_to_duo(tenant, after)
    assert no_server_errors(survivor) == []
