"""Keycloak restarted between the step-up request and Duo's callback: start again, accept nothing.

The session's sandbox Keycloak keeps everything in memory, so restarting it would lose the
realms too. This module runs its own Keycloak on an H2 file instead (``DurableKeycloak``),
which keeps realms, keys and users across a restart and loses only the logins in progress,
as a production cluster does. The fixtures below override ``stack_settings``,
``admin_keycloak`` and ``bridge`` for this module only, so ``duo_tenant`` provisions there.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.sandbox.walk import WalkError
from keycloak_duo_bridge.settings import Settings
from tests.fixtures_bridge import Bridge, TenantFactory, run_bridge
from tests.fixtures_sandbox import say
from tests.restart_helpers import DurableKeycloak, hooked_client, stack_settings_for, walk

pytestmark = pytest.mark.keycloak


@pytest.fixture(scope="module")
def durable_keycloak(
    sandbox_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> Iterator[DurableKeycloak]:
    """A second sandbox Keycloak of this module's own, on an H2 file and its own ports."""
    settings = sandbox_settings.model_copy(
        update={
            "state_dir": tmp_path_factory.mktemp("durable-keycloak"),
            "sandbox_http_port": free_port(),
            "sandbox_management_port": free_port(),
        }
    )
    keycloak = DurableKeycloak(settings)
    try:
        keycloak.up(progress=lambda message: say(pytestconfig, f"durable: {message}"))
        yield keycloak
    finally:
        keycloak.down(progress=lambda message: say(pytestconfig, f"durable: {message}"))


@pytest.fixture(scope="module")
def stack_settings(durable_keycloak: DurableKeycloak, duo_emulator: RunningEmulator) -> Settings:
    """The stack's settings, pointed at this module's Keycloak."""
    return stack_settings_for(durable_keycloak, duo_emulator)


@pytest.fixture(scope="module")
def admin_keycloak(stack_settings: Settings) -> Keycloak:
    """The admin service's adapter, logged in to this module's Keycloak."""
    return Keycloak.from_settings(stack_settings)


@pytest.fixture(scope="module")
def bridge(stack_settings: Settings) -> Iterator[Bridge]:
    """A bridge of this module's own, verifying request tokens against its Keycloak."""
    running = run_bridge(stack_settings)
    with running.server:
        yield running


TIMED_OUT = "Your login attempt timed out. Login will start from the beginning."


def test_restart_between_request_and_callback(
    duo_tenant: TenantFactory,
    bridge: Bridge,
    durable_keycloak: DurableKeycloak,
    pytestconfig: pytest.Config,
) -> None:
    """Keycloak restarts while the user is at Duo: its login page says start again, no code."""
    tenant = duo_tenant()
    tenant.user("rita")
    verdicts: list[str] = []
    pages: list[httpx2.Response] = []

    def restart_before_callback(request: httpx2.Request) -> None:
        if request.url.path == "/step-up/callback" and not verdicts:
            durable_keycloak.restart(lambda message: say(pytestconfig, f"durable: {message}"))
        if "verdict" in request.url.params:
            verdicts.append(str(request.url))

    with hooked_client(tenant, restart_before_callback) as client:
        client.event_hooks["response"] = [pages.append]
        with pytest.raises(WalkError, match=r"the login stopped at .*/login-actions/authenticate"):
            walk(tenant, "rita", client)
        [stale] = verdicts  # the bridge did sign a verdict, for an auth session now gone
        start_again = pages[-1]
        realm_url = f"{tenant.settings.keycloak_url}/realms/{tenant.realm}"
        assert str(start_again.url).startswith(f"{realm_url}/login-actions/authenticate?")
        assert TIMED_OUT in start_again.text
        assert 'id="kc-form-login"' in start_again.text
        assert tenant.events("LOGIN") == []
        replayed = client.get(stale, follow_redirects=True)  # the stale verdict, once more
        assert not str(replayed.url).startswith(tenant.redirect_uri)
        assert TIMED_OUT in replayed.text
        again = walk(tenant, "rita", client)  # starting again works, and runs Duo again
    assert again.id_claims["duo"]["result"] == "allow"
    assert any(hop.url.startswith(f"{bridge.url}/step-up?") for hop in again.hops)
    [login] = tenant.events("LOGIN")
    assert login["userId"] == again.id_claims["sub"]
