"""Pre-trade checks: the first stage of every command, and the only place a rule is written.

Each rule is one function that tests the rule and, when it is broken,
words the refusal: a `Refusal` (stable code + human message naming the
allowed value), or None when the rule holds. `Checks.place`, `Checks.amend`
and friends run a command's rules in the documented order of precedence
(docs/protocol.md); the first broken rule names the rejection and nothing
changes. The engine's later stages (matching, settlement) assume a command
that passed here.

The gateway already parses wire input, but the engine is also driven by the
in-process agents and by journal replay, so it never trusts a command's
values: a malformed one is refused with INVALID_FIELD like any other rule,
never an exception. A compiled command cannot even be built with a value of
the wrong type (see commands.py); what builds commands from untyped values
asks `field_refusal` first, which runs these same rules on the values.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from ..commands import (
    TYPED,
    AmendOrder,
    CancelAll,
    CancelOrder,
    CreditCash,
    DebitCash,
    Fields,
    OpenAccount,
    OrderType,
    PlaceOrder,
    SetSymbolStatus,
    Side,
    SymbolStatus,
    Tif,
)
from ..errors import Code
from ..instruments import Instrument, format_cash
from ..limits import Limits
from .accounts import Account, Accounts, Position
from .book import Book
from .orders import Order, Registry
from .settlement import commitment, fee

MAX_CLIENT_ORDER_ID: Final = 64

SIDES: Final[dict[str, Side]] = {s.value: s for s in Side}
ORDER_TYPES: Final[dict[str, OrderType]] = {t.value: t for t in OrderType}
TIFS: Final[dict[str, Tif]] = {t.value: t for t in Tif}
STATUSES: Final[dict[str, SymbolStatus]] = {s.value: s for s in SymbolStatus}


class Kind:
    """A new order's side, type and time in force, checked: one shared object per combination.

    An object rather than a tuple: compiled, a fixed-length tuple is a C
    struct that becomes a new Python tuple each time it is returned in a
    union (`Kind | Refusal`); a shared object costs nothing to return.
    """

    __slots__ = ("is_buy", "side", "tif", "type")

    def __init__(self, side: Side, order_type: OrderType, tif: Tif) -> None:
        self.side = side
        self.type = order_type
        self.tif = tif
        self.is_buy = side is Side.BUY


KINDS: Final[dict[tuple[str, str, str], Kind]] = {
    (side, order_type, tif): Kind(side, order_type, tif) for side in Side for order_type in OrderType for tif in Tif
}
"""(side, type, tif) of a new order, as given -> its Kind: one lookup validates all three. Keyed by the enum
members, which the commands carry: a lookup finds its key by identity (a plain string equal to a member's value
finds it too, by equality)."""

BUY: Final = Side.BUY
SELL: Final = Side.SELL
HALTED: Final = SymbolStatus.HALTED
AUCTION: Final = SymbolStatus.AUCTION
LIMIT: Final = OrderType.LIMIT
MARKET: Final = OrderType.MARKET
GTC: Final = Tif.GTC


def _commonest_first(side: Side) -> tuple[Kind, ...]:
    """The side's kinds, the commonest first, for `kind_rule` to find by identity."""
    return tuple(
        KINDS[(side, order_type, tif)]
        for order_type, tif in (
            (LIMIT, GTC), (LIMIT, Tif.IOC), (MARKET, Tif.IOC), (MARKET, GTC), (LIMIT, Tif.FOK), (MARKET, Tif.FOK)
        )
    )  # fmt: skip


BUY_KINDS: Final = _commonest_first(BUY)
SELL_KINDS: Final = _commonest_first(SELL)


class Refusal:
    """Why a command is refused: a stable code and a message for people."""

    __slots__ = ("code", "message")

    def __init__(self, code: Code, message: str) -> None:
        self.code = code
        self.message = message


