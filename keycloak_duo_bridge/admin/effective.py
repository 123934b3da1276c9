"""Effective Duo settings of a realm and the decision a login gets: pure functions.

A client realm without its own Duo credentials uses its partner's; every other setting
(on/off, user mode, fail mode, bypass groups, remember window) also falls back to the
partner realm when the client realm leaves it unset, and then to a default. Each value
records where it came from, so ``explain`` can show it and the bridge can reuse the very
same rules on the login path. Nothing here does I/O.

**The link rule.** A realm's ``kdb.tenant.partner`` is only its claim, which its own admins
can write. It inherits from that partner only when the partner's side names it too: the
partner realm is a partner, and carries ``kdb.tenant.client.<realm>`` whose value is the
claiming realm's id. Only the admin service writes that (on ``client create`` and moves), so
a realm cannot pick its own partner; without the proof nothing is inherited and
:attr:`EffectiveSettings.problems` says why. The extension applies the same rule, because it
reads only what :mod:`~keycloak_duo_bridge.admin.record` resolved with these functions.

Application modes (``kdb.duo.apps``), identity-provider policies (``kdb.duo.idps``), the Duo
username mapping (``kdb.duo.username``) and brokered users' Duo names
(``kdb.duo.brokered_username``) are the realm's own and never inherited: the realm names its
own applications, identity providers and users.

**Brokered users** (linked to an identity provider, see :class:`IdpLink`) get the decision
and the Duo name from what Keycloak's broker recorded, never from their attributes or groups:
an IdP mapper can write those on every login, so bypass groups and opt-in activation do not
spare them Duo; and their Duo name comes from the link, not from the username they may have
typed at first login (see :func:`duo_username`).

A value that is set but invalid (written by hand, say) is skipped as if unset and reported
in :attr:`EffectiveSettings.problems`; the defaults are the safe choices (Duo required for
every user, fail closed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final, Generic, TypeVar

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.idp_policy import IdpPolicy, parse_idps
from keycloak_duo_bridge.attributes import (
    AppMode,
    Assurance,
    BrokeredEnrollment,
    BrokeredUsername,
    FailMode,
    IdpMode,
    RememberMode,
    SelfPhones,
    TenantKind,
    UserMode,
    UsernameMapping,
)
from keycloak_duo_bridge.errors import ConfigError

T = TypeVar("T")
Remember = RememberMode | int
"""Once per SSO session, at every login, or a number of minutes."""

MAX_REMEMBER_MINUTES = 60 * 24 * 30


class Origin(StrEnum):
    CLIENT_REALM = "client realm"
    PARTNER_REALM = "partner realm"
    ORGANIZATION = "organization"
    DEFAULT = "default"


@dataclass(frozen=True)
class Sourced(Generic[T]):
    """A value and where it came from: the realm that set it, or the default."""

    value: T
    origin: Origin
    realm: str | None = None


@dataclass(frozen=True)
class StoredCredentials:
    """A realm's Duo integration. ``realm`` holds the skey, and is part of its AAD."""

    ikey: str
    api_host: str
    skey_ciphertext: str = field(repr=False)
    realm: str


