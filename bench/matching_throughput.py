"""Matching throughput and memory: reads against hotlist entries, exact, lenient and retro.

Each measure runs in a child process of its own that loads the synthetic frames (written once
to Parquet here), matches, and reports its time and its own VmHWM (peak resident memory, from
/proc/self/status: polars allocates outside tracemalloc's view).

    python bench/matching_throughput.py --reads 10000000 --entries 1000000 \
        --retro-entries 10000 --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import write_section
from pipelines.hotlists.schema import ENTRIES_SCHEMA
from pipelines.matching import match_reads, retro_match
from pipelines.recognition.plates import match_key_expr
from pipelines.storage.lake import READS

HEADING = "## Matching throughput"
STATES = ["CO", "WY", "NM", "UT", "AZ", "KS", "NE", "TX", "CA", "OK"]
ALPHABET = np.frombuffer(b"0123456789ABCDEFGHJKLMNPRSTUVWXYZ", dtype="S1")
T0 = datetime(2026, 3, 10, tzinfo=UTC)
HIT_SHARE = 0.01  # reads that are an entry's plate (in its state)
LOOKALIKE_SHARE = 0.005  # reads that are an entry's plate with B read as 8, or an extra 7


def _plates(rng: np.random.Generator, n: int) -> pl.Series:
    chars = rng.choice(ALPHABET, size=(n, 7))
    return pl.Series(chars.view("S7").ravel()).cast(pl.String)


def _entries(rng: np.random.Generator, n: int, strategy: str, listed_at: datetime) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "plate": _plates(rng, n),
            "state": pl.Series(rng.choice(STATES, n)),
            "list_name": pl.Series(rng.choice(["ncic", "ccic"], n)),
        }
    ).unique(["list_name", "plate", "state"])
    return frame.select(
        entry_id=pl.concat_str("list_name", "plate", "state", separator=":"),
        list_name="list_name",
        version=pl.lit(1, pl.Int64),
        plate="plate",
        state="state",
        match_key=match_key_expr("plate"),
        list_code=pl.lit("V"),
        entry_date=pl.lit("20260101"),
        description=pl.lit(None, pl.String),
        priority=pl.lit(1, pl.Int32),
        match_strategy=pl.lit(strategy),
        first_listed_at=pl.lit(listed_at),
        loaded_at=pl.lit(T0),
        expires_at=pl.lit(None, ENTRIES_SCHEMA["expires_at"]),
    ).cast(dict(ENTRIES_SCHEMA))  # type: ignore[arg-type]


def _reads(
    rng: np.random.Generator, n: int, entries: pl.DataFrame, candidates: int
) -> pl.DataFrame:
    """``n`` reads over a year: most random plates, ``HIT_SHARE`` entry plates, a few look-alike
    misreads of them; 80 % with a state read; ``candidates`` alternative readings each."""
    plates = _plates(rng, n)
    hits = rng.choice(entries.height, int(n * (HIT_SHARE + LOOKALIKE_SHARE)))
    where = rng.choice(n, hits.size, replace=False)
    chosen = entries[hits]
    texts = chosen["plate"]
    n_look = int(n * LOOKALIKE_SHARE)
    looks = texts[:n_look].str.replace("B", "8").str.replace(r"^(.)", "${1}7")
    texts = pl.concat([looks, texts[n_look:]])
    plates = plates.scatter(where, texts)
    states = pl.Series(rng.choice(STATES, n)).scatter(where, chosen["state"])
    states = states.zip_with(pl.Series(rng.random(n) < 0.8), pl.Series([None] * n, dtype=pl.String))
    seconds = pl.Series(np.sort(rng.integers(0, 365 * 86400, n)))
    frame = pl.DataFrame(
        {"plate_text": plates, "jurisdiction": states.str.to_lowercase(), "_seconds": seconds}
    )
    frame = frame.with_row_index("row").with_columns(
        read_id=pl.format("r{}", "row"),
        detection_id=pl.format("d{}", "row"),
        image_id=pl.format("i{}", "row"),
        camera_id=pl.format("cam-{}", pl.col("row") % 40),
        captured_at=pl.lit(T0 - timedelta(days=365)) + pl.duration(seconds="_seconds"),
        confidence=pl.lit(0.9, pl.Float32),
    )
    if candidates:
        # Runner-up readings: the text with one character swapped for a random one.
        alts = [
            pl.struct(
                text=pl.concat_str(
                    pl.col("plate_text").str.slice(0, k),
                    pl.lit(chr(ALPHABET[(k * 7) % ALPHABET.size][0])),
                    pl.col("plate_text").str.slice(k + 1),
                ),
                score=pl.lit(0.05, pl.Float32),
            )
            for k in range(candidates)
        ]
        frame = frame.with_columns(candidates=pl.concat_list(alts))
    return frame.with_columns(capture_date=pl.col("captured_at").dt.date()).select(
        pl.col(name).cast(dtype)
        if name in frame.columns or name == "capture_date"
        else pl.lit(None, dtype).alias(name)
        for name, dtype in READS.schema.items()
    )


def _vm(field: str) -> int:
    """A /proc/self/status figure in bytes (VmHWM: peak resident memory, VmRSS: current)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(kind: str, reads_path: str, entries_path: str, engine: str) -> dict[str, Any]:
    reads = pl.read_parquet(reads_path)
    entries = pl.read_parquet(entries_path)
    loaded = _vm("VmRSS")
    match = retro_match if kind == "retro" else match_reads
    start, cpu = time.perf_counter(), _cpu()
    result = match(reads.lazy(), entries.lazy()).collect(engine=engine)  # type: ignore[call-overload]
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    kinds = dict(result.group_by("match_kind").len().iter_rows())
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "matches": result.height,
        "exact": kinds.get("exact", 0),
        "lenient": kinds.get("lenient", 0),
        "seen_before_listed": int(result["seen_before_listed"].sum()),
        "loaded_mib": loaded / 2**20,
        "peak_mib": _vm("VmHWM") / 2**20,
    }


