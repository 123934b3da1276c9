"""Duo's Admin API (``/admin/*``): integrations, users, phones, SMS activation (issue #17).

Called with Admin API credentials (whose permission flags are enforced), or with a parent's
Accounts API credentials plus ``account_id``, acting in that child account. A Web SDK
integration made here is the same object ``/emulator/integrations`` makes, so the OIDC
endpoints accept it at once; a phone attached here is the user's device in the prompt.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from keycloak_duo_bridge.duo.phone_numbers import normalize_e164
from keycloak_duo_bridge.emulator.control import new_client_id, new_client_secret
from keycloak_duo_bridge.emulator.errors import (
    RestApiError,
    forbidden,
    invalid_parameter,
    missing_parameter,
    not_found,
)
from keycloak_duo_bridge.emulator.model import NEW_USER_POLICIES, Integration, User
from keycloak_duo_bridge.emulator.rest_http import Caller, Reply, page, rest_route
from keycloak_duo_bridge.emulator.rest_model import (
    ADMIN_PERMISSIONS,
    CONSOLE_NAMES,
    ApiCredential,
    ApiKind,
    Phone,
)

__all__ = [
    "credential_view",
    "integration_view",
    "permissions_from",
    "phone_view",
    "require",
    "routes",
    "user_view",
]

READ = "adminapi_read_resource"
WRITE = "adminapi_write_resource"
APPS = "adminapi_integrations"
_TYPES = ("websdk", "authapi", "adminapi")
SMS_VALID_SECS = 86400  # duo_client's docstring: "Default: 86400 seconds (one day)"


def require(credential: ApiCredential, permission: str) -> None:
    """403 40301 naming ``permission`` when an Admin API credential lacks it.

    Accounts API credentials acting in their child account hold every permission there.
    """
    if credential.kind == "adminapi" and permission not in credential.permissions:
        console = CONSOLE_NAMES[permission]
        raise forbidden(f"this integration lacks the {permission} permission ({console})")


def permissions_from(params: dict[str, str], current: frozenset[str]) -> frozenset[str]:
    """Permission flags after applying ``adminapi_*`` parameters (``"1"``/``"0"``)."""
    granted = set(current)
    for name in ADMIN_PERMISSIONS:
        value = params.get(name)
        if value is None:
            continue
        if value not in {"0", "1"}:
            raise invalid_parameter(name)
        if value == "1":
            granted.add(name)
        else:
            granted.discard(name)
    return frozenset(granted)


def _flags(granted: frozenset[str]) -> dict[str, int]:
    return {name: int(name in granted) for name in ADMIN_PERMISSIONS}


def integration_view(integration: Integration) -> dict[str, Any]:
    """A Web SDK integration as ``/admin/v3/integrations`` shows it (never the secret)."""
    return {
        "integration_key": integration.client_id,
        "name": integration.name,
        "type": "websdk",
        "enroll_policy": integration.new_user_policy,
        **_flags(frozenset()),
    }


def credential_view(credential: ApiCredential) -> dict[str, Any]:
    """An Auth API or Admin API integration as ``/admin/v3/integrations`` shows it."""
    return {
        "integration_key": credential.ikey,
        "name": credential.name,
        "type": credential.kind,
        "enroll_policy": credential.enroll_policy,
        **_flags(credential.permissions),
    }


def phone_view(phone: Phone) -> dict[str, Any]:
    """A phone object."""
    return {
        "phone_id": phone.phone_id,
        "number": phone.number,
        "name": phone.name,
        "type": phone.type,
        "platform": phone.platform,
        "activated": False,
        "sms_passcodes_sent": False,
        "users": list(phone.users),
    }


def user_view(user: User, phones: list[Phone]) -> dict[str, Any]:
    """A user object with its phones (the prompt-enrolled phone when no Admin API one)."""
    owned = [p for p in phones if user.key in p.users]
    if not owned and user.enrolled and user.phone:
        owned = [Phone(user.device_key, user.phone, users=[user.key])]
    return {
        "user_id": user.key,
        "username": user.username,
        "realname": "",
        "email": "",
        "status": "active",
        "is_enrolled": user.enrolled,
        "phones": [phone_view(p) for p in owned],
    }


# integrations ---------------------------------------------------------------------------
def _account_integrations(caller: Caller) -> list[dict[str, Any]]:
    web = [
        integration_view(i)
        for i in caller.state.integrations()
        if i.account_id == caller.account_id
    ]
    rest = [
        credential_view(c)
        for c in caller.state.rest.credentials()
        if c.account_id == caller.account_id and c.kind != "accountsapi"
    ]
    return web + rest


def _find(caller: Caller, ikey: str) -> Integration | ApiCredential:
    integration = caller.state.integration(ikey)
    if integration is not None and integration.account_id == caller.account_id:
        return integration
    credential = caller.state.rest.credential(ikey)
    if (
        credential is not None
        and credential.account_id == caller.account_id
        and credential.kind != "accountsapi"
    ):
        return credential
    raise not_found("integration")


def _view(found: Integration | ApiCredential) -> dict[str, Any]:
    if isinstance(found, Integration):
        return integration_view(found)
    return credential_view(found)


def _policy(params: dict[str, str], default: str) -> str:
    policy = params.get("enroll_policy", default)
    if policy not in NEW_USER_POLICIES:
        raise invalid_parameter("enroll_policy")
    return policy


async def list_integrations(_request: Request, caller: Caller) -> Reply:
    """``GET /admin/v3/integrations``."""
    require(caller.credential, APPS)
    return page(_account_integrations(caller), caller.params)


async def create_integration(_request: Request, caller: Caller) -> Reply:
    """``POST /admin/v3/integrations``: ``name`` and ``type`` (websdk, authapi, adminapi)."""
    require(caller.credential, APPS)
    params = caller.params
    for name in ("name", "type"):
        if not params.get(name):
            raise missing_parameter(name)
    kind = params["type"]
    if kind not in _TYPES:
        raise invalid_parameter("type")
    policy = _policy(params, "enroll")
    if kind == "websdk":
        integration = Integration(
            new_client_id(),
            new_client_secret(),
            policy,  # type: ignore[arg-type]  # checked against NEW_USER_POLICIES
            params["name"],
            caller.account_id,
        )
        caller.state.add_integration(integration)
        return integration_view(integration), None
    credential = ApiCredential(
        ikey=new_client_id(),
        skey=new_client_secret(),
        kind="authapi" if kind == "authapi" else "adminapi",
        name=params["name"],
        account_id=caller.account_id,
        permissions=permissions_from(params, frozenset()) if kind == "adminapi" else frozenset(),
        enroll_policy=policy,
    )
    caller.state.rest.put_credential(credential)
    return credential_view(credential), None


async def get_integration(request: Request, caller: Caller) -> Reply:
    """``GET /admin/v3/integrations/{ikey}``."""
    require(caller.credential, APPS)
    return _view(_find(caller, request.path_params["ikey"])), None


async def get_secret_key(request: Request, caller: Caller) -> Reply:
    """``GET /admin/v1/integrations/{ikey}/skey``: the one way to read a secret."""
    require(caller.credential, APPS)
    found = _find(caller, request.path_params["ikey"])
    secret = found.client_secret if isinstance(found, Integration) else found.skey
    return {"secret_key": secret}, None


async def update_integration(request: Request, caller: Caller) -> Reply:
    """``POST /admin/v3/integrations/{ikey}``: name, enroll policy, flags, new secret."""
    require(caller.credential, APPS)
    found = _find(caller, request.path_params["ikey"])
    params = caller.params
    reset = params.get("reset_secret_key") == "1"
    if isinstance(found, Integration):
        integration = replace(
            found,
            name=params.get("name", found.name),
            new_user_policy=_policy(params, found.new_user_policy),  # type: ignore[arg-type]
            client_secret=new_client_secret() if reset else found.client_secret,
        )
        caller.state.add_integration(integration)
        return integration_view(integration), None
    credential = replace(
        found,
        name=params.get("name", found.name),
        enroll_policy=_policy(params, found.enroll_policy),
        permissions=permissions_from(params, found.permissions)
        if found.kind == "adminapi"
        else found.permissions,
        skey=new_client_secret() if reset else found.skey,
    )
    caller.state.rest.put_credential(credential)
    return credential_view(credential), None


async def delete_integration(request: Request, caller: Caller) -> Reply:
    """``DELETE /admin/v3/integrations/{ikey}``."""
    require(caller.credential, APPS)
    found = _find(caller, request.path_params["ikey"])
    if isinstance(found, Integration):
        caller.state.remove_integration(found.client_id)
    else:
        caller.state.rest.remove_credential(found.ikey)
    return "", None


# users ----------------------------------------------------------------------------------
def _user(caller: Caller, user_id: str) -> User:
    user = caller.state.user_by_key(user_id)
    if user is None:
        raise not_found("user")
    return user


async def list_users(_request: Request, caller: Caller) -> Reply:
    """``GET /admin/v1/users``: paged, or ``username=`` giving a list of 0 or 1."""
    require(caller.credential, READ)
    phones = caller.state.rest.phones()
    if "username" in caller.params:
        user = caller.state.user(caller.params["username"])
        return ([] if user is None else [user_view(user, phones)]), None
    views = [user_view(u, phones) for u in caller.state.users()]
    return page(views, caller.params, maximum=300)


async def create_user(_request: Request, caller: Caller) -> Reply:
    """``POST /admin/v1/users``."""
    require(caller.credential, WRITE)
    username = caller.params.get("username")
    if not username:
        raise missing_parameter("username")
    if caller.state.user(username) is not None:
        raise RestApiError(400, 40003, "Duplicate resource", "username")
    user = caller.state.put_user(username, behavior="prompt", enrolled=False, phone=None)
    return user_view(user, []), None


async def get_user(request: Request, caller: Caller) -> Reply:
    """``GET /admin/v1/users/{user_id}``."""
    require(caller.credential, READ)
    user = _user(caller, request.path_params["user_id"])
    return user_view(user, caller.state.rest.phones()), None


async def delete_user(request: Request, caller: Caller) -> Reply:
    """``DELETE /admin/v1/users/{user_id}``: does nothing for a user already gone."""
    require(caller.credential, WRITE)
    user_id = request.path_params["user_id"]
    caller.state.delete_user(user_id)
    caller.state.rest.detach_user(user_id)
    return "", None


async def list_user_phones(request: Request, caller: Caller) -> Reply:
    """``GET /admin/v1/users/{user_id}/phones``."""
    require(caller.credential, READ)
    user = _user(caller, request.path_params["user_id"])
    view = user_view(user, caller.state.rest.phones())
    return page(view["phones"], caller.params, maximum=500)


async def add_user_phone(request: Request, caller: Caller) -> Reply:
    """``POST /admin/v1/users/{user_id}/phones``: the phone becomes the user's device."""
    require(caller.credential, WRITE)
    user = _user(caller, request.path_params["user_id"])
    phone_id = caller.params.get("phone_id")
    if not phone_id:
        raise missing_parameter("phone_id")
    phone = caller.state.rest.phone(phone_id)
    if phone is None:
        raise invalid_parameter("phone_id")
    caller.state.rest.attach(phone_id, user.key)
    caller.state.set_device(user.key, phone.number or None, phone_id)
    return "", None