class Admitted:
    """A new order that passed every rule: its fields as checked values, with its book, account and position.

    One record per `Checks`, refilled by every `Checks.place` that admits an
    order and read by the engine straight away: a new order costs no
    allocation here. Nothing may keep it past the command.
    """

    __slots__ = (
        "account", "book", "coid", "cost", "crossing", "kind", "position", "post_only", "price", "qty", "sym",
        "user_id",
    )  # fmt: skip

    user_id: int
    sym: str
    kind: Kind
    """Side, type and time in force: the shared object `kind_rule` found."""
    qty: int
    price: int | None
    post_only: bool
    coid: str | None
    book: Book
    account: Account | None
    """None for a user's first order: the engine opens the account when it accepts it."""
    position: Position | None
    """The user's position in the symbol, None before the first order in it (the engine opens it)."""
    crossing: bool
    """Whether the order meets the opposite side on arrival."""
    cost: int
    """A buy's cost as the funds rule took it (`buy_cost`: a limit's commitment), 0 for a sell: what a limit buy
    that rests whole commits (`settlement.reserve`)."""


# Rules --------------------------------------------------------------------------


def symbol_rule(known: Collection[str], sym: object) -> Refusal | None:
    if isinstance(sym, str) and sym in known:
        return None
    return Refusal(Code.UNKNOWN_SYMBOL, f"unknown symbol {sym!r}; known symbols: {', '.join(known)}")


def trading_rule(sym: str, status: SymbolStatus, what: str) -> Refusal | None:
    """`what` is the refused kind of command ("new orders", "amends")."""
    if status is not HALTED:
        return None
    return Refusal(Code.SYMBOL_HALTED, f"{sym} is halted: {what} are refused until it resumes")


def auction_rule(sym: str, status: SymbolStatus, kind: Kind, post_only: bool) -> Refusal | None:
    """During a call auction only orders that can wait for the uncross are accepted: GTC limits, not post-only."""
    if status is not AUCTION or (kind.type is LIMIT and kind.tif is GTC and not post_only):
        return None
    return Refusal(
        Code.INVALID_FIELD,
        f"{sym} is in its call auction: only GTC limit orders (not post-only) are accepted until it uncrosses",
    )


def user_rule(user_id: object) -> Refusal | None:
    if type(user_id) is int:
        return None
    return Refusal(Code.INVALID_FIELD, f"user_id must be an integer, got {user_id!r}")


def _enum_error(name: str, value: object, allowed: dict[str, object]) -> str | None:
    if isinstance(value, str) and value in allowed:
        return None
    return f"{name} must be one of {', '.join(allowed)}, got {value!r}"


def kind_rule(side: object, order_type: object, tif: object) -> Kind | Refusal:
    """A new order's side, type and tif, as a Kind; one dict lookup checks all three (of any other values).

    The commands the gateway and the agents build carry the enums: their
    kind is found among the side's by identity, without building the
    lookup's key (a tuple, hashed and compared member by member).
    """
    if side is BUY or side is SELL:
        for kind in BUY_KINDS if side is BUY else SELL_KINDS:
            if kind.type is order_type and kind.tif is tif:
                return kind
    try:
        found = KINDS.get((side, order_type, tif))  # type: ignore[arg-type]  # checking is the point
    except TypeError:  # an unhashable value where an enum belongs
        found = None
    if found is not None:
        return found
    message = (
        _enum_error("side", side, dict(SIDES))
        or _enum_error("type", order_type, dict(ORDER_TYPES))
        or _enum_error("tif", tif, dict(TIFS))
    )
    assert message is not None
    return Refusal(Code.INVALID_FIELD, message)


def place_types_rule(user_id: object, qty: object) -> Refusal | None:
    """A new order's user id and quantity are integers: the fields read as machine integers once this holds
    (by the type of a compiled command, see commands.TYPED); `place_fields_rule` checks the rest."""
    message: str | None = None
    if type(user_id) is not int:
        message = f"user_id must be an integer, got {user_id!r}"
    elif type(qty) is not int:
        message = _qty_message(qty)
    return None if message is None else Refusal(Code.INVALID_FIELD, message)


def _qty_message(qty: object) -> str:
    return f"qty must be a positive integer, got {qty!r}"


