"""The store on PostgreSQL: engine and migrations, the tables, and one module or package per
feature store (accounts, orders, ingestion, fulfilments, the outbox and its deliveries, the API's
idempotency keys); hand-tuned SQL only under ``sql``."""
