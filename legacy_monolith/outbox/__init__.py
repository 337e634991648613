"""The monolith's change outbox: triggers capture changes to the tables an extracted service will own."""