@dataclass(frozen=True)
class EffectiveSettings:
    realm: str
    partner: str | None
    enabled: Sourced[bool]
    credentials: Sourced[StoredCredentials | None]
    user_mode: Sourced[UserMode]
    fail_mode: Sourced[FailMode]
    bypass_groups: Sourced[tuple[str, ...]]
    remember: Sourced[Remember]
    self_deactivate: Sourced[bool] = Sourced(False, Origin.DEFAULT)  # noqa: FBT003
    self_phones: Sourced[SelfPhones] = Sourced(SelfPhones.OFF, Origin.DEFAULT)
    username_mapping: Sourced[UsernameMapping] = Sourced(UsernameMapping.USERNAME, Origin.DEFAULT)
    apps: Mapping[str, AppMode] = field(default_factory=dict)
    assurance: Sourced[Assurance] = Sourced(Assurance.ENFORCE, Origin.DEFAULT)
    brokered_username: Sourced[BrokeredUsername] = Sourced(
        BrokeredUsername.IDP_SUBJECT, Origin.DEFAULT
    )
    brokered_enrollment: Sourced[BrokeredEnrollment] = Sourced(
        BrokeredEnrollment.ALLOW, Origin.DEFAULT
    )
    # identity-provider alias -> its Duo policy (``duo`` when unlisted), the realm's own
    idps: Mapping[str, IdpPolicy] = field(default_factory=dict)
    linked: bool = False  # the partner link is proven (see the link rule)
    problems: tuple[str, ...] = ()
    # Duo's Auth API application (CIBA, issue #16): the same unit-and-partner rule
    auth_api: Sourced[StoredCredentials | None] = Sourced(None, Origin.DEFAULT)
    # After `duo rotate`: the replaced application, for logins started with it (the realm's
    # own, never inherited), and until when (epoch seconds)
    retiring: StoredCredentials | None = None
    retiring_until: int = 0
    # Settings of an organization inside ``realm`` (the partner's): its name, else None
    organization: str | None = None

    def retiring_for(self, ikey: str, *, now: float) -> StoredCredentials | None:
        """The replaced application if a login started with ``ikey`` may still finish."""
        old = self.retiring
        return old if old is not None and old.ikey == ikey and now < self.retiring_until else None

    def app_mode(self, client_id: str | None) -> AppMode:
        """An application's mode in this realm; one the realm does not list inherits."""
        return self.apps.get(client_id or "", AppMode.INHERIT)

    def idp_policy(self, alias: str | None) -> IdpPolicy | None:
        """The policy of the identity provider a login came through; None for a login that
        came through none (``duo`` for one the realm does not list)."""
        return None if alias is None else self.idps.get(alias, IdpPolicy())


class PolicyOutcome(StrEnum):
    REQUIRED = "required"
    BYPASSED_BY_GROUP = "bypassed by group"
    NOT_ACTIVATED = "not activated"
    APP_OFF = "app off"
    REALM_OFF = "realm off"
    IDP_OFF = "identity provider off"


@dataclass(frozen=True)
class IdpLink:
    """A user's link to an identity provider: its alias and the subject it vouched for, as
    Keycloak's broker stored them (no mapper, user or client writes these)."""

    alias: str
    subject: str


@dataclass(frozen=True)
class Decision:
    outcome: PolicyOutcome
    reason: str

    @property
    def requires_duo(self) -> bool:
        return self.outcome is PolicyOutcome.REQUIRED


# -- parsing single values (also used to validate input before writing) ------------------


MAX_SHOWN = 24


def shown(text: str) -> str:
    """How an invalid value is quoted back: short ones as they are, never a pasted secret."""
    return repr(text) if len(text) <= MAX_SHOWN else f"a value of {len(text)} characters"


def parse_bool(text: str) -> bool:
    if text in {"true", "false"}:
        return text == "true"
    raise ConfigError(f"expected true or false, not {shown(text)}")


def parse_self_phones(text: str) -> SelfPhones:
    try:
        return SelfPhones(text)
    except ValueError:
        raise ConfigError(f"self phones must be off, add or manage, not {shown(text)}") from None


def parse_user_mode(text: str) -> UserMode:
    try:
        return UserMode(text)
    except ValueError:
        raise ConfigError(f"user mode must be required or opt-in, not {shown(text)}") from None


def parse_fail_mode(text: str) -> FailMode:
    try:
        return FailMode(text)
    except ValueError:
        raise ConfigError(f"fail mode must be closed or open, not {shown(text)}") from None


def parse_assurance(text: str) -> Assurance:
    try:
        return Assurance(text)
    except ValueError:
        raise ConfigError(f"assurance must be enforce or step-up, not {shown(text)}") from None


def parse_brokered_username(text: str) -> BrokeredUsername:
    try:
        return BrokeredUsername(text)
    except ValueError:
        choices = " or ".join(m.value for m in BrokeredUsername)
        raise ConfigError(
            f"the brokered users' Duo username must be {choices}, not {shown(text)}"
        ) from None


def parse_brokered_enrollment(text: str) -> BrokeredEnrollment:
    try:
        return BrokeredEnrollment(text)
    except ValueError:
        raise ConfigError(
            f"brokered users' enrolment must be allow or known-only, not {shown(text)}"
        ) from None


