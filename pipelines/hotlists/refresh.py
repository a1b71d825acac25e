"""Import a hotlist file, or fetch and import the configured sources: what the CLI, the Dagster
assets and the Airflow tasks call.

A source's location is ``s3://bucket/prefix`` (the newest object under the prefix: vendors drop a
new full file each day), an ``https://`` URL, or a local path (a file, or the newest file of a
directory). A fetched file whose sha256 is the active version's is not imported again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from pipelines.audit.log import record
from pipelines.audit.users import User, service_user
from pipelines.config import HotlistSource, Settings
from pipelines.errors import AlprError, HotlistError
from pipelines.hotlists.parse import parse_hotlist
from pipelines.hotlists.snapshot import ImportResult, ListSpec, active_sha256, import_snapshot
from pipelines.storage.catalog import engine_for
from pipelines.storage.objects import s3_client

__all__ = ["Fetched", "RefreshOutcome", "fetch_source", "import_file", "refresh_source"]


@dataclass(frozen=True)
class Fetched:
    location: str  # the exact object, URL or file read
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class RefreshOutcome:
    """One source's refresh: ``activated`` (with its result), ``unchanged`` or ``rejected``."""

    source: str
    status: str
    location: str
    sha256: str
    result: ImportResult | None = None
    error: str | None = None

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {"source": self.source, "status": self.status}
        out["location"] = self.location
        if self.result is not None:
            out.update(self.result.summary())
        if self.error is not None:
            out["error"] = self.error
        return out


def spec_for(settings: Settings, list_name: str, fmt: str) -> ListSpec:
    """The configured source of that name, or a new list with default settings."""
    source = settings.hotlists.source(list_name)
    if source is None:
        return ListSpec(list_name, fmt)
    if source.format != fmt:
        raise HotlistError(f"list {list_name!r} is configured as {source.format}, not {fmt}")
    return ListSpec.of(source)


def import_file(
    settings: Settings,
    data: bytes,
    spec: ListSpec,
    *,
    source: str,
    now: datetime,
    user: User | None = None,
    force: bool = False,
    reason: str | None = None,
) -> ImportResult:
    """Parse and import one file as the next version of ``spec.name``, acting as ``user`` (the
    service account when None). A rejection is audited in a transaction of its own and raised as
    HotlistError; the active version is then unchanged."""
    parsed = parse_hotlist(
        data,
        spec.format,
        list_name=spec.name,
        settings=settings.hotlists,
        list_codes=spec.list_codes,
    )
    sha256 = hashlib.sha256(data).hexdigest()
    engine = engine_for(settings.catalog_url)
    try:
        with engine.begin() as conn:
            actor = user or service_user(conn, now=now)
            return import_snapshot(
                conn,
                parsed,
                spec,
                sha256=sha256,
                source=source,
                actor=actor,
                now=now,
                settings=settings.hotlists,
                force=force,
                reason=reason,
            )
    except HotlistError as exc:
        _record_rejection(engine, spec.name, source, sha256, exc, user, now)
        raise


def _record_rejection(
    engine: sa.Engine,
    list_name: str,
    source: str,
    sha256: str,
    exc: HotlistError,
    user: User | None,
    now: datetime,
) -> None:
    with engine.begin() as conn:
        actor = user or service_user(conn, now=now)
        record(
            conn,
            actor=actor.name,
            action="hotlist.reject",
            subject=f"hotlist:{list_name}",
            outcome="rejected",
            details={
                "source": source,
                "sha256": sha256,
                "problems": len(exc.problems),
                "first_problems": [f"{n}: {r}" for n, r in exc.problems[:20]],
            },
            now=now,
        )


def fetch_source(settings: Settings, source: HotlistSource) -> Fetched:
    """The newest file of a source's location."""
    location = source.location
    if location.startswith("s3://"):
        bucket, _, prefix = location[5:].partition("/")
        client = s3_client(settings.s3)
        newest: tuple[str, str] | None = None
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                # LastModified is kept as the server's ISO string (see s3_client): it sorts.
                candidate = (str(obj["LastModified"]), obj["Key"])
                newest = candidate if newest is None or candidate > newest else newest
        if newest is None:
            raise HotlistError(f"source {source.name!r}: no object under {location}")
        body = client.get_object(Bucket=bucket, Key=newest[1])["Body"].read()
        return Fetched(f"s3://{bucket}/{newest[1]}", body)
    if location.startswith("https://"):
        try:
            response = httpx.get(
                location, timeout=settings.hotlists.fetch_timeout_seconds, follow_redirects=True
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise HotlistError(
                f"source {source.name!r}: fetching {location} failed: {exc}"
            ) from exc
        return Fetched(location, response.content)
    path = Path(location)
    if path.is_dir():
        files = sorted((p for p in path.iterdir() if p.is_file()), key=lambda p: p.stat().st_mtime)
        if not files:
            raise HotlistError(f"source {source.name!r}: no file in {location}")
        path = files[-1]
    try:
        return Fetched(str(path), path.read_bytes())
    except OSError as exc:
        raise HotlistError(f"source {source.name!r}: cannot read {path}: {exc.strerror}") from exc


def refresh_source(
    settings: Settings, source: HotlistSource, *, now: datetime, user: User | None = None
) -> RefreshOutcome:
    """Fetch one source and import it unless its bytes are the active version's. A rejected or
    unreachable source gives status ``rejected`` with the error; nothing else changes."""
    try:
        fetched = fetch_source(settings, source)
    except AlprError as exc:
        return RefreshOutcome(source.name, "rejected", source.location, "", error=str(exc))
    with engine_for(settings.catalog_url).connect() as conn:
        current = active_sha256(conn, source.name)
    if current == fetched.sha256:
        return RefreshOutcome(source.name, "unchanged", fetched.location, fetched.sha256)
    try:
        result = import_file(
            settings, fetched.data, ListSpec.of(source), source=fetched.location, now=now, user=user
        )
    except HotlistError as exc:
        return RefreshOutcome(
            source.name, "rejected", fetched.location, fetched.sha256, error=str(exc)
        )
    return RefreshOutcome(source.name, "activated", fetched.location, fetched.sha256, result)