def place_fields_rule(kind: Kind, qty: int, price: object, post_only: object, coid: object) -> Refusal | None:
    """A new order's quantity, price, flags and client order id are well formed for its kind (after
    `place_types_rule`)."""
    message: str | None = None
    if qty <= 0:
        message = _qty_message(qty)
    elif type(post_only) is not bool:
        message = f"post_only must be true or false, got {post_only!r}"
    elif coid is not None and (type(coid) is not str or not 0 < len(coid) <= MAX_CLIENT_ORDER_ID):
        message = f"client_order_id must be a string of 1 to {MAX_CLIENT_ORDER_ID} characters, got {coid!r}"
    elif kind.type is MARKET:
        if price is not None:
            message = "a market order takes no price"
        elif post_only:
            message = "a market order cannot be post_only"
    elif price is None:
        message = "a limit order needs a price"
    elif type(price) is not int or price <= 0:
        message = f"price must be a positive number of ticks, got {price!r}"
    elif post_only and kind.tif is not GTC:
        message = f"a post_only order must be GTC, got {kind.tif}"
    return None if message is None else Refusal(Code.INVALID_FIELD, message)


def amend_fields_rule(price: object, qty: object, filled: int) -> Refusal | None:
    """Types of an amend's new values; the new total qty must exceed what already filled."""
    message: str | None = None
    if price is None and qty is None:
        message = "an amend needs a new price or a new qty"
    elif price is not None and (type(price) is not int or price <= 0):
        message = f"price must be a positive number of ticks, got {price!r}"
    elif qty is not None and (type(qty) is not int or qty <= filled):
        message = f"qty is the new total quantity and must be an integer above the filled {filled}, got {qty!r}"
    return None if message is None else Refusal(Code.INVALID_FIELD, message)


def qty_rule(sym: str, lot: int, min_qty: int, qty: int) -> Refusal | None:
    """Lot and minimum quantity of the instrument."""
    if qty % lot:
        return Refusal(Code.QTY_NOT_LOT_MULTIPLE, f"qty {qty} is not a multiple of the lot {lot} for {sym}")
    if qty < min_qty:
        return Refusal(Code.QTY_BELOW_MIN, f"qty {qty} is below the minimum {min_qty} for {sym}")
    return None


def band_rule(instrument: Instrument, low: int, high: int, price: int) -> Refusal | None:
    """A limit price lies within the band [low, high] around the reference price (Instrument.band_low/high)."""
    if low <= price <= high:
        return None
    to_price = instrument.to_price
    return Refusal(
        Code.PRICE_OUT_OF_BAND,
        f"price {to_price(price)} is outside the band {to_price(low)} to {to_price(high)} for {instrument.sym}",
    )


def order_qty_rule(max_order_qty: int, qty: int) -> Refusal | None:
    """`max_order_qty` is `Limits.max_order_qty` (the rules take limits as plain ints: see `Checks`)."""
    if qty <= max_order_qty:
        return None
    return Refusal(Code.QTY_ABOVE_MAX, f"qty {qty} is above the per-order maximum of {max_order_qty}")


def position_rule(max_position: int, sym: str, is_buy: bool, held: int, open_same: int, added: int) -> Refusal | None:
    """The worst case after `added` more units rest (or trade) on the order's side stays within the limit.

    Every resting order on that side counts as if it filled, so no sequence
    of fills can take a user past the limit. `added` is the new order's
    quantity, or for an amend the growth of its leaves (shrinking never
    breaches, so callers skip the rule then). `held` is the position,
    `open_same` the open quantity of the user's resting orders on that side.
    """
    worst = held + open_same + added if is_buy else open_same + added - held
    if worst <= max_position:
        return None
    verb, side = ("buying", "buy") if is_buy else ("selling", "sell")
    reach = worst if is_buy else -worst
    return Refusal(
        Code.POSITION_LIMIT,
        f"{verb} {added} {sym} could take the position to {reach} (now {held}, open {side} orders {open_same}); "
        f"the limit is {max_position} either way",
    )


def funds_rule(sym: str, qty: int, cost: int, available: int, decimals: int) -> Refusal | None:
    """A buy that could cost `cost` fits in the cash not yet committed; amounts worded as the wire shows cash."""
    if cost <= available:
        return None
    return Refusal(
        Code.INSUFFICIENT_FUNDS,
        f"buying {qty} {sym} could cost {format_cash(cost, decimals)} but only {format_cash(available, decimals)} "
        "is available (cash less what open buy orders have committed)",
    )


