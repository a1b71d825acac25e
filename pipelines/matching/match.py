"""Reads against hotlist entries, as polars joins: exact on the match key, lenient on look-alikes.

Rules (issue 8, policy C.1-C.3: a hit is one element of reasonable suspicion, never more):

* Exact: the read's match key (``plates.match_key_expr``: O/0 and I/1 folded; a read's text is
  normalized by construction, so only folded here) equals the entry's
  and the states agree. Every list gets exact hits.
* States agree when they are equal (case-insensitive), when the read has no state (it then
  matches entries of every state and is flagged ``state_not_read``: check it), or when the entry
  has none (the list did not say, so a plate-only match is all it supports; ``entry_state`` is
  null in the match, which the reviewer sees).
* Lenient, only for entries of lists with ``match_strategy == "lenient"``: after folding the
  look-alike classes (``_keys.LOOKALIKE_CLASSES``), the read's text or one of its alternative
  candidates is within one edit (substitution, insertion, deletion) of the entry's plate. The
  same state rule applies. An exact hit of a read on an entry wins over a lenient one.
* ``seen_before_listed``: the read was captured before the entry first appeared on its list.

Lenient matching joins the distinct folded texts of the reads against keys of the lenient
entries, computed eagerly (the small side): for up to ``BALL_MAX_ENTRIES`` entries, every string
within one edit of each entry (``_keys.edit_ball``), probed once per text; for more, SymSpell
deletion neighbourhoods on both sides, joined position by position so that equal keys prove one
edit. Only distinct texts and the columns the join needs are expanded, so memory follows the
number of distinct texts, not reads times columns.
"""

from __future__ import annotations

import polars as pl

from pipelines.matching._keys import (
    deleted_at,
    deletion_neighbourhood,
    edit_ball,
    lookalike_key_expr,
)
from pipelines.matching.schema import MATCHES_SCHEMA
from pipelines.recognition.plates import match_key_expr, normalize_plate
from pipelines.storage.lake import READS

__all__ = ["lookup", "match_reads", "retro_match"]

_READ_COLUMNS = (
    "read_id",
    "detection_id",
    "image_id",
    "camera_id",
    "captured_at",
    "capture_date",
    "plate_text",
    "confidence",
)
_ENTRY_COLUMNS = (
    "entry_id",
    "list_name",
    "version",
    "plate",
    "state",
    "match_key",
    "list_code",
    "first_listed_at",
)
_LOOKUP_SCHEMA = pl.Schema(
    {
        "list": pl.String,
        "plate": pl.String,
        "state": pl.String,
        "match": pl.String,
        "list_code": pl.String,
        "entry_id": pl.String,
    }
)


def match_reads(reads: pl.LazyFrame, entries: pl.LazyFrame) -> pl.LazyFrame:
    """Every (read, entry) hit, one row each, with ``MATCHES_SCHEMA``.

    ``reads`` have ``READS.schema`` (``pipelines.storage.lake``), ``entries``
    ``ENTRIES_SCHEMA`` (``pipelines.hotlists.schema``); only the columns named there are used.
    The lenient entries' keys are computed here, eagerly (they are the small side, and a plan
    without lenient lists then skips the lenient join); the reads stay lazy. Rows come sorted by
    capture time, read and entry.
    """
    read_side = reads.select(*_READ_COLUMNS, _state=pl.col("jurisdiction").str.to_uppercase())
    entry_side = entries.select(*_ENTRY_COLUMNS, _entry_state=pl.col("state").str.to_uppercase())
    exact = _exact_hits(read_side, entry_side)
    lenient_folds = (
        entries.filter(pl.col("match_strategy") == "lenient")
        .select("entry_id", _efold=lookalike_key_expr("match_key", is_match_key=True))
        .filter(pl.col("_efold") != "")
        .collect()
    )
    if lenient_folds.is_empty():
        return _as_matches(exact)
    lenient = (
        _lenient_pairs(reads, lenient_folds)
        .join(exact.select("read_id", "entry_id"), on=["read_id", "entry_id"], how="anti")
        .join(read_side, on="read_id")
        .join(entry_side, on="entry_id")
        .filter(_states_agree())
        .with_columns(match_kind=pl.lit("lenient"))
    )
    return _as_matches(pl.concat([exact, lenient], how="diagonal_relaxed"))


def retro_match(reads: pl.LazyFrame, new_entries: pl.LazyFrame) -> pl.LazyFrame:
    """The hits of entries a refresh added on reads already stored: :func:`match_reads` with the
    new entries only. The caller passes the reads still within retention (policy C.4); hits on a
    vehicle captured before its entry existed come flagged ``seen_before_listed``."""
    return match_reads(reads, new_entries)


