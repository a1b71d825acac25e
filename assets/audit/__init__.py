"""Dagster adapters of the audit domain: the chain head written every ``audit.head_cron``."""
