"""The old import path of ``workers.bootstrap`` (the composition root), for the modules that
still import it until they move over at the merge; nothing new imports this."""

from workers.bootstrap import (
    Container,
    active_account_ids,
    container,
    reset,
    reset_and_close,
    sync_account,
    use,
)

__all__ = [
    "Container",
    "active_account_ids",
    "container",
    "reset",
    "reset_and_close",
    "sync_account",
    "use",
]
