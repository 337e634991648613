"""Cross-app plumbing of the monolith: permissions, the seed command, the auth endpoint."""