# phones ---------------------------------------------------------------------------------
async def list_phones(_request: Request, caller: Caller) -> Reply:
    """``GET /admin/v1/phones``: paged, or ``number=`` giving a list of 0 or 1."""
    require(caller.credential, READ)
    phones = caller.state.rest.phones()
    if "number" in caller.params:
        number = normalize_e164(caller.params["number"])
        return [phone_view(p) for p in phones if p.number == number], None
    return page([phone_view(p) for p in phones], caller.params, maximum=500)


async def create_phone(_request: Request, caller: Caller) -> Reply:
    """``POST /admin/v1/phones``."""
    require(caller.credential, WRITE)
    params = caller.params
    number = ""
    if params.get("number"):
        number = normalize_e164(params["number"]) or ""
        if not number:
            raise invalid_parameter("number")
    phone = caller.state.rest.add_phone(
        number,
        name=params.get("name", ""),
        type_=params.get("type", "mobile"),
        platform=params.get("platform", "generic smartphone"),
    )
    return phone_view(phone), None


def _phone(caller: Caller, phone_id: str) -> Phone:
    phone = caller.state.rest.phone(phone_id)
    if phone is None:
        raise not_found("phone")
    return phone


async def get_phone(request: Request, caller: Caller) -> Reply:
    """``GET /admin/v1/phones/{phone_id}``."""
    require(caller.credential, READ)
    return phone_view(_phone(caller, request.path_params["phone_id"])), None


