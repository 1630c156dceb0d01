"""The refund store on PostgreSQL, composed of its parts: intake (with the API's keyed
variant), the views, the refused queue requests, reconnecting, the batches into feeds, and
the refunds found in Amazon's Finances."""

from __future__ import annotations

from infra.db.refunds.amazon import AmazonRefundsMixin
from infra.db.refunds.intake import IntakeMixin
from infra.db.refunds.reconnect import ReconnectMixin
from infra.db.refunds.rejections import RejectionsMixin
from infra.db.refunds.sending import SendingMixin
from infra.db.refunds.views import ViewsMixin


class SqlRefundStore(
    IntakeMixin, ViewsMixin, RejectionsMixin, ReconnectMixin, SendingMixin, AmazonRefundsMixin
):
    """``domain.refunds.RefundIntakeStore`` and ``RefundViews`` on PostgreSQL. Built with
    ``(engine, sessions, encode)``: the encoder of its events (``infra.platform.payloads``)."""
