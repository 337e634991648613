"""Tables of the control store (SQLAlchemy Core, portable between SQLite and PostgreSQL)."""

from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

# One row per counter; `flags_version` goes up by one on every flag change (compare-and-swap target).
meta = Table(
    "strangler_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)

flags = Table(
    "strangler_flags", metadata,
    Column("scope", String(8), primary_key=True),   # "route" | "group"
    Column("name", String(200), primary_key=True),
    Column("mode", String(16), nullable=False),
    Column("percent", Float, nullable=False),
    Column("shadow_rate", Float, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

flag_events = Table(
    "strangler_flag_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", Integer, nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("scope", String(8), nullable=False),
    Column("name", String(200), nullable=False, index=True),
    Column("before", Text, nullable=False),   # JSON of the flag before ("null" when unset)
    Column("after", Text, nullable=False),
)

# -- parity (shadow comparisons) ---------------------------------------------------------------------
# Counts per route and minute bucket, so reports and gates can ask "over the last hour" from any process.
parity_counts = Table(
    "strangler_parity_counts", metadata,
    Column("route", String(200), primary_key=True),
    Column("bucket", Integer, primary_key=True),       # unix minute (epoch seconds // 60 * 60)
    Column("outcome", String(16), primary_key=True),   # match | equivalent | mismatch | skipped | dropped | error | writes_kept
    Column("count", Integer, nullable=False),
)

parity_paths = Table(
    "strangler_parity_paths", metadata,
    Column("route", String(200), primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("path", String(500), primary_key=True),     # generalised: body.results[*].price
    Column("kind", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
)

parity_samples = Table(
    "strangler_parity_samples", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("route", String(200), nullable=False, index=True),
    Column("signature", String(32), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("verdict", String(16), nullable=False),
    Column("method", String(10), nullable=False),
    Column("target", Text, nullable=False),
    Column("request", Text, nullable=False),    # JSON, redacted
    Column("legacy", Text, nullable=False),     # JSON, redacted
    Column("extracted", Text, nullable=False),  # JSON, redacted
    Column("diff", Text, nullable=False),       # JSON
)

parity_noise = Table(
    "strangler_parity_noise", metadata,
    Column("route", String(200), primary_key=True),
    Column("path", String(500), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# -- router traffic (evidence for playbook gates) ------------------------------------------------------
# Per route, target (legacy | extracted) and minute: counts and a fixed-bounds latency histogram, written
# by the router's recorder thread once a second, summed by readers in any process.
traffic_counts = Table(
    "strangler_traffic_counts", metadata,
    Column("route", String(200), primary_key=True),
    Column("target", String(16), primary_key=True),
    Column("bucket", Integer, primary_key=True),       # unix minute
    Column("requests", Integer, nullable=False),
    Column("errors", Integer, nullable=False),         # answers with a 5xx status
    Column("fallbacks", Integer, nullable=False),      # served by legacy after the extracted side failed
    Column("latency", Text, nullable=False),           # JSON list: counts per bound of router.store.traffic.BOUNDS
)

# -- migration plans ------------------------------------------------------------------------------------
# The engine's latest evaluation of each capability's playbook (JSON snapshot, read by the dashboard).
plan_state = Table(
    "strangler_plan_state", metadata,
    Column("capability", String(100), primary_key=True),
    Column("snapshot", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Every step run, rollback, refusal and approval, with the evidence that decided it.
plan_audit = Table(
    "strangler_plan_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("capability", String(100), nullable=False, index=True),
    Column("step", String(100), nullable=False),
    Column("action", String(32), nullable=False),      # enter | advance | rollback | approve | refuse | done
    Column("outcome", String(32), nullable=False),     # ok | failed | refused | ...
    Column("evidence", Text, nullable=False),          # JSON
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
)
