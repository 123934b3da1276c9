"""The tenant file's `as: organization` clients: the mapping, and what organizations refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from keycloak_duo_bridge.attributes import AppMode
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.fleet import spec

SKEY = "s" * 40
IKEY = "DI" + "A" * 18


def parse(clients: str, tmp_path: Path) -> spec.FleetSpec:
    """Parse a file with partner acme and ``clients`` (YAML, indented under it)."""
    text = f"version: 1\npartners:\n  acme:\n    clients:\n{clients}"
    return spec.parse(text, tmp_path / "fleet.yaml", {"ORG_SKEY": SKEY})


def test_clients_are_realms_unless_declared_organizations(tmp_path: Path) -> None:
    """`as` defaults to realm; `as: organization` keeps the client's Duo settings and apps."""
    fleet = parse(
        f"""\
      globex: {{}}
      hooli: {{as: realm}}
      initech:
        as: organization
        display_name: Initech
        duo:
          enabled: true
          ikey: {IKEY}
          api_host: api-1.example.com
          skey: env:ORG_SKEY
          remember: 480
        apps: {{payroll: required}}
      wayne: {{as: organization}}
""",
        tmp_path,
    )
    _, globex, hooli, initech, wayne = fleet.tenants
    assert (wayne.mapping, wayne.duo) == ("organization", spec.DuoSpec())
    assert (globex.mapping, globex.is_organization) == ("realm", False)
    assert hooli.mapping == "realm"
    assert (initech.mapping, initech.is_organization) == ("organization", True)
    assert (initech.partner, initech.display_name) == ("acme", "Initech")
    assert initech.duo.credentials is not None
    assert initech.duo.credentials.skey.value == SKEY
    assert initech.apps == {"payroll": AppMode.REQUIRED}


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (
            "{as: tenant}",
            5,
            "partners.acme.clients.initech.as: expected realm or organization, not 'tenant'",
        ),
        (
            "\n        as: organization\n        idps: {}",
            7,
            "partners.acme.clients.initech.idps: identity providers are the partner realm's own",
        ),
        (
            "\n        as: organization\n        duo: {remember: 30,\n    duo_username: email}",
            8,
            "initech.duo.duo_username: the Duo username mapping is the partner realm's own",
        ),
        (
            "\n        as: organization\n        duo: {assurance: step-up}",
            7,
            "initech.duo.assurance: the assurance mode is the partner realm's own",
        ),
        (
            "\n        as: organization\n        duo: {brokered_username: account}",
            7,
            "initech.duo.brokered_username: brokered users' rules are the partner realm's own",
        ),
    ],
)
def test_what_organizations_do_not_support_is_refused_at_its_line(
    tmp_path: Path, body: str, line: int, message: str
) -> None:
    """A bad `as`, and the partner realm's own settings on an organization, fail at the line."""
    with pytest.raises(ConfigError) as caught:
        parse(f"      initech: {body}\n", tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / 'fleet.yaml'}:{line}: ")
    assert message in str(caught.value)
