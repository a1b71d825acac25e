"""The chain-head job, run by Dagster: the audit chain's newest entry is locked in the evidence
bucket; the schedule follows ``audit.head_cron``."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import dagster as dg

from assets._time import ReferenceTime
from assets.audit.jobs import audit_head_job
from assets.definitions import build_defs
from assets.resources import AlprSettings
from pipelines.audit.heads import list_chain_heads
from pipelines.audit.log import record
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for, upgrade_catalog


def test_the_job_locks_the_newest_entry_and_the_schedule_follows_the_setting(
    settings: Settings, alpr_config: Path, as_of: datetime
) -> None:
    bucket = f"evid-{uuid.uuid4().hex[:10]}"
    alpr_config.write_text(
        alpr_config.read_text() + f'[preservation]\nevidence_bucket = "{bucket}"\n'
    )
    upgrade_catalog(settings.catalog_url)
    with engine_for(settings.catalog_url).begin() as conn:
        newest = record(conn, actor="jdoe", action="search.reads", now=as_of)
    result = audit_head_job.execute_in_process(
        run_config=dg.RunConfig({"write_audit_head": ReferenceTime(as_of=as_of.isoformat())}),
        resources={"alpr": AlprSettings(config_path=str(alpr_config))},
    )
    assert result.success and result.output_for_node("write_audit_head") == newest
    heads = list_chain_heads(settings.replace(preservation={"evidence_bucket": bucket}))
    assert [h.event_id for h in heads] == [newest]
    schedule = build_defs(settings).get_repository_def().get_schedule_def("audit_head_job_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == (
        settings.audit.head_cron,
        "UTC",
    )
