"""``duo: provision`` in the tenant file (issue 17): plan names it, apply provisions the
client through its partner's admin link (once), undoes a failure, and export writes it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.errors import ConfigError, NotFoundError
from keycloak_duo_bridge.fleet import spec as fleet_spec
from tests.admin.conftest import Names
from tests.fixtures_provisioning import LinkPartner

Cli = Callable[..., tuple[int, str, str]]


def apps_named(emulator: RunningEmulator, realm: str) -> list[str]:
    return [i.client_id for i in emulator.state.integrations() if f"({realm})" in i.name]


@pytest.mark.keycloak
def test_apply_provisions_once_and_export_writes_it(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    names: Names,
    tmp_path: Path,
    link_partner: LinkPartner,
    duo_emulator: RunningEmulator,
) -> None:
    """A declared client with `duo: provision` gets its Duo application and keys on apply;
    the next plan is empty and a second apply makes nothing; export says `provision: true`;
    a refused provisioning leaves no realm and nothing in Duo."""
    p, c, bad = names("fp"), names("fc"), names("fx")
    path = tmp_path / "fleet.yaml"
    path.write_text(f"version: 1\npartners:\n  {p}: {{}}\n", encoding="utf-8")
    assert cli("apply", path, "--parallel", "1")[0] == 0
    link_partner(p)
    path.write_text(
        f"version: 1\npartners:\n  {p}:\n    clients:\n      {c}:\n        duo: provision\n",
        encoding="utf-8",
    )
    code, out, _ = cli("plan", path)
    assert (code, "duo.provision" in out) == (2, True)
    code, out, err = cli("apply", path, "--parallel", "1")
    assert code == 0, (out, err)
    own = kc.get_realm(c)["attributes"]
    assert own[attr.DUO_IKEY] == own[attr.DUO_PROVISIONED_IKEY]
    assert apps_named(duo_emulator, c) == [own[attr.DUO_IKEY]]
    assert cli("plan", path)[0] == 0
    assert cli("apply", path, "--parallel", "1")[0] == 0
    assert apps_named(duo_emulator, c) == [own[attr.DUO_IKEY]]
    code, out, _ = cli("export", "--partner", p)
    assert "provision: true" in out
    assert own[attr.DUO_IKEY] not in out

    link_partner(p, refusal="admin_api_not_in_plan")
    path.write_text(
        f"version: 1\npartners:\n  {p}:\n    clients:\n"
        f"      {c}:\n        duo: {{provision: true}}\n"
        f"      {bad}:\n        duo: {{provision: true, enabled: true}}\n",
        encoding="utf-8",
    )
    code, out, err = cli("apply", path, "--parallel", "1")
    assert code == 1
    assert "paid editions" in out + err
    with pytest.raises(NotFoundError):
        tenants.get_tenant(kc, bad)
    assert apps_named(duo_emulator, bad) == []
    tenants.delete_tenant(kc, p, cascade=True)


@pytest.mark.parametrize(
    ("duo", "said"),
    [
        ("provision", "only a client's Duo is provisioned"),
        ("{provision: maybe}", "expected true or false"),
    ],
)
def test_the_spec_refuses_provisioning_a_partner_or_a_bad_value(
    tmp_path: Path, duo: str, said: str
) -> None:
    """`duo: provision` is for clients, and `provision:` takes true or false."""
    path = tmp_path / "fleet.yaml"
    path.write_text(f"version: 1\npartners:\n  acme:\n    duo: {duo}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=said):
        fleet_spec.load(path)


def test_the_spec_refuses_provision_with_keys(tmp_path: Path) -> None:
    """Keys come either from provisioning or from the file, not both."""
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "version: 1\npartners:\n  acme:\n    clients:\n      globex:\n        duo:\n"
        "          provision: true\n          ikey: DIAAAAAAAAAAAAAAAAAA\n"
        "          api_host: api-1.duosecurity.com\n          skey: env:GLOBEX_SKEY\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="either provision or"):
        fleet_spec.load(path, {"GLOBEX_SKEY": "s" * 40})
    path.write_text(
        "version: 1\npartners:\n  acme:\n    clients:\n      globex:\n"
        "        duo: {provision: false}\n",
        encoding="utf-8",
    )
    (_, client) = fleet_spec.load(path).tenants
    assert client.duo.provision is False
