"""`cluster.gateways`: the addresses the website may move to, checked when the settings load."""

from __future__ import annotations

import pytest

from hftsim.config import ConfigError, load


def test_the_gateways_are_public_origins() -> None:
    urls = ["https://gw1.example:8000", "http://127.0.0.1:8001"]
    assert load(cluster={"gateways": urls}).cluster.gateways == urls


@pytest.mark.parametrize("url", ["gw1.example:8000", "https://gw1.example:8000/", "ftp://gw1.example", "http://"])
def test_an_address_that_is_not_an_origin_is_refused_and_named(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load(cluster={"gateways": ["https://gw0.example", url]})
    assert "cluster.gateways.1" in str(refused.value)
