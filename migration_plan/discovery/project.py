"""Loading the monolith through Django itself, and telling the project's own apps from installed ones.

`load_project` is for a process of its own (the `strangler discover` command): it points
DJANGO_SETTINGS_MODULE at the chosen settings and runs `django.setup()`. Discovery only imports code
(apps, models, the URLconf): it never opens a database connection or serves a request.
"""

from __future__ import annotations

import importlib
import os
import site
import sys
import sysconfig
from pathlib import Path

from .errors import DiscoveryError

DEFAULT_SETTINGS = "legacy_monolith.settings"


def load_project(settings_module: str = DEFAULT_SETTINGS):
    """Set Django up with `settings_module`; return (URL resolver, app registry). DiscoveryError if it fails."""
    import django
    from django.apps import apps
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.urls import get_resolver

    # Like manage.py: the project is imported from the current directory first.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        importlib.import_module(settings_module)
    except ModuleNotFoundError as exc:
        if not settings_module.startswith(exc.name or "\0"):
            raise DiscoveryError(f"settings module {settings_module!r} failed to import: {exc}") from exc
        raise DiscoveryError(f"settings module {settings_module!r} not found (run from the project's "
                             f"directory, or give the dotted name with --settings)") from exc
    except ImproperlyConfigured as exc:
        raise DiscoveryError(f"settings module {settings_module!r} refused to load: {exc}") from exc
    except Exception as exc:
        raise DiscoveryError(f"settings module {settings_module!r} failed to import: "
                             f"{exc.__class__.__name__}: {exc}") from exc
    if settings.configured:
        current = getattr(settings, "SETTINGS_MODULE", None)
        if current != settings_module:
            raise DiscoveryError(f"Django is already set up with {current!r} in this process; "
                                 f"cannot switch to {settings_module!r}")
    else:
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    try:
        if not apps.ready:  # set up already (a test session, a shell): leave its logging alone
            django.setup()
        resolver = get_resolver()
        resolver.url_patterns  # noqa: B018 -- imports the URLconf and every view now, inside this try
    except Exception as exc:
        raise DiscoveryError(f"the project of {settings_module!r} failed to load: "
                             f"{exc.__class__.__name__}: {exc}") from exc
    return resolver, apps


def project_apps(registry) -> tuple:
    """The app configs of the project itself: every installed app not shipped in site-packages or the stdlib.

    These are the candidates for extraction; Django's contrib apps, DRF and other libraries are not.
    """
    installed = {Path(p).resolve() for p in _installed_roots()}
    return tuple(config for config in registry.get_app_configs()
                 if not any(Path(config.path).resolve().is_relative_to(root) for root in installed))


def _installed_roots() -> set[str]:
    roots = {sysconfig.get_paths()[key] for key in ("purelib", "platlib", "stdlib", "platstdlib")}
    roots.update(site.getsitepackages())
    if site.ENABLE_USER_SITE and site.getusersitepackages():
        roots.add(site.getusersitepackages())
    return roots
