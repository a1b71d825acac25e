"""Analytics job: one capture date's sightings per run."""

from __future__ import annotations

import dagster as dg

from assets.analytics.assets import sightings

analytics_job = dg.define_asset_job("analytics_job", selection=[sightings])
