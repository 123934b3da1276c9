"""Locate the files shipped beside the package: Java sources and realm templates.

In a wheel they sit under ``keycloak_duo_bridge/_data/``; in a source checkout (or an
editable install) they are the top-level ``keycloak_extension/`` and ``realm_templates/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The directory ``name`` as installed with the wheel, else from the source checkout."""
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():  # pragma: no cover - only in an installed wheel; tests run from source
        return installed
    return _PACKAGE_DIR.parent / name


def extension_sources() -> Path:
    """The root of the Java extension's sources (``src/main/java`` and ``src/main/resources``)."""
    return data_dir("keycloak_extension")


def realm_templates() -> Path:
    """The directory of the bundled realm templates."""
    return data_dir("realm_templates")
