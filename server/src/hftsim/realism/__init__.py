"""How real the simulated market looks: stylised facts and distances, measured from outside.

`hftsim realism` runs the configured market in process, faster than real
time, over several seeds (`study`), tapes the order-by-order flow (`tape`),
measures the stylised facts of real limit-order markets (`facts`, built on
`measures`) beside a fair-value-only baseline and the real-market ranges,
and writes a Markdown page with figures (`report`, `plots`).
"""

from .facts import FACTS, Fact, Sample, measure
from .findings import Check, Finding
from .study import Options, Study, run
from .tape import Recording, Tape, record

__all__ = [
    "FACTS",
    "Check",
    "Fact",
    "Finding",
    "Options",
    "Recording",
    "Sample",
    "Study",
    "Tape",
    "measure",
    "record",
    "run",
]
