"""The review app against the real services: settings of the test's own buckets and database,
users made through the core, alerts raised through the core, evidence images in the buckets."""

from __future__ import annotations

import io
import logging
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, sync_playwright

from pipelines.alerts import AlertService
from pipelines.audit.users import Role, add_user
from pipelines.config import Settings
from pipelines.matching.schema import MATCHES_SCHEMA
from pipelines.recognition.partition import crop_key
from pipelines.storage.catalog import camera_objects, engine_for, insert_new, upgrade_catalog
from pipelines.storage.objects import ensure_bucket, s3_client
from tests.conftest import REFERENCE_TIME
from web.app import create_app

NOW = REFERENCE_TIME  # the suite's one reference time
PASSWORDS = {"ada": "ada-agent-pass", "nick": "nick-analyst-pass", "root": "root-admin-pass"}
ROLES = {"ada": Role.AGENT, "nick": Role.ANALYST, "root": Role.ADMINISTRATOR}


@dataclass
class Clock:
    """The app's "now", moved by the tests (session lifetime)."""

    now: datetime = field(default=NOW)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    """The test's settings with a fixed session secret, cheap password hashes and a migrated
    catalog (``alpr serve`` migrates at start-up)."""
    result = settings.replace(
        web={"session_secret": "s" * 40, "session_minutes": 30},
        auth={"argon2_time_cost": 1, "argon2_memory_kib": 8192, "argon2_parallelism": 1},
    )
    upgrade_catalog(result.catalog_url)
    return result


@pytest.fixture
def users(web_settings: Settings) -> dict[str, str]:
    """An agent (ada), an analyst (nick) and an administrator (root); name -> password."""
    with engine_for(web_settings.catalog_url).begin() as conn:
        for name, role in ROLES.items():
            add_user(
                conn, name, role, PASSWORDS[name], actor="test", now=NOW, auth=web_settings.auth
            )
    return PASSWORDS


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(web_settings: Settings, clock: Clock) -> FastAPI:
    return create_app(web_settings, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as test_client:
        yield test_client


def jpeg(width: int, height: int, text: str) -> bytes:
    """A small JPEG with ``text`` drawn on it: stands in for a capture or a plate crop."""
    image = Image.new("RGB", (width, height), (200, 200, 190))
    ImageDraw.Draw(image).text((8, height // 2 - 6), text, fill=(10, 10, 10))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app under a real uvicorn on a free 127.0.0.1 port (its own thread); the base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        # log_config None: the loggers keep the test's handlers (the browser test reads them)
        uvicorn.Config(app, log_config=None, lifespan="off", server_header=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium, installed by `make browser` (a prerequisite of `make test`)."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is not installed: run `make browser` (apt-get install chromium)")
    return path


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def server_log() -> Iterator[list[str]]:
    """Every line uvicorn logs while the test runs (access log included)."""
    handler = _Lines()
    loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.access", "uvicorn.error")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    yield handler.lines
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, headless=True)
        yield launched
        launched.close()


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Evidence:
    """One seeded alert: its id, its plate text, and the bytes of its image and crop."""

    alert_id: str
    plate: str
    image: bytes
    crop: bytes
    image_size: tuple[int, int]
    crop_size: tuple[int, int]


# Two reads of two different listed plates, at two cameras: two alerts.
_READS = (
    ("ABC123", "CO", "cam-07", "exact", 0.93),
    ("8XK9Q4", None, "cam-11", "lenient", 0.71),
)


@pytest.fixture
def alerts(web_settings: Settings) -> list[Evidence]:
    """Two pending alerts raised through the core from a matches frame; each read's image is
    registered in the ledger and stored in the drops bucket, its crop in the lake bucket, at the
    keys the alerts reference."""
    s3 = s3_client(web_settings.s3)
    ensure_bucket(web_settings.s3, web_settings.s3.lake_bucket)
    captured = NOW - timedelta(minutes=5)
    rows, ledger, seeded = [], [], []
    for n, (plate, state, camera, kind, confidence) in enumerate(_READS):
        image_id, detection_id = f"img{n:037d}", f"det{n:037d}"
        key = f"{camera}/{captured:%Y-%m-%d}/{captured:%Y%m%dT%H%M%SZ}_{n:05d}.jpg"
        image, crop = jpeg(640, 480, f"{camera} frame"), jpeg(200, 60, plate)
        s3.put_object(Bucket=web_settings.s3.drops_bucket, Key=key, Body=image)
        s3.put_object(
            Bucket=web_settings.s3.lake_bucket,
            Key=crop_key(captured.date(), image_id, detection_id),
            Body=crop,
        )
        ledger.append(
            {
                "image_id": image_id,
                "bucket": web_settings.s3.drops_bucket,
                "key": key,
                "etag": f"etag-{n}",
                "size_bytes": len(image),
                "status": "ingested",
                "camera_id": camera,
                "captured_at": captured,
                "capture_date": captured.date(),
                "run_id": "test-seed",
                "registered_at": captured,
            }
        )
        rows.append(
            {
                "read_id": f"read-{n}",
                "detection_id": detection_id,
                "image_id": image_id,
                "camera_id": camera,
                "captured_at": captured,
                "capture_date": captured.date(),
                "plate_text": plate,
                "confidence": confidence,
                "matched_text": plate,
                "entry_id": f"entry-{n}",
                "list_name": "ncic-daily",
                "list_version": 3,
                "entry_plate": plate.replace("Q", "0") if kind == "lenient" else plate,
                "entry_state": state or "WY",
                "list_code": "V",
                "match_kind": kind,
                "state_not_read": state is None,
                "seen_before_listed": False,
            }
        )
        seeded.append((plate, image, crop))
    with engine_for(web_settings.catalog_url).begin() as conn:
        insert_new(conn, camera_objects, ledger)
    ids = AlertService(web_settings).raise_alerts(
        pl.DataFrame(rows, schema=MATCHES_SCHEMA),
        hotlist_age_seconds={"ncic-daily": 5400.0},
        now=NOW,
    )
    assert len(ids) == len(_READS)
    by_read = {f"read-{n}": n for n in range(len(_READS))}
    with engine_for(web_settings.catalog_url).connect() as conn:
        from pipelines.alerts.tables import alerts as alerts_table

        order = dict(
            conn.execute(sa.select(alerts_table.c.alert_id, alerts_table.c.read_id)).tuples().all()
        )
    return [
        Evidence(alert_id, *seeded[by_read[order[alert_id]]], (640, 480), (200, 60))
        for alert_id in sorted(ids, key=lambda i: by_read[order[i]])
    ]
