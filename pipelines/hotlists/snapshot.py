"""Hotlist versions in the catalog: store a parsed snapshot, diff it, activate it atomically.

Storage choice: the entries of each version are rows of ``hotlist_entries`` in the catalog
database, not Parquet files in the lake. One database transaction then holds everything an
import changes (the version row, its entries, its diff, new identities, the flip of
``hotlist_lists.active_version`` and the audit entry), so a fault anywhere leaves the previous
version active with nothing half-written to clean up, and ``active_entries`` needs only a
connection. Bulk writes use COPY on PostgreSQL (about a million rows in seconds) and
executemany elsewhere. Only the newest ``hotlists.keep_versions`` versions keep their entries
(their version rows, diffs and identities stay).

Refusals happen before anything is written: a file with any problem (see ``parse.py``), and a
list shrinking by more than ``hotlists.max_shrink_fraction``, which an administrator may force
with a reason that is recorded with the version and in the audit log.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.audit.log import record
from pipelines.audit.users import Role, User, get_user, require_role
from pipelines.config import HotlistSettings, HotlistSource, Settings
from pipelines.errors import HotlistError, PolicyRefusal
from pipelines.hotlists._hash import SEPARATOR, fnv1a_128_hex
from pipelines.hotlists.parse import ParseResult
from pipelines.hotlists.schema import ENTRIES_SCHEMA
from pipelines.hotlists.tables import (
    hotlist_changes,
    hotlist_entries,
    hotlist_identities,
    hotlist_lists,
    hotlist_local_entries,
    hotlist_versions,
)
from pipelines.storage.catalog import engine_for, insert_new

__all__ = [
    "ImportResult",
    "ListSpec",
    "active_entries",
    "active_sha256",
    "hotlist_age_seconds",
    "import_snapshot",
    "list_status",
    "stale_lists",
    "version_changes",
]

_UTC = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class ListSpec:
    """How a list is loaded and matched: a configured source, or defaults for a new list."""

    name: str
    format: str
    priority: int = 0
    match_strategy: str = "exact"
    list_codes: tuple[str, ...] = ()

    @classmethod
    def of(cls, source: HotlistSource) -> ListSpec:
        return cls(
            source.name, source.format, source.priority, source.match_strategy, source.list_codes
        )


@dataclass(frozen=True)
class ImportResult:
    """An activated version and its diff against the version it replaced."""

    list_name: str
    version: int
    sha256: str
    entries: int
    skipped_junk: int
    skipped_unsubscribed: int
    merged: int
    forced: bool
    previous_version: int | None
    added_entry_ids: tuple[str, ...] = field(repr=False)
    removed_entry_ids: tuple[str, ...] = field(repr=False)  # alerts on these: "cleared"
    changed_entry_ids: tuple[str, ...] = field(repr=False)

    @property
    def added(self) -> int:
        return len(self.added_entry_ids)

    @property
    def removed(self) -> int:
        return len(self.removed_entry_ids)

    @property
    def changed(self) -> int:
        return len(self.changed_entry_ids)

    @property
    def skipped(self) -> int:
        return self.skipped_junk + self.skipped_unsubscribed

    def summary(self) -> dict[str, Any]:
        """The CLI's one JSON object (and asset metadata)."""
        return {
            "list": self.list_name,
            "version": self.version,
            "entries": self.entries,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "skipped": self.skipped,
        }


