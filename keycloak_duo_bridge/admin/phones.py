"""Users' phones at Duo: registered, listed and removed through the Admin API (#17).

The Duo account is the one the realm's partner linked (``duo admin-link``; a partner realm
uses its own link). With a provider's Accounts API link the calls act in the client's own
child account, which ``--duo-provision`` made. The user is named to Duo under the realm's
username mapping, as the step-up names them, so the phone registered here is the one their
next login's prompt offers.

Adding a phone: the number is checked as E.164 before any call; then the Duo user is found
or created, the phone found or created, attached, and Duo texts it the activation link. A
failure midway undoes what this run made. A number already attached to another Duo user is
refused (it is someone else's device). Removing takes a phone of this user only. Devices are
shown by type and last four digits, never the whole number.

Who may call these is decided by the callers: the admin API and the CLI (realm admins, for
the helpdesk) and ``/account/duo`` (the signed-in user, where ``kdb.duo.self_phones``
allows it).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import users
from keycloak_duo_bridge.admin.duo_link import load_link
from keycloak_duo_bridge.admin.explain import effective_settings
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.tenants import get_tenant, is_linked
from keycloak_duo_bridge.admin.undo import Undo
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.duo.accounts_api import AccountsApi
from keycloak_duo_bridge.duo.admin_users import DuoPhone, DuoUser, UsersApi
from keycloak_duo_bridge.duo.phone_numbers import mask, normalize_e164
from keycloak_duo_bridge.duo.rest_client import RestClient, RestOptions
from keycloak_duo_bridge.duo.rest_protocol import Api
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import ConfigError, NotFoundError

__all__ = ["Device", "add_phone", "list_devices", "remove_phone", "valid_number"]

log = logging.getLogger(__name__)


def valid_number(text: str) -> str:
    """``text`` as an E.164 mobile number; ConfigError (naming the format) if it is not one."""
    number = normalize_e164(text[:64])
    if number is None:
        raise ConfigError(
            "a phone number is given in E.164 form: '+', the country code and the number, "
            "up to 15 digits (for example +15555550123)"
        )
    return number


@dataclass(frozen=True)
class Device:
    """A phone as users and the helpdesk see it: Duo's id, its type, the last four digits."""

    phone_id: str
    type: str
    last_four: str

    @classmethod
    def of(cls, phone: DuoPhone) -> Device:
        return cls(phone.phone_id, phone.type, phone.last_four)

    @property
    def masked(self) -> str:
        return mask(self.last_four) if self.last_four else "no number"

    def to_json(self) -> dict[str, Any]:
        return {"phone_id": self.phone_id, "type": self.type, "number": self.masked}


@dataclass(frozen=True)
class Added:
    """What ``add_phone`` did."""

    device: Device
    duo_user: str  # the user's name at Duo
    created: tuple[str, ...]  # what this run made in Duo ("user", "phone")

    def to_json(self) -> dict[str, Any]:
        return {
            **self.device.to_json(),
            "duo_user": self.duo_user,
            "created": list(self.created),
            "sms_activation": "sent",
        }


def duo_name_of(keycloak: Keycloak, realm: str, username: str) -> str:
    """The user's name at Duo under the realm's mapping (ConfigError if they have none)."""
    effective = effective_settings(keycloak, realm)
    return users.duo_name(effective, users.status(keycloak, realm, username))


