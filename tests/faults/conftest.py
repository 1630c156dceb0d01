"""The long chaos and soak runs (``make faults``): real worker processes killed mid-task, Amazon
throttling and failing, many processes on one rate budget, the deep fuzzing of the API. Each
module is marked ``faults``, which ``make test`` leaves out. The fixtures of the fulfilment doors
(``tests.integration.workers``) serve the deep runs too."""

from tests.integration.workers.fulfilments import (  # noqa: F401 (fixtures, found by name)
    account_id,
    container,
    order,
    sender,
)


def pytest_terminal_summary(terminalreporter: object) -> None:
    """The fault matrix's lines (``scenario | invariant | outcome | recovery s``), once more at
    the end of the run, for the README's results table."""
    from tests.faults.harness.checker import RESULTS

    if RESULTS:
        write = terminalreporter.write_line  # type: ignore[attr-defined]
        write("fault matrix: scenario | invariant | outcome | recovery s")
        for line in RESULTS:
            write(line)
