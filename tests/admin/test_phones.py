"""Users' phones at Duo through the partner's admin link, on sandbox Keycloak and the
emulator: registered, listed, removed; refusals named and undone (issue 17)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import duo_link, phones, provisioning, record
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.admin_users import DuoPhone, DuoUser
from keycloak_duo_bridge.duo.rest_client import RestOptions
from keycloak_duo_bridge.duo.rest_protocol import Api
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import (
    ConfigError,
    DuoApiError,
    DuoPermissionError,
    NotFoundError,
)
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.settings import Settings, key_ring
from tests.fixtures_bridge import Tenant
from tests.fixtures_provisioning import LinkPartner

pytestmark = pytest.mark.keycloak


@dataclass
class Phones:
    """The phone operations on one realm, as the helpdesk runs them."""

    kc: Keycloak
    ring: KeyRing
    options: RestOptions
    realm: str

    def add(self, username: str, number: str) -> phones.Added:
        return phones.add_phone(
            self.kc, self.realm, username, number, ring=self.ring, options=self.options
        )

    def list(self, username: str) -> list[phones.Device]:
        return phones.list_devices(
            self.kc, self.realm, username, ring=self.ring, options=self.options
        )

    def remove(self, username: str, phone_id: str) -> phones.Device:
        return phones.remove_phone(
            self.kc, self.realm, username, phone_id, ring=self.ring, options=self.options
        )


@pytest.fixture
def tenant(phone_tenant: Callable[..., Tenant]) -> Tenant:
    return phone_tenant()


@pytest.fixture
def helpdesk(
    tenant: Tenant,
    admin_keycloak: Keycloak,
    stack_settings: Settings,
    duo_rest_options: RestOptions,
) -> Phones:
    return Phones(admin_keycloak, key_ring(stack_settings), duo_rest_options, tenant.realm)


def fresh(tenant: Tenant) -> str:
    """A Keycloak user of the tenant whose name Duo has never seen."""
    name = f"ph-{uuid.uuid4().hex[:8]}"
    tenant.user(name)
    tenant.emulator.state.delete_user(tenant.emulator.state.user(name).key)  # type: ignore[union-attr]
    return name


def test_add_list_and_remove_a_phone(
    tenant: Tenant, helpdesk: Phones, duo_emulator: RunningEmulator
) -> None:
    """A phone is registered (user and phone created, SMS sent), listed masked, found again on
    a re-run, and removed; the emulator's user gets and loses it as their device."""
    name = fresh(tenant)
    added = helpdesk.add(name, "+1 (555) 555-0142")
    assert added.created == ("user", "phone")
    assert (added.duo_user, added.device.type, added.device.masked) == (
        name,
        "mobile",
        "XXX-XXX-0142",
    )
    duo_user = duo_emulator.state.user(name)
    assert duo_user is not None
    assert (duo_user.enrolled, duo_user.phone) == (True, "+15555550142")
    phone = duo_emulator.state.rest.phone(added.device.phone_id)
    assert phone is not None
    assert phone.sms_activations == 1
    assert helpdesk.list(name) == [added.device]
    assert "0142" not in repr(DuoPhone(added.device.phone_id, "+15555550142", "mobile"))

    again = helpdesk.add(name, "+15555550142")
    assert (again.created, again.device) == ((), added.device)

    assert helpdesk.remove(name, added.device.phone_id) == added.device
    assert helpdesk.list(name) == []
    duo_user = duo_emulator.state.user(name)
    assert duo_user is not None
    assert not duo_user.enrolled


def test_a_phone_enrolled_at_the_prompt_is_listed_and_removed(
    tenant: Tenant, helpdesk: Phones, duo_emulator: RunningEmulator
) -> None:
    """A phone the user enrolled in Duo's own wizard shows and goes like the others."""
    name = f"pw-{uuid.uuid4().hex[:8]}"
    tenant.user(name, behavior="prompt", enrolled=False)
    duo_emulator.state.enroll(name, "+15555550177")
    (device,) = helpdesk.list(name)
    assert device.masked == "XXX-XXX-0177"
    helpdesk.remove(name, device.phone_id)
    assert helpdesk.list(name) == []


def test_bad_numbers_make_no_call(
    tenant: Tenant, helpdesk: Phones, duo_emulator: RunningEmulator
) -> None:
    """A number that is not E.164 is refused before Duo is called: no Duo user appears."""
    name = fresh(tenant)
    for bad in ("5555550142", "+0555", "+1555555014299999", "call me", ""):
        with pytest.raises(ConfigError, match=r"E\.164"):
            helpdesk.add(name, bad)
    assert duo_emulator.state.user(name) is None
    assert helpdesk.list(name) == []


def test_another_users_number_and_phone_are_refused(
    tenant: Tenant, helpdesk: Phones, duo_emulator: RunningEmulator
) -> None:
    """B cannot take A's number (B's new Duo user is undone) nor remove A's phone."""
    a, b = fresh(tenant), fresh(tenant)
    number = f"+1555{uuid.uuid4().int % 10**7:07d}"
    mine = helpdesk.add(a, number)
    with pytest.raises(ConfigError, match="another Duo user"):
        helpdesk.add(b, number)
    assert duo_emulator.state.user(b) is None  # the user this run made was removed
    with pytest.raises(NotFoundError, match="no phone"):
        helpdesk.remove(b, mine.device.phone_id)
    assert helpdesk.list(a) == [mine.device]
    other = duo_emulator.state.put_user(b, behavior="prompt", enrolled=False, phone=None)
    duo_emulator.state.rest.attach(mine.device.phone_id, other.key)  # shared in Duo
    with pytest.raises(ConfigError, match="shared with other Duo users"):
        helpdesk.remove(a, mine.device.phone_id)
    assert helpdesk.list(a) == [mine.device]


