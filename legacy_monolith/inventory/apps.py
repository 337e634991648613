from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "legacy_monolith.inventory"
    label = "inventory"
