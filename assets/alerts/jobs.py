"""The alert sweep: escalate pending alerts nobody reviewed in time, expire the overdue ones.

An op job, not an asset: it moves existing alerts through their states and writes no table.
"""

import dagster as dg

from assets._time import ReferenceTime
from assets.resources import AlprSettings
from pipelines.alerts import AlertService

__all__ = ["alerts_sweep_job", "sweep_alerts"]


@dg.op(description="Escalate and expire overdue pending alerts, as the service account.")
def sweep_alerts(
    context: dg.OpExecutionContext, config: ReferenceTime, alpr: AlprSettings
) -> dict[str, int]:
    swept = AlertService(alpr.load()).sweep(config.now())
    counts = {action: len(ids) for action, ids in swept.items()}
    context.log.info(f"alerts swept: {counts}")  # counts only: ids and plates stay in the catalog
    return counts


@dg.job(description="Escalation and expiry of pending alerts (PP-9126 C.3: a person reviews).")
def alerts_sweep_job() -> None:
    sweep_alerts()