def parse_app_mode(text: str) -> AppMode:
    try:
        return AppMode(text)
    except ValueError:
        raise ConfigError(f"app mode must be inherit, required or off, not {shown(text)}") from None


def parse_remember(text: str) -> Remember:
    """``session``, ``every-login`` or minutes as digits (1 to 43200)."""
    if text in {RememberMode.SESSION, RememberMode.EVERY_LOGIN}:
        return RememberMode(text)
    if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_REMEMBER_MINUTES:
        return int(text)
    raise ConfigError(
        "remember must be session, every-login or minutes "
        f"(1-{MAX_REMEMBER_MINUTES}), not {shown(text)}"
    )


def format_remember(value: Remember) -> str:
    return str(value) if isinstance(value, int) else value.value


_SEPARATOR = re.compile(r"(?<!~)/")


def group_segments(path: str) -> tuple[str, ...]:
    """The group names along a group path, as Keycloak (26+) writes it: ``/`` separates
    them, and a ``/`` inside a name is escaped as ``~/`` (``/a~/b`` is one group, "a/b")."""
    return tuple(_SEPARATOR.split(path.removeprefix("/")))


def parse_group_path(text: str) -> str:
    """A group path such as ``/staff`` or ``/ops/oncall``."""
    if not text.startswith("/") or not all(group_segments(text)):
        raise ConfigError(f"a group path looks like /name or /parent/child, not {shown(text)}")
    return text


def parse_bypass_groups(text: str) -> tuple[str, ...]:
    """The stored JSON list of group paths."""
    try:
        raw = json.loads(text)
    except ValueError:
        raise ConfigError("bypass groups must be a JSON list of group paths") from None
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ConfigError("bypass groups must be a JSON list of group paths")
    return tuple(parse_group_path(item) for item in raw)


def format_bypass_groups(groups: Iterable[str]) -> str:
    return json.dumps(sorted(set(groups)))


_NO_APPS: dict[str, AppMode] = {}
_NO_IDPS: dict[str, IdpPolicy] = {}


def parse_apps(text: str) -> dict[str, AppMode]:
    """The stored JSON object of application modes: ``{"clientId": "off", ...}``."""
    try:
        raw = json.loads(text)
    except ValueError:
        raise ConfigError("application modes must be a JSON object of clientId: mode") from None
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ConfigError("application modes must be a JSON object of clientId: mode")
    return {str(k): parse_app_mode(v) for k, v in raw.items()}


def format_apps(apps: Mapping[str, AppMode]) -> str | None:
    """The stored form; ``inherit`` is the absence of an entry, and no entries no attribute."""
    kept = {k: v.value for k, v in sorted(apps.items()) if v is not AppMode.INHERIT}
    return json.dumps(kept, separators=(",", ":")) if kept else None


def parse_username_mapping(text: str) -> UsernameMapping:
    try:
        return UsernameMapping(text)
    except ValueError:
        choices = ", ".join(m.value for m in UsernameMapping)
        raise ConfigError(
            f"the Duo username mapping must be one of {choices}, not {shown(text)}"
        ) from None


# -- resolution --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Level:
    attributes: Mapping[str, str]
    origin: Origin
    realm: str
    scope: str | None = None  # what its sealed secrets are bound to, when not ``realm``


def _resolve(
    levels: list[_Level],
    name: str,
    parse: Callable[[str], T],
    default: T,
    problems: list[str],
) -> Sourced[T]:
    for level in levels:
        text = level.attributes.get(name)
        if text is None or text == "":
            continue
        try:
            return Sourced(parse(text), level.origin, level.realm)
        except ConfigError as exc:
            problems.append(f"{name} on realm {level.realm!r} is ignored: {exc}")
    return Sourced(default, Origin.DEFAULT)


_WEB_SDK = (attr.DUO_IKEY, attr.DUO_API_HOST, attr.DUO_SKEY)
AUTH_API_NAMES: Final = (attr.AUTH_API_IKEY, attr.AUTH_API_HOST, attr.AUTH_API_SKEY)


