"""audited_lookup: who may look up plates, the reason it needs, what the audit log keeps."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.audit.users import Role, User, add_user, disable_user, service_user
from pipelines.config import Settings
from pipelines.errors import AuthenticationError, PermissionDenied, PolicyRefusal
from pipelines.matching.audited import audited_lookup
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests._users import PASSWORD
from tests.pipelines.matching.frames import T0


@pytest.fixture
def catalog(settings: Settings) -> sa.Engine:
    upgrade_catalog(settings.catalog_url)
    return engine_for(settings.catalog_url)


def _person(engine: sa.Engine, role: Role, *, active: bool = True) -> User:
    # roles are the catalog's: the lookup re-reads the user by name
    with engine.begin() as conn:
        user = add_user(conn, "ana", role, PASSWORD, actor="operator", now=T0)
        if not active:
            user = disable_user(conn, "ana", actor="operator", now=T0)
    return user


def _lookups(engine: sa.Engine) -> list[tuple[str, dict[str, str]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.details).where(
                audit_events.c.action == "hotlist.lookup"
            )
        ).all()
    return [(r.actor, json.loads(r.details)) for r in rows]


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.ANALYST, Role.AGENT])
def test_people_may_look_up_and_the_criteria_are_audited(catalog: sa.Engine, role: Role) -> None:
    with catalog.begin() as conn:
        found = audited_lookup(conn, _person(catalog, role), "ABC123", None, reason="r1", now=T0)
    assert found.is_empty()  # no list loaded
    assert _lookups(catalog) == [("ana", {"plate": "ABC123", "state": None, "reason": "r1"})]


@pytest.mark.parametrize(
    ("who", "reason", "error"),
    [
        ("service", "r", PermissionDenied),
        ("disabled analyst", "r", AuthenticationError),
        ("analyst", " ", PolicyRefusal),
    ],
)
def test_refused_lookups_are_not_run(
    catalog: sa.Engine, who: str, reason: str, error: type[Exception]
) -> None:
    if who == "service":
        with catalog.begin() as conn:
            user = service_user(conn, now=T0)
    else:
        user = _person(catalog, Role.ANALYST, active=who == "analyst")
    with pytest.raises(error), catalog.begin() as conn:
        audited_lookup(conn, user, "ABC123", "CO", reason=reason, now=T0)
    assert _lookups(catalog) == []
