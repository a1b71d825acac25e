"""Airflow Assets of the project, defined once; names follow ``<domain>.<table>``."""

from __future__ import annotations

from airflow.sdk import Asset

camera_objects = Asset(name="ingest.camera_objects", uri="alpr://ingest/camera_objects")
images = Asset(name="ingest.images", uri="alpr://ingest/images")
detections = Asset(name="recognition.detections", uri="alpr://recognition/detections")
reads = Asset(name="recognition.reads", uri="alpr://recognition/reads")
hotlist_entries = Asset(name="hotlists.hotlist_entries", uri="alpr://hotlists/hotlist_entries")
alerts = Asset(name="matching.alerts", uri="alpr://matching/alerts")
