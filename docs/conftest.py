"""Run the Python blocks of every docs page under pytest, like a notebook without Jupyter.

Each page shares one namespace across its blocks. Fixtures named here are put into that
namespace; they come from the session fixtures in the repository's root ``conftest.py``.
"""

from sybil import Sybil
from sybil.parsers.markdown import ClearNamespaceParser, PythonCodeBlockParser, SkipParser

pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser(), ClearNamespaceParser()],
    patterns=["*.md"],
    fixtures=["sandbox_settings"],
).pytest()
