"""plan, apply and export against the sandbox Keycloak, through the CLI."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import tenants, wiring
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.emulator import IntegrationCredentials
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]


def tenant_file(p: str, a: str, b: str, integration: IntegrationCredentials, mode: str) -> str:
    """A partner with Duo on and two clients; ``mode`` is the partner's account-console mode."""
    return f"""\
version: 1
partners:
  {p}:
    display_name: Partner P
    branding_url: https://p.example.test
    duo:
      enabled: true
      ikey: {integration.client_id}
      api_host: {integration.api_host}
      skey: env:P_SKEY
      user_mode: opt-in
    apps:
      account-console: {mode}
    clients:
      {a}:
        duo:
          remember: 30
          bypass_groups: [/break-glass]
        apps:
          account: "off"
      {b}: {{}}
"""


@pytest.fixture
def setup(
    tmp_path: Path,
    names: Names,
    integration: IntegrationCredentials,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Path, str, str, str, Callable[[str], None]]:
    """A tenant file in tmp_path, its realm names, and a way to rewrite it."""
    monkeypatch.setenv("P_SKEY", integration.client_secret)
    p, a, b = names("p"), names("a"), names("b")
    path = tmp_path / "fleet.yaml"

    def write(mode: str) -> None:
        path.write_text(tenant_file(p, a, b, integration, mode), encoding="utf-8")

    write("required")
    return path, p, a, b, write


def test_plan_apply_idempotent_and_one_change(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    setup: tuple[Path, str, str, str, Callable[[str], None]],
    integration: IntegrationCredentials,
    all_writes: Counter[str],
    tmp_path: Path,
) -> None:
    """Plan shows creates; apply converges; a second apply writes nothing; one edit, one change."""
    path, p, a, b, write = setup
    code, out, _ = cli("plan", path)
    assert code == 2, out
    assert "Plan: 3 to create, 0 to update, 0 to delete." in out
    assert integration.client_secret not in out
    code, out, _ = cli("plan", path, "--json")
    plan = json.loads(out)
    assert [(r["realm"], r["action"]) for r in plan["realms"]] == [
        (p, "create"),
        (a, "create"),
        (b, "create"),
    ]
    skey = next(c for c in plan["realms"][0]["changes"] if c["attribute"] == "duo.skey")
    assert skey == {"attribute": "duo.skey", "before": None, "after": "(changed)"}
    assert sum(all_writes.values()) == 0  # plan writes nothing

    code, out, err = cli("apply", path, "--parallel", "2")
    assert code == 0, (out, err)
    assert "3 realm(s) converged, 0 failed" in out
    assert "[3/3]" in err
    assert kc.get_realm(p)["attributes"][attr.DUO_USER_MODE] == "opt-in"
    assert kc.get_realm(a)["attributes"][attr.DUO_REMEMBER] == "30"
    assert wiring.is_wired(kc, b)  # inherits "on" from the partner
    assert json.loads(kc.get_realm(a)["attributes"][attr.DUO_APPS]) == {"account": "off"}

    all_writes.clear()
    code, out, _ = cli("plan", path)
    assert (code, out.strip()) == (0, "No changes: Keycloak matches the tenant file.")
    code, out, _ = cli("apply", path, "--json")
    assert code == 0
    assert json.loads(out) == {"applied": [], "failed": []}
    assert sum(all_writes.values()) == 0

    write("off")
    code, out, err = cli("plan", path, "--json", "--out", tmp_path / "plan.json")
    assert code == 2, (out, err)
    assert json.loads(out)["realms"] == [
        {
            "realm": p,
            "kind": "partner",
            "action": "update",
            "changes": [
                {"attribute": "apps.account-console", "before": "required", "after": "off"}
            ],
        }
    ]
    write("inherit")
    code, _, err = cli("apply", path, "--plan-file", tmp_path / "plan.json")
    assert code == 1
    assert "the plan changed since" in err
    write("off")
    code, out, _ = cli("apply", path, "--plan-file", tmp_path / "plan.json")
    assert code == 0, out
    assert json.loads(kc.get_realm(p)["attributes"][attr.DUO_APPS])["account-console"] == "off"
    code, _, err = cli("apply", path, "--plan-file", tmp_path / "missing.json")
    assert (code, "cannot read the plan file" in err) == (1, True)
    tenants.delete_tenant(kc, p, cascade=True)


