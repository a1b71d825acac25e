"""Recognition output judged against the truth of the drop the test generated itself.

``seed_sample_drop`` knows which plates it drew in each image (``drop.plates``, key -> texts); the
``images`` table maps each read's ``image_id`` to its key. Used by the partition, Dagster and
Airflow tests, which write the same ``reads`` table.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import polars as pl

from pipelines.config import Settings
from pipelines.ingest.sample import SampleDrop
from pipelines.storage.lake import IMAGES, READS
from pipelines.storage.tables import scan_table

__all__ = ["MIN_EXACT_SHARE", "US_STATE_CODES", "check_reads", "exact_share"]

# Share of the generated plates read exactly, each in its own image. Measured with the shipped
# models on the first four images of the seed-0 drop: 4 of 5 (0.8; NET5704 reads T5704); on its
# second image alone 1 of 1. A broken detector or OCR reads none; the bound allows one more miss.
MIN_EXACT_SHARE = 0.6

# The 50 states and DC, written out here rather than taken from the code under test.
US_STATE_CODES = frozenset((
    "al", "ak", "az", "ar", "ca", "co", "ct", "de", "fl", "ga", "hi", "id", "il", "in", "ia",
    "ks", "ky", "la", "me", "md", "ma", "mi", "mn", "ms", "mo", "mt", "ne", "nv", "nh", "nj",
    "nm", "ny", "nc", "nd", "oh", "ok", "or", "pa", "ri", "sc", "sd", "tn", "tx", "ut", "vt",
    "va", "wa", "wv", "wi", "wy", "dc",
))  # fmt: skip


def exact_share(truth: dict[str, list[str]], read: dict[str, list[str]]) -> float:
    """Share of the truth plates (per image, with multiplicity) read exactly in their image."""
    total = sum(len(texts) for texts in truth.values())
    found = sum(
        (Counter(texts) & Counter(read.get(key, []))).total() for key, texts in truth.items()
    )
    return found / total if total else 0.0


def check_reads(settings: Settings, day: date, drop: SampleDrop, min_exact: float) -> float:
    """Assert what every read of ``day`` must satisfy and that at least ``min_exact`` of the
    drop's plates are read exactly; returns the share read exactly."""
    images = scan_table(settings, IMAGES, day).select("image_id", "key")
    reads = scan_table(settings, READS, day).join(images, on="image_id", how="left").collect()
    assert reads.get_column("key").null_count() == 0, "a read of an image the day does not have"
    assert set(reads.get_column("key")) <= set(drop.plates)
    for row in reads.iter_rows(named=True):
        text = row["plate_text"]
        assert len(row["char_confidences"]) == len(text), row
        assert row["confidence"] <= min(row["char_confidences"], default=0.0) + 1e-6, row
        if text:
            assert row["candidates"][0]["text"] == text, row
        assert row["jurisdiction"] is None or row["jurisdiction"] in US_STATE_CODES, row
    by_key = reads.group_by("key").agg(pl.col("plate_text"))
    read = dict(
        zip(by_key.get_column("key"), by_key.get_column("plate_text").to_list(), strict=True)
    )
    share = exact_share(drop.plates, read)
    assert share >= min_exact, f"{share:.2f} of the generated plates read exactly"
    return share
