"""Run the inventory service: migrate its database to head, then serve with uvicorn (uvloop, httptools).

    python -m extracted.inventory [--host 127.0.0.1] [--port 8101] [--workers N]

Configuration comes from the environment (extracted/inventory/settings.py). The migration runs once,
in this process, before any worker starts, so workers never race to create tables.
"""

import argparse
import sys

import uvicorn

from extracted.inventory import migrate
from extracted.inventory.settings import InventorySettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m extracted.inventory", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-migrate", action="store_true", help="Serve without upgrading the database first")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")

    settings = InventorySettings()  # refuses development secrets in production before anything starts
    if not args.no_migrate:
        migrate.upgrade(settings.database_url)
    uvicorn.run("extracted.inventory.app:create_app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, loop="uvloop", http="httptools", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
