"""Run config shared by the assets and checks that judge against a reference time."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
from pydantic import Field

__all__ = ["ReferenceTime"]


class ReferenceTime(dg.Config):
    """Launchpad config: the "now" a run acts at (tests and re-runs choose it)."""

    as_of: str | None = Field(
        default=None,
        description="Reference time (ISO 8601; naive times are UTC); empty: now.",
    )

    def now(self) -> datetime:
        moment = datetime.fromisoformat(self.as_of) if self.as_of else datetime.now(UTC)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
