"""The `strangler` command line: one entry point over the router's control store, parity, sync and plans."""
