"""Preservation requests, access to preserved data, and field interview reports.

A request places its hold first (retention honours it from that commit on), then copies the
selected images, sidecars, crops and read records into the evidence bucket, one object at a time,
each recorded with its hashes as soon as it is stored. A request repeated, or resumed after a
crash, finds its hold by the request key and copies only what is missing: nothing changes twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.audit.log import record, require_utc, utc
from pipelines.audit.training import Function, require_training
from pipelines.audit.users import Role, User, get_user, require_role
from pipelines.config import Settings
from pipelines.errors import AlprError, PolicyRefusal, StorageError
from pipelines.preservation.basis import LegalBasis, parse_basis
from pipelines.preservation.evidence import (
    ensure_evidence_bucket,
    existing_sha256,
    put_locked,
    read_verified,
)
from pipelines.preservation.holds import Hold, get_hold
from pipelines.preservation.manifest import manifest_csv, manifest_json, readme, write_bundle
from pipelines.preservation.selection import Selection, held_expr, holds_frame, plate_key_expr
from pipelines.preservation.tables import field_interview_reports, holds, preserved_objects
from pipelines.storage.catalog import camera_objects, engine_for, insert_new, upgrade_catalog
from pipelines.storage.lake import DETECTIONS, READS
from pipelines.storage.objects import s3_client
from pipelines.storage.tables import scan_table, table_exists

__all__ = [
    "InterviewReport",
    "Preservation",
    "file_interview_report",
    "list_interview_reports",
    "read_preserved",
    "request_preservation",
]

_READERS = (Role.ADMINISTRATOR, Role.AGENT, Role.ANALYST)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Preservation:
    hold: Hold
    objects: int  # evidence objects of the hold (images, sidecars, crops, reads.jsonl)
    manifest_uri: str  # s3://<evidence bucket>/<prefix>manifest.json
    bundle: str  # the local export folder; <bundle>.zip beside it
    created: bool  # False: the same request had been preserved already

    def as_dict(self) -> dict[str, Any]:
        return {
            "hold_id": self.hold.hold_id,
            "case_number": self.hold.case_number,
            "objects": self.objects,
            "manifest": self.manifest_uri,
            "bundle": self.bundle,
            "bundle_zip": f"{self.bundle}.zip",
            "created": self.created,
        }


@dataclass(frozen=True)
class InterviewReport:
    report_id: str
    hold_id: str
    person: str
    reason: str
    legal_basis: str
    filed_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "hold_id": self.hold_id,
            "person": self.person,
            "reason": self.reason,
            "legal_basis": self.legal_basis,
            "filed_at": self.filed_at.isoformat(),
        }


def _engine(settings: Settings) -> sa.Engine:
    upgrade_catalog(settings.catalog_url)
    return engine_for(settings.catalog_url)


def _require_role(settings: Settings, user: User, *allowed: Role, action: str) -> None:
    """``require_role`` on the user as the catalog knows them now, whatever ``User`` was passed."""
    with _engine(settings).connect() as conn:
        require_role(get_user(conn, user.name), *allowed, action=action)


def _refused(
    settings: Settings, user: User, action: str, subject: str, why: str, now: datetime
) -> None:
    """Refusals are audited in a transaction of their own (the request itself changes nothing)."""
    with _engine(settings).begin() as conn:
        record(
            conn,
            actor=user.name,
            action=action,
            subject=subject,
            outcome="refused",
            details={"why": why},
            now=now,
        )


def request_preservation(
    settings: Settings,
    user: User,
    case: str,
    basis: str | LegalBasis,
    reason: str,
    selection: Selection,
    *,
    now: datetime,
    requester: str | None = None,
) -> Preservation:
    """Preserve what ``selection`` names for ``case`` (administrators, a basis of C.4.c; with
    ``audit.require_training``, current training for preservation, B.3, B.5)."""
    now = require_utc(now)
    try:
        _require_role(settings, user, Role.ADMINISTRATOR, action="request preservation")
        if settings.audit.require_training:
            with _engine(settings).connect() as conn:
                require_training(conn, user.name, Function.PRESERVATION, now=now)
        legal_basis = parse_basis(basis)
        if not case.strip() or not reason.strip():
            raise PolicyRefusal("a preservation needs a case number and a reason (PP-9126 C.4.c)")
    except AlprError as exc:
        _refused(settings, user, "preservation.request", f"case:{case}", str(exc), now)
        raise
    bucket = ensure_evidence_bucket(settings)
    engine = _engine(settings)
    request_key = hashlib.sha256(
        f"{case.strip()}\n{legal_basis.value}\n{selection.to_json()}".encode()
    ).hexdigest()
    with engine.begin() as conn:
        hold_id = conn.execute(
            sa.select(holds.c.hold_id).where(
                holds.c.request_key == request_key, holds.c.released_at.is_(None)
            )
        ).scalar_one_or_none()
        created = hold_id is None
        if hold_id is None:
            hold_id = (
                "hold-"
                + hashlib.sha256(f"{request_key}{now.isoformat()}".encode()).hexdigest()[:20]
            )
            conn.execute(
                holds.insert().values(
                    hold_id=hold_id,
                    request_key=request_key,
                    case_number=case.strip(),
                    requester=(requester or user.name).strip(),
                    legal_basis=legal_basis.value,
                    reason=reason,
                    selection=selection.to_json(),
                    placed_at=now,
                    placed_by=user.name,
                    status="copying",
                    evidence_bucket=bucket,
                    evidence_prefix=f"cases/{_SAFE.sub('_', case.strip())}/{hold_id}/",
                    retain_until=now + timedelta(days=settings.preservation.object_lock_days),
                )
            )
            record(
                conn,
                actor=user.name,
                action="hold.place",
                subject=f"hold:{hold_id}",
                details={
                    "case_number": case.strip(),
                    "legal_basis": legal_basis.value,
                    "selection": selection.summary(),
                },
                now=now,
            )
        hold = get_hold(conn, hold_id)
    if hold.status != "preserved":
        _copy(settings, engine, hold)
        _finish(settings, engine, hold, user)
    with engine.connect() as conn:
        hold = get_hold(conn, hold_id)
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(preserved_objects)
            .where(preserved_objects.c.hold_id == hold_id)
        ).scalar_one()
    return Preservation(
        hold=hold,
        objects=count,
        manifest_uri=f"s3://{bucket}/{hold.evidence_prefix}manifest.json",
        bundle=str(_bundle_folder(settings, hold)),
        created=created,
    )


def _bundle_folder(settings: Settings, hold: Hold) -> Any:
    return settings.data_dir / "evidence" / f"{_SAFE.sub('_', hold.case_number)}-{hold.hold_id}"


def _selected(
    settings: Settings, engine: sa.Engine, hold: Hold
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The reads, ledger rows (images) and detections a hold selects."""
    this = holds_frame([(hold.hold_id, hold.placed_at, hold.selection)])
    s = hold.selection
    reads = pl.DataFrame()
    if table_exists(settings, READS):
        scan = scan_table(settings, READS)
        if s.start and s.end and not s.read_ids:  # prune partitions outside the window
            scan = scan.filter(pl.col("capture_date").is_between(s.start.date(), s.end.date()))
        reads = (
            scan.with_columns(plate_key_expr("plate_text").alias("plate_key"))
            .filter(held_expr(this))
            .drop("plate_key")
            .sort("captured_at", "read_id")
            .collect()
        )
    image_ids = set(reads.get_column("image_id").to_list()) if reads.height else set()
    query = sa.select(camera_objects).where(camera_objects.c.status == "ingested")
    with engine.connect() as conn:
        direct: list[dict[str, Any]] = []
        if s.cameras or s.start:
            q = query.where(camera_objects.c.captured_at <= hold.placed_at)
            if s.cameras:
                q = q.where(camera_objects.c.camera_id.in_(s.cameras))
            if s.start and s.end:
                q = q.where(
                    camera_objects.c.captured_at >= s.start, camera_objects.c.captured_at < s.end
                )
            direct = [dict(r) for r in conn.execute(q).mappings()]
        by_read = (
            [
                dict(r)
                for r in conn.execute(
                    query.where(camera_objects.c.image_id.in_(sorted(image_ids)))
                ).mappings()
            ]
            if image_ids
            else []
        )
    rows = {r["image_id"]: r for r in by_read}
    if direct and not s.plates:
        candidates = pl.DataFrame(
            [
                {
                    "image_id": r["image_id"],
                    "read_id": None,
                    "plate_key": None,
                    "camera_id": r["camera_id"],
                    "captured_at": utc(r["captured_at"]),
                }
                for r in direct
            ],
            schema={
                "image_id": pl.String,
                "read_id": pl.String,
                "plate_key": pl.String,
                "camera_id": pl.String,
                "captured_at": pl.Datetime("us", "UTC"),
            },
        )
        kept = set(candidates.filter(held_expr(this)).get_column("image_id").to_list())
        rows.update({r["image_id"]: r for r in direct if r["image_id"] in kept})
    images = pl.DataFrame(
        [
            {
                "image_id": r["image_id"],
                "bucket": r["bucket"],
                "key": r["key"],
                "etag": r["etag"],
                "sha256": r["sha256"],
                "sidecar_key": r["sidecar_key"],
                "camera_id": r["camera_id"],
                "captured_at": utc(r["captured_at"]),
            }
            for r in sorted(rows.values(), key=lambda r: r["image_id"])
        ],
        schema={
            "image_id": pl.String,
            "bucket": pl.String,
            "key": pl.String,
            "etag": pl.String,
            "sha256": pl.String,
            "sidecar_key": pl.String,
            "camera_id": pl.String,
            "captured_at": pl.Datetime("us", "UTC"),
        },
    )
    detections = pl.DataFrame()
    if reads.height and table_exists(settings, DETECTIONS):
        ids = reads.get_column("detection_id").implode()
        detections = (
            scan_table(settings, DETECTIONS)
            .filter(
                pl.col("capture_date").is_in(reads.get_column("capture_date").unique().implode())
            )
            .filter(pl.col("detection_id").is_in(ids))
            .select("detection_id", "image_id", "camera_id", "captured_at", "crop_key")
            .sort("detection_id")
            .collect()
        )
    return reads, images, detections


