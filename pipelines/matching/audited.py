"""The one matching function that touches the catalog: a person's hotlist lookup, checked and
audited (policy B.6: the reason for any query is documented). The matching itself stays pure."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa

from pipelines.audit.log import record
from pipelines.audit.users import Role, User, get_user, require_role
from pipelines.errors import PolicyRefusal
from pipelines.hotlists.snapshot import active_entries
from pipelines.matching.match import lookup

__all__ = ["LOOKUP_ROLES", "audited_lookup"]

LOOKUP_ROLES = (Role.ADMINISTRATOR, Role.ANALYST, Role.AGENT)  # people; not the service account


def audited_lookup(
    conn: sa.Connection,
    user: User,
    text: str,
    state: str | None,
    *,
    reason: str,
    now: datetime,
) -> pl.DataFrame:
    """:func:`~pipelines.matching.match.lookup` against the entries active at ``now``, for an
    authenticated ``user`` of a role in ``LOOKUP_ROLES`` who gives a non-empty ``reason``.

    The criteria (plate as typed, state, reason) are written to the audit log in ``conn``'s
    transaction before any entry is read; the results are not.
    """
    require_role(get_user(conn, user.name), *LOOKUP_ROLES, action="look up plates in the hotlists")
    if not reason.strip():
        raise PolicyRefusal("policy B.6: a hotlist lookup needs a reason (--reason)")
    record(
        conn,
        actor=user.name,
        action="hotlist.lookup",
        subject="hotlists",
        details={"plate": text, "state": state, "reason": reason},
        now=now,
    )
    return lookup(text, state, active_entries(conn, now))
