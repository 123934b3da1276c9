"""The one rule for realm names: which names the project addresses, and which it creates.

Every realm name that arrives from outside (a URL path, a form, a token's issuer, a
tenant file) is checked against :data:`REALM_NAME` before it reaches Keycloak: letters,
digits, ``_``, ``-`` and ``.``, at most 255, never starting with ``.`` (so never ``.`` or
``..`` in a path). Realms the project *creates* (tenants) are held to a narrower slug,
:data:`TENANT_NAME`, which every such name also satisfies.
"""

from __future__ import annotations

import re
from typing import Final

REALM_NAME: Final = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,254}")
TENANT_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def is_realm_name(name: str) -> bool:
    """Whether ``name`` may be a realm the project talks to Keycloak about."""
    return REALM_NAME.fullmatch(name) is not None


def is_tenant_name(name: str) -> bool:
    """Whether ``name`` may be the name of a tenant realm the project creates."""
    return TENANT_NAME.fullmatch(name) is not None and is_realm_name(name)
