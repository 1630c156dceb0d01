"""The payout store on PostgreSQL, composed of its parts: the fetch's writes
(``domain.payouts.PayoutStore``) and the views the outputs read."""

from __future__ import annotations

from infra.db.payouts.balances import BalancesMixin
from infra.db.payouts.views import ViewsMixin
from infra.db.payouts.writes import WritesMixin


class SqlPayoutStore(WritesMixin, ViewsMixin, BalancesMixin):
    """``domain.payouts.PayoutStore`` and the payout views on PostgreSQL. Built with
    ``(engine, encode)``: the encoder of its events (``infra.platform.payloads``)."""
