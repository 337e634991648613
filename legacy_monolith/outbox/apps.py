"""Django app config of the outbox (tables and capture triggers come from its migrations)."""

from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "legacy_monolith.outbox"
    label = "outbox"
    verbose_name = "Change outbox"
    default_auto_field = "django.db.models.BigAutoField"
