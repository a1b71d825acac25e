"""Matching runs: a capture date's reads against the active hotlists, and retro-matching after a
list change, turned into alerts. What the Dagster assets and the Airflow tasks call.

Both runs are idempotent: ``AlertService.raise_alerts`` records each (read, entry) pair it has
alerted on, and ``suppress_duplicates`` picks the same representative read of a run of hits each
time, so re-running a day, or a list change, raises nothing new. Every alert carries the age of
the list it came from (the ``loaded_at`` of that list's active version, PP-9126 B.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.alerts import AlertService
from pipelines.alerts.tables import alerts
from pipelines.audit.log import require_utc
from pipelines.config import Settings
from pipelines.hotlists.snapshot import ImportResult, active_entries, version_changes
from pipelines.matching.match import match_reads, retro_match
from pipelines.matching.schema import MATCHES_SCHEMA
from pipelines.matching.suppress import suppress_duplicates
from pipelines.quality.gate import require_partition_passed
from pipelines.storage.catalog import engine_for, upgrade_catalog
from pipelines.storage.lake import READS
from pipelines.storage.tables import scan_table, table_exists

__all__ = [
    "ListChange",
    "MatchReport",
    "MatchVolume",
    "RetroReport",
    "match_partition",
    "match_volume",
    "reads_within_retention",
    "retro_match_refresh",
    "retro_match_version",
]

_UTC = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class MatchReport:
    """Counts of one capture date's matching run (no plate text)."""

    capture_date: date
    run_id: str
    reads: int
    entries: int
    matches: int  # (read, entry) hits
    lenient: int  # of which look-alike hits (lower confidence)
    state_not_read: int  # of which the read had no state: check it
    seen_before_listed: int  # of which the vehicle passed before its entry was listed
    suppressed: int  # runs of hits left after duplicate suppression
    alerts_raised: int  # new alerts (runs merged into a pending alert raise none)

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        out["capture_date"] = self.capture_date.isoformat()
        return out


@dataclass(frozen=True)
class ListChange:
    """What a list's new version changed, as retro-matching needs it."""

    list_name: str
    version: int
    added_entry_ids: tuple[str, ...]
    removed_entry_ids: tuple[str, ...]

    @classmethod
    def of(cls, result: ImportResult) -> ListChange:
        return cls(
            result.list_name, result.version, result.added_entry_ids, result.removed_entry_ids
        )

    @classmethod
    def load(cls, settings: Settings, list_name: str, version: int) -> ListChange:
        """The diff recorded with that version in the catalog."""
        with engine_for(settings.catalog_url).connect() as conn:
            changes = version_changes(conn, list_name, version)
        ids = changes.group_by("change").agg(pl.col("entry_id").sort())
        by_change = dict(zip(ids["change"].to_list(), ids["entry_id"].to_list(), strict=True))
        return cls(
            list_name,
            version,
            tuple(by_change.get("added", [])),
            tuple(by_change.get("removed", [])),
        )


@dataclass(frozen=True)
class RetroReport:
    """Counts of one list change's retro-matching and clearing (no plate text)."""

    list_name: str
    version: int
    added: int  # entries the change added, matched against the stored reads
    removed: int  # entries the change removed
    reads_since: date  # first capture date within retention
    matches: int
    seen_before_listed: int
    suppressed: int
    alerts_raised: int
    alerts_cleared: int  # pending alerts on removed entries marked "no longer on the list"

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        out["reads_since"] = self.reads_since.isoformat()
        return out


@dataclass(frozen=True)
class MatchVolume:
    """A capture date's alert count beside the mean of the days before it."""

    capture_date: date
    count: int
    baseline: float  # mean alerts a day over the baseline days (days without alerts count 0)
    baseline_days: int
    days_with_alerts: int  # of the baseline days; 0: no history to judge against
    factor: float

    @property
    def passed(self) -> bool:
        """Within [baseline / factor, baseline x factor]; always, without any history."""
        if self.days_with_alerts == 0:
            return True
        return self.baseline / self.factor <= self.count <= self.baseline * self.factor


def match_partition(
    settings: Settings,
    day: date,
    *,
    now: datetime,
    run_id: str,
    service: AlertService | None = None,
) -> MatchReport:
    """Match the reads of capture date ``day`` against the entries active at ``now`` and raise
    the alerts (and their webhooks). An absent ``reads`` table or partition is zero reads."""
    now = require_utc(now)
    upgrade_catalog(settings.catalog_url)
    require_partition_passed(settings, READS, day)  # reads that failed their suite raise nothing
    reads = _day_reads(settings, day)
    entries = active_entries(settings, now)
    matches = match_reads(reads.lazy(), entries.lazy()).collect()
    suppressed, raised = _raise(settings, matches, _ages(entries, now), now, service)
    return MatchReport(
        capture_date=day,
        run_id=run_id,
        reads=reads.height,
        entries=entries.height,
        **_match_counts(matches),
        suppressed=suppressed,
        alerts_raised=raised,
    )


