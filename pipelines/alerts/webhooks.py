"""Webhook notifications of alerts: signed JSON POSTs, retried with backoff, each attempt recorded.

The receiver checks ``X-ALPR-Signature: sha256=<hex>``, the HMAC-SHA256 with the shared
``alerts.webhook_secret`` of ``<X-ALPR-Timestamp>.<body>`` (unix seconds, then the raw body), and
refuses old timestamps, so a captured delivery cannot be replayed later. The payload carries the
alert id, its list, when it was raised and a link to the review page; the plate only with
``alerts.webhook_include_plate``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from pipelines.alerts.service import Alert
from pipelines.alerts.tables import webhook_deliveries
from pipelines.audit.log import require_utc
from pipelines.config import AlertSettings

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Delivery",
    "deliver",
    "masked_url",
    "payload",
    "sign",
]

SIGNATURE_HEADER = "X-ALPR-Signature"
TIMESTAMP_HEADER = "X-ALPR-Timestamp"


@dataclass(frozen=True)
class Delivery:
    alert_id: str
    url: str  # masked: scheme and host only
    attempts: int
    delivered: bool
    status_code: int | None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def payload(alert: Alert, settings: AlertSettings, event: str = "alert.created") -> dict[str, Any]:
    """What a webhook receives: no more personal data than configured."""
    body: dict[str, Any] = {
        "event": event,
        "alert_id": alert.alert_id,
        "list_name": alert.list_name,
        "created_at": alert.created_at.isoformat(),
        "link": f"{settings.review_base_url.rstrip('/')}/alerts/{alert.alert_id}",
        "notice": alert.notice,
    }
    if settings.webhook_include_plate:
        body["plate"] = alert.plate_text
        body["entry_state"] = alert.entry_state
    return body


def masked_url(url: str) -> str:
    """Scheme and host only: webhook paths often carry a token."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/****"


def deliver(
    engine: sa.Engine,
    settings: AlertSettings,
    alerts: Sequence[Alert],
    *,
    now: datetime,
    event: str = "alert.created",
    sleep: Callable[[float], None] = time.sleep,
    client: httpx.Client | None = None,
) -> list[Delivery]:
    """POST each alert to every configured webhook, retrying failures with exponential backoff
    (``webhook_max_attempts``, waits ``webhook_backoff_seconds * 2**(n-1)``); a 4xx other than
    408/429 is final. Each attempt is committed to ``webhook_deliveries`` as it happens, with the
    time it was scheduled for (``now`` plus the waits before it)."""
    now = require_utc(now)
    if not settings.webhooks or not alerts:
        return []
    own = client is None
    http = client or httpx.Client(timeout=settings.webhook_timeout_seconds, trust_env=False)
    try:
        return [
            _deliver_one(engine, settings, http, url, alert, event, now, sleep)
            for alert in alerts
            for url in settings.webhooks
        ]
    finally:
        if own:
            http.close()


def _deliver_one(
    engine: sa.Engine,
    settings: AlertSettings,
    http: httpx.Client,
    url: str,
    alert: Alert,
    event: str,
    now: datetime,
    sleep: Callable[[float], None],
) -> Delivery:
    body = json.dumps(payload(alert, settings, event), sort_keys=True).encode()
    waited = 0.0
    status: int | None = None
    for attempt in range(1, settings.webhook_max_attempts + 1):
        at = now + timedelta(seconds=waited)
        timestamp = str(int(at.timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(settings.webhook_secret, timestamp, body),
        }
        error: str | None = None
        try:
            status = http.post(url, content=body, headers=headers).status_code
        except httpx.HTTPError as exc:
            status = None
            error = f"{type(exc).__name__}: {exc}".replace(url, masked_url(url))
        ok = status is not None and 200 <= status < 300
        if status is not None and not ok:
            error = f"HTTP {status}"
        _record_attempt(engine, alert.alert_id, event, url, attempt, at, status, error, ok)
        final = status is not None and 400 <= status < 500 and status not in (408, 429)
        if ok or final or attempt == settings.webhook_max_attempts:
            return Delivery(alert.alert_id, masked_url(url), attempt, ok, status)
        delay = settings.webhook_backoff_seconds * 2 ** (attempt - 1)
        sleep(delay)
        waited += delay
    raise AssertionError("unreachable: the loop returns on its last attempt")


def _record_attempt(
    engine: sa.Engine,
    alert_id: str,
    event: str,
    url: str,
    attempt: int,
    at: datetime,
    status: int | None,
    error: str | None,
    ok: bool,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            webhook_deliveries.insert().values(
                alert_id=alert_id,
                event=event,
                url=masked_url(url),
                attempt=attempt,
                attempted_at=at,
                status_code=status,
                error=error,
                delivered_at=at if ok else None,
            )
        )
