"""Durable and derived state: user accounts (SQLite) and in-memory read models."""
