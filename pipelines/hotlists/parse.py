"""Parsers of the three hotlist formats (../shared/formats/hotlists.md), vectorised with polars.

Each parser turns a file's bytes into one entry per identity (list, plate, state) plus the
problems found, as ``(line number, reason)`` with the header as line 1. They never guess: a line
they do not understand is a problem, and a file with any problem must be rejected whole (the
caller does that, see :func:`pipelines.hotlists.snapshot.import_snapshot`). What they skip on
purpose is counted instead: junk plates (``hotlists.junk_plates``, shorter than
``hotlists.min_plate_length``) and entries of list codes the source does not subscribe to.

The file is split into lines once and every field is a ``str.slice`` (fixed width) or a regex
group (CSV) over that one column: no Python loop per line.

The same plate and state listed twice in one file (an NCIC vehicle both stolen and wanted) is one
identity, so one entry: its codes are joined with ``,`` in file order, its descriptions with
`` | ``, the earliest entry date is kept, and the count of such lines is reported as ``merged``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import polars as pl

from pipelines.config import HotlistSettings
from pipelines.errors import HotlistError
from pipelines.hotlists._hash import SEPARATOR, fnv1a_128_hex
from pipelines.hotlists.schema import CCIC_LIST_TYPES, NCIC_LIST_CODES, PARSED_SCHEMA
from pipelines.recognition.plates import match_key_expr, normalized_plate_expr

__all__ = [
    "CSV_COLUMNS",
    "ParseResult",
    "parse_ccic",
    "parse_csv",
    "parse_hotlist",
    "parse_ncic",
]

CSV_COLUMNS = ("plate", "state", "list", "description", "expires", "entered_by")
NCIC_MIN_LENGTH = 58  # through the vehicle style; the colour (58-end) may be blank
CCIC_MIN_LENGTH = 13  # plate, state and at least one character of the list type

_BAD_TEXT = r"[\x00-\x08\x0b-\x1f\x7f\x{fffd}]"  # control characters or undecodable bytes
_PLATE_CHARS = r"^[A-Za-z0-9 -]*$"
_CSV_FIELD = r'("(?:[^"]|"")*"|[^,"]*)'
_CSV_LINE = "^" + ",".join([_CSV_FIELD] * len(CSV_COLUMNS)) + "$"
_UTC = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class ParseResult:
    """A parsed file: ``entries`` (``PARSED_SCHEMA``) and what was not loaded, and why."""

    entries: pl.DataFrame
    problems: list[tuple[int, str]]  # (line number, reason); 0 for the file as a whole
    records: int  # data lines read (the header and blank lines excluded)
    skipped_junk: int
    skipped_unsubscribed: int
    merged: int  # lines folded into an earlier line's entry (same list, plate and state)

    @property
    def skipped(self) -> int:
        return self.skipped_junk + self.skipped_unsubscribed

    def raise_for_problems(self, file_name: str) -> None:
        """Raise :class:`HotlistError` naming the file and every bad line, if there is one."""
        if self.problems:
            raise HotlistError(describe_problems(file_name, self.problems), self.problems)


def describe_problems(file_name: str, problems: list[tuple[int, str]]) -> str:
    lines = [f"{file_name}: rejected, {len(problems)} problem(s):"]
    lines += [
        f"  {file_name}: line {n}: {reason}" if n else f"  {file_name}: {reason}"
        for n, reason in problems
    ]
    return "\n".join(lines)


def parse_hotlist(
    data: bytes,
    fmt: str,
    *,
    list_name: str,
    settings: HotlistSettings,
    list_codes: Collection[str] = (),
) -> ParseResult:
    """Parse ``data`` as ``fmt`` (``ncic``, ``ccic`` or ``csv``) for the list ``list_name``."""
    parsers = {"ncic": parse_ncic, "ccic": parse_ccic, "csv": parse_csv}
    if fmt not in parsers:
        raise HotlistError(f"unknown hotlist format {fmt!r}; valid values: {sorted(parsers)}")
    return parsers[fmt](data, list_name=list_name, settings=settings, list_codes=list_codes)


def _lines(data: bytes) -> pl.DataFrame:
    """``line`` (1-based) and ``text`` of every line; undecodable bytes become U+FFFD."""
    text = data.decode("utf-8", errors="replace")
    if text.endswith("\n"):
        text = text[:-1]
    # str.split is one C call; polars' own split of a single 60 MB string was 5x slower.
    lines = pl.Series("text", text.split("\n"), dtype=pl.String)
    return pl.DataFrame(
        {"text": lines.str.strip_suffix("\r"), "line": pl.int_range(1, len(lines) + 1, eager=True)}
    )


def _split(data: bytes) -> tuple[str | None, pl.DataFrame]:
    """The header text (None for an empty file) and the non-blank data lines."""
    lines = _lines(data) if data else pl.DataFrame(schema={"text": pl.String, "line": pl.Int64})
    lines = lines.with_columns(pl.col("line").cast(pl.Int64))
    header = lines["text"][0] if lines.height else None
    body = lines.filter(pl.col("line") > 1, pl.col("text").str.strip_chars() != "")
    return header, body


def _field(start: int, end: int | None = None) -> pl.Expr:
    length = None if end is None else end - start
    return pl.col("text").str.slice(start, length).str.strip_chars()


def _blank_to_null(*names: str) -> list[pl.Expr]:
    return [pl.when(pl.col(n) != "").then(pl.col(n)).alias(n) for n in names]


def _first_problem(*checks: tuple[pl.Expr, pl.Expr]) -> pl.Expr:
    """The reason of the first failing check of a line, or null."""
    return pl.coalesce([pl.when(failed).then(reason) for failed, reason in checks]).alias("problem")


def _state_problem() -> tuple[pl.Expr, pl.Expr]:
    bad = pl.col("state").is_not_null() & ~pl.col("state").str.contains(r"^[A-Z]{2}$")
    return bad, pl.format("invalid state '{}'", pl.col("state"))


def _plate_problem(raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    # The plate is never echoed: reasons end up in messages and logs.
    bad = ~raw.str.contains(_PLATE_CHARS)
    return bad, pl.lit("unparseable plate (only letters, digits, spaces and dashes allowed)")


def _text_problem() -> tuple[pl.Expr, pl.Expr]:
    return (
        pl.col("text").str.contains(_BAD_TEXT),
        pl.lit("unparseable line (control characters or bytes that are not UTF-8)"),
    )


def parse_ncic(
    data: bytes,
    *,
    list_name: str,
    settings: HotlistSettings,
    list_codes: Collection[str] = (),
) -> ParseResult:
    """NCIC vehicle/plate hot file: fixed width, header line first, no expiry (full snapshot)."""
    header, body = _split(data)
    frame = _ncic_records(body)
    header_problem = _fixed_width_header_problem(header, _ncic_records)
    described = frame.with_columns(
        description=pl.concat_str(
            [
                pl.when(pl.col(c) != "").then(pl.col(c))
                for c in ("vehicle_year", "make", "model", "style", "colour")
            ],
            separator=" ",
            ignore_nulls=True,
        ),
        details=pl.struct("nic_ori", "tag_year", "plate_type").struct.json_encode(),
        expires_at=pl.lit(None, dtype=_UTC),
    ).with_columns(_blank_to_null("description"))
    return _finish(described, header_problem, list_name, settings, list_codes)


def _ncic_records(body: pl.DataFrame) -> pl.DataFrame:
    """The NCIC fields of each line, and the first problem of the line (or null)."""
    frame = body.with_columns(
        list_code=pl.col("text").str.slice(0, 1),
        nic_ori=_field(1, 19),
        entry_date=pl.col("text").str.slice(19, 8),
        raw_plate=pl.col("text").str.slice(27, 10),
        # NCIC writes the digit 0 for the letter O in state codes too: 0H is Ohio.
        state=_field(37, 39).str.to_uppercase().str.replace_all("0", "O", literal=True),
        tag_year=_field(39, 43),
        plate_type=_field(43, 45),
        vehicle_year=_field(45, 49),
        make=_field(49, 53),
        model=_field(53, 56),
        style=_field(56, 58),
        colour=_field(58),
        length=pl.col("text").str.len_chars(),
    ).with_columns(_blank_to_null("state", "tag_year", "vehicle_year"))
    valid_date = (
        pl.col("entry_date").str.contains(r"^\d{8}$")
        & pl.col("entry_date").str.strptime(pl.Date, "%Y%m%d", strict=False).is_not_null()
    )
    frame = frame.with_columns(
        _first_problem(
            _text_problem(),
            (
                pl.col("length") < NCIC_MIN_LENGTH,
                pl.format(
                    "truncated record ({} characters, at least {} expected)",
                    pl.col("length"),
                    pl.lit(NCIC_MIN_LENGTH),
                ),
            ),
            (
                ~pl.col("list_code").is_in(list(NCIC_LIST_CODES)),
                pl.format("unknown list code '{}'", pl.col("list_code")),
            ),
            (~valid_date, pl.format("invalid date '{}' (YYYYMMDD expected)", pl.col("entry_date"))),
            _plate_problem(pl.col("raw_plate")),
            _state_problem(),
            (
                ~pl.col("tag_year").fill_null("0000").str.contains(r"^\d{4}$")
                | ~pl.col("vehicle_year").fill_null("0000").str.contains(r"^\d{4}$"),
                pl.lit("invalid tag or vehicle year (4 digits or blank expected)"),
            ),
        )
    )
    return frame


def _fixed_width_header_problem(
    header: str | None, records: Callable[[pl.DataFrame], pl.DataFrame]
) -> list[tuple[int, str]]:
    """A fixed-width file's header must be there, and must not parse as a record itself."""
    if header is None:
        return [(1, "wrong header: the file is empty")]
    if not header.strip():
        return [(1, "wrong header: line 1 is blank")]
    if records(pl.DataFrame({"text": [header], "line": [1]}))["problem"][0] is None:
        return [(1, "wrong header: line 1 is a record (the header line is missing)")]
    return []


