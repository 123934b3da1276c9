"""The admin API's OpenAPI document is generated from its routes and models."""

from __future__ import annotations

import re
from typing import cast

from starlette.routing import Route

from keycloak_duo_bridge.api import models
from keycloak_duo_bridge.api.app import DOCUMENT, Api, create_api


def test_every_route_is_in_the_document() -> None:
    """Each route the API serves (but the document itself) is an operation of the document,
    and the document names no operation the API does not serve."""
    app = create_api(cast("Api", None))
    served = {
        (re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path), method.lower())
        for route in app.routes
        if isinstance(route, Route) and route.path != "/openapi.json"
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(path, method) for path, ops in DOCUMENT["paths"].items() for method in ops}
    assert served == documented
    # 17, the Auth API's PUT and DELETE (#16), phones (#17), an IdP's Duo policy, PUT and GET (#19),
    # client organizations (#18): list, show, delete, 5 Duo settings, explain
    assert len(documented) == 33


def test_schemas_are_the_models_own() -> None:
    """Every schema is pydantic's for the model of that name; references resolve."""
    schemas = DOCUMENT["components"]["schemas"]
    for name, schema in schemas.items():
        assert schema == getattr(models, name).model_json_schema()
    refs = re.findall(r"#/components/schemas/(\w+)", str(DOCUMENT))
    assert set(refs) == set(schemas)
    assert schemas["CredentialsBody"]["properties"]["skey"]["writeOnly"]


def test_path_parameters_and_bodies_follow_the_routes() -> None:
    """Path parameters come from the route's path; bodies and answers from its models."""
    users = DOCUMENT["paths"]["/tenants/{realm}/users/{username}/activated"]["put"]
    assert [p["name"] for p in users["parameters"]] == ["realm", "username"]
    assert users["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ActivationBody"
    }
    explain = DOCUMENT["paths"]["/tenants/{realm}/explain"]["get"]
    assert [p["in"] for p in explain["parameters"]] == ["path", "query", "query"]
    created = DOCUMENT["paths"]["/partners"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TenantView"
    }
