"""Webhook notifications against a real HTTP server on 127.0.0.1: signature, retries with
backoff, a payload without personal data unless configured, every attempt recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from pipelines.alerts import AlertService
from pipelines.alerts.tables import webhook_deliveries
from pipelines.config import Settings
from tests.pipelines.alerts._helpers import RAISED, match, matches

SECRET = "shared-webhook-secret"


@dataclass
class Receiver:
    """Answers with ``statuses`` in turn (then 200), checking each request's signature."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            timestamp = self.headers["X-ALPR-Timestamp"]
            expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
            signed = hmac.compare_digest(
                self.headers["X-ALPR-Signature"], f"sha256={expected.hexdigest()}"
            )
            state.received.append(
                {
                    "path": self.path,
                    "timestamp": int(timestamp),
                    "signed": signed,
                    "body": json.loads(body),
                }
            )
            status = 401 if not signed else (state.statuses.pop(0) if state.statuses else 200)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T0KEN"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _service(
    settings: Settings, receiver: Receiver, slept: list[float], **alerts: Any
) -> AlertService:
    configured = settings.replace(
        alerts={
            "webhooks": (receiver.url,),
            "webhook_secret": SECRET,
            "webhook_backoff_seconds": 2.0,
            "review_base_url": "https://alpr.lpd.example/",
            **alerts,
        }
    )
    return AlertService(configured, sleep=slept.append)


def _deliveries(engine: sa.Engine) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(
            conn.execute(sa.select(webhook_deliveries).order_by(webhook_deliveries.c.delivery_id))
        )


def test_a_new_alert_is_posted_signed_and_retried_until_accepted(
    engine: sa.Engine, catalog_settings: Settings, receiver: Receiver
) -> None:
    receiver.statuses = [503, 500]
    slept: list[float] = []
    service = _service(catalog_settings, receiver, slept)
    [alert_id] = service.raise_alerts(matches(match("r1")), hotlist_age_seconds={}, now=RAISED)
    assert [r["signed"] for r in receiver.received] == [True, True, True]
    assert slept == [2.0, 4.0]  # exponential backoff, through the injected sleep
    body = receiver.received[-1]["body"]
    assert body == {
        "event": "alert.created",
        "alert_id": alert_id,
        "list_name": "ncic",
        "created_at": RAISED.isoformat(),
        "link": f"https://alpr.lpd.example/alerts/{alert_id}",
        "notice": body["notice"],
    }
    assert "ABC123" not in json.dumps(receiver.received)  # no plate unless configured
    rows = _deliveries(engine)
    assert [(r.attempt, r.status_code, r.error) for r in rows] == [
        (1, 503, "HTTP 503"),
        (2, 500, "HTTP 500"),
        (3, 200, None),
    ]
    assert [r.attempted_at for r in rows] == [
        RAISED,
        RAISED + timedelta(seconds=2),
        RAISED + timedelta(seconds=6),
    ]
    assert [r.delivered_at for r in rows] == [None, None, RAISED + timedelta(seconds=6)]
    assert [r["timestamp"] for r in receiver.received] == [
        int(r.attempted_at.timestamp()) for r in rows
    ]
    assert {r.url for r in rows} == {receiver.url.rsplit("/", 2)[0] + "/****"}  # no token kept


def test_the_plate_is_sent_only_when_configured(
    catalog_settings: Settings, receiver: Receiver
) -> None:
    service = _service(catalog_settings, receiver, [], webhook_include_plate=True)
    service.raise_alerts(matches(match("r1")), hotlist_age_seconds={}, now=RAISED)
    body = receiver.received[0]["body"]
    assert (body["plate"], body["entry_state"]) == ("ABC123", "CO")


def test_retries_are_bounded_and_a_client_error_is_final(
    engine: sa.Engine, catalog_settings: Settings, receiver: Receiver
) -> None:
    receiver.statuses = [503] * 10 + [400]
    slept: list[float] = []
    service = _service(catalog_settings, receiver, slept, webhook_max_attempts=3)
    [first] = service.raise_alerts(matches(match("r1")), hotlist_age_seconds={}, now=RAISED)
    assert len(receiver.received) == 3 and slept == [2.0, 4.0]
    receiver.statuses = [400]
    [second] = service.raise_alerts(
        matches(match("r2", entry_id="e2")), hotlist_age_seconds={}, now=RAISED
    )
    rows = _deliveries(engine)
    assert [(r.alert_id, r.attempt, r.status_code) for r in rows] == [
        (first, 1, 503),
        (first, 2, 503),
        (first, 3, 503),
        (second, 1, 400),  # a refused request is not retried
    ]
    assert all(r.delivered_at is None for r in rows)


def test_an_unreachable_webhook_is_recorded_and_does_not_fail_the_raise(
    engine: sa.Engine, catalog_settings: Settings
) -> None:
    unreachable = Receiver(url="http://127.0.0.1:9/hooks/x")  # discard port: connection refused
    slept: list[float] = []
    service = _service(catalog_settings, unreachable, slept, webhook_max_attempts=2)
    [alert_id] = service.raise_alerts(matches(match("r1")), hotlist_age_seconds={}, now=RAISED)
    rows = _deliveries(engine)
    assert [(r.attempt, r.status_code) for r in rows] == [(1, None), (2, None)]
    assert all(r.error and r.error.startswith("ConnectError") for r in rows)
    assert alert_id


def test_escalation_is_notified_too(catalog_settings: Settings, receiver: Receiver) -> None:
    service = _service(catalog_settings, receiver, [])
    [alert_id] = service.raise_alerts(matches(match("r1")), hotlist_age_seconds={}, now=RAISED)
    service.escalate_overdue(RAISED + timedelta(hours=1))
    assert [(r["body"]["event"], r["body"]["alert_id"]) for r in receiver.received] == [
        ("alert.created", alert_id),
        ("alert.escalated", alert_id),
    ]
