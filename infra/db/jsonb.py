"""What PostgreSQL's jsonb holds, and a copy of any JSON that it takes: jsonb refuses ``\\u0000``
and lone UTF-16 surrogates (they are not Unicode text), numbers past 64-bit integers or not
finite, and deep nesting only costs; a copy keeps what came as near as jsonb allows."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 32  # JSON nesting kept (a request needs 3, an Amazon order 5)
DEPTH_REASON = f"nested deeper than {MAX_DEPTH} levels"
SHOWN = 40  # characters of a value quoted back in a reason

UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")  # what no PostgreSQL text or jsonb holds


def shown(value: Any) -> str:
    """A value quoted in a reason: its repr (control characters and surrogates escaped), cut
    to a few dozen characters so a reason never grows with the input."""
    if isinstance(value, str) and len(value) > SHOWN:
        return repr(value[:SHOWN]) + f"... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= SHOWN + 2 else text[:SHOWN] + "..."


def storable_text(value: str) -> str:
    """``value`` with NUL and lone surrogates written out as ``\\uXXXX`` text."""
    return UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def storable(value: Any, depth: int = 1) -> Any:
    """A copy of JSON (a client's, Amazon's) that jsonb takes whatever it held, kept as near
    as jsonb allows to what came: NUL and lone surrogates written out as ``\\uXXXX`` text,
    numbers jsonb cannot hold (NaN, infinities, integers past 64 bits) as text, any other
    object as its repr, and what nests deeper than ``MAX_DEPTH`` as a note."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, int):
        return value if value.bit_length() <= 64 else f"(an integer of {value.bit_length()} bits)"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping | list | tuple) and depth > MAX_DEPTH:
        return f"(cut: {DEPTH_REASON})"
    if isinstance(value, Mapping):
        return {storable(str(k)): storable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v, depth + 1) for v in value]
    return storable(shown(value))
