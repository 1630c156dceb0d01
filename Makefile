# The two commands that matter: `make run` and `make test`. Everything installs itself into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run demo test check pytest faults soak test-services bench clean

# The install says what it does: a first one downloads about 150 packages (a few minutes), and
# pip's own lines show each one as it comes.
$(STAMP): pyproject.toml
	@echo "install 1/3: the virtualenv in $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "install 2/3: amazon-channel and its dependencies (pip; a first install takes minutes)"
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -e '.[dev]'
	@touch $(STAMP)
	@echo "install 3/3: done ($(VENV))"

install: $(STAMP)

## The whole system on embedded defaults with a demo seller on the sandbox (Ctrl-C stops it).
run: install
	$(BIN)/amazon-channel run

## A finite scripted run: orders of every kind, synced, summarised.
demo: install
	$(BIN)/amazon-channel demo

## Format, lint, types, architecture contracts, then the tests.
test: check pytest

check: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Three test processes (pytest-xdist), each with its own embedded servers: on two cores a third
# one pays, since much of an integration test is waiting on a worker, a server or a poll. A file
# stays in one process, so its module fixtures (a sandbox, a worker) start once.
pytest: install
	$(BIN)/pytest -n 3 --dist loadfile -m "not faults and not soak"

## The long chaos runs: workers SIGKILLed mid-task, Amazon throttling and failing,
## many processes on one rate budget. Run by CI after `make test`.
## One scenario at a time: three at once on the two cores let a Redis pause (#11) overrun its
## 60 s bound. Each scenario's line is gathered in $(FAULT_LINES) and printed at the end.
FAULT_LINES := $(VENV)/fault-matrix.txt
faults: install
	rm -f $(FAULT_LINES)
	FAULT_MATRIX_RESULTS=$(CURDIR)/$(FAULT_LINES) $(BIN)/pytest -m faults

## The soak: SOAK_MINUTES (10) of orders, fulfilments, refunds and cancellations while workers
## and beat are SIGKILLed and Redis and PostgreSQL restarted; its summary printed at the end.
## `make soak SOAK_MINUTES=60` runs an hour.
## `make soak SOAK_BROKER=rabbitmq` runs it with a RabbitMQ node of its own as the broker.
SOAK_MINUTES ?= 10
SOAK_BROKER ?= redis
soak: install
	SOAK_MINUTES=$(SOAK_MINUTES) SOAK_BROKER=$(SOAK_BROKER) $(BIN)/pytest -m soak -s tests/faults/test_soak.py

## The integration tests again on the machine's own PostgreSQL and Redis (three processes,
## each on a Redis database and a PostgreSQL database of its own), then the worker and
## queue-priority tests with RabbitMQ as the broker (one process: they share its vhost).
SERVICES_ENV = DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0
test-services: install
	$(SERVICES_ENV) BROKER_URL=redis://127.0.0.1:6379/0 \
	$(BIN)/pytest -n 3 --dist loadfile -m "integration and not faults and not soak"
	$(SERVICES_ENV) BROKER_URL=amqp://guest:guest@127.0.0.1:5672// \
	$(BIN)/pytest -m "integration and not faults and not soak" tests/integration/workers/tasks
	$(SERVICES_ENV) BROKER_URL=amqp://guest:guest@127.0.0.1:5672// \
	$(BIN)/pytest -m "integration and not faults and not soak" -k broker tests/integration/workers/doors

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .amazon-channel .mypy_cache .ruff_cache
