from __future__ import annotations

import faulthandler
import signal
from typing import Any


def test_no_import_errors(dag_bag: Any) -> None:
    assert dag_bag.import_errors == {}
    assert "alpr_ingest" in dag_bag.dag_ids


def test_every_dag_is_tagged_retried_and_not_catching_up(dag_bag: Any) -> None:
    for dag_id, dag in dag_bag.dags.items():
        assert "alpr" in dag.tags, dag_id
        assert dag.default_args.get("retries", 0) >= 1, dag_id
        assert dag.catchup is False, dag_id


def test_a_segfault_after_parsing_still_crashes(dag_bag: Any) -> None:
    # Airflow's parser leaves a Python SIGSEGV handler, which turns a native crash into an
    # endless loop; conftest's autouse fixture puts the default back, faulthandler's first.
    assert signal.getsignal(signal.SIGSEGV) == signal.SIG_DFL
    assert faulthandler.is_enabled()
