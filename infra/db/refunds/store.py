"""The refund store on PostgreSQL, composed of its parts: intake (with the API's keyed
variant), the views, and the refused queue requests."""

from __future__ import annotations

from infra.db.refunds.intake import IntakeMixin
from infra.db.refunds.rejections import RejectionsMixin
from infra.db.refunds.views import ViewsMixin


class SqlRefundStore(IntakeMixin, ViewsMixin, RejectionsMixin):
    """``domain.refunds.RefundIntakeStore`` and ``RefundViews`` on PostgreSQL. Built with
    ``(engine, sessions, encode)``: the encoder of its events (``infra.platform.payloads``)."""
