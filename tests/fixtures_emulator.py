"""Fixtures that run the Duo emulator (filled in with the emulator, issue 3)."""
