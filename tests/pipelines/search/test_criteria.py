"""Search criteria on their own: the plate filter says what comparing look-alike folds says,
wildcards, and the criteria a search refuses."""

from __future__ import annotations

import fnmatch
from datetime import UTC, date, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.matching._keys import lookalike_key
from pipelines.search import Criteria, SearchRefusal, plate_expr

# Look-alike members, their neighbours and a few others: collisions are frequent.
CHARS = "0ODQ1IL2Z5S8B6GA7T"
TEXTS = st.text(alphabet=CHARS, min_size=1, max_size=7)


def _hits(query: str, texts: list[str]) -> list[str]:
    frame = pl.DataFrame({"plate_text": texts})
    return frame.filter(plate_expr(query))["plate_text"].to_list()


@settings(max_examples=300, deadline=None)
@given(query=TEXTS, texts=st.lists(TEXTS, min_size=1, max_size=30))
def test_an_exact_plate_finds_exactly_the_texts_of_the_same_fold(
    query: str, texts: list[str]
) -> None:
    expected = [t for t in texts if lookalike_key(t) == lookalike_key(query)]
    assert _hits(query, texts) == expected


@settings(max_examples=300, deadline=None)
@given(
    query=st.text(alphabet=CHARS[:8] + "*?", min_size=1, max_size=6),
    texts=st.lists(st.text(alphabet=CHARS[:8], min_size=1, max_size=6), min_size=1, max_size=30),
)
def test_a_partial_plate_is_a_wildcard_match_of_the_folds(query: str, texts: list[str]) -> None:
    folded = "".join(c if c in "*?" else lookalike_key(c) for c in query)
    expected = [t for t in texts if fnmatch.fnmatchcase(lookalike_key(t), folded)]
    assert _hits(query, texts) == expected


def test_look_alikes_wildcards_and_the_many_variant_plate() -> None:
    texts = ["8OS1Z3", "BOS123", "B0S128", "XB0S123", "B0S12", "0000000", "ODQ0D0Q", "0000001"]
    assert _hits("B0S123", texts) == ["8OS1Z3", "BOS123"]
    assert _hits("B0S12*", texts) == ["8OS1Z3", "BOS123", "B0S128", "B0S12"]
    assert _hits("*B0S12?", texts) == ["8OS1Z3", "BOS123", "B0S128", "XB0S123"]
    # 4^7 texts fold to 0000000: the regular expression instead of a set, the same answer
    assert _hits("0000000", texts) == ["0000000", "ODQ0D0Q"]


def test_a_plate_is_searched_normalized() -> None:
    assert Criteria(plate=" abc-123 ").plate == "ABC123"
    assert Criteria(plate="ab c*1?").plate == "ABC*1?"


W0 = datetime(2026, 3, 10, 23, tzinfo=UTC)
W1 = datetime(2026, 3, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "field", "says"),
    [
        ({}, "criteria", "give a plate, a camera, a state or a time window"),
        ({"plate": "---"}, "criteria", "give a plate"),
        ({"plate": "A*"}, "plate", "a partial plate names at least 2 plate characters"),
        ({"plate": "*?*"}, "plate", "at least 2"),
        ({"start": W0}, "window", "needs both a start and an end"),
        ({"end": W1}, "window", "needs both"),
        ({"start": W1, "end": W0}, "window", "must end after it starts"),
        ({"start": W0, "end": W0}, "window", "must end after it starts"),
        ({"start": W0.replace(tzinfo=None), "end": W1}, "window", "has no time zone"),
    ],
)
def test_criteria_that_select_everything_or_nothing_sensible_are_refused(
    kwargs: dict[str, object], field: str, says: str
) -> None:
    with pytest.raises(SearchRefusal, match=says) as refused:
        Criteria(**kwargs)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_every_criterion_must_hold_and_the_window_is_half_open() -> None:
    reads = pl.DataFrame(
        {
            "plate_text": ["ABC123", "ABC123", "ABC123", "ABC123", "XYZ999"],
            "camera_id": ["cam-1", "cam-2", "cam-1", "cam-1", "cam-1"],
            "jurisdiction": ["co", "co", "wy", "co", "co"],
            "captured_at": [W0, W0, W0, W1, W0],
            "capture_date": [W0.date(), W0.date(), W0.date(), W1.date(), W0.date()],
        }
    ).with_row_index("i")
    criteria = Criteria(plate="abc123", cameras=("cam-1",), states=("CO",), start=W0, end=W1)
    assert reads.filter(*criteria.filters())["i"].to_list() == [0]
    # the window's last instant is just before midnight: only its one capture date is opened
    assert criteria.filters()[0].meta.eq(
        pl.col("capture_date").is_between(date(2026, 3, 10), date(2026, 3, 10))
    )
    assert reads.filter(*Criteria(states=("co",)).filters())["i"].to_list() == [0, 1, 3, 4]
