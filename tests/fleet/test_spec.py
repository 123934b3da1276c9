"""The tenant file: schema, secret references and line-numbered validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from keycloak_duo_bridge.attributes import AppMode, TenantKind
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.fleet import spec

SKEY = "s" * 40
IKEY = "DI" + "A" * 18
GOOD = f"""\
version: 1
partners:
  acme:
    display_name: Acme
    branding_url: https://acme.example.com/
    duo:
      enabled: true
      ikey: {IKEY}
      api_host: api-1.example.com
      skey: env:ACME_SKEY
      user_mode: opt-in
      fail_mode: open
      bypass_groups: [/break-glass]
      remember: 30
    apps:
      portal: required
    clients:
      north:
        duo:
          enabled: inherit
          bypass_groups: inherit
        apps: {{legacy: off, old: "off"}}
      south: {{}}
"""


def parse(text: str, tmp_path: Path, **environ: str) -> spec.FleetSpec:
    """Parse ``text`` as tmp_path/fleet.yaml."""
    return spec.parse(text, tmp_path / "fleet.yaml", {"ACME_SKEY": SKEY, **environ})


def test_a_full_file(tmp_path: Path) -> None:
    """Every documented key parses, normalised; clients follow their partner."""
    fleet = parse(GOOD, tmp_path)
    acme, north, south = fleet.tenants
    assert (acme.kind, acme.line, acme.branding_url) == (
        TenantKind.PARTNER,
        3,
        "https://acme.example.com",
    )
    assert acme.duo.enabled == "true"
    assert acme.duo.credentials is not None
    assert acme.duo.credentials.skey.value == SKEY
    assert SKEY not in repr(acme)
    assert acme.duo.policy.changes()["kdb.duo.remember"] == "30"
    assert acme.apps == {"portal": AppMode.REQUIRED}
    assert (north.partner, north.duo.enabled, north.apps) == (
        "acme",
        "inherit",
        {"legacy": "off", "old": "off"},
    )
    assert north.duo.policy.bypass_groups == ["inherit"]
    assert south.duo == spec.DuoSpec()
    assert fleet.partners == (acme,)
    assert fleet.clients == (north, south)
    assert fleet.names() == {"acme", "north", "south"}


def test_file_reference_is_relative_to_the_tenant_file(tmp_path: Path) -> None:
    """``file:PATH`` is read relative to the tenant file, and stripped."""
    (tmp_path / "acme.skey").write_text(SKEY + "\n", encoding="utf-8")
    path = tmp_path / "fleet.yaml"
    path.write_text(GOOD.replace("env:ACME_SKEY", "file:acme.skey"), encoding="utf-8")
    credentials = spec.load(path, {}).tenants[0].duo.credentials
    assert credentials is not None
    assert credentials.skey == spec.SecretRef("file:acme.skey", SKEY)


def test_load_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an explicit environment, references resolve against os.environ."""
    monkeypatch.setenv("ACME_SKEY", SKEY)
    path = tmp_path / "fleet.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert spec.load(path).tenants[0].duo.credentials is not None


def test_plaintext_skey_is_rejected_without_echo(tmp_path: Path) -> None:
    """A literal skey fails with its line, and the message never repeats it."""
    with pytest.raises(
        ConfigError, match=r"fleet.yaml:10: partners.acme.duo.skey: .*plaintext"
    ) as e:
        parse(GOOD.replace("env:ACME_SKEY", SKEY), tmp_path)
    assert SKEY not in str(e.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("version: 1", "version: 2", r":1: version: only version 1"),
        ("version: 1\n", "", r":1: tenant file: missing 'version: 1'"),
        ("    display_name: Acme", "    colour: red", r":4: partners.acme: unknown key 'colour'"),
        ("  acme:", "  Acme!:", r":3: partners.Acme!: invalid tenant name"),
        ("      enabled: true", "      enabled: maybe", r":7: partners.acme.duo.enabled: expected"),
        ("      user_mode: opt-in", "      user_mode: some", r":11: .*user_mode: user mode must"),
        ("      fail_mode: open", "      fail_mode: [a]", r":12: .*fail_mode: expected a string"),
        ("      remember: 30", "      remember: 0", r":14: .*remember: remember must"),
        ("[/break-glass]", "[nope]", r":13: .*bypass_groups: "),
        ("[/break-glass]", "everyone", r":13: .*bypass_groups: expected a list"),
        ("      portal: required", "      portal: maybe", r":16: .*apps.portal: app mode must"),
        ("env:ACME_SKEY", "env:NOPE", r":10: .*skey: environment variable NOPE is not set"),
        ("env:ACME_SKEY", "file:nope.skey", r":10: .*skey: cannot read .*nope.skey"),
        ("env:ACME_SKEY", "[1]", r":10: .*skey: expected env:VAR or file:PATH"),
        (f"      ikey: {IKEY}\n", "", r":7: partners.acme.duo: ikey, api_host and skey go"),
        (IKEY, "short", r":7: partners.acme.duo: the ikey must be"),
        (
            "      south: {}",
            "      north: {}",
            r":23: partners.acme.clients: 'north' is given twice",
        ),
        (
            "      south: {}",
            "      acme: {}",
            r":23: realm 'acme' is declared twice \(first on line 3",
        ),
        ("branding_url: https://acme.example.com/", "branding_url: ftp://x", r":5: .*branding"),
        ("partners:\n", "partners:\n  x: 1\n", r":3: partners.x: expected a mapping"),
        ("    display_name: Acme", "    display_name: Acme\n    display_name: B", r":5: .*twice"),
        ("version: 1", "version: [", r":\d+: not valid YAML"),
    ],
)
def test_errors_point_to_the_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    """Each mistake names the file, the line and the key at fault."""
    assert old in GOOD
    with pytest.raises(ConfigError, match=message):
        parse(GOOD.replace(old, new, 1), tmp_path)


