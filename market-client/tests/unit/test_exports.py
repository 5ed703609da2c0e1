"""The public surface is exactly `__all__`: complete, no duplicates, all importable."""

import inspect

import market_client


def test_all_has_no_duplicates() -> None:
    assert len(market_client.__all__) == len(set(market_client.__all__))


def test_all_is_complete() -> None:
    public = {
        name for name, value in vars(market_client).items() if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(market_client.__all__)


def test_every_name_in_all_is_importable() -> None:
    for name in market_client.__all__:
        assert getattr(market_client, name) is not None


def test_implementation_modules_are_private() -> None:
    """`testing` (FakeVenue) and `ccxt` (the ccxt class) are the public submodules; they appear once imported."""
    modules = {name for name, value in vars(market_client).items() if inspect.ismodule(value)} - {"testing", "ccxt"}
    assert all(name.startswith("_") for name in modules), modules


def test_request_session_is_the_cmd_session_class() -> None:
    assert inspect.isclass(market_client.RequestSession)
    assert hasattr(market_client.RequestSession, "request")


def test_package_is_typed() -> None:
    from importlib.resources import files

    assert files("market_client").joinpath("py.typed").is_file()
