"""A jar built for other Keycloak releases refuses to start, rather than fail at a login."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge import versions
from keycloak_duo_bridge.errors import SandboxError
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.settings import load_settings

pytestmark = [pytest.mark.keycloak, pytest.mark.versions]


class Overridden(SandboxKeycloak):
    """The sandbox Keycloak started with the extension's escape hatch."""

    def command(self) -> list[str]:
        option = "--spi-required-action--duo-step-up--allow-unsupported-keycloak=true"
        return [*super().command(), option]


def test_keycloak_outside_the_range_does_not_start(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of range, Keycloak stops at startup naming the fix; the override starts it, warned."""
    version = versions.TESTED[0]
    monkeypatch.setattr(versions, "SUPPORTED_MIN", "25.0")
    monkeypatch.setattr(versions, "SUPPORTED_MAX", "26.3")
    keycloak = SandboxKeycloak(
        load_settings(
            state_dir=tmp_path_factory.mktemp("unsupported"),
            keycloak_version=version,
            sandbox_http_port=free_port(),
            sandbox_management_port=free_port(),
        )
    )
    try:
        with pytest.raises(SandboxError, match="Keycloak exited with code"):
            keycloak.up()
    finally:
        keycloak.down()
    log = keycloak.log_file.read_text(encoding="utf-8", errors="replace")
    problem = (
        f"keycloak-duo-bridge extension 0.1.0 does not support Keycloak {version}: it was built"
        f" against {version} and supports 25.0 to 26.3."
    )
    assert problem in log
    assert "refusing to start (set --spi-required-action--duo-step-up--allow-unsup" in log
    overridden = Overridden(keycloak.settings)
    try:
        assert overridden.up().ready
    finally:
        overridden.down()
    log = overridden.log_file.read_text(encoding="utf-8", errors="replace")
    assert problem in log
    assert "starting anyway because allow-unsupported-keycloak=true" in log
