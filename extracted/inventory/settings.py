"""Settings of the inventory service, from the environment (INVENTORY_*, plus the router's shared secrets).

    INVENTORY_ENVIRONMENT            development | test | production (default; refuses the dev secrets)
    INVENTORY_DATABASE_URL           the service's own database (default sqlite:///<repo>/var/inventory.sqlite3)
    INVENTORY_LEGACY_DATABASE_URL    the monolith's database, read by the sync commands (backfill, relays,
                                     verify); falls back to DATABASE_URL, the monolith's own variable,
                                     then to the monolith's default SQLite file (under
                                     TECHGOODS_VAR_DIR when set, as the monolith does)
    STRANGLER_SHADOW_SECRET, STRANGLER_IDENTITY_SECRET   shared with the router
"""

import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from extracted.common.settings import ROOT, ServiceSettings


class InventorySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INVENTORY_")
    service_name: ClassVar[str] = "inventory"

    legacy_database_url: str

    @model_validator(mode="before")
    @classmethod
    def _legacy_database_defaults_to_the_monoliths(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("legacy_database_url"):
            var_dir = Path(os.environ.get("TECHGOODS_VAR_DIR") or ROOT / "var")
            url = os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'legacy.sqlite3'}"
            data = {**data, "legacy_database_url": url}
        return data
