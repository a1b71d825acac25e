"""Recognition job: one capture date per run, following the images partitions."""

from __future__ import annotations

import dagster as dg

from assets.recognition.assets import recognition_tables

recognition_job = dg.define_asset_job("recognition_job", selection=[recognition_tables])
