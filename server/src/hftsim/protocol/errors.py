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
    ROLE_NOT_HELD = "ROLE_NOT_HELD"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"


class ProtocolError(Exception):
    """A request refused before or instead of reaching the engine."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = str(code)
        self.message = message