def _copy(settings: Settings, engine: sa.Engine, hold: Hold) -> None:
    reads, images, detections = _selected(settings, engine, hold)
    client = s3_client(settings.s3)
    with engine.connect() as conn:
        done = set(
            conn.execute(
                sa.select(preserved_objects.c.evidence_key).where(
                    preserved_objects.c.hold_id == hold.hold_id
                )
            ).scalars()
        )
    prefix = hold.evidence_prefix

    def keep(
        key: str, kind: str, source: str, body: bytes, expected: str | None, **facts: Any
    ) -> None:
        if key in done:
            return
        digest = hashlib.sha256(body).hexdigest()
        if expected and expected != digest:
            raise StorageError(
                f"source {source} no longer matches the sha256 recorded at ingestion"
            )
        found = existing_sha256(settings, key)  # stored before a crash, not yet recorded
        if found and found[0] == digest:
            version = found[1]
        else:
            version = put_locked(
                settings, key, body, digest, hold.retain_until, {"hold-id": hold.hold_id}
            )
        verified = hashlib.sha256(read_verified(settings, key, digest, version)).hexdigest()
        with engine.begin() as conn:
            insert_new(
                conn,
                preserved_objects,
                [
                    {
                        "hold_id": hold.hold_id,
                        "evidence_key": key,
                        "kind": kind,
                        "source": source,
                        "source_etag": facts.get("etag"),
                        "image_id": facts.get("image_id"),
                        "read_id": facts.get("read_id"),
                        "camera_id": facts.get("camera_id"),
                        "captured_at": facts.get("captured_at"),
                        "sha256": digest,
                        "size_bytes": len(body),
                        "version_id": version,
                        "copied_at": hold.placed_at,
                        "verified_sha256": verified,
                    }
                ],
            )
        done.add(key)

    for image in images.iter_rows(named=True):
        facts = {k: image[k] for k in ("image_id", "camera_id", "captured_at", "etag")}
        body = client.get_object(Bucket=image["bucket"], Key=image["key"])["Body"].read()
        suffix = PurePosixPath(image["key"]).suffix
        keep(
            f"{prefix}images/{image['image_id']}{suffix}",
            "image",
            f"s3://{image['bucket']}/{image['key']}",
            body,
            image["sha256"],
            **facts,
        )
        if image["sidecar_key"]:
            side = client.get_object(Bucket=image["bucket"], Key=image["sidecar_key"])[
                "Body"
            ].read()
            keep(
                f"{prefix}images/{image['image_id']}.json",
                "sidecar",
                f"s3://{image['bucket']}/{image['sidecar_key']}",
                side,
                None,
                **facts,
            )
    lake = settings.s3.lake_bucket
    for det in detections.iter_rows(named=True):
        body = client.get_object(Bucket=lake, Key=det["crop_key"])["Body"].read()
        keep(
            f"{prefix}crops/{det['detection_id']}.jpg",
            "crop",
            f"s3://{lake}/{det['crop_key']}",
            body,
            None,
            image_id=det["image_id"],
            read_id=det["detection_id"],
            camera_id=det["camera_id"],
            captured_at=det["captured_at"],
        )
    if reads.height:
        records = reads.with_columns(
            pl.col("captured_at").dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ"),
            pl.col("capture_date").cast(pl.String),
        )
        body = "".join(
            json.dumps(r, sort_keys=True) + "\n" for r in records.iter_rows(named=True)
        ).encode()
        keep(
            f"{prefix}reads.jsonl",
            "reads",
            "table:reads",
            body,
            None,
            captured_at=reads.get_column("captured_at").min(),
        )


