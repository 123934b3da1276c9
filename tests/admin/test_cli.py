"""The admin CLI end to end on the sandbox, and no skey plaintext anywhere."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from keycloak_duo_bridge.errors import BridgeError
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]


def test_walkthrough_without_plaintext(  # noqa: PLR0915, PLR0917
    cli: Cli,
    kc: Keycloak,
    names: Names,
    integration: IntegrationCredentials,
    duo_emulator: RunningEmulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every command works; the skey never shows in output, logs, errors or Keycloak."""
    secret = integration.client_secret
    skey_file = tmp_path / "skey"
    skey_file.write_text(secret + "\n", encoding="utf-8")
    monkeypatch.setenv("MY_SKEY", secret)
    p, a, b = names("p"), names("a"), names("b")
    seen: list[str] = []
    caplog.set_level(logging.DEBUG)

    def run(*argv: str | Path, code: int = 0) -> str:
        got, out, err = cli(*argv)
        seen.extend((out, err))
        assert got == code, (argv, out, err)
        return out

    run("partner", "create", p, "--branding-url", "https://brand.example.test")
    run("client", "create", a, "--partner", p)
    run("client", "create", b, "--partner", p, "--json")
    assert f"└─ {a}" in run("partner", "list")
    assert json.loads(run("client", "list", "--json"))
    assert (
        json.loads(run("partner", "show", p, "--json"))["branding_url"]
        == "https://brand.example.test"
    )
    run(
        "duo",
        "set",
        a,
        "--ikey",
        integration.client_id,
        "--host",
        integration.api_host,
        "--skey-file",
        skey_file,
    )
    run(
        "duo",
        "set",
        p,
        "--ikey",
        integration.client_id,
        "--host",
        integration.api_host,
        "--skey-env",
        "MY_SKEY",
        "--no-verify",
    )
    run(
        "duo",
        "set",
        p,
        "--ikey",
        integration.client_id,
        "--host",
        "127.0.0.1:1",
        "--skey-env",
        "MY_SKEY",
        code=1,
    )
    run(
        "duo",
        "set",
        p,
        "--ikey",
        "short",
        "--host",
        integration.api_host,
        "--skey-env",
        "MY_SKEY",
        code=1,
    )
    run("duo", "enable", p)
    run("duo", "policy", p, "--user-mode", "opt-in", "--bypass-group", "/staff", "--remember", "30")
    run("duo", "clear", b)
    assert "encrypted, key" in run("duo", "show", a)
    run("duo", "show", p, "--json")
    run("app", "set", a, "account", "--mode", "off")
    run(
        "app",
        "set",
        "--partner",
        p,
        "--all-clients",
        "account-console",
        "--mode",
        "required",
        "--json",
    )
    run("app", "set", "--partner", p, "--mode", "off", code=1)
    run("app", "set", a, "--mode", "off", code=1)
    assert "account" in run("app", "list", a)
    run("app", "list", a, "--json")
    kc._admin.change_current_realm(a)
    kc._admin.create_user({"username": "carol", "enabled": True})
    run("user", "activate", a, "carol")
    assert json.loads(run("user", "status", a, "carol", "--json"))["activated"] is True
    run("user", "deactivate", a, "carol")
    out = run("explain", a, "--app", "account", "--user", "carol")
    assert "decision: app off" in out
    assert "decision: not activated" in run("explain", b)
    assert json.loads(run("explain", b, "--json"))["decision"] == "not activated"
    run("keys", "check")
    run("keys", "rotate", "--json")
    run("duo", "inherit", a)
    run("duo", "disable", p)
    run("client", "update", a, "--display-name", "A")
    run("partner", "update", p, "--no-branding-url", "--json")
    run("partner", "delete", p, code=1)
    run("client", "delete", b, "--yes")
    run("partner", "delete", p, "--cascade", "--yes")
    run("explain", a, code=1)

    realms = json.dumps(kc.get_realms())
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for where in (realms, logs, *seen):
        assert secret not in where


