"""The CLI with moved ports: `sandbox env`, `duo enable`, a login in Chromium, export, plan."""

from __future__ import annotations

import os
import shlex
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import Page

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import duo_settings, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.settings import Settings, key_ring
from tests.fixtures_bridge import APP_ID, PASSWORD, Bridge
from tests.fixtures_sandbox import point_cli_at

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """``keycloak-duo-bridge ARGV`` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_moved_bridge_port_is_wired_and_export_then_plan_is_empty(  # noqa: PLR0917
    page: Page,
    keycloak_sandbox: SandboxKeycloak,
    bridge: Bridge,
    duo_emulator: RunningEmulator,
    stack_settings: Settings,
    admin_keycloak: Keycloak,
    app_redirect: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """KDB_BRIDGE_PORT moved: `sandbox env` exports the matching KDB_BRIDGE_URL, `duo enable`
    wires it, a login reaches that bridge, and `plan` right after `export` shows no change."""
    for name in [n for n in os.environ if n.startswith("KDB_")]:
        monkeypatch.delenv(name)
    point_cli_at(keycloak_sandbox, monkeypatch)
    port = urlsplit(bridge.url).port
    assert port not in {None, 8000}
    monkeypatch.setenv("KDB_BRIDGE_PORT", str(port))
    code, out, err = run(capsys, "sandbox", "env")
    assert (code, err) == (0, "")
    words = shlex.split(out)  # a PEM value spans lines, quoted
    exports = dict(word.split("=", 1) for word in words if word != "export")
    assert words.count("export") == len(exports)
    assert exports["KDB_BRIDGE_URL"] == bridge.url
    assert exports["KDB_BRIDGE_PORT"] == str(port)
    for name, value in exports.items():  # eval "$(keycloak-duo-bridge sandbox env)"
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KDB_DUO_CA_FILE", str(duo_emulator.ca_path))

    suffix = uuid.uuid4().hex[:8]
    partner, realm = f"pp-{suffix}", f"pc-{suffix}"
    tenants.create_partner(admin_keycloak, partner)
    tenants.create_client(admin_keycloak, realm, partner=partner)
    integration = duo_emulator.control.add_integration()
    duo_settings.set_credentials(
        admin_keycloak,
        realm,
        ikey=integration.client_id,
        skey=integration.client_secret,
        api_host=integration.api_host,
        ring=key_ring(stack_settings),
        health=None,
    )
    code, _, err = run(capsys, "duo", "enable", realm)
    assert (code, "note:" in err) == (0, False), err
    assert admin_keycloak.get_realm(realm)["attributes"][attr.BRIDGE_URL] == bridge.url

    provision.ensure_app(stack_settings, realm, APP_ID, app_redirect)
    provision.ensure_user(stack_settings, realm, "alice", PASSWORD)
    duo_emulator.control.set_user("alice", behavior="allow", enrolled=True)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    query = {"client_id": APP_ID, "redirect_uri": app_redirect, "response_type": "code"}
    page.goto(
        f"{stack_settings.keycloak_url}/realms/{realm}/protocol/openid-connect/auth"
        f"?{urlencode({**query, 'scope': 'openid', 'state': 'st'})}"
    )
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("#kc-login")
    page.wait_for_url(f"{app_redirect}?**")
    assert "code=" in page.url
    assert any(url.startswith(f"{bridge.url}/") for url in seen)

    exported = tmp_path / "exported.yaml"
    code, _, err = run(
        capsys, "export", "--partner", partner, "-o", exported, "--secrets-dir", tmp_path / "s"
    )
    assert code == 0, err
    code, out, err = run(capsys, "plan", exported)
    assert (code, out.strip()) == (0, "No changes: Keycloak matches the tenant file."), err
    tenants.delete_tenant(admin_keycloak, partner, cascade=True)
