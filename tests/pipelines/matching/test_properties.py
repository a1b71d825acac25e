"""Property tests of matching against a plain edit-distance oracle."""

from __future__ import annotations

import os

import polars as pl
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from pipelines.matching import LOOKALIKE_CLASSES, lookalike_key
from pipelines.recognition.plates import PLATE_ALPHABET, match_key
from tests.pipelines.matching.frames import entries_frame, match_both_ways, reads_frame

PLATES = st.text(PLATE_ALPHABET, min_size=2, max_size=8)
STATES = st.sampled_from(["CO", "WY", "NM", "UT"])
LOOKALIKE = st.sampled_from(LOOKALIKE_CLASSES).flatmap(
    lambda cls: st.tuples(st.sampled_from(cls), st.sampled_from(cls))
)


def _examples(n: int) -> settings:
    """``n`` examples; under mutmut (``make mutate``), which reruns these tests for every mutant,
    25 of them, the same ones each run (derandomised), and a failure not shrunk (a kill needs
    no minimal example). mutmut sets ``MUTANT_UNDER_TEST`` before it imports the tests."""
    if "MUTANT_UNDER_TEST" in os.environ:
        return settings(
            max_examples=min(n, 25),
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            deadline=None,
        )
    return settings(max_examples=n, deadline=None)


def _distance(a: str, b: str) -> int:
    """Levenshtein distance, the textbook dynamic programme (the oracle)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _kinds(
    text: str, plate: str, *, strategy: str, read_state: str | None, state: str
) -> list[str]:
    reads = reads_frame({"plate_text": text, "jurisdiction": read_state})
    entries = entries_frame({"plate": plate, "state": state, "match_strategy": strategy})
    return match_both_ways(reads, entries)["match_kind"].to_list()


@st.composite
def _one_edit(draw: st.DrawFn, text: str) -> str:
    """``text`` with one substitution, insertion or deletion at a drawn place."""
    kind = draw(st.sampled_from(["sub", "ins", "del"]))
    char = draw(st.sampled_from(PLATE_ALPHABET))
    if kind == "ins":
        at = draw(st.integers(0, len(text)))
        return text[:at] + char + text[at:]
    at = draw(st.integers(0, len(text) - 1))
    return text[:at] + (char if kind == "sub" else "") + text[at + 1 :]


@_examples(150)
@given(data=st.data(), plate=PLATES, swap=LOOKALIKE, state=STATES, edit=st.booleans())
def test_a_lookalike_substitution_plus_one_edit_hits_under_lenient(
    data: st.DataObject, plate: str, swap: tuple[str, str], state: str, edit: bool
) -> None:
    """An entry plate holding a look-alike character, read as another member of its class, and
    optionally with one more edit anywhere, hits a lenient list (the same state, or unread)."""
    at = data.draw(st.integers(0, len(plate)), label="lookalike position")
    listed, written = swap
    plate = plate[:at] + listed + plate[at:]
    text = plate[:at] + written + plate[at + 1 :]
    if edit:
        text = data.draw(_one_edit(text), label="edited read")
    read_state = data.draw(st.sampled_from([state, None]), label="read state")
    kinds = _kinds(text, plate, strategy="lenient", read_state=read_state, state=state)
    assert len(kinds) == 1
    assert kinds[0] == ("exact" if match_key(text) == match_key(plate) else "lenient")


@_examples(150)
@given(data=st.data(), plate=PLATES, state=STATES, strategy=st.sampled_from(["exact", "lenient"]))
def test_hits_are_exactly_the_oracles(
    data: st.DataObject, plate: str, state: str, strategy: str
) -> None:
    """Over reads zero to three edits away: exact iff the match keys agree, lenient iff (on a
    lenient list) the look-alike folds are within one edit; an unrelated plate (two or more
    edits after the fold) never hits."""
    text = plate
    for _ in range(data.draw(st.integers(0, 3), label="edits")):
        text = data.draw(_one_edit(text), label="read") if text else "A"
    kinds = _kinds(text, plate, strategy=strategy, read_state=state, state=state)
    if text and match_key(text) == match_key(plate):
        assert kinds == ["exact"]
    elif (
        strategy == "lenient" and text and _distance(lookalike_key(text), lookalike_key(plate)) <= 1
    ):
        assert kinds == ["lenient"]
    else:
        assert kinds == []


@_examples(100)
@given(
    plate=PLATES,
    states=st.lists(STATES, min_size=2, max_size=2, unique=True),
    strategy=st.sampled_from(["exact", "lenient"]),
)
def test_never_hits_across_different_states(plate: str, states: list[str], strategy: str) -> None:
    read_state, state = states
    assert _kinds(plate, plate, strategy=strategy, read_state=read_state.lower(), state=state) == []


def test_oracle_distance() -> None:
    assert [_distance("ABC", b) for b in ("ABC", "ABD", "AC", "ABCD", "BAC", "")] == [
        0,
        1,
        1,
        1,
        2,
        3,
    ]
    assert pl.Series([lookalike_key("OQD0 ILl1 Z2 S5 B8 G6")]).item() == "0000111122558866"
