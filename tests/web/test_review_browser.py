"""The review workflow in a real browser: headless Debian chromium (driven by Playwright) against
the app under uvicorn, over the test's own PostgreSQL and SeaweedFS. Then the database is read."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Browser, Page

from pipelines.alerts.tables import alert_transitions
from pipelines.alerts.tables import alerts as alerts_table
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for
from tests.web.conftest import Evidence

CONFIRM_REASON = "Plate and vehicle match the NCIC record, colour and make checked"
REJECT_REASON = "Misread: the crop shows 8XK904, the record is for another plate"


def _loaded_size(page: Page, selector: str) -> tuple[int, int]:
    """The decoded size of an <img> once the browser finished loading it (0 x 0 if it failed)."""
    page.wait_for_function(
        "s => document.querySelector(s) && document.querySelector(s).complete", arg=selector
    )
    size = page.eval_on_selector(selector, "img => [img.naturalWidth, img.naturalHeight]")
    return (int(size[0]), int(size[1]))


def _review(page: Page, base: str, evidence: Evidence) -> None:
    page.goto(f"{base}/alerts")
    page.click(f"#alert-{evidence.alert_id} a")
    page.wait_for_url(f"{base}/alerts/{evidence.alert_id}")
    assert "never by itself grounds for a stop" in page.inner_text("#notice")
    assert page.inner_text("#ocr-text") == evidence.plate
    assert page.is_visible("#capture") and page.is_visible("#crop")
    assert _loaded_size(page, "#capture") == evidence.image_size
    assert _loaded_size(page, "#crop") == evidence.crop_size


def test_an_agent_confirms_one_alert_and_rejects_another(
    browser: Browser,
    live_server: str,
    users: dict[str, str],
    alerts: list[Evidence],
    web_settings: Settings,
    server_log: list[str],
) -> None:
    to_confirm, to_reject = alerts
    page = browser.new_page()
    refused: list[str] = []  # the CSP would report any inline script or style it blocked
    page.on("console", lambda msg: refused.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server}/alerts")
    page.wait_for_url(f"{live_server}/login")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", users["ada"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/alerts")
    queue = page.inner_text("table.queue")
    assert to_confirm.plate in queue and to_reject.plate in queue
    assert "state not read" in queue and "look-alike" in queue  # the lenient, stateless read

    _review(page, live_server, to_confirm)
    assert "ncic-daily, version 3" in page.inner_text("#entry-list")
    page.check("#confirm-form input[name=compared]")
    page.fill("#confirm-form textarea[name=reason]", CONFIRM_REASON)
    page.click("#confirm-form button[type=submit]")
    page.wait_for_url(f"{live_server}/alerts")
    assert f"Alert {to_confirm.alert_id} confirmed." in page.inner_text(".flash")

    _review(page, live_server, to_reject)
    page.fill("#reject-form textarea[name=reason]", REJECT_REASON)
    page.click("#reject-form button[type=submit]")
    page.wait_for_url(f"{live_server}/alerts")
    assert f"Alert {to_reject.alert_id} rejected." in page.inner_text(".flash")
    assert "No pending alerts." in page.inner_text("main")
    assert refused == []

    with engine_for(web_settings.catalog_url).connect() as conn:
        decided = {
            row.alert_id: row
            for row in conn.execute(
                sa.select(
                    alerts_table.c.alert_id,
                    alerts_table.c.state,
                    alerts_table.c.decided_by,
                    alerts_table.c.decision_reason,
                    alerts_table.c.compared_with_record,
                )
            )
        }
        steps = conn.execute(
            sa.select(
                alert_transitions.c.alert_id,
                alert_transitions.c.action,
                alert_transitions.c.actor,
                alert_transitions.c.reason,
            ).order_by(alert_transitions.c.transition_id)
        ).all()
    confirmed, rejected = decided[to_confirm.alert_id], decided[to_reject.alert_id]
    assert (confirmed.state, confirmed.decided_by, confirmed.decision_reason) == (
        "confirmed",
        "ada",
        CONFIRM_REASON,
    )
    assert confirmed.compared_with_record is True
    assert (rejected.state, rejected.decided_by, rejected.decision_reason) == (
        "rejected",
        "ada",
        REJECT_REASON,
    )
    assert [tuple(s) for s in steps] == [
        (to_confirm.alert_id, "confirm", "ada", CONFIRM_REASON),
        (to_reject.alert_id, "reject", "ada", REJECT_REASON),
    ]

    # The server logged the requests (alert ids in paths) but no plate, reason or password.
    assert any(to_confirm.alert_id in line for line in server_log)
    secrets = [e.plate for e in alerts] + [CONFIRM_REASON, REJECT_REASON, users["ada"]]
    assert [line for line in server_log if any(s in line for s in secrets)] == []
