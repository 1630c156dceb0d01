"""The old import path of ``workers.tasks.fulfil``, for the tests that still import it until
they move over at the merge; nothing new imports this."""

from workers.tasks.fulfil import check_ship_by_deadlines, confirm, intake, read_back, sweep

__all__ = ["check_ship_by_deadlines", "confirm", "intake", "read_back", "sweep"]
