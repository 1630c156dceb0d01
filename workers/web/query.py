"""A listing's query string as every listing reads it (``workers.doors.paging.screened``): each
known parameter's value, and the refusals of an unknown or repeated one."""

from __future__ import annotations

from collections.abc import Collection

from fastapi import Request

from domain.shared import FieldError
from workers.doors.paging import screened


def query_of(
    request: Request, known: Collection[str]
) -> tuple[dict[str, str | None], list[FieldError]]:
    given = {name: request.query_params.getlist(name) for name in request.query_params}
    return screened(given, known)
