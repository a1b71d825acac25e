"""Preservation to evidence from the launchpad (PP-9126 C.4.c, C.5): an administrator fills in the
case, the legal basis (a choice list), the reason and the selection, and launches the job.

Who may: the launchpad asks for no password. Access to Dagster (its deployment's own sign-in and
roles, e.g. Dagster+ RBAC, or a reverse proxy in front of the webserver) is the gate; the config
names the administrator the request is made as, the core refuses it when that catalog user is not
an administrator (or the basis is not listed) and audits it under that name either way.

A window fans out per UTC day, in one run: ``plan_days`` emits one dynamic output per day (and one
for the read ids, see ``pipelines/preservation/backfill.py``), ``preserve_day`` runs per day, and a
failed day is re-run alone with "Re-execute from failure". Why not a daily-partitioned job run as a
backfill: a backfill launched from the UI cannot take run config (dagster-io/dagster#10079, still
open; #31229 added run config to backfills through GraphQL only, and the launchpad's config
applies to single-partition runs, #31690), and a preservation is all config. Re-launching the same
config changes nothing: each day's request finds its hold again.
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
from pydantic import Field

from assets._time import ReferenceTime
from assets.resources import AlprSettings
from pipelines.preservation.basis import LegalBasis

__all__ = ["PreservationRequest", "plan_days", "preservation_job", "preserve_day"]

# What one day's share carries to its step: the request, its selection as canonical JSON.
DayRequest = dict[str, str | None]


class PreservationRequest(ReferenceTime):
    """Launchpad config of one preservation request (times ISO 8601; naive times are UTC)."""

    user: str = Field(description="The administrator making the request (a catalog user).")
    case: str = Field(description="Case number.")
    # The launchpad's choice list: the bases of C.4.c and C.5 only (a misdemeanor is not one).
    basis: LegalBasis = Field(description="Legal basis (PP-9126 C.4.c, C.R.S. 24-72-113).")
    reason: str = Field(description="Why this data is evidence.")
    requester: str = Field(default="", description="Who asked for it; empty: the user.")
    plates: list[str] = Field(default=[], description="Plates to preserve.")
    cameras: list[str] = Field(default=[], description="Camera ids to preserve.")
    read_ids: list[str] = Field(default=[], description="Read ids to preserve.")
    window_from: str | None = Field(default=None, description="Window start (inclusive).")
    window_to: str | None = Field(default=None, description="Window end (exclusive).")


@dg.op(
    out=dg.DynamicOut(),
    description="The request, one dynamic output per UTC day of its window (plus its read ids).",
)
def plan_days(config: PreservationRequest) -> Iterator[dg.DynamicOutput[DayRequest]]:
    from pipelines.preservation import Selection
    from pipelines.preservation.backfill import day_shares

    whole = Selection(
        plates=tuple(config.plates),
        cameras=tuple(config.cameras),
        start=_utc(config.window_from),
        end=_utc(config.window_to),
        read_ids=tuple(config.read_ids),
    )
    for key, part in day_shares(whole).items():
        yield dg.DynamicOutput(
            {
                "user": config.user,
                "case": config.case,
                "basis": LegalBasis(config.basis).value,
                "reason": config.reason,
                "requester": config.requester or None,
                "as_of": config.now().isoformat(),
                "selection": part.to_json(),
            },
            mapping_key=re.sub(r"\W", "_", key),
        )


@dg.op(description="Preserve one day's share of the request as the named administrator.")
def preserve_day(
    context: dg.OpExecutionContext, request: DayRequest, alpr: AlprSettings
) -> dict[str, object]:
    from pipelines.preservation import Selection
    from pipelines.preservation.backfill import preserve_as

    done = preserve_as(
        alpr.load(),
        str(request["user"]),
        str(request["case"]),
        str(request["basis"]),
        str(request["reason"]),
        Selection.from_json(str(request["selection"])),
        now=datetime.fromisoformat(str(request["as_of"])),
        requester=request["requester"],
    )
    context.log.info(f"hold {done.hold.hold_id}: {done.objects} objects, {done.manifest_uri}")
    return done.as_dict()


@dg.op(description="The holds of the request, one per day share.")
def holds_placed(
    context: dg.OpExecutionContext, done: list[dict[str, object]]
) -> list[dict[str, object]]:
    context.log.info(f"{len(done)} holds, {sum(int(str(d['objects'])) for d in done)} objects")
    return done


def _utc(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dg.job(
    description="Preserve data as evidence past retention (administrators; PP-9126 C.4.c, C.5).",
    tags={"alpr/domain": "preservation"},
)
def preservation_job() -> None:
    holds_placed(plan_days().map(preserve_day).collect())
