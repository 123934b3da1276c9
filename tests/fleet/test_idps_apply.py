"""Identity-provider policies and brokered enrolment in the tenant file: apply writes them
(and the record), plan is then empty, export writes them back, and ``idps: {}`` clears."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]


def test_apply_writes_idp_policies_and_clears_them(
    cli: Cli, kc: Keycloak, names: Names, tmp_path: Path
) -> None:
    """A trusted IdP with its proof and a confirmed off one; known-only enrolment."""
    p, c = names("p"), names("c")
    path = tmp_path / "fleet.yaml"

    def declare(idps: str) -> None:
        path.write_text(
            f"version: 1\npartners:\n  {p}:\n    clients:\n      {c}:\n"
            f"        duo: {{brokered_enrollment: known-only}}\n        idps: {idps}\n",
            encoding="utf-8",
        )

    declare(
        "{sso: {policy: trust-upstream-mfa, amr: [mfa]}, old: {policy: off, confirm_off: true}}"
    )
    code, out, err = cli("apply", path, "--parallel", "1")
    assert code == 0, (out, err)
    stored = kc.get_realm(c)["attributes"]
    assert json.loads(stored[attr.DUO_IDPS]) == {
        "old": {"mode": "off"},
        "sso": {"mode": "trust-upstream-mfa", "amr": ["mfa"]},
    }
    assert stored[attr.DUO_BROKERED_ENROLLMENT] == "known-only"
    assert json.loads(stored[attr.RESOLVED])["idp_trusted"] == ["sso"]
    assert record.state_of(stored, None, realm=c) is not record.RecordState.MISSING
    assert cli("plan", path)[0] == 0
    code, out, _ = cli("export", "--partner", p)
    assert "confirm_off: true" in out
    assert "brokered_enrollment: known-only" in out
    declare("{}")
    code, out, err = cli("apply", path, "--parallel", "1")
    assert code == 0, (out, err)
    assert attr.DUO_IDPS not in kc.get_realm(c)["attributes"]
    tenants.delete_tenant(kc, p, cascade=True)
