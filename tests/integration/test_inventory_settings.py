"""InventorySettings: the INVENTORY_ prefix, and where the sync commands find the monolith's database."""

from extracted.common.settings import ROOT
from extracted.inventory.settings import InventorySettings


def test_the_service_database_defaults_to_a_file_under_var(monkeypatch):
    monkeypatch.delenv("INVENTORY_DATABASE_URL", raising=False)
    monkeypatch.setenv("INVENTORY_ENVIRONMENT", "test")
    assert InventorySettings().database_url == f"sqlite:///{ROOT / 'var' / 'inventory.sqlite3'}"


def test_the_legacy_database_is_inventorys_own_setting_first(monkeypatch):
    monkeypatch.setenv("INVENTORY_LEGACY_DATABASE_URL", "postgres://db/legacy")
    monkeypatch.setenv("DATABASE_URL", "postgres://db/other")
    assert InventorySettings(environment="test").legacy_database_url == "postgres://db/legacy"


def test_the_legacy_database_falls_back_to_the_monoliths_database_url(monkeypatch):
    monkeypatch.delenv("INVENTORY_LEGACY_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://db/techgoods")
    assert InventorySettings(environment="test").legacy_database_url == "postgres://db/techgoods"


def test_without_either_the_legacy_database_is_the_monoliths_default_file(monkeypatch, tmp_path):
    monkeypatch.delenv("INVENTORY_LEGACY_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TECHGOODS_VAR_DIR", raising=False)
    assert InventorySettings(environment="test").legacy_database_url == f"sqlite:///{ROOT / 'var' / 'legacy.sqlite3'}"
    monkeypatch.setenv("TECHGOODS_VAR_DIR", str(tmp_path))
    assert InventorySettings(environment="test").legacy_database_url == f"sqlite:///{tmp_path / 'legacy.sqlite3'}"
