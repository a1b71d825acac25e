"""A SeaweedFS server of this package's own, whose data files the tests can read: retention must
leave no deleted byte in them. Overrides the suite's ``seaweed`` for the tests here."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.config import S3Settings
from pipelines.storage.seaweed import SeaweedServer

FAST_AUTH = {"argon2_memory_kib": 1024, "argon2_time_cost": 1, "argon2_parallelism": 1}


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_block() -> int:
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        ports = [port + d for d in (0, 555, 1000, 1007)]
        if port < 40000 and all(_free(p) and _free(p + 10000) for p in ports):
            return port
    raise RuntimeError("no free block of ports for SeaweedFS")


@pytest.fixture(scope="session")
def seaweed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    port = _port_block()
    s3 = S3Settings(endpoint_url=f"http://127.0.0.1:{port}", secret_access_key="test-secret")
    server = SeaweedServer(s3, tmp_path_factory.mktemp("seaweed-retention"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def seaweed(seaweed_server: SeaweedServer) -> S3Settings:
    return seaweed_server.s3


@pytest.fixture(scope="session")
def store_dir(seaweed_server: SeaweedServer) -> Path:
    """Where the server keeps its volume (``*.dat``) and filer files."""
    return seaweed_server.data_dir / "store"
