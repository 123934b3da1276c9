"""The harness's test CA and a server certificate for a hostname, in the formats servers read.

The CA and the certificate come from the emulator's own maker
(:func:`keycloak_duo_bridge.emulator.certs.ensure_certificates`), kept in a directory of
their own. Keycloak reads the certificate and key as two PEM files; HAProxy wants both in
one file; a client that talks to several of them trusts a bundle of CAs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from keycloak_duo_bridge.emulator.certs import ensure_certificates


@dataclass(frozen=True)
class ServerTls:
    """A server certificate for ``hostname`` and the CA that signed it."""

    hostname: str
    ca: Path
    certificate: Path
    key: Path
    combined: Path  # certificate then key, as HAProxy's ``crt`` reads it


def server_tls(directory: Path, hostname: str) -> ServerTls:
    """Make (or reuse) the CA in ``directory`` and a certificate covering ``hostname``."""
    paths = ensure_certificates(directory, hostname)
    combined = directory / "server-combined.pem"
    fd = os.open(combined, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(paths.cert.read_bytes() + paths.key.read_bytes())
    return ServerTls(hostname, paths.ca, paths.cert, paths.key, combined)


def trust_bundle(target: Path, *cas: Path) -> Path:
    """One PEM file holding every CA in ``cas``, for a client that talks to all of them."""
    target.write_bytes(b"".join(ca.read_bytes().rstrip(b"\n") + b"\n" for ca in cas))
    return target
