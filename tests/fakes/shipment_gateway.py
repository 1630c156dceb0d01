"""The ShipmentGateway port's fake: Amazon's packages by (order, packageReferenceId)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from domain.fulfilments import Package, ReadBack


@dataclass
class FakeAmazon:
    """``ShipmentGateway`` that keeps packages by (order, packageReferenceId), as Amazon does:
    a resend with the same reference edits the package instead of adding one."""

    packages: dict[tuple[str, str], Package] = field(default_factory=dict)
    calls: list[Package] = field(default_factory=list)
    # Raised on the next calls, in order; (error, applied) applies the package before raising.
    failures: list[tuple[Exception, bool]] = field(default_factory=list)
    # getOrder tokens free per account (absent: unlimited); a read without one is put off.
    read_budget: dict[int, int] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def confirm_shipment(
        self, account_id: int, amazon_order_id: str, marketplace_id: str, package: Package
    ) -> None:
        self.calls.append(package)
        if self.failures:
            error, applied = self.failures.pop(0)
            if applied:
                self.packages[(amazon_order_id, package.package_reference_id)] = package
            raise error
        self.packages[(amazon_order_id, package.package_reference_id)] = package

    def read_back(
        self, account_id: int, amazon_order_id: str, package_reference_id: str
    ) -> ReadBack:
        left = self.read_budget.get(account_id)
        if left is not None:
            if left == 0:
                wait = timedelta(seconds=2)
                return ReadBack(error="RateLimitTimeout", deferred=True, retry_after=wait)
            self.read_budget[account_id] = left - 1
        self.reads.append(package_reference_id)
        listed = (amazon_order_id, package_reference_id) in self.packages
        return ReadBack(package_status="PENDING" if listed else None, package_listed=listed)
