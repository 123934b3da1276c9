"""The package's one exception tree.

Every error the package raises derives from :class:`BridgeError`. Adapters that talk to
foreign libraries (python-keycloak, duo_universal, subprocesses) translate their errors
into this tree exactly once, with ``raise ... from exc``. Messages are one line, name
what is wrong, and never contain secrets.

::

    BridgeError
    ├── ConfigError              invalid or missing settings, bad user input
    ├── SandboxError             the local sandbox (Keycloak download, JDK, process)
    │   ├── JdkNotFoundError
    │   ├── DownloadError
    │   ├── ChecksumMismatchError
    │   ├── PortBusyError
    │   └── StartTimeoutError
    ├── ExtensionBuildError      javac / Keycloak jars missing, compile failure
    ├── KeycloakError            the Keycloak admin API
    │   ├── KeycloakUnreachableError
    │   ├── KeycloakAuthError
    │   ├── KeycloakForbiddenError
    │   └── NotFoundError
    └── DuoError                 talking to Duo (or the emulator)
        ├── DuoUnavailableError  outage: unreachable, timed out, 5xx (fail mode applies)
        │   └── CircuitOpenError other logins' checks failed; never grounds for a bypass
        ├── DuoConfigError       invalid_client, a non-JSON answer: misconfigured (fails closed)
        ├── DuoProtocolError     a bad code, state or id_token (always fails closed)
        └── DuoApiError          the Admin or Accounts API refused a request (4xx)
            ├── DuoPermissionError  a plan, feature or grant_* permission is missing
            └── DuoNotFoundError    the integration, account, user or phone does not exist
"""

from __future__ import annotations


class BridgeError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(BridgeError):
    """Settings or user input are invalid."""


class SandboxError(BridgeError):
    """The local sandbox could not be prepared, started or stopped."""


class JdkNotFoundError(SandboxError):
    """No Java runtime of the required version was found."""


class DownloadError(SandboxError):
    """A download from Maven Central failed."""


class ChecksumMismatchError(SandboxError):
    """A downloaded file does not match its published checksum."""


class PortBusyError(SandboxError):
    """A port the sandbox needs is already in use."""


class StartTimeoutError(SandboxError):
    """A sandbox service did not become ready in time."""


class ExtensionBuildError(BridgeError):
    """The Keycloak extension could not be compiled or packaged."""


class KeycloakError(BridgeError):
    """The Keycloak admin API refused or failed a request."""


class KeycloakUnreachableError(KeycloakError):
    """Keycloak did not answer."""


class KeycloakAuthError(KeycloakError):
    """The admin credentials were rejected."""


class KeycloakForbiddenError(KeycloakError):
    """The admin lacks the rights for the request."""


class NotFoundError(KeycloakError):
    """A realm, application or user does not exist."""


class DuoError(BridgeError):
    """A call to Duo (or the emulator) failed."""


class DuoUnavailableError(DuoError):
    """Duo could not be reached or answered like an outage: the realm's fail mode applies."""


class CircuitOpenError(DuoUnavailableError):
    """Other logins' health checks failed and the circuit is open: this login asked nobody."""


class DuoConfigError(DuoError):
    """Duo refused the integration's credentials or configuration: always fails closed."""


class DuoProtocolError(DuoError):
    """A code, state or id_token did not verify: always fails closed."""


class DuoApiError(DuoError):
    """Duo's Admin or Accounts API refused a request: the message says what to change."""


class DuoPermissionError(DuoApiError):
    """Duo refused for a missing plan, feature or permission, which the message names."""


class DuoNotFoundError(DuoApiError):
    """The Duo object asked for does not exist (in this account)."""
