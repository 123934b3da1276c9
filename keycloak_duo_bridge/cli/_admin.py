"""Helpers for the admin commands: connecting, printing tables or JSON, confirming."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from keycloak_duo_bridge.admin.duo_settings import HealthCheck, duo_health_check
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.settings import Settings, defaulted_address, load_settings


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def settings() -> Settings:
    return load_settings()


def note_default(config: Settings, field: str) -> None:
    """Say on stderr when the address ``field`` falls back to its default."""
    note = defaulted_address(config, field)
    if note is not None:
        print(note, file=sys.stderr)


def connect(config: Settings) -> Keycloak:
    note_default(config, "keycloak_url")
    return Keycloak.from_settings(config)


def bridge_url(config: Settings) -> str:
    """The bridge URL a command writes to Keycloak (noted on stderr when defaulted)."""
    note_default(config, "bridge_url")
    return config.bridge_url


def wiring_of(config: Settings) -> Wiring:
    """The bridge URL and public JWKS that "Duo on" publishes to realms."""
    return Wiring.of(config, bridge_url(config))


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def confirm(question: str, *, yes: bool) -> bool:
    """True with ``--yes``; otherwise ask on a terminal; refuse without one."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise ConfigError(f"{question} - refusing without a terminal; pass --yes to confirm")
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in {"y", "yes"}


def read_skey(args: argparse.Namespace) -> str:
    """The skey from a file, an environment variable or a hidden prompt: never argv."""
    if args.skey_file is not None:
        path: Path = args.skey_file
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the skey file {path}: {exc.strerror}") from None
    if args.skey_env is not None:
        value = os.environ.get(args.skey_env)
        if not value:
            raise ConfigError(f"environment variable {args.skey_env} is not set")
        return value.strip()
    if not sys.stdin.isatty():
        raise ConfigError("give the skey with --skey-file or --skey-env (no terminal to prompt)")
    return getpass.getpass("Duo secret key (skey): ").strip()


def health_check(config: Settings, args: argparse.Namespace) -> HealthCheck | None:
    """Duo's live check of new credentials, unless ``--no-verify``."""
    if args.no_verify:
        return None
    return duo_health_check(config.duo_ca_file, allow_any_host=config.duo_allow_any_host)
