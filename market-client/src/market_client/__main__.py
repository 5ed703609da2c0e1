"""`python -m market_client` is the `market-client` command."""

from ._cli import main

main()
