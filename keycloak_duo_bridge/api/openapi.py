"""The OpenAPI 3.1 document of the admin API, built from its request models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from pydantic import BaseModel

from keycloak_duo_bridge import __version__

_ERROR: Final = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "details": {}},
    "required": ["error"],
}
_TENANT: Final = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "kind": {"enum": ["partner", "client"]},
        "display_name": {"type": ["string", "null"]},
        "partner": {"type": ["string", "null"]},
        "branding_url": {"type": ["string", "null"]},
    },
    "required": ["name", "kind"],
}
_REALM: Final = {"name": "realm", "in": "path", "required": True, "schema": {"type": "string"}}
_APP: Final = {"name": "client_id", "in": "path", "required": True, "schema": {"type": "string"}}
_USER: Final = {"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}
_QUERY: Final = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
    for name in ("app", "user")
]
_OBJECT: Final = {"type": "object"}
_LIST: Final = {"type": "array", "items": {"type": "object"}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _responses(ok: int, schema: dict[str, Any]) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": _ref("Error")}}}
    out: dict[str, Any] = {
        str(ok): {"description": "done", "content": {"application/json": {"schema": schema}}},
        "401": {"description": "no valid Bearer token", **error},
        "403": {"description": "the caller may not manage this realm", **error},
    }
    for code, text in (("400", "invalid settings"), ("404", "no such tenant")):
        out[code] = {"description": text, **error}
    out["422"] = {"description": "invalid body", **error}
    out["502"] = {"description": "Keycloak failed", **error}
    return out


def _op(
    summary: str,
    ok: int,
    schema: dict[str, Any],
    body: str | None = None,
    parameters: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": list(parameters),
        "responses": _responses(ok, schema),
    }
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return op


def document(models: Sequence[type[BaseModel]]) -> dict[str, Any]:
    schemas: dict[str, Any] = {m.__name__: m.model_json_schema() for m in models}
    schemas["Error"] = _ERROR
    schemas["Tenant"] = _TENANT
    written = {
        "type": "object",
        "properties": {"realm": {"type": "string"}, "written": {"type": "boolean"}},
    }
    realm = "/tenants/{realm}"
    return {
        "openapi": "3.1.0",
        "info": {"title": "keycloak-duo-bridge admin API", "version": __version__},
        "servers": [{"url": "/admin/api"}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "paths": {
            "/tenants": {
                "get": _op(
                    "tenants the caller may manage", 200, {"type": "array", "items": _ref("Tenant")}
                )
            },
            "/partners": {
                "post": _op("create a partner (master admins)", 201, _ref("Tenant"), "NewPartner")
            },
            "/clients": {
                "post": _op("create a client of a partner", 201, _ref("Tenant"), "NewClient")
            },
            realm: {
                "get": _op(
                    "a tenant and its own Duo settings, skey masked",
                    200,
                    {"type": "object"},
                    parameters=[_REALM],
                ),
                "delete": _op(
                    "delete a tenant (not one's own realm)",
                    200,
                    {"type": "object"},
                    parameters=[_REALM],
                ),
                "patch": _op(
                    "change a tenant's display name, branding URL, or a client's partner",
                    200,
                    written,
                    "TenantUpdate",
                    [_REALM],
                ),
            },
            f"{realm}/explain": {
                "get": _op(
                    "effective settings with origins, and the decision for an app and user",
                    200,
                    _OBJECT,
                    parameters=[_REALM, *_QUERY],
                )
            },
            f"{realm}/users/{{username}}": {
                "get": _op(
                    "a user's Duo activation and groups", 200, _OBJECT, None, [_REALM, _USER]
                )
            },
            f"{realm}/users/{{username}}/activated": {
                "put": _op(
                    "activate or deactivate Duo for a user",
                    200,
                    _OBJECT,
                    "ActivationBody",
                    [_REALM, _USER],
                )
            },
            f"{realm}/clients/apps/{{client_id}}": {
                "put": _op(
                    "set an application's mode in every client realm of a partner",
                    200,
                    _LIST,
                    "AppModeBody",
                    [_REALM, _APP],
                )
            },
            "/keys": {"get": _op("where each stored skey stands (master admins)", 200, _LIST)},
            "/keys/rotate": {
                "post": _op(
                    "re-encrypt every skey under the active key (master admins)", 200, _LIST
                )
            },
            f"{realm}/duo/credentials": {
                "put": _op("store Duo credentials", 200, written, "CredentialsBody", [_REALM]),
                "delete": _op(
                    "remove a realm's own credentials (a client then uses its partner's)",
                    200,
                    written,
                    parameters=[_REALM],
                ),
            },
            f"{realm}/duo/policy": {
                "put": _op("set Duo policy", 200, written, "DuoPolicy", [_REALM])
            },
            f"{realm}/duo/enabled": {
                "put": _op(
                    "switch Duo on, off or inherit", 200, {"type": "object"}, "DuoSwitch", [_REALM]
                )
            },
            f"{realm}/apps/{{client_id}}": {
                "put": _op(
                    "set an application's mode",
                    200,
                    {"type": "object"},
                    "AppModeBody",
                    [_REALM, _APP],
                )
            },
        },
    }
