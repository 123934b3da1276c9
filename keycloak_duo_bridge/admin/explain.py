"""``explain``: gather a realm's (and its partner's) attributes, an app and a user, then
apply the pure rules of :mod:`~keycloak_duo_bridge.admin.effective`. Secrets stay masked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from keycloak_duo_bridge.admin import apps, organizations, record, users
from keycloak_duo_bridge.admin.duo_link import link_status
from keycloak_duo_bridge.admin.duo_settings import mask
from keycloak_duo_bridge.admin.effective import (
    Decision,
    EffectiveSettings,
    Origin,
    Remember,
    Sourced,
    decide,
    decide_member,
    format_remember,
)
from keycloak_duo_bridge.admin.idp_policy import IdpPolicy
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.attributes import (
    AppMode,
    Assurance,
    BrokeredEnrollment,
    BrokeredUsername,
    IdpMode,
    SelfPhones,
    UsernameMapping,
)
from keycloak_duo_bridge.errors import ConfigError

_BROKERED_TEXT = {
    BrokeredUsername.IDP_SUBJECT: "idp:<alias>:<subject> for users an identity provider made",
    BrokeredUsername.ACCOUNT: "as local users (a username typed at first login counts)",
}
_ENROLLMENT_TEXT = {
    BrokeredEnrollment.ALLOW: "allow (Duo's new-user policy decides)",
    BrokeredEnrollment.KNOWN_ONLY: "known-only (Duo must know brokered users; else denied)",
}
_SELF_PHONES_TEXT = {
    SelfPhones.OFF: "off (the helpdesk registers phones)",
    SelfPhones.ADD: "add (users register a mobile at /account/duo)",
    SelfPhones.MANAGE: "manage (users register and remove their phones)",
}
_MAPPING_TEXT = {
    UsernameMapping.USERNAME: "the Keycloak username",
    UsernameMapping.REALM_QUALIFIED: "realm:username",
    UsernameMapping.EMAIL: "the verified email",
}


@dataclass(frozen=True)
class Explanation:
    effective: EffectiveSettings
    app: str | None
    app_mode: AppMode
    username: str | None
    user_groups: tuple[str, ...]
    activated: bool
    decision: Decision
    idp: str | None = None  # the identity provider the explained login comes through
    record: record.RecordState = record.RecordState.CURRENT
    duo_username: str | None = None
    admin_link: str | None = None  # the realm's own Duo admin link: "linked (...)" or None
    # An organization's members (explain PARTNER --org NAME): the user's membership, and
    # why the login is decided as it is when the user is not a member
    member_note: str | None = None

    def rows(self) -> list[tuple[str, str, str]]:
        """(setting, value, origin) rows; the skey shows only its key id."""
        e = self.effective
        creds = e.credentials.value
        auth_api = e.auth_api.value

        def origin(value: Sourced[Any]) -> str:
            return value.origin.value + (f" ({value.realm})" if value.realm else "")

        def row(name: str, shown: str, source: Sourced[Any]) -> tuple[str, str, str]:
            return (name, shown, origin(source))

        return [
            row("enabled", "on" if e.enabled.value else "off", e.enabled),
            row("ikey", creds.ikey if creds else "-", e.credentials),
            row("api host", creds.api_host if creds else "-", e.credentials),
            row("skey", (mask(creds.skey_ciphertext) or "-") if creds else "-", e.credentials),
            row("user mode", e.user_mode.value.value, e.user_mode),
            row("fail mode", e.fail_mode.value.value, e.fail_mode),
            row("bypass groups", ", ".join(e.bypass_groups.value) or "-", e.bypass_groups),
            row("remember", _remember_text(e.remember.value), e.remember),
            row(
                "self-deactivation",
                "allowed" if e.self_deactivate.value else "not allowed",
                e.self_deactivate,
            ),
            row("self phones", _SELF_PHONES_TEXT[e.self_phones.value], e.self_phones),
            row("duo username", _MAPPING_TEXT[e.username_mapping.value], e.username_mapping),
            row("assurance", _ASSURANCE_TEXT[e.assurance.value], e.assurance),
            row(
                "brokered duo username",
                _BROKERED_TEXT[e.brokered_username.value],
                e.brokered_username,
            ),
            *self._idp_rows(),
            row(
                "brokered enrollment",
                _ENROLLMENT_TEXT[e.brokered_enrollment.value],
                e.brokered_enrollment,
            ),
            row("auth api ikey", auth_api.ikey if auth_api else "-", e.auth_api),
            row("auth api host", auth_api.api_host if auth_api else "-", e.auth_api),
            row(
                "auth api skey",
                (mask(auth_api.skey_ciphertext) or "-") if auth_api else "-",
                e.auth_api,
            ),
        ]

    def _idp_rows(self) -> list[tuple[str, str, str]]:
        """One row per identity provider with a policy other than ``duo`` (the realm's own)."""
        where = f"{Origin.CLIENT_REALM.value} ({self.effective.realm})"
        return [
            (f"idp {alias}", _idp_text(policy), where)
            for alias, policy in sorted(self.effective.idps.items())
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "realm": self.effective.realm,
            "organization": self.effective.organization,
            "partner": self.effective.partner,
            "partner_linked": self.effective.linked,
            "record": self.record.value,
            "duo_username": self.duo_username,
            "duo_admin_link": self.admin_link,
            "settings": {  # snake_case keys, like every other key of the CLI's JSON
                re.sub(r"[ -]", "_", name): {"value": value, "origin": origin}
                for name, value, origin in self.rows()
            },
            "app": self.app,
            "app_mode": self.app_mode.value,
            "idp": self.idp,
            "user": self.username,
            "user_groups": list(self.user_groups),
            "activated": self.activated,
            "decision": self.decision.outcome.value,
            "reason": self.decision.reason,
            "problems": self.problems(),
        }

    def problems(self) -> list[str]:
        """The settings' problems, and what Keycloak does when its record is not current."""
        found = list(self.effective.problems)
        if self.member_note is not None:
            found.append(self.member_note)
        found += [
            f"identity provider {alias!r} is off: every login through it goes in without Duo"
            for alias, policy in sorted(self.effective.idps.items())
            if policy.mode is IdpMode.OFF
        ]
        if self.record is not record.RecordState.CURRENT:
            found.append(
                f"Keycloak's resolved record is {self.record.value}: the extension fails closed "
                "(every login goes to the bridge, no bypass, no remembered pass) until "
                f"`keycloak-duo-bridge duo sync {self.effective.realm}` rewrites it"
            )
        return found


def effective_settings(keycloak: Keycloak, realm: str) -> EffectiveSettings:
    """Read the realm and its partner and resolve (one or two realm reads)."""
    return record.resolve(keycloak, keycloak.get_realm(realm))[0]


def record_state(keycloak: Keycloak, realm: str) -> record.RecordState:
    """Whether Keycloak's extension uses the realm's resolved record (see admin/record.py)."""
    representation = keycloak.get_realm(realm)
    effective, partner = record.resolve(keycloak, representation)
    own = dict(representation.get("attributes") or {})
    return record.state_of(own, partner if effective.linked else None, realm=realm)


def explain_organization(
    keycloak: Keycloak,
    organization: organizations.Organization,
    *,
    app: str | None = None,
    username: str | None = None,
    idp: str | None = None,
) -> Explanation:
    """How a login by a member of ``organization`` goes: Duo when the partner realm's policy
    or the organization's requires it. A ``username`` who is no member (Keycloak's
    membership) gets the partner realm's settings, which the explanation then shows."""
    partner = organization.partner
    resolved = organizations.resolve(keycloak, organization)
    effective = resolved.organization
    note = None
    if app is not None:
        apps.find_app(keycloak, partner, app)
    groups: tuple[str, ...] = ()
    activated = brokered = False
    duo_name = None
    others: list[EffectiveSettings] = []
    if username is not None:
        status = users.status(keycloak, partner, username)
        groups, activated, brokered = status.groups, status.activated, bool(status.links)
        member = organizations.member_of(keycloak, partner, status.user_id)
        others = [
            organizations.resolve(keycloak, other).organization
            for other in organizations.client_organizations(
                keycloak, partner, member - {organization.id}
            )
        ]
        if organization.id not in member:
            effective = resolved.partner
            note = (
                f"user {username!r} is not a member of organization {organization.name!r}: "
                f"their logins get partner realm {partner!r}'s settings"
            )
        try:
            duo_name = users.duo_name(effective, status)
        except ConfigError as exc:
            duo_name = f"({exc})"
    brokered = brokered or bool(idp)
    decision = (
        decide(
            effective,
            effective.app_mode(app),
            groups,
            activated=activated,
            brokered=brokered,
            idp=idp,
        )
        if note is not None
        else decide_member(
            resolved.partner,
            effective,
            app,
            groups,
            activated=activated,
            brokered=brokered,
            idp=idp,
            others=others,
        )
    )
    return Explanation(
        effective=effective,
        app=app,
        app_mode=effective.app_mode(app) if app is not None else AppMode.INHERIT,
        username=username,
        user_groups=groups,
        activated=activated,
        decision=decision,
        idp=idp,
        record=record_state(keycloak, partner),
        duo_username=duo_name,
        member_note=note,
    )


def explain(
    keycloak: Keycloak,
    realm: str,
    *,
    app: str | None = None,
    username: str | None = None,
    idp: str | None = None,
) -> Explanation:
    """How a login to ``app`` by ``username`` (through identity provider ``idp``) goes."""
    representation = keycloak.get_realm(realm)
    effective, partner = record.resolve(keycloak, representation)
    own = dict(representation.get("attributes") or {})
    state = record.state_of(own, partner if effective.linked else None, realm=realm)
    mode = AppMode.INHERIT
    if app is not None:
        apps.find_app(keycloak, realm, app)
        mode = effective.app_mode(app)
    groups: tuple[str, ...] = ()
    activated = brokered = False
    duo_name = None
    if username is not None:
        status = users.status(keycloak, realm, username)
        groups, activated, brokered = status.groups, status.activated, bool(status.links)
        try:
            duo_name = users.duo_name(effective, status)
        except ConfigError as exc:
            duo_name = f"({exc})"
    return Explanation(
        effective=effective,
        app=app,
        app_mode=mode,
        username=username,
        user_groups=groups,
        activated=activated,
        decision=decide(
            effective, mode, groups, activated=activated, brokered=brokered or bool(idp), idp=idp
        ),
        idp=idp,
        record=state,
        duo_username=duo_name,
        admin_link=link_status(own),
    )


_ASSURANCE_TEXT = {
    Assurance.ENFORCE: "enforce (Duo at every login to an app that requires it; acr mfa)",
    Assurance.STEP_UP: "step-up (Duo where an app asks for acr mfa; otherwise acr pwd)",
}


def _idp_text(policy: IdpPolicy) -> str:
    if policy.mode is IdpMode.OFF:
        return "OFF: logins through it pass no Duo (confirmed by an administrator)"
    if policy.mode is IdpMode.TRUST_UPSTREAM_MFA:
        return f"trust-upstream-mfa ({policy.proofs()}), else Duo"
    return "duo"


def _remember_text(value: Remember) -> str:
    return f"{value} minutes" if isinstance(value, int) else format_remember(value)
