"""The pure cut-off and selection: one expiry rule, and holds that always win."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st

from pipelines.config import load_settings
from pipelines.preservation.selection import Selection, holds_frame
from pipelines.recognition.plates import match_key
from pipelines.retention.policy import (
    ITEMS_SCHEMA,
    DataClass,
    expiry_bound,
    periods,
    plan_deletions,
)

NOW = datetime(2026, 3, 11, 12, tzinfo=UTC)  # a pure function: any fixed time will do


@pytest.mark.parametrize(
    ("as_of", "days", "bound"),
    [
        (datetime(2026, 3, 11, 12, tzinfo=UTC), 365, datetime(2025, 3, 12, tzinfo=UTC)),
        (datetime(2026, 3, 11, 0, tzinfo=UTC), 30, datetime(2026, 2, 10, tzinfo=UTC)),
        (datetime(2026, 3, 11, 23, 59, tzinfo=UTC), 1, datetime(2026, 3, 11, tzinfo=UTC)),
    ],
)
def test_expiry_bound_is_the_midnight_after_the_last_expired_date(
    as_of: datetime, days: int, bound: datetime
) -> None:
    assert expiry_bound(as_of, days) == bound
    # nothing older than the period is before the bound's far side: the rule never keeps it
    assert as_of - timedelta(days=days) < bound


def _items(rows: list[dict[str, object]]) -> pl.LazyFrame:
    return pl.DataFrame(rows, schema=ITEMS_SCHEMA).with_row_index("n").lazy()


def test_a_held_plate_keeps_its_image_and_error_row_but_not_the_other_reads() -> None:
    old = NOW - timedelta(days=400)
    rows: list[dict[str, object]] = [
        {
            "data_class": "reads",
            "item_id": "r1",
            "image_id": "i1",
            "read_id": "r1",
            "plate_key": match_key("ABC1O3"),
            "camera_id": "c",
            "captured_at": old,
        },
        {
            "data_class": "reads",
            "item_id": "r2",
            "image_id": "i1",
            "read_id": "r2",
            "plate_key": "XYZ",
            "camera_id": "c",
            "captured_at": old,
        },
        {
            "data_class": "images",
            "item_id": "i1",
            "image_id": "i1",
            "read_id": None,
            "plate_key": None,
            "camera_id": "c",
            "captured_at": old,
        },
        {
            "data_class": "images",
            "item_id": "i2",
            "image_id": "i2",
            "read_id": None,
            "plate_key": None,
            "camera_id": "c",
            "captured_at": old,
        },
    ]
    holds = holds_frame([("h", NOW, Selection(plates=("abc 103",)))])  # O and 0 fold together
    plan = (
        plan_deletions(_items(rows), holds, NOW, dict.fromkeys(DataClass, 365)).collect().sort("n")
    )
    assert dict(zip(plan["item_id"], plan["delete"], strict=True)) == {
        "r1": False,
        "r2": True,
        "i1": False,
        "i2": True,
    }


# --- the property: random holds, ages and periods -------------------------------------------

_CAMERAS = ("c1", "c2", "c3")
_PLATES = ("AAA1", "BBB2", "CCC3", None)


_Rows = list[dict[str, object]]
_Case = tuple[_Rows, list[tuple[str, datetime, Selection]], dict[DataClass, int]]


@st.composite
def _cases(
    draw: st.DrawFn,
) -> tuple[list[dict[str, object]], list[tuple[str, datetime, Selection]], dict[DataClass, int]]:
    period = {c: draw(st.integers(1, 365)) for c in DataClass}
    rows: list[dict[str, object]] = []
    for n in range(draw(st.integers(0, 14))):
        data_class = draw(st.sampled_from(list(DataClass)))
        image = f"i{draw(st.integers(0, 4))}"
        plate = draw(st.sampled_from(_PLATES))
        per_read = data_class in (DataClass.READS, DataClass.ALERTS) and plate is not None
        read = f"r{n}" if per_read else None
        alert = draw(st.integers(0, 6))
        rows.append(
            {
                "data_class": data_class.value,
                # alerts share ids: an alert has one row per read it covers
                "item_id": f"{data_class.value}-{alert if data_class == DataClass.ALERTS else n}",
                "image_id": image,
                "read_id": read,
                "plate_key": plate if per_read else None,
                "camera_id": draw(st.sampled_from(_CAMERAS)),
                "captured_at": NOW - timedelta(hours=draw(st.integers(0, 400 * 24))),
            }
        )
    holds = []
    for h in range(draw(st.integers(0, 3))):
        start = NOW - timedelta(hours=draw(st.integers(0, 400 * 24)))
        window = draw(st.booleans())
        plates = tuple(draw(st.lists(st.sampled_from(_PLATES[:3]), max_size=2)))
        cameras = tuple(draw(st.lists(st.sampled_from(_CAMERAS), max_size=2)))
        read_ids = tuple(draw(st.lists(st.sampled_from([f"r{i}" for i in range(14)]), max_size=2)))
        assume(plates or cameras or window or read_ids)  # a selection selects something
        selection = Selection(
            plates=plates,
            cameras=cameras,
            start=start if window else None,
            end=start + timedelta(hours=draw(st.integers(1, 2000))) if window else None,
            read_ids=read_ids,
        )
        placed = NOW - timedelta(hours=draw(st.integers(0, 200 * 24)))
        holds.append((f"h{h}", placed, selection))
    return rows, holds, period


def _selects(row: dict[str, object], placed: datetime, s: Selection) -> bool:
    """The oracle: a hold's rule written out, row by row."""
    at = row["captured_at"]
    assert isinstance(at, datetime)
    if at > placed:
        return False
    if row["read_id"] is not None and row["read_id"] in s.read_ids:
        return True
    if not (s.plates or s.cameras or s.start):
        return False
    if s.plates and row["plate_key"] not in {match_key(p) for p in s.plates}:
        return False
    if s.cameras and row["camera_id"] not in s.cameras:
        return False
    return not (s.start and s.end) or s.start <= at < s.end


