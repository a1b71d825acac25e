"""Users and roles of the review workflow, enforced in the core (not only in a page).

Roles: ``administrator`` (manages users, reviews alerts, policy C.7), ``agent`` (reviews alerts:
confirms or rejects them after comparing image and record, C.3), ``analyst`` (reads alerts and
data for crime analysis, B.8-B.9), ``service`` (the schedules: raising, escalating and expiring
alerts, activating hotlists). Passwords are stored only as argon2id hashes. Logins are throttled:
``auth.max_failed_logins`` failures within ``auth.failure_window_minutes`` lock the account for
``auth.lockout_minutes``, during which even the right password is refused; an administrator's
password reset ends a lockout. Every creation, login, failure and reset is written to the audit
log (never the password).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

import argon2
import sqlalchemy as sa

from pipelines.audit.log import record, require_utc, utc
from pipelines.audit.tables import users
from pipelines.config import AuthSettings
from pipelines.errors import AlprError, AuthenticationError, PermissionDenied
from pipelines.storage.catalog import insert_new

__all__ = [
    "SERVICE_USER",
    "Role",
    "User",
    "add_user",
    "administrator",
    "authenticate",
    "disable_user",
    "get_user",
    "list_users",
    "require_role",
    "reset_password",
    "service_user",
    "set_role",
]

SERVICE_USER = "service"  # the built-in account the schedules act as; it has no password
# One message for an unknown user, a wrong password and a locked account: none is told apart.
_REFUSED = "authentication failed: unknown user or wrong password (or too many failed attempts)"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    ANALYST = "analyst"
    AGENT = "agent"
    SERVICE = "service"


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    active: bool


def add_user(
    conn: sa.Connection,
    name: str,
    role: Role | str,
    password: str,
    *,
    actor: str,
    now: datetime,
    auth: AuthSettings | None = None,
) -> User:
    """Create a user with an argon2id hash of ``password``; audited as done by ``actor``.

    ``auth`` is ``settings.auth`` (defaults when None).
    """
    auth = auth or AuthSettings()
    now = require_utc(now)
    if not _NAME.fullmatch(name):
        raise AlprError(
            f"user name {name!r} is not valid: 1-64 letters, digits and _ . @ -, "
            "starting with a letter or digit"
        )
    if name == SERVICE_USER:
        raise AlprError(f"user name {SERVICE_USER!r} is the built-in service account")
    valid_role = _role(role)
    _check_password(password, auth)
    row = {
        "name": name,
        "role": valid_role.value,
        "password_hash": _hasher(auth).hash(password),
        "active": True,
        "created_at": now,
        "created_by": actor,
    }
    if not insert_new(conn, users, [row]):
        raise AlprError(f"user {name!r} exists already")
    record(
        conn,
        actor=actor,
        action="user.create",
        subject=f"user:{name}",
        details={"role": valid_role.value},
        now=now,
    )
    return User(name, valid_role, True)


def authenticate(
    conn: sa.Connection,
    name: str,
    password: str,
    *,
    now: datetime,
    auth: AuthSettings | None = None,
) -> User:
    """The user ``name`` if ``password`` is theirs and the account is neither locked nor disabled.

    Anything else raises ``AuthenticationError`` with one message whatever the cause. A success
    is audited in ``conn``'s transaction; a failure (counter, lock, audit entry) is committed in a
    transaction of its own, so it stands although the caller's transaction rolls back on the
    error. Call it before the caller's transaction writes the user's row.
    """
    auth = auth or AuthSettings()
    now = require_utc(now)
    row = conn.execute(sa.select(users).where(users.c.name == name)).one_or_none()
    hasher = _hasher(auth)
    locked = row is not None and row.locked_until is not None and utc(row.locked_until) > now
    if row is None or row.password_hash is None or not row.active:
        _verify(hasher, _dummy_hash(auth), password)  # the same cost as a real check
        matches = False
    else:
        matches = _verify(hasher, row.password_hash, password)
    if row is not None and matches and not locked and row.active:
        values: dict[str, object] = {
            "failed_logins": 0,
            "failed_since": None,
            "locked_until": None,
            "last_login_at": now,
        }
        if hasher.check_needs_rehash(row.password_hash):  # cost settings were raised
            values["password_hash"] = hasher.hash(password)
        conn.execute(users.update().where(users.c.name == name).values(**values))
        record(conn, actor=name, action="auth.login", subject=f"user:{name}", now=now)
        return User(row.name, Role(row.role), row.active)
    if row is None:
        reason = "unknown_user"
    elif locked:
        reason = "locked"
    elif not row.active or row.password_hash is None:
        reason = "disabled"
    else:
        reason = "wrong_password"
    _record_failure(conn.engine, name, reason, now, auth)
    raise AuthenticationError(_REFUSED)


def get_user(conn: sa.Connection, name: str) -> User:
    """The active user ``name`` (for a session already authenticated); else AuthenticationError."""
    row = conn.execute(sa.select(users).where(users.c.name == name)).one_or_none()
    if row is None or not row.active:
        raise AuthenticationError(f"unknown or disabled user {name!r}")
    return User(row.name, Role(row.role), row.active)


def list_users(conn: sa.Connection) -> list[User]:
    rows = conn.execute(
        sa.select(users.c.name, users.c.role, users.c.active).order_by(users.c.name)
    )
    return [User(r.name, Role(r.role), r.active) for r in rows]


def disable_user(conn: sa.Connection, name: str, *, actor: User | str, now: datetime) -> User:
    """Disable ``name`` (an administrator, or the server operator as ``operator:<user>``); the
    account stays for the audit trail."""
    by = administrator(conn, actor, "disable users")
    target = get_user(conn, name)
    if target.name == SERVICE_USER:
        raise PermissionDenied("the built-in service account cannot be disabled")
    conn.execute(users.update().where(users.c.name == name).values(active=False))
    record(conn, actor=by, action="user.disable", subject=f"user:{name}", now=now)
    return User(target.name, target.role, False)


def set_role(
    conn: sa.Connection, name: str, role: Role | str, *, actor: User | str, now: datetime
) -> User:
    """Give the active user ``name`` the role ``role`` (an administrator, or the server operator
    as ``operator:<user>``); audited with the role before and after. The role ``service`` is the
    built-in account's alone, and that account keeps it."""
    by = administrator(conn, actor, "change roles")
    target = get_user(conn, name)
    new = _role(role)
    if target.name == SERVICE_USER:
        raise PermissionDenied("the built-in service account keeps its role")
    if new is Role.SERVICE:
        raise PermissionDenied(
            f"role {Role.SERVICE.value!r} belongs to the built-in account {SERVICE_USER!r} only"
        )
    if new is target.role:
        return target
    conn.execute(users.update().where(users.c.name == name).values(role=new.value))
    record(
        conn,
        actor=by,
        action="user.role",
        subject=f"user:{name}",
        details={"from": target.role.value, "to": new.value},
        now=now,
    )
    return User(target.name, new, target.active)


