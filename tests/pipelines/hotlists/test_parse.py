from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.config import HotlistSettings
from pipelines.errors import HotlistError
from pipelines.hotlists._hash import SEPARATOR, fnv1a_128_hex
from pipelines.hotlists.parse import ParseResult, describe_problems, parse_hotlist
from pipelines.recognition.plates import match_key
from tests.pipelines.hotlists.samples import (
    CCIC_GOOD,
    CCIC_HEADER,
    CSV_GOOD,
    CSV_HEADER,
    NCIC_GOOD,
    NCIC_HEADER,
    ncic_record,
)

SETTINGS = HotlistSettings()


def parse(text: str, fmt: str, codes: tuple[str, ...] = (), name: str = "test"):  # type: ignore[no-untyped-def]
    return parse_hotlist(text.encode(), fmt, list_name=name, settings=SETTINGS, list_codes=codes)


def by_plate(frame: pl.DataFrame) -> dict[tuple[str, str | None], dict]:  # type: ignore[type-arg]
    return {(r["plate"], r["state"]): r for r in frame.iter_rows(named=True)}


def test_ncic_good_file() -> None:
    result = parse(NCIC_GOOD, "ncic")
    assert result.problems == []
    rows = by_plate(result.entries)
    assert set(rows) == {
        ("AB123456", "CA"),
        ("OHI777", "OH"),  # state 0H is Ohio
        ("KLM456", "CO"),
        ("KLM456", "WY"),  # same plate, other state: another entry
        ("XY1234", "TX"),
        ("DUP999", "CO"),
    }
    moto = rows[("AB123456", "CA")]
    assert moto["list_code"] == "V"
    assert moto["entry_date"] == "20190509"
    assert moto["description"] == "2009 YAMA CYL MC BLK"
    assert json.loads(moto["details"]) == {
        "nic_ori": "123456789LA0570200",
        "tag_year": "2009",
        "plate_type": "MC",
    }
    assert moto["line"] == 2
    assert rows[("OHI777", "OH")]["match_key"] == match_key("OHI777") == "0H1777"
    assert result.skipped_junk == 1  # plate 00
    # stolen plate and wanted person on one vehicle: one identity, both codes, earliest date
    assert rows[("DUP999", "CO")]["list_code"] == "P,W"
    assert rows[("DUP999", "CO")]["entry_date"] == "20230101"
    assert result.merged == 1
    assert rows[("KLM456", "CO")]["entry_id"] != rows[("KLM456", "WY")]["entry_id"]


def test_entry_ids_are_stable_and_depend_on_list_plate_and_state() -> None:
    first = parse(NCIC_GOOD, "ncic").entries
    again = parse(NCIC_GOOD, "ncic").entries
    other_list = parse(NCIC_GOOD, "ncic", name="other").entries
    assert first["entry_id"].to_list() == again["entry_id"].to_list()
    assert first["entry_id"].n_unique() == first.height
    assert set(first["entry_id"]).isdisjoint(set(other_list["entry_id"]))


def test_unsubscribed_codes_are_counted_not_loaded() -> None:
    result = parse(NCIC_GOOD, "ncic", codes=("V", "F"))
    assert set(result.entries["list_code"]) == {"V", "F"}
    assert result.skipped_unsubscribed == 4  # P, P, and the P+W vehicle counted per line
    assert result.skipped_junk == 1
    assert result.problems == []


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            [ncic_record()[:40]],
            [(2, "truncated record (40 characters, at least 58 expected)")],
        ),
        ([ncic_record(code="Z")], [(2, "unknown list code 'Z'")]),
        ([ncic_record(date="20191340")], [(2, "invalid date '20191340' (YYYYMMDD expected)")]),
        ([ncic_record(date="2019 509")], [(2, "invalid date '2019 509' (YYYYMMDD expected)")]),
        ([ncic_record(state="C1")], [(2, "invalid state 'C1'")]),
        (
            [ncic_record(plate="AB#12")],
            [(2, "unparseable plate (only letters, digits, spaces and dashes allowed)")],
        ),
        (
            [ncic_record(), "V\x00" + ncic_record()[2:]],
            [(3, "unparseable line (control characters or bytes that are not UTF-8)")],
        ),
        (
            [ncic_record(), ncic_record(code="Q"), ncic_record(date="20190230")],
            [(3, "unknown list code 'Q'"), (4, "invalid date '20190230' (YYYYMMDD expected)")],
        ),
    ],
)
def test_ncic_bad_lines_are_named_with_their_number(
    lines: list[str], expected: list[tuple[int, str]]
) -> None:
    result = parse("\n".join([NCIC_HEADER, *lines]) + "\n", "ncic")
    assert result.problems == expected
    with pytest.raises(HotlistError) as caught:
        result.raise_for_problems("ncic-0301.txt")
    for number, reason in expected:
        assert f"ncic-0301.txt: line {number}: {reason}" in str(caught.value)
    assert caught.value.problems == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [(1, "wrong header: the file is empty")]),
        ("\n" + ncic_record() + "\n", [(1, "wrong header: line 1 is blank")]),
        (
            ncic_record() + "\n" + ncic_record(plate="X2") + "\n",
            [(1, "wrong header: line 1 is a record (the header line is missing)")],
        ),
        (NCIC_HEADER + "\n", [(0, "empty list: no entries to load")]),
        (
            NCIC_HEADER + "\n" + ncic_record(plate="0") + "\n",
            [(0, "empty list: no entries to load")],
        ),
    ],
)
def test_ncic_header_and_empty_list(text: str, expected: list[tuple[int, str]]) -> None:
    assert parse(text, "ncic").problems == expected