@contextlib.contextmanager
def _users_api(
    keycloak: Keycloak, realm: str, *, ring: KeyRing, options: RestOptions
) -> Iterator[UsersApi]:
    """The Admin API of the Duo account that serves ``realm``."""
    tenant = get_tenant(keycloak, realm)
    partner = tenant
    if tenant.kind is TenantKind.CLIENT:
        partner = get_tenant(keycloak, tenant.partner or "", TenantKind.PARTNER)
        if not is_linked(tenant, partner):
            raise ConfigError(f"client {realm!r} is not linked to partner {partner.name!r}")
    link = load_link(keycloak, partner.name, ring)
    with contextlib.ExitStack() as stack:
        rest = stack.enter_context(RestClient(link.creds, options))
        if link.api is Api.ACCOUNTS:
            account_id = tenant.attributes.get(attr.DUO_PROVISIONED_ACCOUNT)
            accounts = AccountsApi(rest, options)
            child = next((a for a in accounts.list_accounts() if a.account_id == account_id), None)
            if child is None:
                raise ConfigError(
                    f"realm {realm!r} has no Duo child account of its own; "
                    f"provision it first (`client create {realm} --duo-provision`)"
                )
            rest = stack.enter_context(accounts.admin_in(child).rest)
        yield UsersApi(rest)


def list_devices(
    keycloak: Keycloak, realm: str, username: str, *, ring: KeyRing, options: RestOptions
) -> list[Device]:
    """The user's phones at Duo (none when Duo does not know the user yet)."""
    name = duo_name_of(keycloak, realm, username)
    with _users_api(keycloak, realm, ring=ring, options=options) as api:
        found = api.find_user(name)
    return [] if found is None else [Device.of(p) for p in found.phones]


def add_phone(
    keycloak: Keycloak,
    realm: str,
    username: str,
    number: str,
    *,
    ring: KeyRing,
    options: RestOptions,
) -> Added:
    """Register ``number`` as the user's mobile phone at Duo and text it the activation."""
    e164 = valid_number(number)
    name = duo_name_of(keycloak, realm, username)
    undo = Undo()
    with _users_api(keycloak, realm, ring=ring, options=options) as api:
        try:
            added = _add(api, name, e164, undo)
        except BaseException:
            undo.run()
            raise
    log.info("registered phone %s for %s in realm %s", added.device.masked, username, realm)
    return added


def _add(api: UsersApi, name: str, number: str, undo: Undo) -> Added:
    user = api.find_user(name)
    if user is None:
        user = api.create_user(name)
        made = user
        undo.push(f"Duo user {name}", lambda: api.delete_user(made.user_id))
    phone = next((p for p in user.phones if p.number == number), None)
    if phone is None:
        phone = api.find_phone(number)
        if phone is not None and set(phone.users) - {user.user_id}:
            raise ConfigError(
                f"the number {mask(number)} is registered to another Duo user; "
                "ask your administrator"
            )
        if phone is None:
            phone = api.create_phone(number)
            new = phone
            undo.push(f"Duo phone {new.phone_id}", lambda: api.delete_phone(new.phone_id))
        api.attach_phone(user.user_id, phone.phone_id)
    api.send_sms_activation(phone.phone_id)
    created = tuple(what.split()[1] for what, _ in undo.steps)
    return Added(Device.of(phone), name, created)


def _own_phone(user: DuoUser | None, phone_id: str) -> DuoPhone:
    phone = next((p for p in user.phones if p.phone_id == phone_id), None) if user else None
    if phone is None:
        raise NotFoundError(f"the user has no phone {phone_id!r}")
    return phone


def remove_phone(
    keycloak: Keycloak,
    realm: str,
    username: str,
    phone_id: str,
    *,
    ring: KeyRing,
    options: RestOptions,
) -> Device:
    """Remove one of the user's own phones from Duo (NotFoundError for anyone else's)."""
    name = duo_name_of(keycloak, realm, username)
    with _users_api(keycloak, realm, ring=ring, options=options) as api:
        user = api.find_user(name)
        phone = _own_phone(user, phone_id[:64])
        shared = api.find_phone(phone.number) if phone.number else None
        if shared is not None and set(shared.users) - {user.user_id if user else ""}:
            raise ConfigError(
                f"the phone {Device.of(phone).masked} is shared with other Duo users; "
                "ask your administrator"
            )
        api.delete_phone(phone.phone_id)
    device = Device.of(phone)
    log.info("removed phone %s of %s in realm %s", device.masked, username, realm)
    return device
