"""What every command group of the CLI uses: settings with logging, the store with live
services, one-line errors (exit status 2) and plain tables."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import Any, NoReturn

import click

from domain.fulfilments import FieldError
from infra.logging import configure_logging
from infra.settings import Settings, load_settings


def settings() -> Settings:
    loaded = load_settings()
    configure_logging(loaded.log_level, loaded.log_json)
    return loaded


@contextlib.contextmanager
def store() -> Iterator[Settings]:
    """Settings with live services and this process's container pointed at them: the embedded
    servers start when no URLs are configured (reusing the ones ``amazon-channel run`` keeps
    up), so every command works on a fresh machine."""
    from infra.db import migrate
    from workers import bootstrap
    from workers.supervisor import services

    with services(settings()) as ready:
        migrate.upgrade(ready.database_url)
        bootstrap.use(ready)
        try:
            yield ready
        finally:
            bootstrap.reset_and_close()


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def refuse(errors: Iterable[FieldError]) -> NoReturn:
    """Every field refused, one line each."""
    for error in errors:
        click.echo(f"error: {error.field}: {error.reason}", err=True)
    sys.exit(2)


def table(headers: list[str], rows: list[list[Any]]) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(str(cell))) for w, cell in zip(widths, row, strict=True)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    click.echo("  ".join("-" * w for w in widths))
    for row in rows:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    if not rows:
        click.echo("(none)")
