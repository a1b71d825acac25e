"""Agreements over PostgreSQL: registered and revoked by administrators only (the role re-read
from the catalog), criminal-justice purposes only, an NGO's retention terms recorded, and every
attempt in the audit log, refused ones too."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.audit.users import Role, User, add_user, disable_user
from pipelines.config import Settings
from pipelines.errors import AuthenticationError, PermissionDenied
from pipelines.sharing import (
    AGREEMENT_REGISTER_ACTION,
    AGREEMENT_REVOKE_ACTION,
    AgreementTerms,
    SharingRefusal,
    get_agreement,
    list_agreements,
    register_agreement,
    revoke_agreement,
)
from pipelines.storage.catalog import engine_for
from tests._users import PASSWORD


def _user(settings: Settings, name: str, role: Role, now: datetime) -> User:
    with engine_for(settings.catalog_url).begin() as conn:
        return add_user(conn, name, role, PASSWORD, actor="operator", now=now, auth=settings.auth)


def _terms(now: datetime, **changes: Any) -> AgreementTerms:
    values: dict[str, Any] = {
        "mou_id": "MOU-2026-014",
        "agency": "Denver  Police Department",
        "contact": "Records unit, records@denver.example",
        "purposes": ("stolen_vehicle", "Criminal_Investigation ", "stolen_vehicle"),
        "valid_from": now - timedelta(days=1),
        "expires_at": now + timedelta(days=365),
    }
    return AgreementTerms(**(values | changes))


def _entries(settings: Settings, action: str) -> list[dict[str, Any]]:
    with engine_for(settings.catalog_url).connect() as conn:
        rows = conn.execute(
            sa.select(audit_events)
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.event_id)
        ).mappings()
        return [dict(r) | {"details": json.loads(r["details"])} for r in rows]


def test_an_administrator_registers_an_agreement_and_it_is_audited(
    catalog_settings: Settings, as_of: datetime
) -> None:
    admin = _user(catalog_settings, "ada", Role.ADMINISTRATOR, as_of)
    agreement = register_agreement(catalog_settings, admin, _terms(as_of), now=as_of)
    assert (agreement.agency, agreement.purposes) == (
        "Denver Police Department",
        ("stolen_vehicle", "criminal_investigation"),
    )
    assert (agreement.registered_by, agreement.status(as_of)) == ("ada", "in_force")
    assert agreement.status(as_of + timedelta(days=365)) == "expired"
    assert agreement.status(as_of - timedelta(days=2)) == "not_yet_in_force"
    with engine_for(catalog_settings.catalog_url).connect() as conn:
        assert list_agreements(conn) == [agreement]
        assert get_agreement(conn, "MOU-2026-014") == agreement
    [entry] = _entries(catalog_settings, AGREEMENT_REGISTER_ACTION)
    assert (entry["actor"], entry["outcome"], entry["subject"]) == (
        "ada",
        "ok",
        "agreement:MOU-2026-014",
    )
    assert entry["details"]["agency"] == "Denver  Police Department"  # as asked
    assert entry["details"]["expires_at"] == (as_of + timedelta(days=365)).isoformat()
    assert entry["details"]["non_governmental"] is False


def test_a_non_governmental_recipient_needs_its_retention_terms(
    catalog_settings: Settings, as_of: datetime
) -> None:
    admin = _user(catalog_settings, "ada", Role.ADMINISTRATOR, as_of)
    ngo = {"mou_id": "MOU-NGO-1", "non_governmental": True}
    with pytest.raises(SharingRefusal) as refused:
        register_agreement(catalog_settings, admin, _terms(as_of, **ngo), now=as_of)
    assert refused.value.field == "retention_terms"
    terms = "deleted 30 days after receipt; C.R.S. 24-72-113"
    agreement = register_agreement(
        catalog_settings, admin, _terms(as_of, **ngo, retention_terms=terms), now=as_of
    )
    assert (agreement.non_governmental, agreement.retention_terms) == (True, terms)
    outcomes = [e["outcome"] for e in _entries(catalog_settings, AGREEMENT_REGISTER_ACTION)]
    assert outcomes == ["refused", "ok"]


@pytest.mark.parametrize("role", [Role.AGENT, Role.ANALYST])
def test_only_an_administrator_as_the_catalog_knows_them_registers_or_revokes(
    catalog_settings: Settings, as_of: datetime, role: Role
) -> None:
    admin = _user(catalog_settings, "ada", Role.ADMINISTRATOR, as_of)
    other = _user(catalog_settings, "jdoe", role, as_of)
    claimed = User("jdoe", Role.ADMINISTRATOR, True)  # a caller's word for the role is not taken
    for who in (other, claimed):
        with pytest.raises(PermissionDenied, match="may not register sharing agreements"):
            register_agreement(catalog_settings, who, _terms(as_of), now=as_of)
    register_agreement(catalog_settings, admin, _terms(as_of), now=as_of)
    with pytest.raises(PermissionDenied, match="may not revoke sharing agreements"):
        revoke_agreement(catalog_settings, claimed, "MOU-2026-014", "MOU ended", now=as_of)
    with engine_for(catalog_settings.catalog_url).begin() as conn:
        disable_user(conn, "ada", actor="operator", now=as_of)
    with pytest.raises(AuthenticationError):  # a disabled administrator registers nothing
        register_agreement(catalog_settings, admin, _terms(as_of, mou_id="MOU-2"), now=as_of)
    with engine_for(catalog_settings.catalog_url).connect() as conn:
        assert [a.mou_id for a in list_agreements(conn)] == ["MOU-2026-014"]
        assert get_agreement(conn, "MOU-2026-014").revoked_at is None  # type: ignore[union-attr]
    registered = _entries(catalog_settings, AGREEMENT_REGISTER_ACTION)
    assert [
        (e["actor"], e["outcome"], e["details"]["field"])
        for e in registered
        if e["outcome"] != "ok"
    ] == [
        ("jdoe", "refused", "user"),
        ("jdoe", "refused", "user"),
        ("ada", "refused", "user"),
    ]
    assert all("may not" in e["details"]["why"] for e in registered[:2])
    [revoked] = _entries(catalog_settings, AGREEMENT_REVOKE_ACTION)
    assert (revoked["actor"], revoked["outcome"]) == ("jdoe", "refused")


DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        (lambda now: {"purposes": ("civil_litigation",)}, "purposes", "not criminal-justice"),
        (lambda now: {"purposes": ("stolen_vehicle", "marketing")}, "purposes", "['marketing']"),
        (lambda now: {"purposes": ()}, "purposes", "missing"),
        (lambda now: {"agency": "  "}, "agency", "missing"),
        (lambda now: {"contact": ""}, "contact", "missing"),
        (lambda now: {"mou_id": "MOU 14"}, "mou_id", "not valid"),
        (lambda now: {"expires_at": now - DAY}, "expires_at", "must expire after"),
        (
            lambda now: {"valid_from": now - 9 * DAY, "expires_at": now - DAY},
            "expires_at",
            "has passed already",
        ),
    ],
)
def test_terms_policy_does_not_allow_are_refused_naming_the_field(
    catalog_settings: Settings,
    as_of: datetime,
    changes: Callable[[datetime], dict[str, Any]],
    field: str,
    says: str,
) -> None:
    admin = _user(catalog_settings, "ada", Role.ADMINISTRATOR, as_of)
    given = changes(as_of)
    with pytest.raises(SharingRefusal) as refused:
        register_agreement(catalog_settings, admin, _terms(as_of, **given), now=as_of)
    assert refused.value.field == field
    assert f"sharing refused (PP-9126 C.6): {field}: " in str(refused.value)
    assert says in str(refused.value)
    with engine_for(catalog_settings.catalog_url).connect() as conn:
        assert list_agreements(conn) == []
    [entry] = _entries(catalog_settings, AGREEMENT_REGISTER_ACTION)
    assert (entry["actor"], entry["outcome"], entry["details"]["field"]) == (
        "ada",
        "refused",
        field,
    )


def test_an_agreement_is_registered_once_and_revoked_once_with_a_reason(
    catalog_settings: Settings, as_of: datetime
) -> None:
    admin = _user(catalog_settings, "ada", Role.ADMINISTRATOR, as_of)
    register_agreement(catalog_settings, admin, _terms(as_of), now=as_of)
    with pytest.raises(SharingRefusal, match="registered already"):
        register_agreement(catalog_settings, admin, _terms(as_of, agency="Other"), now=as_of)
    with pytest.raises(SharingRefusal, match="reason: missing"):
        revoke_agreement(catalog_settings, admin, "MOU-2026-014", " ", now=as_of)
    with pytest.raises(SharingRefusal, match="no agreement 'MOU-9'"):
        revoke_agreement(catalog_settings, admin, "MOU-9", "MOU terminated", now=as_of)
    later = as_of + timedelta(days=3)
    revoked = revoke_agreement(
        catalog_settings, admin, "MOU-2026-014", "MOU terminated by the agency", now=later
    )
    assert (revoked.revoked_at, revoked.revoked_by, revoked.status(later)) == (
        later,
        "ada",
        "revoked",
    )
    with pytest.raises(SharingRefusal, match="revoked already"):
        revoke_agreement(catalog_settings, admin, "MOU-2026-014", "again, to be sure", now=later)
    with engine_for(catalog_settings.catalog_url).connect() as conn:
        [stored] = list_agreements(conn)
    assert stored == revoked
    assert stored.agency == "Denver Police Department"
    assert [e["outcome"] for e in _entries(catalog_settings, AGREEMENT_REGISTER_ACTION)] == [
        "ok",
        "refused",
    ]
    revocations = _entries(catalog_settings, AGREEMENT_REVOKE_ACTION)
    assert [(e["outcome"], e["details"]["reason"]) for e in revocations] == [
        ("refused", ""),
        ("refused", "MOU terminated"),
        ("ok", "MOU terminated by the agency"),
        ("refused", "again, to be sure"),
    ]
