"""Realm templates: placeholders, validation and the template dir override."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keycloak_duo_bridge.admin.templates import load_template, validate_realm_name, validate_url
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.errors import ConfigError


def write(directory: Path, kind: str, body: object) -> Path:
    (directory / f"{kind}.json").write_text(json.dumps(body), encoding="utf-8")
    return directory


def test_bundled_templates_render() -> None:
    """The bundled partner template sets realm, display name and frontendUrl."""
    partner = load_template(TenantKind.PARTNER).render(
        {"REALM": "acme", "DISPLAY_NAME": "Acme", "FRONTEND_URL": "https://acme.example"}
    )
    assert partner["realm"] == "acme"
    assert partner["displayName"] == "Acme"
    assert partner["attributes"]["frontendUrl"] == "https://acme.example"
    client = load_template(TenantKind.CLIENT).render({"REALM": "c", "DISPLAY_NAME": "c"})
    assert client["realm"] == "c"


def test_a_placeholder_without_value_drops_its_key() -> None:
    """A value that is only an unset placeholder is left out, not written empty."""
    partner = load_template(TenantKind.PARTNER).render({"REALM": "a", "DISPLAY_NAME": "a"})
    assert "frontendUrl" not in partner["attributes"]


def test_values_are_substituted_into_parsed_json(tmp_path: Path) -> None:
    """Quotes in a display name cannot break the JSON; lists and keycloak keys survive."""
    body = {
        "realm": "${REALM}",
        "displayName": 'x ${DISPLAY_NAME} "',
        "smtp": ["${PARTNER}", "${FRONTEND_URL}", 3],
        "label": "${username}",
    }
    template = load_template(TenantKind.PARTNER, write(tmp_path, "partner", body))
    out = template.render({"REALM": "r", "DISPLAY_NAME": 'a"b', "PARTNER": "p"})
    assert out["displayName"] == 'x a"b "'
    assert out["smtp"] == ["p", 3]
    assert out["label"] == "${username}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1], "must be a JSON object"),
        ({"realm": "fixed"}, "must have"),
        ({"realm": "${REALM}", "x": "${NOPE}"}, r"unknown placeholders: \$\{NOPE\}"),
        ({"realm": "${REALM}", "attributes": []}, "attributes must be"),
        ({"realm": "${REALM}", "attributes": {"kdb.duo.enabled": "true"}}, "must not set"),
    ],
)
def test_invalid_templates_are_refused(tmp_path: Path, body: object, message: str) -> None:
    """Templates are validated before any realm is made from them."""
    with pytest.raises(ConfigError, match=message):
        load_template(TenantKind.PARTNER, write(tmp_path, "partner", body))


def test_client_template_may_not_use_frontend_url(tmp_path: Path) -> None:
    """${FRONTEND_URL} is a partner placeholder only."""
    body = {"realm": "${REALM}", "attributes": {"frontendUrl": "${FRONTEND_URL}"}}
    with pytest.raises(ConfigError, match="FRONTEND_URL"):
        load_template(TenantKind.CLIENT, write(tmp_path, "client", body))


def test_unreadable_and_invalid_json(tmp_path: Path) -> None:
    """A missing file and broken JSON each get a message naming the file."""
    with pytest.raises(ConfigError, match="cannot read realm template"):
        load_template(TenantKind.CLIENT, tmp_path)
    (tmp_path / "client.json").write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_template(TenantKind.CLIENT, tmp_path)


@pytest.mark.parametrize("name", ["", "Acme", "-x", "a b", "x" * 64, "a/b"])
def test_invalid_realm_names(name: str) -> None:
    """Tenant names are lower-case slugs."""
    with pytest.raises(ConfigError, match="invalid tenant name"):
        validate_realm_name(name)


@pytest.mark.parametrize("url", ["ftp://x", "https://", "https://a?b=1", "https://a#f", "acme"])
def test_invalid_branding_urls(url: str) -> None:
    """Branding URLs are absolute http(s) URLs without query or fragment."""
    with pytest.raises(ConfigError, match="invalid branding URL"):
        validate_url(url)


def test_branding_url_trailing_slash_is_dropped() -> None:
    """A trailing slash is removed, so the frontendUrl is canonical."""
    assert validate_url("https://acme.example/") == "https://acme.example"
