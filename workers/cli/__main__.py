"""``python -m workers.cli``: what the Procfile's processes, the supervisor and the tests run."""

from workers.cli import main

main()