def _objects(engine: sa.Engine, hold_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(preserved_objects)
            .where(preserved_objects.c.hold_id == hold_id)
            .order_by(preserved_objects.c.evidence_key)
        ).mappings()
        out = [dict(r) for r in rows]
    for r in out:
        if r["captured_at"] is not None:
            r["captured_at"] = utc(r["captured_at"]).isoformat()
        r["copied_at"] = utc(r["copied_at"]).isoformat()
    return out


def _finish(settings: Settings, engine: sa.Engine, hold: Hold, user: User) -> None:
    """Manifest and README into the evidence bucket and the export bundle; the hold preserved."""
    objects = _objects(engine, hold.hold_id)
    documents = {
        "manifest.json": manifest_json(hold, objects),
        "manifest.csv": manifest_csv(objects),
        "README.txt": readme(hold, len(objects)),
    }
    for name, body in documents.items():
        key = f"{hold.evidence_prefix}{name}"
        digest = hashlib.sha256(body).hexdigest()
        found = existing_sha256(settings, key)
        if not found:
            put_locked(settings, key, body, digest, hold.retain_until, {"hold-id": hold.hold_id})
        elif found[0] != digest:
            raise StorageError(
                f"evidence {key} exists with other content; refusing to add a version"
            )
    files = {
        o["evidence_key"].removeprefix(hold.evidence_prefix): read_verified(
            settings, o["evidence_key"], o["sha256"], o["version_id"] or ""
        )
        for o in objects
    }
    bundle = write_bundle(_bundle_folder(settings, hold), files | documents)
    with engine.begin() as conn:
        conn.execute(
            holds.update().where(holds.c.hold_id == hold.hold_id).values(status="preserved")
        )
        record(
            conn,
            actor=user.name,
            action="preservation.complete",
            subject=f"hold:{hold.hold_id}",
            details={
                "case_number": hold.case_number,
                "objects": len(objects),
                "manifest_sha256": hashlib.sha256(documents["manifest.json"]).hexdigest(),
                "bundle": bundle.name,
            },
            now=hold.placed_at,
        )


