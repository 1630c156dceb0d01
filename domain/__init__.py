"""The domain: orders, their ingestion and their fulfilments as rules, state machines, ports and
use cases, in the standard library only. One package per feature; they share ``domain.shared``
and ``domain.orders`` and never import each other."""
