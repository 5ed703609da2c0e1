"""Stable rejection codes.

The engine never raises for a routine rejection: it answers with a
`Rejected` event carrying one of these codes. The codes are part of the
public protocol (docs/protocol.md), so they never change meaning.
"""

from enum import StrEnum


class Code(StrEnum):
    # Symbol and instrument rules
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    SYMBOL_HALTED = "SYMBOL_HALTED"
    PRICE_NOT_ON_TICK = "PRICE_NOT_ON_TICK"
    PRICE_OUT_OF_BAND = "PRICE_OUT_OF_BAND"
    QTY_NOT_LOT_MULTIPLE = "QTY_NOT_LOT_MULTIPLE"
    QTY_BELOW_MIN = "QTY_BELOW_MIN"
    INVALID_FIELD = "INVALID_FIELD"
    # Risk
    QTY_ABOVE_MAX = "QTY_ABOVE_MAX"
    POSITION_LIMIT = "POSITION_LIMIT"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    # Matching
    POST_ONLY_WOULD_CROSS = "POST_ONLY_WOULD_CROSS"
    # Orders of a user
    DUPLICATE_CLIENT_ORDER_ID = "DUPLICATE_CLIENT_ORDER_ID"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    # Cash moved between a cluster's shards
    DUPLICATE_TRANSFER = "DUPLICATE_TRANSFER"
