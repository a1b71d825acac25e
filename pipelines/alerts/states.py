"""The alert state machine and who may drive it (PP-9126 C.1-C.3).

pending -> confirmed | rejected | expired; the three end states are final. Agents and
administrators review (confirm or reject); the service account expires and escalates; analysts
and everyone who reviews may read alerts.
"""

from __future__ import annotations

from enum import StrEnum

from pipelines.audit.users import Role
from pipelines.errors import AlertError

__all__ = [
    "ALERT_NOTICE",
    "READERS",
    "REVIEWERS",
    "TRANSITIONS",
    "AlertState",
    "check_transition",
]

ALERT_NOTICE = (
    "An alert is one element of reasonable suspicion, never by itself grounds for a stop; "
    "confirm it visually against the NCIC/CCIC record before acting."
)


class AlertState(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    EXPIRED = "expired"


TRANSITIONS: dict[AlertState, frozenset[AlertState]] = {
    AlertState.PENDING: frozenset({AlertState.CONFIRMED, AlertState.REJECTED, AlertState.EXPIRED}),
    AlertState.CONFIRMED: frozenset(),
    AlertState.REJECTED: frozenset(),
    AlertState.EXPIRED: frozenset(),
}
REVIEWERS = (Role.AGENT, Role.ADMINISTRATOR)  # confirm and reject
READERS = (Role.AGENT, Role.ADMINISTRATOR, Role.ANALYST)  # list and show

_VERB = {
    AlertState.CONFIRMED: "confirmed",
    AlertState.REJECTED: "rejected",
    AlertState.EXPIRED: "expired",
    AlertState.PENDING: "made pending again",
}


def check_transition(alert_id: str, current: AlertState | str, target: AlertState) -> None:
    """Refuse a move the state machine does not have, naming the alert and both states."""
    state = AlertState(current)
    if target not in TRANSITIONS[state]:
        raise AlertError(
            f"alert {alert_id} is {state.value} and cannot be {_VERB[target]}: "
            "only pending alerts are reviewed, expired or escalated"
        )
