"""The evidence bucket: S3 Object Lock in COMPLIANCE mode, every object written once, its sha256
checked by the store on receipt and again by reading it back."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from pipelines.config import Settings
from pipelines.errors import ConfigError, StorageError
from pipelines.storage.objects import s3_client

__all__ = ["ensure_evidence_bucket", "existing_sha256", "put_locked", "read_verified"]


def ensure_evidence_bucket(settings: Settings) -> str:
    """The evidence bucket, created with Object Lock; refused when it is a scanned-data bucket or
    exists without Object Lock (nothing would stop its objects being deleted)."""
    bucket = settings.preservation.evidence_bucket
    if bucket in (settings.s3.drops_bucket, settings.s3.lake_bucket):
        raise ConfigError(
            f"preservation.evidence_bucket={bucket!r} must differ from s3.drops_bucket and "
            "s3.lake_bucket: evidence never shares the scanned data's bucket"
        )
    client = s3_client(settings.s3)
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
        client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    try:
        config = client.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except ClientError:
        config = {}
    if config.get("ObjectLockEnabled") != "Enabled":
        raise StorageError(
            f"evidence bucket {bucket!r} has no S3 Object Lock: create it with Object Lock "
            "enabled (it cannot be turned on later on most stores)"
        )
    return bucket


def existing_sha256(settings: Settings, key: str) -> tuple[str, str] | None:
    """(sha256, version id) of an evidence object already written, or None."""
    client = s3_client(settings.s3)
    try:
        head = client.head_object(Bucket=settings.preservation.evidence_bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return head.get("Metadata", {}).get("sha256", ""), head.get("VersionId", "")


def put_locked(
    settings: Settings,
    key: str,
    body: bytes,
    sha256: str,
    retain_until: datetime,
    metadata: dict[str, str] | None = None,
) -> str:
    """Write ``body`` under COMPLIANCE retention until ``retain_until``; returns its version id.

    The store checks ``ChecksumSHA256`` on receipt and refuses a body that does not match.
    """
    if hashlib.sha256(body).hexdigest() != sha256:
        raise StorageError(f"evidence {key}: bytes do not match their sha256 before upload")
    answer: dict[str, Any] = s3_client(settings.s3).put_object(
        Bucket=settings.preservation.evidence_bucket,
        Key=key,
        Body=body,
        ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=retain_until,
        Metadata={"sha256": sha256, **(metadata or {})},
    )
    return str(answer.get("VersionId", ""))


def read_verified(settings: Settings, key: str, sha256: str, version_id: str = "") -> bytes:
    """The evidence object's bytes, refused unless they hash to ``sha256``."""
    extra = {"VersionId": version_id} if version_id else {}
    body: bytes = (
        s3_client(settings.s3)
        .get_object(Bucket=settings.preservation.evidence_bucket, Key=key, **extra)["Body"]
        .read()
    )
    if hashlib.sha256(body).hexdigest() != sha256:
        raise StorageError(f"evidence {key}: sha256 read back differs from the one recorded")
    return body
