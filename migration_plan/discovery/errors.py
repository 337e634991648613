"""The one error discovery raises: the project cannot be loaded or the request does not fit it."""


class DiscoveryError(Exception):
    """Said in the user's words: which settings module, app or directory, and what was expected."""
