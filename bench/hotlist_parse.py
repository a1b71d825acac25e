"""Hotlist parsing (and, optionally, import) speed and memory on generated NCIC files.

Generates N NCIC records (13 list codes, plates of two letters and five digits, two states),
then parses them with ``pipelines.hotlists.parse_ncic`` in a child process of its own, whose
peak memory (``VmHWM``) is reported beside the wall time (best of ``--repeats``). With
``--pg-url`` (an admin URL of a PostgreSQL server) it also imports the file into a scratch
catalog database as version 1, then a second file with 1% of the entries replaced as version 2.

    python bench/hotlist_parse.py --lines 1000000 --repeats 3 --out docs/benchmarks.md
    python bench/hotlist_parse.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import write_section

HEADING = "## Hotlist parsing"
CODES = "AFWVPMCHKLRTX"


def ncic_file(lines: int, offset: int = 0) -> bytes:
    """A header and ``lines`` NCIC records, built column-wise (no Python loop per record)."""
    i = np.arange(offset, offset + lines)
    letters = np.array([chr(65 + k) for k in range(26)])
    frame = pl.DataFrame(
        {
            "i": i,
            "code": np.array(list(CODES))[i % 13],
            "a": letters[(i // 100_000) % 26],
            "b": letters[(i // 2_600_000) % 26],
        }
    )
    records = frame.select(
        pl.concat_str(
            pl.col("code"),
            pl.lit("123456789CO0570200"),
            pl.lit("2025"),
            (pl.col("i") % 12 + 1).cast(pl.String).str.zfill(2),
            (pl.col("i") % 28 + 1).cast(pl.String).str.zfill(2),
            pl.concat_str(
                pl.col("a"), pl.col("b"), (pl.col("i") % 100_000).cast(pl.String).str.zfill(5)
            ).str.pad_end(10),
            pl.when(pl.col("i") % 3 == 0).then(pl.lit("WY")).otherwise(pl.lit("CO")),
            pl.lit("2024PC2019FORDFOC4DBLK"),
        )
    ).to_series()
    return ("NCIC VEHICLE HOT FILE\n" + "\n".join(records.to_list()) + "\n").encode()


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status: peak memory is measured on Linux only")


def child(path: Path) -> None:
    """Parse ``path`` once in this fresh process; print seconds, entries and peak MiB."""
    from pipelines.config import HotlistSettings
    from pipelines.hotlists import parse_ncic

    data = path.read_bytes()
    before = _peak_mib()
    start = time.perf_counter()
    result = parse_ncic(data, list_name="ncic", settings=HotlistSettings())
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "entries": result.entries.height,
                      "problems": len(result.problems), "file_mib": before, "peak_mib": _peak_mib()}))  # fmt: skip


def parse_runs(path: Path, repeats: int) -> list[dict[str, float]]:
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout))
    return runs


def import_runs(pg_url: str, lines: int, first: bytes) -> dict[str, float]:
    """Import ``first`` then a file with 1% of the entries replaced, into a scratch database."""
    import sqlalchemy as sa

    from pipelines.config import load_settings
    from pipelines.hotlists.refresh import ListSpec, import_file
    from pipelines.storage.catalog import engine_for, upgrade_catalog

    name = f"alpr_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_catalog(url)
        settings = load_settings(env={}).replace(catalog={"url": url})
        spec = ListSpec("ncic", "ncic")
        now = datetime(2026, 3, 1, 6, tzinfo=UTC)
        start = time.perf_counter()
        import_file(settings, first, spec, source="day1.txt", now=now)
        v1 = time.perf_counter() - start
        churn = lines // 100
        second = b"\n".join(
            [
                *first.rstrip(b"\n").split(b"\n")[: lines + 1 - churn],
                *ncic_file(churn, 10_000_000).split(b"\n")[1:],
            ]
        )
        start = time.perf_counter()
        result = import_file(settings, second, spec, source="day2.txt", now=now + timedelta(days=1))
        v2 = time.perf_counter() - start
        return {
            "v1_seconds": v1,
            "v2_seconds": v2,
            "added": result.added,
            "removed": result.removed,
        }
    finally:
        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pg-url", help="admin URL of a PostgreSQL server: also time the import")
    parser.add_argument("--out", type=Path, help="write the figures into this markdown file")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    load_before = os.getloadavg()[0]
    data = ncic_file(args.lines)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"ncic-bench-{os.getpid()}.txt"
    path.write_bytes(data)
    try:
        runs = parse_runs(path, args.repeats)
    finally:
        path.unlink()
    best = min(runs, key=lambda r: r["seconds"])
    assert best["problems"] == 0 and best["entries"] == args.lines, best
    imported = import_runs(args.pg_url, args.lines, data) if args.pg_url else None
    report = {"lines": args.lines, "runs": runs, "import": imported}
    print(json.dumps(report, indent=2))
    if args.out:
        each = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        rows = [
            f"| parse {args.lines:,} NCIC lines (best of {args.repeats}) | **{best['seconds']:.2f} s** |",
            f"| each run | {each} s |",
            f"| peak memory of the parsing process | {best['peak_mib']:,.0f} MiB "
            f"(of which the file's bytes and the interpreter {best['file_mib']:,.0f} MiB) |",
        ]
        if imported:
            rows += [
                f"| import as version 1 into PostgreSQL (parse, COPY, identities, audit) | {imported['v1_seconds']:.1f} s |",
                f"| import version 2, 1% of entries replaced (diff: +{imported['added']:,} -{imported['removed']:,}) | {imported['v2_seconds']:.1f} s |",
            ]
        text = (
            f"{HEADING}\n\n`python bench/hotlist_parse.py --lines {args.lines} --repeats {args.repeats}"
            f"{' --pg-url ...' if imported else ''}` on {os.cpu_count()} cores, {date.today()}; "
            f"{len(data) / 2**20:,.0f} MiB file, target under 5 s. Load average (1 min) "
            f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after the runs: other "
            "work on the machine slows these figures by that much.\n\n"
            "| measure | value |\n|---|---:|\n" + "\n".join(rows) + "\n"
        )
        write_section(args.out, HEADING, text)


if __name__ == "__main__":
    main()
