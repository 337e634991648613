"""The control store: runtime flags, their audit trail and the store version, shared by every router
process and the CLI. SQLite file by default; PostgreSQL (with LISTEN/NOTIFY) when replicas share it."""

from .control import ControlStore, FlagEvent, default_store_url

__all__ = ["ControlStore", "FlagEvent", "default_store_url"]
