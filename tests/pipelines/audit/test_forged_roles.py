"""Roles are the catalog's: a caller that builds its own ``User`` (bypassing the CLI and the web
page) is judged by the role the catalog holds for that name, in every core entry that takes one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pipelines.audit.users import SERVICE_USER, Role, User, add_user, service_user
from pipelines.config import Settings
from pipelines.errors import PermissionDenied
from pipelines.hotlists.local import add_local_entry, remove_local_entry
from pipelines.hotlists.refresh import ListSpec, import_file
from pipelines.matching.audited import audited_lookup
from pipelines.preservation.holds import release_hold
from pipelines.preservation.selection import Selection
from pipelines.preservation.service import (
    file_interview_report,
    list_interview_reports,
    read_preserved,
    request_preservation,
)
from tests._users import PASSWORD
from tests.pipelines.hotlists.samples import NCIC_HEADER, ncic_record

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
REASON = "stolen vehicle report 24-001234, patrol request"


def _ncic(count: int) -> bytes:
    records = [ncic_record("V", f"PL{i:05d}", "CO", "20250101") for i in range(count)]
    return ("\n".join([NCIC_HEADER, *records]) + "\n").encode()


def _calls(settings: Settings, engine: sa.Engine, forged: User) -> dict[str, Callable[[], object]]:
    def in_tx(call: Callable[[sa.Connection], object]) -> Callable[[], object]:
        def run() -> object:
            with engine.begin() as conn:
                return call(conn)

        return run

    spec = ListSpec("ncic", "ncic")
    return {
        "request_preservation": lambda: request_preservation(
            settings,
            forged,
            "24-001234",
            "felony_criminal_investigation",
            REASON,
            Selection(plates=("ABC123",)),
            now=NOW,
        ),
        "release_hold": in_tx(lambda c: release_hold(c, forged, "hold-x", REASON, now=NOW)),
        "list_interview_reports": lambda: list_interview_reports(settings, forged),
        "force_import": lambda: import_file(
            settings, _ncic(2), spec, source="f.txt", now=NOW, user=forged, force=True, reason="x"
        ),
    }


def _reader_calls(
    settings: Settings, engine: sa.Engine, forged: User
) -> dict[str, Callable[[], object]]:
    def in_tx(call: Callable[[sa.Connection], object]) -> Callable[[], object]:
        def run() -> object:
            with engine.begin() as conn:
                return call(conn)

        return run

    return {
        "file_interview_report": lambda: file_interview_report(
            settings,
            forged,
            "hold-x",
            reason=REASON,
            basis="felony_criminal_investigation",
            now=NOW,
        ),
        "read_preserved": lambda: read_preserved(settings, forged, "hold-x", now=NOW),
        "add_local_entry": in_tx(
            lambda c: add_local_entry(
                c,
                user=forged,
                list_name="local",
                plate="ABC123",
                state="CO",
                reason=REASON,
                expires_at=NOW + timedelta(days=3),
                now=NOW,
                settings=settings.hotlists,
            )
        ),
        "remove_local_entry": in_tx(
            lambda c: remove_local_entry(c, "local-x", user=forged, reason=REASON, now=NOW)
        ),
        "audited_lookup": in_tx(
            lambda c: audited_lookup(c, forged, "ABC123", None, reason=REASON, now=NOW)
        ),
    }


ADMINISTRATOR_ONLY = [
    "request_preservation",
    "release_hold",
    "list_interview_reports",
    "force_import",
]
PEOPLE_ONLY = [
    "file_interview_report",
    "read_preserved",
    "add_local_entry",
    "remove_local_entry",
    "audited_lookup",
]


@pytest.mark.parametrize("action", ADMINISTRATOR_ONLY)
def test_administrator_actions_judge_the_catalogs_role_not_the_callers(
    action: str, catalog_settings: Settings, engine: sa.Engine
) -> None:
    with engine.begin() as conn:
        add_user(
            conn,
            "jdoe",
            Role.AGENT,
            PASSWORD,
            actor="operator",
            now=NOW,
            auth=catalog_settings.auth,
        )
    forged = User("jdoe", Role.ADMINISTRATOR, True)
    with pytest.raises(PermissionDenied, match=r"'jdoe' \(role agent\)"):
        _calls(catalog_settings, engine, forged)[action]()


@pytest.mark.parametrize("action", PEOPLE_ONLY)
def test_people_actions_judge_the_catalogs_role_not_the_callers(
    action: str, catalog_settings: Settings, engine: sa.Engine
) -> None:
    # the schedules' account may do none of these, whatever role a User naming it claims
    with engine.begin() as conn:
        service_user(conn, now=NOW)
    forged = User(SERVICE_USER, Role.ADMINISTRATOR, True)
    with pytest.raises(PermissionDenied, match=r"'service' \(role service\)"):
        _reader_calls(catalog_settings, engine, forged)[action]()