def retro_match_refresh(
    settings: Settings,
    change: ImportResult | ListChange,
    *,
    now: datetime,
    service: AlertService | None = None,
) -> RetroReport:
    """After a list's refresh: mark the pending alerts on the entries it removed as cleared, and
    match the reads within retention (``retention.reads_days`` before ``now``) against the
    entries it added that are still active; hits on vehicles captured before their entry was
    first listed come flagged ``seen_before_listed``. The hotlists import does not clear alerts
    itself: this is the one place it happens."""
    now = require_utc(now)
    upgrade_catalog(settings.catalog_url)
    change = change if isinstance(change, ListChange) else ListChange.of(change)
    service = service or AlertService(settings)
    cleared = service.mark_entries_cleared(change.removed_entry_ids, now=now)
    since = now - timedelta(days=settings.retention_days("reads_days"))
    matches = pl.DataFrame(schema=dict(MATCHES_SCHEMA))
    suppressed = raised = 0
    if change.added_entry_ids:
        listed = active_entries(settings, now, lists=[change.list_name])
        added = pl.DataFrame(
            {"entry_id": list(change.added_entry_ids)}, schema={"entry_id": pl.String}
        )
        new = listed.join(added, on="entry_id", how="semi")
        reads = reads_within_retention(settings, now)
        matches = retro_match(reads, new.lazy()).collect()
        suppressed, raised = _raise(settings, matches, _ages(listed, now), now, service)
    counts = _match_counts(matches)
    return RetroReport(
        list_name=change.list_name,
        version=change.version,
        added=len(change.added_entry_ids),
        removed=len(change.removed_entry_ids),
        reads_since=since.date(),
        matches=counts["matches"],
        seen_before_listed=counts["seen_before_listed"],
        suppressed=suppressed,
        alerts_raised=raised,
        alerts_cleared=len(cleared),
    )


def retro_match_version(
    settings: Settings, list_name: str, version: int, *, now: datetime
) -> RetroReport:
    """:func:`retro_match_refresh` for a version named by list and number (its recorded diff):
    what an orchestrator passes between its refresh step and this one."""
    upgrade_catalog(settings.catalog_url)
    return retro_match_refresh(settings, ListChange.load(settings, list_name, version), now=now)


def reads_within_retention(settings: Settings, now: datetime) -> pl.LazyFrame:
    """Every stored read captured within ``retention.reads_days`` before ``now`` (lazy; the
    partition filter prunes older capture dates)."""
    since = require_utc(now) - timedelta(days=settings.retention_days("reads_days"))
    if not table_exists(settings, READS):
        return pl.LazyFrame(schema=READS.schema)
    return scan_table(settings, READS).filter(
        (pl.col("capture_date") >= since.date()) & (pl.col("captured_at") >= since)
    )


def match_volume(settings: Settings, day: date) -> MatchVolume:
    """Alerts on reads of ``day`` against the mean of the ``matching.volume_baseline_days``
    days before it (the match-volume check: a sudden rise or drop means a broken list or
    camera, a misread pattern, or matching that stopped)."""
    cfg = settings.matching
    first = day - timedelta(days=cfg.volume_baseline_days)
    with engine_for(settings.catalog_url).connect() as conn:
        rows = conn.execute(
            sa.select(alerts.c.capture_date, sa.func.count())
            .where(alerts.c.capture_date >= first, alerts.c.capture_date <= day)
            .group_by(alerts.c.capture_date)
        ).all()
    per_day: Mapping[date, int] = {d: int(n) for d, n in rows}
    history = [per_day.get(first + timedelta(days=i), 0) for i in range(cfg.volume_baseline_days)]
    return MatchVolume(
        capture_date=day,
        count=per_day.get(day, 0),
        baseline=sum(history) / len(history),
        baseline_days=cfg.volume_baseline_days,
        days_with_alerts=sum(1 for n in history if n),
        factor=cfg.volume_factor,
    )


def _day_reads(settings: Settings, day: date) -> pl.DataFrame:
    if not table_exists(settings, READS):  # recognition never wrote it: nothing to match
        return pl.DataFrame(schema=READS.schema)
    return scan_table(settings, READS, day).collect()


def _ages(entries: pl.DataFrame, now: datetime) -> dict[str, float]:
    """Seconds since each list's active version was loaded (the oldest, should a list name mix
    loaded and agency-local entries, which are always current)."""
    ages = entries.group_by("list_name").agg(
        age=(pl.lit(now, dtype=_UTC) - pl.col("loaded_at").min()).dt.total_microseconds() / 1e6
    )
    return dict(zip(ages["list_name"].to_list(), ages["age"].to_list(), strict=True))


def _raise(
    settings: Settings,
    matches: pl.DataFrame,
    ages: Mapping[str, float],
    now: datetime,
    service: AlertService | None,
) -> tuple[int, int]:
    """Suppress duplicate hits, raise the alerts; returns (runs, new alerts)."""
    if matches.is_empty():
        return 0, 0
    window = timedelta(minutes=settings.alerts.duplicate_window_minutes)
    runs = suppress_duplicates(matches.lazy(), window).collect()
    service = service or AlertService(settings)
    new_ids = service.raise_alerts(runs, hotlist_age_seconds=ages, now=now)
    return runs.height, len(new_ids)


def _match_counts(matches: pl.DataFrame) -> dict[str, int]:
    counts = matches.select(
        matches=pl.len(),
        lenient=(pl.col("match_kind") == "lenient").sum(),
        state_not_read=pl.col("state_not_read").sum(),
        seen_before_listed=pl.col("seen_before_listed").sum(),
    )
    return {name: int(value or 0) for name, value in counts.row(0, named=True).items()}