def _credentials(
    levels: list[_Level],
    problems: list[str],
    names: tuple[str, str, str] = _WEB_SDK,
    what: str = "Duo",
) -> Sourced[StoredCredentials | None]:
    for level in levels:
        ikey, host, skey = (level.attributes.get(name) or "" for name in names)
        if not (ikey or host or skey):
            continue
        if ikey and host and skey:
            holder = level.scope or level.realm
            return Sourced(StoredCredentials(ikey, host, skey, holder), level.origin, level.realm)
        missing = ", ".join(n for n, v in zip(names, (ikey, host, skey), strict=True) if not v)
        problems.append(f"realm {level.realm!r} has incomplete {what} credentials: {missing} unset")
        return Sourced(None, level.origin, level.realm)
    return Sourced(None, Origin.DEFAULT)


def _inherited(levels: list[_Level], problems: list[str]) -> dict[str, Any]:
    """The settings a level leaves unset and the next one gives (a client realm's partner,
    an organization's realm), in the order their problems are reported."""
    return {
        "enabled": _resolve(levels, attr.DUO_ENABLED, parse_bool, False, problems),  # noqa: FBT003
        "user_mode": _resolve(
            levels, attr.DUO_USER_MODE, parse_user_mode, UserMode.REQUIRED, problems
        ),
        "fail_mode": _resolve(
            levels, attr.DUO_FAIL_MODE, parse_fail_mode, FailMode.CLOSED, problems
        ),
        "bypass_groups": _resolve(
            levels, attr.DUO_BYPASS_GROUPS, parse_bypass_groups, (), problems
        ),
        "remember": _resolve(
            levels, attr.DUO_REMEMBER, parse_remember, RememberMode.SESSION, problems
        ),
        "self_deactivate": _resolve(levels, attr.DUO_SELF_DEACTIVATE, parse_bool, False, problems),  # noqa: FBT003
        "self_phones": _resolve(
            levels, attr.DUO_SELF_PHONES, parse_self_phones, SelfPhones.OFF, problems
        ),
    }


def link_attribute(client_realm: str) -> str:
    """The partner-side attribute that proves ``client_realm``'s link."""
    return attr.TENANT_CLIENT_PREFIX + client_realm


def link_problem(
    realm_attributes: Mapping[str, str],
    partner_attributes: Mapping[str, str] | None,
    *,
    realm: str,
    realm_id: str | None,
) -> str | None:
    """Why the realm's claim to its partner is not proven, or None when it is.

    ``realm_id`` is the claiming realm's id; ``None`` only for a state the admin service is
    about to write itself (a plan, or a realm being created with its link).
    """
    partner = realm_attributes.get(attr.TENANT_PARTNER) or ""
    if realm_attributes.get(attr.TENANT_KIND) != TenantKind.CLIENT:
        return f"realm {realm!r} names partner {partner!r} but is not a client realm"
    if partner_attributes is None:
        return f"partner realm {partner!r} does not exist"
    if partner_attributes.get(attr.TENANT_KIND) != TenantKind.PARTNER:
        return f"realm {partner!r} is not a partner, so {realm!r} inherits nothing from it"
    if realm_id is None:
        return None
    proof = partner_attributes.get(link_attribute(realm))
    if not proof or proof != realm_id:
        return (
            f"partner {partner!r} does not list realm {realm!r} as its client, so nothing is "
            "inherited (only the admin service links a client to its partner)"
        )
    return None


