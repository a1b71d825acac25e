"""Verification of the audit log over ``--entries`` entries in PostgreSQL: `verify_log` (one pass
of the database over every hash and link, then the chain heads in the evidence bucket) and
`alpr audit verify` end to end; for comparison, the entry-by-entry check in Python
(``verify_chain``) over the first ``--python-entries``.

The entries (search.reads entries of about 300 bytes, one a second) are chained by log.py's
rule: their canonical text is built with polars, each hash chained in a loop, the first thousand
checked against ``log._entry_hash``, and the rows copied in (COPY). ``--heads`` chain heads are
then written at even steps along the chain to an evidence bucket (one locked object each, a day
of retention) in a SeaweedFS of the benchmark's own.

    python bench/audit_verify.py --entries 10000000 --out docs/benchmarks.md
    python bench/audit_verify.py --entries 100000            # a quick run

PostgreSQL: ``$ALPR_BENCH_PG_URL`` (default the tests' server, postgresql+psycopg://postgres@
127.0.0.1:5432/test); a database of its own is created and dropped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import write_section
from pipelines.audit.heads import head_key
from pipelines.audit.log import GENESIS_HASH, _entry_hash, _first_break
from pipelines.audit.tables import audit_events
from pipelines.audit.verify import verify_log
from pipelines.config import Settings, load_settings
from pipelines.preservation.evidence import ensure_evidence_bucket, put_locked
from pipelines.storage.catalog import engine_for, upgrade_catalog
from pipelines.storage.seaweed import SeaweedServer, free_port_block

HEADING = "## Audit verification"
T0 = datetime(2025, 3, 11, tzinfo=UTC)
CHUNK = 500_000
COLUMNS = "event_id, occurred_at, actor, action, subject, outcome, details, prev_hash, entry_hash"


def _chunk(start: int, n: int) -> pl.DataFrame:
    """Entries ``start+1 .. start+n``: their columns and canonical text (log.py's), unhashed."""
    i = pl.int_range(start, start + n, eager=True, dtype=pl.Int64)
    frame = pl.DataFrame({"i": i}).select(
        event_id=pl.col("i") + 1,
        occurred_at=pl.lit(T0) + pl.duration(seconds=pl.col("i")),
        actor=pl.format("agent{}", (pl.col("i") % 40).cast(pl.String)),
        action=pl.lit("search.reads"),
        subject=pl.lit("reads"),
        outcome=pl.lit("ok"),
        details=pl.concat_str(
            pl.lit('{"case":"26-'),
            (pl.col("i") % 100_000).cast(pl.String).str.zfill(6),
            pl.lit('","criteria":{"cameras":[],"end":null,"plate":"'),
            (pl.col("i") * 7919 % 9_999_991).cast(pl.String).str.zfill(7),
            pl.lit('","start":null,"states":[]},"reason":"hit and run, white pickup seen '),
            pl.lit('eastbound","reason_category":"criminal_investigation","results":'),
            (pl.col("i") % 17).cast(pl.String),
            pl.lit(',"returned":'),
            (pl.col("i") % 17).cast(pl.String),
            pl.lit("}"),
        ),
    )
    iso = pl.col("occurred_at").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00")
    return frame.with_columns(
        canonical=pl.concat_str(
            pl.lit('{"action":"'),
            "action",
            pl.lit('","actor":"'),
            "actor",
            pl.lit('","details":'),
            "details",
            pl.lit(',"occurred_at":"'),
            iso,
            pl.lit('","outcome":"'),
            "outcome",
            pl.lit('","subject":"'),
            "subject",
            pl.lit('"}'),
        )
    )


def _chain(canonical: list[str], prev: str) -> tuple[list[str], list[str]]:
    """(prev_hash, entry_hash) of each entry, chained from ``prev``."""
    prevs, hashes = [], []
    for text in canonical:
        prevs.append(prev)
        prev = hashlib.sha256(f"{prev}\n{text}".encode()).hexdigest()
        hashes.append(prev)
    return prevs, hashes


def _seed(settings: Settings, entries: int) -> float:
    """Copy the chained entries in, ``CHUNK`` at a time. The unique constraints and indexes of
    ``audit_events`` are dropped for the copy and made again after it (the same schema in the
    end, built in one sort instead of 10 M random B-tree inserts)."""
    started = time.perf_counter()
    prev = GENESIS_HASH
    raw = engine_for(settings.catalog_url).raw_connection()
    try:
        cursor = raw.cursor()
        for statement in _DROP:
            cursor.execute(statement)
        for start in range(0, entries, CHUNK):
            frame = _chunk(start, min(CHUNK, entries - start))
            prevs, hashes = _chain(frame["canonical"].to_list(), prev)
            prev = hashes[-1]
            frame = frame.with_columns(prev_hash=pl.Series(prevs), entry_hash=pl.Series(hashes))
            if start == 0:
                _check_rule(frame.head(1000))
            data = frame.select(COLUMNS.split(", ")).write_csv(include_header=False)
            with cursor.copy(f"COPY audit_events ({COLUMNS}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(data)
            print(f"seeded {start + frame.height:,}", file=sys.stderr, flush=True)
        for statement in _CREATE:
            cursor.execute(statement)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('audit_events', 'event_id'), "
            "(SELECT max(event_id) FROM audit_events))"
        )
        cursor.execute("ANALYZE audit_events")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


_DROP = (
    "ALTER TABLE audit_events DROP CONSTRAINT uq_audit_events_prev_hash",
    "ALTER TABLE audit_events DROP CONSTRAINT uq_audit_events_entry_hash",
    "DROP INDEX ix_audit_events_subject",
    "DROP INDEX ix_audit_events_actor",
)
_CREATE = (
    "ALTER TABLE audit_events ADD CONSTRAINT uq_audit_events_prev_hash UNIQUE (prev_hash)",
    "ALTER TABLE audit_events ADD CONSTRAINT uq_audit_events_entry_hash UNIQUE (entry_hash)",
    "CREATE INDEX ix_audit_events_subject ON audit_events (subject)",
    "CREATE INDEX ix_audit_events_actor ON audit_events (actor, occurred_at)",
)


def _check_rule(frame: pl.DataFrame) -> None:
    for row in frame.iter_rows(named=True):
        expected = _entry_hash(
            row["prev_hash"],
            row["occurred_at"],
            row["actor"],
            row["action"],
            row["subject"],
            row["outcome"],
            row["details"],
        )
        assert expected == row["entry_hash"], "the benchmark's chain is not log.py's"


def _heads(settings: Settings, heads: int) -> float:
    """``heads`` chain heads at even steps along the chain, written as ``write_chain_head``
    writes them when the log reaches each step (COMPLIANCE-locked, one object each)."""
    started = time.perf_counter()
    ensure_evidence_bucket(settings)
    with engine_for(settings.catalog_url).connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar_one()
        step = max(1, total // max(1, heads))
        steps = conn.execute(
            sa.select(audit_events.c.event_id, audit_events.c.entry_hash).where(
                audit_events.c.event_id.in_(range(step, total + 1, step))
            )
        ).all()

    def put(row: Any) -> None:
        body = json.dumps({"event_id": row.event_id, "entry_hash": row.entry_hash}).encode()
        put_locked(
            settings,
            head_key(settings, row.event_id, row.entry_hash),
            body,
            hashlib.sha256(body).hexdigest(),
            retain_until=datetime.now(UTC) + timedelta(days=1),
        )

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, steps))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--python-entries", type=int, default=1_000_000)
    parser.add_argument("--heads", type=int, default=1000)
    parser.add_argument("--out", type=Path, help="write the figures into this markdown file")
    args = parser.parse_args()

    admin_url = os.environ.get(
        "ALPR_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    name = f"alpr_bench_verify_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    work = Path(tempfile.mkdtemp(prefix="alpr-bench-verify-"))
    port = free_port_block()
    base = load_settings(env={})
    s3 = base.s3.__class__(endpoint_url=f"http://127.0.0.1:{port}", secret_access_key="bench")
    server = SeaweedServer(s3, work / "seaweed", max_volumes=20)
    server.start()
    try:
        settings = base.replace(
            data_dir=work / "var",
            s3={"endpoint_url": s3.endpoint_url, "secret_access_key": "bench"},
            catalog={"url": url},
        )
        upgrade_catalog(url)
        seed_seconds = _seed(settings, args.entries)
        seed_seconds += _heads(settings, args.heads)
        print(f"seeded in {seed_seconds:.0f} s", file=sys.stderr, flush=True)
        load = os.getloadavg()[0]
        engine = engine_for(url)
        times = []
        for _ in range(2):
            with engine.connect() as conn:
                started = time.perf_counter()
                verified = verify_log(settings, conn)
                times.append(time.perf_counter() - started)
            assert verified.ok and verified.entries == args.entries, verified
            print(f"verify_log {times[-1]:.1f} s", file=sys.stderr, flush=True)
        python_n = min(args.python_entries, args.entries)
        with engine.connect() as conn:
            rows = conn.execution_options(yield_per=2000).execute(
                sa.select(audit_events)
                .where(audit_events.c.event_id <= python_n)
                .order_by(audit_events.c.event_id)
            )
            started = time.perf_counter()
            status = _first_break(rows)
            python_seconds = time.perf_counter() - started
        assert status.ok and status.events == python_n, status
        print(f"python {python_seconds:.1f} s for {python_n:,}", file=sys.stderr, flush=True)
        env = {**os.environ, **settings.as_env()}
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", "audit", "verify"],
            env=env,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        cli_seconds = time.perf_counter() - started
        assert done.returncode == 0, done.stderr
        load_after = os.getloadavg()[0]
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    text = _report(
        args,
        seed_seconds,
        times,
        python_n,
        python_seconds,
        cli_seconds,
        verified.heads,
        (load, load_after),
    )
    print(text)
    if args.out:
        write_section(args.out, HEADING, text)


def _report(
    args: argparse.Namespace,
    seed: float,
    times: list[float],
    python_n: int,
    python_seconds: float,
    cli_seconds: float,
    heads: int,
    load: tuple[float, float],
) -> str:
    rate = python_n / python_seconds
    best = min(times)
    command = (
        f"python bench/audit_verify.py --entries {args.entries} "
        f"--python-entries {args.python_entries} --heads {args.heads}"
    )
    return (
        "\n".join(
            [
                HEADING,
                "",
                f"`{command}` on {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d}; PostgreSQL "
                f"on the same machine, load average (1 min) {load[0]:.1f} before and {load[1]:.1f} "
                f"after the runs. {args.entries:,} chained search entries of about 300 bytes "
                f"(copied in, then {heads:,} chain heads written at even steps to SeaweedFS: "
                f"{seed:.0f} s).",
                "",
                "| check | entries | seconds | entries/s |",
                "|---|---:|---:|---:|",
                f"| `verify_log`: PostgreSQL recomputes every hash and checks every link, then "
                f"{heads:,} chain heads are checked (best of {len(times)}) | {args.entries:,} | "
                f"{best:.1f} | "
                f"{args.entries / best:,.0f} |",
                f"| `alpr audit verify` end to end (a process of its own) | {args.entries:,} | "
                f"{cli_seconds:.1f} | {args.entries / cli_seconds:,.0f} |",
                f"| entry by entry in Python (`log.verify_chain`'s loop), for comparison | "
                f"{python_n:,} | {python_seconds:.1f} | {rate:,.0f} |",
                "",
                f"In Python the {args.entries:,} entries would take about "
                f"{args.entries / rate:,.0f} s: the pass in the database is "
                f"{(args.entries / rate) / best:.0f}x faster.",
            ]
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
