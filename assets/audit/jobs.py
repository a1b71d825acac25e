"""The audit log's chain head, locked in the evidence bucket every ``audit.head_cron`` (PP-9126
C.7): what makes a truncated log detectable.

An op job, not an asset: it writes one locked object and no table. Same ``pipelines`` call as
Airflow's ``alpr_audit`` and ``alpr audit head``.
"""

import dagster as dg

from assets._time import ReferenceTime
from assets.resources import AlprSettings

__all__ = ["audit_head_job", "write_audit_head"]


@dg.op(description="Lock the audit chain's newest entry (id and hash) in the evidence bucket.")
def write_audit_head(
    context: dg.OpExecutionContext, config: ReferenceTime, alpr: AlprSettings
) -> int:
    from pipelines.audit.heads import write_chain_head
    from pipelines.storage.catalog import engine_for

    settings = alpr.load()
    with engine_for(settings.catalog_url).connect() as conn:
        head = write_chain_head(settings, conn, now=config.now())
    if head is None:
        context.log.info("the audit log is empty: no chain head written")
        return 0
    context.log.info(f"chain head at entry {head.event_id}: {head.key}")
    return head.event_id


@dg.job(description="Write the audit chain's head to the WORM evidence bucket (PP-9126 C.7).")
def audit_head_job() -> None:
    write_audit_head()
