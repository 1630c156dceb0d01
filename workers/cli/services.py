"""The commands that start processes: ``run`` (everything), ``demo``, and the Procfile's own
(``worker QUEUE``, ``beat``, ``flower``, ``web``).

Each names its process on its log lines (``PROCESS_NAME``, which the supervisor sets to the
Procfile's name, else the queue or the command); Celery's banners are off (``--quiet``): each
process says in one line that it is up (``workers.app``).
"""

from __future__ import annotations

import logging
import os
import sys

import click

from workers.cli.common import fail, settings
from workers.queues import QUEUES


@click.command()
@click.option(
    "--sellers",
    type=click.IntRange(1, 100_000),
    default=1,
    show_default=True,
    help="Demo sellers on the sandbox and in the store: demo, then demo-seller-2..N.",
)
def run(sellers: int) -> None:
    """Start everything: embedded services, the sandbox, beat, workers, web and Flower."""
    from infra.embedded import EmbeddedServerError, ServiceUnreachable
    from workers.system import AlreadyRunning, run_all

    loaded = settings("run")
    if sellers > 1 and not loaded.uses_sandbox():
        fail("--sellers: demo sellers live on the sandbox; with Amazon credentials add accounts")
    try:
        sys.exit(run_all(loaded, sellers=sellers))
    except (AlreadyRunning, ServiceUnreachable, EmbeddedServerError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:  # Ctrl-C while the servers were starting: they are stopped
        click.echo("stopped", err=True)
        sys.exit(130)


@click.command()
@click.option("--orders", "count", default=40, show_default=True, help="Orders to create.")
def demo(count: int) -> None:
    """A finite scripted run against the sandbox: create, sync, change, sync, summarise (in its
    own data folder, DATA_DIR/demo)."""
    from workers.demo import run_demo_on_own_data

    sys.exit(run_demo_on_own_data(settings(), count))


def _exec_celery(process: str, args: list[str], **extra: str) -> None:
    """Become Celery, named ``process`` on its log lines unless the supervisor named it."""
    argv = [sys.executable, "-m", "celery", "-A", "workers.app", "--quiet", *args]
    env = {**os.environ, "PROCESS_NAME": settings().process_name or process, **extra}
    os.execve(sys.executable, argv, env)  # noqa: S606 (our own interpreter, fixed arguments)


def _metrics_folder() -> str:
    """Where a worker writes its metrics for the web's /metrics (``infra.metrics``):
    prometheus-client reads it from the environment before its first metric, so it is set in
    the worker's own environment (Flower and beat keep theirs out of the workers' sum)."""
    folder = settings().metrics_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


@click.command()
@click.argument("queue", type=click.Choice(QUEUES))
@click.option("--concurrency", "-c", type=int, default=1, show_default=True)
def worker(queue: str, concurrency: int) -> None:
    """A Celery worker for one queue."""
    loaded = settings()
    _exec_celery(
        queue,
        [
            "worker",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "-c",
            str(concurrency),
            "--loglevel",
            loaded.log_level,
            "-E",
        ],
        PROMETHEUS_MULTIPROC_DIR=_metrics_folder(),
    )


@click.command()
def beat() -> None:
    """Celery beat (RedBeat: one active scheduler, guarded by a Redis lock)."""
    _exec_celery("beat", ["beat", "--loglevel", settings().log_level])


@click.command()
def flower() -> None:
    """Flower, the operators' view of tasks and workers."""
    from celery.bin.celery import main as celery_main

    # In this process, not exec'd: Flower sets up no logging of its own with tornado's
    # ``--logging=none``, so its lines go through ours (configured here).
    loaded = settings("flower")
    # Flower asks the workers at its start, often before they are up, and warns once per
    # question; its page shows the workers as they come.
    logging.getLogger("flower.inspector").setLevel(logging.ERROR)
    sys.argv = [
        sys.executable, "-A", "workers.app", "--quiet", "flower",
        f"--port={loaded.flower_port}", f"--address={loaded.flower_host}", "--logging=none",
    ]  # fmt: skip
    celery_main()


WEB_GRACEFUL_SHUTDOWN_S = 10  # under the supervisor's 35 s before it kills what still runs


@click.command()
def web() -> None:
    """The web process: health, metrics and the platform's API."""
    import uvicorn

    from infra.logging import uvicorn_log_config

    loaded = settings("web")
    uvicorn.run(
        "workers.web.app:create_app",
        factory=True,
        host=loaded.web_host,
        port=loaded.web_port,
        workers=loaded.web_workers,
        log_level=loaded.log_level.lower(),
        log_config=uvicorn_log_config(
            loaded.log_level, loaded.log_json, loaded.process_name or "web"
        ),
        # On SIGTERM uvicorn waits for open connections to close, with no bound by default: a
        # client that keeps one open (a download read slowly, a keep-alive never closed) would
        # hold the stop. Requests in flight get this long, then the process exits.
        timeout_graceful_shutdown=WEB_GRACEFUL_SHUTDOWN_S,
    )
