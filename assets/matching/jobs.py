"""Matching jobs: one capture date's alerts per run, and one list change's retro-matching."""

from __future__ import annotations

import dagster as dg

from assets.matching.assets import ALERTS_KEY, RETRO_KEY

__all__ = ["matching_job", "retro_matching_job"]

matching_job = dg.define_asset_job("matching_job", selection=dg.AssetSelection.assets(ALERTS_KEY))
retro_matching_job = dg.define_asset_job(
    "retro_matching_job", selection=dg.AssetSelection.assets(RETRO_KEY)
)