def _measure(kind: str, reads: Path, entries: Path, engine: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(reads), str(entries), "--engine", engine],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or [f"exit {out.returncode}"])[-1]}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=10_000_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--retro-entries", type=int, default=10_000)
    parser.add_argument("--lenient-reads", type=int, help="reads for the lenient run (default all)")
    parser.add_argument("--candidates", type=int, default=2, help="alternative readings per read")
    parser.add_argument("--engine", choices=["in-memory", "streaming"], default="in-memory")
    parser.add_argument("--out", type=Path, help="markdown file to write the section into")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "READS", "ENTRIES"))
    args = parser.parse_args()
    if args.child:
        kind, reads_path, entries_path = args.child
        print(json.dumps(_child(kind, reads_path, entries_path, args.engine)))
        return

    rng = np.random.default_rng(8)
    figures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="alpr-match-bench-") as tmp:
        folder = Path(tmp)
        built = time.perf_counter()
        listed = T0 - timedelta(days=400)
        entries = _entries(rng, args.entries, "exact", listed)
        entries.write_parquet(folder / "exact.pq")
        entries.with_columns(match_strategy=pl.lit("lenient")).write_parquet(folder / "lenient.pq")
        _reads(rng, args.reads, entries, args.candidates).write_parquet(folder / "reads.pq")
        lenient_reads = folder / "reads.pq"
        if args.lenient_reads and args.lenient_reads < args.reads:
            lenient_reads = folder / "reads-lenient.pq"
            pl.scan_parquet(folder / "reads.pq").head(args.lenient_reads).sink_parquet(
                lenient_reads
            )
        # A refresh adds entries: half of them plates seen during the year, listed a month ago.
        year = pl.read_parquet(folder / "reads.pq", columns=["plate_text", "jurisdiction"])
        seen = year.sample(args.retro_entries // 2, seed=3)
        new = _entries(rng, args.retro_entries - seen.height, "lenient", T0 - timedelta(days=30))
        new = pl.concat(
            [
                new,
                new.head(seen.height).with_columns(
                    plate=seen["plate_text"],
                    match_key=seen.select(match_key_expr("plate_text")).to_series(),
                    state=seen["jurisdiction"].str.to_uppercase().fill_null("CO"),
                    entry_id=pl.format("retro:{}", pl.int_range(seen.height)),
                ),
            ]
        )
        new.write_parquet(folder / "retro.pq")
        del entries, year, seen, new
        print(f"data built in {time.perf_counter() - built:.0f} s", file=sys.stderr)

        load_before = os.getloadavg()[0]
        runs = [
            ("exact", "match", folder / "reads.pq", folder / "exact.pq"),
            ("lenient", "match", lenient_reads, folder / "lenient.pq"),
            ("retro", "retro", folder / "reads.pq", folder / "retro.pq"),
        ]
        for name, kind, reads_path, entries_path in runs:
            figures[name] = _measure(kind, reads_path, entries_path, args.engine)
            figures[name]["reads"] = pl.scan_parquet(reads_path).select(pl.len()).collect().item()
            print(name, json.dumps(figures[name]), file=sys.stderr)

    load = (load_before, os.getloadavg()[0])
    print(json.dumps(figures, indent=2))
    if args.out:
        write_section(args.out, HEADING, _section(args, figures, load))


def _section(
    args: argparse.Namespace, figures: dict[str, dict[str, Any]], load: tuple[float, float]
) -> str:
    command = (
        f"python bench/matching_throughput.py --reads {args.reads} --entries {args.entries} "
        f"--retro-entries {args.retro_entries} --candidates {args.candidates}"
        + (f" --lenient-reads {args.lenient_reads}" if args.lenient_reads else "")
    )
    labels = {
        "exact": f"exact, {args.entries:,} entries (exact lists)",
        "lenient": f"lenient, {args.entries:,} entries (lenient lists)",
        "retro": f"retro-match, {args.retro_entries:,} new entries (lenient lists)",
    }
    rows = []
    for name, fig in figures.items():
        if "error" in fig:
            rows.append(f"| {labels[name]} | {fig['reads']:,} | failed: {fig['error']} | | | | |")
            continue
        rows.append(
            f"| {labels[name]} | {fig['reads']:,} | {fig['seconds']:.1f} | {fig['cpu_seconds']:.1f} | "
            f"{fig['exact']:,} / {fig['lenient']:,} | {fig['seen_before_listed']:,} | "
            f"{fig['loaded_mib']:,.0f} / {fig['peak_mib']:,.0f} |"
        )
    return (
        f"{HEADING}\n\n`{command}` on {os.cpu_count()} cores, {date.today()}; polars "
        f"{pl.__version__}, {args.engine} engine. Synthetic reads spread over a year (7-character "
        f"plates, 80 % with a state read, {args.candidates} alternative candidates each; "
        f"{HIT_SHARE:.0%} are listed plates and {LOOKALIKE_SHARE:.1%} look-alike misreads of "
        "them); each run is a child process that loads the Parquet frames, then matches: "
        "seconds are the match alone, memory is the child's resident set after loading and its "
        f"peak (VmHWM). Load average (1 min) {load[0]:.1f} before and {load[1]:.1f} after the "
        "runs: other work shared the two cores, so wall seconds overstate an idle machine's; CPU "
        "seconds (user and system, all threads) bound it from below at half of them.\n\n"
        "| run | reads | wall s | CPU s | exact / lenient hits | seen before listed | "
        "MiB loaded / peak |\n|---|---:|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n"
    )


if __name__ == "__main__":
    main()
