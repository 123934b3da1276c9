"""``python -m keycloak_duo_bridge`` runs the console script."""

import sys

from keycloak_duo_bridge.cli import main

sys.exit(main())
