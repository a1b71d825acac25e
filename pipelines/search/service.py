"""Search of ALPR reads: the one audited way to query them (PP-9126 B.6, B.9, C.7).

``search_reads`` checks, in the core and in this order, that the user is an active
administrator or agent as the catalog knows them now (a caller's ``User`` is not trusted for the
role: analysts work on pseudonymised data and the schedules' service account never searches),
that the user has current training for search where ``audit.require_training`` is on
(``pipelines.audit.training``, B.3, B.5), that the reason is documented
(``reason.check_reason``) and that the criteria are specific (``criteria.Criteria``). Every search is written to the audit log, refused and failed ones too:
who, when, the criteria, the reason and case number, the number of results and the outcome. The
log keeps the criteria, never the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.audit.log import record_committed, require_utc
from pipelines.audit.training import Function, require_training
from pipelines.audit.users import Role, User, get_user, require_role
from pipelines.config import Settings
from pipelines.errors import AlprError
from pipelines.search.criteria import Criteria
from pipelines.search.reads import find_reads
from pipelines.search.reason import Reason, check_reason
from pipelines.storage.catalog import engine_for

__all__ = ["SEARCHERS", "SEARCH_ACTION", "SearchRequest", "SearchResult", "search_reads"]

SEARCH_ACTION = "search.reads"  # the audit log's action of every search, whatever its outcome
SEARCHERS = (Role.ADMINISTRATOR, Role.AGENT)  # who may search reads (analysts: pseudonyms only)


@dataclass(frozen=True)
class SearchRequest:
    """A search as asked for, unchecked: ``search_reads`` checks it, and audits it either way."""

    reason_category: str = ""
    reason: str = ""
    case: str = ""
    plate: str = ""
    cameras: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None

    def as_audit(self) -> dict[str, Any]:
        """The request as given (for a refused one, whose criteria may not even parse)."""
        return {
            "criteria": {
                "plate": self.plate or None,
                "cameras": list(self.cameras),
                "states": list(self.states),
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
            },
            **Reason(self.reason_category, self.reason, self.case).as_audit(),
        }


@dataclass(frozen=True)
class SearchResult:
    event_id: int  # the audit entry of this search
    total: int  # reads matching
    rows: pl.DataFrame = field(repr=False)  # pipelines.search.reads.RESULT_COLUMNS, <= the limit

    @property
    def truncated(self) -> bool:
        return self.rows.height < self.total


def search_reads(
    settings: Settings, user: User, request: SearchRequest, *, now: datetime
) -> SearchResult:
    """The reads ``request`` asks for, once role, reason and criteria pass; audited either way.

    Raises ``PermissionDenied`` / ``AuthenticationError`` for a user who may not search and
    ``SearchRefusal`` (a ``PolicyRefusal``) naming the field at fault; both are audited as
    refused before they are raised.
    """
    now = require_utc(now)
    engine = engine_for(settings.catalog_url)
    try:
        with engine.connect() as conn:
            current = get_user(conn, user.name)
            require_role(current, *SEARCHERS, action="search reads")
            if settings.audit.require_training:
                require_training(conn, current.name, Function.SEARCH, now=now)
        reason = check_reason(
            Reason(request.reason_category, request.reason, request.case), settings.audit
        )
        criteria = Criteria(
            plate=request.plate,
            cameras=request.cameras,
            states=request.states,
            start=request.start,
            end=request.end,
        )
    except AlprError as exc:
        refusal = {"why": str(exc), "field": getattr(exc, "field", "user")}
        _audit(engine, user.name, "refused", {**request.as_audit(), **refusal}, now)
        raise
    audited = {"criteria": criteria.as_audit(), **reason.as_audit()}
    try:
        found = find_reads(settings, criteria, settings.audit.max_search_results)
    except Exception as exc:
        _audit(engine, current.name, "failed", {**audited, "why": type(exc).__name__}, now)
        raise
    event_id = _audit(
        engine,
        current.name,
        "ok",
        {**audited, "results": found.total, "returned": found.rows.height},
        now,
    )
    return SearchResult(event_id, found.total, found.rows)


def _audit(
    engine: sa.Engine, actor: str, outcome: str, details: dict[str, Any], now: datetime
) -> int:
    """One audit entry for the search, committed before anything is returned or raised."""
    return record_committed(
        engine,
        actor=actor,
        action=SEARCH_ACTION,
        subject="reads",
        outcome=outcome,
        details=details,
        now=now,
    )