def lookup(text: str, state: str | None, entries: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    """The entries a read of ``text`` (in ``state``, or of unknown state) would hit: columns
    ``list``, ``plate``, ``state``, ``match`` ("exact" or "lenient"), ``list_code``, ``entry_id``.

    A person asking sees the look-alike hits of every list, whatever the list's own strategy, so
    every entry is matched as if its list were lenient. Exact hits first, then by list and plate.
    """
    read = pl.DataFrame({name: [None] for name in READS.schema}, schema=READS.schema).with_columns(
        read_id=pl.lit("lookup"),
        plate_text=pl.lit(normalize_plate(text), pl.String),  # as typed; reads are normalized
        jurisdiction=pl.lit(state, pl.String),
    )
    every_list_lenient = entries.lazy().with_columns(match_strategy=pl.lit("lenient"))
    hits = match_reads(read.lazy(), every_list_lenient).select(
        list="list_name",
        plate="entry_plate",
        state="entry_state",
        match="match_kind",
        list_code="list_code",
        entry_id="entry_id",
    )
    order = pl.col("match").replace_strict({"exact": 0, "lenient": 1}, return_dtype=pl.Int8)
    return (
        hits.sort(order, "list", "plate", "state", nulls_last=True)
        .collect()
        .cast(
            dict(_LOOKUP_SCHEMA)  # type: ignore[arg-type]
        )
    )


def _states_agree() -> pl.Expr:
    read, entry = pl.col("_state"), pl.col("_entry_state")
    return read.is_null() | entry.is_null() | (read == entry)


def _exact_hits(read_side: pl.LazyFrame, entry_side: pl.LazyFrame) -> pl.LazyFrame:
    return (
        read_side.with_columns(_key=match_key_expr("plate_text", normalized=True))
        .filter(pl.col("_key") != "")
        .join(entry_side, left_on="_key", right_on="match_key")
        .filter(_states_agree())
        .with_columns(matched_text=pl.col("plate_text"), match_kind=pl.lit("exact"))
    )


def _read_texts(reads: pl.LazyFrame) -> pl.LazyFrame:
    """(read_id, text, rank, score, fold): the read's own text (rank 0) and each alternative
    candidate (rank 1), with the look-alike fold they join on."""
    own = reads.select(
        "read_id",
        _text=pl.col("plate_text"),
        _rank=pl.lit(0, pl.Int8),
        _score=pl.col("confidence").cast(pl.Float32),
    )
    candidates = (
        reads.select("read_id", "candidates")
        .explode("candidates")
        .select(
            "read_id",
            _text=pl.col("candidates").struct.field("text"),
            _rank=pl.lit(1, pl.Int8),
            _score=pl.col("candidates").struct.field("score").cast(pl.Float32),
        )
    )
    return (
        pl.concat([own, candidates])
        .with_columns(_fold=lookalike_key_expr("_text"))
        .filter(pl.col("_fold").is_not_null() & (pl.col("_fold") != ""))
    )


def _lenient_pairs(reads: pl.LazyFrame, entry_folds: pl.DataFrame) -> pl.LazyFrame:
    """(read_id, entry_id, matched_text) for texts within one edit of a lenient entry after the
    look-alike fold; of several texts of one read hitting one entry, the read's own text wins,
    then the best-scored candidate."""
    lengths = entry_folds["_efold"].str.len_chars()
    shortest, longest = int(lengths.min()), int(lengths.max())  # type: ignore[arg-type]
    # Only folds of a length one edit from some entry's can hit.
    texts = _read_texts(reads).filter(
        pl.col("_fold").str.len_chars().is_between(shortest - 1, longest + 1)
    )
    indexed = entry_folds.with_row_index("_entry")
    if entry_folds.height <= BALL_MAX_ENTRIES:
        # The texts probe the balls directly: one probe each, no distinct pass over the reads.
        ball = edit_ball(indexed.lazy(), "_efold", "_entry")
        hits = texts.join(ball, left_on="_fold", right_on="_bkey")
    else:
        folds = texts.select("_fold").unique()  # each distinct fold expands once
        hits = texts.join(_neighbourhood_pairs(folds, indexed, longest), on="_fold")
    return (
        hits.group_by("read_id", "_entry")
        .agg(
            matched_text=pl.col("_text")
            .sort_by("_rank", "_score", descending=[False, True], nulls_last=True)
            .first()
        )
        .join(indexed.lazy().select("_entry", "entry_id"), on="_entry")
        .drop("_entry")
    )


# Up to this many lenient entries, their whole one-edit balls (about 55 keys a character) are
# the build side and each read text probes once; beyond, the distinct read folds and the entries
# expand to their deletion neighbourhoods (a probe per character). Same result either way.
BALL_MAX_ENTRIES = 50_000


def _neighbourhood_pairs(
    folds: pl.LazyFrame, indexed_entries: pl.DataFrame, longest: int
) -> pl.LazyFrame:
    """(fold, entry index) pairs within one edit, by SymSpell: a read fold's key at each
    deletion position joins the entry keys deleted at the same position (a substitution there)
    or not at all (the read has one character more); the fold itself joins every entry key
    (equal, or the entry has one character more). Deleting at the same position, or on one side
    only, is what proves one edit (``AB`` and ``BA`` share ``A`` at different positions: two
    edits), so no pair needs verifying afterwards."""
    entry_keys = (
        deletion_neighbourhood(indexed_entries.lazy(), "_efold")
        .select("_entry", "_nkey", "_pos")
        .collect()
    )
    whole = entry_keys.filter(pl.col("_pos") < 0).select("_entry", "_nkey")
    pairs = [folds.join(entry_keys.lazy(), left_on="_fold", right_on="_nkey")]
    for position in range(longest + 1):  # a read one longer than the longest entry may hit
        at = entry_keys.filter(pl.col("_pos") == position).select("_entry", "_nkey")
        pairs.append(
            folds.with_columns(_nkey=deleted_at("_fold", position)).join(
                pl.concat([at, whole]).lazy(), on="_nkey"
            )
        )
    return pl.concat([p.select("_fold", "_entry") for p in pairs], parallel=False).unique()


def _as_matches(hits: pl.LazyFrame) -> pl.LazyFrame:
    return (
        hits.select(
            *_READ_COLUMNS,
            "matched_text",
            "entry_id",
            "list_name",
            list_version="version",
            entry_plate="plate",
            entry_state="state",
            list_code="list_code",
            match_kind="match_kind",
            state_not_read=pl.col("_state").is_null(),
            seen_before_listed=(pl.col("captured_at") < pl.col("first_listed_at")).fill_null(False),
        )
        .cast(dict(MATCHES_SCHEMA))  # type: ignore[arg-type]
        .sort("captured_at", "read_id", "list_name", "entry_id", nulls_last=True)
    )
