from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from pipelines.audit.log import verify_chain
from pipelines.audit.tables import audit_events
from pipelines.audit.users import Role, User, add_user
from pipelines.config import HotlistSource, Settings
from pipelines.errors import HotlistError, PermissionDenied, PolicyRefusal
from pipelines.hotlists import (
    ENTRIES_SCHEMA,
    active_entries,
    hotlist_age_seconds,
    snapshot,
    stale_lists,
)
from pipelines.hotlists.local import add_local_entry
from pipelines.hotlists.refresh import ListSpec, import_file, refresh_source
from pipelines.hotlists.snapshot import version_changes
from pipelines.hotlists.tables import hotlist_lists, hotlist_versions
from pipelines.storage.catalog import engine_for, upgrade_catalog
from pipelines.storage.objects import ensure_bucket, s3_client
from tests.pipelines.hotlists.samples import CSV_HEADER, NCIC_GOOD, NCIC_HEADER, ncic_record

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
NCIC = ListSpec("ncic", "ncic")


@pytest.fixture
def catalog(settings: Settings) -> sa.Engine:
    upgrade_catalog(settings.catalog_url)
    return engine_for(settings.catalog_url)


def ncic_file(*records: str) -> bytes:
    return ("\n".join([NCIC_HEADER, *records]) + "\n").encode()


def plates(count: int, start: int = 0, state: str = "CO", date: str = "20250101") -> list[str]:
    return [ncic_record("V", f"PL{i:05d}", state, date) for i in range(start, start + count)]


def active_version(engine: sa.Engine, name: str = "ncic") -> int | None:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(hotlist_lists.c.active_version).where(hotlist_lists.c.list_name == name)
        ).scalar_one_or_none()


def make_user(engine: sa.Engine, name: str, role: Role) -> User:
    with engine.begin() as conn:
        return add_user(conn, name, role, "correct horse battery", actor="operator", now=T0)


def test_first_import_activates_version_one(settings: Settings, catalog: sa.Engine) -> None:
    result = import_file(settings, NCIC_GOOD.encode(), NCIC, source="ncic.txt", now=T0)
    assert result.summary() == {
        "list": "ncic",
        "version": 1,
        "entries": 6,
        "added": 6,
        "removed": 0,
        "changed": 0,
        "skipped": 1,
    }
    entries = active_entries(catalog.connect(), T0 + timedelta(hours=1))
    assert entries.schema == ENTRIES_SCHEMA
    assert entries.height == 6
    assert set(entries["version"]) == {1}
    assert set(entries["loaded_at"]) == {T0}
    assert set(entries["first_listed_at"]) == {T0}
    assert {(p, s) for p, s in entries.select("plate", "state").iter_rows()} >= {
        ("KLM456", "CO"),
        ("KLM456", "WY"),
        ("OHI777", "OH"),
    }
    with catalog.connect() as conn:
        audit = conn.execute(
            sa.select(audit_events).where(audit_events.c.action == "hotlist.activate")
        ).all()
        assert verify_chain(conn).first_bad_event_id is None
    assert [(a.actor, a.subject) for a in audit] == [("service", "hotlist:ncic@1")]


def test_second_version_diff_and_first_listed_at(settings: Settings, catalog: sa.Engine) -> None:
    first = import_file(settings, ncic_file(*plates(10)), NCIC, source="day1.txt", now=T0)
    later = T0 + timedelta(days=1)
    # PL00000-01 removed, PL00002 changed (new date), PL00010-11 added
    day2 = [ncic_record("V", "PL00002", "CO", "20250202"), *plates(7, 3), *plates(2, 10)]
    second = import_file(settings, ncic_file(*day2), NCIC, source="day2.txt", now=later)
    assert (second.version, second.added, second.removed, second.changed) == (2, 2, 2, 1)
    assert second.entries == 10
    ids = dict(
        zip(
            *active_entries(catalog.connect(), later)
            .select("plate", "entry_id")
            .to_dict()
            .values(),
            strict=True,
        )
    )
    removed_plates = {"PL00000", "PL00001"}
    assert set(second.removed_entry_ids) == set(first.added_entry_ids) - {
        ids[p] for p in ids if p not in removed_plates
    }
    assert set(second.added_entry_ids) == {ids["PL00010"], ids["PL00011"]}
    assert second.changed_entry_ids == (ids["PL00002"],)
    with catalog.connect() as conn:
        recorded = version_changes(conn, "ncic", 2)
    assert sorted(recorded["change"]) == ["added", "added", "changed", "removed", "removed"]
    entries = active_entries(catalog.connect(), later)
    first_listed = dict(entries.select("plate", "first_listed_at").iter_rows())
    assert first_listed["PL00005"] == T0  # kept across versions
    assert first_listed["PL00010"] == later
    assert set(entries["loaded_at"]) == {later}
    # a removed identity that comes back keeps the time it was first listed
    third = import_file(
        settings, ncic_file(*plates(12)), NCIC, source="day3.txt", now=later + timedelta(days=1)
    )
    assert third.added == 2
    back = active_entries(catalog.connect(), later + timedelta(days=1))
    assert dict(back.select("plate", "first_listed_at").iter_rows())["PL00000"] == T0


