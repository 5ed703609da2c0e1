"""place_order / cancel_order when the answer is lost: look up first, resend the same msg_id only if needed."""

from typing import Any

import pytest

from market_client import ConnectionLost, MarketClient, OutcomeUnknown, RequestTimeout, Response, ServerError

JSON = dict[str, Any]


class Script:
    """Stands in for the network: scripted answers to requests, and the orders the server has."""

    def __init__(self, client: MarketClient, answers: list[JSON | Exception], orders: list[list[JSON]]) -> None:
        self.answers = answers
        self.orders = orders
        self.sent: list[tuple[str, JSON, str]] = []
        client._request = self.request  # type: ignore[method-assign]
        client.list_orders = self.list_orders  # type: ignore[method-assign]
        client.wait_connected = self.wait_connected  # type: ignore[method-assign]

    async def request(
        self, op: str, payload: JSON, as_role: str | None, timeout: float, msg_id: str, session: object = None
    ) -> Response:
        self.sent.append((op, payload, msg_id))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Response(corr_id=msg_id, op=op, ok=True, payload=answer, ts=None)

    async def list_orders(self, sym: str | None = None, status: str = "open") -> list[JSON]:
        assert status == "all"
        return self.orders.pop(0) if len(self.orders) > 1 else self.orders[0]

    async def wait_connected(self, timeout: float | None = None) -> None:
        return None


def new_client(recover_timeout: float = 5.0) -> MarketClient:
    return MarketClient("http://127.0.0.1:1", recover_timeout=recover_timeout)


async def test_a_lost_answer_returns_the_order_found_by_client_order_id_without_resending() -> None:
    client = new_client()
    script = Script(client, [ConnectionLost("dropped")], [])

    async def orders(sym: str | None = None, status: str = "open") -> list[JSON]:
        made_up = script.sent[0][1]["client_order_id"]  # the client made one up, since we gave none
        return [{"order_id": 3, "client_order_id": "other"}, {"order_id": 7, "client_order_id": made_up}]

    client.list_orders = orders  # type: ignore[method-assign]
    assert (await client.place_order("ACME", "buy", "99", 1))["order"]["order_id"] == 7
    assert len(script.sent) == 1


async def test_no_order_found_means_one_resend_with_the_same_msg_id() -> None:
    client = new_client()
    script = Script(client, [RequestTimeout("slow"), {"order": {"order_id": 9}}], [[]])
    assert await client.place_order("ACME", "buy", "99", 1, client_order_id="mine") == {"order": {"order_id": 9}}
    [(_, first, first_id), (_, again, again_id)] = script.sent
    assert first == again and first["client_order_id"] == "mine" and first_id == again_id


async def test_a_copy_still_running_is_looked_up_again() -> None:
    client = new_client()
    found = {"order_id": 4, "client_order_id": "mine"}
    running = ServerError("DUPLICATE_MSG", "still running", "order.place")
    Script(client, [ConnectionLost("dropped"), running], [[], [found]])
    assert (await client.place_order("ACME", "buy", "99", 1, client_order_id="mine"))["order"] is found


async def test_the_real_refusal_of_the_copy_is_raised() -> None:
    client = new_client()
    Script(client, [ConnectionLost("dropped"), ServerError("SYMBOL_HALTED", "halted", "order.place")], [[]])
    with pytest.raises(ServerError) as info:
        await client.place_order("ACME", "buy", "99", 1)
    assert info.value.code == "SYMBOL_HALTED"


async def test_an_outcome_not_learned_in_time_is_outcome_unknown() -> None:
    client = new_client(recover_timeout=0.2)
    Script(client, [ConnectionLost("dropped")] * 1000, [[]])
    with pytest.raises(OutcomeUnknown) as info:
        await client.place_order("ACME", "buy", "99", 1)
    assert isinstance(info.value, ConnectionLost) and isinstance(info.value, RequestTimeout)
    assert "list_orders" in str(info.value)


async def test_a_lost_cancel_answer_returns_the_order_already_canceled() -> None:
    client = new_client()
    script = Script(client, [ConnectionLost("dropped")], [[{"order_id": 5, "status": "canceled"}]])
    assert (await client.cancel_order(5))["order"]["status"] == "canceled"
    assert len(script.sent) == 1


async def test_a_lost_cancel_of_a_live_order_is_sent_again() -> None:
    client = new_client()
    canceled = {"order": {"order_id": 5, "status": "canceled"}}
    script = Script(client, [ConnectionLost("dropped"), canceled], [[{"order_id": 5, "status": "new"}]])
    assert await client.cancel_order(5) == canceled
    assert script.sent[0] == script.sent[1]


async def test_a_lost_amend_answer_returns_the_order_already_amended() -> None:
    client = new_client()
    amended = {"order_id": 5, "status": "new", "price": "99.50", "qty": 3}
    script = Script(client, [RequestTimeout("slow")], [[amended]])
    assert (await client.amend_order(5, price="99.5", qty=3))["order"] == amended
    assert len(script.sent) == 1


async def test_a_lost_amend_of_an_order_not_yet_amended_is_sent_again() -> None:
    client = new_client()
    answer = {"order": {"order_id": 5, "status": "new", "price": "99.50", "qty": 3}}
    before = {"order_id": 5, "status": "new", "price": "99.00", "qty": 3}
    script = Script(client, [ConnectionLost("dropped"), answer], [[before]])
    assert await client.amend_order(5, price="99.50") == answer
    assert script.sent[0] == script.sent[1]


async def test_a_lost_cancel_all_answer_is_asked_again_as_a_copy() -> None:
    client = new_client()
    answer = {"canceled": [4, 5], "count": 2}
    script = Script(client, [ConnectionLost("dropped"), answer], [[]])
    assert await client.cancel_all("ACME") == answer
    [(op, payload, first_id), (_, _, again_id)] = script.sent
    assert op == "order.cancel_all" and payload == {"sym": "ACME"} and first_id == again_id
