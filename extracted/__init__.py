"""Services extracted from the monolith, one package each, with their own database.

A service never imports `legacy_monolith` or `router`; services share code only through
`extracted.common`."""
