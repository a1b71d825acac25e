"""Register new camera objects exactly once: list, skip the known, fetch, check, record.

The catalog ledger is the single record of what was seen: its unique ``(bucket, key, etag)``
makes a second registration of an object impossible, and each batch is committed in one
transaction, so a run killed at any point is resumed by the next run without duplicate or gap.
Source objects are only read, never modified or deleted.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from queue import Queue
from threading import Event, Thread
from typing import Any, TypeVar

import sqlalchemy as sa
from botocore.exceptions import ClientError

from pipelines.config import Settings
from pipelines.ingest.checks import inspect_image, parse_key, parse_sidecar, resolve_capture
from pipelines.ingest.quarantine import Quarantined, QuarantineReason
from pipelines.storage.catalog import (
    camera_objects,
    engine_for,
    ingest_runs,
    insert_new,
    mark_partitions,
    upgrade_catalog,
)
from pipelines.storage.lake import IMAGES
from pipelines.storage.objects import ensure_bucket, s3_client

__all__ = [
    "IngestReport",
    "first_unregistered",
    "image_id_for",
    "load_camera_registry",
    "register_drops",
]

_TASK_OBJECTS = 8  # objects one fetch task handles in turn
_T = TypeVar("_T")


@dataclass(frozen=True)
class _ObjectRef:
    key: str
    etag: str
    size: int


@dataclass(frozen=True)
class _Unit:
    """An image and the sidecar that travels with it."""

    image: _ObjectRef
    sidecar: _ObjectRef | None


@dataclass
class IngestReport:
    run_id: str
    listed: int = 0
    already_seen: int = 0
    ingested: int = 0
    quarantined: int = 0
    bytes: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    capture_dates: set[date] = field(default_factory=set)


def image_id_for(bucket: str, key: str, etag: str) -> str:
    """Stable id of one version of one source object."""
    return hashlib.sha1(f"{bucket}\x00{key}\x00{etag}".encode(), usedforsecurity=False).hexdigest()


def load_camera_registry(path: str) -> frozenset[str] | None:
    """Camera ids from a file (one per line, or a CSV whose first column is camera_id)."""
    if not path:
        return None
    lines = Path(path).read_text().splitlines()
    ids = (line.split(",")[0].strip() for line in lines)
    return frozenset(i for i in ids if i and not i.startswith("#") and i != "camera_id")


def _strip_etag(etag: str) -> str:
    return etag.strip('"')


def _pages(client: Any, bucket: str, prefix: str) -> Iterator[list[_ObjectRef]]:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": 1000}
    ):
        yield [
            _ObjectRef(o["Key"], _strip_etag(o["ETag"]), int(o["Size"]))
            for o in page.get("Contents", [])
            if not o["Key"].endswith("/")
        ]


def _units(pages: Iterator[list[_ObjectRef]], sidecar_suffix: str) -> Iterator[list[_Unit]]:
    """Pair each image with its sidecar (same key, sidecar suffix), page by page.

    Keys are listed in order, so an image and its sidecar are neighbours; the last stem of a page
    is held back until the next page in case its partner is there.
    """
    held: list[_ObjectRef] = []

    def stem(ref: _ObjectRef) -> str:
        return ref.key.rsplit(".", 1)[0]

    def pair(refs: list[_ObjectRef]) -> list[_Unit]:
        sidecars = {stem(r): r for r in refs if r.key.endswith(sidecar_suffix)}
        return [_Unit(r, sidecars.get(stem(r))) for r in refs if not r.key.endswith(sidecar_suffix)]

    for page in pages:
        refs = held + page
        if not refs:
            continue
        last = stem(refs[-1])
        cut = len(refs)
        while cut > 0 and stem(refs[cut - 1]) == last:
            cut -= 1
        held = refs[cut:]
        if cut:
            yield pair(refs[:cut])
    if held:
        yield pair(held)


def _unseen_by_page(
    settings: Settings, client: Any, engine: sa.Engine
) -> Iterator[tuple[int, list[_Unit]]]:
    """Per listing page: how many images it listed, and those the ledger has not seen."""
    s3 = settings.s3
    pages = _pages(client, s3.drops_bucket, s3.drops_prefix)
    for units in _units(pages, settings.ingest.sidecar_suffix):
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(camera_objects.c.key, camera_objects.c.etag).where(
                    camera_objects.c.bucket == s3.drops_bucket,
                    camera_objects.c.key.in_([u.image.key for u in units]),
                )
            )
            known = {(r.key, r.etag) for r in rows}
        yield len(units), [u for u in units if (u.image.key, u.image.etag) not in known]


@dataclass(frozen=True)
class _Context:
    settings: Settings
    client: Any
    bucket: str
    run_id: str
    as_of: datetime
    key_pattern: re.Pattern[str]
    cameras: frozenset[str] | None


def _examine(ctx: _Context, unit: _Unit) -> dict[str, Any] | None:
    """Fetch one object (and sidecar) and turn it into a ledger row; None if it vanished."""
    try:
        response = ctx.client.get_object(Bucket=ctx.bucket, Key=unit.image.key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None  # deleted between listing and fetching: nothing left to register
        raise
    data: bytes = response["Body"].read()
    etag = _strip_etag(response.get("ETag", unit.image.etag))
    row: dict[str, Any] = {
        "image_id": image_id_for(ctx.bucket, unit.image.key, etag),
        "bucket": ctx.bucket,
        "key": unit.image.key,
        "etag": etag,
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "sidecar_key": unit.sidecar.key if unit.sidecar else None,
        "run_id": ctx.run_id,
        "registered_at": ctx.as_of,
    }
    ingest = ctx.settings.ingest
    try:
        key_facts = parse_key(unit.image.key, ctx.key_pattern, ingest.key_time_format)
        row["camera_id"] = key_facts.camera_id
        facts = inspect_image(data, ingest)
        row.update(image_format=facts.image_format, width=facts.width, height=facts.height)
        sidecar = None
        if unit.sidecar is not None:
            body = ctx.client.get_object(Bucket=ctx.bucket, Key=unit.sidecar.key)["Body"].read()
            sidecar = parse_sidecar(body)
            row.update(
                latitude=sidecar.latitude,
                longitude=sidecar.longitude,
                heading=sidecar.heading,
                lane=sidecar.lane,
            )
        if ctx.cameras is not None and key_facts.camera_id not in ctx.cameras:
            raise Quarantined(
                QuarantineReason.UNKNOWN_CAMERA,
                f"camera {key_facts.camera_id!r} is not in {ingest.camera_registry}",
            )
        captured_at, source = resolve_capture(
            key_facts, sidecar, facts.exif_captured_at, ingest, ctx.as_of
        )
    except Quarantined as q:
        row.update(status="quarantined", reason=q.reason.value, detail=q.detail)
        _keep_copy(ctx, row)
        return row
    row.update(
        status="ingested",
        captured_at=captured_at,
        capture_time_source=source,
        capture_date=captured_at.date(),
    )
    return row


def _keep_copy(ctx: _Context, row: dict[str, Any]) -> None:
    """Copy a refused object into the lake's quarantine area, so it outlives the drop bucket."""
    ctx.client.copy_object(
        Bucket=ctx.settings.s3.lake_bucket,
        Key=f"quarantine/{row['reason']}/{ctx.bucket}/{row['key']}",
        CopySource={"Bucket": ctx.bucket, "Key": row["key"]},
        MetadataDirective="REPLACE",
        Metadata={"reason": row["reason"], "run-id": ctx.run_id, "sha256": row["sha256"]},
    )