def file_interview_report(
    settings: Settings,
    user: User,
    hold_id: str,
    *,
    reason: str,
    basis: str | LegalBasis,
    now: datetime,
) -> InterviewReport:
    """Record who is about to access a hold's data and why (PP-9126 C.5); returns the report."""
    now = require_utc(now)
    _require_role(settings, user, *_READERS, action="file a field interview report")
    legal_basis = parse_basis(basis)
    if not reason.strip():
        raise PolicyRefusal(
            "a field interview report needs the reason for the access (PP-9126 C.5)"
        )
    engine = _engine(settings)
    report_id = (
        "fir-"
        + hashlib.sha256(f"{hold_id}{user.name}{now.isoformat()}{reason}".encode()).hexdigest()[:20]
    )
    with engine.begin() as conn:
        get_hold(conn, hold_id)
        conn.execute(
            field_interview_reports.insert().values(
                report_id=report_id,
                hold_id=hold_id,
                person=user.name,
                reason=reason,
                legal_basis=legal_basis.value,
                filed_at=now,
            )
        )
        record(
            conn,
            actor=user.name,
            action="preservation.interview_report",
            subject=f"hold:{hold_id}",
            details={"report_id": report_id, "legal_basis": legal_basis.value},
            now=now,
        )
    return InterviewReport(report_id, hold_id, user.name, reason, legal_basis.value, now)


