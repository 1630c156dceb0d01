"""Identifiers: when a reference names a row by its id, and the range a stored id lies in.

The doors take an account "by id or by name". A reference is an id only when it is ASCII digits
within PostgreSQL's ``bigint``: ``str.isdigit`` also accepts digits such as "²" that ``int``
refuses, and a larger number cannot be stored, so either would otherwise fail deep in the store.
"""

from __future__ import annotations

BIGINT_MAX = 2**63 - 1


def row_id(ref: object) -> int | None:
    """The row id ``ref`` names (an int, or a string of ASCII digits, within ``bigint``), or
    None when it is not one (then it is a name)."""
    if isinstance(ref, bool):
        return None
    if isinstance(ref, int):
        value = ref
    elif isinstance(ref, str) and ref.isascii() and ref.isdigit():
        if len(ref.lstrip("0")) > len(str(BIGINT_MAX)):
            return None  # past bigint, and never handed to int() (long digit strings are slow)
        value = int(ref)
    else:
        return None
    return value if 0 < value <= BIGINT_MAX else None
