"""Ingestion throughput and memory, against a SeaweedFS started here.

Measures, in one run on the same drop:
- the raw boto3 GET rate (same thread count as ingestion, bodies read and discarded);
- ingestion's first pass (GET, sha256, image checks, ledger commits, images partitions);
- a re-run over the already-ingested drop;
- peak RSS of an ingest process for a small and a large drop (memory must not grow with the drop).

    python bench/ingest_throughput.py --objects 20000 --repeats 3 --memory-objects 10000,100000 \
        --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench._report import write_section
from pipelines.config import Settings, load_settings
from pipelines.ingest import ingest_drops
from pipelines.ingest.sample import capture_key
from pipelines.storage.objects import ensure_bucket, s3_client
from pipelines.storage.seaweed import SeaweedServer

DAY = date.today() - timedelta(days=1)


def _jpeg_of_about(size_bytes: int, seed: int) -> bytes:
    """A camera-like JPEG of roughly ``size_bytes`` (smooth noise compresses like a photo)."""
    rng = np.random.default_rng(seed)
    side = 320
    while True:
        small = rng.integers(0, 255, (side // 8, side // 8 * 16 // 9, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((side * 16 // 9, side), Image.Resampling.BILINEAR)
        noise = rng.integers(-12, 12, (side, side * 16 // 9, 3))
        arr = np.clip(np.asarray(img, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=80)
        if buf.tell() >= size_bytes * 0.9:
            return buf.getvalue()
        side += 64


def _seed(settings: Settings, n: int, bucket: str, workers: int) -> list[str]:
    client = s3_client(settings.s3)
    ensure_bucket(settings.s3, bucket)
    bodies = [_jpeg_of_about(50_000, seed) for seed in range(8)]
    start = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
    keys = [
        capture_key(f"cam-{i % 12:02d}", start + timedelta(seconds=i * 86400 // max(n, 1)), i)
        for i in range(n)
    ]
    with ThreadPoolExecutor(workers) as pool:
        list(
            pool.map(
                lambda ik: client.put_object(Bucket=bucket, Key=ik[1], Body=bodies[ik[0] % 8]),
                enumerate(keys),
            )
        )
    return keys


def _raw_get_rate(settings: Settings, keys: list[str], workers: int) -> float:
    client = s3_client(settings.s3)
    bucket = settings.s3.drops_bucket

    def get(key: str) -> int:
        return len(client.get_object(Bucket=bucket, Key=key)["Body"].read())

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        total = sum(pool.map(get, keys))
    assert total > 0
    return len(keys) / (time.perf_counter() - t0)


def _ingest(settings: Settings, run_id: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    report, _ = ingest_drops(settings, run_id, datetime.now(UTC))
    return time.perf_counter() - t0, report.ingested


def _free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port < 40000:
            return port


def _settings(base: Settings, work: Path, bucket: str) -> Settings:
    return base.replace(
        data_dir=work,
        s3={"drops_bucket": bucket, "lake_bucket": f"{bucket}-lake"},
        catalog={"url": f"sqlite:///{work / (bucket + '.sqlite3')}"},
    )


def _child_peak_rss(settings: Settings) -> tuple[float, float]:
    """Run one ingest in a fresh process; its wall time and peak RSS in MiB.

    The peak is the child's own ``VmHWM``. ``ru_maxrss`` would not do: Linux carries the
    spawning process's high-water mark across ``vfork``/``exec`` into it, so a child spawned after
    seeding a big drop reported this benchmark's own seeding memory as the ingest's.
    """
    env = {**os.environ, **settings.as_env()}
    code = (
        "import json, time\n"
        "from bench.ingest_throughput import _ingest, own_peak_mib\n"
        "from pipelines.config import load_settings\n"
        "t, n = _ingest(load_settings(), 'memory')\n"
        "print(json.dumps({'seconds': t, 'ingested': n, 'peak_mib': own_peak_mib()}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["seconds"], result["peak_mib"]


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
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument(
        "--repeats", type=int, default=3, help="fresh drops measured (raw GET, then first pass)"
    )
    parser.add_argument("--memory-objects", default="1000,10000")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    base = load_settings(env={})
    workers = base.ingest.workers
    with tempfile.TemporaryDirectory(prefix="alpr-bench-") as tmp:
        work = Path(tmp)
        s3 = base.s3.__class__(endpoint_url=f"http://127.0.0.1:{_free_port()}")
        base = base.replace(s3=s3)
        server = SeaweedServer(s3, work / "seaweed")
        server.start()
        try:
            passes = []  # (raw GET objects/s, first pass objects/s), one per fresh drop
            for repeat in range(args.repeats):
                settings = _settings(base, work, f"bench-drop-{repeat}")
                keys = _seed(settings, args.objects, settings.s3.drops_bucket, workers)
                raw = _raw_get_rate(settings, keys, workers)
                first_s, ingested = _ingest(settings, "first")
                assert ingested == len(keys), (ingested, len(keys))
                passes.append((raw, len(keys) / first_s))
            rerun_s, again = _ingest(settings, "rerun")
            assert again == 0
            memory = []
            for n in (int(x) for x in args.memory_objects.split(",")):
                mem_settings = _settings(base, work, f"bench-mem-{n}")
                _seed(mem_settings, n, mem_settings.s3.drops_bucket, workers)
                seconds, peak = _child_peak_rss(mem_settings)
                memory.append((n, seconds, peak))
        finally:
            server.stop()

    # The median pass by ratio: runs on a shared 2-core machine vary by a tenth or more.
    ranked = sorted(passes, key=lambda p: p[1] / p[0])
    raw, first_rate = ranked[len(ranked) // 2]
    rerun_rate = len(keys) / rerun_s
    each = ", ".join(f"{f / r:.2f}" for r, f in passes)
    lines = [
        "## Ingestion throughput",
        "",
        f"`python bench/ingest_throughput.py --objects {args.objects} --repeats {args.repeats} "
        f"--memory-objects {args.memory_objects}` on {os.cpu_count()} cores, "
        f"{datetime.now(UTC):%Y-%m-%d}; SeaweedFS on the same machine, ~50 KB JPEGs, {workers} "
        f"threads, SQLite catalog. Raw GET and first pass are measured on {args.repeats} fresh "
        f"drops in turn, through the same client; the median by ratio is shown (each: {each}).",
        "",
        "| measure | objects/s | ratio |",
        "|---|---:|---:|",
        f"| raw boto3 GET (read and discard) | {raw:,.0f} | 1.00 |",
        f"| ingest, first pass | {first_rate:,.0f} | {first_rate / raw:.2f} of raw GET |",
        f"| ingest, re-run over the ingested drop | {rerun_rate:,.0f} | "
        f"{rerun_rate / passes[-1][1]:.1f}x faster than that drop's first pass |",
        "",
        "| drop size (objects) | ingest seconds | peak RSS (MiB) |",
        "|---:|---:|---:|",
        *[f"| {n:,} | {s:,.1f} | {p:,.0f} |" for n, s, p in memory],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        write_section(args.out, "## Ingestion throughput", text)


if __name__ == "__main__":
    main()