def resolve_effective(
    realm_attributes: Mapping[str, str],
    partner_attributes: Mapping[str, str] | None = None,
    *,
    realm: str,
    realm_id: str | None,
) -> EffectiveSettings:
    """The settings a login in ``realm`` gets, each with its origin.

    ``partner_attributes`` are the attributes of the partner realm named by the realm's
    ``kdb.tenant.partner`` (``None`` for a partner realm, or when it does not exist). They
    count only when the link rule holds for ``realm_id`` (see :func:`link_problem`).
    """
    partner = realm_attributes.get(attr.TENANT_PARTNER) or None
    own_origin = (
        Origin.PARTNER_REALM
        if realm_attributes.get(attr.TENANT_KIND) == TenantKind.PARTNER
        else Origin.CLIENT_REALM
    )
    levels = [_Level(realm_attributes, own_origin, realm)]
    problems: list[str] = []
    linked = False
    if partner is not None and partner != realm:
        problem = link_problem(realm_attributes, partner_attributes, realm=realm, realm_id=realm_id)
        if problem is not None:
            problems.append(problem)
        elif partner_attributes is not None:
            linked = True
            levels.append(_Level(partner_attributes, Origin.PARTNER_REALM, partner))
    credentials = _credentials(levels, problems)
    own = levels[:1]
    return EffectiveSettings(
        realm=realm,
        partner=partner,
        credentials=credentials,
        **_inherited(levels, problems),
        username_mapping=_resolve(
            own,
            attr.DUO_USERNAME,
            parse_username_mapping,
            _default_mapping(credentials, realm),
            problems,
        ),
        apps=_resolve(own, attr.DUO_APPS, parse_apps, _NO_APPS, problems).value,
        idps=_resolve(own, attr.DUO_IDPS, parse_idps, _NO_IDPS, problems).value,
        brokered_enrollment=_resolve(
            own,
            attr.DUO_BROKERED_ENROLLMENT,
            parse_brokered_enrollment,
            BrokeredEnrollment.ALLOW,
            problems,
        ),
        assurance=_resolve(own, attr.DUO_ASSURANCE, parse_assurance, Assurance.ENFORCE, problems),
        brokered_username=_resolve(
            own,
            attr.DUO_BROKERED_USERNAME,
            parse_brokered_username,
            BrokeredUsername.IDP_SUBJECT,
            problems,
        ),
        linked=linked,
        auth_api=_credentials(levels, problems, AUTH_API_NAMES, "Duo Auth API"),
        problems=tuple(problems),
        retiring=_retiring(realm_attributes, realm),
        retiring_until=_retiring_until(realm_attributes),
    )


def single_values(representation: Mapping[str, Any]) -> dict[str, str]:
    """An organization representation's attributes, one value each (Keycloak keeps lists)."""
    raw: Mapping[str, Any] = representation.get("attributes") or {}
    return {
        str(name): str(values[0] if isinstance(values, list) else values)
        for name, values in raw.items()
        if values not in (None, [])
    }


def organization_scope(realm: str, organization_id: str) -> str:
    """What an organization's sealed secrets are bound to (their AAD): its realm and its id.

    A realm name holds no ``/``, so no realm's scope equals an organization's, and a value
    sealed for one organization opens for no other organization and no realm.
    """
    return f"{realm}/organization/{organization_id}"


# What an organization may set for its members; the rest is the realm's own (its users,
# identity providers and flows are the partner realm's).
ORGANIZATION_ATTRIBUTES: Final = (
    attr.DUO_ENABLED,
    attr.DUO_IKEY,
    attr.DUO_API_HOST,
    attr.DUO_SKEY,
    attr.DUO_USER_MODE,
    attr.DUO_FAIL_MODE,
    attr.DUO_BYPASS_GROUPS,
    attr.DUO_REMEMBER,
    attr.DUO_SELF_DEACTIVATE,
    attr.DUO_SELF_PHONES,
    attr.DUO_APPS,
    *AUTH_API_NAMES,
    *attr.PROVISIONED_NAMES,
)


def resolve_organization(
    organization_attributes: Mapping[str, str],
    partner: EffectiveSettings,
    partner_attributes: Mapping[str, str],
    *,
    organization: str,
    organization_id: str,
) -> EffectiveSettings:
    """The settings a member of ``organization`` (inside ``partner``'s realm) gets.

    The link is proven by containment: Keycloak keeps the organization inside the realm, so
    nothing on it names a partner. What the organization leaves unset comes from the partner
    realm, as for a client realm; application modes are the organization's entries over the
    partner's. The username mapping, identity providers, assurance and brokered-user rules
    stay the realm's: the users, their links and the flows are the realm's.
    """
    realm = partner.realm
    own = _Level(
        organization_attributes,
        Origin.ORGANIZATION,
        organization,
        organization_scope(realm, organization_id),
    )
    levels = [own, _Level(partner_attributes, Origin.PARTNER_REALM, realm)]
    problems: list[str] = [
        f"{name} is not an organization setting and is ignored on organization {organization!r}"
        for name in sorted(organization_attributes)
        if name.startswith(attr.PREFIX)
        and name not in (*ORGANIZATION_ATTRIBUTES, attr.TENANT_KIND, attr.RESOLVED)
    ]
    org_apps = _resolve([own], attr.DUO_APPS, parse_apps, _NO_APPS, problems).value
    return replace(
        partner,
        credentials=_credentials(levels, problems),
        **_inherited(levels, problems),
        apps={**partner.apps, **org_apps},
        auth_api=_credentials(levels, problems, AUTH_API_NAMES, "Duo Auth API"),
        problems=(*partner.problems, *problems),
        retiring=None,
        retiring_until=0,
        organization=organization,
    )


