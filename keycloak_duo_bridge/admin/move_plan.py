"""What moving a client from its realm to an organization carries, and what it refuses.

Pure: the facts come read from Keycloak (see :mod:`~keycloak_duo_bridge.admin.move`), and
the plan says what is created, which users move with which credentials, and every reason
the move cannot keep users, credentials and Duo enrolment intact. A plan with a refusal
writes nothing.

Keycloak's admin API never returns a credential's secret, so hashed passwords and OTP
secrets come from the operator's export of the realm (``kc.sh export``), read by
:func:`exported_credentials`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import apps, console_client
from keycloak_duo_bridge.admin.effective import ORGANIZATION_ATTRIBUTES, duo_username, parse_apps
from keycloak_duo_bridge.admin.keycloak import Json
from keycloak_duo_bridge.attributes import UsernameMapping
from keycloak_duo_bridge.errors import ConfigError

# The applications every realm made from the client realm template has: Keycloak's own and
# the bridge's console client. A client realm with others has applications of its own.
TEMPLATE_CLIENTS: Final = apps.BUILT_IN_CLIENTS | {console_client.CLIENT_ID}
# The realm roles Keycloak gives every realm (plus ``default-roles-<realm>``).
TEMPLATE_ROLES: Final = frozenset({"offline_access", "uma_authorization"})
# What a user's create call carries over, besides groups and credentials.
USER_FIELDS: Final = (
    "username",
    "email",
    "emailVerified",
    "firstName",
    "lastName",
    "enabled",
    "attributes",
    "requiredActions",
)


@dataclass(frozen=True)
class SourceUser:
    """A user of the client realm, as the admin API shows them (no secrets)."""

    representation: Json
    groups: tuple[str, ...] = ()
    credential_types: tuple[str, ...] = ()
    admin_roles: tuple[str, ...] = ()  # of the realm's realm-management application
    identity_providers: tuple[str, ...] = ()  # the user's links (their aliases)

    @property
    def username(self) -> str:
        return str(self.representation["username"])

    @property
    def email(self) -> str | None:
        return self.representation.get("email") or None


@dataclass(frozen=True)
class ClientRealm:
    """The client realm to move, read from Keycloak."""

    name: str
    partner: str
    attributes: Mapping[str, str] = field(repr=False)
    username_mapping: UsernameMapping
    users: tuple[SourceUser, ...] = ()
    clients: tuple[str, ...] = ()
    identity_providers: tuple[str, ...] = ()
    custom_flows: tuple[str, ...] = ()
    federation: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # found while reading it (a sealed value that does not open)


@dataclass(frozen=True)
class PartnerRealm:
    """The partner realm that is to hold the organization, read from Keycloak."""

    name: str
    username_mapping: UsernameMapping
    clients: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    taken_usernames: frozenset[str] = frozenset()  # lower-cased, of the moving users'
    taken_emails: frozenset[str] = frozenset()  # lower-cased, of the moving users'
    organization_exists: bool = False


@dataclass(frozen=True)
class Plan:
    """A move: what it creates and carries, and why it cannot be done (if it cannot)."""

    client: str
    source: str
    destination: str
    settings: tuple[str, ...]
    users: tuple[str, ...]
    refusals: tuple[str, ...]
    new_users: tuple[Json, ...] = field(default=(), repr=False)  # create calls, secrets in

    @property
    def movable(self) -> bool:
        return not self.refusals

    def to_json(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "from": self.source,
            "to": self.destination,
            "settings": list(self.settings),
            "users": list(self.users),
            "movable": self.movable,
            "refused": list(self.refusals),
        }


def export_command(realm: str) -> str:
    """The command that writes the file ``--users-from`` reads (Keycloak stopped)."""
    return (
        f"kc.sh export --dir DIR --realm {realm} --users same_file"
        f" (then --users-from DIR/{realm}-users-0.json)"
    )


def exported_credentials(data: Any, realm: str) -> dict[str, tuple[Json, ...]]:
    """Each user's credentials (hashes included) from a ``kc.sh export`` file of ``realm``.

    Takes the users file of ``--users same_file`` or ``different_files``, a realm file of
    ``--users realm_file``, or the list ``--file`` writes for several realms. Keyed by the
    lower-cased username.
    """
    found = data if isinstance(data, list) else [data]
    chosen = [d for d in found if isinstance(d, dict) and d.get("realm") == realm]
    if not chosen:
        raise ConfigError(f"the export file holds no users of realm {realm!r}")
    users = chosen[0].get("users")
    if not isinstance(users, list):
        raise ConfigError(f"the export file holds no users of realm {realm!r}")
    return {
        str(u["username"]).lower(): tuple(_credential(c) for c in u.get("credentials") or [])
        for u in users
    }


def _credential(raw: Json) -> Json:
    kept = ("type", "userLabel", "secretData", "credentialData", "priority", "createdDate")
    return {k: raw[k] for k in kept if k in raw}


def _duo_name(mapping: UsernameMapping, realm: str, user: SourceUser) -> str | None:
    try:
        return duo_username(
            mapping,
            realm=realm,
            username=user.username,
            email=user.email,
            email_verified=bool(user.representation.get("emailVerified")),
        )
    except ConfigError:
        return None


def _realm_refusals(source: ClientRealm, partner: PartnerRealm) -> list[str]:
    refusals = list(source.problems)
    if partner.organization_exists:
        refusals.append(f"partner {partner.name!r} already has an organization {source.name!r}")
    own_clients = sorted(set(source.clients) - TEMPLATE_CLIENTS)
    if own_clients:
        refusals.append(
            f"realm {source.name!r} has applications of its own ({', '.join(own_clients)});"
            " an organization uses its partner realm's applications"
        )
    for what, found in (
        ("identity providers", source.identity_providers),
        ("authentication flows of its own", source.custom_flows),
        ("user federation", source.federation),
    ):
        if found:
            refusals.append(
                f"realm {source.name!r} has {what} ({', '.join(found)}); those belong to a"
                " realm, and an organization's members use the partner realm's"
            )
    roles = sorted(set(source.roles) - TEMPLATE_ROLES - {f"default-roles-{source.name}"})
    if roles:
        refusals.append(
            f"realm {source.name!r} has realm roles of its own ({', '.join(roles)}): users'"
            " role mappings are not carried"
        )
    groups = sorted(set(source.groups) - partner.groups)
    if groups:
        refusals.append(
            f"realm {partner.name!r} lacks the groups {', '.join(groups)} of realm"
            f" {source.name!r}; create them there first"
        )
    admins = [u.username for u in source.users if u.admin_roles]
    if admins:
        refusals.append(
            f"users {', '.join(admins)} administer realm {source.name!r} (realm-management"
            " roles): an organization has no administrators of its own, and those of"
            f" realm {partner.name!r} administer every client"
        )
    own_settings = sorted(
        name
        for name in source.attributes
        if name.startswith(f"{attr.PREFIX}duo.")
        and name not in ORGANIZATION_ATTRIBUTES
        and name != attr.DUO_USERNAME  # judged by the users' Duo names below
    )
    if own_settings:
        refusals.append(
            f"realm {source.name!r} sets {', '.join(own_settings)}, the realm's own setting(s):"
            f" an organization takes realm {partner.name!r}'s; clear them first"
        )
    apps = parse_apps(source.attributes.get(attr.DUO_APPS) or "{}")
    missing_apps = sorted(set(apps) - partner.clients)
    if missing_apps:
        refusals.append(
            f"realm {partner.name!r} has no application {', '.join(missing_apps)} that realm"
            f" {source.name!r} sets a Duo mode for"
        )
    return refusals


@dataclass(frozen=True)
class Side:
    """A realm users move from or to, and how Duo names its users."""

    realm: str
    mapping: UsernameMapping
    taken_usernames: frozenset[str] = frozenset()  # lower-cased
    taken_emails: frozenset[str] = frozenset()  # lower-cased


def _user_refusals(
    users: tuple[SourceUser, ...],
    source: Side,
    destination: Side,
    exported: Mapping[str, tuple[Json, ...]] | None,
) -> list[str]:
    refusals: list[str] = []
    with_secrets = [u.username for u in users if u.credential_types]
    if with_secrets and exported is None:
        refusals.append(
            f"users {', '.join(with_secrets)} have passwords or OTP credentials, which"
            " Keycloak's admin API never returns: export them with"
            f" `{export_command(source.realm)}` and give --users-from"
        )
    for user in users:
        name = user.username
        if name.lower() in destination.taken_usernames:
            refusals.append(f"username {name!r} already exists in realm {destination.realm!r}")
        if user.email and user.email.lower() in destination.taken_emails:
            refusals.append(f"email {user.email!r} already exists in realm {destination.realm!r}")
        before = _duo_name(source.mapping, source.realm, user)
        after = _duo_name(destination.mapping, destination.realm, user)
        if before != after:
            refusals.append(
                f"user {name!r} is {before!r} at Duo and would be {after!r} under realm"
                f" {destination.realm!r}'s Duo username mapping: the Duo enrolment would not"
                " match"
            )
        if exported is not None and user.credential_types:
            carried = sorted(str(c.get("type")) for c in exported.get(name.lower(), ()))
            if carried != sorted(user.credential_types):
                refusals.append(
                    f"the export file gives user {name!r} credentials {carried or 'none'},"
                    f" realm {source.realm!r} has {sorted(user.credential_types)}: export again"
                )
    return refusals


def new_user(user: SourceUser, credentials: tuple[Json, ...]) -> Json:
    """The create call of a moved user: their fields, groups and credentials."""
    body: Json = {k: user.representation[k] for k in USER_FIELDS if k in user.representation}
    body["groups"] = list(user.groups)
    body["credentials"] = [dict(c) for c in credentials]
    return body


def plan_to_organization(
    source: ClientRealm,
    partner: PartnerRealm,
    exported: Mapping[str, tuple[Json, ...]] | None = None,
) -> Plan:
    """The move of client realm ``source`` to an organization of ``partner``'s realm."""
    users = _user_refusals(
        source.users,
        Side(source.name, source.username_mapping),
        Side(partner.name, partner.username_mapping, partner.taken_usernames, partner.taken_emails),
        exported,
    )
    return _plan(
        source.name,
        (f"realm {source.name}", f"organization {source.name} of realm {partner.name}"),
        source.attributes,
        source.users,
        refusals=_realm_refusals(source, partner) + users,
        exported=exported,
    )


