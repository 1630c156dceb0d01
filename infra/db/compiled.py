"""Where the compiled fast path used to live: ``infra.db.sql.compiled`` has it now."""

from infra.db.sql.compiled import Compiled

__all__ = ["Compiled"]
