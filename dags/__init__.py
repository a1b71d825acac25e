"""Airflow 3 DAGs over the pipelines core, one per domain."""
