"""Where a sync stands: the watermark, the open window and its resume point.

A sync opens a window at ``watermark - overlap``, moves the cursor after each committed page
and closes the window (the watermark becomes the window's end in Amazon's clock) only after
its last page, so a sync killed half way resumes from its last page and loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Cursor:
    watermark: datetime | None = None
    window_after: datetime | None = None
    window_before: datetime | None = None
    pagination_token: str | None = None
    pages_done: int = 0
    orders_seen: int = 0

    @property
    def in_window(self) -> bool:
        return self.window_after is not None

    def begin_window(self, after: datetime) -> Cursor:
        return replace(self, window_after=after, window_before=None, pagination_token=None)

    def after_page(
        self, *, next_token: str | None, window_before: datetime | None, orders: int
    ) -> Cursor:
        """The cursor after a page of ``orders`` orders (a page's own terms, so that the cursor
        needs nothing of the source's port)."""
        return replace(
            self,
            window_before=window_before or self.window_before,
            pagination_token=next_token,
            pages_done=self.pages_done + 1,
            orders_seen=self.orders_seen + orders,
        )

    def close_window(self) -> Cursor:
        return replace(
            self,
            watermark=self.window_before or self.watermark,
            window_after=None,
            window_before=None,
            pagination_token=None,
        )
