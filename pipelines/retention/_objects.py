"""Deleting objects for good: every version and delete marker, then the store's own vacuum."""

from __future__ import annotations

import json
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlparse

from pipelines.config import Settings
from pipelines.errors import StorageError
from pipelines.storage.objects import s3_client

__all__ = ["delete_prefix_versions", "delete_versions", "master_url", "vacuum_store"]

_DELETE_BATCH = 1000  # what one DeleteObjects call takes


def _directory(key: str) -> str:
    return key.rsplit("/", 1)[0] + "/" if "/" in key else ""


def _versions(client: Any, bucket: str, prefix: str) -> Iterable[tuple[str, str]]:
    """(key, version id) of every version and delete marker under ``prefix``."""
    pages = client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            yield entry["Key"], entry["VersionId"]


def _delete(client: Any, bucket: str, targets: list[tuple[str, str]]) -> int:
    for start in range(0, len(targets), _DELETE_BATCH):
        chunk = targets[start : start + _DELETE_BATCH]
        answer = client.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": k, "VersionId": v} for k, v in chunk], "Quiet": True},
        )
        failed = [e for e in answer.get("Errors", []) if e.get("Code") != "NoSuchVersion"]
        if failed:
            codes = sorted({e.get("Code", "?") for e in failed})
            raise StorageError(f"{len(failed)} object versions in {bucket} not deleted: {codes}")
    return len(targets)


def delete_versions(settings: Settings, bucket: str, keys: Iterable[str]) -> int:
    """Delete every version (and delete marker) of ``keys`` in ``bucket``; returns how many.

    Keys are listed by their folder (``<camera>/<date>/`` in the default layout), so the cost is
    that of the folders being deleted, not of the bucket.
    """
    client = s3_client(settings.s3)
    by_folder: dict[str, set[str]] = defaultdict(set)
    for key in keys:
        by_folder[_directory(key)].add(key)
    deleted = 0
    for folder, wanted in sorted(by_folder.items()):
        targets = [(k, v) for k, v in _versions(client, bucket, folder) if k in wanted]
        deleted += _delete(client, bucket, targets)
    return deleted


def delete_prefix_versions(
    settings: Settings, bucket: str, prefix: str, keep: Callable[[str], bool]
) -> int:
    """Delete every version of the objects under ``prefix`` whose key ``keep`` refuses."""
    client = s3_client(settings.s3)
    targets = [(k, v) for k, v in _versions(client, bucket, prefix) if not keep(k)]
    return _delete(client, bucket, targets)


def master_url(settings: Settings) -> str:
    """The SeaweedFS master to vacuum, or "" when the store is not SeaweedFS (or not asked)."""
    configured = settings.retention.seaweed_master_url
    if configured != "auto":
        return configured
    answer = s3_client(settings.s3).list_buckets()
    server = answer["ResponseMetadata"]["HTTPHeaders"].get("server", "")
    if not server.startswith("SeaweedFS"):
        return ""
    endpoint = urlparse(settings.s3.endpoint_url)
    # the embedded server's layout (pipelines.storage.seaweed.SeaweedServer): master = S3 + 1000
    return f"http://{endpoint.hostname}:{(endpoint.port or 8333) + 1000}"


def vacuum_store(settings: Settings, timeout: float = 600.0, attempts: int = 10) -> bool:
    """Ask SeaweedFS to compact every volume holding deleted needles, so that deleted bytes
    leave its data files; False when there is no SeaweedFS master to ask.

    The master ignores a request while its own periodic vacuum runs, so the request is repeated,
    a second apart, until no volume server reports deleted bytes, at most ``attempts`` times
    (bytes other writers delete meanwhile are left to the next pass)."""
    url = master_url(settings)
    if not url:
        return False
    for attempt in range(attempts):
        _get(f"{url.rstrip('/')}/vol/vacuum?garbageThreshold=0.0001", timeout)
        if not _deleted_bytes(url, timeout) or attempt == attempts - 1:
            return True
        time.sleep(1.0)
    return True


def _get(url: str, timeout: float) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read() or b"{}")
    except (OSError, ValueError) as exc:
        raise StorageError(f"SeaweedFS request {url} failed: {exc}") from exc


def _deleted_bytes(master: str, timeout: float) -> int:
    """Deleted bytes still in the volumes, as each volume server reports them now (the master's
    own view waits for the next heartbeat)."""
    topology = _get(f"{master.rstrip('/')}/dir/status", timeout).get("Topology", {})
    nodes = [
        node["Url"]
        for center in topology.get("DataCenters") or []
        for rack in center.get("Racks") or []
        for node in rack.get("DataNodes") or []
    ]
    return sum(
        volume.get("DeletedByteCount", 0)
        for node in nodes
        for volume in _get(f"http://{node}/status", timeout).get("Volumes") or []
    )
