"""Run a coroutine to completion on its own event loop, in its own thread.

Playwright's sync API keeps an event loop running in the main thread once a browser test
has started, so ``asyncio.run`` there would fail; a worker thread has no loop of its own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """The coroutine's result, computed on a fresh loop in a worker thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
