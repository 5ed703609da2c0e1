"""Scale-out on NATS: engine shards behind a JetStream command stream.

`hftsim serve` runs the whole venue in one process; this package is the
other transport of the same ordered stream of commands: each shard's
commands live in one JetStream stream (ordered, deduplicated by
`Nats-Msg-Id`, persisted by the NATS server), and an engine shard applies
them in stream order, so the stream sequence is the engine's command
sequence. See docs/architecture.md, "Scale-out".
"""
