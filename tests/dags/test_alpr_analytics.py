"""The analytics DAG run by hand for one capture date with ``dag.test()``."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.config import Settings
from pipelines.storage.lake import SIGHTINGS
from pipelines.storage.tables import scan_table
from tests.pipelines.analytics._sightings import DAY1, KEY, PLATES, READS
from tests.pipelines.search._reads import write_reads


def test_a_manual_run_pseudonymizes_the_given_date(
    dag_bag: Any, settings: Settings, alpr_environ: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPR_ANALYTICS_KEY", KEY)
    write_reads(settings, READS)

    dag_run = dag_bag.dags["alpr_analytics"].test(run_conf={"capture_date": DAY1.isoformat()})

    assert dag_run.state == "success"
    rows = scan_table(settings, SIGHTINGS, DAY1).collect()
    assert rows.height == 4
    assert not set(PLATES) & set(rows.to_series(1).to_list())
    assert set(dag_bag.dags["alpr_analytics"].tags) == {"alpr", "analytics"}
