"""Hotlist alerts and their review (PP-9126 C.1-C.3): one core service for the schedules, the
``alpr alerts`` commands and the review page.

An alert is one element of reasonable suspicion, never by itself grounds for a stop: a named
agent or administrator must compare the captured image with the NCIC/CCIC record and confirm
(or reject) it, with a reason. Every step is audited through ``pipelines.audit.log.record``.

Example::

    from datetime import UTC, datetime
    from pipelines.alerts import AlertService
    from pipelines.audit.users import authenticate
    from pipelines.config import load_settings
    from pipelines.storage.catalog import engine_for

    settings = load_settings()
    service = AlertService(settings)
    now = datetime.now(UTC)
    new_ids = service.raise_alerts(matches, hotlist_age_seconds={"ncic": 3600.0}, now=now)
    with engine_for(settings.catalog_url).begin() as conn:
        agent = authenticate(conn, "jdoe", password, now=now, auth=settings.auth)
    for alert in service.list_alerts(agent, state="pending"):
        print(alert.alert_id, alert.list_name, alert.plate_text, alert.notice)
    service.confirm(agent, new_ids[0], "plate and vehicle match the NCIC record",
                    compared_with_record=True, now=now)
    service.escalate_overdue(now)  # the schedules, as the built-in service account
    service.expire_overdue(now)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

import httpx
import polars as pl

from pipelines.alerts import service as _core
from pipelines.alerts.service import Alert, Transition, alert_id_for
from pipelines.alerts.states import ALERT_NOTICE, READERS, REVIEWERS, AlertState
from pipelines.alerts.webhooks import Delivery, deliver
from pipelines.audit.users import User
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for

__all__ = [
    "ALERT_NOTICE",
    "READERS",
    "REVIEWERS",
    "Alert",
    "AlertService",
    "AlertState",
    "Delivery",
    "Transition",
    "alert_id_for",
]


class AlertService:
    """The alert workflow over the catalog of ``settings``; each call is one transaction.

    ``sleep`` and ``client`` are the webhook retries' wait and HTTP client (tests pass their own).
    The catalog schema must be current (``pipelines.storage.catalog.upgrade_catalog``).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        client: httpx.Client | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine_for(settings.catalog_url)
        self._sleep = sleep
        self._client = client

    def raise_alerts(
        self, matches: pl.DataFrame, *, hotlist_age_seconds: Mapping[str, float], now: datetime
    ) -> list[str]:
        """New alerts from matches (idempotent per read and entry), then their webhooks."""
        with self.engine.begin() as conn:
            new_ids = _core.raise_alerts(
                conn,
                matches,
                hotlist_age_seconds=hotlist_age_seconds,
                now=now,
                settings=self.settings.alerts,
            )
        self.notify(new_ids, now=now)
        return new_ids

    def notify(
        self, alert_ids: Iterable[str], *, now: datetime, event: str = "alert.created"
    ) -> list[Delivery]:
        """Send ``event`` for these alerts to every configured webhook (none: nothing)."""
        ids = list(alert_ids)
        if not ids or not self.settings.alerts.webhooks:
            return []
        with self.engine.begin() as conn:
            found = [_core.load_alert(conn, alert_id) for alert_id in ids]
        return deliver(
            self.engine,
            self.settings.alerts,
            found,
            now=now,
            event=event,
            sleep=self._sleep,
            client=self._client,
        )

    def list_alerts(
        self, user: User, state: AlertState | str | None = None, *, limit: int = 500
    ) -> list[Alert]:
        with self.engine.begin() as conn:
            return _core.list_alerts(conn, user, state, limit=limit)

    def get_alert(self, user: User, alert_id: str) -> Alert:
        with self.engine.begin() as conn:
            return _core.get_alert(conn, user, alert_id)

    def confirm(
        self,
        user: User,
        alert_id: str,
        reason: str,
        *,
        compared_with_record: bool,
        now: datetime,
    ) -> Alert:
        with self.engine.begin() as conn:
            return _core.confirm_alert(
                conn,
                user,
                alert_id,
                reason,
                compared_with_record=compared_with_record,
                now=now,
                require_training=self.settings.audit.require_training,
            )

    def reject(self, user: User, alert_id: str, reason: str, *, now: datetime) -> Alert:
        with self.engine.begin() as conn:
            return _core.reject_alert(
                conn,
                user,
                alert_id,
                reason,
                now=now,
                require_training=self.settings.audit.require_training,
            )

    def expire_overdue(self, now: datetime) -> list[str]:
        with self.engine.begin() as conn:
            return _core.expire_overdue(conn, now=now, settings=self.settings.alerts)

    def escalate_overdue(self, now: datetime) -> list[str]:
        """Escalate overdue pending alerts, then send ``alert.escalated`` to the webhooks."""
        with self.engine.begin() as conn:
            ids = _core.escalate_overdue(conn, now=now, settings=self.settings.alerts)
        self.notify(ids, now=now, event="alert.escalated")
        return ids

    def sweep(self, now: datetime) -> dict[str, list[str]]:
        """What the schedules run every ``alerts.sweep_cron``: escalate the pending alerts nobody
        reviewed in time, then expire those older than ``alerts.expire_hours``."""
        return {"escalated": self.escalate_overdue(now), "expired": self.expire_overdue(now)}

    def mark_entries_cleared(self, entry_ids: Iterable[str], *, now: datetime) -> list[str]:
        with self.engine.begin() as conn:
            return _core.mark_entries_cleared(conn, entry_ids, now=now)