def test_undecodable_bytes_are_a_problem_of_their_line() -> None:
    data = (
        (NCIC_HEADER + "\n" + ncic_record() + "\n").encode()
        + b"V\xff\xfe"
        + ncic_record()[3:].encode()
    )
    result = parse_hotlist(data, "ncic", list_name="t", settings=SETTINGS)
    assert result.problems == [
        (3, "unparseable line (control characters or bytes that are not UTF-8)")
    ]


def test_windows_line_endings_and_blank_lines() -> None:
    text = "\r\n".join([NCIC_HEADER, ncic_record(), "", ncic_record(plate="ZZ99")]) + "\r\n"
    result = parse(text, "ncic")
    assert result.problems == []
    assert result.entries["plate"].to_list() == ["AB123456", "ZZ99"]
    assert result.entries["line"].to_list() == [2, 4]


def test_ccic_good_file() -> None:
    result = parse(CCIC_GOOD, "ccic")
    assert result.problems == []
    rows = by_plate(result.entries)
    assert set(rows) == {("ABC123", "CO"), ("ABC123", "WY"), ("XYZ987", "CO"), ("QRS555", "CO")}
    assert rows[("ABC123", "CO")]["list_code"] == "Attempt To Locate"
    assert rows[("ABC123", "CO")]["description"] == "2002 FORD FOC BLK"
    assert rows[("ABC123", "WY")]["description"] is None
    assert rows[("XYZ987", "CO")]["list_code"] == "Stolen/Car Jacking/Ca"  # as printed, cut
    assert rows[("QRS555", "CO")]["list_code"] == "Used in Misdemeanor or"
    assert result.skipped_junk == 1


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["ABC123    CO"], [(2, "truncated record (12 characters, at least 13 expected)")]),
        (["ABC123    COParking Ticket        x"], [(2, "unknown list type 'Parking Ticket'")]),
        (["ABC123    C9Stolen Plate"], [(2, "invalid state 'C9'")]),
    ],
)
def test_ccic_bad_lines(lines: list[str], expected: list[tuple[int, str]]) -> None:
    assert parse("\n".join([CCIC_HEADER, *lines]), "ccic").problems == expected


def test_ccic_missing_header() -> None:
    text = "ABC123    COStolen Plate\nXYZ123    COStolen Plate\n"
    assert parse(text, "ccic").problems == [
        (1, "wrong header: line 1 is a record (the header line is missing)")
    ]


def test_ccic_subscription_by_printed_type() -> None:
    result = parse(CCIC_GOOD, "ccic", codes=("Stolen Plate", "stolen/car jacking/ca"))
    assert sorted(result.entries["list_code"]) == ["Stolen Plate", "Stolen/Car Jacking/Ca"]
    assert result.skipped_unsubscribed == 2


def test_csv_good_file() -> None:
    result = parse(CSV_GOOD, "csv")
    assert result.problems == []
    rows = by_plate(result.entries)
    first = rows[("ABC123", "CO")]
    assert first["description"] == 'red sedan, "loud" exhaust'
    assert first["list_code"] == "stolen"
    assert first["expires_at"].isoformat() == "2027-01-31T00:00:00+00:00"
    assert json.loads(first["details"]) == {"entered_by": "jdoe"}
    assert rows[("XYZ9", None)]["state"] is None  # unknown state stays null
    assert rows[("XYZ9", None)]["expires_at"] is None
    assert ("LMN456", "WY") in rows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plate,state,list\nABC123,CO,stolen\n", [(1, f"wrong header: expected '{CSV_HEADER}'")]),
        (
            CSV_HEADER + "\nABC123,CO,stolen,,\n",
            [(2, "unparseable line (6 comma-separated fields expected)")],
        ),
        (
            CSV_HEADER + '\nABC123,CO,stolen,"open quote,,\n',
            [(2, "unparseable line (6 comma-separated fields expected)")],
        ),
        (CSV_HEADER + "\nABC123,CO,,,,\n", [(2, "missing list")]),
        (
            CSV_HEADER + "\nABC123,CO,stolen,,31/01/2027,\nXY12,CO,stolen,,2027-02-30,\n",
            [
                (2, "invalid date '31/01/2027' (YYYY-MM-DD expected)"),
                (3, "invalid date '2027-02-30' (YYYY-MM-DD expected)"),
            ],
        ),
        (CSV_HEADER + "\n", [(0, "empty list: no entries to load")]),
    ],
)
def test_csv_rejections(text: str, expected: list[tuple[int, str]]) -> None:
    assert parse(text, "csv").problems == expected


