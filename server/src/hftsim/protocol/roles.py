"""Roles and which ops each may use.

Roles are ordered: every role can do what the ones below it can. A request
acts under the user's highest role unless its `as` field names another role
the user holds.
"""

from __future__ import annotations

from enum import IntEnum

from .errors import ErrorCode, ProtocolError


class Role(IntEnum):
    VIEWER = 1
    TRADER = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(f"unknown role {name!r}; roles are viewer, trader, admin") from None


def held_roles(role: Role) -> list[Role]:
    """The roles a user with `role` holds, highest first."""
    return sorted((r for r in Role if r <= role), reverse=True)


def acting_role(user_role: Role, as_role: str | None) -> Role:
    if as_role is None:
        return user_role
    try:
        wanted = Role.parse(as_role)
    except ValueError:
        raise ProtocolError(ErrorCode.ROLE_NOT_HELD, f"role {as_role!r} does not exist") from None
    if wanted > user_role:
        raise ProtocolError(ErrorCode.ROLE_NOT_HELD, f"this user does not hold the role {as_role!r}")
    return wanted


# Minimum role per op; None means the op works before login.
OP_ROLES: dict[str, Role | None] = {
    "ping": None,
    "auth.login": None,
    "auth.renew": None,
    "auth.whoami": None,
    "auth.logout": None,
    "symbols.list": Role.VIEWER,
    "book.get": Role.VIEWER,
    "trades.list": Role.VIEWER,
    "candles.get": Role.VIEWER,
    "order.place": Role.TRADER,
    "order.cancel": Role.TRADER,
    "order.cancel_all": Role.TRADER,
    "order.amend": Role.TRADER,
    "orders.list": Role.TRADER,
    "fills.list": Role.TRADER,
    "account.get": Role.TRADER,
    "leaderboard.get": Role.VIEWER,
    "admin.halt": Role.ADMIN,
    "admin.resume": Role.ADMIN,
    "admin.auction": Role.ADMIN,
    "admin.users": Role.ADMIN,
    "admin.user_create": Role.ADMIN,
    "admin.user_update": Role.ADMIN,
    "admin.user_password": Role.ADMIN,
    "admin.users_import": Role.ADMIN,
    "admin.sim": Role.ADMIN,
    "admin.bots": Role.ADMIN,
    "admin.snapshot": Role.ADMIN,
    "admin.snapshots": Role.ADMIN,
    "admin.restore": Role.ADMIN,
    "market.status": Role.VIEWER,
    "rounds.list": Role.VIEWER,
    "rounds.get": Role.VIEWER,
    "admin.round_start": Role.ADMIN,
    "admin.round_end": Role.ADMIN,
    "admin.scenarios": Role.ADMIN,
    "admin.scenario_start": Role.ADMIN,
    "admin.scenario_stop": Role.ADMIN,
    "admin.latency": Role.ADMIN,
}

TEST_OP_ROLES: dict[str, Role | None] = {"test.drop_md": Role.VIEWER, "test.loop_lag": Role.VIEWER}
"""Ops that exist only when the config enables test hooks."""
