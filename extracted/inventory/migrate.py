"""The inventory database's schema, through Alembic: `upgrade` to head (what the service runs before it
serves), `downgrade`, and the Alembic `Config` pointing at this package's migrations.

    python -m extracted.inventory.migrate [upgrade|downgrade] [REVISION]   (INVENTORY_DATABASE_URL)
"""

import argparse
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from extracted.common.database import sqlalchemy_url

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def alembic_config(database_url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    # ConfigParser interpolation: a literal % in a URL (an encoded password) must be doubled.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def main(argv: list[str] | None = None) -> int:
    from extracted.inventory.settings import InventorySettings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("upgrade", "downgrade"), nargs="?", default="upgrade")
    parser.add_argument("revision", nargs="?")
    args = parser.parse_args(argv)
    url = InventorySettings().database_url
    if args.action == "upgrade":
        upgrade(url, args.revision or "head")
    else:
        downgrade(url, args.revision or "base")
    return 0


if __name__ == "__main__":
    sys.exit(main())
