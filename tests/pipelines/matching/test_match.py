"""match_reads, retro_match and lookup over tiny frames: what hits, how it is labelled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.matching import MATCHES_SCHEMA, lookup, match_reads, retro_match
from pipelines.matching._keys import (
    deleted_at,
    deletion_neighbourhood,
    lookalike_key,
    lookalike_key_expr,
)
from pipelines.recognition.plates import match_key
from tests.pipelines.matching.frames import (
    LISTED_AT,
    T0,
    assert_hits,
    entries_frame,
    entry_id,
    match_both_ways,
    reads_frame,
)

NCIC_CO = entry_id("ncic", "ABC123", "CO")


def _match(reads: list[dict[str, Any]], entries: list[dict[str, Any]]) -> pl.DataFrame:
    return match_both_ways(reads_frame(*reads), entries_frame(*entries))


def test_output_has_the_matches_schema() -> None:
    result = _match([{"plate_text": "ABC123", "jurisdiction": "co"}], [{"plate": "ABC123"}])
    assert result.schema == MATCHES_SCHEMA
    assert result.height == 1


@pytest.mark.parametrize(
    ("read", "entry", "expected"),
    [
        pytest.param(
            {"plate_text": "ABC123", "jurisdiction": "co"},
            {"plate": "ABC123", "state": "CO"},
            [("r0", NCIC_CO, "exact", "ABC123", False)],
            id="same plate, same state (any case)",
        ),
        pytest.param(
            {"plate_text": "0IT643", "jurisdiction": "CO"},
            {"plate": "OIT643", "state": "CO"},
            [("r0", entry_id("ncic", "OIT643", "CO"), "exact", "0IT643", False)],
            id="O/0 and I/1 fold in the match key",
        ),
        pytest.param(
            {"plate_text": "ABC123", "jurisdiction": "wy"},
            {"plate": "ABC123", "state": "CO"},
            [],
            id="another state: no hit",
        ),
        pytest.param(
            {"plate_text": "ABC123", "jurisdiction": None},
            {"plate": "ABC123", "state": "CO"},
            [("r0", NCIC_CO, "exact", "ABC123", True)],
            id="state not read: hit, flagged",
        ),
        pytest.param(
            {"plate_text": "ABC123", "jurisdiction": "wy"},
            {"plate": "ABC123", "state": None},
            [("r0", entry_id("ncic", "ABC123", None), "exact", "ABC123", False)],
            id="entry without state: any read state",
        ),
        pytest.param(
            {"plate_text": "ABC124", "jurisdiction": "co"},
            {"plate": "ABC123", "state": "CO"},
            [],
            id="another plate: no hit",
        ),
        pytest.param(
            {"plate_text": "", "jurisdiction": None},
            {"plate": "ABC123", "state": "CO", "match_strategy": "lenient"},
            [],
            id="empty read text never hits",
        ),
    ],
)
def test_exact(
    read: dict[str, Any], entry: dict[str, Any], expected: list[tuple[Any, ...]]
) -> None:
    assert_hits(_match([read], [entry]), expected)


def test_identity_is_list_plate_state() -> None:
    """The same plate wanted in two states and on two lists is three entries; a read of unknown
    state hits all three, a read from CO only the two CO ones."""
    entries: list[dict[str, Any]] = [
        {"plate": "ABC123", "state": "CO"},
        {"plate": "ABC123", "state": "WY"},
        {"plate": "ABC123", "state": "CO", "list_name": "ccic"},
    ]
    reads = [{"plate_text": "ABC123"}, {"plate_text": "ABC123", "jurisdiction": "co"}]
    assert_hits(
        _match(reads, entries),
        [
            ("r0", NCIC_CO, "exact", "ABC123", True),
            ("r0", entry_id("ncic", "ABC123", "WY"), "exact", "ABC123", True),
            ("r0", entry_id("ccic", "ABC123", "CO"), "exact", "ABC123", True),
            ("r1", NCIC_CO, "exact", "ABC123", False),
            ("r1", entry_id("ccic", "ABC123", "CO"), "exact", "ABC123", False),
        ],
    )


LENIENT_CO = entry_id("local", "ABC123", "CO")


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("A8C123", True),  # B read as 8: look-alike
        ("ABCI23", True),  # I/1 fold: exact even on a lenient list (below)
        ("4BC123", True),  # A read as 4: not a look-alike class here, one substitution
        ("ABC1234", True),  # one insertion
        ("ABC12", True),  # one deletion
        ("A8C12", True),  # look-alike plus one deletion
        ("A8X12", False),  # look-alike plus two edits
        ("XBC12", False),  # a substitution and a deletion
        ("BAC123", False),  # a transposition is two edits
        ("ABX124", False),  # two substitutions
        ("QRS789", False),
    ],
)
def test_lenient_one_edit_after_the_lookalike_fold(text: str, hit: bool) -> None:
    entries = [
        {"plate": "ABC123", "state": "CO", "list_name": "local", "match_strategy": "lenient"}
    ]
    result = _match([{"plate_text": text, "jurisdiction": "co"}], entries)
    kind = "exact" if text == "ABCI23" else "lenient"
    assert_hits(result, [("r0", LENIENT_CO, kind, text, False)] if hit else [])


@pytest.mark.parametrize(
    ("text", "folded_to"),
    [("0DQ0", "O"), ("1IL1", "I"), ("2Z2Z", "Z"), ("5S5S", "S"), ("8B8B", "B"), ("6G6G", "G")],
)
def test_every_lookalike_class_folds(text: str, folded_to: str) -> None:
    """Each class member read for another costs no edit: the whole plate of look-alikes of a
    single letter still hits."""
    plate = folded_to * 4
    entries = [{"plate": plate, "list_name": "local", "match_strategy": "lenient"}]
    result = _match([{"plate_text": text}], entries)
    assert result["entry_id"].to_list() == [entry_id("local", plate, None)]


def test_lenient_only_for_lenient_lists() -> None:
    """The same look-alike read hits the lenient list's entry, not the exact list's."""
    entries = [
        {"plate": "ABC123", "state": "CO"},
        {"plate": "ABC123", "state": "CO", "list_name": "local", "match_strategy": "lenient"},
    ]
    assert_hits(
        _match([{"plate_text": "A8C123", "jurisdiction": "co"}], entries),
        [("r0", LENIENT_CO, "lenient", "A8C123", False)],
    )


def test_lenient_keeps_the_state_rule() -> None:
    entries = [
        {"plate": "ABC123", "state": "CO", "list_name": "local", "match_strategy": "lenient"}
    ]
    reads: list[dict[str, Any]] = [
        {"plate_text": "A8C123", "jurisdiction": "wy"},
        {"plate_text": "A8C123", "jurisdiction": None},
    ]
    assert_hits(_match(reads, entries), [("r1", LENIENT_CO, "lenient", "A8C123", True)])


def test_exact_wins_over_lenient_for_the_same_read_and_entry() -> None:
    """A read that is exact on an entry of a lenient list, and whose candidates are look-alikes
    of it too, gives one exact row."""
    entries = [
        {"plate": "ABC123", "state": "CO", "list_name": "local", "match_strategy": "lenient"}
    ]
    reads = [{"plate_text": "ABC123", "jurisdiction": "co", "candidates": [("A8C123", 0.3)]}]
    assert_hits(_match(reads, entries), [("r0", LENIENT_CO, "exact", "ABC123", False)])


def test_candidates_hit_lenient_lists_only() -> None:
    """A read whose own text is far from the entry but whose runner-up candidate is on it hits
    the lenient list through the candidate (matched_text says which), never the exact list."""
    entries = [
        {"plate": "ABC123", "state": "CO"},
        {"plate": "ABC123", "state": "CO", "list_name": "local", "match_strategy": "lenient"},
    ]
    reads = [
        {"plate_text": "XYZ789", "jurisdiction": "co", "candidates": [("ABC123", 0.1)]},
        {"plate_text": "XYZ789", "jurisdiction": "co", "candidates": [("QQQ999", 0.2)]},
    ]
    assert_hits(_match(reads, entries), [("r0", LENIENT_CO, "lenient", "ABC123", False)])


@pytest.mark.parametrize(
    ("text", "candidates", "matched"),
    [
        ("A8C123", [("ABC123", 0.6)], "A8C123"),  # the read's own text first
        ("XYZ789", [("A8C123", 0.2), ("ABC12", 0.5)], "ABC12"),  # then the best score
    ],
)
def test_matched_text_prefers_the_reads_own_text_then_the_best_candidate(
    text: str, candidates: list[tuple[str, float]], matched: str
) -> None:
    entries = [{"plate": "ABC123", "list_name": "local", "match_strategy": "lenient"}]
    result = _match([{"plate_text": text, "candidates": candidates}], entries)
    assert result["matched_text"].to_list() == [matched]


@pytest.mark.parametrize(
    ("captured_at", "before"),
    [
        (LISTED_AT - timedelta(seconds=1), True),
        (LISTED_AT, False),
        (LISTED_AT + timedelta(days=1), False),
    ],
)
def test_retro_match_flags_reads_seen_before_the_entry_was_listed(
    captured_at: Any, before: bool
) -> None:
    stored = reads_frame({"plate_text": "ABC123", "captured_at": captured_at})
    new = entries_frame({"plate": "ABC123", "state": "CO"})
    result = retro_match(stored.lazy(), new.lazy())
    assert_hits(
        result,
        [("r0", NCIC_CO, "exact", True, before)],
        columns=("read_id", "entry_id", "match_kind", "state_not_read", "seen_before_listed"),
    )


def test_match_columns_carry_the_read_and_the_entry() -> None:
    reads = reads_frame(
        {"plate_text": "A8C123", "jurisdiction": "co", "camera_id": "cam-07", "confidence": 0.5}
    )
    entries = entries_frame(
        {"plate": "ABC123", "state": "CO", "list_name": "local", "match_strategy": "lenient"}
    )
    row = match_reads(reads.lazy(), entries.lazy()).collect().row(0, named=True)
    assert row == {
        "read_id": "r0",
        "detection_id": "d0",
        "image_id": "i0",
        "camera_id": "cam-07",
        "captured_at": T0,
        "capture_date": T0.date(),
        "plate_text": "A8C123",
        "confidence": 0.5,
        "matched_text": "A8C123",
        "entry_id": LENIENT_CO,
        "list_name": "local",
        "list_version": 3,
        "entry_plate": "ABC123",
        "entry_state": "CO",
        "list_code": "V",
        "match_kind": "lenient",
        "state_not_read": False,
        "seen_before_listed": False,
    }


LOOKUP_ENTRIES: list[dict[str, Any]] = [
    {"plate": "ABC123", "state": "CO"},  # an exact list: a person still sees look-alikes
    {"plate": "ABC123", "state": "WY", "list_name": "ccic", "list_code": "Stolen Vehicle"},
    {"plate": "A8C12", "state": None, "list_name": "local", "list_code": "local"},
    {"plate": "ZZZ999", "state": "CO"},
]


@pytest.mark.parametrize(
    ("text", "state", "expected"),
    [
        (
            "ABC123",
            None,
            [
                ("ccic", "ABC123", "WY", "exact", "Stolen Vehicle"),
                ("ncic", "ABC123", "CO", "exact", "V"),
                ("local", "A8C12", None, "lenient", "local"),
            ],
        ),
        (
            "abc-123",
            "co",
            [
                ("ncic", "ABC123", "CO", "exact", "V"),
                ("local", "A8C12", None, "lenient", "local"),
            ],
        ),
        (
            "A8C123",
            "CO",
            [
                ("local", "A8C12", None, "lenient", "local"),
                ("ncic", "ABC123", "CO", "lenient", "V"),
            ],
        ),
        ("QRS777", None, []),
        ("", None, []),
    ],
)
def test_lookup_sees_lookalikes_of_every_list(
    text: str, state: str | None, expected: list[tuple[Any, ...]]
) -> None:
    result = lookup(text, state, entries_frame(*LOOKUP_ENTRIES))
    got = result.select("list", "plate", "state", "match", "list_code")
    want = pl.DataFrame(expected, schema=got.schema, orient="row")
    assert_frame_equal(got, want)  # exact first, then by list and plate


def test_lookup_orders_hits_by_kind_list_plate_then_state_unknown_last() -> None:
    entries = entries_frame(
        {"plate": "ABC124", "state": "CO"},
        {"plate": "ABC123", "state": "WY"},
        {"plate": "ABC123"},
        {"plate": "ABC12", "state": "CO"},
        {"plate": "ABC123", "state": "CO"},
        {"plate": "ABC123", "state": "CO", "list_name": "local"},
    )
    got = lookup("abc 123", None, entries).select("match", "list", "plate", "state", "entry_id")
    assert got.rows() == [
        ("exact", "local", "ABC123", "CO", "local:ABC123:CO"),
        ("exact", "ncic", "ABC123", "CO", "ncic:ABC123:CO"),
        ("exact", "ncic", "ABC123", "WY", "ncic:ABC123:WY"),
        ("exact", "ncic", "ABC123", None, "ncic:ABC123:-"),
        ("lenient", "ncic", "ABC12", "CO", "ncic:ABC12:CO"),
        ("lenient", "ncic", "ABC124", "CO", "ncic:ABC124:CO"),
    ]


@pytest.mark.parametrize("strategy", ["exact", "lenient"])
def test_an_empty_key_hits_nothing_even_an_empty_entry(strategy: str) -> None:
    """An entry whose plate normalizes to nothing (hotlist parsing never loads one) is no
    wildcard: not for an empty read, nor for a one-character one within an edit of it."""
    entries = [{"plate": "", "match_strategy": strategy}]
    assert_hits(_match([{"plate_text": ""}, {"plate_text": "B"}], entries), [])


def test_an_empty_read_is_not_within_an_edit_of_a_one_character_entry() -> None:
    entries = [{"plate": "A", "match_strategy": "lenient"}]
    reads = [{"plate_text": ""}, {"plate_text": "", "candidates": [("", 0.5)]}]
    assert_hits(_match(reads, entries), [])


@pytest.mark.parametrize(
    ("text", "candidates", "matched"),
    [
        # the read's own text wins over a candidate scored above the read's confidence (0.9)
        ("A8C123", [("ABC123", 0.95)], "A8C123"),
        # a candidate without a score comes after the scored ones
        ("XYZ789", [("A8C123", None), ("ABC12", 0.5)], "ABC12"),
    ],
)
def test_matched_text_ranks_own_text_then_scored_candidates(
    text: str, candidates: list[tuple[str, float | None]], matched: str
) -> None:
    entries = [{"plate": "ABC123", "list_name": "local", "match_strategy": "lenient"}]
    result = _match([{"plate_text": text, "candidates": candidates}], entries)
    assert result["matched_text"].to_list() == [matched]


def test_hits_come_by_capture_time_read_list_then_entry() -> None:
    entries = [
        {"plate": "ABC123", "state": "CO", "list_name": "beta", "entry_id": "a-beta"},
        {"plate": "ABC123", "list_name": "alpha", "entry_id": "z-alpha"},
        {"plate": "ABC123", "state": "CO", "list_name": "alpha", "entry_id": "y-alpha"},
    ]
    reads = [
        {"plate_text": "ABC123", "jurisdiction": "co", "captured_at": T0 + timedelta(seconds=5)},
        {"plate_text": "ABC123", "jurisdiction": "co", "captured_at": T0},
        {"plate_text": "ABC123", "jurisdiction": "co", "captured_at": T0},
    ]
    got = _match(reads, entries).select("read_id", "entry_id").rows()
    assert got == [
        ("r1", "y-alpha"),
        ("r1", "z-alpha"),
        ("r1", "a-beta"),
        ("r2", "y-alpha"),
        ("r2", "z-alpha"),
        ("r2", "a-beta"),
        ("r0", "y-alpha"),
        ("r0", "z-alpha"),
        ("r0", "a-beta"),
    ]


def test_an_entry_of_unknown_listing_time_is_not_seen_before_listed() -> None:
    result = _match([{"plate_text": "ABC123"}], [{"plate": "ABC123", "first_listed_at": None}])
    assert result["seen_before_listed"].to_list() == [False]


def test_lookalike_key_expr_is_lookalike_key() -> None:
    texts = ["abc-1o3", " 8 bz5 ", "QDIL", ""]
    want = [lookalike_key(t) for t in texts]
    assert want[:3] == ["A8C103", "8825", "0011"]
    frame = pl.DataFrame({"t": texts})
    assert frame.select(lookalike_key_expr("t"))["t"].to_list() == want
    assert frame.select(lookalike_key_expr(pl.col("t")))["t"].to_list() == want
    keys = pl.DataFrame({"k": [match_key(t) for t in texts]})
    assert keys.select(lookalike_key_expr("k", is_match_key=True))["k"].to_list() == want


def test_deletion_neighbourhood_and_deleted_at() -> None:
    frame = pl.LazyFrame({"k": ["AB", ""]})
    got = deletion_neighbourhood(frame, "k").collect()
    want = pl.DataFrame(
        {"k": ["AB", "AB", "AB", ""], "_pos": [-1, 0, 1, -1], "_nkey": ["AB", "B", "A", ""]},
        schema={"k": pl.String, "_pos": pl.Int16, "_nkey": pl.String},
    )
    assert_frame_equal(got, want)
    words = pl.DataFrame({"k": ["ABC", "ABCD", "AB"]})
    assert words.select(deleted_at("k", 2))["k"].to_list() == ["AB", "ABD", None]
    assert words.select(deleted_at("k", 3))["k"].to_list() == [None, "ABC", None]
