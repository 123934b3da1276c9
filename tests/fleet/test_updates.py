"""apply on existing tenants: updates, a move, rewiring, a failed realm, a declined prune."""

from __future__ import annotations

import builtins
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import tenants, wiring
from keycloak_duo_bridge.admin.keycloak import Keycloak
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]


def test_updates_move_and_rewire(cli: Cli, kc: Keycloak, names: Names, tmp_path: Path) -> None:
    """Existing tenants are updated in place; a partner switched on wires undeclared clients."""
    p, q, c, u = names("p"), names("q"), names("c"), names("u")
    tenants.create_partner(kc, p)
    tenants.create_partner(kc, q)
    tenants.create_client(kc, c, partner=p)
    tenants.create_client(kc, u, partner=p)  # not in the file
    path = tmp_path / "fleet.yaml"
    path.write_text(
        f"""\
version: 1
partners:
  {p}:
    display_name: P two
    branding_url: https://p2.example.test
    duo: {{enabled: true, user_mode: opt-in}}
  {q}:
    clients:
      {c}:
        display_name: C two
""",
        encoding="utf-8",
    )
    code, out, err = cli("apply", path, "--parallel", "1")
    assert code == 0, (out, err)
    assert tenants.get_tenant(kc, p).branding_url == "https://p2.example.test"
    assert tenants.get_tenant(kc, p).attributes[attr.DUO_USER_MODE] == "opt-in"
    assert tenants.get_tenant(kc, c).partner == q
    assert tenants.get_tenant(kc, c).display_name == "C two"
    assert wiring.is_wired(kc, p)
    assert wiring.is_wired(kc, u)  # follows its partner though the file does not name it
    assert not wiring.is_wired(kc, c)  # moved to q, which has Duo off

    scope = next(s for s in kc.get_client_scopes(p) if s["name"] == attr.CLIENT_SCOPE)
    kc.delete_client_scope(p, scope["id"])  # as if an earlier apply was interrupted
    code, out, _ = cli("plan", path, "--parallel", "1")
    assert code == 2
    assert "duo.wiring" in out
    assert "partial" in out
    assert cli("apply", path)[0] == 0
    assert cli("plan", path)[0] == 0
    tenants.delete_tenant(kc, p, cascade=True)
    tenants.delete_tenant(kc, q, cascade=True)


def test_a_failed_realm_is_reported(cli: Cli, kc: Keycloak, names: Names, tmp_path: Path) -> None:
    """A realm that cannot converge is named on stderr; apply exits 1; the others converge."""
    p = names("p")
    path = tmp_path / "fleet.yaml"
    path.write_text(f"version: 1\npartners:\n  {p}:\n    apps: {{nope: required}}\n")
    code, out, err = cli("apply", path)
    assert code == 1
    assert f"failed: {p}: application 'nope' does not exist in realm '{p}'" in err
    assert "0 realm(s) converged, 1 failed" in out
    code, _, err = cli("apply", path, "--json")  # the realm exists now: a plan problem
    assert code == 1
    assert "the plan has problems, nothing applied" in err
    tenants.delete_tenant(kc, p)


def test_declined_prune_deletes_nothing(
    cli: Cli, kc: Keycloak, names: Names, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answering no at the prune question applies nothing."""
    p, x = names("p"), names("x")
    tenants.create_partner(kc, p)
    tenants.create_partner(kc, x)
    path = tmp_path / "fleet.yaml"
    path.write_text(f"version: 1\npartners:\n  {p}: {{}}\n")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(builtins, "input", lambda _prompt: "n")
    code, out, _ = cli("apply", path, "--prune", "--prune-match", x)
    assert (code, out.splitlines()[-1]) == (1, "nothing applied")
    assert kc.find_realm(x) is not None
    tenants.delete_tenant(kc, p)
    tenants.delete_tenant(kc, x)