def test_refusals_name_the_permission_and_leave_nothing(
    phone_tenant: Callable[..., Tenant],
    admin_keycloak: Keycloak,
    stack_settings: Settings,
    duo_rest_options: RestOptions,
    duo_emulator: RunningEmulator,
) -> None:
    """A link that may read but not write: 'Grant write resource' is named, nothing is made."""
    tenant = phone_tenant(permissions=["adminapi_read_resource"])
    helpdesk = Phones(admin_keycloak, key_ring(stack_settings), duo_rest_options, tenant.realm)
    name = fresh(tenant)
    with pytest.raises(DuoPermissionError, match="'Grant write resource'"):
        helpdesk.add(name, "+15555550199")
    assert duo_emulator.state.user(name) is None
    assert helpdesk.list(name) == []


def test_without_a_usable_link(
    tenant: Tenant, helpdesk: Phones, admin_keycloak: Keycloak, link_partner: LinkPartner
) -> None:
    """No admin link, a client not linked to its partner, or an Accounts API link without the
    client's child account: refused with what to do."""
    name = fresh(tenant)
    kc = admin_keycloak
    link_partner(tenant.partner, Api.ACCOUNTS)
    with pytest.raises(ConfigError, match="no Duo child account"):
        helpdesk.list(name)
    provisioning.provision(
        kc, tenant.realm, ring=helpdesk.ring, options=helpdesk.options, health=None
    )
    added = helpdesk.add(name, f"+1555{uuid.uuid4().int % 10**7:07d}")  # in the child account
    assert helpdesk.list(name) == [added.device]
    duo_link.clear_link(kc, tenant.partner)
    with pytest.raises(ConfigError, match="no Duo admin link"):
        helpdesk.list(name)
    claim = f"{attr.TENANT_CLIENT_PREFIX}{tenant.realm}"
    proof = kc.get_realm(tenant.partner)["attributes"][claim]
    record.store(kc, tenant.partner, {claim: None})
    try:
        with pytest.raises(ConfigError, match="is not linked"):
            helpdesk.list(name)
    finally:
        record.store(kc, tenant.partner, {claim: proof})


def test_the_partner_realms_own_users(
    tenant: Tenant,
    admin_keycloak: Keycloak,
    stack_settings: Settings,
    duo_rest_options: RestOptions,
) -> None:
    """A partner realm's users are served by the partner's own link."""
    name = f"pu-{uuid.uuid4().hex[:8]}"
    provision.ensure_user(stack_settings, tenant.partner, name, "pw-0123456789")
    partner = Phones(admin_keycloak, key_ring(stack_settings), duo_rest_options, tenant.partner)
    added = partner.add(name, f"+1555{uuid.uuid4().int % 10**7:07d}")
    assert added.duo_user == name  # the partner has no credentials: named by username
    assert partner.list(name) == [added.device]


def test_cli_user_phone_add_list_remove(
    tenant: Tenant, cli: Callable[..., tuple[int, str, str]]
) -> None:
    """``user phone add|list|remove``: masked numbers; a bad number or a phone not the
    user's exits non-zero."""
    name, realm = fresh(tenant), tenant.realm
    code, out, err = cli("user", "phone", "add", realm, name, "+15555550123")
    assert code == 0, err
    assert "XXX-XXX-0123" in out
    assert "+15555550123" not in out
    code, out, _ = cli("user", "phone", "list", realm, name, "--json")
    (device,) = json.loads(out)
    assert device["number"] == "XXX-XXX-0123"
    code, out, _ = cli("user", "phone", "list", realm, name)
    assert device["phone_id"] in out
    code, _, err = cli("user", "phone", "add", realm, name, "12345")
    assert (code, "E.164" in err) == (1, True)
    code, out, _ = cli("user", "phone", "remove", realm, name, device["phone_id"])
    assert (code, "removed" in out) == (0, True)
    code, out, _ = cli("user", "phone", "add", realm, name, "+15555550123", "--json")
    assert json.loads(out)["sms_activation"] == "sent"
    code, out, _ = cli("user", "phone", "remove", realm, name, "DPNOTMINE")
    assert code == 1
    code, out, _ = cli("user", "phone", "remove", realm, name, device["phone_id"], "--json")
    assert code == 1  # removed already: the new phone has another id


def test_duo_answers_that_are_not_users_or_phones() -> None:
    """Duo's answers are read defensively: user objects or ids as a phone's users."""
    phone = DuoPhone.of(
        {"phone_id": "DP1", "number": "+15555550100", "users": [{"user_id": "DU1"}, "DU2", 3]}
    )
    assert (phone.users, phone.type, phone.last_four) == (("DU1", "DU2"), "unknown", "0100")
    with pytest.raises(DuoApiError, match="not a phone"):
        DuoPhone.of({"number": "+1"})
    with pytest.raises(DuoApiError, match="not a user"):
        DuoUser.of([])
    assert DuoUser.of({"user_id": "DU1", "phones": None}).phones == ()
    assert phones.Device("DP1", "landline", "").masked == "no number"
