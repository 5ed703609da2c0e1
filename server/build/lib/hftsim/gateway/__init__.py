"""FastAPI gateway: sessions, the op dispatcher, the sockets and fan-out."""
