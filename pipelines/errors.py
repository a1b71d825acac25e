"""One base error for the project, with narrow subclasses callers can catch."""

from __future__ import annotations

__all__ = ["AlprError", "ConfigError", "RecognitionError", "ServiceError", "StorageError"]


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