def test_secret_change_shows_only_as_changed(
    cli: Cli,
    kc: Keycloak,
    setup: tuple[Path, str, str, str, Callable[[str], None]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new skey is planned as "(changed)", decided by decryption, never shown."""
    path, p, _, _, _ = setup
    assert cli("apply", path)[0] == 0
    other = "Z" * 40
    monkeypatch.setenv("P_SKEY", other)
    code, out, _ = cli("plan", path)
    assert code == 2
    assert other not in out
    assert "duo.skey" in out
    assert "(secret)" in out
    assert "(changed)" in out
    tenants.delete_tenant(kc, p, cascade=True)


def test_export_then_apply_to_empty_realms_plans_no_changes(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    setup: tuple[Path, str, str, str, Callable[[str], None]],
    integration: IntegrationCredentials,
    tmp_path: Path,
    names: Names,
) -> None:
    """Round trip: export (secrets as file references), delete, apply, plan shows no changes."""
    path, p, _, _, _ = setup
    assert cli("apply", path)[0] == 0
    other = names("other")
    tenants.create_partner(kc, other)
    exported = tmp_path / "out" / "exported.yaml"
    exported.parent.mkdir()
    code, out, _ = cli(
        "export", "--partner", p, "-o", exported, "--secrets-dir", tmp_path / "out" / "secrets"
    )
    assert (code, out.strip()) == (0, f"wrote {exported}")
    text = exported.read_text(encoding="utf-8")
    assert integration.client_secret not in text
    assert other not in text
    assert f"skey: file:secrets/{p}.skey" in text
    assert (tmp_path / "out" / "secrets" / f"{p}.skey").stat().st_mode & 0o777 == 0o600
    code, out, _ = cli("export", "--partner", p)
    assert f"env:KDB_SKEY_{p.upper().replace('-', '_')}" in out
    tenants.delete_tenant(kc, p, cascade=True)
    code, out, err = cli("apply", exported)
    assert code == 0, (out, err)
    code, out, _ = cli("plan", exported)
    assert (code, out.strip()) == (0, "No changes: Keycloak matches the tenant file.")
    assert cli("plan", path)[0] == 0  # and it still matches the original file
    code, _, err = cli("export", "--partner", "no-such-partner")
    assert (code, "is not a partner" in err) == (1, True)
    tenants.delete_tenant(kc, p, cascade=True)
    tenants.delete_tenant(kc, other)


def test_prune_deletes_undeclared_tenants_after_confirmation(
    cli: Cli,
    kc: Keycloak,
    setup: tuple[Path, str, str, str, Callable[[str], None]],
    names: Names,
) -> None:
    """--prune plans deletions of undeclared tenants and asks before deleting them."""
    path, p, _, _, _ = setup
    assert cli("apply", path)[0] == 0
    extra, lone = names("extra"), names("lone")
    tenants.create_client(kc, extra, partner=p)
    tenants.create_partner(kc, lone)
    match = f"*-{p.rsplit('-', 1)[1]}"
    code, out, _ = cli("plan", path, "--prune", "--prune-match", match, "--json")
    assert code == 2
    assert [(r["realm"], r["action"]) for r in json.loads(out)["realms"]] == [
        (extra, "delete"),
        (lone, "delete"),
    ]
    code, _, err = cli("apply", path, "--prune", "--prune-match", match)
    assert code == 1
    assert "refusing without a terminal" in err
    assert kc.find_realm(extra) is not None
    code, out, _ = cli("apply", path, "--prune", "--prune-match", match, "--yes")
    assert code == 0, out
    assert kc.find_realm(extra) is None
    assert kc.find_realm(lone) is None
    tenants.delete_tenant(kc, p, cascade=True)


def test_problems_stop_plan_and_apply(cli: Cli, kc: Keycloak, names: Names, tmp_path: Path) -> None:
    """A missing application or a realm of the wrong kind is a problem: exit 1, nothing applied."""
    p, c = names("p"), names("c")
    tenants.create_partner(kc, p)
    tenants.create_client(kc, c, partner=p)
    path = tmp_path / "fleet.yaml"
    path.write_text(
        f"version: 1\npartners:\n  {p}:\n    apps: {{nope: required}}\n  {c}: {{}}\n",
        encoding="utf-8",
    )
    code, out, _ = cli("plan", path)
    assert code == 1
    assert f"problem: application 'nope' does not exist in realm '{p}'" in out
    assert f"problem: realm '{c}' exists and is not a partner" in out
    code, _, err = cli("apply", path)
    assert (code, "the plan has problems, nothing applied" in err) == (1, True)
    tenants.delete_tenant(kc, p, cascade=True)
