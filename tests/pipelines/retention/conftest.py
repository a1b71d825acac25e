"""A SeaweedFS server of this package's own, whose data files the tests can read: retention must
leave no deleted byte in them. Overrides the suite's ``seaweed`` for the tests here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.config import S3Settings
from pipelines.storage.seaweed import SeaweedServer
from tests.conftest import start_seaweed


@pytest.fixture(scope="session")
def seaweed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    server = start_seaweed(tmp_path_factory.mktemp("seaweed-retention"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def seaweed(seaweed_server: SeaweedServer) -> S3Settings:
    return seaweed_server.s3


@pytest.fixture(scope="session")
def store_dir(seaweed_server: SeaweedServer) -> Path:
    """Where the server keeps its volume (``*.dat``) and filer files."""
    return seaweed_server.data_dir / "store"