def test_unknown_format_is_refused() -> None:
    with pytest.raises(HotlistError, match="valid values"):
        parse("x", "xml")


def _reference_fnv(text: str) -> str:
    out = []
    for offset in (0xCBF29CE484222325, 0x84222325CBF29CE4):
        h = offset
        for byte in text.encode():
            h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        out.append(f"{h:016x}")
    return "".join(out)


@given(st.lists(st.text(max_size=30), max_size=20), st.text(max_size=8))
def test_vectorised_hash_equals_the_reference(values: list[str], prefix: str) -> None:
    got = fnv1a_128_hex(pl.Series(values, dtype=pl.String), prefix=prefix).to_list()
    assert got == [_reference_fnv(prefix + v) for v in values]


def test_the_rejection_message_names_the_file_and_every_problem() -> None:
    problems = [(0, "empty list: no entries to load"), (3, "invalid state 'C1'")]
    assert describe_problems("hot.csv", problems) == (
        "hot.csv: rejected, 2 problem(s):\n"
        "  hot.csv: empty list: no entries to load\n"
        "  hot.csv: line 3: invalid state 'C1'"
    )
    with pytest.raises(HotlistError) as caught:
        parse(CSV_HEADER + "\nABC123,C1,stolen,,,\n", "csv").raise_for_problems("hot.csv")
    assert str(caught.value) == (
        "hot.csv: rejected, 1 problem(s):\n  hot.csv: line 2: invalid state 'C1'"
    )


BAD_TEXT = "unparseable line (control characters or bytes that are not UTF-8)"
BAD_PLATE = "unparseable plate (only letters, digits, spaces and dashes allowed)"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # 13 characters are enough for a record; a one-letter list type is no type
        (["ABC123    COX"], [(2, "unknown list type 'X'")]),
        (["ABC123    COStolen Plate          red\x01car"], [(2, BAD_TEXT)]),
        (["AB#123    COStolen Plate"], [(2, BAD_PLATE)]),
    ],
)
def test_ccic_bad_lines_of_every_check(lines: list[str], expected: list[tuple[int, str]]) -> None:
    assert parse("\n".join([CCIC_HEADER, *lines]), "ccic").problems == expected


def test_ccic_blank_state_is_unknown_not_invalid() -> None:
    result = parse(CCIC_HEADER + "\nABC123      Stolen Plate\n", "ccic")
    assert result.problems == []
    assert result.entries.select("plate", "state", "list_code").rows() == [
        ("ABC123", None, "Stolen Plate")
    ]


def test_csv_empty_file() -> None:
    assert parse("", "csv").problems == [(1, "wrong header: the file is empty")]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("ABC123,CO,stolen,red\x01car,,", BAD_TEXT),
        ("AB#123,CO,stolen,,,", BAD_PLATE),
        ("ABC123,C1,stolen,,,", "invalid state 'C1'"),
        # strptime alone would read a one-digit month
        ("ABC123,CO,stolen,,2027-1-31,", "invalid date '2027-1-31' (YYYY-MM-DD expected)"),
    ],
)
def test_csv_bad_lines_of_every_check(line: str, problem: str) -> None:
    assert parse(f"{CSV_HEADER}\n{line}\n", "csv").problems == [(2, problem)]


def test_csv_dates_are_read_as_yyyy_mm_dd_whatever_the_first_line_holds() -> None:
    text = f"{CSV_HEADER}\nABC123,CO,stolen,,31/01/2027,\nXYZ789,CO,stolen,,2027-01-31,\n"
    assert parse(text, "csv").problems == [(2, "invalid date '31/01/2027' (YYYY-MM-DD expected)")]


