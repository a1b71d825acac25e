"""Jobs of the ingest group: registration (unpartitioned) and the daily images partitions."""

from __future__ import annotations

import dagster as dg

from assets.ingest.assets import camera_objects, images

ingest_job = dg.define_asset_job("ingest_job", selection=[camera_objects])
images_job = dg.define_asset_job("images_job", selection=[images])
