"""The gateways a client may reach one venue through, and which one it uses now.

A venue run as a cluster serves the same market, sessions and tokens on
every gateway. A client given several (`MarketClient(url, gateways=[...])`)
starts on the first that answers and, when a reconnect attempt fails,
aims the next one at the next gateway in turn: its token, orders and
books carry over, as after any reconnect.
"""

from __future__ import annotations

from collections.abc import Sequence


class Gateways:
    def __init__(self, urls: Sequence[str]) -> None:
        if not urls:
            raise ValueError("give at least one gateway URL")
        self.urls = [url.rstrip("/") for url in urls]
        self._index = 0

    @property
    def current(self) -> str:
        return self.urls[self._index]

    def move_on(self) -> bool:
        """Use the next gateway from now on; False when there is no other to move to."""
        if len(self.urls) < 2:
            return False
        self._index = (self._index + 1) % len(self.urls)
        return True
