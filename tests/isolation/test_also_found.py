"""The review's "also found" items, against the real Keycloak, the bridge and the emulator."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx2
import pytest
from pydantic import SecretStr

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.sandbox.walk import WalkError, walk_login
from keycloak_duo_bridge.server import start_bridge
from keycloak_duo_bridge.settings import Settings
from tests.fixtures_bridge import APP_ID, PASSWORD, Tenant, TenantFactory

pytestmark = pytest.mark.keycloak


class Listener:
    """A TCP listener on loopback standing for an internal host: it counts who connects."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """An internal host the bridge must never be made to call."""
    found = Listener()
    yield found
    found.close()


def walk(tenant: Tenant, username: str) -> None:
    walk_login(
        keycloak_url=tenant.settings.keycloak_url,
        realm=tenant.realm,
        client_id=APP_ID,
        redirect_uri=tenant.redirect_uri,
        username=username,
        password=PASSWORD,
        verify=tls_context(tenant.emulator.ca_path),
    )


def test_item12_api_host_pointing_inside_gets_no_request_from_a_login(
    duo_tenant: TenantFactory, stack_settings: Settings, listener: Listener
) -> None:
    """A realm admin sets kdb.duo.api_host to an internal host:port by hand; a production
    bridge (Duo hosts only) sends it nothing and refuses the login as misconfigured."""
    server, _ = start_bridge(
        lambda url: stack_settings.model_copy(
            update={"bridge_url": url, "duo_allow_any_host": False}
        )
    )
    with server:
        tenant = duo_tenant()
        tenant.user("ivan")
        tenant.set_attributes(
            **{attr.BRIDGE_URL: f"http://127.0.0.1:{server.port}", attr.DUO_FAIL_MODE: "open"}
        )
        realm = tenant.admin().get_realm(tenant.realm)
        realm["attributes"][attr.DUO_API_HOST] = listener.address  # by hand, not the service
        tenant.admin().update_realm(tenant.realm, realm)
        with pytest.raises(WalkError, match="misconfigured"):
            walk(tenant, "ivan")
    assert listener.connections == 0


def test_item12_metrics_are_not_public_and_name_no_integration_key(
    duo_tenant: TenantFactory, stack_settings: Settings
) -> None:
    """/metrics answers 404 without a token setting and 401 without the token; with it, the
    series after a Duo login name the realm, never the ikey."""
    tenant = duo_tenant()
    tenant.user("mia")
    walk(tenant, "mia")
    with httpx2.Client() as http:
        base = stack_settings.model_copy(update={"metrics_token": None})
        server, settings = start_bridge(lambda url: base.model_copy(update={"bridge_url": url}))
        with server:
            assert http.get(f"{settings.bridge_url}/metrics").status_code == 404
        token = SecretStr("m" * 32)
        with_token = stack_settings.model_copy(update={"metrics_token": token})
        server, settings = start_bridge(
            lambda url: with_token.model_copy(update={"bridge_url": url})
        )
        with server:
            tenant.set_attributes(**{attr.BRIDGE_URL: settings.bridge_url})
            walk(tenant, "mia")
            metrics = f"{settings.bridge_url}/metrics"
            assert http.get(metrics).status_code == 401
            wrong = http.get(metrics, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            text = http.get(metrics, headers={"Authorization": f"Bearer {'m' * 32}"}).text
    assert f'realm="{tenant.realm}"' in text
    assert tenant.integration.client_id not in text
