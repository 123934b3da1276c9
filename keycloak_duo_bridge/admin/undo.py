"""Undoing what a run made in Duo when a later step fails: no partial state left behind."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Undo"]

log = logging.getLogger(__name__)


@dataclass
class Undo:
    """What to undo if a later step fails, newest first."""

    steps: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def push(self, what: str, action: Callable[[], None]) -> None:
        self.steps.append((what, action))

    def run(self) -> None:
        for what, action in reversed(self.steps):
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - undo as much as possible, say what is left
                log.error("could not undo %s: %s; remove it by hand", what, exc)  # noqa: TRY400
