"""The command lines of the deployment recipes in ``deploy/``, in one place.

The Containerfiles, the compose file, the Kubernetes manifests, the systemd unit and
docs/deploy.md use these lines; tests/test_deploy.py checks that each contains them and runs
the pip line on a built wheel and the serve line as a process. ``kc.sh build`` / ``start``
are for a production-mode Keycloak harness to run (the sandbox runs ``start-dev``).
Each is an argument list; :func:`shell` is its one-line form.
"""

from __future__ import annotations

import json
import shlex
from typing import Final

# Installs the bridge from its wheel (`make dist` writes it), in the directory holding it.
PIP_INSTALL: Final = ("pip", "install", "--no-cache-dir", "keycloak_duo_bridge-*.whl")
# Bakes the extension (a jar in providers/) and the production options into Keycloak.
KC_BUILD: Final = (
    "/opt/keycloak/bin/kc.sh",
    "build",
    "--db=postgres",
    "--health-enabled=true",
    "--metrics-enabled=true",
    "--cache=ispn",
)
KC_START: Final = ("/opt/keycloak/bin/kc.sh", "start", "--optimized")
# The bridge: address, TLS and trusted proxies come from KDB_* variables.
SERVE: Final = ("keycloak-duo-bridge", "serve")
# The bridge's liveness probe path, and its readiness path (Keycloak answers).
LIVENESS: Final = "/healthz"
READINESS: Final = "/readyz"


def shell(argv: tuple[str, ...]) -> str:
    """The command as one shell line (the wheel's glob left unquoted)."""
    return " ".join(a if "*" in a else shlex.quote(a) for a in argv)


def exec_form(argv: tuple[str, ...]) -> str:
    """The command as a Containerfile exec-form array."""
    return json.dumps(list(argv))
