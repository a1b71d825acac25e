"""The search page in a real browser: headless Debian chromium (driven by Playwright) against the
app under uvicorn, over the test's own PostgreSQL and SeaweedFS. An agent's vague reason is
refused by the core naming the field; with a documented one the reads are listed and the audit
log holds both searches."""

from __future__ import annotations

from playwright.sync_api import Browser

from pipelines.config import Settings
from tests.pipelines.search._reads import write_reads
from tests.web.test_search_http import GOOD, SEEDED, searches

VAGUE = "ongoing investigation, test"  # long enough, but only stop-list words


def test_an_agent_is_refused_a_vague_reason_then_finds_the_reads(
    browser: Browser,
    live_server: str,
    users: dict[str, str],
    web_settings: Settings,
    server_log: list[str],
) -> None:
    write_reads(web_settings, SEEDED)
    page = browser.new_page()
    refused: list[str] = []  # the CSP would report any inline script or style it blocked
    page.on("console", lambda msg: refused.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", users["ada"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/alerts")
    page.click("#nav-search")
    page.wait_for_url(f"{live_server}/search")

    form = "#search-form"
    page.select_option(f"{form} select[name=reason_category]", GOOD["reason_category"])
    page.fill(f"{form} textarea[name=reason]", VAGUE)  # passes the browser's `required`
    page.fill(f"{form} input[name=case]", GOOD["case"])
    page.fill(f"{form} input[name=plate]", "B0S123")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#refusal")
    assert "reason: too vague" in page.inner_text("#refusal")
    assert page.query_selector("#results") is None
    assert page.input_value(f"{form} input[name=plate]") == "B0S123"  # kept, to fix the reason
    assert [m for m in refused if "422 (Unprocessable" not in m] == []  # the refusal's status
    refused.clear()

    page.fill(f"{form} textarea[name=reason]", GOOD["reason"])
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#results")
    assert page.query_selector("#refusal") is None
    assert page.inner_text("#count").startswith("3 reads found.")
    shown = page.eval_on_selector_all("#results td.plate", "cells => cells.map(c => c.textContent)")
    assert shown == ["8OS1Z3", "B0S123", "B0S123"]
    assert refused == []

    assert [(e["actor"], e["outcome"], e["details"]["reason"]) for e in searches(web_settings)] == [
        ("ada", "refused", VAGUE),
        ("ada", "ok", GOOD["reason"]),
    ]
    # The server logged the requests but no plate, reason, case number or password.
    assert any("POST /search" in line for line in server_log)
    secrets = ["B0S123", "8OS1Z3", VAGUE, GOOD["reason"], GOOD["case"], users["ada"]]
    assert [line for line in server_log if any(s in line for s in secrets)] == []