def _commit(
    engine: sa.Engine, rows: list[dict[str, Any]], report: IngestReport, as_of: datetime
) -> None:
    """Record one batch atomically: ledger rows, partition marks and run counters."""
    if not rows:
        return
    columns = {c.name for c in camera_objects.columns}
    full: list[dict[str, Any]] = [{c: r.get(c) for c in columns} for r in rows]
    with engine.begin() as conn:
        new_ids = set(insert_new(conn, camera_objects, full))
        new = [r for r in full if r["image_id"] in new_ids]
        ingested = [r for r in new if r["status"] == "ingested"]
        dates: set[date] = {r["capture_date"] for r in ingested}
        mark_partitions(conn, IMAGES.name, dates, as_of)
        added_bytes = sum(int(r["size_bytes"]) for r in ingested)
        conn.execute(
            ingest_runs.update()
            .where(ingest_runs.c.run_id == report.run_id)
            .values(
                ingested=ingest_runs.c.ingested + len(ingested),
                quarantined=ingest_runs.c.quarantined + (len(new) - len(ingested)),
                bytes=ingest_runs.c.bytes + added_bytes,
            )
        )
    report.ingested += len(ingested)
    report.quarantined += len(new) - len(ingested)
    report.bytes += added_bytes
    report.capture_dates |= dates
    for r in new:
        if r["reason"]:
            report.by_reason[r["reason"]] = report.by_reason.get(r["reason"], 0) + 1


