"""Admin ops on user accounts: list, create, change role, disable, reset password, import a class.

Every change takes effect at once for the user's live sessions: a new
role applies to their next request; a disabled account or a reset password
logs every session of the user out (their sockets close with 4003). An
admin cannot change their own account here, so a class never loses its
last admin by a slip of the mouse. Bot accounts belong to the simulator
and are left alone. Passwords are hashed in a worker thread: argon2 is
slow by design and must not stall the market.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..classroom.roster import Entry, RosterError, enrol, generate_password, parse
from ..classroom.sheet import credentials_sheet
from ..protocol import payloads as p
from ..protocol.envelope import Request
from ..protocol.errors import ErrorCode, ProtocolError
from ..protocol.roles import Role
from ..store.passwords import WeakPassword
from ..store.users import UnknownUser, User, UserExists, check_username
from .dispatch import Context, Dispatcher, op, whoami

MAX_CSV_CHARS = 60_000


def user_row(user: User) -> dict[str, Any]:
    return {
        **whoami(user),
        "role": user.role.label,
        "is_guest": user.is_guest,
        "is_bot": user.is_bot,
        "disabled": user.disabled,
    }


def _role(payload: dict[str, Any], default: Role | None) -> Role | None:
    name = p.opt_str(payload, "role", max_len=16)
    if name is None:
        return default
    try:
        return Role.parse(name)
    except ValueError as exc:
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"field 'role': {exc}") from None


def _username(payload: dict[str, Any]) -> str:
    name = p.str_field(payload, "username", max_len=32)
    try:
        return check_username(name)
    except ValueError as exc:
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"field 'username': {exc}") from None


def _password(payload: dict[str, Any]) -> tuple[str, bool]:
    """The given password, or a generated one (and True)."""
    given = p.opt_str(payload, "password", max_len=256)
    return (given, False) if given else (generate_password(), True)


def _target(d: Dispatcher, ctx: Context, payload: dict[str, Any]) -> User:
    """The account an admin op changes: an existing person's, not the admin's own."""
    username = _username(payload)
    user = d.venue.users.by_name(username)
    if user is None:
        raise ProtocolError(ErrorCode.UNKNOWN_USER, f"no user named {username!r}")
    if user.user_id == d.user_id(ctx):
        raise ProtocolError(ErrorCode.INVALID_FIELD, "an admin cannot change their own account; ask another admin")
    if user.is_bot:
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"{username!r} is a simulated participant's account")
    return user


def _log_out(d: Dispatcher, user: User) -> None:
    for key in d.venue.sessions.revoke_user(user.user_id):
        d.sockets.log_out(key)


@op("admin.users")
def _users(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    return {"users": [user_row(u) for u in d.venue.users.all()]}


@op("admin.user_create", changes_state=True)
async def _create(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    username = _username(req.payload)
    password, generated = _password(req.payload)
    new_role = _role(req.payload, Role.TRADER)
    assert new_role is not None
    try:
        user = await asyncio.to_thread(d.venue.users.add, username, password, new_role)
    except UserExists as exc:
        raise ProtocolError(ErrorCode.USER_EXISTS, str(exc)) from None
    except WeakPassword as exc:
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"field 'password': {exc}") from None
    return {"user": user_row(user), "password": password if generated else None}


@op("admin.user_update", changes_state=True)
def _update(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    user = _target(d, ctx, req.payload)
    new_role = _role(req.payload, None)
    disabled = req.payload.get("disabled")
    if disabled is not None and not isinstance(disabled, bool):
        raise ProtocolError(ErrorCode.INVALID_FIELD, "field 'disabled' must be true or false")
    users = d.venue.users
    try:
        if new_role is not None:
            user = users.set_role(user.username, new_role)
        if disabled is not None:
            user = users.set_disabled(user.username, disabled)
    except UnknownUser as exc:
        raise ProtocolError(ErrorCode.UNKNOWN_USER, str(exc)) from None
    if user.disabled:
        _log_out(d, user)
    else:
        d.venue.sessions.refresh_user(user)
    return {"user": user_row(user)}


@op("admin.user_password", changes_state=True)
async def _reset_password(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    user = _target(d, ctx, req.payload)
    password, generated = _password(req.payload)
    try:
        user = await asyncio.to_thread(d.venue.users.set_password, user.username, password)
    except UnknownUser as exc:
        raise ProtocolError(ErrorCode.UNKNOWN_USER, str(exc)) from None
    except WeakPassword as exc:
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"field 'password': {exc}") from None
    _log_out(d, user)
    return {"user": user_row(user), "password": password if generated else None}


@op("admin.users_import", changes_state=True)
async def _import(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    text = p.str_field(req.payload, "csv", max_len=MAX_CSV_CHARS)
    address = p.opt_str(req.payload, "address", max_len=200) or ""
    default_role = _role(req.payload, Role.TRADER)
    assert default_role is not None
    try:
        entries: list[Entry] = parse(text, default_role)
        await asyncio.to_thread(enrol, d.venue.users, entries)
    except (RosterError, WeakPassword) as exc:
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"field 'csv': {exc}") from None
    except UserExists as exc:
        raise ProtocolError(ErrorCode.USER_EXISTS, str(exc)) from None
    return {
        "users": [{"username": e.username, "password": e.password, "role": e.role.label} for e in entries],
        "sheet": credentials_sheet(entries, address),
    }
