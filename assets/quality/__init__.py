"""Data-quality checks and camera health (Dagster)."""
