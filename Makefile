# JXC entry points: `make run` (demo app on http://127.0.0.1:5000, or $PORT), `make test`, `make lint`
# (ruff, mypy, and ESLint on app/static/jxc).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# Test processes (pytest-xdist, worksteal: each takes half the ordered list, then from the other; tests/conftest.py).
# 0 runs in this process.
PYTEST_WORKERS ?= 2

VENV_STAMP := $(VENV)/.installed
NPM_STAMP := frontend/node_modules/.installed

.PHONY: install run test lint bench clean

install: $(VENV_STAMP) $(NPM_STAMP)
	sh frontend/copy-vendor.sh app/static/vendor
	@if ls app/translations/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
		echo "$(BIN)/pybabel compile -d app/translations -f"; \
		$(BIN)/pybabel compile -d app/translations -f; \
	fi

$(VENV_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -e '.[dev]'
	touch $@

$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

run: install
	$(BIN)/jxc init --demo --history
	$(BIN)/jxc serve

test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

MYPY_DIRS := $(wildcard app/ledger app/meta importers)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(if $(MYPY_DIRS),$(BIN)/mypy $(MYPY_DIRS),@echo "mypy: no typed packages yet")
	frontend/node_modules/.bin/eslint -c frontend/eslint.config.mjs app/static/jxc

bench: install
	$(BIN)/python tests/benchmarks/run_all.py

clean:
	rm -rf $(VENV) frontend/node_modules app/static/vendor build dist *.egg-info \
		.pytest_cache .ruff_cache .mypy_cache .hypothesis test-artifacts
	find . -path ./.git -prune -o \( -name __pycache__ -o -name '*.mo' \) -print0 \
		| xargs -0 rm -rf
