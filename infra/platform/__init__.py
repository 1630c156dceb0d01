"""The commerce platform's side: events shaped as its webhooks (``payloads``), signed and sent
(``webhooks``), and relayed from the outbox at least once, in order per order (``relay``)."""
