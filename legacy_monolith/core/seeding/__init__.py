"""Deterministic demo data for the TechGoods monolith, written by ``manage.py seed``.

One module per domain builds rows (``rows`` NamedTuples) from a seeded ``random.Random`` and
seeded Faker instances; ``runner`` orders the steps and ``writer`` inserts the rows in batches.
Nothing here reads the clock: every timestamp derives from ``config.ANCHOR``, so the same seed and
size always give the same rows, down to the timestamps, password hashes and API tokens.
"""
