"""Real services for the tests: a SeaweedFS server started here, the machine's PostgreSQL.

Each test gets its own buckets and its own PostgreSQL database, so tests never see each other's
objects or ledger rows.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings as hypothesis_settings

from pipelines.config import S3Settings, Settings, load_settings
from pipelines.storage.objects import ensure_bucket, s3_client
from pipelines.storage.seaweed import SeaweedServer, free_port_block

# No timed tests: Hypothesis's per-example deadline (200 ms) fails on a loaded machine, not a bug
hypothesis_settings.register_profile("alpr", deadline=None)
hypothesis_settings.load_profile("alpr")

PG_ADMIN_URL = os.environ.get(
    "ALPR_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# The one reference time of every date-sensitive test: the "now" that ingestion judges capture
# times against. Fixed, so no test depends on the calendar; ALPR_TEST_SHIFT_DAYS moves it (and
# every capture day derived from it), and `--also-ahead DAYS` runs each date-sensitive test a
# second time with it DAYS ahead, in the same session: passing both proves that nothing reads the
# wall clock instead (`make test` does so a year ahead).
REFERENCE_TIME = datetime(2026, 3, 11, 12, tzinfo=UTC) + timedelta(
    days=int(os.environ.get("ALPR_TEST_SHIFT_DAYS", "0"))
)
DATED_FIXTURES = {"as_of", "capture_day"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--also-ahead",
        type=int,
        default=0,
        metavar="DAYS",
        help="run each date-sensitive test (not the slow ones) once more, reference DAYS ahead",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    days = metafunc.config.getoption("also_ahead")
    if not days or not DATED_FIXTURES & set(metafunc.fixturenames):
        return
    if metafunc.definition.get_closest_marker("slow"):
        return  # once: they are most of the suite's time
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if "as_of" in (names.replace(" ", "").split(",") if isinstance(names, str) else names):
            return  # the test gives its own reference times
    ahead = REFERENCE_TIME + timedelta(days=days)
    metafunc.parametrize(
        "as_of", [REFERENCE_TIME, ahead], ids=["now", f"ahead{days}d"], scope="session"
    )


@pytest.fixture(scope="session")
def as_of() -> datetime:
    """The reference time ("now") of date-sensitive tests."""
    return REFERENCE_TIME


@pytest.fixture
def machine_in_denver(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is Denver's (UTC-6 in mid-March) for one test: code that
    must count in UTC shows it does."""
    monkeypatch.setenv("TZ", "America/Denver")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="session")
def capture_day(as_of: datetime) -> date:
    """A capture date one day before the reference time: a live, plausible drop."""
    return (as_of - timedelta(days=1)).date()


def start_seaweed(data_dir: Path) -> SeaweedServer:
    """A SeaweedFS server on free ports with its data under ``data_dir``, started."""
    port = free_port_block()
    s3 = S3Settings(endpoint_url=f"http://127.0.0.1:{port}", secret_access_key="test-secret")
    # The suite makes a bucket pair per test: more than the volumes SeaweedFS allows by default
    # on a small disk, even with each test's buckets removed afterwards.
    server = SeaweedServer(s3, data_dir, max_volumes=2000)
    server.start()
    return server


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Settings]:
    """A SeaweedFS server of the test session's own, on free ports."""
    server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    yield server.s3
    server.stop()


def _pg_database_url(name: str) -> str:
    return sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated once to the newest schema: each test's database is a copy
    (CREATE DATABASE ... TEMPLATE takes a fraction of running every migration again)."""
    from pipelines.storage.catalog import engine_for, upgrade_catalog

    name = f"alpr_template_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    upgrade_catalog(_pg_database_url(name))
    engine_for(_pg_database_url(name)).dispose()  # a template must have no connection left
    yield name
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, at the newest schema, dropped afterwards."""
    name = f"alpr_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    url = _pg_database_url(name)
    yield url
    from pipelines.storage.catalog import engine_for

    engine_for(url).dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(seaweed: S3Settings, pg_url: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings pointing at this test's own buckets and database."""
    suffix = uuid.uuid4().hex[:10]
    base = load_settings(env={})
    result = base.replace(
        data_dir=tmp_path / "var",
        s3={
            "endpoint_url": seaweed.endpoint_url,
            "secret_access_key": seaweed.secret_access_key,
            "drops_bucket": f"drops-{suffix}",
            "lake_bucket": f"lake-{suffix}",
        },
        catalog={"url": pg_url},
    )
    ensure_bucket(result.s3, result.s3.drops_bucket)
    yield result
    for bucket in (result.s3.drops_bucket, result.s3.lake_bucket):
        _remove_bucket(result.s3, bucket)


def _remove_bucket(s3: S3Settings, bucket: str) -> None:
    """Every version of every object, then the bucket: its volume is freed for the next tests."""
    client = s3_client(s3)
    try:
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            if doomed:
                client.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
        client.delete_bucket(Bucket=bucket)
    except client.exceptions.NoSuchBucket:
        pass


@pytest.fixture
def s3(settings: Settings):  # type: ignore[no-untyped-def]
    return s3_client(settings.s3)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:  # `-m dated` selects them
        if DATED_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.dated)
    if SHARED_DATA.is_dir():
        return
    skip = pytest.mark.skip(reason=f"{SHARED_DATA} is absent (real plate photos not available)")
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def alpr_env(settings: Settings) -> dict[str, str]:
    """The ``ALPR_*`` variables that reproduce ``settings`` in another process."""
    return settings.as_env()


@pytest.fixture
def alpr_config(settings: Settings, tmp_path: Path) -> Path:
    """A TOML settings file with this test's endpoint, buckets and catalog, as a deployment
    would write it."""
    s3, catalog = settings.s3, settings.catalog_url
    path = tmp_path / "alpr.toml"
    path.write_text(
        f'data_dir = "{settings.data_dir}"\n'
        "[s3]\n"
        f'endpoint_url = "{s3.endpoint_url}"\n'
        f'secret_access_key = "{s3.secret_access_key}"\n'
        f'drops_bucket = "{s3.drops_bucket}"\n'
        f'lake_bucket = "{s3.lake_bucket}"\n'
        "[catalog]\n"
        f'url = "{catalog}"\n'
    )
    return path
