"""One production-mode Keycloak (``kc.sh build`` + ``kc.sh start``) on PostgreSQL, over TLS
with a hostname: what it keeps across a restart, and that Duo still decides afterwards.

The fixtures below override ``stack_settings``, ``admin_keycloak`` and ``bridge`` for this
module only, so ``duo_tenant`` provisions on this node.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.errors import SandboxError
from keycloak_duo_bridge.sandbox.production import ProductionNode, start_command
from keycloak_duo_bridge.settings import Settings
from tests.fixtures_bridge import APP2_ID, Bridge, TenantFactory, run_bridge
from tests.fixtures_production import (
    Kit,
    Traffic,
    new_database,
    new_node,
    stack_settings_at,
    start_all,
    trusting,
    watched_client,
)
from tests.fixtures_sandbox import say
from tests.restart_helpers import walk, went_to_duo

# Setup builds Keycloak and starts nodes: minutes on a busy machine, counted in the first test.
pytestmark = [pytest.mark.keycloak, pytest.mark.production, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def node(
    production_kit: Kit, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[ProductionNode]:
    """One node on a database of its own, reached at https://localhost:<port>."""
    keycloak = new_node(
        "kc-single",
        production_kit,
        root=tmp_path_factory.mktemp("production-single"),
        database=new_database(production_kit.postgres, "kc_single"),
    )
    with trusting(production_kit.trust):
        try:
            start_all([keycloak], pytestconfig)
            yield keycloak
        finally:
            keycloak.stop()


@pytest.fixture(scope="module")
def stack_settings(
    node: ProductionNode, sandbox_settings: Settings, duo_emulator: RunningEmulator
) -> Settings:
    """The stack's settings, pointed at this module's node by its public URL."""
    return stack_settings_at(node.config.public_url, sandbox_settings, duo_emulator)


@pytest.fixture(scope="module")
def admin_keycloak(stack_settings: Settings) -> Keycloak:
    """The admin service's adapter, logged in to this module's node over TLS."""
    return Keycloak.from_settings(stack_settings)


@pytest.fixture(scope="module")
def bridge(stack_settings: Settings) -> Iterator[Bridge]:
    """A bridge of this module's own, talking to the node over TLS."""
    running = run_bridge(stack_settings)
    with running.server:
        yield running


def test_the_node_runs_optimized_on_postgres_with_tls(node: ProductionNode, trust: Path) -> None:
    """The node serves its realms over TLS at its hostname, from the built (optimized) server."""
    issuer = f"{node.config.public_url}/realms/master"
    with httpx2.Client(verify=tls_context(trust)) as client:
        found = client.get(f"{issuer}/.well-known/openid-configuration").json()
    assert found["issuer"] == issuer
    assert issuer.startswith("https://localhost:")
    log = node.log_tail(lines=10_000)
    assert "Profile prod activated" in log
    assert f"Listening on: https://127.0.0.1:{node.config.https_port}" in log
    assert "jdbc-postgresql" in log
    assert start_command(node.home, node.config)[1:3] == ["start", "--optimized"]
    with pytest.raises(SandboxError, match="already running"):
        node.launch()


def test_sessions_skeys_and_policy_survive_a_restart(
    duo_tenant: TenantFactory, node: ProductionNode, trust: Path, pytestconfig: pytest.Config
) -> None:
    """After a restart, sessions and skeys are kept, remember policies hold, new logins run Duo."""
    remembered = duo_tenant(remember="session")
    remembered.user("alice")
    remembered.user("carol")
    strict = duo_tenant(remember="every-login")
    strict.user("bob")
    admin = remembered.admin()
    skey_before = admin.get_realm(remembered.realm)["attributes"][attr.DUO_SKEY]
    with (
        watched_client(trust, Traffic()) as alice,
        watched_client(trust, Traffic()) as bob,
        watched_client(trust, Traffic()) as carol,
    ):
        assert went_to_duo(remembered, walk(remembered, "alice", alice))
        assert went_to_duo(strict, walk(strict, "bob", bob))
        node.stop()
        seconds = node.start()
        say(pytestconfig, f"production: restarted {node.config.name} in {seconds:.0f} s")
        sso = walk(remembered, "alice", alice, client_id=APP2_ID)
        assert not went_to_duo(remembered, sso)  # the user session and its Duo pass came back
        assert sso.id_claims["duo"]["result"] == "allow"
        assert went_to_duo(strict, walk(strict, "bob", bob, client_id=APP2_ID))
        fresh = walk(remembered, "carol", carol)
    assert went_to_duo(remembered, fresh)
    assert fresh.id_claims["duo"]["result"] == "allow"
    assert admin.get_realm(remembered.realm)["attributes"][attr.DUO_SKEY] == skey_before