async def delete_phone(request: Request, caller: Caller) -> Reply:
    """``DELETE /admin/v1/phones/{phone_id}``: its users lose it (also a phone enrolled at
    the prompt); nothing if already gone."""
    require(caller.credential, WRITE)
    phone_id = request.path_params["phone_id"]
    caller.state.rest.remove_phone(phone_id)
    for user in caller.state.users():  # Admin API phones, and phones enrolled at the prompt
        if user.device_key == phone_id and user.phone is not None:
            caller.state.set_device(user.key, None, None)
    return "", None


async def send_sms_activation(request: Request, caller: Caller) -> Reply:
    """``POST /admin/v1/phones/{phone_id}/send_sms_activation``."""
    require(caller.credential, WRITE)
    phone = _phone(caller, request.path_params["phone_id"])
    if not phone.number:
        raise invalid_parameter("phone has no number")
    try:
        valid = int(caller.params.get("valid_secs", SMS_VALID_SECS))
    except ValueError as exc:
        raise invalid_parameter("valid_secs") from exc
    caller.state.rest.count_sms_activation(phone.phone_id)
    host = request.headers.get("host", "")
    code = secrets.token_urlsafe(15)
    body: dict[str, Any] = {
        "activation_barcode": f"https://{host}/frame/qr?value=duo%3A%2F%2F{code}",
        "activation_msg": f"To activate the Duo Mobile app, click this link: https://{host}/iphone/{code}",
        "valid_secs": valid,
    }
    if caller.params.get("install") == "1":
        body["installation_msg"] = (
            f"Welcome to Duo! To install the Duo Mobile app, click this link: https://{host}"
        )
    return body, None


