"""The password and the cheap argon2 cost of the users the tests create (the hashes are still
argon2id; tests/pipelines/audit/test_users.py checks the production cost)."""

from __future__ import annotations

PASSWORD = "correct horse battery"
FAST_AUTH = {"argon2_memory_kib": 1024, "argon2_time_cost": 1, "argon2_parallelism": 1}
# The same, as the ALPR_* variables of a subprocess.
FAST_AUTH_ENV = {f"ALPR_AUTH_{name.upper()}": str(value) for name, value in FAST_AUTH.items()}
