"""The doors: what HTTP, the queue and the CLI share for each command. A door validates the
request with the command's one pydantic model, runs the domain's use case and queues the
follow-up work after the commit; the entry points only translate to and from their medium."""
