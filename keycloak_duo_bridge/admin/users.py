"""Opt-in activation: a user attribute that the realm's user profile declares.

Since Keycloak 24 the declarative user profile drops undeclared ("unmanaged") attributes,
so every tenant realm declares ``kdb.duo.activated``, editable and visible by admins only:
users cannot activate or deactivate themselves through the account console.

A new realm gets the declaration in its create call, as a user-profile component holding
Keycloak's default profile plus the attribute. The default is learned, once per Keycloak
and process, from the first realm created there without one (see :func:`new_realm_profile`).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import dataclass
from typing import Any, Final

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.effective import EffectiveSettings, IdpLink, duo_username
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.errors import ConfigError, NotFoundError

ACTIVATED: Final = "true"
PROFILE_ATTRIBUTE: Final[Json] = {
    "name": attr.USER_ACTIVATED,
    "displayName": "Duo two-factor activated",
    "permissions": {"view": ["admin"], "edit": ["admin"]},
    "multivalued": False,
    "annotations": {},
    "validations": {"options": {"options": [ACTIVATED]}},
}


PROFILE_COMPONENT: Final = "org.keycloak.userprofile.UserProfileProvider"
_PROFILE_PROVIDER: Final = "declarative-user-profile"
_PROFILE_CONFIG: Final = "kc.user.profile.config"
_defaults: dict[str, Json] = {}  # Keycloak URL -> its default user profile
_defaults_lock = threading.Lock()


def declare_activation(profile: Json) -> bool:
    """Add the activation attribute to ``profile`` (in place); False if it was declared."""
    declared = profile.setdefault("attributes", [])
    if any(a.get("name") == attr.USER_ACTIVATED for a in declared):
        return False
    declared.append(dict(PROFILE_ATTRIBUTE))
    return True


def ensure_user_profile(keycloak: Keycloak, realm: str, *, fresh: bool = False) -> bool:
    """Declare the activation attribute in the realm's user profile; True if written.

    ``fresh``: the realm was just created without a profile of its own, so what it has is
    Keycloak's default, which later creates then carry themselves.
    """
    profile = keycloak.get_user_profile(realm)
    if fresh:
        with _defaults_lock:
            _defaults.setdefault(keycloak.url, copy.deepcopy(profile))
    if not declare_activation(profile):
        return False
    keycloak.update_user_profile(realm, profile)
    return True


def fold_profile(keycloak: Keycloak, representation: Json) -> None:
    """Make a new realm's ``representation`` carry a user profile that declares activation.

    The template's own profile gets the attribute; without one, Keycloak's default does, once
    a realm made on this Keycloak without a profile taught us that default. Until then the
    representation is left without a profile, and :func:`ensure_user_profile` follows the
    create call (with ``fresh``).
    """
    components = representation.get("components") or {}
    entries = components.get(PROFILE_COMPONENT)
    if entries:
        config = entries[0].setdefault("config", {})
        profile = json.loads(config[_PROFILE_CONFIG][0])
    else:
        with _defaults_lock:
            profile = copy.deepcopy(_defaults.get(keycloak.url))
        if profile is None:
            return
        config = {}
        entries = [{"providerId": _PROFILE_PROVIDER, "subComponents": {}, "config": config}]
    declare_activation(profile)
    config[_PROFILE_CONFIG] = [json.dumps(profile)]
    representation["components"] = {**components, PROFILE_COMPONENT: entries}


def has_profile(representation: Json) -> bool:
    """Whether a realm representation carries a user profile of its own."""
    return bool((representation.get("components") or {}).get(PROFILE_COMPONENT))


@dataclass(frozen=True)
class UserStatus:
    realm: str
    username: str
    user_id: str
    activated: bool
    groups: tuple[str, ...]
    email: str | None = None
    email_verified: bool = False
    links: tuple[IdpLink, ...] = ()  # identity-provider links (a brokered user)
    local_password: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "realm": self.realm,
            "username": self.username,
            "activated": self.activated,
            "groups": list(self.groups),
        }


_USERNAME: Final = re.compile(r"^[^\x00-\x1f\x7f-\x9f]{1,255}$")


def find_user(keycloak: Keycloak, realm: str, username: str) -> Json:
    if not _USERNAME.match(username):
        raise ConfigError("a username is 1 to 255 characters, without control characters")
    keycloak.get_realm(realm)  # an unknown realm is named as such, not as an unknown user
    user = keycloak.find_user(realm, username)
    if user is None:
        raise NotFoundError(f"user {username!r} does not exist in realm {realm!r}")
    return user


def is_activated(user: Json) -> bool:
    return list((user.get("attributes") or {}).get(attr.USER_ACTIVATED) or []) == [ACTIVATED]


def status(keycloak: Keycloak, realm: str, username: str) -> UserStatus:
    user = find_user(keycloak, realm, username)
    groups = keycloak.get_user_group_paths(realm, str(user["id"]))
    return UserStatus(
        realm,
        str(user["username"]),
        str(user["id"]),
        is_activated(user),
        tuple(groups),
        email=user.get("email") or None,
        email_verified=user.get("emailVerified") is True,
        links=tuple(IdpLink(a, s) for a, s in keycloak.get_user_links(realm, str(user["id"]))),
        local_password=keycloak.has_password(realm, str(user["id"])),
    )


def set_activated(keycloak: Keycloak, realm: str, username: str, *, activated: bool) -> bool:
    """Activate (or deactivate) Duo for a user; True if anything was written."""
    user = find_user(keycloak, realm, username)
    if is_activated(user) == activated:
        return False
    ensure_user_profile(keycloak, realm)
    attributes = dict(user.get("attributes") or {})
    if activated:
        attributes[attr.USER_ACTIVATED] = [ACTIVATED]
    else:
        attributes.pop(attr.USER_ACTIVATED, None)
    keycloak.update_user(realm, str(user["id"]), {**user, "attributes": attributes})
    return True


def duo_name(effective: EffectiveSettings, status: UserStatus) -> str:
    """The user's name at Duo under the realm's mapping (ConfigError if they have none)."""
    return duo_username(
        effective.username_mapping.value,
        realm=effective.realm,
        username=status.username,
        email=status.email,
        email_verified=status.email_verified,
        links=status.links,
        local_password=status.local_password,
        brokered=effective.brokered_username.value,
    )