def test_errors_are_one_line(cli: Cli, names: Names, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown realm, app and user, and bad credentials: exit 1, one line, no traceback."""
    p = names("p")
    cli("partner", "create", p)
    for argv in (
        ("explain", "nope-realm"),
        ("app", "set", p, "nope", "--mode", "off"),
        ("user", "status", p, "nobody"),
        ("client", "create", names("c"), "--partner", "nope"),
    ):
        code, _, err = cli(*argv)
        assert code == 1
        assert err.count("\n") == 1
        assert err.startswith("error: ")
        assert "Traceback" not in err
    monkeypatch.setenv("KDB_KEYCLOAK_ADMIN_PASSWORD", "not-the-password")
    code, _, err = cli("partner", "list")
    assert (code, "rejected the admin credentials" in err, "not-the-password" in err) == (
        1,
        True,
        False,
    )
    with pytest.raises(BridgeError):
        cli("--debug", "partner", "list")
    monkeypatch.undo()


def test_delete_confirmation(cli: Cli, names: Names, monkeypatch: pytest.MonkeyPatch) -> None:
    """delete asks on a terminal, refuses without one, and --yes skips the question."""
    p = names("p")
    cli("partner", "create", p)
    code, _, err = cli("partner", "delete", p)
    assert code == 1
    assert "pass --yes" in err
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda _: "n")
    assert cli("partner", "delete", p)[0] == 1
    monkeypatch.setattr("builtins.input", lambda _: "y")
    assert cli("partner", "delete", p)[0] == 0


def test_skey_sources(
    cli: Cli, names: Names, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The skey comes from a file, a variable or a hidden prompt; each failure is named."""
    p = names("p")
    cli("partner", "create", p)
    base = ("duo", "set", p, "--ikey", "D" * 20, "--host", "h.example", "--no-verify")
    assert "cannot read the skey file" in cli(*base, "--skey-file", tmp_path / "none")[2]
    assert "MISSING_VAR is not set" in cli(*base, "--skey-env", "MISSING_VAR")[2]
    assert "no terminal" in cli(*base)[2]
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda _: "g" * 40)
    assert cli(*base)[0] == 0
    cli("partner", "delete", p, "--yes")


def test_every_changing_command_speaks_json(
    cli: Cli, names: Names, integration: IntegrationCredentials, tmp_path: Path
) -> None:
    """`duo set/clear/policy/enable/disable/inherit`, `sandbox keycloak status`, `explain` and
    `app list` print parseable JSON with snake_case keys and readable application names."""
    skey_file = tmp_path / "skey"
    skey_file.write_text(integration.client_secret, encoding="utf-8")
    p, a = names("p"), names("a")
    assert cli("partner", "create", p)[0] == 0
    assert cli("client", "create", a, "--partner", p)[0] == 0
    duo_set = ("duo", "set", p, "--ikey", integration.client_id, "--host", integration.api_host)
    commands: list[tuple[str | Path, ...]] = [
        (*duo_set, "--skey-file", skey_file),
        ("duo", "policy", p, "--user-mode", "opt-in"),
        ("duo", "enable", p),
        ("duo", "inherit", a),
        ("duo", "disable", p),
        ("duo", "clear", p),
        ("explain", a),
        ("app", "list", a),
    ]
    answers = {}
    for argv in commands:
        code, out, err = cli(*argv, "--json")
        assert code == 0, (argv, out, err)
        answers[argv[:2]] = json.loads(out)
    assert answers["duo", "set"]["credentials"] == "saved"
    assert answers["duo", "enable"]["enabled"] == "on"
    code, out, _ = cli("sandbox", "keycloak", "status", "--json")  # not this test's Keycloak
    answers["sandbox", "keycloak"] = json.loads(out)
    assert (code, set(answers["sandbox", "keycloak"])) == (
        0 if answers["sandbox", "keycloak"]["running"] else 3,
        {"running", "ready", "version", "url", "pid"},
    )

    def keys(value: object) -> list[str]:
        if isinstance(value, dict):
            return [*value, *(k for v in value.values() for k in keys(v))]
        if isinstance(value, list):
            return [k for v in value for k in keys(v)]
        return []

    for answer in answers.values():
        assert all(key == key.lower() and " " not in key and "-" not in key for key in keys(answer))
    names_shown = [app["name"] for app in answers["app", "list"]]
    assert "Account Console" in names_shown
    assert not any("${" in (name or "") for name in names_shown)
    assert integration.client_secret not in json.dumps(list(answers.values()))


def test_an_untrusted_certificate_is_named_with_its_fix(
    cli: Cli,
    names: Names,
    integration: IntegrationCredentials,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`duo set` against a certificate this machine does not trust says so and how to trust
    it (not "unreachable", not --allow-unverified); --allow-unverified still saves."""
    skey_file = tmp_path / "skey"
    skey_file.write_text(integration.client_secret, encoding="utf-8")
    p = names("p")
    assert cli("partner", "create", p)[0] == 0
    monkeypatch.delenv("KDB_DUO_CA_FILE")
    duo_set = ("duo", "set", p, "--ikey", integration.client_id, "--host", integration.api_host)
    code, _, err = cli(*duo_set, "--skey-file", skey_file)
    assert code == 1
    assert "certificate" in err
    assert "KDB_DUO_CA_FILE" in err
    assert "unreachable" not in err
    assert "--allow-unverified" not in err
    code, out, _ = cli(*duo_set, "--skey-file", skey_file, "--allow-unverified")
    assert (code, "unverified: the certificate" in out) == (0, True)
