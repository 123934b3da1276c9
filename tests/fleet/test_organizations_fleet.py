"""plan, apply and export of clients kept as organizations, against the sandbox Keycloak."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import organizations, record, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from keycloak_duo_bridge.envelope import KeyRing
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]
NO_CHANGES = "No changes: Keycloak matches the tenant file."


def fleet_file(  # noqa: PLR0917
    p: str,
    org: str,
    bare: str,
    partner_duo: IntegrationCredentials,
    org_duo: IntegrationCredentials,
    remember: str,
) -> str:
    """A partner with Duo on, and two client organizations: one with its own Duo and app
    modes, one bare."""
    return f"""\
version: 1
partners:
  {p}:
    duo:
      enabled: true
      ikey: {partner_duo.client_id}
      api_host: {partner_duo.api_host}
      skey: env:P_SKEY
    clients:
      {org}:
        as: organization
        display_name: Initech
        duo:
          enabled: true
          ikey: {org_duo.client_id}
          api_host: {org_duo.api_host}
          skey: env:ORG_SKEY
          remember: {remember}
          user_mode: opt-in
        apps:
          account-console: required
          account: "off"
      {bare}: {{as: organization}}
"""


@pytest.fixture
def org_duo(duo_emulator: RunningEmulator) -> IntegrationCredentials:
    """A second Duo application, the organization's own."""
    return duo_emulator.control.add_integration()


@pytest.fixture
def setup(
    tmp_path: Path,
    names: Names,
    integration: IntegrationCredentials,
    org_duo: IntegrationCredentials,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Path, str, str, str, Callable[[str], None]]:
    """A tenant file in tmp_path, its names, and a way to rewrite the organization's remember."""
    monkeypatch.setenv("P_SKEY", integration.client_secret)
    monkeypatch.setenv("ORG_SKEY", org_duo.client_secret)
    p, org, bare = names("op"), names("oi"), names("ob")
    path = tmp_path / "fleet.yaml"

    def write(remember: str) -> None:
        text = fleet_file(p, org, bare, integration, org_duo, remember)
        path.write_text(text, encoding="utf-8")

    write("480")
    return path, p, org, bare, write


def test_apply_creates_organizations_then_plans_nothing_then_one_change(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    ring: KeyRing,
    setup: tuple[Path, str, str, str, Callable[[str], None]],
    org_duo: IntegrationCredentials,
    all_writes: Counter[str],
) -> None:
    """Apply makes the organizations with their Duo settings, sealed skey and app modes, each
    in two writes; a re-plan is empty and a re-apply writes nothing; one edit, one change."""
    path, p, org, bare, write = setup
    code, out, _ = cli("plan", path)
    assert code == 2, out
    assert "Plan: 3 to create, 0 to update, 0 to delete." in out
    assert org_duo.client_secret not in out
    code, out, _ = cli("plan", path, "--json")
    realms = json.loads(out)["realms"]
    assert [(r["realm"], r["action"], r.get("as")) for r in realms] == [
        (p, "create", None),
        (org, "create", "organization"),
        (bare, "create", "organization"),
    ]
    assert {"attribute": "duo.skey", "before": None, "after": "(changed)"} in realms[1]["changes"]

    all_writes.clear()
    code, out, err = cli("apply", path)
    assert code == 0, (out, err)
    assert "3 realm(s) converged, 0 failed" in out
    # per new organization: its create, and one write of its attributes and record
    assert all_writes["create_organization"] == 2
    assert all_writes["update_organization"] == 2
    made = organizations.get_organization(kc, p, org)
    assert made.display_name == "Initech"
    assert made.attributes[attr.DUO_IKEY] == org_duo.client_id
    assert made.attributes[attr.DUO_REMEMBER] == "480"
    assert made.attributes[attr.DUO_USER_MODE] == "opt-in"
    sealed = made.attributes[attr.DUO_SKEY]
    assert org_duo.client_secret not in sealed
    assert ring.decrypt(sealed, realm=made.scope, attribute=attr.DUO_SKEY) == org_duo.client_secret
    assert json.loads(made.attributes[attr.DUO_APPS]) == {
        "account": "off",
        "account-console": "required",
    }
    assert attr.RESOLVED in made.attributes  # the record the extension reads
    assert organizations.get_organization(kc, p, bare).attributes[attr.TENANT_KIND] == "client"

    all_writes.clear()
    code, out, _ = cli("plan", path)
    assert (code, out.strip()) == (0, NO_CHANGES)
    code, out, _ = cli("apply", path, "--json")
    assert (code, json.loads(out)) == (0, {"applied": [], "failed": []})
    assert sum(all_writes.values()) == 0

    write("60")
    code, out, _ = cli("plan", path, "--json")
    assert code == 2, out
    assert json.loads(out)["realms"] == [
        {
            "realm": org,
            "kind": "client",
            "action": "update",
            "as": "organization",
            "changes": [{"attribute": "duo.remember", "before": "480", "after": "60"}],
        }
    ]
    code, out, _ = cli("plan", path)
    assert f"{org}  organization  update" in out
    all_writes.clear()
    assert cli("apply", path)[0] == 0
    assert dict(all_writes) == {"update_organization": 1}
    assert organizations.get_organization(kc, p, org).attributes[attr.DUO_REMEMBER] == "60"
    assert cli("plan", path)[0] == 0
    tenants.delete_tenant(kc, p, cascade=True)


