"""Data sync between the monolith and the inventory service (DESIGN.md §6): the monolith's outbox and the
service's outbox, the backfill, the relays in both directions, verification and write ownership."""
