"""Retention over a year of daily partitions: time and peak memory, and how cost scales.

A kept year (365 capture dates x ``--reads`` reads, with their detections, images rows and
ledger rows) is written once. Then, over that same kept year, three passes delete 1, 30 and 180
expired days in turn: each scenario's expired days are appended just before its pass, so what is
kept never changes between the passes. A first pass with nothing expired measures the fixed cost
(candidate days, vacuum, checkpoint, store vacuum) and sets the tables' properties once.

Source images are small objects (1 KB, one version) only for the oldest expired day of each
scenario (``--objects`` of them): a year of 3.65 M objects does not fit a shared 2-core machine in
minutes, and every deleted day pays the same per-folder listing whether its objects exist or not.
No alerts are seeded. Each pass runs in a child process of its own that reports its wall time and
its own VmHWM (peak resident memory, /proc/self/status), as bench/ingest_throughput.py does.

    python bench/retention_run.py --reads 10000 --out docs/benchmarks.md

At that scale the whole script took about 14 minutes on 2 shared cores (load average 5), 8.5 of
them the 180-day pass; ``--reads 1000`` keeps it to a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import write_deltalake

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import write_section
from pipelines.config import Settings, load_settings
from pipelines.retention import expiry_bound
from pipelines.storage.catalog import upgrade_catalog
from pipelines.storage.lake import DETECTIONS, IMAGES, PARTITION_COLUMN, READS, LakeTable
from pipelines.storage.objects import delta_storage_options, ensure_bucket, s3_client
from pipelines.storage.seaweed import SeaweedServer
from pipelines.storage.tables import arrow_schema, conform

HEADING = "## Retention pass"
AS_OF = datetime(2026, 3, 11, 23, 59, tzinfo=UTC)  # the kept year ends on its date
CAMERAS = 10
CHUNK_DAYS = 30  # days written per Delta commit while seeding


def _free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port < 40000:
            return port


def _rows(days: list[date], n: int) -> pl.DataFrame:
    """The shared columns of ``n`` captures per day, spread over the day and ``CAMERAS``."""
    frame = pl.DataFrame({PARTITION_COLUMN: days}).with_columns(
        i=pl.int_ranges(0, n, dtype=pl.Int64)
    )
    frame = frame.explode("i")
    day_text = pl.col(PARTITION_COLUMN).dt.to_string("%Y-%m-%d")
    camera = pl.format("cam-{}", (pl.col("i") % CAMERAS).cast(pl.String).str.zfill(2))
    return frame.select(
        PARTITION_COLUMN,
        "i",
        camera_id=camera,
        image_id=pl.format("img-{}-{}", day_text, pl.col("i")),
        detection_id=pl.format("det-{}-{}", day_text, pl.col("i")),
        key=pl.format("{}/{}/{}.jpg", camera, day_text, pl.col("i")),
        captured_at=pl.col(PARTITION_COLUMN).cast(pl.Datetime("us", "UTC"))
        + pl.duration(milliseconds=pl.col("i") * (86_400_000 // n)),
    )


def _full(frame: pl.DataFrame, schema: pl.Schema, **values: Any) -> pl.DataFrame:
    """``frame`` with ``values`` added and every other column of ``schema`` null."""
    frame = frame.with_columns(**{k: pl.lit(v) for k, v in values.items()})
    missing = [pl.lit(None).alias(c) for c in schema if c not in frame.columns]
    return conform(frame.with_columns(missing), schema)


def _tables(base: pl.DataFrame, bucket: str) -> dict[LakeTable, pl.DataFrame]:
    plates = pl.format("P{}", ((pl.col("i") * 7919 + 13) % 9_999_991).cast(pl.String))
    images = _full(
        base.with_columns(bucket=pl.lit(bucket), etag=pl.col("image_id")),
        IMAGES.schema,
        size_bytes=1024,
        run_id="bench",
        registered_at=AS_OF,
    )
    detections = _full(
        base,
        DETECTIONS.schema,
        x1=10.0,
        y1=10.0,
        x2=90.0,
        y2=40.0,
        score=0.9,
        run_id="bench",
    )
    reads = _full(
        base.with_columns(read_id=pl.col("detection_id"), plate_text=plates),
        READS.schema,
        confidence=0.9,
        jurisdiction="co",
        run_id="bench",
    )
    return {IMAGES: images, DETECTIONS: detections, READS: reads}


def _seed(settings: Settings, days: list[date], n: int) -> None:
    """Append ``days`` to the three tables and the ledger, ``CHUNK_DAYS`` per commit."""
    catalog = settings.catalog_url.removeprefix("sqlite:///")
    for start in range(0, len(days), CHUNK_DAYS):
        base = _rows(days[start : start + CHUNK_DAYS], n)
        for table, frame in _tables(base, settings.s3.drops_bucket).items():
            write_deltalake(
                table.uri(settings.s3),
                frame.to_arrow().cast(arrow_schema(table.schema)),
                mode="append",
                partition_by=[PARTITION_COLUMN],
                storage_options=delta_storage_options(settings.s3),
            )
        ledger = base.select(
            "image_id",
            bucket=pl.lit(settings.s3.drops_bucket),
            key="key",
            etag="image_id",
            size_bytes=pl.lit(1024),
            status=pl.lit("ingested"),
            camera_id="camera_id",
            # SQLAlchemy's SQLite DateTime text (UTC, zone dropped), as the catalog stores it
            captured_at=pl.col("captured_at").dt.to_string("%Y-%m-%d %H:%M:%S.%6f"),
            capture_date=pl.col(PARTITION_COLUMN).dt.to_string("%Y-%m-%d"),
            run_id=pl.lit("bench"),
            registered_at=pl.lit(AS_OF.strftime("%Y-%m-%d %H:%M:%S.%f")),
        )
        with sqlite3.connect(catalog) as conn:
            conn.executemany(
                f"INSERT INTO camera_objects ({', '.join(ledger.columns)}) "
                f"VALUES ({', '.join('?' * len(ledger.columns))})",
                ledger.iter_rows(),
            )


def _upload(settings: Settings, day: date, n: int, count: int) -> int:
    """Small source objects for the first ``count`` captures of ``day``."""
    keys = _rows([day], n).get_column("key").head(count).to_list()
    client = s3_client(settings.s3)
    body = os.urandom(1024)
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda k: client.put_object(Bucket=settings.s3.drops_bucket, Key=k, Body=body),
                keys,
            )
        )
    return len(keys)


def _pass(settings: Settings) -> dict[str, Any]:
    """One retention pass at ``AS_OF`` in a fresh process: wall seconds, VmHWM, counts."""
    code = (
        "import json, time\n"
        "from datetime import datetime\n"
        "from bench.retention_run import own_peak_mib\n"
        "from pipelines.config import load_settings\n"
        "from pipelines.retention import run_retention\n"
        "t = time.perf_counter()\n"
        f"r = run_retention(load_settings(), as_of=datetime.fromisoformat({AS_OF.isoformat()!r}),"
        " dry_run=False, actor='service')\n"
        "t = time.perf_counter() - t\n"
        "c = {k: [v.deleted, v.objects, sum(v.rows.values())] for k, v in r.classes.items()}\n"
        "print(json.dumps({'seconds': t, 'peak_mib': own_peak_mib(), 'classes': c}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **settings.as_env()},
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def own_peak_mib() -> float:
    """This process's peak resident memory since its ``exec``, in MiB (Linux ``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status: peak memory is measured on Linux only")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--reads", type=int, default=10_000, help="reads (and images) per day")
    parser.add_argument("--kept-days", type=int, default=365)
    parser.add_argument("--expired", default="1,30,180", help="expired days of each pass")
    parser.add_argument("--objects", type=int, default=2000, help="objects of the sample day")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    scenarios = [int(x) for x in args.expired.split(",")]

    base = load_settings(env={})
    first_expired = expiry_bound(AS_OF, base.retention_days("images_days")).date() - timedelta(
        days=1
    )
    kept = [first_expired + timedelta(days=d) for d in range(1, args.kept_days + 1)]
    assert kept[-1] <= AS_OF.date(), "the kept year must end by the reference time"
    results: list[tuple[int, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="alpr-bench-") as tmp:
        work = Path(tmp)
        s3 = base.s3.__class__(endpoint_url=f"http://127.0.0.1:{_free_port()}")
        settings = base.replace(
            data_dir=work,
            s3=s3,
            catalog={"url": f"sqlite:///{work / 'catalog.sqlite3'}"},
        )
        server = SeaweedServer(s3, work / "seaweed")
        server.start()
        try:
            for bucket in (s3.drops_bucket, s3.lake_bucket):
                ensure_bucket(s3, bucket)
            upgrade_catalog(settings.catalog_url)
            started = time.perf_counter()
            _seed(settings, kept, args.reads)
            seed_seconds = time.perf_counter() - started
            results.append((0, _pass(settings)))  # fixed cost; sets the tables' properties
            oldest = first_expired
            for n_days in scenarios:
                days = [oldest - timedelta(days=d) for d in range(n_days)][::-1]
                oldest = days[0] - timedelta(days=1)
                _seed(settings, days, args.reads)
                uploaded = _upload(settings, days[0], args.reads, args.objects)
                result = _pass(settings)
                assert result["classes"]["images"][0] == n_days * args.reads, result
                assert result["classes"]["images"][1] == uploaded, result
                results.append((n_days, result))
        finally:
            server.stop()

    one = results[1][1]["seconds"]
    load = os.getloadavg()
    lines = [
        HEADING,
        "",
        f"`python bench/retention_run.py --reads {args.reads} --kept-days {args.kept_days} "
        f"--expired {args.expired} --objects {args.objects}` on {os.cpu_count()} cores, "
        f"{datetime.now(UTC):%Y-%m-%d}, load average {load[0]:.1f} at the end; SeaweedFS on the "
        f"same machine, SQLite catalog. Kept: {args.kept_days} days x {args.reads:,} reads, "
        f"detections, images rows and ledger rows ({args.kept_days * args.reads:,} each), "
        f"written in {seed_seconds:.0f} s. Each pass deletes its expired days (same rows per "
        f"day) from the three tables and the ledger, plus {args.objects:,} small source objects "
        "on one of its days; each is a child process (wall time, own VmHWM).",
        "",
        "| expired days | rows deleted (all tables) | objects | seconds | vs 1 day | peak RSS (MiB) |",
        "|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {n} | {sum(c[2] for c in r['classes'].values()):,} | "
            f"{r['classes']['images'][1]:,} | {r['seconds']:.1f} | "
            f"{r['seconds'] / one:.1f}x | {r['peak_mib']:,.0f} |"
            for n, r in results
        ],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        write_section(args.out, HEADING, text)


if __name__ == "__main__":
    main()