def list_interview_reports(
    settings: Settings, user: User, hold_id: str | None = None
) -> list[InterviewReport]:
    """Every field interview report (administrators, PP-9126 C.7), oldest first."""
    _require_role(settings, user, Role.ADMINISTRATOR, action="list field interview reports")
    query = sa.select(field_interview_reports).order_by(field_interview_reports.c.filed_at)
    if hold_id:
        query = query.where(field_interview_reports.c.hold_id == hold_id)
    with _engine(settings).connect() as conn:
        return [
            InterviewReport(
                r.report_id, r.hold_id, r.person, r.reason, r.legal_basis, utc(r.filed_at)
            )
            for r in conn.execute(query)
        ]


def read_preserved(
    settings: Settings, user: User, hold_id: str, *, now: datetime, report_id: str | None = None
) -> list[dict[str, Any]]:
    """The preserved read records of a hold, read back from evidence and checked against their
    sha256. Data captured longer ago than ``preservation.access_report_after_days`` needs a field
    interview report filed by the same person for this hold first (C.5); without, nothing."""
    now = require_utc(now)
    _require_role(settings, user, *_READERS, action="read preserved data")
    engine = _engine(settings)
    with engine.connect() as conn:
        hold = get_hold(conn, hold_id)
        oldest = conn.execute(
            sa.select(sa.func.min(preserved_objects.c.captured_at)).where(
                preserved_objects.c.hold_id == hold_id
            )
        ).scalar_one_or_none()
        report = None
        if report_id:
            report = conn.execute(
                sa.select(field_interview_reports).where(
                    field_interview_reports.c.report_id == report_id,
                    field_interview_reports.c.hold_id == hold_id,
                    field_interview_reports.c.person == user.name,
                    field_interview_reports.c.filed_at <= now,
                )
            ).one_or_none()
    limit = now - timedelta(days=settings.preservation.access_report_after_days)
    if oldest is not None and utc(oldest) < limit and report is None:
        why = (
            "preserved data older than one year may be read only after a field interview report "
            "(person, reason, basis) is filed for it (PP-9126 C.5): file one first"
        )
        _refused(settings, user, "preservation.read", f"hold:{hold_id}", why, now)
        raise PolicyRefusal(why)
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(preserved_objects).where(
                preserved_objects.c.hold_id == hold_id, preserved_objects.c.kind == "reads"
            )
        ).one_or_none()
        record(
            conn,
            actor=user.name,
            action="preservation.read",
            subject=f"hold:{hold_id}",
            details={"report_id": report_id or ""},
            now=now,
        )
    if row is None:
        return []
    body = read_verified(settings, row.evidence_key, row.sha256, row.version_id or "")
    del hold
    return [json.loads(line) for line in body.decode().splitlines() if line]
