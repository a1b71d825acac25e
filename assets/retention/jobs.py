"""The nightly retention pass (PP-9126 C.4.a, C.4.b): what is older than its period and not held
is deleted for good.

An op job, not an asset: it deletes from every table and bucket and writes none of its own. Same
``pipelines`` call as Airflow's ``alpr_retention`` and ``alpr retention run``.
"""

import dagster as dg
from pydantic import Field

from assets._time import ReferenceTime
from assets.resources import AlprSettings

__all__ = ["RetentionRun", "retention_job", "run_retention_pass"]


class RetentionRun(ReferenceTime):
    """Launchpad config: the pass's reference time, and whether it only counts."""

    dry_run: bool = Field(default=False, description="Count what would be deleted; delete nothing.")


@dg.op(description="One retention pass as the service account; the counts per data class.")
def run_retention_pass(
    context: dg.OpExecutionContext, config: RetentionRun, alpr: AlprSettings
) -> dict[str, dict[str, int]]:
    from pipelines.audit.users import SERVICE_USER, service_user
    from pipelines.retention import run_retention
    from pipelines.storage.catalog import engine_for, upgrade_catalog

    settings, now = alpr.load(), config.now()
    upgrade_catalog(settings.catalog_url)
    with engine_for(settings.catalog_url).begin() as conn:
        service_user(conn, now=now)
    report = run_retention(settings, as_of=now, dry_run=config.dry_run, actor=SERVICE_USER)
    counts = {
        name: {"deleted": c.deleted, "held": c.held, "objects": c.objects}
        for name, c in report.classes.items()
    }
    # counts only; the per-day, per-camera report is in the audit log under this run id
    context.log.info(f"retention {report.run_id} (dry run: {report.dry_run}): {counts}")
    return counts


@dg.job(description="Delete expired, unheld data everywhere (PP-9126 C.4.a, C.4.b), nightly.")
def retention_job() -> None:
    run_retention_pass()
