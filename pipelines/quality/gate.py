"""The gate a step passes before it reads a batch: a batch whose suite failed stops here.

Validation records a verdict per batch (``quality_verdicts``); recognition and matching ask it
before they read a day, so a bad batch stops whichever way the step was started (a Dagster run, a
sensor, an Airflow task, the CLI). A batch never validated passes: validation is a step of the
schedules, not a precondition of every manual run.
"""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa

from pipelines.config import Settings
from pipelines.errors import DataQualityError
from pipelines.quality.tables import quality_verdicts
from pipelines.storage.catalog import engine_for
from pipelines.storage.lake import LakeTable

__all__ = ["require_partition_passed", "require_passed"]


def require_passed(settings: Settings, suite: str, batch: str) -> None:
    """Raise DataQualityError if the latest validation of ``batch`` against ``suite`` failed."""
    v = quality_verdicts
    with engine_for(settings.catalog_url).connect() as conn:
        if not sa.inspect(conn).has_table(v.name):  # never migrated: nothing was validated
            return
        found = conn.execute(
            sa.select(v.c.passed, v.c.blocking, v.c.run_id).where(
                v.c.suite == suite, v.c.batch == batch
            )
        ).first()
    if found is not None and not found.passed:
        raise DataQualityError(
            f"{suite} {batch} failed validation in run {found.run_id} "
            f"({', '.join(json.loads(found.blocking))}): fix the data and validate it again "
            f"(alpr quality validate {suite} {batch})"
        )


def require_partition_passed(settings: Settings, table: LakeTable, day: date) -> None:
    """``require_passed`` for partition ``day`` of a lake table (those without a suite pass)."""
    if table.suite is not None:
        require_passed(settings, table.suite, day.isoformat())
