"""Wire protocol v1, without I/O: envelope codec, roles, payload parsing, rendering."""
