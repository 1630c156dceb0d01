"""The API's idempotency keys, any scope: a request claims its key in its own transaction, and
keeps its answer with the key when it commits (Stripe-style keys on ``idempotency_keys``).

A key is kept only with the answer of a request that ran (2xx), committed together with what
the request stored; a refused (422/409) or crashed request rolls its key back, so the platform
can fix the body and send it again under the same key (Stripe does the same for requests that
failed validation). The claim waits while another transaction holds the same key, so two
requests with one key run one after the other: the second replays the first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Engine, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert

from infra.db.sql.compiled import Compiled
from infra.db.tables import IdempotencyKey


class KeyStatus(StrEnum):
    NEW = "new"  # ours to run
    REPLAY = "replay"  # answered before: return the stored answer
    MISMATCH = "mismatch"  # the key came with another body


@dataclass(frozen=True, slots=True)
class KeyClaim:
    status: KeyStatus
    key_id: int
    response_code: int | None = None
    response_body: dict[str, Any] | None = None


def request_hash(request: Mapping[str, Any]) -> str:
    encoded = json.dumps(request, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


_K = IdempotencyKey.metadata.tables[IdempotencyKey.__tablename__]
_CLAIM_KEY = Compiled(
    insert(_K)
    .values(scope=bindparam("p_scope"), key=bindparam("p_key"), request_hash=bindparam("p_hash"))
    .on_conflict_do_nothing(index_elements=[_K.c.scope, _K.c.key])
    .returning(_K.c.id)
)
_FIND_KEY = Compiled(
    select(_K.c.id, _K.c.request_hash, _K.c.response_code, _K.c.response_body).where(
        _K.c.scope == bindparam("p_scope"), _K.c.key == bindparam("p_key")
    )
)
_TAKE_OVER_KEY = Compiled(
    update(_K)
    .where(_K.c.id == bindparam("p_id"))
    .values(request_hash=bindparam("p_hash"), locked_at=None)
)
_ANSWER_KEY = Compiled(
    update(_K)
    .where(_K.c.id == bindparam("p_id"))
    .values(response_code=bindparam("p_code"), response_body=bindparam("p_body"), locked_at=None)
)


def claim_key(conn: Connection, scope: str, key: str, request_hash: str) -> KeyClaim:
    """The key's claim, in ``conn``'s transaction (the insert waits on a key another
    transaction holds)."""
    params = {"p_scope": scope, "p_key": key, "p_hash": request_hash}
    key_id = _CLAIM_KEY.scalar(conn, params)
    if key_id is not None:
        return KeyClaim(KeyStatus.NEW, key_id)
    row = _FIND_KEY.first(conn, params)
    assert row is not None  # the insert found it there
    if row.response_code is None:
        # A key without an answer (kept by an earlier release, which claimed keys in a
        # transaction of their own, for a request that died) binds no body: it is ours now.
        _TAKE_OVER_KEY.execute(conn, {"p_id": row.id, "p_hash": request_hash})
        return KeyClaim(KeyStatus.NEW, row.id)
    if row.request_hash != request_hash:
        return KeyClaim(KeyStatus.MISMATCH, row.id)
    return KeyClaim(KeyStatus.REPLAY, row.id, row.response_code, row.response_body)


class KeyedTransaction:
    """One request's transaction under its key: the claim, and the answer to keep with it."""

    def __init__(self, conn: Connection, claim: KeyClaim) -> None:
        self.conn = conn
        self.claim = claim
        self.answered = False

    def answer(self, code: int, body: dict[str, Any]) -> None:
        """Keep this answer with the key; the transaction commits when the block ends."""
        if self.claim.status is not KeyStatus.NEW:
            raise RuntimeError(f"the key was {self.claim.status}: it takes no answer")
        _ANSWER_KEY.execute(
            self.conn, {"p_id": self.claim.key_id, "p_code": code, "p_body": Jsonb(body)}
        )
        self.answered = True


Keyed = TypeVar("Keyed", bound=KeyedTransaction)


@contextmanager
def keyed(
    engine: Engine,
    scope: str,
    key: str,
    request_hash: str,
    make: Callable[[Connection, KeyClaim], Keyed],
) -> Iterator[Keyed]:
    """A request's key and its work in one transaction: committed (the key, what the request
    stored and its answer together) when ``answer`` was called, rolled back otherwise, so a
    refused or crashed request leaves nothing behind. ``make`` builds what the block works with
    on the transaction's connection."""
    with engine.connect() as conn, conn.begin() as transaction:
        keyed = make(conn, claim_key(conn, scope, key, request_hash))
        yield keyed
        if keyed.answered:
            transaction.commit()
        else:
            transaction.rollback()
