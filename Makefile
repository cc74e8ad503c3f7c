# Followthrough: `make demo` runs the enforcement DAG on the bundled data, `make test` runs the tests.
# Both create or refresh the virtual environment from requirements.txt (runtime) and
# requirements-dev.txt (test and lint tools) when needed.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export AIRFLOW_HOME ?= $(CURDIR)/var/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__PARALLELISM := 4
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := True
export AIRFLOW__LOGGING__LOGGING_LEVEL ?= WARNING
export FOLLOWTHROUGH_HOME ?= $(CURDIR)/var
DEMO_AS_OF := 2026-07-15T10:00:00+00:00

.PHONY: help venv browser demo test lint typecheck unit airflow bench lock clean demo-data throughput soak eval-transformer

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/pip install --quiet --disable-pip-version-check uv==0.9.30
	@# bytecode compiled at install: where PYTHONDONTWRITEBYTECODE is set (as on the CI machine) every
	@# process would otherwise compile what it imports (great_expectations 12 s instead of 5 s)
	$(BIN)/uv pip install --quiet --compile-bytecode -p $(BIN)/python -r requirements.txt -r requirements-dev.txt
	$(BIN)/uv pip install --quiet -p $(BIN)/python --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)  ## create or refresh the virtual environment

$(AIRFLOW_HOME)/airflow.db: $(STAMP)
	@mkdir -p $(AIRFLOW_HOME)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/db-migrate.log; exit 1)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/airflow pools set jira_api 2 "Caps concurrent Jira calls (Followthrough)" >> $(AIRFLOW_HOME)/db-migrate.log 2>&1

# The demo's audit key (the Connection followthrough_audit stands in for it in production; see README)
AUDIT_KEY := $(FOLLOWTHROUGH_HOME)/audit.key
demo airflow: export FOLLOWTHROUGH_AUDIT_KEY_FILE ?= $(AUDIT_KEY)

$(AUDIT_KEY):
	@mkdir -p $(dir $@)
	@umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_hex(32))" > $@

demo: $(STAMP) $(AIRFLOW_HOME)/airflow.db $(AUDIT_KEY)  ## run followthrough_enforce once on the bundled data (dry-run) and print the summary
	@echo "Running followthrough_enforce as of $(DEMO_AS_OF) (airflow dags test; about a minute)..."
	@PATH=$(CURDIR)/$(BIN):$$PATH FOLLOWTHROUGH_RUN_DEADLINE_MINUTES=0 $(BIN)/airflow dags test followthrough_enforce $(DEMO_AS_OF) > $(FOLLOWTHROUGH_HOME)/demo-run.log 2>&1 \
		|| (tail -n 60 $(FOLLOWTHROUGH_HOME)/demo-run.log; echo "demo run failed; full log: $(FOLLOWTHROUGH_HOME)/demo-run.log"; exit 1)
	@$(BIN)/followthrough report

# The browser tests drive Debian's headless Chromium (Playwright with executable_path, never its
# own browser downloads); installed from the distribution's packages when it is missing.
CHROMIUM := /usr/bin/chromium
browser:  ## install Debian's chromium for the browser tests (apt-get, only when missing)
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests (apt-get)..."; \
		SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium > /dev/null; }
	@test -x $(CHROMIUM) || { echo "$(CHROMIUM) is still missing"; exit 1; }

test: $(STAMP) browser  ## lint, type-check and run every test
	$(BIN)/ruff check dags include plugins tests bench scripts
	$(BIN)/mypy
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m pytest -m "not throughput" $(PYTEST_ARGS)

throughput: $(STAMP)  ## the dispatch throughput test: 500 tickets and 500 messages under a fault mix, live against the fakes
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m pytest -m throughput -s $(PYTEST_ARGS)

# the full-size fault soak (make test runs the same suite at a few days); figures in bench/soak.json
SOAK_DAYS ?= 30
SOAK_INCIDENTS_PER_DAY ?= 1
soak: $(STAMP)  ## the long fault soak: 30 simulated business days live against the fakes under a fault mix (bench/soak.json)
	PATH=$(CURDIR)/$(BIN):$$PATH FOLLOWTHROUGH_SOAK_DAYS=$(SOAK_DAYS) FOLLOWTHROUGH_SOAK_INCIDENTS_PER_DAY=$(SOAK_INCIDENTS_PER_DAY) \
		FOLLOWTHROUGH_SOAK_MIN_ACTIONS=1000 FOLLOWTHROUGH_SOAK_OUT=$(CURDIR)/bench/soak.json \
		$(BIN)/python -m pytest -m soak -s $(PYTEST_ARGS) tests/integration/test_soak.py

unit: $(STAMP)  ## only the fast tests (no Airflow runs)
	$(BIN)/python -m pytest -m "not e2e and not deployment and not browser and not throughput and not soak" $(PYTEST_ARGS)

airflow: $(STAMP) $(AIRFLOW_HOME)/airflow.db $(AUDIT_KEY)  ## start a local Airflow (standalone, SQLite) with the project's DAGs
	@echo "Starting Airflow at http://localhost:8080 ; the admin password is printed below and kept in"
	@echo "$(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated. Stop with Ctrl-C."
	PATH=$(CURDIR)/$(BIN):$$PATH AIRFLOW__LOGGING__LOGGING_LEVEL=INFO $(BIN)/airflow standalone

bench: $(STAMP)  ## run the benchmarks; figures go to bench/results.json
	$(BIN)/python bench/run.py
	$(BIN)/python bench/jira_requests.py
	$(BIN)/python bench/pipeline.py

TEXT_MODELS := .venv-text-models
$(TEXT_MODELS)/.installed: requirements-text-models.txt
	@test -x $(TEXT_MODELS)/bin/python || $(PYTHON) -m venv $(TEXT_MODELS)
	$(TEXT_MODELS)/bin/pip install --quiet --disable-pip-version-check -r requirements-text-models.txt
	@touch $@

eval-transformer: $(STAMP) $(TEXT_MODELS)/.installed  ## AI-VAGUE against a sentence encoder, by source (about 35 min; its own venv)
	@mkdir -p $(FOLLOWTHROUGH_HOME)
	$(BIN)/python scripts/eval_vague.py --write-verdicts $(FOLLOWTHROUGH_HOME)/vague_rules.csv > /dev/null
	$(TEXT_MODELS)/bin/python scripts/eval_vague_transformer.py --rules $(FOLLOWTHROUGH_HOME)/vague_rules.csv
	$(TEXT_MODELS)/bin/python scripts/eval_vague_transformer.py --rules $(FOLLOWTHROUGH_HOME)/vague_rules.csv \
		--held-out wikimedia,cosmos,hachyderm,rotko,mezo

demo-data: $(STAMP)  ## regenerate data/demo from scripts/make_demo_data.py and check it
	$(BIN)/python scripts/make_demo_data.py
	$(BIN)/python scripts/check_demo_data.py

lock:  ## re-resolve requirements.in / requirements-dev.in into the pinned sets (needs the venv)
	$(BIN)/uv pip compile requirements.in --python-version 3.11 -o requirements.txt
	$(BIN)/uv pip compile requirements-dev.in --python-version 3.11 -o requirements-dev.txt

clean:  ## remove run state (store, reports, Airflow home), keep the venv
	rm -rf var
