"""`doctor` against the real sandbox Keycloak, a real bridge and the Duo emulator: a healthy
deployment passes, and each broken one fails the check that names it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from keycloak import KeycloakAdmin
from pydantic import SecretStr

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge import keygen
from keycloak_duo_bridge.admin import duo_settings, record, tenants, wiring
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.doctor.checks import Check, Status
from keycloak_duo_bridge.doctor.run import diagnose
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.emulator.control import new_client_id, new_client_secret
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.settings import Settings, key_ring
from tests.fixtures_bridge import Bridge, Tenant, TenantFactory

pytestmark = pytest.mark.keycloak


def by_name(found: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in found}


def failed(found: list[Check]) -> dict[str, str]:
    return {c.name: c.detail for c in found if c.status is Status.FAIL}


@pytest.fixture
def tenant(duo_tenant: TenantFactory) -> Tenant:
    return duo_tenant()


@pytest.fixture
def doctor_settings(bridge: Bridge) -> Settings:
    """The running bridge's own settings: what `doctor` reads where the bridge runs."""
    return bridge.settings


def test_a_healthy_deployment_passes(tenant: Tenant, doctor_settings: Settings) -> None:
    """Every check passes for a wired realm: Keycloak, login, clocks, extension, wiring, Duo."""
    found = diagnose(doctor_settings, realms=[tenant.realm])
    assert failed(found) == {}
    checks = by_name(found)
    api_host = tenant.integration.api_host
    for name in (
        "signing key",
        "cookie secret",
        "key ring",
        "bridge url",
        "bridge reachable",
        "keycloak",
        "keycloak login",
        "clock vs Keycloak",
        "extension",
        "keycloak version",
        f"realm {tenant.realm}",
        f"realm {tenant.realm} action",
        f"duo {tenant.realm}",
        f"clock vs Duo {api_host}",
    ):
        assert checks[name].status is Status.OK, (name, checks[name])
    assert "duo-step-up loaded" in checks["extension"].detail


def test_a_client_inheriting_its_partners_duo(
    admin_keycloak: Keycloak, bridge: Bridge, duo_emulator: RunningEmulator
) -> None:
    """A client realm whose partner holds the Duo integration and switches Duo on passes,
    and Duo is checked with the partner's credentials (the link proven by the realm's id)."""
    suffix = uuid.uuid4().hex[:8]
    partner, client = f"dp-{suffix}", f"dc-{suffix}"
    tenants.create_partner(admin_keycloak, partner)
    tenants.create_client(admin_keycloak, client, partner=partner)
    integration = duo_emulator.control.add_integration()
    duo_settings.set_credentials(
        admin_keycloak,
        partner,
        ikey=integration.client_id,
        skey=integration.client_secret,
        api_host=integration.api_host,
        ring=key_ring(bridge.settings),
        health=None,
    )
    wires = wiring.Wiring.of(bridge.settings, bridge.url)
    duo_settings.set_enabled(admin_keycloak, partner, enabled=True, wires=wires)
    found = diagnose(bridge.settings, realms=[client])
    assert failed(found) == {}
    checks = by_name(found)
    assert checks[f"realm {client}"].status is Status.OK
    assert checks[f"duo {partner}"].status is Status.OK


