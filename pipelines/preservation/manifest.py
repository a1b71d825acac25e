"""The chain-of-custody manifest (JSON and CSV) and the export bundle for evidence.com."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipelines import __version__
from pipelines.preservation.holds import Hold

__all__ = ["MANIFEST_COLUMNS", "manifest_csv", "manifest_json", "readme", "write_bundle"]

MANIFEST_COLUMNS = (
    "evidence_key",
    "kind",
    "source",
    "source_etag",
    "image_id",
    "read_id",
    "camera_id",
    "captured_at",
    "size_bytes",
    "sha256",
    "verified_sha256",
    "version_id",
    "copied_at",
)


def _row(obj: dict[str, Any]) -> dict[str, str]:
    return {c: "" if obj.get(c) is None else str(obj[c]) for c in MANIFEST_COLUMNS}


def manifest_json(hold: Hold, objects: Sequence[dict[str, Any]]) -> bytes:
    """Who, when, why and what, with each object's hashes (no plate text: that is in reads)."""
    document = {
        "manifest_version": 1,
        "software": f"alpr-pipeline {__version__}",
        "hold_id": hold.hold_id,
        "case_number": hold.case_number,
        "legal_basis": hold.legal_basis,
        "reason": hold.reason,
        "requester": hold.requester,
        "preserved_by": hold.placed_by,
        "preserved_at": hold.placed_at.isoformat(),
        "policy": "PP-9126 C.4.c; C.R.S. 24-72-113",
        "selection": hold.selection.summary(),
        "evidence_bucket": hold.evidence_bucket,
        "evidence_prefix": hold.evidence_prefix,
        "object_lock": {"mode": "COMPLIANCE", "retain_until": hold.retain_until.isoformat()},
        "custody": [
            {
                "event": "collected",
                "by": hold.placed_by,
                "at": hold.placed_at.isoformat(),
                "detail": "copied from the lake and camera-drop buckets, sha256 computed on read",
            },
            {
                "event": "stored",
                "by": hold.placed_by,
                "at": hold.placed_at.isoformat(),
                "detail": "written under S3 Object Lock COMPLIANCE; sha256 checked by the store "
                "on receipt and recomputed on read-back",
            },
        ],
        "objects": [_row(o) for o in objects],
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def manifest_csv(objects: Sequence[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(MANIFEST_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(_row(o) for o in objects)
    return out.getvalue().encode()


def readme(hold: Hold, count: int) -> bytes:
    return (
        f"ALPR evidence export, case {hold.case_number} (hold {hold.hold_id})\n"
        f"Legal basis: {hold.legal_basis} (PP-9126 C.4.c, C.R.S. 24-72-113)\n"
        f"Requested by {hold.requester}; preserved by {hold.placed_by} at "
        f"{hold.placed_at.isoformat()}\n\n"
        f"{count} files. manifest.json and manifest.csv list each file with its source, capture\n"
        "time, camera and sha256; check a file with `sha256sum <file>` against the manifest.\n"
        "reads.jsonl holds the plate read records. Upload this folder (or the zip) to\n"
        "evidence.com as it is. The originals stay in the evidence bucket under S3 Object Lock\n"
        f"(COMPLIANCE) until {hold.retain_until.isoformat()}.\n"
        "Reading this data more than one year after capture requires a field interview report\n"
        "(PP-9126 C.5).\n"
    ).encode()


def write_bundle(folder: Path, files: dict[str, bytes]) -> Path:
    """``files`` (relative name -> bytes) in ``folder`` and ``folder``.zip; returns the zip."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    archive = folder.with_suffix(".zip")
    partial = archive.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            zf.writestr(f"{folder.name}/{name}", files[name])
    partial.replace(archive)  # a bundle is whole or absent
    return archive
