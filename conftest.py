"""Session-wide fixtures for tests/ and docs/: each part of the stack has its own module."""

pytest_plugins = [
    "tests.fixtures_sandbox",
    "tests.fixtures_emulator",
    "tests.fixtures_browser",
    "tests.fixtures_bridge",
    "tests.fixtures_console",
    "tests.fixtures_production",
    "tests.fixtures_assurance",
    "tests.fixtures_federation",
    "tests.fixtures_ciba",
    "tests.fixtures_provisioning",
    "tests.fixtures_organizations",
]
