"""The engine's core: books, accounts and the three stages (checks, matching, settlement).

Compiled with mypyc when built (`make setup`), plain Python otherwise;
`hftsim.engine.build` decides which runs. Import it through `hftsim.engine`.
"""
