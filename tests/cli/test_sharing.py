"""The `alpr agreements add|list` and `alpr share` contract, run as a person runs it.
Agreements by administrators only; an export refused without an agreement in force
(exit non-zero, why on stderr), else a bundle whose manifest hashes verify; every attempt audited."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.audit.users import get_user
from pipelines.config import Settings
from pipelines.sharing import AgreementTerms, register_agreement, verify_bundle
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests._users import PASSWORD
from tests.cli._run import alpr
from tests.pipelines.search._reads import write_reads

T0 = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
REASON = "Denver stolen vehicle report 26-88812, grey sedan"


def _setup(env: dict[str, str], settings: Settings) -> None:
    upgrade_catalog(settings.catalog_url)
    write_reads(
        settings,
        [
            ("r1", "8OS1Z3", "cam-07", T0),
            ("r2", "B0S123", "cam-09", T0 + timedelta(hours=1)),
            ("r3", "XKC442", "cam-07", T0 + timedelta(hours=2)),
        ],
    )
    for name, role in (("ada", "administrator"), ("jdoe", "agent")):
        added = alpr(env, "users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD)
        assert added.returncode == 0, added.stderr


def _add(env: dict[str, str], user: str, *args: str) -> subprocess.CompletedProcess[str]:
    return alpr(env, "agreements", "add", "--user", user, *args, password=PASSWORD)


def _share(env: dict[str, str], mou: str, out: Path) -> subprocess.CompletedProcess[str]:
    return alpr(
        env,
        "share",
        "--user",
        "jdoe",
        "--agreement",
        mou,
        "--reason-category",
        "stolen_vehicle",
        "--reason",
        REASON,
        "--plate",
        "B0S123",
        "--out",
        str(out),
        password=PASSWORD,
    )


def _outcomes(settings: Settings, action: str) -> list[tuple[str, str]]:
    with engine_for(settings.catalog_url).connect() as conn:
        rows = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.outcome)
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.event_id)
        )
        return [(r.actor, r.outcome) for r in rows]


def test_agreements_are_added_by_administrators_and_listed_as_json(
    alpr_env: dict[str, str], settings: Settings
) -> None:
    _setup(alpr_env, settings)
    expires = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()
    terms = (
        "--mou",
        "MOU-2026-014",
        "--agency",
        "Denver Police Department",
        "--contact",
        "Records unit",
        "--purpose",
        "stolen_vehicle",
        "--purpose",
        "criminal_investigation",
        "--expires",
        expires,
    )
    refused = _add(alpr_env, "jdoe", *terms)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "error: user 'jdoe' (role agent) may not register sharing agreements" in refused.stderr
    added = _add(alpr_env, "ada", *terms)
    assert added.returncode == 0, added.stderr
    shown = json.loads(added.stdout)
    assert (shown["mou_id"], shown["status"], shown["registered_by"]) == (
        "MOU-2026-014",
        "in_force",
        "ada",
    )
    # a date: in force through that day (UTC)
    assert (
        shown["expires_at"] == f"{date.fromisoformat(expires) + timedelta(days=1)}T00:00:00+00:00"
    )
    ngo = _add(
        alpr_env,
        "ada",
        "--mou",
        "MOU-NGO-1",
        "--agency",
        "Metro Crime Stoppers",
        "--contact",
        "J. Smith",
        "--purpose",
        "civil_litigation",
        "--expires",
        expires,
        "--non-governmental",
    )
    assert ngo.returncode == 2
    assert "error: sharing refused (PP-9126 C.6): purposes: ['civil_litigation']" in ngo.stderr
    listed = alpr(alpr_env, "agreements", "list")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["mou_id"], r["agency"], r["purposes"]) for r in rows] == [
        ("MOU-2026-014", "Denver Police Department", ["stolen_vehicle", "criminal_investigation"])
    ]
    assert _outcomes(settings, "sharing.agreement.register") == [
        ("jdoe", "refused"),
        ("ada", "ok"),
        ("ada", "refused"),
    ]


def test_share_is_refused_without_an_agreement_in_force_and_writes_a_verified_bundle_under_one(
    alpr_env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    _setup(alpr_env, settings)
    now = datetime.now(UTC)
    with engine_for(settings.catalog_url).connect() as conn:
        admin = get_user(conn, "ada")
    for mou, registered, expires in (
        ("MOU-OLD", now - timedelta(days=400), now - timedelta(days=35)),  # expired last month
        ("MOU-2026-014", now - timedelta(days=1), now + timedelta(days=365)),
    ):
        terms = AgreementTerms(
            mou_id=mou,
            agency="Denver Police Department",
            contact="Records unit",
            purposes=("stolen_vehicle",),
            valid_from=registered,
            expires_at=expires,
        )
        register_agreement(settings, admin, terms, now=registered)
    none = _share(alpr_env, "MOU-NONE", tmp_path / "none")
    assert none.returncode == 2 and none.stdout == ""
    assert "error: sharing refused (PP-9126 C.6): agreement: no agreement 'MOU-NONE'" in none.stderr
    expired = _share(alpr_env, "MOU-OLD", tmp_path / "old")
    assert expired.returncode == 2 and expired.stdout == ""
    assert "agreement: agreement 'MOU-OLD' expired on" in expired.stderr
    assert "B0S123" not in none.stderr + expired.stderr
    assert list(tmp_path.iterdir()) == []
    out = tmp_path / "denver"
    shared = _share(alpr_env, "MOU-2026-014", out)
    assert shared.returncode == 0, shared.stderr
    result = json.loads(shared.stdout)
    assert (result["agreement"], result["reads"], result["bundle"]) == (
        "MOU-2026-014",
        2,
        str(out),
    )
    assert "2 reads exported" in shared.stderr
    assert (
        hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
        == (result["manifest_sha256"])
    )
    assert verify_bundle(out, result["manifest_sha256"]) == {
        k: v for k, v in result["files"].items() if k != "manifest.json"
    }
    reads = [json.loads(line) for line in (out / "reads.jsonl").read_text().splitlines()]
    assert [r["read_id"] for r in reads] == ["r1", "r2"]
    assert _outcomes(settings, "sharing.export") == [
        ("jdoe", "refused"),
        ("jdoe", "refused"),
        ("jdoe", "ok"),
    ]
