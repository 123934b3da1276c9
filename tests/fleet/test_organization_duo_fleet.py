"""A client organization's own Duo in the tenant file (issue 18): ``duo: provision`` through
the partner's admin link, and Auth API keys sealed for the organization, each planned,
applied, exported and planned again to nothing, on the sandbox Keycloak through the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import organizations, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import NotFoundError
from tests.admin.conftest import Names
from tests.fixtures_provisioning import LinkPartner

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]


def clients_file(partner: str, clients: dict[str, str]) -> str:
    """``partner`` with client organizations, each with the flow-style ``duo:`` given."""
    lines = [f"version: 1\npartners:\n  {partner}:\n    clients:\n"]
    lines += [
        f"      {name}:\n        as: organization\n        duo: {duo}\n"
        for name, duo in clients.items()
    ]
    return "".join(lines)


def test_an_organization_is_provisioned_once_and_its_export_plans_nothing(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    names: Names,
    tmp_path: Path,
    link_partner: LinkPartner,
    duo_emulator: RunningEmulator,
) -> None:
    """`duo: provision` on a client organization gets it its own Duo application on apply,
    once; export says `provision: true` and plans nothing; a refused provisioning leaves no
    organization and nothing in Duo."""
    p, c, bad = names("op"), names("oc"), names("ox")
    path = tmp_path / "fleet.yaml"
    path.write_text(f"version: 1\npartners:\n  {p}: {{}}\n", encoding="utf-8")
    assert cli("apply", path, "--parallel", "1")[0] == 0
    link_partner(p)
    path.write_text(clients_file(p, {c: "provision"}), encoding="utf-8")
    code, out, _ = cli("plan", path)
    assert (code, "duo.provision" in out) == (2, True)
    code, out, err = cli("apply", path, "--parallel", "1")
    assert code == 0, (out, err)
    own = organizations.get_organization(kc, p, c).attributes
    assert own[attr.DUO_IKEY] == own[attr.DUO_PROVISIONED_IKEY]
    made = [i.client_id for i in duo_emulator.state.integrations() if c in i.name]
    assert made == [own[attr.DUO_IKEY]]
    assert cli("plan", path)[0] == 0
    exported = tmp_path / "exported.yaml"
    assert cli("export", "--partner", p, "-o", exported)[0] == 0
    assert "provision: true" in exported.read_text(encoding="utf-8")
    assert cli("plan", exported)[0] == 0

    link_partner(p, refusal="admin_api_not_in_plan")
    path.write_text(clients_file(p, {c: "provision", bad: "{provision: true}"}), "utf-8")
    code, out, err = cli("apply", path, "--parallel", "1")
    assert code == 1
    assert "paid editions" in out + err
    with pytest.raises(NotFoundError):
        organizations.get_organization(kc, p, bad)
    assert [i for i in duo_emulator.state.integrations() if bad in i.name] == []
    tenants.delete_tenant(kc, p, cascade=True)


def test_an_organizations_auth_api_keys_are_checked_sealed_exported_and_inherited(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    names: Names,
    ring: KeyRing,
    auth_api_creds: AuthApiCredentials,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Auth API keys Duo refuses make no organization; accepted ones are stored with the
    skey sealed for the organization, plan nothing more, export as a reference and plan
    nothing from it; a changed skey plans as `(changed)` only; `inherit` removes them."""
    p, c = names("oa"), names("ob")
    path = tmp_path / "fleet.yaml"
    keys = f"{{ikey: {auth_api_creds.ikey}, api_host: '{auth_api_creds.api_host}',"
    declared = f"{{auth_api: {keys} skey: env:ORG_AUTHAPI}}}}"
    path.write_text(f"version: 1\npartners:\n  {p}: {{}}\n", encoding="utf-8")
    assert cli("apply", path)[0] == 0
    path.write_text(clients_file(p, {c: declared}), encoding="utf-8")
    wrong = "y" * 40
    monkeypatch.setenv("ORG_AUTHAPI", wrong)
    code, out, err = cli("apply", path)
    assert code == 1
    assert "Duo rejected the Auth API credentials" in out + err
    assert wrong not in out + err
    with pytest.raises(NotFoundError):
        organizations.get_organization(kc, p, c)

    monkeypatch.setenv("ORG_AUTHAPI", auth_api_creds.skey)
    code, out, err = cli("apply", path)
    assert code == 0, (out, err)
    organization = organizations.get_organization(kc, p, c)
    stored = organization.attributes
    assert stored[attr.AUTH_API_IKEY] == auth_api_creds.ikey
    sealed = stored[attr.AUTH_API_SKEY]
    opened = ring.decrypt(sealed, realm=organization.scope, attribute=attr.AUTH_API_SKEY)
    assert opened == auth_api_creds.skey
    assert cli("plan", path)[0] == 0

    monkeypatch.setenv("ORG_AUTHAPI", wrong)
    code, out, _ = cli("plan", path)
    assert (code, "duo.auth_api.skey" in out, "(changed)" in out) == (2, True, True)
    assert wrong not in out
    monkeypatch.setenv("ORG_AUTHAPI", auth_api_creds.skey)

    secrets = tmp_path / "out" / "secrets"
    exported = tmp_path / "out" / "exported.yaml"
    code, _, _ = cli("export", "--partner", p, "-o", exported, "--secrets-dir", secrets)
    assert code == 0
    assert f"skey: file:secrets/{c}.authapi.skey" in exported.read_text(encoding="utf-8")
    assert cli("plan", exported)[0] == 0

    path.write_text(clients_file(p, {c: "{auth_api: inherit}"}), encoding="utf-8")
    code, out, _ = cli("plan", path)
    assert (code, "duo.auth_api.ikey" in out) == (2, True)
    assert cli("apply", path)[0] == 0
    remaining = organizations.get_organization(kc, p, c).attributes
    assert not {attr.AUTH_API_IKEY, attr.AUTH_API_HOST, attr.AUTH_API_SKEY} & set(remaining)
    assert cli("plan", path)[0] == 0
    tenants.delete_tenant(kc, p, cascade=True)
