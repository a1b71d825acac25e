"""The plate index over SeaweedFS: the same reads as a scan of ``reads`` (look-alike folds,
partial plates, cameras, windows, the limit), days changed after indexing searched in ``reads``,
and retention removing a day's index rows with the day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.config import Settings
from pipelines.retention import run_retention
from pipelines.search.criteria import Criteria
from pipelines.search.index import COVERAGE_KEY, index_days
from pipelines.search.reads import find_reads
from pipelines.storage.lake import PLATE_INDEX
from pipelines.storage.objects import s3_client
from pipelines.storage.tables import scan_table
from tests.pipelines.search._reads import write_reads

T0 = datetime(2026, 2, 27, 14, 0, tzinfo=UTC)  # the days span two months: two index partitions
SEEDED = [
    ("r1", "8OS1Z3", "cam-07", T0),  # a look-alike reading of B0S123
    ("r2", "B0S123", "cam-07", T0 + timedelta(days=1)),
    ("r3", "BOSIZ3", "cam-09", T0 + timedelta(days=2, minutes=5)),  # another fold of it
    ("r4", "B0S1234", "cam-07", T0 + timedelta(days=2, minutes=10)),
    ("r5", "XKC442", "cam-07", T0 + timedelta(days=3)),
    ("r6", "", "cam-07", T0 + timedelta(days=3, minutes=1)),  # no plate read
    ("r7", "B0S123", "cam-09", T0 + timedelta(days=4)),
    ("r8", "7B0S12", "cam-07", T0 + timedelta(days=4, hours=1)),
]
DAYS = sorted({r[3].date() for r in SEEDED})
QUERIES = [
    Criteria(plate="b0s-123"),
    Criteria(plate="8OSIZ3"),
    Criteria(plate="B0S123", cameras=("cam-09",)),
    Criteria(plate="B0S123", start=T0 + timedelta(days=1), end=T0 + timedelta(days=3)),
    Criteria(plate="B0S1*"),
    Criteria(plate="*0S12*"),
    Criteria(plate="?0S12?"),
    Criteria(plate="XKC442", states=("co",)),
    Criteria(plate="XKC442", states=("wy",)),
    Criteria(plate="NOSUCH"),
]


def _found(settings: Settings, limit: int = 100) -> list[tuple[int, pl.DataFrame]]:
    results = []
    for criteria in QUERIES:
        found = find_reads(settings, criteria, limit)
        results.append((found.total, found.rows))
    return results


def _assert_same(got: list[tuple[int, pl.DataFrame]], want: list[tuple[int, pl.DataFrame]]) -> None:
    for criteria, (total, rows), (want_total, want_rows) in zip(QUERIES, got, want, strict=True):
        assert total == want_total, criteria
        assert_frame_equal(rows, want_rows)


def _delete_read_files(settings: Settings, day: date) -> None:
    """The day's data files of ``reads`` removed behind Delta's back: a search that opens them
    fails."""
    client = s3_client(settings.s3)
    bucket = settings.s3.lake_bucket
    prefix = f"tables/reads/capture_date={day.isoformat()}/"
    for obj in client.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]:
        client.delete_object(Bucket=bucket, Key=obj["Key"])


def test_the_index_finds_what_a_scan_of_reads_finds(settings: Settings) -> None:
    write_reads(settings, SEEDED)
    scanned = _found(settings)
    limited = _found(settings, limit=2)
    assert [t for t, _ in scanned] == [4, 4, 2, 2, 5, 6, 4, 1, 0, 0]

    assert index_days(settings, DAYS) == 7  # r6 has no plate text
    months = scan_table(settings, PLATE_INDEX).select("index_month").unique().collect()
    assert sorted(months.to_series().to_list()) == [date(2026, 2, 1), date(2026, 3, 1)]
    _assert_same(_found(settings), scanned)
    _assert_same(_found(settings, limit=2), limited)
    # the index answers alone: without the data files of reads, the same results
    for day in DAYS:
        _delete_read_files(settings, day)
    _assert_same(_found(settings), scanned)
    _assert_same(_found(settings, limit=2), limited)


def test_a_day_changed_after_indexing_is_searched_in_reads(settings: Settings) -> None:
    write_reads(settings, SEEDED)
    index_days(settings, DAYS)
    day = (T0 + timedelta(days=1)).date()
    # the day recognized again (a new file): the index's rows of it no longer say what it holds
    write_reads(
        settings,
        [
            *(r for r in SEEDED if r[3].date() == day),
            ("r9", "BOS1Z3", "cam-02", T0 + timedelta(days=1, hours=3)),
        ],
    )
    found = find_reads(settings, Criteria(plate="B0S123"), 100)
    assert found.rows["read_id"].to_list() == ["r1", "r2", "r9", "r3", "r7"]
    assert found.total == 5
    # the other days still come from the index only
    for other in DAYS:
        if other != day:
            _delete_read_files(settings, other)
    assert find_reads(settings, Criteria(plate="B0S123"), 100).rows["read_id"].to_list() == [
        "r1",
        "r2",
        "r9",
        "r3",
        "r7",
    ]
    index_days(settings, [day])  # indexed again: the index holds r9 now
    _delete_read_files(settings, day)
    assert find_reads(settings, Criteria(plate="B0S123"), 100).total == 5


@pytest.mark.slow
def test_retention_removes_the_index_rows_of_an_expired_day(
    settings: Settings, as_of: datetime
) -> None:
    old = as_of.replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=370)
    recent = old + timedelta(days=360)
    write_reads(
        settings,
        [
            ("o1", "Q0LD11", "cam-01", old),
            ("o2", "8OS1Z3", "cam-01", old + timedelta(minutes=1)),
            ("n1", "B0S123", "cam-01", recent),
        ],
    )
    index_days(settings, [old.date(), recent.date()])

    dry = run_retention(settings, as_of=as_of, dry_run=True)
    assert dry.classes["reads"].rows["plate_index"] == 2
    assert find_reads(settings, Criteria(plate="B0S123"), 10).total == 2

    report = run_retention(settings, as_of=as_of, dry_run=False)

    assert report.classes["reads"].rows["plate_index"] == 2
    left = scan_table(settings, PLATE_INDEX).collect()
    assert left.get_column("capture_date").unique().to_list() == [recent.date()]
    assert left.filter(pl.col("plate_key") != COVERAGE_KEY)["read_id"].to_list() == ["n1"]
    # nothing of the old day's plates stays in the index's files (the old month is vacuumed)
    client = s3_client(settings.s3)
    bucket = settings.s3.lake_bucket
    listed = client.list_objects_v2(Bucket=bucket, Prefix=f"tables/{PLATE_INDEX.name}/")
    for obj in listed.get("Contents", []):
        body = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        assert b"Q0LD11" not in body and b"8OS1Z3" not in body, obj["Key"]
    # the recent read is still served by the index alone
    _delete_read_files(settings, recent.date())
    assert find_reads(settings, Criteria(plate="B0S123"), 10).rows["read_id"].to_list() == ["n1"]