def parse_ccic(
    data: bytes,
    *,
    list_name: str,
    settings: HotlistSettings,
    list_codes: Collection[str] = (),
) -> ParseResult:
    """Colorado CCIC export: fixed width, header line first; list types as printed."""
    header, body = _split(data)
    frame = _ccic_records(body)
    header_problem = _fixed_width_header_problem(header, _ccic_records)
    return _finish(frame, header_problem, list_name, settings, list_codes)


def _ccic_records(body: pl.DataFrame) -> pl.DataFrame:
    """The CCIC fields of each line, and the first problem of the line (or null)."""
    known = [t.upper() for t in CCIC_LIST_TYPES]
    frame = body.with_columns(
        raw_plate=pl.col("text").str.slice(0, 10),
        state=_field(10, 12).str.to_uppercase(),
        list_code=_field(12, 34),
        description=_field(34),
        length=pl.col("text").str.len_chars(),
    ).with_columns(_blank_to_null("state", "description"))
    frame = frame.with_columns(
        _first_problem(
            _text_problem(),
            (
                pl.col("length") < CCIC_MIN_LENGTH,
                pl.format(
                    "truncated record ({} characters, at least {} expected)",
                    pl.col("length"),
                    pl.lit(CCIC_MIN_LENGTH),
                ),
            ),
            (
                ~pl.col("list_code").str.to_uppercase().is_in(known),
                pl.format("unknown list type '{}'", pl.col("list_code")),
            ),
            _plate_problem(pl.col("raw_plate")),
            _state_problem(),
        ),
        entry_date=pl.lit(None, dtype=pl.String),
        details=pl.lit(None, dtype=pl.String),
        expires_at=pl.lit(None, dtype=_UTC),
    )
    return frame


