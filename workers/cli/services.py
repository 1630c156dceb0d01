"""The commands that start processes: ``run`` (everything), ``demo``, and the Procfile's own
(``worker QUEUE``, ``beat``, ``flower``, ``web``)."""

from __future__ import annotations

import os
import sys

import click

from workers.cli.common import settings
from workers.queues import QUEUES


@click.command()
def run() -> None:
    """Start everything: embedded services, the sandbox, beat, workers, web and Flower."""
    from workers.supervisor import run_all

    sys.exit(run_all(settings()))


@click.command()
@click.option("--orders", "count", default=40, show_default=True, help="Orders to create.")
def demo(count: int) -> None:
    """A finite scripted run against the sandbox: create, sync, change, sync, summarise (in its
    own data folder, DATA_DIR/demo)."""
    from workers.demo import run_demo_on_own_data

    sys.exit(run_demo_on_own_data(settings(), count))


def _exec_celery(args: list[str]) -> None:
    argv = [sys.executable, "-m", "celery", "-A", "workers.app", *args]
    os.execv(sys.executable, argv)  # noqa: S606 (our own interpreter, fixed arguments)


@click.command()
@click.argument("queue", type=click.Choice(QUEUES))
@click.option("--concurrency", "-c", type=int, default=1, show_default=True)
def worker(queue: str, concurrency: int) -> None:
    """A Celery worker for one queue."""
    loaded = settings()
    _exec_celery(
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
        ]
    )


@click.command()
def beat() -> None:
    """Celery beat (RedBeat: one active scheduler, guarded by a Redis lock)."""
    _exec_celery(["beat", "--loglevel", settings().log_level])


@click.command()
def flower() -> None:
    """Flower, the operators' view of tasks and workers."""
    loaded = settings()
    _exec_celery(["flower", f"--port={loaded.flower_port}", "--address=127.0.0.1"])


@click.command()
def web() -> None:
    """The web process: health, metrics and the platform's API."""
    import uvicorn

    loaded = settings()
    uvicorn.run(
        "workers.web.app:create_app",
        factory=True,
        host=loaded.web_host,
        port=loaded.web_port,
        workers=loaded.web_workers,
        log_level=loaded.log_level.lower(),
    )
