"""The assurance mode in the tenant file: apply binds the flow, plan is then empty, a change
back rebinds Keycloak's flow, and export writes the mode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]


def test_apply_switches_the_mode_with_its_flow(
    cli: Cli, kc: Keycloak, names: Names, tmp_path: Path
) -> None:
    """step-up binds kdb-step-up-browser; the next plan is empty; enforce binds browser."""
    p, c = names("p"), names("c")
    path = tmp_path / "fleet.yaml"

    def declare(mode: str) -> None:
        path.write_text(
            f"version: 1\npartners:\n  {p}:\n    duo: {{enabled: true, assurance: {mode}}}\n"
            f"    clients:\n      {c}:\n        duo: {{assurance: {mode}}}\n",
            encoding="utf-8",
        )

    declare("step-up")
    code, out, err = cli("apply", path, "--parallel", "1")
    assert code == 0, (out, err)
    assert kc.get_realm(p)["browserFlow"] == attr.STEP_UP_FLOW
    assert kc.get_realm(c)["browserFlow"] == attr.STEP_UP_FLOW
    assert cli("plan", path)[0] == 0
    code, out, _ = cli("export", "--partner", p)
    assert "assurance: step-up" in out
    declare("enforce")
    code, out, err = cli("apply", path, "--parallel", "1")
    assert code == 0, (out, err)
    assert kc.get_realm(p)["browserFlow"] == "browser"
    assert kc.get_realm(c)["attributes"][attr.DUO_ASSURANCE] == "enforce"
    assert cli("plan", path)[0] == 0
    tenants.delete_tenant(kc, p, cascade=True)