def parse_csv(
    data: bytes,
    *,
    list_name: str,
    settings: HotlistSettings,
    list_codes: Collection[str] = (),
) -> ParseResult:
    """Agency CSV ``plate,state,list,description,expires,entered_by`` with that header row.

    Fields may be double-quoted (``""`` inside for a quote) but not span lines; ``expires`` is
    blank or ``YYYY-MM-DD``, the entry leaving the list at 00:00 UTC that day.
    """
    header, body = _split(data)
    header_problem: list[tuple[int, str]] = []
    if header is None:
        header_problem = [(1, "wrong header: the file is empty")]
    else:
        columns = tuple(c.strip().strip('"').lower() for c in header.split(","))
        if columns != CSV_COLUMNS:
            header_problem = [(1, f"wrong header: expected '{','.join(CSV_COLUMNS)}'")]
    groups = pl.col("text").str.extract_groups(_CSV_LINE)
    frame = body.with_columns(
        [
            groups.struct.field(str(i + 1))
            .str.strip_chars()
            .pipe(_unquote)
            .str.strip_chars()
            .alias(f"f_{name}")
            for i, name in enumerate(CSV_COLUMNS)
        ]
    ).with_columns(
        raw_plate=pl.col("f_plate").fill_null(""),
        state=pl.col("f_state").str.to_uppercase(),
        list_code=pl.col("f_list"),
        description=pl.col("f_description"),
        expires=pl.col("f_expires"),
        entered_by=pl.col("f_entered_by"),
    )
    frame = frame.with_columns(_blank_to_null("state", "description", "expires", "entered_by"))
    expires_day = pl.col("expires").str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    frame = frame.with_columns(
        _first_problem(
            _text_problem(),
            (
                pl.col("f_plate").is_null(),
                pl.lit(f"unparseable line ({len(CSV_COLUMNS)} comma-separated fields expected)"),
            ),
            _plate_problem(pl.col("raw_plate")),
            (pl.col("list_code") == "", pl.lit("missing list")),
            _state_problem(),
            (
                pl.col("expires").is_not_null()
                & (~pl.col("expires").str.contains(r"^\d{4}-\d{2}-\d{2}$") | expires_day.is_null()),
                pl.format("invalid date '{}' (YYYY-MM-DD expected)", pl.col("expires")),
            ),
        ),
        entry_date=pl.lit(None, dtype=pl.String),
        details=pl.when(pl.col("entered_by").is_not_null()).then(
            pl.struct("entered_by").struct.json_encode()
        ),
        expires_at=expires_day.cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
    )
    return _finish(frame, header_problem, list_name, settings, list_codes)


