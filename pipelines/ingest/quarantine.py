"""Why an object was refused. Every refusal names one of these reasons and keeps the object."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["QuarantineReason", "Quarantined"]


class QuarantineReason(StrEnum):
    EMPTY = "empty"  # zero bytes
    TOO_LARGE = "too_large"  # over ingest.max_image_bytes, or its header over max_image_pixels
    TRUNCATED = "truncated"  # image data ends before the image does
    NOT_AN_IMAGE = "not_an_image"  # no image format recognized
    UNSUPPORTED_FORMAT = "unsupported_format"  # an image, but not in ingest.image_formats
    UNRECOGNIZED_KEY = "unrecognised_key"  # key does not match ingest.key_pattern (stored value)
    MALFORMED_SIDECAR = "malformed_sidecar"  # not JSON, or a field of the wrong type/range
    CONTRADICTING_SIDECAR = "contradicting_sidecar"  # sidecar disagrees with the key
    UNKNOWN_CAMERA = "unknown_camera"  # not in the configured camera registry
    NO_CAPTURE_TIME = "no_capture_time"  # neither sidecar, key nor EXIF gives one
    FUTURE_CAPTURE_TIME = "future_capture_time"
    IMPLAUSIBLY_OLD = "implausibly_old"


class Quarantined(Exception):
    """Raised by a check to refuse one object; carries the reason and a human-readable detail."""

    def __init__(self, reason: QuarantineReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
