"""The pseudonymization key: read from the settings (``ALPR_ANALYTICS_KEY``) or a secret file, never
from the data store, never logged, and the keyed hashes it makes.

A pseudonym is HMAC-SHA256(key, normalized plate text), hex, truncated to 128 bits: the same plate
gives the same pseudonym on every camera and day under one key, and nothing without the key. A
sighting id hashes the read id under the same key with a prefix no plate can have (plates are
``A-Z0-9``). A key's fingerprint (``key_id``) is the HMAC of a constant: it tells keys apart
without saying anything of them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.config import MIN_ANALYTICS_KEY_LENGTH, AnalyticsSettings
from pipelines.errors import AlprError, ConfigError

__all__ = ["PSEUDONYM", "AnalyticsKey", "AnalyticsKeyError", "analytics_key"]

_PSEUDONYM_HEX = 32  # 128 bits of the HMAC: collisions are out of reach for any fleet's plates
_KEY_ID_HEX = 16
_READ_PREFIX = b"read:"  # ':' never occurs in a normalized plate, so the two never collide
_KEY_ID_MESSAGE = b"alpr-analytics-key-id"
PSEUDONYM = re.compile(rf"[0-9a-f]{{{_PSEUDONYM_HEX}}}")  # what a pseudonym looks like


class AnalyticsKeyError(AlprError):
    """Pseudonyms of different keys met: a key changed without its version, or a rebuild is due."""


@dataclass(frozen=True)
class AnalyticsKey:
    version: int
    secret: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        return hmac.new(self.secret, _KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:_KEY_ID_HEX]

    def _hashes(self, values: Iterable[str], prefix: bytes) -> list[str]:
        base = hmac.new(self.secret, prefix, hashlib.sha256)
        out = []
        for value in values:
            mac = base.copy()
            mac.update(value.encode())
            out.append(mac.hexdigest()[:_PSEUDONYM_HEX])
        return out

    def pseudonyms(self, plates: pl.Series) -> pl.Series:
        """The pseudonym of each normalized plate text (no nulls): Python's ``hmac``, as polars
        has no keyed hash; callers pass the distinct texts and join."""
        return pl.Series("pseudonym", self._hashes(plates.to_list(), b""), pl.String)

    def sighting_ids(self, read_ids: pl.Series) -> pl.Series:
        return pl.Series("sighting_id", self._hashes(read_ids.to_list(), _READ_PREFIX), pl.String)


def analytics_key(settings: AnalyticsSettings) -> AnalyticsKey:
    """The key in force: ``analytics.key``, else the contents of ``analytics.key_file`` (trailing
    newline stripped). Errors name the setting, never the key."""
    if settings.key:
        secret = settings.key.encode()
    elif settings.key_file:
        try:
            secret = Path(settings.key_file).read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise ConfigError(
                f"analytics.key_file={settings.key_file!r} cannot be read ({type(exc).__name__})"
            ) from None
        if len(secret) < MIN_ANALYTICS_KEY_LENGTH:
            raise ConfigError(
                f"analytics.key_file={settings.key_file!r} holds a key that is too short: at "
                f"least {MIN_ANALYTICS_KEY_LENGTH} bytes"
            )
    else:
        raise ConfigError(
            "analytics.key is not set: give ALPR_ANALYTICS_KEY or analytics.key_file (a secret "
            f"of at least {MIN_ANALYTICS_KEY_LENGTH} bytes, kept outside the data store)"
        )
    return AnalyticsKey(settings.key_version, secret)
