from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "legacy_monolith.loyalty"
    label = "loyalty"
