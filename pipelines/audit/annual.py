"""The annual operational-status report (PP-9126 C.8): what the ALPR administrator tells the
Colorado State Patrol each year, that the system ran and was maintained. Counts only, never plate
text, reasons or coordinates.

For calendar year ``Y`` (UTC, ``[Y-01-01, Y+1-01-01)``, cut at the report's time while the year
runs), from the catalog and the lake:

- ``cameras``: per camera, days with images ingested (the ledger) and days with plate reads (the
  ``reads`` table), each with its count; days whose data retention deleted since are taken from
  the retention runs' per-day, per-camera counts, so the record stays whole after a year.
  Ingestion uptime is days with images / days covered; recognition uptime is days with reads /
  days with images. Cameras of ``ingest.camera_registry`` that sent nothing show with zeros.
- ``hotlists``: per list, the versions loaded, days with and without a new version (from the
  list's creation, if in the year), the longest run of days without one, and rejected files. A
  refresh that found the active file unchanged records nothing, so it counts as a day without.
- ``retention_runs``: each pass started in the year, with what it deleted per data class and the
  object versions removed (its summary's counts).
- ``preservation``: holds placed in the year by legal basis (every basis of C.4.c listed), those
  released since; refused requests counted apart (a refusal names no valid basis).
- ``searches``: ``search.reads`` entries of the audit log per month: searches, refused, failed,
  without a case number, results.
- ``verification``: :func:`pipelines.audit.verify.verify_log` run when the report is made, and
  the ``audit.verify`` runs of the year.

Administrators only (checked against the catalog), or the server operator; reading the report
is itself audited (``report.annual_status``).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.audit.designation import designations
from pipelines.audit.log import record, require_utc
from pipelines.audit.report import _table
from pipelines.audit.tables import audit_events
from pipelines.audit.users import Role, User, get_user, require_role
from pipelines.audit.verify import Verification, verify_log
from pipelines.config import Settings
from pipelines.errors import AlprError
from pipelines.hotlists.tables import hotlist_lists, hotlist_versions
from pipelines.ingest.register import load_camera_registry
from pipelines.preservation.basis import LegalBasis
from pipelines.preservation.tables import holds
from pipelines.retention.policy import DataClass
from pipelines.retention.tables import retention_runs
from pipelines.storage.catalog import camera_objects
from pipelines.storage.lake import READS
from pipelines.storage.tables import scan_table, table_exists

__all__ = [
    "ANNUAL_ACTION",
    "AnnualStatusReport",
    "annual_status",
    "year_period",
]

ANNUAL_ACTION = "report.annual_status"
_SEARCH = "search.reads"
_VERIFY = "audit.verify"
_ADMINISTRATOR = "Designated ALPR administrator (B.7)"
_UTC = pl.Datetime("us", "UTC")
_DAILY = {"camera_id": pl.String, "day": pl.Date, "n": pl.Int64}


def year_period(year: int, now: datetime) -> tuple[datetime, datetime, datetime]:
    """``(start, end, through)`` of calendar year ``year`` in UTC: the year, and the instant its
    figures run to (``now`` while the year runs). A year not begun is refused."""
    now = require_utc(now)
    if not 1970 <= year <= 9998:
        raise AlprError(f"year {year} is out of range (1970..9998)")
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    if now <= start:
        raise AlprError(f"year {year} has not begun (now {now.isoformat()})")
    return start, end, min(end, now)


@dataclass(frozen=True)
class AnnualStatusReport:
    year: int
    start: datetime
    end: datetime
    through: datetime  # the figures run to here: the year's end, or the report's time
    days: int  # days covered (a day begun counts)
    generated_at: datetime
    generated_by: str
    administrator: str  # the designated ALPR administrator line (B.7)
    cameras: pl.DataFrame
    hotlists: pl.DataFrame
    retention_runs: pl.DataFrame
    preservation: pl.DataFrame
    preservation_refused: int
    searches: pl.DataFrame
    verification: Verification
    verifications: pl.DataFrame  # runs, failed, last_at (the year's audit.verify entries)

    def _sections(self) -> list[tuple[str, pl.DataFrame, str]]:
        return [
            (
                "Uptime of ingestion and recognition per camera",
                self.cameras,
                f"Days covered: {self.days}. ingest_uptime = days_with_images / days covered; "
                "recognition_uptime = days_with_reads / days_with_images.",
            ),
            (
                "Hotlist refresh record",
                self.hotlists,
                "A day without a new version loaded counts as a day without a refresh.",
            ),
            ("Retention runs and what they deleted (counts)", self.retention_runs, ""),
            (
                "Preservation requests by legal basis",
                self.preservation,
                f"Refused preservation requests: {self.preservation_refused}.",
            ),
            ("Searches per month", self.searches, ""),
            ("Audit log verifications during the year", self.verifications, ""),
        ]

    def _verification_line(self) -> str:
        checked = self.verification
        if checked.problem is None:
            return (
                f"Audit log verified at {self.generated_at.isoformat()}: intact, "
                f"{checked.entries} entries, {checked.heads} chain heads match."
            )
        return (
            f"Audit log verified at {self.generated_at.isoformat()}: NOT intact "
            f"({checked.entries} entries, {checked.heads} chain heads): {checked.problem.message}"
        )

    def _heading(self) -> list[str]:
        return [
            f"Period: {self.start.date().isoformat()} to {self.end.date().isoformat()} (UTC), "
            f"figures through {self.through.isoformat()}.",
            f"Generated {self.generated_at.isoformat()} by {self.generated_by}.",
            self.administrator,
            self._verification_line(),
        ]

    def markdown(self) -> str:
        lines = [f"# ALPR annual operational-status report {self.year} (PP-9126 C.8)", ""]
        lines += [f"- {line}" for line in self._heading()]
        lines.append("")
        for title, frame, note in self._sections():
            lines += [f"## {title}", ""]
            if note:
                lines += [note, ""]
            lines += [_table(frame), ""]
        return "\n".join(lines)

    def html(self) -> str:
        """One self-contained HTML page (inline style, no external asset)."""
        title = html.escape(f"ALPR annual operational-status report {self.year} (PP-9126 C.8)")
        body = [f"<h1>{title}</h1>", "<ul>"]
        body += [f"<li>{html.escape(line)}</li>" for line in self._heading()]
        body.append("</ul>")
        for heading, frame, note in self._sections():
            body.append(f"<h2>{html.escape(heading)}</h2>")
            if note:
                body.append(f"<p>{html.escape(note)}</p>")
            body.append(_html_table(frame))
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{title}</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
            "th,td{border:1px solid #999;padding:.25em .6em;text-align:left}th{background:#eee}"
            "</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
        )

    def as_dict(self) -> dict[str, Any]:
        problem = self.verification.problem
        return {
            "year": self.year,
            "through": self.through.isoformat(),
            "days": self.days,
            "administrator": self.administrator,
            "verification": {
                "ok": self.verification.ok,
                "entries": self.verification.entries,
                "heads": self.verification.heads,
                "first_bad_event_id": problem.event_id if problem else None,
            },
            "cameras": self.cameras.height,
            "searches": int(self.searches["searches"].sum()),
            "retention_runs": self.retention_runs.height,
            "holds": int(self.preservation["requests"].sum()),
        }


def annual_status(
    settings: Settings,
    conn: sa.Connection,
    year: int,
    *,
    by: User | str,
    now: datetime,
) -> AnnualStatusReport:
    """The report of ``year``. ``by`` is an administrator (checked against the catalog) or, as a
    string, the server operator running ``alpr report annual-status`` (``operator:<user>``)."""
    start, end, through = year_period(year, now)
    now = require_utc(now)
    actor = by if isinstance(by, str) else by.name
    if not isinstance(by, str):
        require_role(
            get_user(conn, by.name), Role.ADMINISTRATOR, action="read the annual status report"
        )
    first_day, last_day = start.date(), (through - timedelta(microseconds=1)).date()
    deleted = _retention_summaries(conn, start, end)
    report = AnnualStatusReport(
        year=year,
        start=start,
        end=end,
        through=through,
        days=(last_day - first_day).days + 1,
        generated_at=now,
        generated_by=actor,
        administrator=_administrator(conn, start, through),
        cameras=_cameras(settings, conn, deleted, first_day, last_day),
        hotlists=_hotlists(conn, start, through, first_day, last_day),
        retention_runs=_retention_runs(conn, start, end),
        preservation=_preservation(conn, start, end),
        preservation_refused=_count(conn, "preservation.request", start, end, outcome="refused"),
        searches=_searches(conn, start, end, first_day, last_day),
        verification=verify_log(settings, conn),
        verifications=_verifications(conn, start, end),
    )
    record(
        conn,
        actor=actor,
        action=ANNUAL_ACTION,
        subject=f"report:annual-status:{year}",
        details=report.as_dict(),
        now=now,
    )
    return report


def _administrator(conn: sa.Connection, start: datetime, through: datetime) -> str:
    """Who was the designated ALPR administrator during the year (B.7), in one line."""
    held = [
        f"{d.user} (designated by {d.designated_by} since {d.since.isoformat()}"
        + (f", until {d.until.isoformat()})" if d.until else ")")
        for d in designations(conn, start, through)
    ]
    return f"{_ADMINISTRATOR}: {'; '.join(held) if held else 'none recorded in the period'}"


def _frame(conn: sa.Connection, query: Any, schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in conn.execute(query)], schema=schema, orient="row")


# -- cameras ----------------------------------------------------------------------------------


def _retention_summaries(conn: sa.Connection, start: datetime, end: datetime) -> pl.DataFrame:
    """Per data class, camera and capture day of the year: the items retention deleted (its
    runs' summaries, dry runs left out)."""
    summaries = conn.execute(
        sa.select(retention_runs.c.summary).where(
            retention_runs.c.status == "succeeded",
            retention_runs.c.dry_run.is_(False),
            retention_runs.c.summary.is_not(None),
        )
    ).scalars()
    rows = [
        (data_class, camera, date.fromisoformat(day), n)
        for summary in summaries
        for data_class, entry in _json(summary).get("classes", {}).items()
        for day, cameras in entry.get("by_day", {}).items()
        if start.date() <= date.fromisoformat(day) < end.date()
        for camera, n in cameras.items()
    ]
    return pl.DataFrame(rows, schema={"data_class": pl.String, **_DAILY}, orient="row")


def _json(text: str) -> dict[str, Any]:
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else {}


def _cameras(
    settings: Settings,
    conn: sa.Connection,
    deleted: pl.DataFrame,
    first_day: date,
    last_day: date,
) -> pl.DataFrame:
    ledger = _frame(
        conn,
        sa.select(camera_objects.c.camera_id, camera_objects.c.capture_date, sa.func.count())
        .where(
            camera_objects.c.status == "ingested",
            camera_objects.c.capture_date.between(first_day, last_day),
            camera_objects.c.camera_id.is_not(None),
        )
        .group_by(camera_objects.c.camera_id, camera_objects.c.capture_date),
        _DAILY,
    )
    images = _daily(ledger, deleted, DataClass.IMAGES, first_day, last_day)
    reads = _daily(
        _lake_reads(settings, first_day, last_day), deleted, DataClass.READS, first_day, last_day
    )
    per_camera = [
        frame.group_by("camera_id").agg(
            pl.col("day").n_unique().cast(pl.Int64).alias(f"days_with_{name}"),
            pl.col("n").sum().alias(name),
        )
        for name, frame in (("images", images), ("reads", reads))
    ]
    known = sorted(load_camera_registry(settings.ingest.camera_registry) or ())
    cameras = pl.concat(
        [
            pl.DataFrame({"camera_id": known}, schema={"camera_id": pl.String}),
            images.select("camera_id"),
            reads.select("camera_id"),
        ]
    ).unique()
    days = (last_day - first_day).days + 1
    return (
        cameras.join(per_camera[0], on="camera_id", how="left")
        .join(per_camera[1], on="camera_id", how="left")
        .with_columns(pl.exclude("camera_id").fill_null(0))
        .with_columns(
            ingest_uptime=(pl.col("days_with_images") / days).round(4),
            recognition_uptime=pl.when(pl.col("days_with_images") > 0)
            .then(pl.col("days_with_reads") / pl.col("days_with_images"))
            .round(4),
        )
        .select(
            "camera_id",
            "days_with_images",
            "images",
            "ingest_uptime",
            "days_with_reads",
            "reads",
            "recognition_uptime",
        )
        .sort("camera_id")
    )


def _daily(
    present: pl.DataFrame, deleted: pl.DataFrame, data_class: DataClass, first: date, last: date
) -> pl.DataFrame:
    """What is still stored, plus what retention deleted, per camera and day."""
    gone = deleted.filter(pl.col("data_class") == data_class.value).drop("data_class")
    return (
        pl.concat([present, gone])
        .filter(pl.col("day").is_between(first, last))
        .group_by("camera_id", "day")
        .agg(pl.col("n").sum())
    )


def _lake_reads(settings: Settings, first_day: date, last_day: date) -> pl.DataFrame:
    """Reads per camera and capture date of the year (the plate text is never loaded)."""
    if not table_exists(settings, READS):
        return pl.DataFrame(schema=_DAILY)
    return (
        scan_table(settings, READS)
        .filter(pl.col(READS.partition_column).is_between(first_day, last_day))
        .group_by("camera_id", day=READS.partition_column)
        .agg(n=pl.len().cast(pl.Int64))
        .collect()
    )


# -- hotlists ---------------------------------------------------------------------------------


def _hotlists(
    conn: sa.Connection, start: datetime, through: datetime, first_day: date, last_day: date
) -> pl.DataFrame:
    lists = _frame(
        conn,
        sa.select(hotlist_lists.c.list_name, hotlist_lists.c.created_at).where(
            hotlist_lists.c.created_at < through
        ),
        {"list_name": pl.String, "created_at": _UTC},
    ).with_columns(since=pl.max_horizontal(pl.col("created_at").dt.date(), pl.lit(first_day)))
    versions = _frame(
        conn,
        sa.select(hotlist_versions.c.list_name, hotlist_versions.c.loaded_at).where(
            hotlist_versions.c.loaded_at >= start, hotlist_versions.c.loaded_at < through
        ),
        {"list_name": pl.String, "loaded_at": _UTC},
    )
    rejected = _frame(
        conn,
        sa.select(audit_events.c.subject, sa.func.count())
        .where(
            audit_events.c.action == "hotlist.reject",
            audit_events.c.occurred_at >= start,
            audit_events.c.occurred_at < through,
        )
        .group_by(audit_events.c.subject),
        {"subject": pl.String, "rejected": pl.Int64},
    ).select(pl.col("subject").str.strip_prefix("hotlist:").alias("list_name"), "rejected")
    refreshed = versions.select("list_name", day=pl.col("loaded_at").dt.date()).unique()
    dense = (
        lists.join(
            pl.DataFrame({"day": pl.date_range(first_day, last_day, eager=True)}), how="cross"
        )
        .filter(pl.col("day") >= pl.col("since"))
        .join(refreshed.with_columns(refreshed=pl.lit(True)), on=["list_name", "day"], how="left")
        .with_columns(pl.col("refreshed").fill_null(False))
        .sort("list_name", "day")
        .with_columns(run=pl.col("refreshed").rle_id().over("list_name"))
    )
    gaps = (
        dense.filter(~pl.col("refreshed"))
        .group_by("list_name", "run")
        .len()
        .group_by("list_name")
        .agg(longest_gap_days=pl.col("len").max().cast(pl.Int64))
    )
    return (
        dense.group_by("list_name")
        .agg(
            days=pl.len().cast(pl.Int64),
            days_with_refresh=pl.col("refreshed").sum().cast(pl.Int64),
        )
        .join(
            versions.group_by("list_name").agg(versions=pl.len().cast(pl.Int64)),
            on="list_name",
            how="left",
        )
        .join(gaps, on="list_name", how="left")
        .join(rejected, on="list_name", how="left")
        .with_columns(pl.col("versions", "longest_gap_days", "rejected").fill_null(0))
        .select(
            "list_name",
            "versions",
            "days",
            "days_with_refresh",
            days_without_refresh=pl.col("days") - pl.col("days_with_refresh"),
            longest_gap_days="longest_gap_days",
            rejected="rejected",
        )
        .sort("list_name")
    )


# -- retention, preservation ------------------------------------------------------------------


def _retention_runs(conn: sa.Connection, start: datetime, end: datetime) -> pl.DataFrame:
    runs = _frame(
        conn,
        sa.select(
            retention_runs.c.run_id,
            retention_runs.c.started_at,
            retention_runs.c.dry_run,
            retention_runs.c.status,
            retention_runs.c.summary,
        )
        .where(retention_runs.c.started_at >= start, retention_runs.c.started_at < end)
        .order_by(retention_runs.c.started_at, retention_runs.c.run_id),
        {
            "run_id": pl.String,
            "started_at": _UTC,
            "dry_run": pl.Boolean,
            "status": pl.String,
            "summary": pl.String,
        },
    )
    summary = pl.col("summary").fill_null("{}")

    def figure(data_class: DataClass, name: str) -> pl.Expr:
        path = f"$.classes.{data_class.value}.{name}"
        return summary.str.json_path_match(path).cast(pl.Int64).fill_null(0)

    return runs.select(
        "run_id",
        "started_at",
        "dry_run",
        "status",
        *(figure(c, "deleted").alias(f"{c.value}_deleted") for c in DataClass),
        held=pl.sum_horizontal(figure(c, "held") for c in DataClass),
        objects_deleted=pl.sum_horizontal(figure(c, "objects") for c in DataClass),
    )


def _preservation(conn: sa.Connection, start: datetime, end: datetime) -> pl.DataFrame:
    placed = _frame(
        conn,
        sa.select(holds.c.legal_basis, holds.c.released_at).where(
            holds.c.placed_at >= start, holds.c.placed_at < end
        ),
        {"legal_basis": pl.String, "released_at": _UTC},
    )
    counts = placed.group_by("legal_basis").agg(
        requests=pl.len().cast(pl.Int64),
        released=pl.col("released_at").is_not_null().sum().cast(pl.Int64),
    )
    return (
        pl.DataFrame({"legal_basis": [b.value for b in LegalBasis]})
        .join(counts, on="legal_basis", how="full", coalesce=True)
        .with_columns(pl.col("requests", "released").fill_null(0))
        .sort("legal_basis")
    )


def _count(
    conn: sa.Connection, action: str, start: datetime, end: datetime, *, outcome: str
) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(audit_events)
        .where(
            audit_events.c.action == action,
            audit_events.c.outcome == outcome,
            audit_events.c.occurred_at >= start,
            audit_events.c.occurred_at < end,
        )
    )
    return int(conn.execute(query).scalar_one())


