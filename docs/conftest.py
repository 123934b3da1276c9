"""Run the Python blocks of every docs page under pytest, like a notebook without Jupyter.

Each page shares one namespace across its blocks. Fixtures named here are put into that
namespace; they come from the session fixtures in the repository's root ``conftest.py``.
"""

from __future__ import annotations

from typing import Any

from sybil import Sybil
from sybil.parsers.markdown import ClearNamespaceParser, PythonCodeBlockParser, SkipParser

from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak

# Pages that need only the Duo emulator. Sybil sets up every listed fixture for every page,
# so these get their own Sybil: running them never starts Keycloak.
EMULATOR_PAGES = ["duo-emulator.md"]


def stop_what_the_page_started(namespace: dict[str, Any]) -> None:
    """A page that fails midway must not leave a sandbox Keycloak or an emulator running."""
    for value in namespace.values():
        if isinstance(value, SandboxKeycloak):
            value.down()
        elif isinstance(value, RunningEmulator):
            value.stop()


keycloak_pages = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser(), ClearNamespaceParser()],
    patterns=["*.md"],
    excludes=EMULATOR_PAGES,
    fixtures=["keycloak_sandbox", "duo_emulator"],
    teardown=stop_what_the_page_started,
    name="keycloak",
)
emulator_pages = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser(), ClearNamespaceParser()],
    patterns=EMULATOR_PAGES,
    fixtures=["duo_emulator"],
    teardown=stop_what_the_page_started,
    name="emulator",
)
pytest_collect_file = (keycloak_pages + emulator_pages).pytest()
