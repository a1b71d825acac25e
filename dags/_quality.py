"""The validation step the DAGs run after each producing task (imported inside tasks)."""

from __future__ import annotations

from typing import Any


def validate_day(suite: str, day: str) -> dict[str, Any]:
    """Validate capture date ``day`` against a daily suite as this DAG run; a failed
    critical expectation raises DataQualityError, which fails the task and stops the branch.
    Returns counts only (XCom and task logs hold no plate text)."""
    from datetime import date

    from airflow.sdk import get_current_context

    from pipelines.config import load_settings
    from pipelines.quality.run import validate_day as validate

    dag_run = get_current_context()["dag_run"]
    outcome = validate(
        load_settings(),
        suite,
        date.fromisoformat(day),
        run_id=dag_run.run_id,
        as_of=dag_run.run_after,
    )
    summary = outcome.summary()
    counts = {
        "suite": summary["suite"],
        "capture_date": day,
        "rows": summary["rows"],
        "passed": summary["passed"],
        "blocking": summary["blocking"],
        "warnings": summary["warnings"],
        "flagged_rows": summary["flagged_rows"],
    }
    print(counts)
    outcome.raise_for_failure()
    return counts
