"""Print where the running stack answers, a staff login and an API token (used by make run)."""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print the stack's URLs, the demo staff login and its API token."

    def handle(self, *args, **options):
        legacy = os.environ.get("LEGACY_PUBLIC_URL", "http://127.0.0.1:8001")
        admin = get_user_model().objects.filter(username="admin").first()
        token = Token.objects.filter(user=admin).first() if admin else None
        lines = [
            "",
            "TechGoods stack",
            f"  monolith API     {legacy}/api/",
            f"  OpenAPI schema   {legacy}/api/schema/",
            f"  Django admin     {legacy}/admin/   login: admin / admin",
            "  customer login   customer / customer",
        ]
        if token:
            lines += [
                f"  staff API token  {token.key}",
                f'  try: curl -H "Authorization: Token {token.key}" {legacy}/api/orders/',
            ]
        else:
            lines.append("  no staff token yet: run `python manage.py seed --size small`")
        self.stdout.write("\n".join(lines) + "\n")