_RETIRING = (attr.DUO_RETIRING_IKEY, attr.DUO_RETIRING_API_HOST, attr.DUO_RETIRING_SKEY)


def _retiring(own: Mapping[str, str], realm: str) -> StoredCredentials | None:
    """The realm's own retiring application (None when unset or incomplete)."""
    ikey, host, skey = (own.get(name) or "" for name in _RETIRING)
    return StoredCredentials(ikey, host, skey, realm) if ikey and host and skey else None


def _retiring_until(own: Mapping[str, str]) -> int:
    until = own.get(attr.DUO_RETIRING_UNTIL) or ""
    return int(until) if until.isdigit() else 0


def _default_mapping(credentials: Sourced[StoredCredentials | None], realm: str) -> UsernameMapping:
    """Realm-qualified when the Duo integration is another realm's, so realms never collide."""
    inherited = credentials.value is not None and credentials.value.realm != realm
    return UsernameMapping.REALM_QUALIFIED if inherited else UsernameMapping.USERNAME


def _in_group(user_groups: Iterable[str], bypass: Iterable[str]) -> str | None:
    """The first bypass group the user is in, or in a subgroup of, compared name by name."""
    paths = [group_segments(path) for path in user_groups]
    for group in bypass:
        wanted = group_segments(group)
        if any(path[: len(wanted)] == wanted for path in paths):
            return group
    return None


def decide(
    effective: EffectiveSettings,
    app_mode: AppMode,
    user_groups: Iterable[str] = (),
    *,
    activated: bool = False,
    brokered: bool = False,
    idp: str | None = None,
) -> Decision:
    """Whether a login to an application (``app_mode``) by a user must pass Duo.

    In order: the realm's switch, the application's switch, the policy of the identity
    provider this login came through (``idp``, as Keycloak's broker recorded it: ``off``
    skips Duo), bypass groups (a member of a subgroup of a bypass group is bypassed too),
    then opt-in activation. A ``brokered`` user (one linked to an identity provider) skips
    neither of the last two: an IdP mapper may write their groups and attributes. (Whether
    a ``trust-upstream-mfa`` IdP proved its MFA is the login's own evidence: the bridge
    checks it, see :mod:`keycloak_duo_bridge.bridge.upstream`.)
    """
    if not effective.enabled.value:
        return Decision(PolicyOutcome.REALM_OFF, "Duo is off for the realm")
    if app_mode is AppMode.OFF:
        return Decision(PolicyOutcome.APP_OFF, "the application's Duo mode is off")
    policy = effective.idp_policy(idp)
    if policy is not None and policy.mode is IdpMode.OFF:
        return Decision(
            PolicyOutcome.IDP_OFF, f"Duo is off for logins through identity provider {idp}"
        )
    if brokered:
        return Decision(
            PolicyOutcome.REQUIRED,
            "the user is linked to an identity provider: groups and activation that a "
            "mapper could write never spare them Duo",
        )
    return _by_user(effective, user_groups, activated=activated)