# Under mutmut (make mutate), which reruns it for every mutant: 25 derandomised examples, a
# failure not shrunk. mutmut sets MUTANT_UNDER_TEST before it imports the tests.
_MUTMUT = "MUTANT_UNDER_TEST" in os.environ


@settings(
    max_examples=25 if _MUTMUT else 150,
    derandomize=_MUTMUT,
    phases=[Phase.explicit, Phase.generate] if _MUTMUT else list(Phase),
    deadline=None,
)
@given(_cases())
def test_nothing_held_is_touched_and_nothing_unheld_and_expired_survives(case: _Case) -> None:
    rows, holds, period = case
    plan = plan_deletions(_items(rows), holds_frame(holds), NOW, period).collect().sort("n")
    direct = [any(_selects(r, p, s) for _, p, s in holds) for r in rows]
    held_images = {r["image_id"] for r, d in zip(rows, direct, strict=True) if d and r["read_id"]}
    held_rows = [
        d or (r["read_id"] is None and r["image_id"] in held_images)
        for r, d in zip(rows, direct, strict=True)
    ]
    held_items = {
        (r["data_class"], r["item_id"]) for r, h in zip(rows, held_rows, strict=True) if h
    }
    for row, delete in zip(rows, plan.get_column("delete").to_list(), strict=True):
        held = (row["data_class"], row["item_id"]) in held_items
        at = row["captured_at"]
        assert isinstance(at, datetime)
        expired = at < expiry_bound(NOW, period[DataClass(str(row["data_class"]))])
        if held:
            assert not delete, row  # nothing held is touched
        elif expired:
            assert delete, row  # nothing unheld and expired survives
        else:
            assert not delete, row  # nothing younger than its period goes
        # what goes is at most a day younger than its period (a capture date goes as a whole)
        if delete:
            assert NOW - at > timedelta(days=period[DataClass(str(row["data_class"]))] - 1)