def test_shrink_is_rejected_unless_an_administrator_forces_it(
    settings: Settings, catalog: sa.Engine
) -> None:
    import_file(settings, ncic_file(*plates(10)), NCIC, source="day1.txt", now=T0)
    small = ncic_file(*plates(4))  # lost 60% > max_shrink_fraction 0.5
    with pytest.raises(HotlistError, match="shrink from 10 to 4 entries") as caught:
        import_file(settings, small, NCIC, source="day2.txt", now=T0)
    assert "day2.txt" in str(caught.value)
    assert active_version(catalog) == 1
    analyst = make_user(catalog, "ana", Role.ANALYST)
    with pytest.raises(PermissionDenied):
        import_file(
            settings, small, NCIC, source="day2.txt", now=T0, user=analyst, force=True, reason="x"
        )
    admin = make_user(catalog, "root-admin", Role.ADMINISTRATOR)
    with pytest.raises(PolicyRefusal):
        import_file(settings, small, NCIC, source="day2.txt", now=T0, user=admin, force=True)
    assert active_version(catalog) == 1
    forced = import_file(
        settings,
        small,
        NCIC,
        source="day2.txt",
        now=T0,
        user=admin,
        force=True,
        reason="vendor cleared stale records (ticket 42)",
    )
    assert (forced.version, forced.removed, forced.forced) == (2, 6, True)
    with catalog.connect() as conn:
        version = conn.execute(
            sa.select(hotlist_versions).where(hotlist_versions.c.version == 2)
        ).one()
        audit = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.details).where(
                audit_events.c.action == "hotlist.activate", audit_events.c.actor == "root-admin"
            )
        ).one()
    assert version.forced and version.force_reason == "vendor cleared stale records (ticket 42)"
    assert "ticket 42" in audit.details


def test_rejected_file_leaves_the_active_version_and_is_audited(
    settings: Settings, catalog: sa.Engine
) -> None:
    import_file(settings, ncic_file(*plates(3)), NCIC, source="good.txt", now=T0)
    bad = ncic_file(*plates(3), ncic_record(code="Z"), ncic_record(date="20251301"))
    with pytest.raises(HotlistError) as caught:
        import_file(settings, bad, NCIC, source="bad.txt", now=T0)
    assert caught.value.problems == [
        (5, "unknown list code 'Z'"),
        (6, "invalid date '20251301' (YYYYMMDD expected)"),
    ]
    assert active_version(catalog) == 1
    with catalog.connect() as conn:
        outcomes = conn.execute(
            sa.select(audit_events.c.action, audit_events.c.outcome).order_by(
                audit_events.c.event_id
            )
        ).all()
    assert ("hotlist.reject", "rejected") in [tuple(o) for o in outcomes]


