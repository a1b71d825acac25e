"""Pseudonymize a capture date whenever its ``reads`` partition is (re)materialised."""

from assets._keys import READS_KEY
from assets.analytics.jobs import analytics_job
from assets.partitions import partition_written_sensor

__all__ = ["reads_updated_analytics_sensor"]

reads_updated_analytics_sensor = partition_written_sensor(
    "reads_updated_analytics_sensor", READS_KEY, analytics_job
)
