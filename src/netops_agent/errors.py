"""One root exception and narrow subclasses.

Every message names what was wrong and where (file, field, device, incident) and
says how to fix it. The CLI turns any `NetopsError` into a red message and a
non-zero exit code; anything else is a bug.
"""

from __future__ import annotations


class NetopsError(Exception):
    """Root of every error netops-agent raises on purpose."""

    exit_code = 1


class ConfigError(NetopsError):
    """A setting, path or command-line value is unusable."""

    exit_code = 2


class InputFileError(NetopsError):
    """A YAML/JSON input file (runbooks, scenarios, policy) is invalid."""

    exit_code = 2

    def __init__(self, path: str, problem: str, *, where: str = "", fix: str = "") -> None:
        self.path = path
        self.where = where
        location = f"{path}" + (f" ({where})" if where else "")
        message = f"{location}: {problem}"
        if fix:
            message += f"\n  fix: {fix}"
        super().__init__(message)


class RegistryError(NetopsError):
    """An unknown or duplicate name in a plugin registry."""

    exit_code = 2


class StoreError(NetopsError):
    """The DuckDB file cannot be opened, migrated or queried as expected."""


class LabError(NetopsError):
    """The lab backend cannot do what was asked (missing lab, unknown device, ...)."""


class UnknownDeviceError(LabError):
    exit_code = 2


class UnknownFaultError(LabError):
    exit_code = 2


class FaultTargetError(LabError):
    """A fault cannot be injected at the requested target."""

    exit_code = 2


class BackendUnavailableError(LabError):
    """A backend's prerequisites (root, ip netns, FRR) are missing."""

    exit_code = 3


class ToolInputError(NetopsError):
    """A tool parameter failed validation before reaching any device."""

    exit_code = 2


class NotFoundError(NetopsError):
    """An incident, ticket, approval or table id does not exist."""

    exit_code = 2
