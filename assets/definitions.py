"""The one ``Definitions`` object of the project (load with ``dagster dev -m assets.definitions``)."""

from __future__ import annotations

import os

import dagster as dg

from assets.ingest import assets as ingest_assets
from assets.ingest.jobs import images_job, ingest_job
from assets.ingest.schedules import images_job_schedule, ingest_job_schedule
from assets.ingest.sensors import camera_drop_sensor
from assets.recognition import assets as recognition_assets
from assets.recognition.jobs import recognition_job
from assets.recognition.sensors import images_updated_sensor
from assets.resources import RESOURCES_BY_DEPLOYMENT

deployment = os.environ.get("ALPR_DEPLOYMENT", "local")

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([ingest_assets, recognition_assets]),
    jobs=[ingest_job, images_job, recognition_job],
    schedules=[ingest_job_schedule, images_job_schedule],
    sensors=[camera_drop_sensor, images_updated_sensor],
    resources=RESOURCES_BY_DEPLOYMENT[deployment],
)