def coid_rule(coid: str | None, live_order: int | None, used_by: int | None, memory: int) -> Refusal | None:
    """A client order id names one order among the user's live orders and their last `memory` ones.

    `live_order` is the id of the user's live order with this client order
    id, `used_by` the order it was last given to (live or finished), if any.
    """
    if coid is None:
        return None
    if live_order is not None:
        return Refusal(
            Code.DUPLICATE_CLIENT_ORDER_ID, f"client_order_id {coid!r} is already used by live order {live_order}"
        )
    if used_by is None:
        return None
    return Refusal(
        Code.DUPLICATE_CLIENT_ORDER_ID,
        f"client_order_id {coid!r} was already used by order {used_by}, now finished; "
        f"a client_order_id names one order (among the user's last {memory:,} orders)",
    )


def post_only_rule(instrument: Instrument, is_buy: bool, price: int | None, opposite: int | None) -> Refusal | None:
    """A post-only order must rest: it may not meet the opposite best (`opposite`, None when that side is empty)."""
    if opposite is None or price is None or (price < opposite if is_buy else price > opposite):
        return None
    to_price = instrument.to_price
    return Refusal(
        Code.POST_ONLY_WOULD_CROSS,
        f"post-only {'buy' if is_buy else 'sell'} at {to_price(price)} would trade against the best "
        f"{'ask' if is_buy else 'bid'} {to_price(opposite)}; post-only orders must rest",
    )


def order_ref_rule(user_id: object, order_id: object, coid: object) -> Refusal | None:
    """A cancel or amend names its order by an integer id (preferred) or a client order id string."""
    if type(user_id) is not int:
        return Refusal(Code.INVALID_FIELD, f"user_id must be an integer, got {user_id!r}")
    if order_id is not None:
        if type(order_id) is not int:
            return Refusal(Code.INVALID_FIELD, f"order_id must be an integer, got {order_id!r}")
        return None
    if coid is None:
        return Refusal(Code.INVALID_FIELD, "name the order with order_id or client_order_id")
    if not isinstance(coid, str):
        return Refusal(Code.INVALID_FIELD, f"client_order_id must be a string, got {coid!r}")
    return None


def unknown_order(order_id: int | None, coid: str | None) -> Refusal:
    """The named order is not a live order of the caller's.

    Another user's order answers exactly like a missing one, so order ids
    reveal nothing about other users' orders.
    """
    if order_id is not None:
        return Refusal(
            Code.UNKNOWN_ORDER, f"order {order_id} is not live: unknown, or already filled, canceled or expired"
        )
    return Refusal(Code.UNKNOWN_ORDER, f"no live order with client_order_id {coid!r}")


def status_rule(status: object) -> Refusal | None:
    if isinstance(status, str) and status in STATUSES:
        return None
    return Refusal(Code.INVALID_FIELD, f"status must be one of {', '.join(STATUSES)}, got {status!r}")


def cash_rule(cash: object) -> Refusal | None:
    if type(cash) is int and cash >= 0:
        return None
    return Refusal(Code.INVALID_FIELD, f"cash must be a non-negative integer, got {cash!r}")


def transfer_fields_rule(amount: object, name: str, where: object) -> Refusal | None:
    """A transfer moves a positive amount of cash units to or from a named account elsewhere."""
    if type(amount) is not int or amount <= 0:
        return Refusal(Code.INVALID_FIELD, f"amount must be a positive integer of cash units, got {amount!r}")
    if not isinstance(where, str) or not where:
        return Refusal(Code.INVALID_FIELD, f"{name} must name the other account, got {where!r}")
    return None


def debit_rule(amount: int, available: int, decimals: int) -> Refusal | None:
    """A debit leaves at least what open buy orders have committed: every open order stays covered."""
    if amount <= available:
        return None
    return Refusal(
        Code.INSUFFICIENT_FUNDS,
        f"moving out {format_cash(amount, decimals)} needs that much free cash, but only "
        f"{format_cash(available, decimals)} is available (cash less what open buy orders have committed)",
    )