def test_changed_skey_display_name_and_app_plan_and_apply(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    ring: KeyRing,
    setup: tuple[Path, str, str, str, Callable[[str], None]],
    integration: IntegrationCredentials,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new skey shows only as changed and is sealed anew for the organization; a new display
    name and app mode are written to the organization that exists."""
    path, p, org, _, _ = setup
    assert cli("apply", path)[0] == 0
    monkeypatch.setenv("ORG_SKEY", integration.client_secret)
    path.write_text(
        path.read_text(encoding="utf-8")
        .replace("display_name: Initech", "display_name: Initrode")
        .replace('account: "off"', "account: inherit"),
        encoding="utf-8",
    )
    code, out, _ = cli("plan", path, "--json")
    assert code == 2
    assert integration.client_secret not in out
    assert json.loads(out)["realms"][0]["changes"] == [
        {"attribute": "display_name", "before": "Initech", "after": "Initrode"},
        {"attribute": "duo.skey", "before": "(secret)", "after": "(changed)"},
        {"attribute": "apps.account", "before": "off", "after": "inherit"},
    ]
    assert cli("apply", path)[0] == 0
    made = organizations.get_organization(kc, p, org)
    assert made.display_name == "Initrode"
    opened = ring.decrypt(made.attributes[attr.DUO_SKEY], realm=made.scope, attribute=attr.DUO_SKEY)
    assert opened == integration.client_secret
    assert json.loads(made.attributes[attr.DUO_APPS]) == {"account-console": "required"}
    assert cli("plan", path)[0] == 0
    tenants.delete_tenant(kc, p, cascade=True)


def test_export_round_trips_organizations(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    setup: tuple[Path, str, str, str, Callable[[str], None]],
    integration: IntegrationCredentials,
    org_duo: IntegrationCredentials,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Export writes organizations as `as: organization` clients with skey references, and
    plans no change on the same Keycloak, with env: references as with file: ones."""
    path, p, org, bare, _ = setup
    assert cli("apply", path)[0] == 0
    code, out, _ = cli("export", "--partner", p)
    assert code == 0
    assert f"  {org}:\n        as: organization\n        display_name: Initech\n" in out
    assert f"  {bare}:\n        as: organization\n" in out
    org_env = f"KDB_SKEY_{org.upper().replace('-', '_')}"
    assert f"skey: env:{org_env}" in out
    assert org_duo.client_secret not in out
    exported = tmp_path / "exported.yaml"
    exported.write_text(out, encoding="utf-8")
    monkeypatch.setenv(org_env, org_duo.client_secret)
    monkeypatch.setenv(f"KDB_SKEY_{p.upper().replace('-', '_')}", integration.client_secret)
    code, out, _ = cli("plan", exported)
    assert (code, out.strip()) == (0, NO_CHANGES)
    secrets = tmp_path / "out"
    code, _, _ = cli("export", "--partner", p, "-o", secrets / "f.yaml", "--secrets-dir", secrets)
    assert code == 0
    assert (secrets / f"{org}.skey").read_text(encoding="utf-8").strip() == org_duo.client_secret
    assert f"skey: file:{org}.skey" in (secrets / "f.yaml").read_text(encoding="utf-8")
    assert cli("plan", secrets / "f.yaml")[0] == 0
    tenants.delete_tenant(kc, p, cascade=True)


def test_realm_and_organization_names_clash_is_refused(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    setup: tuple[Path, str, str, str, Callable[[str], None]],
    names: Names,
    tmp_path: Path,
    all_writes: Counter[str],
) -> None:
    """A name declared as an organization that is a realm, or as a realm that is an
    organization, is a problem naming `client move`: plan exits 1, apply writes nothing."""
    path, p, org, _, _ = setup
    assert cli("apply", path)[0] == 0
    realm_client = names("rc")
    tenants.create_client(kc, realm_client, partner=p)
    clash = tmp_path / "clash.yaml"
    clash.write_text(
        f"""\
version: 1
partners:
  {p}:
    clients:
      {realm_client}: {{as: organization}}
      {org}: {{as: realm}}
""",
        encoding="utf-8",
    )
    code, out, _ = cli("plan", clash)
    assert code == 1
    assert (
        f"problem: client '{realm_client}' is declared as an organization but is a realm "
        "(`client move` moves a client between the mappings)"
    ) in out
    assert (
        f"problem: client '{org}' is declared as a realm but is an organization of realm '{p}'"
        in out
    )
    all_writes.clear()
    code, _, err = cli("apply", clash)
    assert (code, "the plan has problems, nothing applied" in err) == (1, True)
    assert sum(all_writes.values()) == 0
    tenants.delete_tenant(kc, p, cascade=True)


def test_missing_application_and_foreign_organizations_are_problems(
    cli: Cli, kc: Keycloak, names: Names, tmp_path: Path
) -> None:
    """An app mode for an application the partner realm lacks, an organization that is no
    client, and one kept by another partner are problems."""
    p, q, plain, theirs = names("op"), names("oq"), names("plain"), names("theirs")
    for partner in (p, q):
        tenants.create_partner(kc, partner)
    organizations.create_organization(kc, theirs, partner=q)
    record.store(kc, p, fields={record.ORGANIZATIONS_ENABLED: True})
    kc.create_organization(p, {"name": plain, "alias": plain, "enabled": True})
    path = tmp_path / "fleet.yaml"
    path.write_text(
        f"""\
version: 1
partners:
  {p}:
    clients:
      {names("new")}:
        as: organization
        apps: {{nope: required}}
      {plain}: {{as: organization}}
      {theirs}: {{as: organization}}
  {q}: {{}}
""",
        encoding="utf-8",
    )
    code, out, _ = cli("plan", path)
    assert code == 1, out
    assert f"problem: application 'nope' does not exist in realm '{p}'" in out
    assert f"problem: organization '{plain}' exists in realm '{p}' and is not a client" in out
    assert f"problem: client '{theirs}' is an organization of realm '{q}', not '{p}'" in out
    tenants.delete_tenant(kc, p)
    tenants.delete_tenant(kc, q)


def test_prune_deletes_undeclared_organizations_of_declared_partners(
    cli: Cli,
    kc: Keycloak,
    setup: tuple[Path, str, str, str, Callable[[str], None]],
    names: Names,
) -> None:
    """--prune plans the deletion of a client organization the file leaves out, asks first,
    and deletes it; the declared ones stay."""
    path, p, org, bare, _ = setup
    assert cli("apply", path)[0] == 0
    extra = names("ox")
    organizations.create_organization(kc, extra, partner=p)
    match = f"*-{p.rsplit('-', 1)[1]}"
    code, out, _ = cli("plan", path, "--prune", "--prune-match", match, "--json")
    assert code == 2, out
    assert json.loads(out)["realms"] == [
        {"realm": extra, "kind": "client", "action": "delete", "as": "organization", "changes": []}
    ]
    code, _, err = cli("apply", path, "--prune", "--prune-match", match)
    assert (code, "refusing without a terminal" in err) == (1, True)
    assert kc.find_organization(p, extra) is not None
    code, out, _ = cli("apply", path, "--prune", "--prune-match", match, "--yes")
    assert code == 0, out
    assert kc.find_organization(p, extra) is None
    assert [o.name for o in organizations.list_organizations(kc, p)] == sorted([org, bare])
    tenants.delete_tenant(kc, p, cascade=True)