def import_snapshot(
    conn: sa.Connection,
    parsed: ParseResult,
    spec: ListSpec,
    *,
    sha256: str,
    source: str,
    actor: User,
    now: datetime,
    settings: HotlistSettings,
    force: bool = False,
    reason: str | None = None,
) -> ImportResult:
    """Store ``parsed`` as the next version of ``spec.name`` and activate it, in ``conn``'s
    transaction (commit or roll back as one). Raises HotlistError, leaving the active version as
    it was, for a file with problems or a suspicious shrink (unless ``force``d by an
    administrator with a ``reason``)."""
    parsed.raise_for_problems(source)
    if force:
        require_role(
            get_user(conn, actor.name), Role.ADMINISTRATOR, action="force a hotlist import"
        )
        if not (reason or "").strip():
            raise PolicyRefusal("a forced hotlist import needs a reason, which is recorded")
    previous = _lock_list(conn, spec, now)
    entries = parsed.entries.with_columns(content_hash=_content_hash(parsed.entries))
    old = _version_hashes(conn, spec.name, previous)
    diff = _diff(old, entries)
    _check_shrink(spec.name, source, old.height, entries.height, settings, force)
    version = _next_version(conn, spec.name)
    conn.execute(
        hotlist_versions.insert().values(
            list_name=spec.name,
            version=version,
            sha256=sha256,
            source=source[:1024],
            loaded_at=now,
            entries=entries.height,
            added=diff["added"].len(),
            removed=diff["removed"].len(),
            changed=diff["changed"].len(),
            skipped_junk=parsed.skipped_junk,
            skipped_unsubscribed=parsed.skipped_unsubscribed,
            merged=parsed.merged,
            forced=force,
            force_reason=reason if force else None,
            actor=actor.name,
        )
    )
    stored = entries.drop("line").with_columns(
        list_name=pl.lit(spec.name), version=pl.lit(version, dtype=pl.Int32)
    )
    _bulk_insert(conn, hotlist_entries, stored)
    _record_identities(conn, spec.name, diff["added"], now)
    changes = pl.concat(
        [
            frame.to_frame("entry_id").with_columns(change=pl.lit(kind))
            for kind, frame in diff.items()
        ]
    ).with_columns(list_name=pl.lit(spec.name), version=pl.lit(version, dtype=pl.Int32))
    _bulk_insert(conn, hotlist_changes, changes)
    _activate(conn, spec.name, version, now)
    record(
        conn,
        actor=actor.name,
        action="hotlist.activate",
        subject=f"hotlist:{spec.name}@{version}",
        details={
            "sha256": sha256,
            "source": source,
            "previous_version": previous,
            "entries": entries.height,
            "added": diff["added"].len(),
            "removed": diff["removed"].len(),
            "changed": diff["changed"].len(),
            "skipped_junk": parsed.skipped_junk,
            "skipped_unsubscribed": parsed.skipped_unsubscribed,
            "forced": force,
            "force_reason": reason if force else None,
        },
        now=now,
    )
    _prune(conn, spec.name, version, settings.keep_versions)
    return ImportResult(
        list_name=spec.name,
        version=version,
        sha256=sha256,
        entries=entries.height,
        skipped_junk=parsed.skipped_junk,
        skipped_unsubscribed=parsed.skipped_unsubscribed,
        merged=parsed.merged,
        forced=force,
        previous_version=previous,
        added_entry_ids=tuple(diff["added"].to_list()),
        removed_entry_ids=tuple(diff["removed"].to_list()),
        changed_entry_ids=tuple(diff["changed"].to_list()),
    )


def _lock_list(conn: sa.Connection, spec: ListSpec, now: datetime) -> int | None:
    """Create the list's row if new, take its lock (one import of a list at a time), bring its
    settings up to date; returns the active version."""
    insert_new(
        conn,
        hotlist_lists,
        [
            {
                "list_name": spec.name,
                "format": spec.format,
                "priority": spec.priority,
                "match_strategy": spec.match_strategy,
                "created_at": now,
            }
        ],
    )
    row = conn.execute(
        sa.select(hotlist_lists).where(hotlist_lists.c.list_name == spec.name).with_for_update()
    ).one()
    if row.format != spec.format:
        raise HotlistError(
            f"list {spec.name!r} is loaded from {row.format} files, not {spec.format}"
        )
    conn.execute(
        hotlist_lists.update()
        .where(hotlist_lists.c.list_name == spec.name)
        .values(priority=spec.priority, match_strategy=spec.match_strategy)
    )
    return row.active_version


def _content_hash(entries: pl.DataFrame) -> pl.Series:
    """What makes an entry "changed" when its identity stays."""
    joined = entries.select(
        pl.concat_str(
            [
                pl.col(c).cast(pl.String).fill_null("")
                for c in ("list_code", "entry_date", "description", "details", "expires_at")
            ],
            separator=SEPARATOR,
        )
    ).to_series()
    return fnv1a_128_hex(joined, bits=64)


def _version_hashes(conn: sa.Connection, list_name: str, version: int | None) -> pl.DataFrame:
    schema = {"entry_id": pl.String, "content_hash": pl.String}
    if version is None:
        return pl.DataFrame(schema=schema)
    stmt = sa.select(hotlist_entries.c.entry_id, hotlist_entries.c.content_hash).where(
        hotlist_entries.c.list_name == list_name, hotlist_entries.c.version == version
    )
    return _read_frame(conn, stmt, schema)


def _diff(old: pl.DataFrame, new: pl.DataFrame) -> dict[str, pl.Series]:
    both = new.select("entry_id", "content_hash").join(
        old, on="entry_id", how="full", suffix="_old", coalesce=True
    )
    return {
        "added": both.filter(pl.col("content_hash_old").is_null())["entry_id"],
        "removed": both.filter(pl.col("content_hash").is_null())["entry_id"],
        "changed": both.filter(pl.col("content_hash") != pl.col("content_hash_old"))["entry_id"],
    }


