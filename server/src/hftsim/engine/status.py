"""States an order reaches and reasons it is canceled: part of the wire protocol, shared by every engine build."""

from enum import StrEnum


class OrderStatus(StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"


class CancelReason(StrEnum):
    USER = "user"
    CANCEL_ALL = "cancel_all"
    SELF_TRADE = "self_trade"
