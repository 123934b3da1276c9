"""The Keycloak versions the extension supports, and the exact releases the tests run.

The range is by minor version, inclusive at both ends: every patch of 26.4 to 26.7. The
tested releases are the newest patch of each minor that Maven Central serves as
``org.keycloak:keycloak-quarkus-dist`` (26.6 is in the range but Maven Central serves no 26.6
distribution, so it is not tested). ``extension.py`` writes the range into the jar, and the
extension refuses to start on a Keycloak outside it.
"""

from __future__ import annotations

import re

SUPPORTED_MIN = "26.4"
SUPPORTED_MAX = "26.7"
TESTED = ("26.4.7", "26.5.6", "26.7.3")

_MINOR = re.compile(r"(\d+)\.(\d+)(?:\.|$)")


def minor(version: str) -> tuple[int, int] | None:
    """``(26, 5)`` for ``26.5.6`` or ``26.5``; None when the text is not such a version."""
    match = _MINOR.match(version)
    return (int(match.group(1)), int(match.group(2))) if match else None


def is_supported(version: str) -> bool:
    """Whether a Keycloak release lies in the supported range."""
    found, low, high = minor(version), minor(SUPPORTED_MIN), minor(SUPPORTED_MAX)
    if found is None or low is None or high is None:
        return False
    return low <= found <= high


def supported_range() -> str:
    return f"{SUPPORTED_MIN} to {SUPPORTED_MAX}"
