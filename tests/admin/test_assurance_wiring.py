"""The assurance mode's wiring: the step-up flow, its binding and its level-2 age, through
the CLI against the sandbox Keycloak."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import duo_settings, flows, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.emulator import IntegrationCredentials
from keycloak_duo_bridge.settings import Settings, key_ring

pytestmark = pytest.mark.keycloak

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def realms(
    kc: Keycloak,
    names: Callable[[str], str],
    integration: IntegrationCredentials,
    admin_settings: Settings,
) -> Iterator[tuple[str, str]]:
    """A partner with Duo credentials and one client that inherits them; deleted after."""
    partner, client = names("ap"), names("ac")
    tenants.create_partner(kc, partner)
    tenants.create_client(kc, client, partner=partner)
    duo_settings.set_credentials(
        kc,
        partner,
        ikey=integration.client_id,
        skey=integration.client_secret,
        api_host=integration.api_host,
        ring=key_ring(admin_settings),
        health=None,
    )
    yield partner, client
    tenants.delete_tenant(kc, partner, cascade=True)


def _age(kc: Keycloak, realm: str) -> str | None:
    condition = flows.duo_condition(kc, realm)
    return None if condition is None else condition["config"]["loa-max-age"]


def test_step_up_binds_its_flow_and_a_rerun_writes_nothing(
    cli: Cli, kc: Keycloak, realms: tuple[str, str], writes: Counter[str], wires: Wiring
) -> None:
    """`duo enable --assurance step-up` builds and binds the flow once; again, no write."""
    _, client = realms
    code, out, _ = cli("duo", "enable", client, "--assurance", "step-up", "--json")
    assert code == 0, out
    duo_settings.set_enabled(kc, client, enabled=True, wires=wires)  # as the CLI wired it
    realm = kc.get_realm(client)
    assert realm["browserFlow"] == attr.STEP_UP_FLOW
    assert json.loads(realm["attributes"][attr.ACR_LOA_MAP]) == {"pwd": 1, "mfa": 2}
    assert json.loads(realm["attributes"][attr.RESOLVED])["assurance"] == "step-up"
    assert _age(kc, client) == str(365 * 24 * 3600)
    writes.clear()
    duo_settings.set_enabled(kc, client, enabled=True, wires=wires, assurance="step-up")
    assert sum(writes.values()) == 0
    code, out, _ = cli("explain", client)
    assert "step-up" in out


def test_remember_sets_level_2_age_in_place_also_from_the_partner(
    cli: Cli, kc: Keycloak, realms: tuple[str, str]
) -> None:
    """A remember change updates the level-2 max age of the realm's flow, and of its clients'
    flows when the partner's changes."""
    partner, client = realms
    assert cli("duo", "enable", client, "--assurance", "step-up")[0] == 0
    flow_before = [f["id"] for f in kc.get_flows(client) if f["alias"] == attr.STEP_UP_FLOW]
    assert cli("duo", "policy", partner, "--remember", "every-login")[0] == 0
    assert _age(kc, client) == "0"
    assert cli("duo", "policy", client, "--remember", "30")[0] == 0
    assert _age(kc, client) == "1800"
    flow_after = [f["id"] for f in kc.get_flows(client) if f["alias"] == attr.STEP_UP_FLOW]
    assert flow_after == flow_before
    assert kc.get_realm(client)["browserFlow"] == attr.STEP_UP_FLOW


def test_back_to_enforce_rebinds_keycloaks_flow_and_deletes_ours(
    cli: Cli, kc: Keycloak, realms: tuple[str, str]
) -> None:
    """Enforce binds Keycloak's browser flow and deletes the step-up flow; off does too."""
    _, client = realms
    assert cli("duo", "enable", client, "--assurance", "step-up")[0] == 0
    assert cli("duo", "enable", client, "--assurance", "enforce")[0] == 0
    assert kc.get_realm(client)["browserFlow"] == "browser"
    assert flows.duo_condition(kc, client) is None
    assert cli("duo", "enable", client, "--assurance", "step-up")[0] == 0
    assert cli("duo", "disable", client)[0] == 0
    assert kc.get_realm(client)["browserFlow"] == "browser"
    assert all(f["alias"] != attr.STEP_UP_FLOW for f in kc.get_flows(client))


def test_a_mode_set_while_off_waits_for_duo(
    cli: Cli, kc: Keycloak, realms: tuple[str, str], wires: Wiring
) -> None:
    """Step-up chosen for a realm whose Duo is off is stored, and bound once Duo goes on."""
    partner, client = realms
    assert cli("duo", "disable", client)[0] == 0
    touched = duo_settings.set_enabled(kc, client, enabled=False, wires=wires, assurance="step-up")
    assert touched == [client]
    assert kc.get_realm(client)["attributes"][attr.DUO_ASSURANCE] == "step-up"
    assert kc.get_realm(client)["browserFlow"] == "browser"
    assert cli("duo", "enable", client)[0] == 0
    assert kc.get_realm(client)["browserFlow"] == attr.STEP_UP_FLOW
    del partner


def test_bad_modes_and_levels_are_refused_with_nothing_written(
    cli: Cli, kc: Keycloak, realms: tuple[str, str]
) -> None:
    """An unknown assurance or minimum ACR is a clear error, and nothing changes."""
    _, client = realms
    before = kc.get_realm(client)
    code, out, err = cli("duo", "enable", client, "--assurance", "gold")
    assert code != 0
    assert "assurance must be enforce or step-up" in out + err
    code, out, err = cli("app", "min-acr", client, "broker", "gold")
    assert code != 0
    assert "minimum ACR must be" in out + err
    assert kc.get_realm(client)["attributes"] == before["attributes"]


def test_min_acr_sets_and_clears_keycloaks_client_setting(
    cli: Cli, kc: Keycloak, realms: tuple[str, str]
) -> None:
    """`app min-acr` writes Keycloak's minimum.acr.value, `none` clears it."""
    _, client = realms
    assert cli("duo", "enable", client, "--assurance", "step-up")[0] == 0  # defines the levels
    code, out, err = cli("app", "min-acr", client, "broker", "mfa", "--json")
    assert code == 0, (out, err)
    assert (code, json.loads(out)["result"]) == (0, "changed")
    found = kc.find_client(client, "broker")
    assert found is not None
    assert found["attributes"]["minimum.acr.value"] == "mfa"
    code, out, _ = cli("app", "min-acr", client, "broker", "none")
    assert code == 0
    assert "minimum acr none (changed)" in out
    code, out, _ = cli("app", "min-acr", client, "broker", "none")
    assert "(unchanged)" in out
