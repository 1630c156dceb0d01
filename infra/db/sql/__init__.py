"""The store's hand-tuned SQL: the compiled fast path and the raw statements, nowhere else.

Raw SQL text lives here only where a benchmark showed it pays (ingestion's ``unnest`` page
upserts, the outbox's bulk append) or where a query reads better as SQL than as Core (the
relay's chain-head claim).
"""
