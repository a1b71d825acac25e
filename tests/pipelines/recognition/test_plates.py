"""Plate text rules: normalization (shared by reads and hotlists), look-alikes, formats, states."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.recognition.plates import (
    CONFUSABLE_PAIRS,
    JURISDICTION_MARKERS,
    MATCH_FOLDS,
    PLATE_ALPHABET,
    US_STATE_FORMATS,
    WIDE_PLATE_FORMATS,
    _substring_distance,
    confusables,
    fit_lookalikes,
    fits_format,
    formats_for,
    guess_jurisdiction,
    match_key,
    match_key_expr,
    normalize_plate,
    normalized_plate_expr,
    plate_candidates,
    plate_shape,
)

plate_text = st.text(alphabet=PLATE_ALPHABET, min_size=1, max_size=9)
# What people and OCRs type: plate characters, separators, lower case, look-alike Unicode.
messy_text = st.text(
    alphabet=st.sampled_from(list(PLATE_ALPHABET + "abcxyz -·.,_/ÀéßĳＡ１０ｏ\t\n"))
    | st.characters(exclude_categories=("Cs",)),  # lone surrogates are not text: no file holds them
    max_size=20,
)


@given(messy_text)
def test_normalize_is_idempotent_and_plate_alphabet_only(text: str) -> None:
    once = normalize_plate(text)
    assert normalize_plate(once) == once
    assert set(once) <= set(PLATE_ALPHABET)


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("abc-123", "ABC123"),
        (" 7 ABC 123 ", "7ABC123"),
        ("ZCS·74S", "ZCS74S"),
        ("ＡＢＣ１２３", "ABC123"),  # fullwidth forms, as some OCRs emit
        ("京A·12345", "A12345"),
        ("", ""),
        ("---", ""),
        # Unassigned in Python 3.11's Unicode 14, dropped: polars' Unicode 16 folds U+1CCD6 to A,
        # and U+0378 between A and its accent keeps them apart only until it is dropped.
        ("7\U0001ccd6B", "7B"),
        ("A\u0378\u0301", ""),
    ],
)
def test_normalize_examples(raw: str, want: str) -> None:
    assert normalize_plate(raw) == want
    frame = pl.DataFrame({"plate": [raw]}, schema={"plate": pl.String})
    assert frame.select(normalized_plate_expr("plate"))["plate"].to_list() == [want]


@given(st.lists(messy_text, max_size=8))
def test_polars_expressions_match_the_python_functions(texts: list[str]) -> None:
    # Hotlist entries are normalized in polars, reads in Python: the join needs both identical.
    frame = pl.DataFrame({"plate": texts}, schema={"plate": pl.String}).with_columns(
        normalized=normalized_plate_expr("plate"), key=match_key_expr(pl.col("plate"))
    )
    assert frame["normalized"].to_list() == [normalize_plate(t) for t in texts]
    assert frame["key"].to_list() == [match_key(t) for t in texts]


def test_hotlist_join_on_match_key_meets_reads() -> None:
    # Each fold in each direction (a read's O meets an entry's 0, an entry's I a read's 1, ...),
    # and look-alikes the key must not fold (D, Q, B, 8, S, Z) kept apart.
    pairs = [
        ("0IT-643", "OIT643"),  # O/0, read side
        ("OKC 123", "0KC123"),  # O/0, entry side
        ("AB1-234", "ABI234"),  # I/1, read side
        ("IXL 555", "1XL555"),  # I/1, entry side
        ("abc 1234", "ABC1234"),  # no fold needed
    ]
    apart = [
        ("D0G123", "00G123"),  # D/0
        ("Q11X22", "011X22"),  # Q/0
        ("B8K421", "88K421"),  # B/8
        ("S5Z222", "55Z222"),  # S/5
        ("Z2A100", "22A100"),  # Z/2
    ]
    hotlist = pl.DataFrame({"entry": [e for e, _ in pairs + apart]})
    reads = pl.DataFrame({"text": [r for _, r in pairs + apart] + ["XYZ998"]})
    hits = reads.with_columns(key=match_key_expr("text")).join(
        hotlist.with_columns(key=match_key_expr("entry")), on="key"
    )
    assert sorted(hits.select("entry", "text").rows()) == sorted(pairs)


# Every fold the match key must make, written out (PP-9126 matching: O/0 and I/1 only), and the
# look-alikes it must keep: a hotlist hit on D for 0 or B for 8 would be a wrong stop.
EXPECTED_FOLDS = {"O": "0", "I": "1"}
NOT_FOLDED = "DQB8S5Z2G6UV01"


def test_match_folds_are_exactly_o_zero_and_i_one() -> None:
    assert dict(MATCH_FOLDS) == EXPECTED_FOLDS


@pytest.mark.parametrize(("char", "key"), sorted(EXPECTED_FOLDS.items()))
def test_match_key_folds_these_pairs(char: str, key: str) -> None:
    assert match_key(f"A{char}{char.lower()}9") == f"A{key}{key}9"
    frame = pl.DataFrame({"plate": [f"A{char}9"]})
    assert frame.select(match_key_expr("plate")).item() == f"A{key}9"


@pytest.mark.parametrize("char", list(NOT_FOLDED))
def test_match_key_keeps_other_look_alikes(char: str) -> None:
    assert match_key(f"A{char}9") == f"A{char}9"
    frame = pl.DataFrame({"plate": [f"A{char}9"]})
    assert frame.select(match_key_expr("plate")).item() == f"A{char}9"


@given(messy_text)
def test_match_key_folds_and_is_idempotent(text: str) -> None:
    key = match_key(text)
    assert match_key(key) == key
    assert key == match_key(normalize_plate(text))
    assert not set(key) & {"O", "I"}  # written out: see EXPECTED_FOLDS
    assert set(key) <= set(PLATE_ALPHABET)


def test_confusables_are_symmetric_irreflexive_and_in_alphabet() -> None:
    for char in PLATE_ALPHABET:
        for other in confusables(char):
            assert other != char
            assert other in PLATE_ALPHABET
            assert char in confusables(other)
    for a, b in CONFUSABLE_PAIRS:
        assert b in confusables(a) and a in confusables(b)
    assert confusables("-") == frozenset()


@given(plate_text, st.data())
def test_candidates_include_the_input_and_are_ranked(text: str, data: st.DataObject) -> None:
    confs = data.draw(
        st.lists(st.floats(0.0, 1.0), min_size=len(text), max_size=len(text)), label="confs"
    )
    state = data.draw(st.sampled_from([None, *US_STATE_FORMATS]), label="state")
    limit = data.draw(st.integers(1, 10), label="limit")
    cands = plate_candidates(text, confs, jurisdiction=state, limit=limit)
    readings = [c for c, _ in cands]
    scores = [s for _, s in cands]
    assert normalize_plate(text) in readings
    assert len(readings) == len(set(readings)) <= limit
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert sum(scores) <= 1.0 + 1e-9
    assert scores[:-1] == sorted(scores[:-1], reverse=True)  # the input may be appended last
    assert all(len(r) == len(text) for r in readings)


@given(plate_text)
def test_candidates_only_swap_look_alikes_without_alternatives(text: str) -> None:
    for reading, _ in plate_candidates(text, limit=10):
        for a, b in zip(reading, text, strict=True):
            assert a == b or a in confusables(b)


def test_a_confident_input_stays_first() -> None:
    cands = plate_candidates("ABC123", [0.99] * 6)
    assert cands[0][0] == "ABC123"


def test_state_format_breaks_a_look_alike_tie() -> None:
    # New Jersey prints ABC-12D: a doubtful last "5" is the letter S there.
    confs = [0.95, 0.95, 0.95, 0.95, 0.95, 0.55]
    assert plate_candidates("ZCS745", confs)[0][0] == "ZCS745"
    assert plate_candidates("ZCS745", confs, jurisdiction="NJ")[0][0] == "ZCS74S"


def test_alternatives_come_from_the_caller() -> None:
    cands = plate_candidates("ABC12", [0.9] * 4 + [0.6], alternatives=[{}] * 4 + [{"Z": 0.4}])
    assert [c for c, _ in cands[:2]] == ["ABC12", "ABC1Z"]


def test_candidates_reject_mismatched_confidences() -> None:
    with pytest.raises(ValueError, match="one per character"):
        plate_candidates("ABC123", [0.9, 0.9])


def test_confidences_may_follow_the_raw_text() -> None:
    raw = plate_candidates("zcs-745", [0.95, 0.95, 0.95, 0.1, 0.95, 0.95, 0.55], jurisdiction="nj")
    clean = plate_candidates("ZCS745", [0.95, 0.95, 0.95, 0.95, 0.95, 0.55], jurisdiction="nj")
    assert raw == clean


def test_empty_text_has_one_empty_candidate() -> None:
    assert plate_candidates("-- ") == (("", 1.0),)


@pytest.mark.parametrize(
    ("text", "shape"), [("7ABC123", "DLLLDDD"), ("abc-123", "LLLDDD"), ("", "")]
)
def test_plate_shape(text: str, shape: str) -> None:
    assert plate_shape(text) == shape


def test_formats_table_is_well_formed() -> None:
    assert len(US_STATE_FORMATS) == 51  # 50 states and DC
    for state, formats in US_STATE_FORMATS.items():
        assert state == state.lower() and len(state) == 2
        assert formats and all(set(f) <= {"L", "D"} for f in formats)
        assert len(set(formats)) == len(formats)


@pytest.mark.parametrize(
    ("plate", "state", "fits"),
    [
        ("7ABC123", "ca", True),
        ("7ABC123", "CA", True),
        ("ABC1234", "ca", False),
        ("ABC1234", "ny", True),
        ("ZCS74S", "nj", True),
        ("ABC123", None, False),
        ("ABC123", "zz", False),
    ],
)
def test_fits_format(plate: str, state: str | None, fits: bool) -> None:
    assert fits_format(plate, state) is fits


def test_formats_for_unknown_is_empty() -> None:
    assert formats_for(None) == formats_for("xx") == ()


def test_markers_are_normalized_letters_of_known_states() -> None:
    for marker, state in JURISDICTION_MARKERS.items():
        assert marker == normalize_plate(marker) and marker.isalpha()
        assert state in US_STATE_FORMATS


@pytest.mark.parametrize(
    ("texts", "state"),
    [
        (["MYFLORIDA.COM", "SUNSHINE STATE"], "fl"),
        (["West Virginia"], "wv"),
        (["VIRGINIA"], "va"),
        (["WASHINGTON, DC", "TAXATION WITHOUT REPRESENTATION"], "dc"),
        (["Arkansas"], "ar"),
        (["Califomia"], "ca"),  # one letter misread
        (["", "Live Free or Die"], "nh"),
        (["NEW MEXICO"], "nm"),
        (["Iowa"], "ia"),
        (["lowa"], None),  # short markers must match exactly
        (["12-07", "OAK LAWN"], None),
        ([], None),
    ],
)
def test_guess_jurisdiction(texts: list[str], state: str | None) -> None:
    assert guess_jurisdiction(texts) == state


def _substring_distance_reference(pattern: str, text: str) -> int:
    column = list(range(len(pattern) + 1))
    best = column[-1]
    for c in text:
        new = [0]
        for i in range(1, len(pattern) + 1):
            new.append(min(column[i] + 1, new[i - 1] + 1, column[i - 1] + (pattern[i - 1] != c)))
        column = new
        best = min(best, column[-1])
    return best


@given(st.text("ABCD", min_size=1, max_size=12), st.text("ABCD", max_size=16))
def test_substring_distance_matches_dynamic_programming(pattern: str, text: str) -> None:
    assert _substring_distance(pattern, text) == _substring_distance_reference(pattern, text)


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        ("0KM0944", "0KM0944"),  # LLLDDDD or DLLLDDD: ambiguous without confidences
        ("NY13834", "NYI3834"),
        ("BA3020Z", "BA302OZ"),  # LLDDDLL
        ("ABC1234", "ABC1234"),  # fits already
        ("W053011", "W053011"),  # would need three swaps: left alone
        ("XY", "XY"),  # no format of that length
    ],
)
def test_fit_lookalikes_to_wide_plate_formats(read: str, expected: str) -> None:
    assert fit_lookalikes(read, WIDE_PLATE_FORMATS) == expected


def test_fit_lookalikes_changes_the_least_confident_character() -> None:
    confidences = [0.55, 0.99, 0.99, 0.97, 0.99, 0.99, 0.99]
    assert fit_lookalikes("0KM0944", WIDE_PLATE_FORMATS, confidences) == "OKM0944"
    confidences = [0.99, 0.99, 0.99, 0.55, 0.99, 0.99, 0.99]
    assert fit_lookalikes("0KM0944", WIDE_PLATE_FORMATS, confidences) == "0KMO944"


@given(st.text(alphabet="ABCDIO0123456789", min_size=1, max_size=9))
def test_fit_lookalikes_only_swaps_lookalikes(text: str) -> None:
    fitted = fit_lookalikes(text, WIDE_PLATE_FORMATS)
    assert len(fitted) == len(text)
    changed = [(a, b) for a, b in zip(text, fitted, strict=True) if a != b]
    assert len(changed) <= 1
    assert all({a, b} in ({"O", "0"}, {"I", "1"}) for a, b in changed)


# --- look-alike table, swap limit, jurisdiction ranking (mutation testing, issue 12; make mutate,
# docs/mutation.md) ---


def test_confusables_table_is_built_from_the_pairs() -> None:
    from pipelines.recognition.plates import _build_confusables

    table = _build_confusables()  # called here: the module's copy was built at import
    assert set(table) == set(PLATE_ALPHABET)
    assert table["0"] == frozenset("ODQU")
    assert table["O"] == frozenset("0DQ")
    assert table["1"] == frozenset("ITL")
    assert table["N"] == frozenset("MH")
    assert table["W"] == frozenset()


def test_fit_lookalikes_swaps_at_most_one_character_by_default() -> None:
    assert fit_lookalikes("AB1O123", WIDE_PLATE_FORMATS) == "AB1O123"
    assert fit_lookalikes("AB1O123", WIDE_PLATE_FORMATS, max_swaps=2) == "ABI0123"


@pytest.mark.parametrize(
    ("texts", "state"),
    [
        (["Kansas"], "ks"),  # not Arkansas with two letters missing
        (["Erkansas"], "ar"),  # Arkansas with one letter misread, not Kansas
        (["Nevida"], "nv"),  # six letters: one error allowed
    ],
)
def test_guess_jurisdiction_ranks_length_against_errors(texts: list[str], state: str) -> None:
    assert guess_jurisdiction(texts) == state


def test_substring_distance_of_an_empty_pattern_is_zero() -> None:
    assert _substring_distance("", "ABC") == 0


@given(st.lists(messy_text, max_size=8))
def test_match_key_of_normalized_text_skips_only_the_normalization(texts: list[str]) -> None:
    # Reads hold normalized text (PlateRead), so matching folds them without normalizing again.
    frame = pl.DataFrame(
        {"plate": [normalize_plate(t) for t in texts]}, schema={"plate": pl.String}
    )
    keys = frame.select(match_key_expr("plate", normalized=True)).to_series().to_list()
    assert keys == [match_key(t) for t in texts]


def test_candidates_of_two_characters_exactly() -> None:
    # default confidence 0.9 each, the rest to the one look-alike of each (A/4, B/8); ties by text
    cands = plate_candidates("AB")
    assert [c for c, _ in cands] == ["AB", "4B", "A8", "48"]
    assert [s for _, s in cands] == pytest.approx([0.81, 0.09, 0.09, 0.01])


def test_certain_characters_have_no_alternatives() -> None:
    assert plate_candidates("A", [1.0]) == (("A", 1.0),)
    assert plate_candidates("AB", [1.5, 1.0]) == (("AB", 1.0),)  # clamped to 1


def test_caller_alternatives_are_normalized_and_filtered() -> None:
    # the read character itself, multi-character, empty and zero-probability alternatives drop out;
    # the second position has none given, so its look-alike (B/8) would apply, but it is certain
    alternatives = [{"O": 0.3, "0": 0.5, "OD": 0.2, "8": 0.0, "-": 0.4}]
    cands = plate_candidates("0B", [0.6, 1.0], alternatives=alternatives)
    assert [c for c, _ in cands] == ["0B", "OB"]
    assert [s for _, s in cands] == pytest.approx([0.6, 0.4])


@pytest.mark.parametrize(
    ("formats", "top", "base_score"),
    [
        (("DDD",), 0.2475**3 * 0.1, 1e-6 * 0.9),  # the unlikely input fits, the others do not
        (("LLL",), 0.2475**3 * 0.9, 1e-6 * 0.1),
    ],
)
def test_an_unlikely_input_is_appended_with_its_format_prior(
    formats: tuple[str, ...], top: float, base_score: float
) -> None:
    cands = plate_candidates("000", [0.01] * 3, formats=formats, limit=2)
    assert [c for c, _ in cands] == ["DDD", "000"]
    assert [s for _, s in cands] == pytest.approx([top, base_score])


def test_at_most_eight_candidates_by_default() -> None:
    assert len(plate_candidates("000", [0.5] * 3)) == 8


# Five positions, each its letter or a runner-up digit, with odds of the runner-up of r**(2**i):
# a reading's probability is P0 * r**v, where v is the binary number of the positions that took
# their digit, so the k-th most probable reading is v = k - 1, and "ABCD5" (v = 16) is the 17th.
_R = 0.9
_KEEP = [1 / (1 + _R ** (2**i)) for i in range(5)]
_P0 = math.prod(_KEEP)
_DIGITS = [{d: 1.0} for d in "12345"]


def _same(got: tuple[tuple[str, float], ...], want: list[tuple[str, float]]) -> None:
    assert [t for t, _ in got] == [t for t, _ in want]
    assert [p for _, p in got] == pytest.approx([p for _, p in want], rel=1e-9)


def test_the_candidate_pool_holds_four_times_the_limit_and_at_least_16_readings() -> None:
    # limit 4: a pool of 16 readings, so the 17th (the only one fitting LLLLD) is never scored
    _same(
        plate_candidates("ABCDE", _KEEP, alternatives=_DIGITS, formats=("LLLLD",), limit=4),
        [
            (t, _P0 * _R**v * 0.1)
            for t, v in [("ABCDE", 0), ("1BCDE", 1), ("A2CDE", 2), ("12CDE", 3)]
        ],
    )
    # limit 8: a pool of 32, so the 17th reading is scored, and its format puts it first
    _same(
        plate_candidates("ABCDE", _KEEP, alternatives=_DIGITS, formats=("LLLLD",), limit=8),
        [("ABCD5", _P0 * _R**16 * 0.9)]
        + [
            (t, _P0 * _R**v * 0.1)
            for t, v in [
                ("ABCDE", 0),
                ("1BCDE", 1),
                ("A2CDE", 2),
                ("12CDE", 3),
                ("AB3DE", 4),
                ("1B3DE", 5),
                ("A23DE", 6),
            ]
        ],
    )


def test_each_position_offers_its_most_likely_character_first() -> None:
    # the runner-up digits sort before the letters by character: the order must be by score
    _same(
        plate_candidates("ABCDE", _KEEP, alternatives=_DIGITS, limit=4),
        [(t, _P0 * _R**v) for t, v in [("ABCDE", 0), ("1BCDE", 1), ("A2CDE", 2), ("12CDE", 3)]],
    )


def test_the_k_best_walk_starts_from_each_position_s_most_likely_character() -> None:
    # three choices a position, the runner-ups sorting before the letter by character and ranked
    # 1 over 2: walked from any other start, 16 readings never reach the best ones of 729
    alternatives = [{"1": 0.7 - 0.01 * i, "2": 0.3 + 0.01 * i} for i in range(6)]
    _same(
        plate_candidates("ABCDEF", [0.6] * 6, alternatives=alternatives, limit=4),
        [("ABCDEF", 0.6**6)]
        + [
            (t, 0.6**5 * 0.4 * share)
            for t, share in [("1BCDEF", 0.7), ("A1CDEF", 0.69), ("AB1DEF", 0.68)]
        ],
    )
