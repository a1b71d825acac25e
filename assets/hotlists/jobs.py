"""Hotlist jobs: refresh sources (with their freshness checks), or only check freshness."""

from __future__ import annotations

import dagster as dg

from assets.partitions import HOTLISTS_GROUP

__all__ = ["hotlist_checks_job", "hotlists_job"]

_HOTLISTS = dg.AssetSelection.groups(HOTLISTS_GROUP)
hotlists_job = dg.define_asset_job("hotlists_job", selection=_HOTLISTS)
# Staleness arises when nothing runs, so it is also checked on its own, hourly.
hotlist_checks_job = dg.define_asset_job(
    "hotlist_checks_job",
    selection=_HOTLISTS - _HOTLISTS.without_checks(),
)
