"""Benchmarks of the HFT Simulator, each beside its baseline.

`python -m bench.run [--quick] [names...]` runs them, writes
`bench/results/<name>.json` and renders the table in `bench/README.md`.
Every benchmark module has `run(scale) -> dict`; the `smoke` scale is what
`server/tests/test_bench_smoke.py` runs inside `make test`.
"""
