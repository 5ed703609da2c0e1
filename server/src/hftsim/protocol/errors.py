"""Protocol-level error codes and the exception that carries them.

Engine rejections (hftsim.engine.Code) and these codes share one namespace
on the wire; docs/protocol.md lists them all.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_ENVELOPE = "BAD_ENVELOPE"
    UNSUPPORTED_VERSION = "UNSUPPORTED_VERSION"
    UNKNOWN_OP = "UNKNOWN_OP"
    INVALID_FIELD = "INVALID_FIELD"
    MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INVALID_TOKEN = "INVALID_TOKEN"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    GUEST_DISABLED = "GUEST_DISABLED"
    ACCOUNT_DISABLED = "ACCOUNT_DISABLED"
    UNKNOWN_USER = "UNKNOWN_USER"
    USER_EXISTS = "USER_EXISTS"
    MARKET_PAUSED = "MARKET_PAUSED"
    UNKNOWN_SNAPSHOT = "UNKNOWN_SNAPSHOT"
    SNAPSHOT_UNREADABLE = "SNAPSHOT_UNREADABLE"
    ROUND_RUNNING = "ROUND_RUNNING"
    NO_ROUND = "NO_ROUND"
    UNKNOWN_ROUND = "UNKNOWN_ROUND"
    UNKNOWN_SCENARIO = "UNKNOWN_SCENARIO"
    OPEN_ORDERS_LIMIT = "OPEN_ORDERS_LIMIT"
    ACTIVE_VOLUME_LIMIT = "ACTIVE_VOLUME_LIMIT"
    NOTIONAL_LIMIT = "NOTIONAL_LIMIT"
    ROLE_NOT_HELD = "ROLE_NOT_HELD"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    DUPLICATE_MSG = "DUPLICATE_MSG"
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
    ENGINE_UNAVAILABLE = "ENGINE_UNAVAILABLE"
    INTERNAL = "INTERNAL"


TRANSIENT: frozenset[str] = frozenset(
    {ErrorCode.RATE_LIMITED, ErrorCode.STORE_UNAVAILABLE, ErrorCode.ENGINE_UNAVAILABLE, ErrorCode.INTERNAL}
)
"""Refusals that say nothing about the request itself: the same msg_id may be sent again."""


class ProtocolError(Exception):
    """A request refused before or instead of reaching the engine.

    `retry_after_ms` tells a rate-limited client when a new request would be admitted.
    """

    def __init__(self, code: str, message: str, retry_after_ms: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = str(code)
        self.message = message
        self.retry_after_ms = retry_after_ms
