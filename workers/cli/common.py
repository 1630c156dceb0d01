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


def settings(process: str = "cli") -> Settings:
    """The environment's settings, with logging configured; the log lines name ``process``
    unless the supervisor named this one (``PROCESS_NAME``)."""
    loaded = load_settings()
    configure_logging(loaded.log_level, loaded.log_json, process=loaded.process_name or process)
    return loaded


@contextlib.contextmanager
def store() -> Iterator[Settings]:
    """Settings with live services and this process's container pointed at them: the servers
    the environment names, else those of the ``amazon-channel run`` that is up in the data
    folder (its ``run.json``), else the embedded servers, started here (so every command works
    on a fresh machine). A server that does not answer is one ``error:`` line naming its URL;
    a secrets key that cannot be had, or opens nothing, one naming ``SECRETS_KEY``."""
    from infra.db import migrate
    from infra.embedded import EmbeddedServerError, ServiceUnreachable
    from infra.secrets import SecretsKeyError
    from workers import bootstrap
    from workers.system import services

    try:
        with services(settings()) as ready:
            migrate.upgrade(ready.database_url)
            bootstrap.use(ready)
            try:
                yield ready
            finally:
                bootstrap.reset_and_close()
    except (ServiceUnreachable, EmbeddedServerError, SecretsKeyError) as exc:
        fail(str(exc))


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
