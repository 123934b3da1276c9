"""`keycloak-duo-bridge demo --walk --exit` walks alice's login through Duo and exits 0."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.sandbox.ports import free_port
from tests.fixtures_sandbox import point_cli_at

pytestmark = pytest.mark.keycloak


def test_demo_walks_a_login_through_duo(
    keycloak_sandbox: SandboxKeycloak,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The demo provisions acme/globex and the partner's own IdP realm; walks alice, and pia
    through the partner's IdP, both through Duo; prints claims and URLs, exits 0."""
    point_cli_at(keycloak_sandbox, monkeypatch)
    for name in ("KDB_BRIDGE_PORT", "KDB_DEMO_APP_PORT", "KDB_DEMO_DUO_PORT"):
        monkeypatch.setenv(name, str(free_port()))
    assert main(["demo", "--walk", "--exit"]) == 0
    out = capsys.readouterr().out
    assert '"result": "allow"' in out
    assert "Server-side time of the Duo hop (bridge + Duo):" in out
    assert "pia's federated login through acme-sso: Duo asked ['idp:acme-sso:" in out
    assert "federated: 'Sign in with acme-sso' on the sign-in page, user 'pia'" in out
    assert "Demo application: http://127.0.0.1:" in out
    lines = out.splitlines()
    assert any(line.startswith("Keycloak admin console: http://127.0.0.1:") for line in lines)
    assert any(line.startswith("Duo admin console (bridge): http://127.0.0.1:") for line in lines)
    assert not any(line.startswith("Admin console:") for line in lines)
    assert any(line.startswith("Duo self-service: http://127.0.0.1:") for line in lines)
    assert keycloak_sandbox.status().running  # the demo leaves a Keycloak it did not start
