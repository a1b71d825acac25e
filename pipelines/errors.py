"""One base error for the project, with narrow subclasses callers can catch."""

from __future__ import annotations

__all__ = [
    "AlertError",
    "AlprError",
    "AuthenticationError",
    "ConfigError",
    "DataQualityError",
    "HotlistError",
    "PermissionDenied",
    "PolicyRefusal",
    "RecognitionError",
    "ServiceError",
    "StorageError",
]


class AlprError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigError(AlprError, ValueError):
    """A setting is missing or invalid; the message names the key and the valid values."""


class ServiceError(AlprError):
    """A backing service (SeaweedFS, the catalog database) could not be started or reached."""


class StorageError(AlprError):
    """Object storage, a Delta table or the catalog refused an operation."""


class RecognitionError(AlprError):
    """The plate detector or the OCR could not be loaded or run."""


class AuthenticationError(AlprError):
    """An unknown or disabled user, or a wrong password (the message never says which)."""


class PermissionDenied(AlprError):
    """The authenticated user's role does not allow the action; the message names both."""


class PolicyRefusal(AlprError):
    """A request that policy PP-9126 does not allow (a missing reason, a basis not listed, ...);
    the message names the rule and what was missing."""


class HotlistError(AlprError):
    """A hotlist file was rejected; the message names the file, each bad line and the reason.
    The previously active version stays active."""

    def __init__(self, message: str, problems: list[tuple[int, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []  # (line number, reason), the header being line 1


class AlertError(AlprError):
    """An alert transition that the workflow does not allow (e.g. confirming a rejected alert)."""


class DataQualityError(AlprError):
    """A batch failed a critical expectation of its suite: downstream steps must not use it.
    The message names the suite, the batch and each failed expectation with its counts."""
