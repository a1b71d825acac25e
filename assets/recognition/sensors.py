"""Recognize a capture date whenever its ``images`` partition is (re)materialised."""

from assets._keys import IMAGES_KEY
from assets.partitions import partition_written_sensor
from assets.recognition.jobs import recognition_job

images_updated_sensor = partition_written_sensor(
    "images_updated_sensor", IMAGES_KEY, recognition_job
)
