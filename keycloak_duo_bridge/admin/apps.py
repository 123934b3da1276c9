"""The per-application switch: realm attribute ``kdb.duo.apps``, a JSON object by clientId.

It lives on the realm, not on the client, because only realm administrators write realm
attributes: a ``manage-clients`` admin or a developer registering a client can write the
client's own attributes, and so could otherwise switch Duo off for their application.
Applications are always named by clientId, never by Keycloak's internal UUID, so the same
name works in every realm (``--partner P --all-clients APP``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from keycloak_duo_bridge import assurance
from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record
from keycloak_duo_bridge.admin.effective import format_apps, parse_app_mode, parse_apps
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.admin.tenants import clients_of, get_tenant
from keycloak_duo_bridge.attributes import AppMode, TenantKind
from keycloak_duo_bridge.errors import ConfigError, NotFoundError


@dataclass(frozen=True)
class AppResult:
    realm: str
    client_id: str
    mode: AppMode | None  # None: the application does not exist in that realm
    written: bool


def find_app(keycloak: Keycloak, realm: str, client_id: str) -> Json:
    keycloak.get_realm(realm)
    client = keycloak.find_client(realm, client_id)
    if client is None:
        raise NotFoundError(f"application {client_id!r} does not exist in realm {realm!r}")
    return client


def set_mode(keycloak: Keycloak, realm: str, client_id: str, mode: str) -> AppResult:
    """Set one application's Duo mode; writes nothing when it already has it."""
    wanted = parse_app_mode(mode)
    client = find_app(keycloak, realm, client_id)
    return _apply(keycloak, realm, client, wanted)


#: Keycloak's client attribute (26.1+): the lowest ``acr`` a login to the client may end at.
MINIMUM_ACR: Final = "minimum.acr.value"


def set_minimum_acr(keycloak: Keycloak, realm: str, client_id: str, acr: str | None) -> bool:
    """Make every login to ``client_id`` reach ``acr`` (``mfa``: Duo, in a "step-up" realm;
    None: no minimum). Standard step-up in place of the ``required`` mode. True if written."""
    if acr is not None and acr not in {assurance.ACR_BASE, assurance.ACR_DUO}:
        raise ConfigError(
            f"minimum ACR must be {assurance.ACR_DUO!r} or {assurance.ACR_BASE!r}, not {acr!r}"
        )
    client = find_app(keycloak, realm, client_id)
    attributes = dict(client.get("attributes") or {})
    if attributes.get(MINIMUM_ACR) == acr or (acr is None and MINIMUM_ACR not in attributes):
        return False
    if acr is None:
        attributes.pop(MINIMUM_ACR, None)
        attributes[MINIMUM_ACR] = ""  # Keycloak keeps attributes a PUT leaves out
    else:
        attributes[MINIMUM_ACR] = acr
    keycloak.update_client(realm, str(client["id"]), {**client, "attributes": attributes})
    return True


def stored_modes(attributes: dict[str, str]) -> dict[str, AppMode]:
    """The realm's application modes; an unreadable attribute counts as none set (``explain``
    reports it), and every application then inherits the realm's switch."""
    text = attributes.get(attr.DUO_APPS)
    try:
        return parse_apps(text) if text else {}
    except ConfigError:
        return {}


def _apply(keycloak: Keycloak, realm: str, client: Json, wanted: AppMode) -> AppResult:
    client_id = str(client["clientId"])
    modes = stored_modes(dict(keycloak.get_realm(realm).get("attributes") or {}))
    if modes.get(client_id, AppMode.INHERIT) is wanted:
        return AppResult(realm, client_id, wanted, written=False)
    modes[client_id] = wanted
    record.store(keycloak, realm, {attr.DUO_APPS: format_apps(modes)})
    return AppResult(realm, client_id, wanted, written=True)


def set_mode_across(keycloak: Keycloak, partner: str, client_id: str, mode: str) -> list[AppResult]:
    """Set ``client_id``'s mode in every client realm of ``partner`` that has the application.

    Every realm is read before the first write, so an unknown partner or an application that
    exists nowhere fails without writing anything.
    """
    wanted = parse_app_mode(mode)
    get_tenant(keycloak, partner, TenantKind.PARTNER)
    found = [
        (c.name, keycloak.find_client(c.name, client_id)) for c in clients_of(keycloak, partner)
    ]
    if all(client is None for _, client in found):
        raise NotFoundError(
            f"application {client_id!r} does not exist in any client realm of partner {partner!r}"
        )
    return [
        _apply(keycloak, realm, client, wanted)
        if client is not None
        else AppResult(realm, client_id, None, written=False)
        for realm, client in found
    ]


@dataclass(frozen=True)
class AppInfo:
    client_id: str
    name: str | None
    mode: AppMode


# Keycloak names its built-in clients by message keys (``${client_account}``), which its own
# admin console translates; these are its English texts.
BUILT_IN_NAMES: Final = {
    "client_account": "Account",
    "client_account-console": "Account Console",
    "client_admin-cli": "Admin CLI",
    "client_broker": "Broker",
    "client_realm-management": "Realm Management",
    "client_security-admin-console": "Security Admin Console",
}
# Keycloak's own applications, which every realm has.
BUILT_IN_CLIENTS: Final = frozenset(key.removeprefix("client_") for key in BUILT_IN_NAMES)
_MESSAGE_KEY: Final = re.compile(r"\$\{([^}]*)\}")


def readable_name(name: str | None) -> str | None:
    """A client's name as people read it: Keycloak's ``${message_key}`` names resolved."""
    if not name:
        return None

    def resolve(match: re.Match[str]) -> str:
        key = match.group(1)
        return BUILT_IN_NAMES.get(key) or key.removeprefix("client_").replace("-", " ").title()

    return _MESSAGE_KEY.sub(resolve, name).strip() or None


def list_apps(keycloak: Keycloak, realm: str) -> list[AppInfo]:
    modes = stored_modes(dict(keycloak.get_realm(realm).get("attributes") or {}))
    return sorted(
        (
            AppInfo(
                str(c["clientId"]),
                readable_name(c.get("name")),
                modes.get(str(c["clientId"]), AppMode.INHERIT),
            )
            for c in keycloak.get_clients(realm)
        ),
        key=lambda app: app.client_id,
    )
