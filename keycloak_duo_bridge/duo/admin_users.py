"""Duo's Admin API, the part phones from the profile use: users and their phones (#17).

Each method names the permission it needs ("Grant read resource" to look, "Grant write
resource" to change), so a refusal says which one to grant. A phone's number is kept out of
``repr``; callers show it only masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from keycloak_duo_bridge.duo.rest_client import RestClient
from keycloak_duo_bridge.errors import DuoApiError

__all__ = ["READ", "WRITE", "DuoPhone", "DuoUser", "UsersApi"]

READ: Final = "adminapi_read_resource"  # "Grant read resource"
WRITE: Final = "adminapi_write_resource"  # "Grant write resource"


def _user_ids(users: Any) -> tuple[str, ...]:
    """A phone's users: Duo lists user objects; ids are accepted too."""
    found = []
    for user in users if isinstance(users, list) else []:
        user_id = user.get("user_id") if isinstance(user, dict) else user
        if isinstance(user_id, str):
            found.append(user_id)
    return tuple(found)


@dataclass(frozen=True)
class DuoPhone:
    """A phone as Duo shows it."""

    phone_id: str
    number: str = field(repr=False)
    type: str
    users: tuple[str, ...] = ()

    @classmethod
    def of(cls, data: Any) -> DuoPhone:
        if not isinstance(data, dict) or not isinstance(data.get("phone_id"), str):
            raise DuoApiError("Duo's answer is not a phone")
        return cls(
            data["phone_id"],
            str(data.get("number") or ""),
            str(data.get("type") or "unknown").lower(),
            _user_ids(data.get("users")),
        )

    @property
    def last_four(self) -> str:
        """The last four digits of the number ("" for a phone without one)."""
        return "".join(c for c in self.number if c.isdigit())[-4:]


@dataclass(frozen=True)
class DuoUser:
    """A user as Duo shows it, with the phones attached to it."""

    user_id: str
    username: str
    phones: tuple[DuoPhone, ...]

    @classmethod
    def of(cls, data: Any) -> DuoUser:
        if not isinstance(data, dict) or not isinstance(data.get("user_id"), str):
            raise DuoApiError("Duo's answer is not a user")
        phones = data.get("phones")
        return cls(
            data["user_id"],
            str(data.get("username", "")),
            tuple(DuoPhone.of(p) for p in (phones if isinstance(phones, list) else [])),
        )


class UsersApi:
    """Users and phones through the Admin API (``/admin/v1/users``, ``/admin/v1/phones``)."""

    def __init__(self, rest: RestClient) -> None:
        self.rest = rest

    def __repr__(self) -> str:
        return f"UsersApi({self.rest!r}, account {self.rest.account_id})"

    def find_user(self, username: str) -> DuoUser | None:
        """The user Duo knows by ``username``, or None."""
        response, _ = self.rest.call(
            "GET",
            "/admin/v1/users",
            {"username": username},
            what="look up a user",
            permission=READ,
        )
        found = response if isinstance(response, list) else []
        return DuoUser.of(found[0]) if found else None

    def create_user(self, username: str) -> DuoUser:
        response, _ = self.rest.call(
            "POST",
            "/admin/v1/users",
            {"username": username},
            what="create a user",
            permission=WRITE,
        )
        return DuoUser.of(response)

    def delete_user(self, user_id: str) -> None:
        self.rest.call(
            "DELETE", f"/admin/v1/users/{user_id}", what="delete a user", permission=WRITE
        )

    def find_phone(self, number: str) -> DuoPhone | None:
        """The phone Duo knows by its E.164 ``number``, or None."""
        response, _ = self.rest.call(
            "GET", "/admin/v1/phones", {"number": number}, what="look up a phone", permission=READ
        )
        found = response if isinstance(response, list) else []
        return DuoPhone.of(found[0]) if found else None

    def create_phone(self, number: str) -> DuoPhone:
        """A new mobile phone (a smartphone, so Duo Mobile can be activated on it)."""
        response, _ = self.rest.call(
            "POST",
            "/admin/v1/phones",
            {"number": number, "type": "mobile", "platform": "generic smartphone"},
            what="create a phone",
            permission=WRITE,
        )
        return DuoPhone.of(response)

    def attach_phone(self, user_id: str, phone_id: str) -> None:
        self.rest.call(
            "POST",
            f"/admin/v1/users/{user_id}/phones",
            {"phone_id": phone_id},
            what="attach a phone to a user",
            permission=WRITE,
        )

    def send_sms_activation(self, phone_id: str) -> None:
        """Text the phone a link that installs and activates Duo Mobile."""
        self.rest.call(
            "POST",
            f"/admin/v1/phones/{phone_id}/send_sms_activation",
            {"install": "1"},
            what="send the SMS activation",
            permission=WRITE,
        )

    def delete_phone(self, phone_id: str) -> None:
        self.rest.call(
            "DELETE", f"/admin/v1/phones/{phone_id}", what="delete a phone", permission=WRITE
        )
