"""Discovery of a Django monolith through Django's own APIs: endpoints, cross-app couplings, an extraction order.

For whoever decides what to extract next, and for `strangler discover` which prints it. The modules:

    project.py         load the project (django.setup) and tell its own apps from installed libraries
    patterns.py        Django URL patterns written in strangler.yaml syntax
    endpoints.py       walk the URL resolver: (method, path, view, app) of every endpoint
    model_links.py     foreign keys / one-to-ones / many-to-manys between apps
    import_links.py    imports between apps (ast of each app module's import statements)
    order.py           the suggested extraction order with its reasons (pure)
    survey.py          all of the above as one `Discovery` value
    route_drafts.py    strangler.yaml routes drafted for one app
    playbook_skeleton.py  the playbook skeleton for one app (one function)
    drafts.py          writing both drafts to disk
"""

from .errors import DiscoveryError
from .project import DEFAULT_SETTINGS, load_project
from .survey import Discovery, survey

__all__ = ["DEFAULT_SETTINGS", "Discovery", "DiscoveryError", "load_project", "survey"]
