"""Phone numbers as Duo takes them: E.164, and shown masked (the last four digits).

Shared by the emulator's wizard and Admin API and by the admin service's phone commands."""

from __future__ import annotations

import re

__all__ = ["mask", "normalize_e164"]

_E164 = re.compile(r"\+[1-9]\d{1,14}")
_SEPARATORS = re.compile(r"[\s().-]")


def normalize_e164(text: str) -> str | None:
    """``text`` as an E.164 number (``+`` and up to 15 digits), ignoring spaces, dots,
    dashes and parentheses; ``None`` when it is not one."""
    number = _SEPARATORS.sub("", text)
    return number if _E164.fullmatch(number) else None


def mask(phone: str | None) -> str:
    """A phone shown as Duo shows it: only the last four digits."""
    if not phone:
        return "your phone"
    return f"XXX-XXX-{phone[-4:]}"
