"""The whole discovery of a loaded Django project in one value: endpoints, couplings, suggested order.

`survey(resolver, registry)` works on whatever Django is set up in the process: the `strangler
discover` command passes what `load_project` returned, tests pass the monolith the test session runs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .endpoints import Endpoint, list_endpoints
from .import_links import ImportLink, cross_app_imports
from .model_links import ModelLink, cross_app_model_links
from .order import Standing, extraction_order
from .project import project_apps


@dataclass(frozen=True, slots=True)
class Discovery:
    """What discovery found. `apps` are the candidates (the project's own apps), in INSTALLED_APPS order."""

    apps: tuple[str, ...]
    endpoints: tuple[Endpoint, ...]
    format_suffix_patterns_skipped: int
    model_links: tuple[ModelLink, ...]
    import_links: tuple[ImportLink, ...]
    order: tuple[Standing, ...]
    unreadable: tuple[tuple[str, str], ...] = ()  # (file, why) the import scan could not parse

    def app_endpoints(self, app: str) -> tuple[Endpoint, ...]:
        """The endpoints served by `app`'s views (tooling never belongs to a candidate app)."""
        return tuple(e for e in self.endpoints if e.app == app and not e.tooling)

    def standing(self, app: str) -> Standing:
        return next(s for s in self.order if s.app == app)

    def as_dict(self, *, app: str | None = None, include_tooling: bool = False) -> dict:
        """JSON-ready; `app` keeps only what concerns that app, `include_tooling` keeps admin/schema/root."""
        endpoints = [e for e in self.endpoints if (include_tooling or not e.tooling) and (app is None or e.app == app)]
        touches = (lambda a, b: app is None or app in (a, b))
        return {
            "apps": list(self.apps),
            "endpoints": [e.as_dict() for e in endpoints],
            "format_suffix_patterns_skipped": self.format_suffix_patterns_skipped,
            "foreign_keys": [m.as_dict() for m in self.model_links if touches(m.source_app, m.target_app)],
            "imports": [i.as_dict() for i in self.import_links if touches(i.importer_app, i.imported_app)],
            "order": [s.as_dict() for s in self.order if app is None or s.app == app],
            "unreadable": [{"file": f, "reason": r} for f, r in self.unreadable],
        }


def survey(resolver, registry) -> Discovery:
    """Discover the project Django is set up with: `resolver` from get_resolver(), `registry` django.apps.apps."""
    candidates = project_apps(registry)
    labels = tuple(c.label for c in candidates)
    found = list_endpoints(resolver, registry)
    model_links = cross_app_model_links(registry, labels)
    imports = cross_app_imports(candidates)
    counts = Counter(e.app for e in found.endpoints if not e.tooling)
    order = extraction_order(labels, model_links, imports.links, dict(counts))
    return Discovery(labels, found.endpoints, found.format_suffix_patterns_skipped, model_links,
                     imports.links, order, imports.unreadable)