def credit_rule(source: str, ref: object, last: int) -> Refusal | None:
    """Credits from one source come in the order of its debits: one not above the last taken is a copy."""
    if type(ref) is not int or ref <= 0:
        return Refusal(Code.INVALID_FIELD, f"ref must be a positive integer, got {ref!r}")
    if ref > last:
        return None
    return Refusal(
        Code.DUPLICATE_TRANSFER, f"the transfer {ref} from {source} is already credited (credited up to {last})"
    )


# Building a command -------------------------------------------------------------


def fits(kind: type[Fields], values: tuple[object, ...]) -> bool:
    """Whether each value, in constructor order, is of a type its field of `kind` takes (a bool is no int)."""
    return all([type(value) in types for (_, types), value in zip(kind.FIELDS, values, strict=True)])


def field_refusal(
    kind: type[Fields], values: tuple[object, ...], known: Collection[str], filled: int = 0
) -> Refusal | None:
    """Why a command of `kind` may not be built from `values` (in constructor order), or None when it may.

    For what builds commands from values nobody has typed (a strategy's
    arguments in a backtest): a compiled command raises TypeError when built
    with a value of the wrong type, so the builder asks here first and is
    refused as the engine would refuse the command, by the same rules with
    their codes and messages. Values that fit their fields are left to the
    engine, which checks everything else when it applies the command; so is
    a value the rules take as it is (a plain string equal to an enum
    member's value, which the builder turns into the member). `known` are
    the engine's symbols; `filled`, for an amend, the quantity its order has
    filled.
    """
    if fits(kind, values):
        return None
    if kind is PlaceOrder:
        user_id, sym, side, qty, price, order_type, tif, post_only, coid = values
        order_kind = kind_rule(side, order_type, tif)
        if isinstance(order_kind, Refusal):
            return symbol_rule(known, sym) or order_kind
        refusal = symbol_rule(known, sym) or place_types_rule(user_id, qty)
        if refusal is not None:
            return refusal
        assert type(qty) is int
        return place_fields_rule(order_kind, qty, price, post_only, coid)
    if kind is CancelOrder:
        user_id, order_id, coid = values
        return order_ref_rule(user_id, order_id, coid)
    if kind is AmendOrder:
        user_id, order_id, coid, price, qty = values
        return order_ref_rule(user_id, order_id, coid) or amend_fields_rule(price, qty, filled)
    if kind is CancelAll:
        user_id, sym = values
        return user_rule(user_id) or (symbol_rule(known, sym) if sym is not None else None)
    if kind is SetSymbolStatus:
        sym, status = values
        return symbol_rule(known, sym) or status_rule(status)
    if kind is OpenAccount:
        user_id, cash = values
        return user_rule(user_id) or cash_rule(cash)
    if kind is DebitCash:
        user_id, amount, to = values
        return user_rule(user_id) or transfer_fields_rule(amount, "to", to)
    if kind is CreditCash:
        user_id, amount, source, ref = values
        return user_rule(user_id) or transfer_fields_rule(amount, "source", source) or credit_rule("", ref, 0)
    raise TypeError(f"not an engine command: {kind!r}")


# Market buys ----------------------------------------------------------------------


def market_buy_cost(book: Book, user_id: int, qty: int) -> int:
    """Exact cash a market buy of `qty` would spend now, taker fees included, in cash units.

    Walks the asks as matching would (best first, skipping the user's own
    orders, which self-trade prevention cancels rather than fills), one fill
    per resting order; what the book cannot supply expires unfilled and
    costs nothing. The engine applies one command at a time, so this is
    exactly what the fills will cost.
    """
    asks = book.asks
    tick_value = book.tick_value
    cost = 0
    keys = asks.keys
    i = len(keys) - 1
    while i >= 0:
        price = -keys[i]
        maker = asks.at(price).head
        while maker is not None:
            if maker.user_id != user_id:
                leaves = maker.qty - maker.filled
                take = leaves if leaves < qty else qty
                value = price * take * tick_value
                cost += value + fee(value, take, book.lot, book.taker_ppm, book.taker_lot_fee)
                qty -= take
                if not qty:
                    return cost
            maker = maker.next
        i -= 1
    return cost