def _unquote(expr: pl.Expr) -> pl.Expr:
    quoted = expr.str.starts_with('"') & expr.str.ends_with('"') & (expr.str.len_chars() >= 2)
    inner = expr.str.slice(1, expr.str.len_chars() - 2).str.replace_all('""', '"', literal=True)
    return pl.when(quoted).then(inner).otherwise(expr)


def _finish(
    frame: pl.DataFrame,
    header_problems: list[tuple[int, str]],
    list_name: str,
    settings: HotlistSettings,
    list_codes: Collection[str],
) -> ParseResult:
    """Common to all formats: problems collected, junk and unsubscribed entries counted and
    dropped, plates normalized, duplicates merged, ids hashed."""
    # A wrong header says the file is not in this format: its lines are not read against it.
    bad = frame.filter(pl.col("problem").is_not_null())
    if header_problems:
        bad = bad.clear()
    problems = header_problems + list(
        zip(bad["line"].to_list(), bad["problem"].to_list(), strict=True)
    )
    good = frame.filter(pl.col("problem").is_null()).with_columns(
        plate=normalized_plate_expr(pl.col("raw_plate"))
    )
    junk = (pl.col("plate").str.len_chars() < settings.min_plate_length) | pl.col("plate").is_in(
        list(settings.junk_plates)
    )
    is_junk = good.select(junk).to_series()
    skipped_junk = int(is_junk.sum())
    good = good.filter(~is_junk)
    skipped_unsubscribed = 0
    if list_codes:
        wanted = [c.upper() for c in list_codes]
        subscribed = good.select(pl.col("list_code").str.to_uppercase().is_in(wanted)).to_series()
        skipped_unsubscribed = int((~subscribed).sum())
        good = good.filter(subscribed)
    if not problems and good.height == 0:
        problems.append((0, "empty list: no entries to load"))
    entries = good.with_columns(match_key=match_key_expr(pl.col("plate")))
    entries = entries.with_columns(
        entry_id=fnv1a_128_hex(
            entries.select(
                pl.concat_str([pl.col("plate"), pl.col("state").fill_null("")], separator=SEPARATOR)
            ).to_series(),
            prefix=list_name + SEPARATOR,
        )
    ).select(PARSED_SCHEMA.names())
    entries, merged = _merge_duplicates(entries)
    return ParseResult(
        entries=entries.cast(PARSED_SCHEMA),
        problems=sorted(problems),
        records=frame.height,
        skipped_junk=skipped_junk,
        skipped_unsubscribed=skipped_unsubscribed,
        merged=merged,
    )


def _merge_duplicates(entries: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    duplicated = entries.select(pl.col("entry_id").is_duplicated()).to_series()
    if not duplicated.any():
        return entries, 0
    dups = entries.filter(duplicated)
    merged = dups.group_by("entry_id", maintain_order=True).agg(
        pl.col("line").first(),
        pl.col("plate").first(),
        pl.col("state").first(),
        pl.col("match_key").first(),
        pl.col("list_code").unique(maintain_order=True).str.join(","),
        pl.col("entry_date").min(),
        pl.col("description").drop_nulls().unique(maintain_order=True).str.join(" | "),
        pl.col("details").first(),
        pl.col("expires_at").max(),
    )
    merged = merged.with_columns(_blank_to_null("description"))
    out = pl.concat([entries.filter(~duplicated), merged.select(entries.columns)]).sort("line")
    return out, dups.height - merged.height
