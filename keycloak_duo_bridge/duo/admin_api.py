"""Duo's Admin API, the part the admin service uses: applications ("integrations").

Each method names the permission it needs, so a refusal says which one to grant. With a
parent's Accounts API credentials and a child's ``account_id`` (see :mod:`.accounts_api`),
the same calls act inside that child account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from keycloak_duo_bridge.duo.rest_client import RestClient
from keycloak_duo_bridge.errors import DuoApiError

__all__ = ["APPLICATIONS", "AdminApi", "Application", "NewApplication"]

APPLICATIONS: Final = "adminapi_integrations"  # "Grant applications"


@dataclass(frozen=True)
class NewApplication:
    """What to create: a name, Duo's type (websdk, authapi) and its new-user policy."""

    name: str
    type: str = "websdk"
    enroll_policy: str = "enroll"
    username_normalization_policy: str = "None"  # keep "realm:user" and emails whole

    def params(self) -> dict[str, str]:
        """The create call's parameters."""
        return {
            "name": self.name,
            "type": self.type,
            "enroll_policy": self.enroll_policy,
            "username_normalization_policy": self.username_normalization_policy,
        }


@dataclass(frozen=True)
class Application:
    """An application as Duo shows it (never its secret key)."""

    integration_key: str
    name: str
    type: str

    @classmethod
    def of(cls, data: Any) -> Application:
        """From Duo's integration object."""
        if not isinstance(data, dict) or not isinstance(data.get("integration_key"), str):
            raise DuoApiError("Duo's answer is not an application")
        return cls(data["integration_key"], str(data.get("name", "")), str(data.get("type", "")))


class AdminApi:
    """Applications through the Admin API (``/admin/v3/integrations``)."""

    def __init__(self, rest: RestClient) -> None:
        self.rest = rest

    def __repr__(self) -> str:
        return f"AdminApi({self.rest!r}, account {self.rest.account_id})"

    def list_applications(self) -> list[Application]:
        """Every application of the account, all pages."""
        items = self.rest.paged(
            "/admin/v3/integrations", what="list applications", permission=APPLICATIONS
        )
        return [Application.of(item) for item in items]

    def create_application(self, new: NewApplication) -> Application:
        """Create an application; its secret is read apart (:meth:`secret_key`)."""
        response, _ = self.rest.call(
            "POST",
            "/admin/v3/integrations",
            new.params(),
            what=f"create the application {new.name!r}",
            permission=APPLICATIONS,
        )
        return Application.of(response)

    def get_application(self, ikey: str) -> Application:
        """One application; DuoNotFoundError when it is gone."""
        response, _ = self.rest.call(
            "GET",
            f"/admin/v3/integrations/{ikey}",
            what=f"find the application {ikey}",
            permission=APPLICATIONS,
        )
        return Application.of(response)

    def secret_key(self, ikey: str) -> str:
        """The application's secret key: kept in memory, never shown."""
        response, _ = self.rest.call(
            "GET",
            f"/admin/v1/integrations/{ikey}/skey",
            what=f"read the secret key of {ikey}",
            permission=APPLICATIONS,
        )
        secret = response.get("secret_key") if isinstance(response, dict) else None
        if not isinstance(secret, str):
            raise DuoApiError(f"Duo's answer for the secret key of {ikey} has none")
        return secret

    def delete_application(self, ikey: str) -> None:
        """Delete an application (its keys stop working at once)."""
        self.rest.call(
            "DELETE",
            f"/admin/v3/integrations/{ikey}",
            what=f"delete the application {ikey}",
            permission=APPLICATIONS,
        )