def test_empty_files_and_partners(tmp_path: Path) -> None:
    """An empty file is an error; ``partners:`` with nothing under it declares nothing."""
    with pytest.raises(ConfigError, match=":1: the tenant file is empty"):
        parse("", tmp_path)
    assert parse("version: 1\npartners:\n", tmp_path).tenants == ()
    assert parse("version: 1\n", tmp_path).tenants == ()


def test_unreadable_file(tmp_path: Path) -> None:
    """A missing tenant file is a one-line ConfigError."""
    with pytest.raises(ConfigError, match="cannot read the tenant file"):
        spec.load(tmp_path / "missing.yaml")


def test_enabled_false_and_yaml_booleans(tmp_path: Path) -> None:
    """``enabled: false`` (or YAML's ``no``) switches off; credentials can be left out."""
    text = "version: 1\npartners:\n  p:\n    duo: {enabled: false}\n  q:\n    duo: {enabled: on}\n"
    p, q = parse(text, tmp_path).tenants
    assert (p.duo.enabled, p.duo.credentials, q.duo.enabled) == ("false", None, "true")


def test_assurance_is_read_and_checked(tmp_path: Path) -> None:
    """``assurance`` takes enforce, step-up or inherit; anything else names its line."""
    text = (
        "version: 1\npartners:\n  p:\n    duo: {assurance: step-up}\n"
        "  q:\n    duo: {assurance: inherit}\n"
    )
    p, q = parse(text, tmp_path).tenants
    assert (p.duo.assurance, q.duo.assurance) == ("step-up", "inherit")
    with pytest.raises(ConfigError, match=r":4: partners.p.duo.assurance: assurance must be"):
        parse(text.replace("step-up", "gold"), tmp_path)


def test_auth_api_keys_are_declared_inherited_or_refused_by_line(tmp_path: Path) -> None:
    """``auth_api`` takes ikey, api_host and skey (a reference, never a literal) or
    ``inherit``; a partial or literal one names its line and never repeats the secret."""
    keys = f"{{ikey: {IKEY}, api_host: api-2.example.com, skey: env:AUTHAPI}}"
    text = f"version: 1\npartners:\n  p:\n    duo:\n      auth_api: {keys}\n"
    text += "  q:\n    duo: {auth_api: inherit}\n"
    p, q = parse(text, tmp_path, AUTHAPI="a" * 40).tenants
    assert isinstance(p.duo.auth_api, spec.DeclaredCredentials)
    assert (p.duo.auth_api.ikey, p.duo.auth_api.api_host) == (IKEY, "api-2.example.com")
    assert p.duo.auth_api.skey.value == "a" * 40
    assert "a" * 40 not in repr(p)
    assert q.duo.auth_api == "inherit"
    literal = "b" * 40
    for bad, message in [
        (f"{{ikey: {IKEY}, api_host: h.example.com}}", r":5: .*auth_api: ikey, api_host and skey"),
        ("{}", r":5: partners.p.duo.auth_api: give ikey, api_host and skey, or inherit"),
        ("yes", r":5: partners.p.duo.auth_api: expected a mapping"),
        (f"{{ikey: {IKEY}, colour: red}}", r":5: .*auth_api: unknown key 'colour'"),
        (f"{{ikey: {IKEY}, api_host: h.example.com, skey: {literal}}}", r"auth_api.skey"),
    ]:
        with pytest.raises(ConfigError, match=message) as caught:
            parse(text.replace(keys, bad), tmp_path, AUTHAPI="a" * 40)
        assert literal not in str(caught.value)
