"""The OpenAPI 3.1 document of the admin API, generated from its route table and models.

Each route of the API is an :class:`Operation`: its path, method, handler, a summary, and
the pydantic models of its body and answer. The API's routes and this document are both
made from that one table, so neither can name an operation the other lacks; the schemas are
pydantic's (``models_json_schema``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response

from keycloak_duo_bridge import __version__
from keycloak_duo_bridge.api.models import ErrorAnswer

Endpoint = Callable[[Request], Awaitable[Response]]
_PARAMETER: Final = re.compile(r"\{(\w+)(?::\w+)?\}")
_REFS: Final = "#/components/schemas/{model}"
_FAILURES: Final = (
    ("401", "no valid Bearer token"),
    ("403", "the caller may not manage this realm"),
    ("400", "invalid settings"),
    ("404", "no such tenant"),
    ("422", "invalid body"),
    ("502", "Keycloak failed"),
)


@dataclass(frozen=True)
class Operation:
    """One route of the API, and what the document says of it."""

    path: str  # Starlette's, with converters: /tenants/{realm:str}
    method: str
    endpoint: Endpoint
    summary: str
    status: int = 200
    body: type[BaseModel] | None = None
    returns: type[BaseModel] | None = None  # None: a JSON object
    many: bool = False  # the answer is a list (of ``returns``, or of objects)
    query: tuple[str, ...] = ()

    @property
    def document_path(self) -> str:
        """The path as OpenAPI writes it: /tenants/{realm}."""
        return _PARAMETER.sub(r"{\1}", self.path)

    @property
    def path_parameters(self) -> list[str]:
        return _PARAMETER.findall(self.path)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REFS.format(model=model.__name__)}


def _answer(op: Operation) -> dict[str, Any]:
    one = _ref(op.returns) if op.returns is not None else {"type": "object"}
    return {"type": "array", "items": one} if op.many else one


def _operation(op: Operation) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": _ref(ErrorAnswer)}}}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in op.path_parameters
    ] + [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in op.query
    ]
    document: dict[str, Any] = {
        "summary": op.summary,
        "security": [{"bearer": []}],
        "parameters": parameters,
        "responses": {
            str(op.status): {
                "description": "done",
                "content": {"application/json": {"schema": _answer(op)}},
            },
            **{code: {"description": text, **error} for code, text in _FAILURES},
        },
    }
    if op.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    return document


def document(operations: Sequence[Operation]) -> dict[str, Any]:
    """The OpenAPI document of ``operations``, schemas generated from their models."""
    models = {ErrorAnswer} | {m for op in operations for m in (op.body, op.returns) if m}
    _, schemas = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template=_REFS,
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.document_path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "keycloak-duo-bridge admin API", "version": __version__},
        "servers": [{"url": "/admin/api"}],
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "paths": paths,
    }