# -- the audit log ----------------------------------------------------------------------------


def _audit_entries(
    conn: sa.Connection, action: str, start: datetime, end: datetime
) -> pl.DataFrame:
    return _frame(
        conn,
        sa.select(audit_events.c.occurred_at, audit_events.c.outcome, audit_events.c.details)
        .where(
            audit_events.c.action == action,
            audit_events.c.occurred_at >= start,
            audit_events.c.occurred_at < end,
        )
        .order_by(audit_events.c.event_id),
        {"occurred_at": _UTC, "outcome": pl.String, "details": pl.String},
    )


def _searches(
    conn: sa.Connection, start: datetime, end: datetime, first_day: date, last_day: date
) -> pl.DataFrame:
    entries = _audit_entries(conn, _SEARCH, start, end).with_columns(
        month=pl.col("occurred_at").dt.strftime("%Y-%m"),
        case=pl.col("details").str.json_path_match("$.case").fill_null(""),
        results=pl.col("details").str.json_path_match("$.results").cast(pl.Int64),
    )
    ok = pl.col("outcome") == "ok"
    per_month = entries.group_by("month").agg(
        searches=ok.sum().cast(pl.Int64),
        refused=(pl.col("outcome") == "refused").sum().cast(pl.Int64),
        failed=(pl.col("outcome") == "failed").sum().cast(pl.Int64),
        without_case=(ok & (pl.col("case") == "")).sum().cast(pl.Int64),
        results=pl.col("results").sum().cast(pl.Int64),
    )
    months = pl.date_range(first_day.replace(day=1), last_day, interval="1mo", eager=True)
    return (
        pl.DataFrame({"month": months.dt.strftime("%Y-%m")})
        .join(per_month, on="month", how="left")
        .with_columns(pl.exclude("month").fill_null(0))
        .sort("month")
    )


def _verifications(conn: sa.Connection, start: datetime, end: datetime) -> pl.DataFrame:
    entries = _audit_entries(conn, _VERIFY, start, end)
    return entries.select(
        runs=pl.len().cast(pl.Int64),
        failed=(pl.col("outcome") != "ok").sum().cast(pl.Int64),
        last_at=pl.col("occurred_at").max(),
        last_outcome=pl.col("outcome").last(),
    )


def _html_table(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return "<p>(none)</p>"
    cells = frame.with_columns(pl.all().cast(pl.String).fill_null(""))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in cells.iter_rows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
