"""Airflow needs its home and metadata database before it is first imported."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
_home = Path(tempfile.mkdtemp(prefix="alpr-airflow-"))  # made at import, removed at the end
os.environ.update(
    AIRFLOW_HOME=str(_home),
    AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__CORE__UNIT_TEST_MODE="True",
)


def pytest_unconfigure(config: pytest.Config) -> None:
    # a pytest hook, not atexit: full runs still left some of these folders in /tmp
    shutil.rmtree(_home, ignore_errors=True)


@pytest.fixture(scope="session")
def dag_bag():  # type: ignore[no-untyped-def]
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        check=True,
        capture_output=True,
    )
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


@pytest.fixture
def alpr_environ(alpr_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's settings as ``ALPR_*`` variables: tasks call ``load_settings()`` as in prod."""
    for name, value in alpr_env.items():
        monkeypatch.setenv(name, value)
