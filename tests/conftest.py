"""Suite-wide fixtures: API clients for each role and small factories for the monolith's data."""

import os

pytest_plugins = ["tests.support.monolith", "tests.support.pg"]


def pytest_report_header(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"monolith database: {engine} ({os.environ.get('DATABASE_URL') or 'default SQLite file'})"
