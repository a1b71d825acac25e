"""Exports of reads to another agency, under an agreement in force (PP-9126 C.6), audited.

``share_reads`` selects reads exactly as a search does (``pipelines/search``: the same role check,
training gate where ``audit.require_training`` is on, reason gate, criteria and reads scan) and
adds what sharing needs: an agreement registered, not revoked, in force now and covering the
export's purpose, which is its reason category (one of ``sharing.purposes``, criminal-justice
purposes only). It writes a bundle folder:

- ``reads.jsonl``: one JSON object per read (``SHARED_COLUMNS``), by capture time;
- ``README.txt``: the agreement's terms the recipient is held to;
- ``manifest.json``: export id, agreement, who, when, purpose, reason, case, criteria, the number
  of reads, and each other file's size and sha256.

The manifest's own sha256 is kept in ``sharing_exports`` and the audit log, so a recipient can
confirm the manifest with the department and every file with the manifest (``verify_bundle``).
Every attempt is audited as ``sharing.export``: refused (naming the field), failed, or made (with
the counts and hashes; criteria and reason, never the reads).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pipelines import __version__
from pipelines.audit.log import record, record_committed, require_utc
from pipelines.audit.training import Function, require_training
from pipelines.audit.users import User, get_user, require_role
from pipelines.config import Settings
from pipelines.errors import AlprError, StorageError
from pipelines.search import (
    RESULT_COLUMNS,
    SEARCHERS,
    Criteria,
    Reason,
    SearchRequest,
    check_reason,
    find_reads,
)
from pipelines.sharing.agreements import Agreement, SharingRefusal, check_in_force, get_agreement
from pipelines.sharing.tables import sharing_exports
from pipelines.storage.catalog import engine_for

__all__ = [
    "EXPORTERS",
    "EXPORT_ACTION",
    "MANIFEST",
    "SHARED_COLUMNS",
    "ShareRequest",
    "ShareResult",
    "share_reads",
    "verify_bundle",
]

EXPORT_ACTION = "sharing.export"  # the audit log's action of every export, whatever its outcome
EXPORTERS = SEARCHERS  # who may export reads: those who may search them
MANIFEST = "manifest.json"
READS_FILE = "reads.jsonl"
README_FILE = "README.txt"
# What an export hands over of each read: the read and its location, not the department's storage
# (the image's bucket and key).
SHARED_COLUMNS = tuple(c for c in RESULT_COLUMNS if c not in ("image_bucket", "image_key"))


@dataclass(frozen=True)
class ShareRequest:
    """An export as asked for, unchecked: the agreement's MOU id and a search's reason and
    criteria (``query``)."""

    agreement: str
    query: SearchRequest

    def as_audit(self) -> dict[str, Any]:
        return {"agreement": self.agreement, **self.query.as_audit()}


@dataclass(frozen=True)
class ShareResult:
    export_id: str
    event_id: int  # the audit entry of this export
    agreement: str
    reads: int
    bundle: Path  # the folder written
    files: dict[str, str]  # file name -> sha256, the manifest's included
    manifest_sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "export_id": self.export_id,
            "audit_event": self.event_id,
            "agreement": self.agreement,
            "reads": self.reads,
            "bundle": str(self.bundle),
            "manifest_sha256": self.manifest_sha256,
            "files": self.files,
        }


def share_reads(
    settings: Settings, user: User, request: ShareRequest, out: Path, *, now: datetime
) -> ShareResult:
    """Export the reads ``request`` selects to the folder ``out`` (absent or empty), once role,
    reason, agreement and criteria pass; audited either way.

    Raises ``PermissionDenied`` / ``AuthenticationError`` for a user who may not export and
    ``SharingRefusal`` / ``SearchRefusal`` (``PolicyRefusal``) naming the field at fault.
    """
    now = require_utc(now)
    engine = engine_for(settings.catalog_url)
    q = request.query
    try:
        with engine.connect() as conn:
            current = get_user(conn, user.name)
            require_role(current, *EXPORTERS, action="share reads with another agency")
            if settings.audit.require_training:  # an export is a search of reads (B.3, B.5)
                require_training(conn, current.name, Function.SEARCH, now=now)
            found_agreement = get_agreement(conn, request.agreement)
        reason = check_reason(Reason(q.reason_category, q.reason, q.case), settings.audit)
        agreement = check_in_force(
            found_agreement, request.agreement, reason.category, settings.sharing, now
        )
        criteria = Criteria(
            plate=q.plate, cameras=q.cameras, states=q.states, start=q.start, end=q.end
        )
        out = _destination(out)
    except AlprError as exc:
        refusal = {"why": str(exc), "field": getattr(exc, "field", "user")}
        _audit(
            engine, user.name, request.agreement, "refused", {**request.as_audit(), **refusal}, now
        )
        raise
    audited = {"agreement": agreement.mou_id, "criteria": criteria.as_audit(), **reason.as_audit()}
    limit = settings.sharing.max_export_reads
    try:
        found = find_reads(settings, criteria, limit)
    except Exception as exc:
        _audit(
            engine,
            current.name,
            agreement.mou_id,
            "failed",
            {**audited, "why": type(exc).__name__},
            now,
        )
        raise
    if found.total > limit:
        too_many = SharingRefusal(
            "criteria",
            f"{found.total} reads match; an export holds at most {limit} "
            "(sharing.max_export_reads): narrow the criteria",
        )
        details = {**audited, "results": found.total, "why": str(too_many), "field": "criteria"}
        _audit(engine, current.name, agreement.mou_id, "refused", details, now)
        raise too_many
    export_id = f"shr-{uuid.uuid4().hex[:16]}"
    documents = {
        README_FILE: _readme(agreement, export_id, found.total),
        READS_FILE: found.rows.select(SHARED_COLUMNS).write_ndjson().encode(),
    }
    manifest = _manifest(
        export_id, agreement, current.name, now, reason, criteria, found.total, documents
    )
    files = {name: _sha256(body) for name, body in documents.items()}
    files[MANIFEST] = _sha256(manifest)
    partial = out.with_name(f".{out.name}.{export_id}.partial")
    try:
        _write(partial, {**documents, MANIFEST: manifest})
        with engine.begin() as conn:
            event_id = record(
                conn,
                actor=current.name,
                action=EXPORT_ACTION,
                subject=f"agreement:{agreement.mou_id}",
                outcome="ok",
                details={
                    **audited,
                    "export_id": export_id,
                    "agency": agreement.agency,
                    "results": found.total,
                    "files": files,
                    "destination": str(out),
                },
                now=now,
            )
            conn.execute(
                sharing_exports.insert().values(
                    export_id=export_id,
                    mou_id=agreement.mou_id,
                    exported_at=now,
                    exported_by=current.name,
                    purpose=reason.category,
                    reason=reason.text,
                    case_number=reason.case,
                    criteria=json.dumps(criteria.as_audit(), sort_keys=True),
                    reads=found.total,
                    files=json.dumps(files, sort_keys=True),
                    manifest_sha256=files[MANIFEST],
                    destination=str(out),
                    event_id=event_id,
                )
            )
        partial.rename(out)  # audited first: no bundle leaves without its entry
    except Exception as exc:
        shutil.rmtree(partial, ignore_errors=True)
        _audit(
            engine,
            current.name,
            agreement.mou_id,
            "failed",
            {**audited, "why": type(exc).__name__},
            now,
        )
        raise
    return ShareResult(
        export_id, event_id, agreement.mou_id, found.total, out, files, files[MANIFEST]
    )


def verify_bundle(folder: Path, manifest_sha256: str = "") -> dict[str, str]:
    """Each file of the bundle in ``folder`` checked against its manifest (and the manifest
    against ``manifest_sha256`` when given); its files' hashes, or a ``StorageError`` naming
    the first file that is missing, changed or not listed."""
    body = (folder / MANIFEST).read_bytes()
    if manifest_sha256 and _sha256(body) != manifest_sha256:
        raise StorageError(f"{MANIFEST} does not hash to the sha256 recorded for the export")
    listed = {f["name"]: f for f in json.loads(body)["files"]}
    present = {p.name for p in folder.iterdir() if p.is_file()} - {MANIFEST}
    extra = sorted(present - set(listed))
    if extra:
        raise StorageError(f"bundle file {extra[0]} is not listed in {MANIFEST}")
    hashes = {}
    for name, entry in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            raise StorageError(f"bundle file {name} is missing")
        data = path.read_bytes()
        if len(data) != entry["bytes"] or _sha256(data) != entry["sha256"]:
            raise StorageError(f"bundle file {name} does not match its sha256 in {MANIFEST}")
        hashes[name] = entry["sha256"]
    return hashes


def _destination(out: Path) -> Path:
    """``out`` as an absolute path, refused if it holds anything already (nothing is replaced)."""
    out = out.expanduser().absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SharingRefusal("out", f"{out} exists and is not an empty folder")
    if not out.parent.is_dir():
        raise SharingRefusal("out", f"folder {out.parent} does not exist")
    return out


def _write(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir()
    for name, body in files.items():
        (folder / name).write_bytes(body)


def _manifest(
    export_id: str,
    agreement: Agreement,
    by: str,
    now: datetime,
    reason: Reason,
    criteria: Criteria,
    reads: int,
    documents: dict[str, bytes],
) -> bytes:
    document = {
        "manifest_version": 1,
        "software": f"alpr-pipeline {__version__}",
        "policy": "PP-9126 C.6",
        "export_id": export_id,
        "agreement": agreement.terms(),
        "exported_by": by,
        "exported_at": now.isoformat(),
        "purpose": reason.category,
        "reason": reason.text,
        "case": reason.case,
        "criteria": criteria.as_audit(),
        "reads": reads,
        "columns": list(SHARED_COLUMNS),
        "files": [
            {"name": name, "bytes": len(body), "sha256": _sha256(body)}
            for name, body in sorted(documents.items())
        ],
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def _readme(agreement: Agreement, export_id: str, reads: int) -> bytes:
    retention = (
        f"Retention terms agreed by this non-governmental recipient: {agreement.retention_terms}\n"
        "Its retention must comply with federal, state and local law.\n"
        if agreement.non_governmental
        else ""
    )
    return (
        f"ALPR data shared under policy PP-9126, export {export_id}\n"
        f"Under agreement {agreement.mou_id} with {agreement.agency} "
        f"(contact: {agreement.contact}), in force until {agreement.expires_at.isoformat()}.\n"
        f"For criminal justice purposes only (PP-9126 C.6): {', '.join(agreement.purposes)}.\n"
        f"{retention}\n"
        f"{READS_FILE} holds {reads} plate reads, one JSON object per line. {MANIFEST} lists\n"
        "every other file with its size and sha256: check them with `sha256sum <file>`, and the\n"
        "manifest's own sha256 with the department.\n"
    ).encode()


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _audit(
    engine: sa.Engine,
    actor: str,
    mou_id: str,
    outcome: str,
    details: dict[str, Any],
    now: datetime,
) -> int:
    """One audit entry for the export, committed in a transaction of its own."""
    return record_committed(
        engine,
        actor=actor,
        action=EXPORT_ACTION,
        subject=f"agreement:{mou_id[:64]}",
        outcome=outcome,
        details=details,
        now=now,
    )