def _check_shrink(
    list_name: str, source: str, before: int, after: int, settings: HotlistSettings, force: bool
) -> None:
    if force or before == 0 or after >= before * (1.0 - settings.max_shrink_fraction):
        return
    reason = (
        f"suspicious: list {list_name!r} would shrink from {before} to {after} entries, more "
        f"than hotlists.max_shrink_fraction={settings.max_shrink_fraction}; an administrator "
        "can force it with a reason"
    )
    raise HotlistError(f"{source}: rejected: {reason}", [(0, reason)])


def _next_version(conn: sa.Connection, list_name: str) -> int:
    latest = conn.execute(
        sa.select(sa.func.max(hotlist_versions.c.version)).where(
            hotlist_versions.c.list_name == list_name
        )
    ).scalar_one()
    return int(latest or 0) + 1


def _record_identities(
    conn: sa.Connection, list_name: str, added: pl.Series, now: datetime
) -> None:
    """Identities never listed before get ``first_listed_at = now``; returning ones keep theirs."""
    if added.is_empty():
        return
    known = _read_frame(
        conn,
        sa.select(hotlist_identities.c.entry_id).where(hotlist_identities.c.list_name == list_name),
        {"entry_id": pl.String},
    )
    fresh = added.to_frame("entry_id").join(known, on="entry_id", how="anti")
    _bulk_insert(
        conn,
        hotlist_identities,
        fresh.with_columns(list_name=pl.lit(list_name), first_listed_at=pl.lit(now, dtype=_UTC)),
    )


def _activate(conn: sa.Connection, list_name: str, version: int, now: datetime) -> None:
    """The one statement that makes a version the list's active one."""
    conn.execute(
        hotlist_lists.update()
        .where(hotlist_lists.c.list_name == list_name)
        .values(active_version=version, activated_at=now)
    )


def _prune(conn: sa.Connection, list_name: str, version: int, keep: int) -> None:
    """Drop the entries (not the version rows) of versions older than the newest ``keep``."""
    oldest_kept = version - keep + 1
    conn.execute(
        hotlist_entries.delete().where(
            hotlist_entries.c.list_name == list_name, hotlist_entries.c.version < oldest_kept
        )
    )
    conn.execute(
        hotlist_versions.update()
        .where(
            hotlist_versions.c.list_name == list_name,
            hotlist_versions.c.version < oldest_kept,
            hotlist_versions.c.entries_pruned.is_(False),
        )
        .values(entries_pruned=True)
    )


