"""What every extracted service shares: settings, the database session with shadow rollback, and the
verification of the router's signed headers. Import from the modules (`extracted.common.shadow`,
`extracted.common.database`, `extracted.common.settings`); this package itself exports nothing."""
