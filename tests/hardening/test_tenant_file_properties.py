"""Hostile tenant files: a FleetSpec or a line-numbered ConfigError, never a crash or a secret."""

from __future__ import annotations

import re
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yaml.reader import Reader

from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.fleet import spec

FOLDER = Path(tempfile.mkdtemp(prefix="kdb-tenant-file-"))
PATH = FOLDER / "fleet.yaml"
WHERE = re.compile(rf"^{re.escape(str(PATH))}:(\d+|\?): \S")
secrets = st.text(string.ascii_letters + string.digits, min_size=40, max_size=40)


def yaml_printable(character: str) -> bool:
    """Whether PyYAML's reader accepts the character (it refuses most control characters)."""
    return not Reader.NON_PRINTABLE.match(character)


yaml_text = st.text(st.characters(codec="utf-8").filter(yaml_printable), max_size=80)
scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | yaml_text | secrets
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(yaml_text, inner, max_size=3),
    max_leaves=8,
)


def field_map(names: list[str], value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mappings over the schema's own key names (and a stray one), or any value at all."""
    return st.dictionaries(st.sampled_from([*names, "colour"]), value, max_size=len(names)) | values


duo = field_map(
    sorted(spec._DUO_KEYS),
    st.sampled_from(["DI" + "A" * 18, "api-1.example.com", "true", "inherit", "opt-in", "open"])
    | st.sampled_from(["SECRET", "env:ACME_SKEY", "file:skey.txt", "env:", "file:missing"])
    | values,
)
apps = st.dictionaries(yaml_text, st.sampled_from(["off", "required", "inherit", "maybe"]) | values)
client = field_map(["display_name", "duo", "apps"], duo | apps | values)
realm_names = st.sampled_from(["acme", "north", "south", "Bad Name!", "-x"]) | yaml_text
partner = st.fixed_dictionaries(
    {},
    optional={
        "display_name": values,
        "branding_url": st.sampled_from(["https://acme.example", "ftp://x", ""]) | values,
        "duo": duo,
        "apps": apps,
        "clients": st.dictionaries(realm_names, client, max_size=3) | values,
    },
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "version": st.sampled_from([1, "1", 2]) | values,
        "partners": st.dictionaries(realm_names, partner, max_size=3) | values,
    },
)


def parse_or_refuse(text: str, secret: str, *, secret_is_skey: bool = True) -> None:
    """Parse with the secret behind both references; check any refusal is clear and clean."""
    (FOLDER / "skey.txt").write_text(secret, encoding="utf-8")
    try:
        parsed = spec.parse(text, PATH, {"ACME_SKEY": secret})
    except ConfigError as exc:
        message = str(exc)
    else:
        assert not secret_is_skey or secret not in repr(parsed)
        return
    assert WHERE.match(message), message
    assert secret not in message


@given(documents, secrets)
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_schema_shaped_files_parse_or_are_refused_by_line(document: Any, secret: str) -> None:
    """Files of the schema's shape with any values: a spec, or file:line: what, no skey."""
    text = yaml.safe_dump(document, allow_unicode=True)
    parse_or_refuse(text.replace("SECRET", secret), secret)


@given(documents, secrets, st.sampled_from(["skey", "ikey", "api_host", "display_name"]))
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_a_literal_secret_anywhere_is_never_echoed(
    document: dict[str, Any], secret: str, name: str
) -> None:
    """A pasted skey, as the skey or in a neighbouring field, never appears in an error."""
    duo_settings = {"enabled": True, "ikey": "DI" + "A" * 18, "api_host": "api-1.example.com"}
    partners = {"acme": {"duo": {**duo_settings, "skey": "env:ACME_SKEY", name: secret}}}
    text = yaml.safe_dump({**document, "version": 1, "partners": partners})
    parse_or_refuse(text, secret, secret_is_skey=name == "skey")


lines = st.lists(
    st.sampled_from(
        [
            "version: 1",
            "partners:",
            "  acme:",
            "    duo:",
            "      skey: SECRET",
            "      skey: env:ACME_SKEY",
            "      ikey: DIAAAAAAAAAAAAAAAAAA",
            "    clients:",
            "      north: &n {apps: {x: off}}",
            "      south: *n",
            "  - [",
            "? !!python/object:os.system",
            "%YAML 1.1",
            "---",
        ]
    )
    | yaml_text,
    max_size=12,
).map("\n".join)


@given(lines, secrets)
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_any_printable_text_parses_or_is_refused_by_line(text: str, secret: str) -> None:
    """Any printable text, YAML-ish or not: a spec, or a ConfigError naming the line."""
    parse_or_refuse(text.replace("SECRET", secret), secret)


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\ufffe"])
def test_a_control_character_is_a_clear_error(character: str) -> None:
    """A control character in the tenant file is a ConfigError that names the file."""
    with pytest.raises(ConfigError, match=re.escape(str(PATH))):
        spec.parse(f"version: 1\nx: 1{character}\n", PATH, {})
