"""Opt-in activation: a user attribute that the realm's user profile declares.

Since Keycloak 24 the declarative user profile drops undeclared ("unmanaged") attributes,
so every tenant realm declares ``kdb.duo.activated``, editable and visible by admins only:
users cannot activate or deactivate themselves through the account console.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.errors import NotFoundError

ACTIVATED: Final = "true"
PROFILE_ATTRIBUTE: Final[Json] = {
    "name": attr.USER_ACTIVATED,
    "displayName": "Duo two-factor activated",
    "permissions": {"view": ["admin"], "edit": ["admin"]},
    "multivalued": False,
    "annotations": {},
    "validations": {"options": {"options": [ACTIVATED]}},
}


def ensure_user_profile(keycloak: Keycloak, realm: str) -> bool:
    """Declare the activation attribute in the realm's user profile; True if written."""
    profile = keycloak.get_user_profile(realm)
    declared = profile.setdefault("attributes", [])
    if any(a.get("name") == attr.USER_ACTIVATED for a in declared):
        return False
    declared.append(dict(PROFILE_ATTRIBUTE))
    keycloak.update_user_profile(realm, profile)
    return True


@dataclass(frozen=True)
class UserStatus:
    realm: str
    username: str
    user_id: str
    activated: bool
    groups: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "realm": self.realm,
            "username": self.username,
            "activated": self.activated,
            "groups": list(self.groups),
        }


def find_user(keycloak: Keycloak, realm: str, username: str) -> Json:
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
        realm, str(user["username"]), str(user["id"]), is_activated(user), tuple(groups)
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
