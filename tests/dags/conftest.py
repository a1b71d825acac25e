"""Airflow needs its home and metadata database before it is first imported."""

from __future__ import annotations

import faulthandler
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomlkit

from pipelines.config import Settings

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


@pytest.fixture(autouse=True)
def crash_on_segfault() -> Iterator[None]:
    """Undo the SIGSEGV handler that Airflow's DAG parser leaves behind (DagBag, dag.test), before
    and after each test. A Python handler only sets a flag and returns to the faulting
    instruction, so a crash in any thread (a native library's) spun at 100 % CPU until CI's time
    ran out, instead of failing its test with a traceback."""
    _default_segfault()
    yield
    _default_segfault()


def _default_segfault() -> None:
    if signal.getsignal(signal.SIGSEGV) in (signal.SIG_DFL, None):
        return
    faulthandler.disable()
    signal.signal(signal.SIGSEGV, signal.SIG_DFL)
    faulthandler.enable(file=sys.__stderr__, all_threads=True)


@pytest.fixture
def alpr_environ(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's settings in the TOML file that ``$ALPR_CONFIG`` names: tasks call
    ``load_settings()`` as in prod. One variable, not one per setting: setenv is not thread-safe
    and a polars thread reads the environment (cli._auth.Invocation says more)."""
    path = tmp_path / "alpr-settings.toml"
    path.write_text(tomlkit.dumps(settings.as_dict()))
    monkeypatch.setenv("ALPR_CONFIG", str(path))