def _bulk_insert(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    """Insert every row of ``frame`` (columns named as the table's): COPY on PostgreSQL."""
    if frame.is_empty():
        return
    columns = [c.name for c in table.columns if c.name in frame.columns]
    # In primary-key order: the index then grows at its end instead of splitting random pages.
    frame = frame.select(columns).sort([c.name for c in table.primary_key.columns])
    if conn.dialect.name == "postgresql":
        buffer = io.BytesIO()
        frame.write_csv(
            buffer,
            include_header=False,
            null_value="",
            datetime_format="%Y-%m-%dT%H:%M:%S%.6f+00:00",
        )
        cursor = conn.connection.cursor()
        sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
        with cursor.copy(sql) as copy:
            copy.write(buffer.getvalue())
        return
    conn.execute(table.insert(), frame.to_dicts())


def _read_frame(conn: sa.Connection, stmt: sa.Select[Any], schema: dict[str, Any]) -> pl.DataFrame:
    """A query's rows as a frame of ``schema``. Aware times are converted to UTC and naive ones
    (SQLite hands those back) taken as UTC."""
    rows = conn.execute(stmt).all()
    return pl.DataFrame(rows or None, schema=schema, orient="row")


def _connection(conn_or_settings: sa.Connection | Settings) -> tuple[sa.Connection, bool]:
    if isinstance(conn_or_settings, sa.Connection):
        return conn_or_settings, False
    return engine_for(conn_or_settings.catalog_url).connect(), True


def active_entries(
    conn_or_settings: sa.Connection | Settings,
    now: datetime,
    *,
    lists: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Every entry in force at ``now``, all lists together, as ``ENTRIES_SCHEMA``: the active
    version of each list (entries whose ``expires_at`` passed left out) and the agency-local
    entries not expired or removed (version 0, ``loaded_at = now``: they are always current)."""
    conn, owned = _connection(conn_or_settings)
    try:
        e, lst, v, i = hotlist_entries, hotlist_lists, hotlist_versions, hotlist_identities
        snap = (
            sa.select(
                e.c.entry_id,
                e.c.list_name,
                e.c.version,
                e.c.plate,
                e.c.state,
                e.c.match_key,
                e.c.list_code,
                e.c.entry_date,
                e.c.description,
                lst.c.priority,
                lst.c.match_strategy,
                i.c.first_listed_at,
                v.c.loaded_at,
                e.c.expires_at,
            )
            .join(
                lst,
                sa.and_(lst.c.list_name == e.c.list_name, lst.c.active_version == e.c.version),
            )
            .join(v, sa.and_(v.c.list_name == e.c.list_name, v.c.version == e.c.version))
            .join(i, i.c.entry_id == e.c.entry_id)
            .where(sa.or_(e.c.expires_at.is_(None), e.c.expires_at > now))
        )
        loc = hotlist_local_entries
        local = sa.select(
            loc.c.entry_id,
            loc.c.list_name,
            sa.literal(0).label("version"),
            loc.c.plate,
            loc.c.state,
            loc.c.match_key,
            loc.c.list_code,
            sa.null().label("entry_date"),
            loc.c.description,
            sa.literal(0).label("priority"),
            sa.literal("exact").label("match_strategy"),
            loc.c.created_at.label("first_listed_at"),
            sa.literal(now, type_=loc.c.created_at.type).label("loaded_at"),
            loc.c.expires_at,
        ).where(loc.c.removed_at.is_(None), loc.c.expires_at > now)
        if lists is not None:
            snap = snap.where(e.c.list_name.in_(list(lists)))
            local = local.where(loc.c.list_name.in_(list(lists)))
        frames = [_read_frame(conn, stmt, dict(ENTRIES_SCHEMA)) for stmt in (snap, local)]
        return pl.concat(frames).sort("list_name", "entry_id")
    finally:
        if owned:
            conn.close()


def active_sha256(conn: sa.Connection, list_name: str) -> str | None:
    """The source sha256 of the list's active version (a refresh of the same bytes is skipped)."""
    return conn.execute(
        sa.select(hotlist_versions.c.sha256)
        .join(
            hotlist_lists,
            sa.and_(
                hotlist_lists.c.list_name == hotlist_versions.c.list_name,
                hotlist_lists.c.active_version == hotlist_versions.c.version,
            ),
        )
        .where(hotlist_lists.c.list_name == list_name)
    ).scalar_one_or_none()


def list_status(
    conn: sa.Connection, now: datetime, max_age: timedelta, expected: Sequence[str] = ()
) -> pl.DataFrame:
    """One row per list (and per ``expected`` name never loaded): active version, its load time,
    age in seconds and whether it is stale (older than ``max_age``, or never loaded)."""
    stmt = sa.select(
        hotlist_lists.c.list_name,
        hotlist_lists.c.active_version.label("version"),
        hotlist_versions.c.loaded_at,
        hotlist_versions.c.entries,
    ).outerjoin(
        hotlist_versions,
        sa.and_(
            hotlist_versions.c.list_name == hotlist_lists.c.list_name,
            hotlist_versions.c.version == hotlist_lists.c.active_version,
        ),
    )
    lists = _read_frame(
        conn,
        stmt,
        {"list_name": pl.String, "version": pl.Int64, "loaded_at": _UTC, "entries": pl.Int64},
    )
    missing = sorted(set(expected) - set(lists["list_name"].to_list()))
    lists = pl.concat(
        [lists, pl.DataFrame({"list_name": missing}, schema={"list_name": pl.String})],
        how="diagonal_relaxed",
    )
    age = (pl.lit(now, dtype=_UTC) - pl.col("loaded_at")).dt.total_microseconds() / 1e6
    return (
        lists.with_columns(age_seconds=age)
        .with_columns(
            stale=pl.col("age_seconds").is_null()
            | (pl.col("age_seconds") > max_age.total_seconds())
        )
        .sort("list_name")
    )


def stale_lists(
    conn: sa.Connection, now: datetime, max_age: timedelta, expected: Sequence[str] = ()
) -> pl.DataFrame:
    """The lists whose active version is older than ``max_age`` (or that were never loaded, of
    those ``expected``), with their age: what the staleness checks fail on (PP-9126 B.4)."""
    return list_status(conn, now, max_age, expected).filter(pl.col("stale"))


def hotlist_age_seconds(conn: sa.Connection, now: datetime) -> dict[str, float]:
    """Seconds since each loaded list's active version was loaded; alerts carry it."""
    status = list_status(conn, now, timedelta(days=36500)).filter(
        pl.col("age_seconds").is_not_null()
    )
    return dict(zip(status["list_name"].to_list(), status["age_seconds"].to_list(), strict=True))


def version_changes(
    conn: sa.Connection, list_name: str, version: int, change: str | None = None
) -> pl.DataFrame:
    """The recorded diff of a version: ``entry_id`` and ``change`` (added, removed, changed)."""
    stmt = sa.select(hotlist_changes.c.entry_id, hotlist_changes.c.change).where(
        hotlist_changes.c.list_name == list_name, hotlist_changes.c.version == version
    )
    if change is not None:
        stmt = stmt.where(hotlist_changes.c.change == change)
    return _read_frame(conn, stmt, {"entry_id": pl.String, "change": pl.String})
