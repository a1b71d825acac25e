"""The chain-head DAG, run with ``dag.test()``: the audit chain's newest entry is locked in the
evidence bucket; its schedule follows ``audit.head_cron``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from pipelines.audit.heads import list_chain_heads
from pipelines.audit.log import record
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for, upgrade_catalog


def test_a_run_locks_the_chain_head(
    dag_bag: Any,
    settings: Settings,
    alpr_environ: None,
    as_of: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = f"evid-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("ALPR_PRESERVATION_EVIDENCE_BUCKET", bucket)
    upgrade_catalog(settings.catalog_url)
    with engine_for(settings.catalog_url).begin() as conn:
        newest = record(conn, actor="jdoe", action="search.reads", now=as_of)
    dag = dag_bag.dags["alpr_audit"]
    assert dag.test(run_after=as_of).state == "success"
    heads = list_chain_heads(settings.replace(preservation={"evidence_bucket": bucket}))
    assert [h.event_id for h in heads] == [newest]
    assert dag.timetable.summary == settings.audit.head_cron
    assert set(dag.tags) == {"alpr", "audit"}
