"""The fulfilment store on PostgreSQL, composed of its parts: intake, the views (one by id, the
listing), rejections, sending and read-backs, the sweeper, ship-by deadlines. Each part is a
module of its own; the statements they run are compiled once (``statements``), their state
changes follow the domain's machine (``transitions``), and their events go to the outbox in the
change's transaction."""

from __future__ import annotations

from infra.db.fulfilments.deadlines import DeadlinesMixin
from infra.db.fulfilments.intake import IntakeMixin
from infra.db.fulfilments.rejections import RejectionsMixin
from infra.db.fulfilments.sending import SendingMixin
from infra.db.fulfilments.sweeper import SweeperMixin
from infra.db.fulfilments.views import ViewsMixin


class SqlFulfilmentStore(
    IntakeMixin, ViewsMixin, RejectionsMixin, SendingMixin, SweeperMixin, DeadlinesMixin
):
    """``domain.fulfilments.FulfilmentStore``, ``FulfilmentViews``, ``ReadBackStore`` and
    ``DeadlineStore`` on
    PostgreSQL. Built with ``(engine, sessions)`` and, optionally, the encoder of its events."""