def test_the_cli_prints_a_line_per_check_and_exits_0(
    tenant: Tenant,
    doctor_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`doctor --realm R` prints one line per check and 'all checks passed'; --json too."""
    env = {
        "KDB_KEYCLOAK_URL": doctor_settings.keycloak_url,
        "KDB_BRIDGE_URL": doctor_settings.bridge_url,
        "KDB_KEYCLOAK_ADMIN_PASSWORD": doctor_settings.keycloak_admin_password.get_secret_value(),
        "KDB_DUO_CA_FILE": str(doctor_settings.duo_ca_file),
        "KDB_DUO_ALLOW_ANY_HOST": "true",
        "KDB_BRIDGE_SIGNING_KEY": _secret(doctor_settings.bridge_signing_key),
        "KDB_BRIDGE_COOKIE_SECRET": _secret(doctor_settings.bridge_cookie_secret),
        "KDB_KEYRING": _secret(doctor_settings.keyring),
        "KDB_ACTIVE_KEY_ID": str(doctor_settings.active_key_id),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["doctor", "--realm", tenant.realm]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "all checks passed"
    assert f"ok    realm {tenant.realm}" in out
    for secret in (env["KDB_BRIDGE_COOKIE_SECRET"], tenant.integration.client_secret):
        assert secret not in out
    assert main(["doctor", "--realm", tenant.realm, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert {c["status"] for c in report["checks"]} <= {"ok", "warn"}


def _secret(value: SecretStr | None) -> str:
    assert value is not None
    return value.get_secret_value()


def test_keycloak_unreachable(doctor_settings: Settings) -> None:
    """Keycloak not answering fails `keycloak` and skips what needs it."""
    url = f"http://127.0.0.1:{free_port()}"
    found = diagnose(doctor_settings.model_copy(update={"keycloak_url": url}))
    checks = by_name(found)
    assert checks["keycloak"].status is Status.FAIL
    assert "unreachable" in checks["keycloak"].detail
    assert checks["keycloak"].fix
    assert [checks[n].status for n in ("extension", "realms", "duo")] == [Status.SKIP] * 3


def test_keycloak_url_with_a_wrong_path(doctor_settings: Settings) -> None:
    """A KDB_KEYCLOAK_URL that reaches Keycloak but not its realms (a missing /auth, say)."""
    url = doctor_settings.keycloak_url.rstrip("/") + "/nothing-here"
    found = diagnose(doctor_settings.model_copy(update={"keycloak_url": url}))
    assert "answered HTTP 404" in failed(found)["keycloak"]


def test_keycloak_refuses_the_bridge_login(doctor_settings: Settings) -> None:
    """Wrong credentials for the bridge's identity fail `keycloak login`, naming the client."""
    wrong = doctor_settings.model_copy(
        update={"bridge_client_id": "kdb-bridge-reader", "bridge_client_secret": SecretStr("no")}
    )
    found = diagnose(wrong)
    assert failed(found)["keycloak login"] == (
        "Keycloak refused the login of client 'kdb-bridge-reader' (HTTP 401)"
    )


def test_the_service_account_reads_only_its_realms(
    tenant: Tenant, doctor_settings: Settings
) -> None:
    """With the least-privilege account, the wired realm passes; a realm it was not granted
    fails with the grant to make; server info may be closed to it (a warning, not a failure)."""
    client_id, secret = provision.ensure_bridge_reader(doctor_settings, [tenant.realm])
    reader = doctor_settings.model_copy(
        update={"bridge_client_id": client_id, "bridge_client_secret": SecretStr(secret)}
    )
    found = diagnose(reader, realms=[tenant.realm])
    checks = by_name(found)
    assert checks[f"realm {tenant.realm}"].status is Status.OK
    assert checks["identity"].status is Status.OK
    assert checks["extension"].status in {Status.OK, Status.WARN}
    assert checks[f"duo {tenant.realm}"].status is Status.OK
    other = f"never-granted-{time.time_ns()}"
    found = diagnose(reader, realms=[other])
    assert "the bridge cannot read it" in failed(found)[f"realm {other}"]


def test_a_partner_realm_the_bridge_cannot_read_fails(
    tenant: Tenant, doctor_settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    """A realm whose partner the bridge's account may not read fails: its logins would fail
    closed, as the bridge cannot resolve the realm's Duo without the partner."""
    client_id, secret = provision.ensure_bridge_reader(doctor_settings, [tenant.realm])
    admin = keycloak_admin  # the master realm, where each realm's "<realm>-realm" client is
    reader_id = admin.get_client_id(client_id)
    assert reader_id is not None
    account = admin.get_client_service_account_user(reader_id)["id"]
    partner_client = admin.get_client_id(f"{tenant.partner}-realm")
    assert partner_client is not None
    role = admin.get_client_role(partner_client, "view-realm")
    admin.delete_client_roles_of_user(account, partner_client, [role])
    reader = doctor_settings.model_copy(
        update={"bridge_client_id": client_id, "bridge_client_secret": SecretStr(secret)}
    )
    found = failed(diagnose(reader, realms=[tenant.realm]))
    assert "cannot read this partner realm" in found[f"partner {tenant.partner}"]
    assert "only its name is visible" in found[f"partner {tenant.partner}"]


def test_a_partner_claim_naming_no_realm_is_no_partner(
    tenant: Tenant, doctor_settings: Settings, admin_keycloak: Keycloak
) -> None:
    """A realm claiming a partner that does not exist has no partner, as the bridge reads
    it: its own Duo settings pass, and nothing fails about the missing partner."""
    ghost = f"ghost-{time.time_ns()}"
    admin_keycloak.update_realm(
        tenant.realm,
        {
            "attributes": {
                **admin_keycloak.get_realm(tenant.realm).get("attributes", {}),
                attr.TENANT_PARTNER: ghost,
            }
        },
    )
    found = failed(diagnose(doctor_settings, realms=[tenant.realm]))
    assert f"partner {ghost}" not in found


def test_a_realm_wired_to_another_bridge(
    tenant: Tenant, admin_keycloak: Keycloak, doctor_settings: Settings
) -> None:
    """A realm sending logins to another URL fails its realm check, with the fix."""
    record.store(admin_keycloak, tenant.realm, {attr.BRIDGE_URL: "https://old-bridge.example"})
    check = by_name(diagnose(doctor_settings, realms=[tenant.realm]))[f"realm {tenant.realm}"]
    assert check.status is Status.FAIL
    assert check.detail.startswith("sends logins to https://old-bridge.example, not to this")
    assert "duo enable" in (check.fix or "")


def test_a_realm_whose_required_action_is_disabled(
    tenant: Tenant, doctor_settings: Settings
) -> None:
    """A Duo realm whose duo-step-up required action was switched off by hand fails: its
    logins would skip Duo."""
    admin = tenant.admin()
    action = admin.get_required_action_by_alias(attr.REQUIRED_ACTION)
    assert action is not None
    admin.update_required_action(attr.REQUIRED_ACTION, {**action, "enabled": False})
    found = diagnose(doctor_settings, realms=[tenant.realm])
    problem = failed(found)[f"realm {tenant.realm} action"]
    assert problem == "required action duo-step-up is disabled: logins in this realm skip Duo"


def test_a_realm_that_does_not_trust_this_bridge_key(
    tenant: Tenant, doctor_settings: Settings
) -> None:
    """A bridge whose signing key the realm does not publish fails the realm check."""
    other_key = keygen.generate("k1")["KDB_BRIDGE_SIGNING_KEY"]
    found = diagnose(
        doctor_settings.model_copy(update={"bridge_signing_key": SecretStr(other_key)}),
        realms=[tenant.realm],
    )
    assert "does not publish this bridge's signing key" in failed(found)[f"realm {tenant.realm}"]


def test_a_stale_record_is_a_warning(tenant: Tenant, doctor_settings: Settings) -> None:
    """An attribute edited by hand leaves the record stale: a warning, logins still work."""
    admin = tenant.admin()
    representation = admin.get_realm(tenant.realm)
    representation["attributes"][attr.DUO_FAIL_MODE] = "open"
    admin.update_realm(tenant.realm, {"attributes": representation["attributes"]})
    found = diagnose(doctor_settings, realms=[tenant.realm])
    check = by_name(found)[f"realm {tenant.realm} record"]
    assert check.status is Status.WARN
    assert "stale" in check.detail
    assert failed(found) == {}


def test_duo_refuses_the_credentials(
    tenant: Tenant, admin_keycloak: Keycloak, doctor_settings: Settings
) -> None:
    """Credentials Duo does not know fail the integration's Duo check."""
    duo_settings.set_credentials(
        admin_keycloak,
        tenant.realm,
        ikey=new_client_id(),
        skey=new_client_secret(),
        api_host=tenant.integration.api_host,
        ring=key_ring(doctor_settings),
        health=None,
    )
    found = diagnose(doctor_settings, realms=[tenant.realm])
    assert "refused the credentials" in failed(found)[f"duo {tenant.realm}"]


@pytest.fixture
def duo_down(tenant: Tenant) -> Iterator[None]:
    tenant.emulator.control.set_faults(health="error_500")
    try:
        yield
    finally:
        tenant.emulator.control.set_faults()


def test_duo_is_down(tenant: Tenant, doctor_settings: Settings, duo_down: None) -> None:
    """Duo answering 5xx to its health check fails the integration's check."""
    found = diagnose(doctor_settings, realms=[tenant.realm])
    check = by_name(found)[f"duo {tenant.realm}"]
    assert check.status is Status.FAIL
    assert "reach https://" in (check.fix or "")


def test_a_skey_under_a_key_the_bridge_lacks(tenant: Tenant, doctor_settings: Settings) -> None:
    """A bridge whose KDB_KEYRING lacks the skey's key fails that integration's check."""
    values = keygen.generate("other")
    found = diagnose(
        doctor_settings.model_copy(
            update={"keyring": SecretStr(values["KDB_KEYRING"]), "active_key_id": "other"}
        ),
        realms=[tenant.realm],
    )
    assert "under unknown key" in failed(found)[f"duo {tenant.realm}"]


def test_duo_on_without_credentials(
    tenant: Tenant, admin_keycloak: Keycloak, doctor_settings: Settings
) -> None:
    """A realm with Duo on whose credentials were removed fails its Duo check."""
    record.store(
        admin_keycloak,
        tenant.realm,
        {attr.DUO_IKEY: None, attr.DUO_SKEY: None, attr.DUO_API_HOST: None},
    )
    found = diagnose(doctor_settings, realms=[tenant.realm])
    assert "holds Duo credentials" in failed(found)[f"duo {tenant.realm}"]


def test_clocks_out_of_skew(tenant: Tenant, doctor_settings: Settings) -> None:
    """A local clock five minutes off fails both clock checks (Keycloak's and Duo's)."""
    found = diagnose(doctor_settings, realms=[tenant.realm], now=lambda: time.time() + 300)
    problems = failed(found)
    assert "clock vs Keycloak" in problems
    assert f"clock vs Duo {tenant.integration.api_host}" in problems


def test_a_public_url_that_is_plain_http_and_unreachable(doctor_settings: Settings) -> None:
    """http:// outside loopback fails, and so does a URL nothing answers at."""
    found = diagnose(
        doctor_settings.model_copy(update={"bridge_url": "http://bridge.invalid:8000"})
    )
    problems = failed(found)
    assert "is not https" in problems["bridge url"]
    assert "unreachable" in problems["bridge reachable"]


def test_malformed_keys(doctor_settings: Settings) -> None:
    """A cookie secret of the wrong length, a bad signing key and no key ring each fail,
    naming the variable and never its value; the realm and Duo checks are skipped."""
    broken = doctor_settings.model_copy(
        update={
            "bridge_cookie_secret": SecretStr("c2hvcnQ="),
            "bridge_signing_key": SecretStr("not a PEM"),
            "keyring": None,
        }
    )
    found = diagnose(broken, realms=["whatever"])
    problems = failed(found)
    assert problems["cookie secret"] == "KDB_BRIDGE_COOKIE_SECRET: must be 32 bytes, base64-encoded"
    assert "KDB_BRIDGE_SIGNING_KEY" in problems["signing key"]
    assert "KDB_KEYRING" in problems["key ring"]
    assert by_name(found)["realms"].status is Status.SKIP
    assert all("c2hvcnQ" not in c.detail for c in found)


def test_no_key_ring_skips_duo(tenant: Tenant, doctor_settings: Settings) -> None:
    """Without a key ring the skeys cannot be read: the key ring fails and Duo is skipped."""
    found = diagnose(doctor_settings.model_copy(update={"keyring": None}), realms=[tenant.realm])
    assert by_name(found)["duo"].status is Status.SKIP
    assert "key ring" in failed(found)


def test_every_duo_realm_is_found_without_naming_it(
    tenant: Tenant, doctor_settings: Settings
) -> None:
    """Without --realm the doctor checks every Duo realm the bridge can read; a named
    realm with Duo off is a warning."""
    checks = by_name(diagnose(doctor_settings))
    assert checks[f"realm {tenant.realm}"].status is Status.OK
    off = by_name(diagnose(doctor_settings, realms=[tenant.partner]))[f"realm {tenant.partner}"]
    assert (off.status, off.detail) == (Status.WARN, "Duo is off in this realm")
