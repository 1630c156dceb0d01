"""One module of tasks per queue (``workers.queues.WITH_TASKS``), independent of each other:
they talk through the store and by task name, never by importing one another."""