def routes() -> list[Route]:
    """The Admin API routes."""
    kinds: tuple[ApiKind, ...] = ("adminapi", "accountsapi")

    def route(path: str, handler: Any, method: str) -> Route:
        return rest_route(path, handler, methods=[method], kinds=kinds, event="admin_api")

    return [
        route("/admin/v3/integrations", list_integrations, "GET"),
        route("/admin/v3/integrations", create_integration, "POST"),
        route("/admin/v3/integrations/{ikey}", get_integration, "GET"),
        route("/admin/v3/integrations/{ikey}", update_integration, "POST"),
        route("/admin/v3/integrations/{ikey}", delete_integration, "DELETE"),
        route("/admin/v1/integrations/{ikey}/skey", get_secret_key, "GET"),
        route("/admin/v1/users", list_users, "GET"),
        route("/admin/v1/users", create_user, "POST"),
        route("/admin/v1/users/{user_id}", get_user, "GET"),
        route("/admin/v1/users/{user_id}", delete_user, "DELETE"),
        route("/admin/v1/users/{user_id}/phones", list_user_phones, "GET"),
        route("/admin/v1/users/{user_id}/phones", add_user_phone, "POST"),
        route("/admin/v1/phones", list_phones, "GET"),
        route("/admin/v1/phones", create_phone, "POST"),
        route("/admin/v1/phones/{phone_id}", get_phone, "GET"),
        route("/admin/v1/phones/{phone_id}", delete_phone, "DELETE"),
        route("/admin/v1/phones/{phone_id}/send_sms_activation", send_sms_activation, "POST"),
    ]
