"""Realm templates: ``partner.json`` and ``client.json`` with ``${PLACEHOLDER}`` values.

A template is a Keycloak ``RealmRepresentation``. Placeholders are upper-case
(``${REALM}``); ``${lower.case}`` belongs to Keycloak's own message keys and is left alone.
Templates are validated before any realm is made from them, and values are substituted into
the parsed JSON (never into the text), so a display name cannot break out of its string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from keycloak_duo_bridge.attributes import PREFIX, TenantKind
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.realm_names import is_tenant_name
from keycloak_duo_bridge.resources import realm_templates

PLACEHOLDERS: Final = {
    TenantKind.PARTNER: frozenset({"REALM", "DISPLAY_NAME", "FRONTEND_URL", "PARTNER"}),
    TenantKind.CLIENT: frozenset({"REALM", "DISPLAY_NAME", "PARTNER"}),
}
_PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


@dataclass(frozen=True)
class Template:
    kind: TenantKind
    path: Path
    body: dict[str, Any]

    def render(self, values: Mapping[str, str | None]) -> dict[str, Any]:
        """The realm representation, placeholders replaced by ``values``."""
        rendered = _substitute(self.body, values)
        if not isinstance(rendered, dict):  # pragma: no cover - validated as an object
            raise ConfigError(f"{self.path}: not a JSON object")
        return rendered


def validate_realm_name(name: str) -> str:
    if not is_tenant_name(name):
        raise ConfigError(
            f"invalid tenant name {name!r}: use 1-63 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return name


def validate_url(url: str) -> str:
    """A branding URL: absolute http(s), no query or fragment."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"invalid branding URL {url!r}: expected https://host[:port][/path]")
    return url.rstrip("/")


def template_dir(configured: Path | None) -> Path:
    return configured if configured is not None else realm_templates()


def load_template(kind: TenantKind, directory: Path | None = None) -> Template:
    """Read and validate ``<directory>/<kind>.json``."""
    path = template_dir(directory) / f"{kind.value}.json"
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read realm template {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"realm template {path} is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ConfigError(f"realm template {path} must be a JSON object")
    if body.get("realm") != "${REALM}":
        raise ConfigError(f'realm template {path} must have "realm": "${{REALM}}"')
    unknown = _placeholders(body) - PLACEHOLDERS[kind]
    if unknown:
        names = ", ".join(f"${{{name}}}" for name in sorted(unknown))
        raise ConfigError(f"realm template {path} uses unknown placeholders: {names}")
    attributes = body.get("attributes", {})
    if not isinstance(attributes, dict):
        raise ConfigError(f"realm template {path}: attributes must be a JSON object")
    reserved = sorted(name for name in attributes if str(name).startswith(PREFIX))
    if reserved:
        raise ConfigError(f"realm template {path} must not set {', '.join(reserved)}")
    return Template(kind, path, body)


def _placeholders(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(_PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(*(_placeholders(v) | _placeholders(k) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(_placeholders(item) for item in value))
    return set()


_DROP = object()


def _substitute(value: Any, values: Mapping[str, str | None]) -> Any:
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and values.get(whole.group(1)) is None:
            return _DROP
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or "", value)
    if isinstance(value, dict):
        pairs = ((k, _substitute(v, values)) for k, v in value.items())
        return {k: v for k, v in pairs if v is not _DROP}
    if isinstance(value, list):
        return [v for v in (_substitute(item, values) for item in value) if v is not _DROP]
    return value
