"""Search of a year of reads: time of ``search_reads`` (the audited API, reason gate and audit
entry included) by plate, by camera and time window, over Delta tables in SeaweedFS.

A year of synthetic reads (``--reads`` over ``--days`` capture dates, ``--cameras`` cameras;
random 7-character plates, most read once in the year, and one target plate read
``--target-reads`` times, by default once a day, a third of them as a look-alike misreading;
ids random hashes as in production) is written once, one file per capture date and one Delta
commit per date (``--commit-days``) as the daily partition writes leave them, with an
``images`` row for each read. The catalog is a SQLite file (the audit entry of each search is
written there). Each query runs ``--repeat`` times in this process; the first run also loads
the Delta log. ``--keep DIR`` keeps the seeded store for another run.

The plate index (``pipelines/search/index.py``) is built once over the seeded year (a write a
month, as a backfill would) and each plate search is timed twice in the same run: with the
index, and with it set aside (the scan of ``reads`` that the index replaces); both must return
the same reads. The CLI is timed end to end and by part (imports; start-up and login without a
search), to show where the process start goes.

    python bench/search_throughput.py --reads 10000000 --out docs/benchmarks.md
    python bench/search_throughput.py --reads 100000 --days 30      # a quick run
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa
from deltalake import write_deltalake

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import write_section
from pipelines.audit.tables import users
from pipelines.audit.users import Role, add_user, get_user
from pipelines.config import Settings, load_settings
from pipelines.search import SearchRequest, plate_expr, search_reads
from pipelines.search import reads as search_reads_module
from pipelines.search.index import index_days
from pipelines.storage.catalog import engine_for, upgrade_catalog
from pipelines.storage.lake import IMAGES, PARTITION_COLUMN, READS, LakeTable
from pipelines.storage.objects import delta_storage_options, ensure_bucket
from pipelines.storage.seaweed import SeaweedServer, free_port_block
from pipelines.storage.tables import arrow_schema, conform, scan_table

HEADING = "## Search"
ALPHABET = np.frombuffer(b"0123456789ABCDEFGHJKLMNPRSTUVWXYZ", dtype="S1")
TARGET = "B0S1Z3K"  # its look-alike misreading: 8OS123K
MISREAD = "8OS123K"
LAST_DAY = date(2026, 3, 10)
REASON = {
    "reason_category": "stolen_vehicle",
    "reason": "vehicle reported stolen on 2026-03-09, benchmark of the search path",
}
BENCH_PASSWORD = "bench-password"
BASE = SearchRequest(reason_category=REASON["reason_category"], reason=REASON["reason"])
FAST_AUTH = {"argon2_memory_kib": 1024, "argon2_time_cost": 1, "argon2_parallelism": 1}


def _chunk(rng: np.random.Generator, days: list[date], per_day: int, cameras: int) -> pl.DataFrame:
    n = per_day * len(days)
    plates = pl.Series(rng.choice(ALPHABET, size=(n, 7)).view("S7").ravel()).cast(pl.String)
    frame = pl.DataFrame(
        {
            PARTITION_COLUMN: pl.Series(np.repeat(np.array(days, dtype="datetime64[D]"), per_day)),
            "plate_text": plates,
            "ms": rng.integers(0, 86_400_000, n),
            "camera": rng.integers(0, cameras, n),
        }
    ).with_columns(pl.col(PARTITION_COLUMN).cast(pl.Date))
    day_text = pl.col(PARTITION_COLUMN).dt.to_string("%Y%m%d")
    return frame.with_row_index("i").select(
        PARTITION_COLUMN,
        "plate_text",
        # ids are hashes in production (sha1 of the source object, of image and detector): a
        # file's min and max span the whole range, so Delta's statistics never skip one by id
        read_id=_hash_id("r", day_text),
        image_id=_hash_id("i", day_text),
        detection_id=_hash_id("r", day_text),
        camera_id=pl.format("cam-{}", pl.col("camera").cast(pl.String).str.zfill(2)),
        captured_at=pl.col(PARTITION_COLUMN).cast(pl.Datetime("us", "UTC"))
        + pl.duration(milliseconds="ms"),
    )


def _hash_id(kind: str, day_text: pl.Expr) -> pl.Expr:
    """A 40-character id that looks random (and is unique): two 64-bit hashes in hex."""
    key = pl.concat_str(pl.lit(kind), day_text, pl.col("i").cast(pl.String))
    return pl.concat_str(
        *(key.hash(seed).cast(pl.String).str.zfill(20) for seed in (1, 2))
    ).str.slice(0, 40)


def _plant(frame: pl.DataFrame, rng: np.random.Generator, count: int) -> pl.DataFrame:
    """``count`` random rows of the chunk read as the target plate, a third of them misread."""
    rows = rng.choice(frame.height, size=min(count, frame.height), replace=False)
    texts = [MISREAD if k % 3 == 2 else TARGET for k in range(len(rows))]
    planted = pl.Series(frame.height * [None], dtype=pl.String).scatter(rows, texts)
    return frame.with_columns(plate_text=pl.coalesce(planted, "plate_text"))


def _reads(base: pl.DataFrame) -> pl.DataFrame:
    return conform(
        base.with_columns(
            confidence=pl.lit(0.9),
            char_confidences=pl.lit(None, pl.List(pl.Float32)),
            candidates=pl.lit(None, READS.schema["candidates"]),
            jurisdiction=pl.lit("co"),
            detector_sha256=pl.lit("d" * 64),
            ocr_model=pl.lit("ppocr"),
            run_id=pl.lit("bench"),
        ),
        READS.schema,
    )


def _images(base: pl.DataFrame, bucket: str) -> pl.DataFrame:
    frame = base.with_columns(
        bucket=pl.lit(bucket),
        key=pl.format("{}/{}.jpg", "camera_id", "image_id"),
        etag=pl.col("image_id"),
        size_bytes=pl.lit(180_000),
        sha256=pl.lit("s" * 64),
        image_format=pl.lit("JPEG"),
        width=pl.lit(1920),
        height=pl.lit(1080),
        capture_time_source=pl.lit("sidecar"),
        latitude=pl.lit(39.7047),
        longitude=pl.lit(-105.0814),
        heading=pl.lit(270.0),
        lane=pl.lit(1),
        sidecar_key=pl.lit(None, pl.String),
        run_id=pl.lit("bench"),
        registered_at=pl.col("captured_at"),
    )
    return conform(frame, IMAGES.schema)


def _append(settings: Settings, table: LakeTable, frame: pl.DataFrame) -> None:
    write_deltalake(
        table.uri(settings.s3),
        frame.to_arrow().cast(arrow_schema(table.schema)),
        mode="append",
        partition_by=[PARTITION_COLUMN],
        storage_options=delta_storage_options(settings.s3),
    )


def _seed(settings: Settings, args: argparse.Namespace) -> float:
    rng = np.random.default_rng(20260310)
    days = [LAST_DAY - timedelta(days=d) for d in range(args.days - 1, -1, -1)]
    per_day = args.reads // args.days
    chunks = range(0, len(days), args.commit_days)
    per_chunk = max(1, args.target_reads // len(chunks))
    started = time.perf_counter()
    for start in chunks:
        base = _plant(
            _chunk(rng, days[start : start + args.commit_days], per_day, args.cameras),
            rng,
            per_chunk,
        )
        _append(settings, READS, _reads(base))
        _append(settings, IMAGES, _images(base, settings.s3.drops_bucket))
        if start % 30 == 0:
            print(f"seeded {days[start]}", file=sys.stderr, flush=True)
    return time.perf_counter() - started


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


@contextlib.contextmanager
def _without_index() -> Iterator[None]:
    """Searches as before the index: ``find_reads`` finds no index and scans ``reads``."""
    lookup = search_reads_module.lookup
    search_reads_module.lookup = lambda *args, **kwargs: None
    try:
        yield
    finally:
        search_reads_module.lookup = lookup


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--reads", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--cameras", type=int, default=50)
    parser.add_argument("--target-reads", type=int, default=365)
    parser.add_argument(
        "--commit-days",
        type=int,
        default=1,
        help="capture dates per Delta commit while seeding (1: a commit a day, as in production)",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, help="write the figures into this markdown file")
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the seeded store in this folder, and reuse it if it was seeded with the same "
        "arguments (measure again without seeding again)",
    )
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="alpr-bench-search-"))
    seeded_as = json.dumps(
        [args.reads, args.days, args.cameras, args.target_reads, args.commit_days]
    )
    marker = work / "seeded.json"
    port = free_port_block()
    base = load_settings(env={})
    s3 = base.s3.__class__(endpoint_url=f"http://127.0.0.1:{port}", secret_access_key="bench")
    server = SeaweedServer(s3, work / "seaweed", max_volumes=50)
    server.start()
    try:
        settings = base.replace(
            data_dir=work / "var",
            s3={"endpoint_url": s3.endpoint_url, "secret_access_key": "bench"},
            catalog={"url": f"sqlite:///{work / 'catalog.sqlite3'}"},
            auth=FAST_AUTH,
        )
        ensure_bucket(settings.s3, settings.s3.lake_bucket)
        if marker.exists() and marker.read_text() == seeded_as:
            seed_seconds = float("nan")  # seeded by an earlier run
        else:
            seed_seconds = _seed(settings, args)
            marker.write_text(seeded_as)
        index_marker = work / "indexed.json"
        if index_marker.exists() and index_marker.read_text() == seeded_as:
            index_seconds = float("nan")
        else:
            started = time.perf_counter()
            index_days(settings, [LAST_DAY - timedelta(days=d) for d in range(args.days)])
            index_seconds = time.perf_counter() - started
            index_marker.write_text(seeded_as)
            print(f"indexed in {index_seconds:.0f} s", file=sys.stderr, flush=True)
        upgrade_catalog(settings.catalog_url)
        now = datetime(2026, 3, 11, 12, tzinfo=UTC)
        with engine_for(settings.catalog_url).begin() as conn:
            if conn.execute(sa.select(users.c.name).where(users.c.name == "bench")).first():
                agent = get_user(conn, "bench")
            else:
                agent = add_user(
                    conn,
                    "bench",
                    Role.AGENT,
                    BENCH_PASSWORD,
                    actor="bench",
                    now=now,
                    auth=settings.auth,
                )
        files = len(scan_table(settings, READS).select(PARTITION_COLUMN).unique().collect())
        last = datetime.combine(LAST_DAY, datetime.min.time(), tzinfo=UTC)
        middle = LAST_DAY - timedelta(days=args.days // 2)
        rare = (  # a plate read once in the year, as most are
            scan_table(settings, READS)
            .filter(pl.col(PARTITION_COLUMN) == middle)
            .select("plate_text")
            .head(1)
            .collect()
            .item()
        )
        queries: list[tuple[str, SearchRequest]] = [
            (f"plate read once, all {args.days} dates", replace(BASE, plate=rare)),
            (f"plate read daily, all {args.days} dates", replace(BASE, plate=TARGET)),
            (
                "plate read daily, last 30 days",
                replace(
                    BASE,
                    plate=TARGET,
                    start=last - timedelta(days=29),
                    end=last + timedelta(days=1),
                ),
            ),
            (
                f"partial plate B0S1*, all {args.days} dates",
                replace(BASE, plate="B0S1*"),
            ),
            (
                "camera, 1 hour",
                replace(
                    BASE,
                    cameras=("cam-07",),
                    start=last + timedelta(hours=14),
                    end=last + timedelta(hours=15),
                ),
            ),
            (
                "camera, 1 day",
                replace(BASE, cameras=("cam-07",), start=last, end=last + timedelta(days=1)),
            ),
            (
                "camera, 7 days",
                replace(
                    BASE,
                    cameras=("cam-07",),
                    start=last - timedelta(days=6),
                    end=last + timedelta(days=1),
                ),
            ),
        ]
        rows = []
        load = os.getloadavg()[0]
        for name, request in queries:
            search = functools.partial(search_reads, settings, agent, request, now=now)
            scan: list[float] = []
            if request.plate:
                with _without_index():
                    scan, scanned = _timed(search, args.repeat)
            cpu = _cpu()
            times, result = _timed(search, args.repeat)
            cpu = (_cpu() - cpu) / args.repeat
            if request.plate and not (
                result.total == scanned.total and result.rows.equals(scanned.rows)
            ):
                raise SystemExit(f"{name}: the index found other reads than the scan")
            rows.append(
                (
                    name,
                    result.total,
                    result.rows.height,
                    min(scan) if scan else None,
                    times[0],
                    min(times),
                    sorted(times)[len(times) // 2],
                    cpu,
                )
            )
            print(rows[-1], file=sys.stderr, flush=True)
        # the same plate in one pass over every column: what the two passes save
        one_pass, _ = _timed(
            lambda: scan_table(settings, READS).filter(plate_expr(TARGET)).collect(), args.repeat
        )
        # the CLI end to end: a process of its own (imports, login, search, audit entry)
        env = {**os.environ, **settings.as_env(), "ALPR_PASSWORD": BENCH_PASSWORD}
        cli_times, _ = _timed(
            lambda: subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "cli.main",
                    "search",
                    "--user",
                    "bench",
                    "--reason-category",
                    REASON["reason_category"],
                    "--reason",
                    REASON["reason"],
                    "--plate",
                    TARGET,
                ],
                env=env,
                check=True,
                capture_output=True,
                cwd=Path(__file__).resolve().parents[1],
            ),
            3,
        )
        imports, _ = _timed(
            lambda: subprocess.run(
                [sys.executable, "-c", "import cli.main"],
                check=True,
                capture_output=True,
                cwd=Path(__file__).resolve().parents[1],
            ),
            3,
        )
        login, _ = _timed(  # start-up, schema check and login; the criteria refused, no search
            lambda: subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "cli.main",
                    "search",
                    "--user",
                    "bench",
                    "--reason-category",
                    REASON["reason_category"],
                    "--reason",
                    REASON["reason"],
                ],
                env=env,
                capture_output=True,
                cwd=Path(__file__).resolve().parents[1],
            ),
            3,
        )
        load_after = os.getloadavg()[0]
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = _report(
        args,
        rows,
        one_pass,
        {"cli": cli_times, "imports": imports, "login": login},
        (seed_seconds, index_seconds),
        files,
        load,
        load_after,
    )
    print(text)
    if args.out:
        write_section(args.out, HEADING, text)


def _report(
    args: argparse.Namespace,
    rows: list[tuple[Any, ...]],
    one_pass: list[float],
    cli: dict[str, list[float]],
    built: tuple[float, float],
    files: int,
    load: float,
    load_after: float,
) -> str:
    seed, indexed = built
    command = f"python bench/search_throughput.py --reads {args.reads} --days {args.days} --cameras {args.cameras} --repeat {args.repeat}"
    lines = [
        HEADING,
        "",
        f"`{command}` on {os.cpu_count()} cores, {date.today():%Y-%m-%d}; polars {pl.__version__}. "
        f"{args.reads:,} synthetic reads over {args.days} capture dates ({files} partitions, one "
        f"file each, {-(-args.days // args.commit_days)} Delta commits per table) and "
        f"{args.cameras} cameras, with their images rows, in SeaweedFS on the same "
        f"machine{'' if seed != seed else f' (seeded in {seed:.0f} s)'}; SQLite catalog. "
        f"The plate index built over the year{'' if indexed != indexed else f' in {indexed:.0f} s'} "
        "(a write a month). Each search is `search_reads`, the audited API: the user re-read "
        "from the catalog, the reason gate, the search, the audit entry. Scan: the same search "
        "with the index set aside (the two passes over `reads` and the images join, as before "
        "the index), best of the runs; index: the first run, then the best and median of "
        f"{args.repeat}. Both return the same reads (checked by the script). Load average "
        f"(1 min) {load:.1f} before and {load_after:.1f} after.",
        "",
        "| search | reads found | returned | scan best s | index first s | index best s | index median s | scan / index | CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, total, returned, scan, first, best, median, cpu in rows:
        scanned = f"{scan:.2f}" if scan is not None else "(no plate)"
        ratio = f"{scan / best:.1f}x" if scan is not None else ""
        lines.append(
            f"| {name} | {total:,} | {returned:,} | {scanned} | {first:.2f} | {best:.2f} | {median:.2f} | {ratio} | {cpu:.2f} |"
        )
    lines += [
        "",
        f"For comparison, the whole-year plate search as one pass over every column: best "
        f"{min(one_pass):.2f} s, median {sorted(one_pass)[len(one_pass) // 2]:.2f} s. "
        f"`alpr search --plate` end to end (a new process: imports, login, search, audit entry): "
        f"best {min(cli['cli']):.2f} s of 3; of which `import cli.main` alone best "
        f"{min(cli['imports']):.2f} s, and the same command without criteria (start-up, schema "
        f"check, login, refusal, its audit entry) best {min(cli['login']):.2f} s.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
