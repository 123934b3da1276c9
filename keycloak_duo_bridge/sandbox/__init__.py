"""The local sandbox: a real Keycloak (and later the emulator and the bridge) on loopback."""
