"""``explain``: gather a realm's (and its partner's) attributes, an app and a user, then
apply the pure rules of :mod:`~keycloak_duo_bridge.admin.effective`. Secrets stay masked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import apps, users
from keycloak_duo_bridge.admin.duo_settings import mask
from keycloak_duo_bridge.admin.effective import (
    Decision,
    EffectiveSettings,
    Remember,
    Sourced,
    app_mode_of,
    decide,
    format_remember,
    resolve_effective,
)
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.attributes import AppMode


@dataclass(frozen=True)
class Explanation:
    effective: EffectiveSettings
    app: str | None
    app_mode: AppMode
    username: str | None
    user_groups: tuple[str, ...]
    activated: bool
    decision: Decision

    def rows(self) -> list[tuple[str, str, str]]:
        """(setting, value, origin) rows; the skey shows only its key id."""
        e = self.effective
        creds = e.credentials.value

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
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "realm": self.effective.realm,
            "partner": self.effective.partner,
            "settings": {
                name: {"value": value, "origin": origin} for name, value, origin in self.rows()
            },
            "app": self.app,
            "app_mode": self.app_mode.value,
            "user": self.username,
            "user_groups": list(self.user_groups),
            "activated": self.activated,
            "decision": self.decision.outcome.value,
            "reason": self.decision.reason,
            "problems": list(self.effective.problems),
        }


def effective_settings(keycloak: Keycloak, realm: str) -> EffectiveSettings:
    """Read the realm and its partner and resolve (one or two realm reads)."""
    attributes: dict[str, str] = dict(keycloak.get_realm(realm).get("attributes") or {})
    partner = attributes.get(attr.TENANT_PARTNER)
    partner_attributes = None
    if partner:
        found = keycloak.find_realm(partner)
        partner_attributes = dict(found.get("attributes") or {}) if found else None
    return resolve_effective(attributes, partner_attributes, realm=realm)


def explain(
    keycloak: Keycloak, realm: str, *, app: str | None = None, username: str | None = None
) -> Explanation:
    effective = effective_settings(keycloak, realm)
    mode = AppMode.INHERIT
    if app is not None:
        mode = app_mode_of(apps.find_app(keycloak, realm, app).get("attributes"))
    groups: tuple[str, ...] = ()
    activated = False
    if username is not None:
        status = users.status(keycloak, realm, username)
        groups, activated = status.groups, status.activated
    return Explanation(
        effective=effective,
        app=app,
        app_mode=mode,
        username=username,
        user_groups=groups,
        activated=activated,
        decision=decide(effective, mode, groups, activated=activated),
    )


def _remember_text(value: Remember) -> str:
    return f"{value} minutes" if isinstance(value, int) else format_remember(value)
