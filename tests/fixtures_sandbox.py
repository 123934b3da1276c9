"""Session fixtures: one real sandbox Keycloak for the whole test session (tests and docs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from keycloak import KeycloakAdmin

from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.settings import Settings, load_settings


def say(config: pytest.Config, message: str) -> None:
    """Print past pytest's capture, so the run's output shows what the sandbox did."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n[sandbox] {message}", flush=True)


def point_cli_at(sandbox: SandboxKeycloak, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI (its KDB_* variables) at the session's sandbox."""
    settings = sandbox.settings
    monkeypatch.setenv("KDB_STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("KDB_SANDBOX_HTTP_PORT", str(settings.sandbox_http_port))
    monkeypatch.setenv("KDB_SANDBOX_MANAGEMENT_PORT", str(settings.sandbox_management_port))


@pytest.fixture(scope="session")
def sandbox_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the session's sandbox: its own state dir and free loopback ports."""
    return load_settings(
        state_dir=tmp_path_factory.mktemp("sandbox"),
        sandbox_http_port=free_port(),
        sandbox_management_port=free_port(),
        bridge_port=free_port(),  # Keycloak's CIBA channel calls a bridge there (#16)
    )


@pytest.fixture(scope="session")
def keycloak_sandbox(
    sandbox_settings: Settings, pytestconfig: pytest.Config
) -> Iterator[SandboxKeycloak]:
    """The real Keycloak 26.7.3 with our extension, started once and stopped at the end."""
    keycloak = SandboxKeycloak(sandbox_settings)
    try:
        keycloak.up(progress=lambda message: say(pytestconfig, message))
        yield keycloak
    finally:
        keycloak.down(progress=lambda message: say(pytestconfig, message))


@pytest.fixture(scope="session")
def keycloak_admin(keycloak_sandbox: SandboxKeycloak) -> KeycloakAdmin:
    """A python-keycloak admin client logged in to the sandbox's master realm."""
    settings = keycloak_sandbox.settings
    return KeycloakAdmin(
        server_url=keycloak_sandbox.url,
        username=settings.sandbox_admin_username,
        password=settings.sandbox_admin_password.get_secret_value(),
        realm_name="master",
        user_realm_name="master",
    )