def buy_cost(book: Book, user_id: int, qty: int, price: int | None) -> int:
    """What a new buy must find available: a limit's commitment at its price, a market buy's cost now."""
    return commitment(book, price, qty) if price is not None else market_buy_cost(book, user_id, qty)


# Stages ---------------------------------------------------------------------------


class Checks:
    """The pre-trade stage: each command's rules in order of precedence; the first broken one refuses it."""

    __slots__ = (
        "accounts", "admitted", "book_list", "books", "coid_memory", "credited", "decimals", "initial_cash",
        "max_order_qty", "max_position", "registry",
    )  # fmt: skip

    def __init__(
        self,
        books: dict[str, Book],
        accounts: Accounts,
        registry: Registry,
        limits: Limits,
        initial_cash: int,
        decimals: int,
        coid_memory: int,
        credited: dict[tuple[int, str], int],
    ) -> None:
        self.books = books
        self.book_list = list(books.values())
        """The books in a list, for `book` to look among by identity first."""
        self.accounts = accounts
        self.credited = credited
        self.registry = registry
        self.admitted = Admitted()
        self.max_order_qty = limits.max_order_qty
        """The limits as native ints: `Limits` is a Python object, each read of it a generic attribute lookup."""
        self.max_position = limits.max_position
        self.initial_cash = initial_cash
        self.decimals = decimals
        self.coid_memory = coid_memory

    def place(self, cmd: PlaceOrder) -> Admitted | Refusal:
        """A new order's rules; each field of the command is read once, as it came."""
        sym: object = cmd.sym
        book = self.book(sym)
        if book is None:  # one lookup finds the book of a known symbol; the rule words the refusal of another
            refusal = symbol_rule(self.books, sym)
            assert refusal is not None
            return refusal
        assert isinstance(sym, str)
        refusal = trading_rule(sym, book.status, "new orders")
        if refusal is not None:
            return refusal
        kind = kind_rule(cmd.side, cmd.type, cmd.tif)
        if isinstance(kind, Refusal):
            return kind
        if not TYPED:
            refusal = place_types_rule(cmd.user_id, cmd.qty)
            if refusal is not None:
                return refusal
        user_id = cmd.user_id
        qty = cmd.qty
        price: object = cmd.price
        post_only: object = cmd.post_only
        coid: object = cmd.client_order_id
        refusal = place_fields_rule(kind, qty, price, post_only, coid)
        if refusal is not None:
            return refusal
        assert type(post_only) is bool
        refusal = auction_rule(sym, book.status, kind, post_only)
        if refusal is not None:
            return refusal
        assert price is None or type(price) is int
        assert coid is None or type(coid) is str
        refusal = qty_rule(sym, book.lot, book.min_qty, qty)
        if refusal is None and price is not None:
            refusal = band_rule(book.instrument, book.band_low, book.band_high, price)
        if refusal is not None:
            return refusal
        account = self.accounts.get(user_id)
        position = account.positions[book.number] if account is not None else None
        is_buy = kind.is_buy
        refusal = order_qty_rule(self.max_order_qty, qty)
        if refusal is None and (position is not None or qty > self.max_position):
            held, open_same = _exposure(position, is_buy)
            refusal = position_rule(self.max_position, sym, is_buy, held, open_same, qty)
        if refusal is not None:
            return refusal
        cost = 0
        if is_buy:
            cost = buy_cost(book, user_id, qty, price)
            available = account.available() if account is not None else self.initial_cash
            refusal = funds_rule(sym, qty, cost, available, self.decimals)
            if refusal is not None:
                return refusal
        if coid is not None and account is not None:
            live = account.by_coid.get(coid)
            live_id = live.order_id if live is not None else None
            refusal = coid_rule(coid, live_id, account.coids.get(coid), self.coid_memory)
            if refusal is not None:
                return refusal
        crossing = book.status is not AUCTION and book.crosses(is_buy, price)
        if post_only and crossing:
            refusal = post_only_rule(book.instrument, is_buy, price, (book.asks if is_buy else book.bids).best())
            if refusal is not None:
                return refusal
        new = self.admitted
        new.user_id = user_id
        new.sym = sym
        new.kind = kind
        new.qty = qty
        new.price = price
        new.post_only = post_only
        new.coid = coid
        new.book = book
        new.account = account
        new.position = position
        new.crossing = crossing
        new.cost = cost
        return new

    def book(self, sym: object) -> Book | None:
        """The book of a known symbol, else None.

        By identity among the few books first: a command from the gateway or the agents carries the
        instrument's own `sym` object, found in a few instructions a book, where the dict's lookup costs about
        140; a symbol made anew (a journal's replay) is found by the dict.
        """
        for book in self.book_list:
            if book.sym is sym:
                return book
        return self.books.get(sym) if isinstance(sym, str) else None

    def find(self, user_id: object, order_id: object, coid: object) -> Order | Refusal:
        """The caller's live order named by id (preferred) or client_order_id, or why not."""
        refusal = order_ref_rule(user_id, order_id, coid)
        if refusal is not None:
            return refusal
        if order_id is not None:
            assert type(order_id) is int
            order = self.registry.live(order_id)
            if order is None or order.user_id != user_id:
                return unknown_order(order_id, None)
            return order
        assert isinstance(coid, str) and type(user_id) is int
        account = self.accounts.get(user_id)
        found = account.by_coid.get(coid) if account is not None else None
        return found if found is not None else unknown_order(None, coid)

    def amend(self, cmd: AmendOrder, order: Order, book: Book) -> Refusal | None:
        """An amend of `order` (found by `find`) to its new price and total quantity."""
        new_price: object = cmd.price
        new_qty: object = cmd.qty
        refusal = trading_rule(book.sym, book.status, "amends") or amend_fields_rule(new_price, new_qty, order.filled)
        if refusal is not None:
            return refusal
        assert order.price is not None
        assert (new_price is None or type(new_price) is int) and (new_qty is None or type(new_qty) is int)
        price = order.price if new_price is None else new_price
        qty = order.qty if new_qty is None else new_qty
        is_buy = order.is_buy
        growth = qty - order.qty
        refusal = (
            qty_rule(book.sym, book.lot, book.min_qty, qty)
            or band_rule(book.instrument, book.band_low, book.band_high, price)
            or order_qty_rule(self.max_order_qty, qty)
        )
        if refusal is None and growth > 0:
            held, open_same = _exposure(order.position, is_buy)
            refusal = position_rule(self.max_position, order.sym, is_buy, held, open_same, growth)
        if refusal is None and is_buy:
            new_leaves = qty - order.filled
            added = commitment(book, price, new_leaves) - commitment(book, order.price, order.qty - order.filled)
            refusal = funds_rule(order.sym, new_leaves, added, order.account.available(), self.decimals)
        crossing = book.status is not AUCTION and book.crosses(is_buy, price)
        if refusal is None and order.post_only and price != order.price and crossing:
            refusal = post_only_rule(book.instrument, is_buy, price, (book.asks if is_buy else book.bids).best())
        return refusal

    def debit(self, cmd: DebitCash) -> Refusal | None:
        user_id: object = cmd.user_id
        amount: object = cmd.amount
        refusal = user_rule(user_id) or transfer_fields_rule(amount, "to", cmd.to)
        if refusal is not None:
            return refusal
        assert type(user_id) is int and type(amount) is int
        account = self.accounts.get(user_id)
        available = account.available() if account is not None else self.initial_cash
        return debit_rule(amount, available, self.decimals)

    def credit(self, cmd: CreditCash) -> Refusal | None:
        user_id: object = cmd.user_id
        amount: object = cmd.amount
        source: object = cmd.source
        refusal = user_rule(user_id) or transfer_fields_rule(amount, "source", source)
        if refusal is not None:
            return refusal
        assert type(user_id) is int and isinstance(source, str)
        return credit_rule(source, cmd.ref, self.credited.get((user_id, source), 0))

    def cancel_all(self, user_id: object, sym: object) -> Refusal | None:
        refusal = user_rule(user_id)
        if refusal is None and sym is not None:
            refusal = symbol_rule(self.books, sym)
        return refusal


def _exposure(position: Position | None, is_buy: bool) -> tuple[int, int]:
    """The position and the open quantity on the order's side, as `position_rule` takes them."""
    if position is None:
        return 0, 0
    return position.qty, position.open_buy if is_buy else position.open_sell
