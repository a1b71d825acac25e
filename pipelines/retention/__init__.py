"""Retention (PP-9126 C.4.a, C.4.b): what is older than its period and not held is deleted for
good, from tables, their logs, every object version and the store's files."""

from pipelines.retention.policy import DataClass, expiry_bound, periods, plan_deletions
from pipelines.retention.run import ClassReport, RetentionReport, run_retention

__all__ = [
    "ClassReport",
    "DataClass",
    "RetentionReport",
    "expiry_bound",
    "periods",
    "plan_deletions",
    "run_retention",
]