def _read_ahead(items: Iterator[_T], depth: int) -> Iterator[_T]:
    """Iterate ``items`` in a background thread, at most ``depth`` ahead of the consumer."""
    queue: Queue[tuple[_T | None, BaseException | None]] = Queue(maxsize=depth)
    stop = Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                queue.put((item, None))
            queue.put((None, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises
            queue.put((None, exc))

    Thread(target=produce, name="ingest-list", daemon=True).start()
    try:
        while True:
            item, error = queue.get()
            if error is not None:
                raise error
            if item is None:
                return
            yield item
    finally:
        stop.set()
        while not queue.empty():  # unblock the producer so it can see the stop flag
            queue.get_nowait()


def _chunks(pages: Iterator[list[_Unit]], size: int) -> Iterator[list[_Unit]]:
    """The units of ``pages`` in lists of at most ``size``."""
    for page in pages:
        for offset in range(0, len(page), size):
            yield page[offset : offset + size]


def _examine_all(ctx: _Context, units: list[_Unit]) -> list[dict[str, Any]]:
    rows = (_examine(ctx, unit) for unit in units)
    return [row for row in rows if row is not None]


def register_drops(
    settings: Settings,
    run_id: str,
    as_of: datetime,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Register every object in the drops bucket that the ledger has not seen yet.

    ``as_of`` is the reference time for plausibility checks (the run's logical time).
    ``progress`` is called with the number of objects handled since its last call.
    """
    s3 = settings.s3
    ingest = settings.ingest
    url = settings.catalog_url
    upgrade_catalog(url)
    engine = engine_for(url)
    client = s3_client(s3)
    ensure_bucket(s3, s3.lake_bucket)
    ctx = _Context(
        settings=settings,
        client=client,
        bucket=s3.drops_bucket,
        run_id=run_id,
        as_of=as_of,
        key_pattern=re.compile(ingest.key_pattern),
        cameras=load_camera_registry(ingest.camera_registry),
    )
    report = IngestReport(run_id=run_id)
    with engine.begin() as conn:  # a retried task keeps its run id: start it over, don't fail
        run = {"run_id": run_id, "started_at": as_of, "status": "running"}
        insert_new(
            conn, ingest_runs, [{**run, "bucket": s3.drops_bucket, "prefix": s3.drops_prefix}]
        )
        conn.execute(ingest_runs.update().where(ingest_runs.c.run_id == run_id).values(**run))

    def new_pages() -> Iterator[list[_Unit]]:
        for listed, fresh in _unseen_by_page(settings, client, engine):
            report.listed += listed
            report.already_seen += listed - len(fresh)
            if progress and listed > len(fresh):
                progress(listed - len(fresh))
            yield fresh

    status = "failed"
    try:
        batch: list[dict[str, Any]] = []
        in_flight: deque[tuple[int, Future[list[dict[str, Any]]]]] = deque()
        committing: Future[None] | None = None
        # Listing, fetching and committing overlap: the listing runs a page ahead in its own
        # thread and one batch commits in the background while the next is fetched. Commits stay
        # serial. Each task fetches a few objects in turn: a future per object spent measurable
        # interpreter time, which the GETs themselves are short of.
        with (
            ThreadPoolExecutor(ingest.workers, thread_name_prefix="ingest") as pool,
            ThreadPoolExecutor(1, thread_name_prefix="ingest-commit") as committer,
        ):

            def flush() -> None:
                nonlocal committing
                if committing is not None:
                    committing.result()
                committing = committer.submit(_commit, engine, list(batch), report, as_of)
                batch.clear()

            def drain(limit: int) -> None:
                while len(in_flight) > limit:
                    handled, task = in_flight.popleft()
                    batch.extend(task.result())
                    if progress:
                        progress(handled)
                    if len(batch) >= ingest.batch_size:
                        flush()

            for units in _chunks(_read_ahead(new_pages(), depth=2), _TASK_OBJECTS):
                in_flight.append((len(units), pool.submit(_examine_all, ctx, units)))
                drain(ingest.workers * 2)  # bounded read-ahead keeps memory flat
            drain(0)
            flush()
            if committing is not None:
                committing.result()
        status = "succeeded"
    finally:
        with engine.begin() as conn:
            conn.execute(
                ingest_runs.update()
                .where(ingest_runs.c.run_id == run_id)
                .values(status=status, finished_at=sa.func.now(), listed=report.listed)
            )
    return report


def first_unregistered(settings: Settings) -> str | None:
    """The key of the first image in the drops bucket that the ledger has not seen, if any.

    Cheap enough for a sensor: it lists and compares, and fetches nothing.
    """
    s3 = settings.s3
    upgrade_catalog(settings.catalog_url)
    engine = engine_for(settings.catalog_url)
    for _, fresh in _unseen_by_page(settings, s3_client(s3), engine):
        if fresh:
            return fresh[0].image.key
    return None
