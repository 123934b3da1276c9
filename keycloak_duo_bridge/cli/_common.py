"""Helpers shared by the CLI modules."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]  # noqa: SLF001
else:
    Subparsers = argparse._SubParsersAction  # noqa: SLF001

__all__ = ["ExampleFormatter", "Subparsers", "examples"]

_EXAMPLES = "examples:\n"


class ExampleFormatter(argparse.HelpFormatter):
    """Wraps descriptions as usual, but keeps an examples epilog one command per line."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(_EXAMPLES):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def examples(*lines: str) -> dict[str, Any]:
    """``add_parser`` keywords for an epilog of example command lines."""
    return {
        "epilog": _EXAMPLES + "\n".join(f"  {line}" for line in lines),
        "formatter_class": ExampleFormatter,
    }
