"""The inventory service: TechGoods' stock, warehouses, adjustments, reservations and movements, extracted
from the monolith into a FastAPI app with its own database (see README, "Extracting inventory").

Laid out by role: `settings` (environment), `models` (tables), `migrations` + `migrate` (Alembic),
`filters` (query parameters per endpoint), `selectors` (reads), `service` (writes), `schemas` (shapes
and body validation), `api` (the endpoints), `app` (``create_app(settings)``), `__main__` (migrate, then
serve), `sync` (data sync with the monolith). The contract is the monolith's inventory API, byte for
byte where it can be; tests/parity/ proves it, and says where it cannot be.

Known differences from the monolith: no browsable API (a browser's ``Accept: text/html`` or
``?format=api`` gets JSON, where the monolith renders HTML), no OPTIONS metadata (405; the router keeps
OPTIONS on legacy), no multipart bodies (415), no ``indent`` Accept parameter, and the Host header is
not checked against ALLOWED_HOSTS. Orderings that leave ties are broken by id (the monolith leaves
them to the database; the parity suite compares those tie-blind, tests/parity/ties.py).
"""