def decide_member(
    partner: EffectiveSettings,
    organization: EffectiveSettings,
    client_id: str | None,
    user_groups: Iterable[str] = (),
    *,
    activated: bool = False,
    brokered: bool = False,
    idp: str | None = None,
    others: Sequence[EffectiveSettings] = (),
) -> Decision:
    """Whether a member of an organization must pass Duo: if the partner realm's policy, the
    organization's, or that of any ``others`` of the user's client organizations requires it
    (each with its own application mode).

    Settings of no organization (``organization`` is a realm's) decide alone. Membership never
    lowers the requirement: an administrator who may change a user's
    organizations (or an identity provider that joins users to one) cannot spare them the
    Duo their realm requires; an organization may only add to it. Nor can the user, by
    choosing on Keycloak's selection page the organization whose policy is laxest: the
    selection picks the Duo integration, every organization of the user's still counts.
    """

    def one(effective: EffectiveSettings) -> Decision:
        return decide(
            effective,
            effective.app_mode(client_id),
            user_groups,
            activated=activated,
            brokered=brokered,
            idp=idp,
        )

    if organization.organization is None:  # a login outside any organization
        return one(organization)
    realm, member = one(partner), one(organization)
    if member.requires_duo:
        return Decision(
            member.outcome, f"organization {organization.organization}: {member.reason}"
        )
    for other in others:
        decided = one(other)
        if decided.requires_duo:
            return Decision(
                decided.outcome,
                f"organization {other.organization} (the user is a member of it too): "
                f"{decided.reason}",
            )
    if realm.requires_duo:
        return Decision(realm.outcome, f"partner realm {partner.realm}: {realm.reason}")
    return Decision(member.outcome, f"organization {organization.organization}: {member.reason}")


def fails_open(organization: EffectiveSettings, others: Iterable[EffectiveSettings] = ()) -> bool:
    """Whether an outage may bypass Duo for a login: only when the organization's (or
    realm's) settings and those of every other client organization of the user fail open."""
    return all(s.fail_mode.value is FailMode.OPEN for s in (organization, *others))


def _by_user(
    effective: EffectiveSettings, user_groups: Iterable[str], *, activated: bool
) -> Decision:
    """The decision from the user's groups and activation (a local user's)."""
    group = _in_group(user_groups, effective.bypass_groups.value)
    if group is not None:
        return Decision(PolicyOutcome.BYPASSED_BY_GROUP, f"the user is in bypass group {group}")
    if effective.user_mode.value is UserMode.OPT_IN and not activated:
        return Decision(
            PolicyOutcome.NOT_ACTIVATED, "user mode is opt-in and the user has not activated Duo"
        )
    if effective.user_mode.value is UserMode.OPT_IN:
        return Decision(PolicyOutcome.REQUIRED, "user mode is opt-in and the user activated Duo")
    return Decision(PolicyOutcome.REQUIRED, "Duo is required for every user of the realm")


def duo_username(
    mapping: UsernameMapping,
    *,
    realm: str,
    username: str,
    email: str | None = None,
    email_verified: bool = False,
    links: Sequence[IdpLink] = (),
    local_password: bool = True,
    brokered: BrokeredUsername = BrokeredUsername.IDP_SUBJECT,
) -> str:
    """The name a user has at Duo under the realm's mapping.

    ``realm-qualified`` is ``<realm>:<username>``: a colon, because Duo's "simple" username
    normalisation strips ``@domain`` and ``DOMAIN\\`` parts, and realm names hold no colon, so
    two realms' users never share a name. ``email`` takes only a verified address (a user
    may change an unverified one), lower-cased as Duo stores aliases.

    A user made by an identity provider (``links`` and no ``local_password``) is named by
    the link under ``idp-subject``: ``idp:<alias>:<subject>`` (realm-qualified:
    ``<realm>:idp:<alias>:<subject>``), since the username may be what they typed at first
    login. A user with a password of the realm keeps the account's name, so linking a
    partner account to a local user never moves that user to a Duo name that Duo has not
    passed. Several links and no password is refused (which one names them is ambiguous).
    The ``email`` mapping applies to everyone: only a verified address counts.
    """
    if mapping is UsernameMapping.EMAIL:
        if not email or not email_verified:
            raise ConfigError(
                "the realm names users to Duo by email, and this user has no verified email"
            )
        return email.lower()
    if links and not local_password and brokered is BrokeredUsername.IDP_SUBJECT:
        if len(links) > 1:
            raise ConfigError(
                "the user has no password and several identity-provider links, so their Duo "
                "name is ambiguous: an administrator removes all links but one"
            )
        name = f"idp:{links[0].alias}:{links[0].subject}"
        return f"{realm}:{name}" if mapping is UsernameMapping.REALM_QUALIFIED else name
    if mapping is UsernameMapping.REALM_QUALIFIED:
        return f"{realm}:{username}"
    return username