def test_a_fault_mid_refresh_leaves_the_previous_version_active(
    settings: Settings, catalog: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_file(settings, ncic_file(*plates(5)), NCIC, source="day1.txt", now=T0)
    before = active_entries(catalog.connect(), T0)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut after the entries were written")

    monkeypatch.setattr(snapshot, "_activate", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        import_file(settings, ncic_file(*plates(6, 2)), NCIC, source="day2.txt", now=T0)
    assert active_version(catalog) == 1
    with catalog.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(hotlist_versions)).scalar() == 1
    assert_frame_equal(active_entries(catalog.connect(), T0), before)


def test_staleness_and_age(settings: Settings, catalog: sa.Engine) -> None:
    import_file(settings, ncic_file(*plates(2)), NCIC, source="a.txt", now=T0)
    day = timedelta(hours=24)
    with catalog.connect() as conn:
        assert stale_lists(conn, T0 + timedelta(hours=23), day).is_empty()
        stale = stale_lists(conn, T0 + timedelta(hours=25), day, expected=["ncic", "ccic"])
        ages = hotlist_age_seconds(conn, T0 + timedelta(hours=25))
    assert stale.select("list_name", "age_seconds").rows() == [("ccic", None), ("ncic", 90000.0)]
    assert ages == {"ncic": 90000.0}


def test_csv_and_local_entries_expire(settings: Settings, catalog: sa.Engine) -> None:
    csv = f"{CSV_HEADER}\nABC123,CO,stolen,,2026-03-10,jdoe\nXYZ999,CO,stolen,,,\n".encode()
    import_file(settings, csv, ListSpec("agency", "csv"), source="agency.csv", now=T0)
    analyst = make_user(catalog, "ana", Role.ANALYST)
    with catalog.begin() as conn:
        local = add_local_entry(
            conn,
            user=analyst,
            list_name="local",
            plate="lmn-456",
            state="co",
            reason="stolen from the evidence lot",
            expires_at=T0 + timedelta(days=5),
            now=T0,
            settings=settings.hotlists,
        )
    soon = active_entries(catalog.connect(), T0 + timedelta(days=1))
    assert sorted(soon["plate"]) == ["ABC123", "LMN456", "XYZ999"]
    row = soon.filter(pl.col("plate") == "LMN456").row(0, named=True)
    assert (row["entry_id"], row["version"], row["state"]) == (local.entry_id, 0, "CO")
    assert sorted(active_entries(catalog.connect(), T0 + timedelta(days=6))["plate"]) == [
        "ABC123",
        "XYZ999",
    ]
    assert active_entries(catalog.connect(), T0 + timedelta(days=10))["plate"].to_list() == [
        "XYZ999"
    ]
    with catalog.connect() as conn:
        actions = conn.execute(sa.select(audit_events.c.action)).scalars().all()
    assert "hotlist.local.add" in actions


@pytest.mark.parametrize(
    ("role", "days", "reason", "error"),
    [
        (Role.AGENT, 5, "why", PermissionDenied),
        (Role.ANALYST, 101, "why", PolicyRefusal),  # hotlists.local_max_days = 100
        (Role.ANALYST, 5, " ", PolicyRefusal),
        (Role.ANALYST, -1, "why", HotlistError),
    ],
)
def test_local_entries_are_refused(
    settings: Settings, catalog: sa.Engine, role: Role, days: int, reason: str, error: type
) -> None:
    user = make_user(catalog, "someone", role)
    with catalog.begin() as conn, pytest.raises(error):
        add_local_entry(
            conn,
            user=user,
            list_name="local",
            plate="ABC123",
            state="CO",
            reason=reason,
            expires_at=T0 + timedelta(days=days),
            now=T0,
            settings=settings.hotlists,
        )


def test_local_entries_need_a_list_of_their_own(settings: Settings, catalog: sa.Engine) -> None:
    import_file(settings, ncic_file(*plates(2)), NCIC, source="a.txt", now=T0)
    admin = make_user(catalog, "adm", Role.ADMINISTRATOR)
    with catalog.begin() as conn, pytest.raises(HotlistError, match="loaded from files"):
        add_local_entry(
            conn,
            user=admin,
            list_name="ncic",
            plate="ABC123",
            state="CO",
            reason="r",
            expires_at=T0 + timedelta(days=1),
            now=T0,
            settings=settings.hotlists,
        )


def test_refresh_from_a_local_path_and_from_s3(
    settings: Settings, catalog: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "ncic.txt"
    path.write_bytes(ncic_file(*plates(3)))
    source = HotlistSource("ncic", "ncic", location=str(path))
    first = refresh_source(settings, source, now=T0)
    assert (first.status, first.result and first.result.version) == ("activated", 1)
    assert refresh_source(settings, source, now=T0).status == "unchanged"

    bucket = f"vendor-{settings.s3.lake_bucket[-10:]}"
    ensure_bucket(settings.s3, bucket)
    client = s3_client(settings.s3)
    client.put_object(Bucket=bucket, Key="ncic/ncic-20260228.txt", Body=ncic_file(*plates(1)))
    client.put_object(Bucket=bucket, Key="ncic/ncic-20260301.txt", Body=ncic_file(*plates(4)))
    # same second: the newest LastModified ties, and the later key (the vendor dates names) wins
    s3_source = HotlistSource("vendor", "ncic", location=f"s3://{bucket}/ncic/")
    outcome = refresh_source(settings, s3_source, now=T0)
    assert outcome.status == "activated"
    assert outcome.result is not None and outcome.result.entries == 4
    missing = HotlistSource("gone", "ncic", location=str(tmp_path / "absent.txt"))
    assert refresh_source(settings, missing, now=T0).status == "rejected"
