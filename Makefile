# The two commands of the README: `make demo` and `make test`. Everything else is for developers.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export AWS_EC2_METADATA_DISABLED := true
export YOLO_OFFLINE := 1
export OPENVINO_TELEMETRY_DISABLE := 1

.PHONY: install browser demo test test-fast lint services-up services-down dagster airflow bench mutate clean

install: $(STAMP)

# One venv for the whole stack; torch/torchvision come from the machine's pip configuration
# (its local wheels where it has them, PyPI elsewhere). Pins: requirements/constraints.txt.
$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -c requirements/constraints.txt -e '.[dev]'
	touch $@

demo: install
	$(BIN)/alpr demo

# Debian's chromium for the review page's browser test, driven by Playwright from PyPI (which
# never downloads a browser of its own here). Needs root the first time, as CI has.
browser:
	command -v chromium >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

# The dated tests run a second time with their reference time a year ahead, in the same session
# (--also-ahead, tests/conftest.py): nothing may read the calendar. One worker per core
# (pytest-xdist; a third worker on 2 cores was slower: 947 s against 880 s); a test file stays on
# one worker, as its fixtures expect.
PYTEST_WORKERS ?= auto
test: install browser
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --also-ahead 365

test-fast: install browser
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

services-up: install
	$(BIN)/alpr services up

services-down: install
	$(BIN)/alpr services down

# Dagster UI on http://127.0.0.1:3000, telemetry off (infra/dagster/dagster.yaml).
dagster: services-up
	mkdir -p var/dagster_home && cp infra/dagster/dagster.yaml var/dagster_home/
	PATH=$(CURDIR)/$(BIN):$$PATH DAGSTER_HOME=$(CURDIR)/var/dagster_home infra/run-in-group.sh \
		$(BIN)/dagster dev -m assets.definitions -h 127.0.0.1 -p 3000

# Airflow UI on http://127.0.0.1:8080 (airflow standalone prints the admin password).
airflow: services-up
	PATH=$(CURDIR)/$(BIN):$$PATH \
	AIRFLOW_HOME=$(CURDIR)/var/airflow AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False PYTHONPATH=$(CURDIR) \
		infra/run-in-group.sh $(BIN)/airflow standalone

bench: install
	$(BIN)/python bench/ingest_throughput.py --out docs/benchmarks.md

# Mutation testing of the rule modules, from scratch (mutmut's cache in mutants/ is dropped first):
# modules and tests in [tool.mutmut] of pyproject.toml, scores in docs/mutation.md. Too slow for
# CI (16-25 minutes on 2 cores); fails when a module is under 90 % or a survivor is unreviewed.
mutate: install
	$(BIN)/python bench/mutation.py --out docs/mutation.md

clean:
	-$(BIN)/alpr services down
	rm -rf var
