"""Duo's Accounts API: a managed-service provider's child accounts, one per client.

The parent's Accounts API credentials create, list and delete child accounts, and call the
Admin API inside a child with its ``account_id`` at the child's API host (Duo's
``create_integration_in_child_account.py`` example).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keycloak_duo_bridge.duo.admin_api import AdminApi
from keycloak_duo_bridge.duo.rest_client import RestClient, RestCredentials, RestOptions
from keycloak_duo_bridge.errors import DuoApiError

__all__ = ["AccountsApi", "ChildAccount", "child_host"]


@dataclass(frozen=True)
class ChildAccount:
    """A child account: its id, name and API host."""

    account_id: str
    name: str
    api_hostname: str

    @classmethod
    def of(cls, data: Any) -> ChildAccount:
        """From Duo's account object."""
        if not isinstance(data, dict) or not isinstance(data.get("account_id"), str):
            raise DuoApiError("Duo's answer is not a child account")
        return cls(data["account_id"], str(data.get("name", "")), str(data["api_hostname"]))


def child_host(child_hostname: str, parent_host: str) -> str:
    """The child's API host to call: Duo's hosts carry no port, so a parent host with one
    (an emulator or a proxy) lends the child its port."""
    if ":" in child_hostname or parent_host.count(":") != 1:
        return child_hostname
    return f"{child_hostname}:{parent_host.rsplit(':', 1)[1]}"


class AccountsApi:
    """Child accounts through the Accounts API (``/accounts/v1/account/*``)."""

    def __init__(self, rest: RestClient, options: RestOptions) -> None:
        self.rest = rest
        self._options = options

    def __repr__(self) -> str:
        return f"AccountsApi({self.rest!r})"

    def list_accounts(self) -> list[ChildAccount]:
        """Every child account of the parent."""
        response, _ = self.rest.call(
            "POST", "/accounts/v1/account/list", what="list the child accounts"
        )
        return [ChildAccount.of(item) for item in response or []]

    def create_account(self, name: str) -> ChildAccount:
        """Create a child account."""
        response, _ = self.rest.call(
            "POST",
            "/accounts/v1/account/create",
            {"name": name},
            what=f"create the child account {name!r}",
        )
        return ChildAccount.of(response)

    def delete_account(self, account_id: str) -> None:
        """Delete a child account with everything in it."""
        self.rest.call(
            "POST",
            "/accounts/v1/account/delete",
            {"account_id": account_id},
            what=f"delete the child account {account_id}",
        )

    def admin_in(self, account: ChildAccount) -> AdminApi:
        """The Admin API inside ``account``, with the parent's credentials (close it after)."""
        creds = self.rest.creds
        host = child_host(account.api_hostname, creds.api_host)
        child = RestCredentials(creds.ikey, creds.skey, host, creds.api)
        return AdminApi(RestClient(child, self._options, account_id=account.account_id))
