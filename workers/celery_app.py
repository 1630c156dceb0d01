"""The old import path of ``workers.app`` (and ``workers.base.TransientError``), for the modules
that still import it until they move over at the merge; nothing new imports this."""

from workers.app import app
from workers.base import TransientError

__all__ = ["TransientError", "app"]
