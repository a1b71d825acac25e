"""alpr-pipeline core: orchestrator-free steps over polars frames.

Dagster (``assets/``), Airflow (``dags/``) and the ``alpr`` CLI only adapt these functions.
"""

from __future__ import annotations

import os

# Offline hygiene before any third-party import: boto3 must not probe a cloud metadata address,
# ultralytics must not reach its hub, OpenVINO must not send telemetry.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("OPENVINO_TELEMETRY_DISABLE", "1")

__version__ = "0.1.0"
__all__ = ["__version__"]
