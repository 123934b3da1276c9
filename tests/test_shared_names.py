"""The names Python and the Java extension share are the same on both sides."""

from __future__ import annotations

import re
from pathlib import Path

from keycloak_duo_bridge import attributes
from keycloak_duo_bridge.bridge import app, ciba, tokens
from keycloak_duo_bridge.verdict import Reason, Result

JAVA = (
    Path(__file__).resolve().parent.parent
    / "keycloak_extension/src/main/java/org/keycloakduobridge"
)
_CONSTANT = re.compile(r'static final String (\w+) = "([^"\\]*)";')


def java_constants(name: str) -> dict[str, str]:
    """The string constants a Java source declares, by name."""
    return dict(_CONSTANT.findall((JAVA / name).read_text(encoding="utf-8")))


def test_java_attribute_names_are_python_ones() -> None:
    """Every name in Attributes.java is in attributes.py, by the same name and value."""
    java = java_constants("Attributes.java")
    assert java
    assert {name: getattr(attributes, name, None) for name in java} == java


def test_verdict_results_and_reasons_are_the_same_on_both_sides() -> None:
    """VerdictNames.java declares exactly the results and reasons of verdict.py."""
    python = {f"RESULT_{m.name}": m.value for m in Result}
    python |= {f"REASON_{m.name}": m.value for m in Reason}
    assert java_constants("VerdictNames.java") == python


def test_the_java_switch_matches_names_not_strings() -> None:
    """The step-up matches verdicts by the shared constants, never by literals."""
    source = (JAVA / "StepUp.java").read_text(encoding="utf-8")
    assert re.findall(r'case "', source) == []
    assert not {f'"{m.value}".equals' for m in Result} & set(re.findall(r'"\w+"\.equals', source))


def test_the_ciba_verdict_note_is_keycloaks_name_for_the_bridges_callback_member() -> None:
    """The CIBA mapper reads the note Keycloak makes of the callback member the bridge sends."""
    note = java_constants("DuoCibaOutcomeMapper.java")["VERDICT_NOTE"]
    assert note == "ciba_callback_response_param_" + ciba.VERDICT_PARAM
    assert java_constants("Verdict.java")["CIBA_TYPE"] == tokens.CIBA_VERDICT_TYPE


def test_the_extension_refuses_the_request_tokens_the_bridge_would() -> None:
    """The extension's longest request token is the bridge's, and what its step-up page takes."""
    source = (JAVA / "StepUp.java").read_text(encoding="utf-8")
    found = re.search(r"static final int MAX_REQUEST_LENGTH = (\d+);", source)
    assert found is not None
    assert int(found.group(1)) == tokens.MAX_TOKEN_LENGTH == app.MAX_PARAMETER
