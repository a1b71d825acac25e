"""Exports over SeaweedFS and PostgreSQL: refused without an agreement in force that covers the
purpose, or without a documented reason; under one, a bundle whose manifest hashes verify; every
attempt in the audit log (criteria and reason, never the reads)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.audit.training import Course, TrainingRequired, record_training
from pipelines.audit.users import Role, User, add_user, service_user
from pipelines.config import Settings
from pipelines.errors import PermissionDenied, StorageError
from pipelines.search import SearchRefusal, SearchRequest
from pipelines.sharing import (
    EXPORT_ACTION,
    MANIFEST,
    SHARED_COLUMNS,
    AgreementTerms,
    ShareRequest,
    SharingRefusal,
    register_agreement,
    revoke_agreement,
    share_reads,
    verify_bundle,
)
from pipelines.sharing.tables import sharing_exports
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests._users import FAST_AUTH, PASSWORD
from tests.pipelines.search._reads import write_reads

T0 = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
REASON = "Denver stolen vehicle report 26-88812, grey sedan"
STOLEN = {"reason_category": "stolen_vehicle", "reason": REASON}
MOU = "MOU-2026-014"
READS_SEEDED = [
    ("r1", "8OS1Z3", "cam-07", T0),  # a look-alike reading of B0S123
    ("r2", "B0S123", "cam-09", T0 + timedelta(days=1)),
    ("r3", "XKC442", "cam-07", T0 + timedelta(days=1, minutes=10)),
]
DAY = timedelta(days=1)


@pytest.fixture
def share_settings(settings: Settings) -> Settings:
    upgrade_catalog(settings.catalog_url)
    result = settings.replace(auth=FAST_AUTH)
    write_reads(result, READS_SEEDED)
    return result


def _user(settings: Settings, name: str, role: Role, now: datetime) -> User:
    with engine_for(settings.catalog_url).begin() as conn:
        return add_user(conn, name, role, PASSWORD, actor="operator", now=now, auth=settings.auth)


def _agreement(
    settings: Settings, admin: User, registered: datetime, expires: datetime, **more: Any
) -> None:
    terms = AgreementTerms(
        mou_id=more.pop("mou_id", MOU),
        agency="Denver Police Department",
        contact="Records unit",
        purposes=more.pop("purposes", ("stolen_vehicle", "criminal_investigation")),
        valid_from=more.pop("valid_from", registered),
        expires_at=expires,
        **more,
    )
    register_agreement(settings, admin, terms, now=registered)


def _exports(settings: Settings) -> list[dict[str, Any]]:
    with engine_for(settings.catalog_url).connect() as conn:
        rows = conn.execute(
            sa.select(audit_events)
            .where(audit_events.c.action == EXPORT_ACTION)
            .order_by(audit_events.c.event_id)
        ).mappings()
        return [dict(r) | {"details": json.loads(r["details"])} for r in rows]


def _request(mou: str = MOU, **query: Any) -> ShareRequest:
    return ShareRequest(mou, SearchRequest(**(STOLEN | {"plate": "B0S123"} | query)))


def test_an_export_under_an_agreement_in_force_writes_a_bundle_whose_hashes_verify(
    share_settings: Settings, as_of: datetime, tmp_path: Path
) -> None:
    admin = _user(share_settings, "ada", Role.ADMINISTRATOR, as_of - 30 * DAY)
    agent = _user(share_settings, "jdoe", Role.AGENT, as_of - 30 * DAY)
    _agreement(share_settings, admin, as_of - 30 * DAY, as_of + 365 * DAY)
    out = tmp_path / "denver-26-88812"
    result = share_reads(share_settings, agent, _request(), out, now=as_of)
    assert (result.reads, result.bundle, result.agreement) == (2, out, MOU)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["denver-26-88812"]  # no partial left
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", MANIFEST, "reads.jsonl"]
    for path in out.iterdir():  # every file as recorded, recomputed here
        assert hashlib.sha256(path.read_bytes()).hexdigest() == result.files[path.name]
    assert verify_bundle(out, result.manifest_sha256) == {
        k: v for k, v in result.files.items() if k != MANIFEST
    }
    rows = [json.loads(line) for line in (out / "reads.jsonl").read_text().splitlines()]
    assert [(r["read_id"], r["plate_text"], r["camera_id"]) for r in rows] == [
        ("r1", "8OS1Z3", "cam-07"),
        ("r2", "B0S123", "cam-09"),
    ]
    assert list(rows[0]) == list(SHARED_COLUMNS)  # no bucket or key of the department's store
    assert rows[0]["latitude"] == pytest.approx(39.7)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["agreement"]["mou_id"] == MOU
    assert manifest["agreement"]["agency"] == "Denver Police Department"
    assert (manifest["exported_by"], manifest["exported_at"]) == ("jdoe", as_of.isoformat())
    assert (manifest["purpose"], manifest["reason"], manifest["case"]) == (
        "stolen_vehicle",
        REASON,
        "",
    )
    assert manifest["criteria"]["plate"] == "B0S123"
    assert (manifest["export_id"], manifest["reads"]) == (result.export_id, 2)
    assert [f["name"] for f in manifest["files"]] == ["README.txt", "reads.jsonl"]
    readme = (out / "README.txt").read_text()
    assert f"agreement {MOU} with Denver Police Department" in readme
    assert "criminal justice purposes only" in readme
    [entry] = _exports(share_settings)
    assert (entry["event_id"], entry["actor"], entry["outcome"], entry["occurred_at"]) == (
        result.event_id,
        "jdoe",
        "ok",
        as_of,
    )
    details = entry["details"]
    assert (details["agreement"], details["export_id"], details["results"]) == (
        MOU,
        result.export_id,
        2,
    )
    assert details["files"] == result.files and details["reason"] == REASON
    assert "8OS1Z3" not in json.dumps(details)  # criteria kept, never the reads
    with engine_for(share_settings.catalog_url).connect() as conn:
        [row] = conn.execute(sa.select(sharing_exports)).mappings()
    assert (row["export_id"], row["mou_id"], row["exported_by"], row["reads"]) == (
        result.export_id,
        MOU,
        "jdoe",
        2,
    )
    assert (row["manifest_sha256"], row["event_id"]) == (result.manifest_sha256, result.event_id)


def test_a_changed_missing_or_added_bundle_file_fails_verification(
    share_settings: Settings, as_of: datetime, tmp_path: Path
) -> None:
    admin = _user(share_settings, "ada", Role.ADMINISTRATOR, as_of - DAY)
    _agreement(share_settings, admin, as_of - DAY, as_of + 30 * DAY)
    out = tmp_path / "bundle"
    result = share_reads(share_settings, admin, _request(), out, now=as_of)
    reads = out / "reads.jsonl"
    original = reads.read_bytes()
    reads.write_bytes(original.replace(b"B0S123", b"B0S124"))
    with pytest.raises(StorageError, match=r"reads\.jsonl does not match its sha256"):
        verify_bundle(out)
    reads.unlink()
    with pytest.raises(StorageError, match=r"reads\.jsonl is missing"):
        verify_bundle(out)
    reads.write_bytes(original)
    (out / "extra.txt").write_text("x")
    with pytest.raises(StorageError, match=r"extra\.txt is not listed"):
        verify_bundle(out)
    (out / "extra.txt").unlink()
    assert verify_bundle(out, result.manifest_sha256)
    forged = (out / MANIFEST).read_text().replace('"exported_by": "ada"', '"exported_by": "x"')
    assert forged != (out / MANIFEST).read_text()
    (out / MANIFEST).write_text(forged)
    with pytest.raises(StorageError, match=r"manifest\.json does not hash"):
        verify_bundle(out, result.manifest_sha256)


def test_an_export_without_a_registered_agreement_is_refused_and_audited(
    share_settings: Settings, as_of: datetime, tmp_path: Path
) -> None:
    agent = _user(share_settings, "jdoe", Role.AGENT, as_of)
    out = tmp_path / "bundle"
    with pytest.raises(SharingRefusal) as refused:
        share_reads(share_settings, agent, _request("MOU-NONE"), out, now=as_of)
    assert refused.value.field == "agreement"
    assert "no agreement 'MOU-NONE' is registered" in str(refused.value)
    assert list(tmp_path.iterdir()) == []  # nothing written
    [entry] = _exports(share_settings)
    assert (entry["actor"], entry["outcome"], entry["subject"]) == (
        "jdoe",
        "refused",
        "agreement:MOU-NONE",
    )
    assert (entry["details"]["field"], entry["details"]["why"]) == ("agreement", str(refused.value))
    assert (entry["details"]["agreement"], entry["details"]["reason"]) == ("MOU-NONE", REASON)
    assert entry["details"]["criteria"]["plate"] == "B0S123"


@pytest.mark.parametrize(
    ("state", "says"),
    [
        ("expired", "expired on"),
        ("revoked", "was revoked on"),
        ("not_yet_in_force", "is in force only from"),
    ],
)
def test_an_export_under_an_agreement_not_in_force_is_refused_and_audited(
    share_settings: Settings, as_of: datetime, tmp_path: Path, state: str, says: str
) -> None:
    admin = _user(share_settings, "ada", Role.ADMINISTRATOR, as_of - 400 * DAY)
    registered = as_of - 400 * DAY
    if state == "expired":  # an MOU of a year, which ended yesterday
        _agreement(share_settings, admin, registered, as_of - DAY)
    elif state == "revoked":
        _agreement(share_settings, admin, registered, as_of + 365 * DAY)
        revoke_agreement(share_settings, admin, MOU, "MOU terminated", now=as_of - DAY)
    else:
        _agreement(share_settings, admin, as_of, as_of + 365 * DAY, valid_from=as_of + DAY)
    with pytest.raises(SharingRefusal) as refused:
        share_reads(share_settings, admin, _request(), tmp_path / "bundle", now=as_of)
    assert refused.value.field == "agreement"
    assert f"agreement {MOU!r} {says}" in str(refused.value)
    assert list(tmp_path.iterdir()) == []
    [entry] = _exports(share_settings)
    assert (entry["actor"], entry["outcome"], entry["details"]["field"]) == (
        "ada",
        "refused",
        "agreement",
    )
    with engine_for(share_settings.catalog_url).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sharing_exports)).scalar() == 0


@pytest.mark.parametrize(
    ("query", "error", "field", "says"),
    [
        ({"reason_category": "wanted_person"}, SharingRefusal, "purpose", "does not cover"),
        (
            {"reason_category": "internal_affairs", "case": "IA-3"},
            SharingRefusal,
            "purpose",
            "not a purpose data is shared for",
        ),
        ({"reason": "investigation"}, SearchRefusal, "reason", "too short"),
        ({"reason": "inv test investigation inv test"}, SearchRefusal, "reason", "too vague"),
        ({"reason_category": "criminal_investigation"}, SearchRefusal, "case", "missing"),
        ({"plate": ""}, SearchRefusal, "criteria", "give a plate"),
    ],
)
def test_an_export_needs_a_documented_reason_of_a_purpose_the_agreement_covers(
    share_settings: Settings,
    as_of: datetime,
    tmp_path: Path,
    query: dict[str, str],
    error: type[Exception],
    field: str,
    says: str,
) -> None:
    admin = _user(share_settings, "ada", Role.ADMINISTRATOR, as_of - DAY)
    _agreement(share_settings, admin, as_of - DAY, as_of + 30 * DAY)
    with pytest.raises((SharingRefusal, SearchRefusal)) as refused:
        share_reads(share_settings, admin, _request(**query), tmp_path / "bundle", now=as_of)
    value = refused.value
    assert isinstance(value, error) and isinstance(value, SharingRefusal | SearchRefusal)
    assert value.field == field and says in str(value)
    assert "B0S123" not in str(refused.value)  # no plate text in what a user is shown
    assert list(tmp_path.iterdir()) == []
    [entry] = _exports(share_settings)
    assert (entry["outcome"], entry["details"]["field"]) == ("refused", field)


def test_analysts_and_the_service_account_cannot_export_and_are_audited(
    share_settings: Settings, as_of: datetime, tmp_path: Path
) -> None:
    admin = _user(share_settings, "ada", Role.ADMINISTRATOR, as_of - DAY)
    _agreement(share_settings, admin, as_of - DAY, as_of + 30 * DAY)
    _user(share_settings, "ann", Role.ANALYST, as_of)
    claimed = User("ann", Role.AGENT, True)  # the role is re-read from the catalog
    with engine_for(share_settings.catalog_url).begin() as conn:
        service = service_user(conn, now=as_of)
    for who in (claimed, service):
        with pytest.raises(PermissionDenied, match="may not share reads with another agency"):
            share_reads(share_settings, who, _request(), tmp_path / "bundle", now=as_of)
    assert list(tmp_path.iterdir()) == []
    entries = _exports(share_settings)
    assert [(e["actor"], e["outcome"], e["details"]["field"]) for e in entries] == [
        ("ann", "refused", "user"),
        ("service", "refused", "user"),
    ]


def test_an_export_that_selects_too_much_or_would_overwrite_is_refused(
    share_settings: Settings, as_of: datetime, tmp_path: Path
) -> None:
    admin = _user(share_settings, "ada", Role.ADMINISTRATOR, as_of - DAY)
    _agreement(share_settings, admin, as_of - DAY, as_of + 30 * DAY)
    small = share_settings.replace(sharing={"max_export_reads": 1})
    with pytest.raises(SharingRefusal, match="2 reads match; an export holds at most 1"):
        share_reads(small, admin, _request(), tmp_path / "bundle", now=as_of)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "old.txt").write_text("an earlier export")
    with pytest.raises(SharingRefusal, match="exists and is not an empty folder"):
        share_reads(share_settings, admin, _request(), taken, now=as_of)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert [p.name for p in taken.iterdir()] == ["old.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert share_reads(share_settings, admin, _request(), empty, now=as_of).reads == 2
    outcomes = [(e["outcome"], e["details"].get("results")) for e in _exports(share_settings)]
    assert outcomes == [("refused", 2), ("refused", None), ("ok", 2)]


def test_an_export_needs_current_search_training_when_training_is_required(
    share_settings: Settings, as_of: datetime, tmp_path: Path
) -> None:
    required = share_settings.replace(audit={"require_training": True})
    admin = _user(required, "ada", Role.ADMINISTRATOR, as_of - DAY)
    agent = _user(required, "jdoe", Role.AGENT, as_of - DAY)
    _agreement(required, admin, as_of - DAY, as_of + 30 * DAY)
    with pytest.raises(TrainingRequired, match="no current training for search"):
        share_reads(required, agent, _request(), tmp_path / "bundle", now=as_of)
    assert list(tmp_path.iterdir()) == []
    done = (as_of - 30 * DAY).date()
    with engine_for(required.catalog_url).begin() as conn:
        for course in (Course.SYSTEM_USE, Course.QUERIES_AND_SEARCH):
            record_training(
                conn, "jdoe", course, done, done + 365 * DAY, actor="operator", now=as_of
            )
    assert share_reads(required, agent, _request(), tmp_path / "bundle", now=as_of).reads == 2
    entries = _exports(required)
    assert [(e["outcome"], e["details"].get("field")) for e in entries] == [
        ("refused", "training"),
        ("ok", None),
    ]
