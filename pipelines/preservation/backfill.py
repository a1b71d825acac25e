"""A preservation request cut into one request per UTC day of its window, for the orchestrators.

Dagster and Airflow run a long window as a backfill, one step per capture day, so that a failed
day is re-run alone and each step's copy is bounded. The day requests together select exactly
what the whole request selects: a hold selects a row by its read id, or by every criterion given
(plates, cameras, window), so the window's criteria split along days and the read ids go into a
request of their own. Each day request is a request of its own to ``request_preservation``: its
own hold, manifest and bundle, found again (nothing copied twice) when the same backfill re-runs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from pipelines.audit.users import get_user
from pipelines.config import Settings
from pipelines.preservation.basis import LegalBasis
from pipelines.preservation.selection import Selection
from pipelines.preservation.service import Preservation, request_preservation
from pipelines.storage.catalog import engine_for, upgrade_catalog

__all__ = ["day_shares", "preserve_as", "split_by_day"]


def split_by_day(selection: Selection) -> list[Selection]:
    """One selection per UTC day the window touches (plates and cameras in each), then one of
    the read ids; a selection without a window is returned whole."""
    if selection.start is None or selection.end is None:
        return [selection]
    days: list[Selection] = []
    start, end = selection.start, selection.end
    while start < end:
        midnight = datetime.combine(start.date() + timedelta(days=1), time(), tzinfo=UTC)
        days.append(replace(selection, start=start, end=min(midnight, end), read_ids=()))
        start = midnight
    if selection.read_ids:
        days.append(Selection(read_ids=selection.read_ids))
    return days


def day_shares(selection: Selection) -> dict[str, Selection]:
    """``split_by_day`` keyed by share: the day (``YYYY-MM-DD``), ``read_ids``, or ``whole``
    (no window). The keys name the orchestrators' steps and carry no plate."""
    return {
        part.start.date().isoformat()
        if part.start
        else "read_ids"
        if part.read_ids
        else "whole": part
        for part in split_by_day(selection)
    }


def preserve_as(
    settings: Settings,
    user_name: str,
    case: str,
    basis: str | LegalBasis,
    reason: str,
    selection: Selection,
    *,
    now: datetime,
    requester: str | None = None,
) -> Preservation:
    """``request_preservation`` as the catalog user ``user_name``, for a run an orchestrator's UI
    started: its access control is the gate (no password to give there); the core refuses anyone
    who is not an administrator, or a basis not listed, and audits the refusal."""
    upgrade_catalog(settings.catalog_url)
    with engine_for(settings.catalog_url).connect() as conn:
        user = get_user(conn, user_name)
    return request_preservation(
        settings, user, case, basis, reason, selection, now=now, requester=requester
    )