def test_csv_blank_and_empty_quoted_fields_are_null() -> None:
    text = f'{CSV_HEADER}\nXYZ9,,wanted,,,\nABC123,CO,stolen,"",,""\n'
    result = parse(text, "csv")
    assert result.problems == []
    assert result.entries.select("plate", "state", "description", "details").rows() == [
        ("XYZ9", None, None, None),
        ("ABC123", "CO", None, None),
    ]


def test_csv_subscription_by_list() -> None:
    result = parse(CSV_GOOD, "csv", codes=("STOLEN",))
    assert sorted(result.entries["plate"]) == ["ABC123", "LMN456"]
    assert result.skipped_unsubscribed == 1


def _ncic(*lines: str) -> ParseResult:
    return parse("\n".join([NCIC_HEADER, *lines]) + "\n", "ncic")


def test_ncic_blank_fields_are_null_and_the_description_joins_the_others() -> None:
    result = _ncic(
        # blank tag year, vehicle year and model; a blank state is an unknown one
        ncic_record(plate="AAA111", state="", tail="    MC    YAMA   MCBLK"),
        ncic_record(plate="BBB222", tail="2009MC2009YAMACYLMC"),  # 58 characters: no colour
        ncic_record(plate="CCC333", tail="2009MC" + " " * 13),  # no vehicle at all
    )
    assert result.problems == []
    rows = by_plate(result.entries)
    assert set(rows) == {("AAA111", None), ("BBB222", "CA"), ("CCC333", "CA")}
    assert rows[("AAA111", None)]["description"] == "YAMA MC BLK"
    assert json.loads(rows[("AAA111", None)]["details"]) == {
        "nic_ori": "123456789LA0570200",
        "tag_year": None,
        "plate_type": "MC",
    }
    assert rows[("BBB222", "CA")]["description"] == "2009 YAMA CYL MC"
    assert rows[("CCC333", "CA")]["description"] is None


YEARS = "invalid tag or vehicle year (4 digits or blank expected)"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (ncic_record(tail="20X9MC2009YAMACYLMCBLK"), YEARS),
        (ncic_record(tail="2009MC19 9YAMACYLMCBLK"), YEARS),
        (ncic_record(date="2019 5 9"), "invalid date '2019 5 9' (YYYYMMDD expected)"),
    ],
)
def test_ncic_years_and_dates_are_digits(line: str, problem: str) -> None:
    assert _ncic(line).problems == [(2, problem)]


def test_plates_as_short_as_the_minimum_are_loaded() -> None:
    result = _ncic(ncic_record(plate="A1"), ncic_record(plate="B"))
    assert result.entries["plate"].to_list() == ["A1"]
    assert (result.records, result.skipped_junk, result.skipped) == (2, 1, 1)


def test_counts_of_a_file_without_skips_or_merges() -> None:
    result = parse(CSV_GOOD, "csv")
    assert (result.records, result.skipped_junk, result.skipped_unsubscribed, result.merged) == (
        3,
        0,
        0,
        0,
    )
    assert parse(NCIC_GOOD, "ncic").records == 8


def test_entry_ids_hash_list_plate_and_state_apart() -> None:
    text = f"{CSV_HEADER}\nAB12CO,,stolen,,,\nAB12,CO,stolen,,,\n"
    result = parse(text, "csv", name="local")
    assert result.merged == 0
    expected = fnv1a_128_hex(
        pl.Series([f"AB12CO{SEPARATOR}", f"AB12{SEPARATOR}CO"]), prefix=f"local{SEPARATOR}"
    )
    assert result.entries["entry_id"].to_list() == expected.to_list()


def test_merged_lines_join_their_descriptions_or_have_none() -> None:
    ncic = _ncic(
        ncic_record(code="V", plate="DUP1"),
        ncic_record(code="F", plate="DUP1", tail="2009MC2011HONDCIV4DRED"),
    )
    [row] = ncic.entries.iter_rows(named=True)
    assert (row["list_code"], row["description"]) == (
        "V,F",
        "2009 YAMA CYL MC BLK | 2011 HOND CIV 4D RED",
    )
    csv = parse(f"{CSV_HEADER}\nABC123,CO,stolen,,,\nABC123,CO,wanted,,,\n", "csv")
    [row] = csv.entries.iter_rows(named=True)
    assert (row["list_code"], row["description"], csv.merged) == ("stolen,wanted", None, 1)


def test_csv_header_names_may_be_quoted_but_not_padded_with_other_characters() -> None:
    quoted = ",".join(f'"{c}"' for c in CSV_HEADER.split(","))
    assert parse(f"{quoted}\nABC123,CO,stolen,,,\n", "csv").problems == []
    padded = "X" + CSV_HEADER
    assert parse(f"{padded}\nABC123,CO,stolen,,,\n", "csv").problems == [
        (1, f"wrong header: expected '{CSV_HEADER}'")
    ]
