"""Run the Python blocks of every docs page under pytest, like a notebook without Jupyter.

Each page shares one namespace across its blocks. Fixtures named here are put into that
namespace; they come from the session fixtures in the repository's root ``conftest.py``.
"""

from __future__ import annotations

from typing import Any

from sybil import Sybil
from sybil.parsers.markdown import ClearNamespaceParser, PythonCodeBlockParser, SkipParser
from sybil.sybil import SybilCollection

from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.sandbox.stack import Stack

# Pages that need only the Duo emulator. Sybil sets up every listed fixture for every page,
# so these get their own Sybil: running them never starts Keycloak.
EMULATOR_PAGES = ["duo-emulator.md"]
# Pages whose blocks are pure (figures and their arithmetic): they start nothing.
PURE_PAGES = ["scale.md"]


KEYCLOAK_FIXTURES = ["keycloak_sandbox", "duo_emulator"]
EMULATOR_FIXTURES = ["duo_emulator"]


def stop_what_the_page_started(namespace: dict[str, Any]) -> None:
    """A page that fails midway must not leave a stack, Keycloak or emulator running.

    The session's own fixtures are in the namespace too; they are not the page's to stop.
    """
    for name, value in namespace.items():
        if name in KEYCLOAK_FIXTURES:
            continue
        if isinstance(value, Stack):
            value.close(lambda _message: None)
        elif isinstance(value, SandboxKeycloak):
            value.down()
        elif isinstance(value, RunningEmulator):
            value.stop()


keycloak_pages = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser(), ClearNamespaceParser()],
    patterns=["*.md"],
    excludes=EMULATOR_PAGES + PURE_PAGES,
    fixtures=KEYCLOAK_FIXTURES,
    teardown=stop_what_the_page_started,
    name="keycloak",
)
emulator_pages = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser(), ClearNamespaceParser()],
    patterns=EMULATOR_PAGES,
    fixtures=EMULATOR_FIXTURES,
    teardown=stop_what_the_page_started,
    name="emulator",
)
pure_pages = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser(), ClearNamespaceParser()],
    patterns=PURE_PAGES,
    name="pure",
)
pytest_collect_file = SybilCollection([keycloak_pages, emulator_pages, pure_pages]).pytest()