def _plan(
    client: str,
    where: tuple[str, str],
    attributes: Mapping[str, str],
    users: tuple[SourceUser, ...],
    *,
    refusals: list[str],
    exported: Mapping[str, tuple[Json, ...]] | None,
) -> Plan:
    given = exported or {}
    return Plan(
        client=client,
        source=where[0],
        destination=where[1],
        settings=tuple(sorted(n for n in attributes if n in ORGANIZATION_ATTRIBUTES)),
        users=tuple(u.username for u in users),
        refusals=tuple(refusals),
        new_users=tuple(new_user(u, given.get(u.username.lower(), ())) for u in users),
    )


def read_export(text: str, realm: str) -> dict[str, tuple[Json, ...]]:
    """:func:`exported_credentials` of a file's text; ConfigError if it is not JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigError("--users-from: the file is not JSON (a `kc.sh export` file)") from None
    return exported_credentials(data, realm)


@dataclass(frozen=True)
class ClientOrganization:
    """The client organization to move to a realm of its own, read from Keycloak."""

    name: str
    partner: str
    attributes: Mapping[str, str] = field(repr=False)
    partner_mapping: UsernameMapping  # how Duo names the members now
    members: tuple[SourceUser, ...] = ()
    elsewhere: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # other orgs
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewRealm:
    """The client realm the organization is to become (made from the client template)."""

    name: str
    username_mapping: UsernameMapping  # how Duo will name its users
    exists: bool = False


def plan_to_realm(
    source: ClientOrganization,
    new: NewRealm,
    exported: Mapping[str, tuple[Json, ...]] | None = None,
) -> Plan:
    """The move of client organization ``source`` to a client realm of its own."""
    refusals = list(source.problems)
    if new.exists:
        refusals.append(f"a realm named {new.name!r} exists already")
    for member in source.members:
        others = source.elsewhere.get(member.username)
        if others:
            refusals.append(
                f"user {member.username!r} is also a member of organization(s)"
                f" {', '.join(others)}, which stay in realm {source.partner!r}"
            )
        if member.identity_providers:
            refusals.append(
                f"user {member.username!r} signs in through identity provider(s)"
                f" {', '.join(member.identity_providers)} of realm {source.partner!r}, which a"
                " new client realm does not have"
            )
        if member.admin_roles:
            refusals.append(
                f"user {member.username!r} administers realm {source.partner!r}"
                " (realm-management roles), which moving would delete them from"
            )
        if member.groups:
            refusals.append(
                f"user {member.username!r} is in groups {', '.join(member.groups)} of realm"
                f" {source.partner!r}, which a new client realm does not have"
            )
    apps = parse_apps(source.attributes.get(attr.DUO_APPS) or "{}")
    missing_apps = sorted(set(apps) - TEMPLATE_CLIENTS)
    if missing_apps:
        refusals.append(
            f"organization {source.name!r} sets Duo modes for applications of realm"
            f" {source.partner!r} ({', '.join(missing_apps)}) that realm {new.name!r} would"
            " not have"
        )
    refusals += _user_refusals(
        source.members,
        Side(source.partner, source.partner_mapping),
        Side(new.name, new.username_mapping),
        exported,
    )
    return _plan(
        source.name,
        (f"organization {source.name} of realm {source.partner}", f"realm {new.name}"),
        source.attributes,
        source.members,
        refusals=refusals,
        exported=exported,
    )
