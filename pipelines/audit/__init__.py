"""Users, roles and the audit log (policy C.7): ``users`` and ``log`` hold the API."""

from __future__ import annotations

from pipelines.audit.log import ChainStatus, record, verify_chain
from pipelines.audit.users import (
    Role,
    User,
    add_user,
    authenticate,
    get_user,
    require_role,
    service_user,
)

__all__ = [
    "ChainStatus",
    "Role",
    "User",
    "add_user",
    "authenticate",
    "get_user",
    "record",
    "require_role",
    "service_user",
    "verify_chain",
]