def reset_password(
    conn: sa.Connection,
    name: str,
    password: str,
    *,
    actor: User | str,
    now: datetime,
    auth: AuthSettings | None = None,
) -> User:
    """Give the active user ``name`` a new password (an administrator, or the server operator
    as ``operator:<user>``): a fresh argon2id hash, the failure count cleared and any lockout
    ended. Audited as ``user.password_reset``, never with the password."""
    auth = auth or AuthSettings()
    now = require_utc(now)
    by = administrator(conn, actor, "reset passwords")
    target = get_user(conn, name)
    if target.name == SERVICE_USER:
        raise PermissionDenied("the built-in service account has no password")
    _check_password(password, auth)
    row = conn.execute(sa.select(users.c.locked_until).where(users.c.name == name)).one()
    was_locked = row.locked_until is not None and utc(row.locked_until) > now
    conn.execute(
        users.update()
        .where(users.c.name == name)
        .values(
            password_hash=_hasher(auth).hash(password),
            failed_logins=0,
            failed_since=None,
            locked_until=None,
        )
    )
    record(
        conn,
        actor=by,
        action="user.password_reset",
        subject=f"user:{name}",
        details={"unlocked": was_locked},
        now=now,
    )
    return target


def administrator(conn: sa.Connection, actor: User | str, action: str) -> str:
    """Who manages users: an administrator as the catalog knows them now, or (a string) the
    server operator, as ``alpr users`` runs on the server."""
    if isinstance(actor, str):
        return actor
    require_role(get_user(conn, actor.name), Role.ADMINISTRATOR, action=action)
    return actor.name


