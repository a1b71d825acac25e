"""Preservation over SeaweedFS and PostgreSQL: administrators only, listed bases only, evidence
under COMPLIANCE Object Lock with verified hashes, a hold retention honours, C.5 reports."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError

from pipelines.audit.tables import audit_events
from pipelines.audit.users import Role, User, add_user
from pipelines.config import Settings
from pipelines.errors import PermissionDenied, PolicyRefusal
from pipelines.preservation import (
    LegalBasis,
    Selection,
    file_interview_report,
    list_holds,
    list_interview_reports,
    parse_basis,
    read_preserved,
    release_hold,
    request_preservation,
)
from pipelines.preservation.tables import holds, preserved_objects
from pipelines.retention import run_retention
from pipelines.storage.catalog import engine_for, upgrade_catalog
from pipelines.storage.lake import IMAGES, READS
from pipelines.storage.objects import s3_client
from pipelines.storage.tables import scan_table
from tests._users import FAST_AUTH, PASSWORD
from tests.pipelines.retention._data import Day, seed, versions


@pytest.fixture
def evidence_settings(settings: Settings) -> Settings:
    return settings.replace(
        auth=FAST_AUTH, preservation={"evidence_bucket": f"evid-{uuid.uuid4().hex[:10]}"}
    )


def _user(settings: Settings, name: str, role: Role, now: datetime) -> User:
    upgrade_catalog(settings.catalog_url)
    with engine_for(settings.catalog_url).begin() as conn:
        return add_user(conn, name, role, PASSWORD, actor="operator", now=now, auth=settings.auth)


@pytest.fixture
def old_day(evidence_settings: Settings, as_of: datetime) -> Day:
    return seed(evidence_settings, as_of, (as_of - timedelta(days=370)).date())


@pytest.mark.parametrize(
    ("text", "basis"),
    [
        ("felony criminal investigation", LegalBasis.FELONY_CRIMINAL_INVESTIGATION),
        ("Internal-Affairs investigation", LegalBasis.INTERNAL_AFFAIRS_INVESTIGATION),
        ("personnel_matter", LegalBasis.PERSONNEL_MATTER),
        ("administrative matter", LegalBasis.ADMINISTRATIVE_MATTER),
        ("civil lawsuit", LegalBasis.CIVIL_LAWSUIT),
        ("notice of intent to sue", LegalBasis.CIVIL_LAWSUIT),
    ],
)
def test_the_bases_of_c4c_are_accepted(text: str, basis: LegalBasis) -> None:
    assert parse_basis(text) is basis


@pytest.mark.parametrize("text", ["misdemeanor criminal investigation", "Misdemeanor", "curiosity"])
def test_other_bases_are_refused_citing_the_statute(text: str) -> None:
    with pytest.raises(PolicyRefusal, match=r"C\.R\.S\. 24-72-113"):
        parse_basis(text)


def test_a_misdemeanor_or_a_non_administrator_is_refused_and_audited(
    evidence_settings: Settings, as_of: datetime
) -> None:
    admin = _user(evidence_settings, "ada", Role.ADMINISTRATOR, as_of)
    agent = _user(evidence_settings, "bob", Role.AGENT, as_of)
    selection = Selection(plates=("ABC123",))
    with pytest.raises(PolicyRefusal, match="24-72-113"):
        request_preservation(
            evidence_settings,
            admin,
            "24-9",
            "misdemeanor criminal investigation",
            "shoplifting",
            selection,
            now=as_of,
        )
    with pytest.raises(PermissionDenied, match="administrator"):
        request_preservation(
            evidence_settings,
            agent,
            "24-9",
            "felony criminal investigation",
            "r",
            selection,
            now=as_of,
        )
    with engine_for(evidence_settings.catalog_url).connect() as conn:
        assert not list_holds(conn)
        refused = (
            conn.execute(sa.select(audit_events.c.actor).where(audit_events.c.outcome == "refused"))
            .scalars()
            .all()
        )
    assert refused == ["ada", "bob"]


def _evidence(settings: Settings) -> list[tuple[str, str]]:
    return versions(settings, settings.preservation.evidence_bucket)


def test_preserved_evidence_is_locked_its_hashes_verify_and_a_rerun_changes_nothing(
    evidence_settings: Settings, as_of: datetime, old_day: Day
) -> None:
    settings = evidence_settings
    admin = _user(settings, "ada", Role.ADMINISTRATOR, as_of)
    plate = old_day.plates[0]
    done = request_preservation(
        settings,
        admin,
        "24-001234",
        "felony criminal investigation",
        "armed robbery",
        Selection(plates=(plate,)),
        now=as_of,
        requester="Det. Rivera",
    )
    # image, sidecar, crop, reads.jsonl + manifest.json, manifest.csv, README.txt
    assert done.objects == 4 and done.created
    bucket = settings.preservation.evidence_bucket
    assert bucket not in (settings.s3.drops_bucket, settings.s3.lake_bucket)
    assert done.manifest_uri == f"s3://{bucket}/{done.hold.evidence_prefix}manifest.json"
    client = s3_client(settings.s3)
    manifest = json.loads(
        client.get_object(Bucket=bucket, Key=f"{done.hold.evidence_prefix}manifest.json")[
            "Body"
        ].read()
    )
    assert manifest["case_number"] == "24-001234" and manifest["preserved_by"] == "ada"
    assert manifest["legal_basis"] == "felony_criminal_investigation"
    assert manifest["requester"] == "Det. Rivera"
    assert plate not in json.dumps(manifest)  # plates are in the read records, not the manifest
    kinds = sorted(o["kind"] for o in manifest["objects"])
    assert kinds == ["crop", "image", "reads", "sidecar"]
    for obj in manifest["objects"]:  # every hash verifies against the locked bytes
        body = client.get_object(Bucket=bucket, Key=obj["evidence_key"])["Body"].read()
        assert hashlib.sha256(body).hexdigest() == obj["sha256"] == obj["verified_sha256"]
        retention = client.get_object_retention(Bucket=bucket, Key=obj["evidence_key"])["Retention"]
        assert retention["Mode"] == "COMPLIANCE"
    image = next(o for o in manifest["objects"] if o["kind"] == "image")
    source = client.get_object(
        Bucket=settings.s3.drops_bucket, Key=image["source"].split("/", 3)[3]
    )
    assert hashlib.sha256(source["Body"].read()).hexdigest() == image["sha256"]
    reads = client.get_object(Bucket=bucket, Key=f"{done.hold.evidence_prefix}reads.jsonl")
    assert [json.loads(line)["plate_text"] for line in reads["Body"].read().splitlines()] == [plate]
    # the bundle: files, manifest as CSV and JSON, README, in a folder and a zip
    folder = Path(done.bundle)
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert {"manifest.json", "manifest.csv", "README.txt", "reads.jsonl"} <= set(names)
    rows = list(csv.DictReader(io.StringIO((folder / "manifest.csv").read_text())))
    for row in rows:
        local = folder / row["evidence_key"].removeprefix(done.hold.evidence_prefix)
        assert hashlib.sha256(local.read_bytes()).hexdigest() == row["sha256"]
    with zipfile.ZipFile(f"{done.bundle}.zip") as zf:
        assert sorted(n.split("/", 1)[1] for n in zf.namelist()) == names
    # the same request again: the same hold, no new object version, no new row
    before = sorted(_evidence(settings))
    again = request_preservation(
        settings,
        admin,
        "24-001234",
        "Felony criminal investigation",
        "armed robbery",
        Selection(plates=(plate.lower(),)),
        now=as_of + timedelta(hours=2),
    )
    assert again.hold.hold_id == done.hold.hold_id and not again.created
    assert sorted(_evidence(settings)) == before
    with engine_for(settings.catalog_url).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(holds)).scalar() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(preserved_objects)).scalar() == 4


def test_evidence_cannot_be_deleted_or_its_retention_shortened_even_by_the_admin_credentials(
    evidence_settings: Settings, as_of: datetime, old_day: Day
) -> None:
    settings = evidence_settings
    admin = _user(settings, "ada", Role.ADMINISTRATOR, as_of)
    done = request_preservation(
        settings,
        admin,
        "24-7",
        "civil lawsuit",
        "notice of claim received",
        Selection(read_ids=(old_day.read_ids[0],)),
        now=as_of,
    )
    client = s3_client(settings.s3)  # the store's admin identity (Admin, Read, Write, List)
    bucket = settings.preservation.evidence_bucket
    locked = _evidence(settings)
    assert locked
    for key, version in locked:
        with pytest.raises(ClientError, match="AccessDenied"):
            client.delete_object(Bucket=bucket, Key=key, VersionId=version)
        with pytest.raises(ClientError, match="AccessDenied"):
            client.delete_object(
                Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True
            )
        with pytest.raises(ClientError, match="AccessDenied"):
            client.put_object_retention(
                Bucket=bucket,
                Key=key,
                VersionId=version,
                Retention={
                    "Mode": "COMPLIANCE",
                    "RetainUntilDate": datetime.now(UTC) + timedelta(days=1),
                },
            )
        with pytest.raises(ClientError, match="AccessDenied"):
            client.put_object_retention(
                Bucket=bucket,
                Key=key,
                VersionId=version,
                BypassGovernanceRetention=True,
                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": done.hold.retain_until},
            )
    answer = client.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": k, "VersionId": v} for k, v in locked]}
    )
    assert not answer.get("Deleted")
    for key, version in locked:  # every locked version still reads back whole
        assert client.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read()
    with pytest.raises(ClientError):
        client.delete_bucket(Bucket=bucket)


def test_retention_honours_the_hold_until_an_administrator_releases_it_with_a_reason(
    evidence_settings: Settings, as_of: datetime, old_day: Day
) -> None:
    settings = evidence_settings
    admin = _user(settings, "ada", Role.ADMINISTRATOR, as_of)
    agent = _user(settings, "bob", Role.AGENT, as_of)
    camera = "cam-02"
    done = request_preservation(
        settings,
        admin,
        "IA-3",
        "internal affairs investigation",
        "use of force review",
        Selection(cameras=(camera,)),
        now=as_of,
    )
    run_retention(settings, as_of=as_of, dry_run=False)
    left = scan_table(settings, READS).collect()
    assert set(left.get_column("camera_id")) == {camera} and left.height == 1
    images = scan_table(settings, IMAGES).collect()
    assert set(images.get_column("camera_id")) == {camera} and images.height == 2
    with engine_for(settings.catalog_url).begin() as conn, pytest.raises(PermissionDenied):
        release_hold(conn, agent, done.hold.hold_id, "case closed", now=as_of)
    with (
        engine_for(settings.catalog_url).begin() as conn,
        pytest.raises(PolicyRefusal, match="reason"),
    ):
        release_hold(conn, admin, done.hold.hold_id, "  ", now=as_of)
    with engine_for(settings.catalog_url).begin() as conn:
        released = release_hold(conn, admin, done.hold.hold_id, "case closed", now=as_of)
    assert released.released_by == "ada" and not released.active
    run_retention(settings, as_of=as_of + timedelta(hours=1), dry_run=False)
    assert scan_table(settings, READS).collect().height == 0
    assert scan_table(settings, IMAGES).collect().height == 0
    assert _evidence(settings)  # the evidence copies stay under their lock


def test_old_preserved_data_is_read_only_after_a_field_interview_report(
    evidence_settings: Settings, as_of: datetime, old_day: Day
) -> None:
    settings = evidence_settings
    admin = _user(settings, "ada", Role.ADMINISTRATOR, as_of)
    analyst = _user(settings, "cy", Role.ANALYST, as_of)
    done = request_preservation(
        settings,
        admin,
        "24-77",
        "felony criminal investigation",
        "homicide",
        Selection(plates=(old_day.plates[2],)),
        now=as_of,
    )
    hold_id = done.hold.hold_id
    with pytest.raises(PolicyRefusal, match=r"C\.5"):
        read_preserved(settings, analyst, hold_id, now=as_of)
    report = file_interview_report(
        settings,
        analyst,
        hold_id,
        reason="suspect vehicle timeline",
        basis="felony criminal investigation",
        now=as_of,
    )
    with pytest.raises(PolicyRefusal, match=r"C\.5"):  # a report by someone else does not count
        read_preserved(settings, admin, hold_id, now=as_of, report_id=report.report_id)
    records = read_preserved(settings, analyst, hold_id, now=as_of, report_id=report.report_id)
    assert [r["plate_text"] for r in records] == [old_day.plates[2]]
    with pytest.raises(PolicyRefusal, match="24-72-113"):
        file_interview_report(
            settings, analyst, hold_id, reason="x", basis="misdemeanor", now=as_of
        )
    listed = list_interview_reports(settings, admin)
    assert [(r.person, r.reason, r.legal_basis) for r in listed] == [
        ("cy", "suspect vehicle timeline", "felony_criminal_investigation")
    ]
    with pytest.raises(PermissionDenied):
        list_interview_reports(settings, analyst)


def test_recent_preserved_data_needs_no_report(
    evidence_settings: Settings, as_of: datetime
) -> None:
    settings = evidence_settings
    recent = seed(settings, as_of, (as_of - timedelta(days=3)).date())
    admin = _user(settings, "ada", Role.ADMINISTRATOR, as_of)
    done = request_preservation(
        settings,
        admin,
        "24-78",
        "administrative matter",
        "audit",
        Selection(read_ids=(recent.read_ids[0],)),
        now=as_of,
    )
    assert len(read_preserved(settings, admin, done.hold.hold_id, now=as_of)) == 1
