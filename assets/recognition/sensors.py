"""Recognise a capture date whenever its ``images`` partition is (re)materialised."""

import dagster as dg

from assets.partitions import partition_written_sensor
from assets.recognition.jobs import recognition_job

images_updated_sensor = partition_written_sensor(
    "images_updated_sensor", dg.AssetKey(["ingest", "images"]), recognition_job
)
