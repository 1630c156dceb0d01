"""The refund side of the store: refunds and cancellations with their lines, their intake under
the order's lock, the operators' views and the refused queue requests."""
