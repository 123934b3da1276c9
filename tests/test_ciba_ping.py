"""CIBA ping mode on the real sandbox Keycloak (#16): `login --ping-listen` is the client's
notification endpoint; Keycloak pings it once the bridge answered, and the CLI fetches the
tokens then."""

from __future__ import annotations

import json
import time

import pytest

from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.sandbox.ports import free_port
from tests.fixtures_ciba import CIBA_CLIENT, CIBA_SECRET, CibaTenant, CibaTenantFactory

pytestmark = pytest.mark.keycloak


def _ping_mode(tenant: CibaTenant, port: int) -> None:
    """The CIBA client's notification endpoint at ``port``, then the realm in ping mode."""
    admin = tenant.tenant.admin()
    client_id = str(admin.get_client_id(CIBA_CLIENT))
    endpoint = f"http://127.0.0.1:{port}/ciba/ping"
    attributes = {
        "oidc.ciba.grant.enabled": "true",
        "ciba.backchannel.client.notification.endpoint": endpoint,
    }
    admin.update_client(client_id, {"attributes": attributes})
    tenant.tenant.set_attributes(cibaBackchannelTokenDeliveryMode="ping", cibaInterval="30")


def test_ping_mode_approve_and_deny(
    ciba_tenant: CibaTenantFactory,
    ciba_username: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ping mode: the approved login's tokens come as soon as Keycloak pings (well before the
    realm's 30 s poll interval); a denied push is refused the same way."""
    tenant = ciba_tenant()
    tenant.user(ciba_username)
    port = free_port()
    _ping_mode(tenant, port)
    tenant.emulator.control.script_push(ciba_username, "approve", delay=1)
    monkeypatch.setenv("KDB_TEST_CIBA_SECRET", CIBA_SECRET)
    argv = [
        "login", "--realm", tenant.realm, "--client", CIBA_CLIENT, "--user", ciba_username,
        "--secret-env", "KDB_TEST_CIBA_SECRET", "--ping-listen", f"127.0.0.1:{port}",
        "--keycloak-url", tenant.tenant.settings.keycloak_url,
    ]  # fmt: skip
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    started = time.monotonic()
    assert main(argv) == 0
    assert time.monotonic() - started < 20
    out, err = capsys.readouterr()
    assert "Approve the Duo push on your phone" in err
    assert json.loads(out)["token_type"].lower() == "bearer"
    tenant.emulator.control.script_push(ciba_username, "deny")
    assert main(argv) == 1
    assert "the login was refused" in capsys.readouterr().err