def service_user(conn: sa.Connection, *, now: datetime) -> User:
    """The built-in account ``service`` (role SERVICE) the schedules act as; created on first use."""
    now = require_utc(now)
    created = insert_new(
        conn,
        users,
        [
            {
                "name": SERVICE_USER,
                "role": Role.SERVICE.value,
                "password_hash": None,
                "active": True,
                "created_at": now,
                "created_by": SERVICE_USER,
            }
        ],
    )
    if created:
        record(
            conn,
            actor=SERVICE_USER,
            action="user.create",
            subject=f"user:{SERVICE_USER}",
            details={"role": Role.SERVICE.value},
            now=now,
        )
    return get_user(conn, SERVICE_USER)


def require_role(user: User, *allowed: Role, action: str) -> None:
    """Refuse ``action`` unless ``user`` is active and has one of the ``allowed`` roles."""
    if not user.active or user.role not in allowed:
        roles = ", ".join(r.value for r in allowed)
        state = "" if user.active else ", disabled"
        raise PermissionDenied(
            f"user {user.name!r} (role {user.role.value}{state}) may not {action}; "
            f"allowed roles: {roles}"
        )


def _check_password(password: str, auth: AuthSettings) -> None:
    if len(password) < auth.min_password_length:
        raise AlprError(
            f"the password must have at least {auth.min_password_length} characters "
            "(auth.min_password_length)"
        )


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AlprError(
            f"role {role!r} is not valid; valid values: {[r.value for r in Role]}"
        ) from None


def _record_failure(
    engine: sa.Engine, name: str, reason: str, now: datetime, auth: AuthSettings
) -> None:
    """Count the failure (locking the account at the limit) and audit it, in its own transaction."""
    tried = name[:128]
    locked_until: datetime | None = None
    with engine.begin() as conn:
        if reason == "wrong_password":
            row = conn.execute(
                sa.select(users.c.failed_logins, users.c.failed_since)
                .where(users.c.name == name)
                .with_for_update()
            ).one()
            window = timedelta(minutes=auth.failure_window_minutes)
            fresh = row.failed_since is None or now - utc(row.failed_since) >= window
            count = 1 if fresh else row.failed_logins + 1
            since = now if fresh else row.failed_since
            values: dict[str, object] = {"failed_logins": count, "failed_since": since}
            if count >= auth.max_failed_logins:
                locked_until = now + timedelta(minutes=auth.lockout_minutes)
                values = {"failed_logins": 0, "failed_since": None, "locked_until": locked_until}
            conn.execute(users.update().where(users.c.name == name).values(**values))
        record(
            conn,
            actor=tried,
            action="auth.login",
            subject=f"user:{tried}",
            outcome="failed",
            details={"reason": reason},
            now=now,
        )
        if locked_until is not None:
            record(
                conn,
                actor=tried,
                action="auth.lock",
                subject=f"user:{tried}",
                details={
                    "failures": auth.max_failed_logins,
                    "locked_until": locked_until.isoformat(),
                },
                now=now,
            )


@cache
def _hasher(auth: AuthSettings) -> argon2.PasswordHasher:
    return argon2.PasswordHasher(
        time_cost=auth.argon2_time_cost,
        memory_cost=auth.argon2_memory_kib,
        parallelism=auth.argon2_parallelism,
    )


@cache
def _dummy_hash(auth: AuthSettings) -> str:
    return _hasher(auth).hash("not the password of anyone")


def _verify(hasher: argon2.PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False
