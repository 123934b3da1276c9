"""Run the Python blocks of every docs page under pytest, like a notebook without Jupyter.

Each page shares one namespace across its blocks. Fixtures named here are put into that
namespace; they come from the session fixtures in the repository's root ``conftest.py``.
"""

from __future__ import annotations

from typing import Any

from sybil import Sybil
from sybil.parsers.markdown import ClearNamespaceParser, PythonCodeBlockParser, SkipParser

from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak


def stop_what_the_page_started(namespace: dict[str, Any]) -> None:
    """A page that fails midway must not leave a sandbox Keycloak running."""
    for value in namespace.values():
        if isinstance(value, SandboxKeycloak):
            value.down()


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser(), ClearNamespaceParser()],
    patterns=["*.md"],
    fixtures=["keycloak_sandbox"],
    teardown=stop_what_the_page_started,
).pytest()
