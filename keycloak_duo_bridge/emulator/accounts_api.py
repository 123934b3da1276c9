"""Duo's Accounts API (``/accounts/v1/account/*``), as ``duo_client.Accounts`` calls it.

A parent's Accounts API credentials create, list and delete child accounts; with
``account_id`` they also call the Admin API inside a child (see :mod:`.admin_api`). Every
child is served by this same emulator, so its ``api_hostname`` is the host name the call came
to, without the port: ``duo_client`` takes a port apart from the host (``port=``), and its
``AccountAdmin`` passes the looked-up ``api_hostname`` on as ``host``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from keycloak_duo_bridge.emulator.errors import invalid_parameter, missing_parameter
from keycloak_duo_bridge.emulator.rest_http import Caller, Reply, rest_route
from keycloak_duo_bridge.emulator.rest_model import Account, ApiKind

__all__ = ["account_view", "api_hostname", "routes"]


def api_hostname(host_header: str) -> str:
    """The host name of a ``Host`` header, without any port (IPv6 keeps its brackets)."""
    host = host_header.strip().lower()
    if ":" in host.rsplit("]", 1)[-1]:
        host = host.rsplit(":", 1)[0]
    return host


def account_view(account: Account) -> dict[str, Any]:
    """A child account as ``create`` and ``list`` show it."""
    return {
        "account_id": account.account_id,
        "name": account.name,
        "api_hostname": account.api_hostname,
    }


async def create_account(request: Request, caller: Caller) -> Reply:
    """``POST /accounts/v1/account/create``: ``name``."""
    name = caller.params.get("name")
    if not name:
        raise missing_parameter("name")
    host = api_hostname(request.headers.get("host", ""))
    account = caller.state.rest.add_account(name, caller.credential.account_id, host)
    return account_view(account), None


async def list_accounts(_request: Request, caller: Caller) -> Reply:
    """``POST /accounts/v1/account/list``: the caller's child accounts."""
    children = caller.state.rest.children(caller.credential.account_id)
    return [account_view(a) for a in children], None


async def delete_account(_request: Request, caller: Caller) -> Reply:
    """``POST /accounts/v1/account/delete``: ``account_id``, with everything in it."""
    account_id = caller.params.get("account_id")
    if not account_id:
        raise missing_parameter("account_id")
    account = caller.state.rest.account(account_id)
    if account is None or account.parent_id != caller.credential.account_id:
        raise invalid_parameter("account_id")
    caller.state.rest.remove_account(account_id)
    for integration in caller.state.integrations():
        if integration.account_id == account_id:
            caller.state.remove_integration(integration.client_id)
    return "", None


def routes() -> list[Route]:
    """The Accounts API routes."""
    kinds: tuple[ApiKind, ...] = ("accountsapi",)
    return [
        rest_route(
            "/accounts/v1/account/create",
            create_account,
            methods=["POST"],
            kinds=kinds,
            event="accounts_api",
        ),
        rest_route(
            "/accounts/v1/account/list",
            list_accounts,
            methods=["POST"],
            kinds=kinds,
            event="accounts_api",
        ),
        rest_route(
            "/accounts/v1/account/delete",
            delete_account,
            methods=["POST"],
            kinds=kinds,
            event="accounts_api",
        ),
    ]