def test_each_data_class_keeps_its_own_period_or_the_policy_ceiling() -> None:
    settings = load_settings(
        env={
            "ALPR_POLICY_RETENTION_DAYS": "300",
            "ALPR_RETENTION_IMAGES_DAYS": "30",
            "ALPR_RETENTION_READS_DAYS": "90",
            "ALPR_RETENTION_ALERTS_DAYS": "200",
        }
    )
    assert periods(settings) == {
        DataClass.IMAGES: 30,
        DataClass.READS: 90,
        DataClass.QUARANTINE: 300,  # unset: the ceiling
        DataClass.ALERTS: 200,
    }
    assert list(periods(load_settings(env={}))) == list(DataClass)


def _row(
    data_class: str, item: str, image: str | None, read: str | None, at: datetime
) -> dict[str, object]:
    return {
        "data_class": data_class,
        "item_id": item,
        "image_id": image,
        "read_id": read,
        "plate_key": None,
        "camera_id": "c",
        "captured_at": at,
    }


def _plan(
    rows: list[dict[str, object]], holds: pl.DataFrame, period_days: dict[DataClass, int]
) -> pl.DataFrame:
    return plan_deletions(_items(rows), holds, NOW, period_days).collect().sort("n")


NO_HOLDS = holds_frame([])


def test_the_plan_is_the_items_with_expired_held_and_delete() -> None:
    old = NOW - timedelta(days=400)
    plan = _plan([_row("reads", "r1", "i1", "r1", old)], NO_HOLDS, dict.fromkeys(DataClass, 365))
    assert plan.columns == ["n", *ITEMS_SCHEMA, "expired", "held", "delete"]
    assert plan.select("expired", "held", "delete").row(0) == (True, False, True)


def test_a_row_captured_at_the_bound_is_not_expired() -> None:
    bound = expiry_bound(NOW, 30)
    rows = [
        _row("reads", "r1", "i1", "r1", bound),
        _row("reads", "r2", "i1", "r2", bound - timedelta(microseconds=1)),
    ]
    plan = _plan(rows, NO_HOLDS, dict.fromkeys(DataClass, 30))
    assert plan["expired"].to_list() == [False, True]


def test_a_data_class_without_a_period_is_kept() -> None:
    old = NOW - timedelta(days=400)
    rows = [_row("reads", "r1", "i1", "r1", old), _row("alerts", "a1", "i1", "r1", old)]
    plan = _plan(rows, NO_HOLDS, {DataClass.READS: 30})
    assert plan.select("item_id", "expired", "delete").rows() == [
        ("r1", True, True),
        ("a1", False, False),
    ]
    nothing = _plan(rows, NO_HOLDS, {})
    assert nothing.select("expired", "delete").rows() == [(False, False), (False, False)]


def test_an_item_is_held_within_its_own_data_class_only() -> None:
    old = NOW - timedelta(days=400)
    rows = [_row("reads", "x1", "i1", "r1", old), _row("alerts", "x1", "i2", "r2", old)]
    holds = holds_frame([("h", NOW, Selection(read_ids=("r1",)))])
    plan = _plan(rows, holds, dict.fromkeys(DataClass, 30))
    assert plan.select("data_class", "held", "delete").rows() == [
        ("reads", True, False),
        ("alerts", False, True),
    ]


def test_a_held_read_without_an_image_keeps_no_imageless_row() -> None:
    old = NOW - timedelta(days=400)
    rows = [_row("reads", "r1", None, "r1", old), _row("quarantine", "q1", None, None, old)]
    holds = holds_frame([("h", NOW, Selection(read_ids=("r1",)))])
    plan = _plan(rows, holds, dict.fromkeys(DataClass, 30))
    assert plan.select("item_id", "held", "delete").rows() == [
        ("r1", True, False),
        ("q1", False, True),
    ]


def test_the_reference_time_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError) as refused:
        expiry_bound(datetime(2026, 3, 11, 12), 30)
    assert str(refused.value) == "as_of must be timezone-aware (UTC)"


@pytest.mark.usefixtures("machine_in_denver")
def test_the_bound_is_counted_in_utc_whatever_the_machines_zone() -> None:
    as_of = datetime(2026, 3, 11, 0, 30, tzinfo=UTC)  # still 2026-03-10 in Denver
    assert as_of.astimezone().date().day == 10
    assert expiry_bound(as_of, 30) == datetime(2026, 2, 10, tzinfo=UTC)
