# Kartoteka: `make run` starts the CRM, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/kartoteka
VENDOR := kartoteka/core/static/vendor

.PHONY: run test test-sqlite test-postgres lint bench install assets messages clean

$(BIN)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENDOR)/.built: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/bootstrap/dist/css/bootstrap.min.css $(VENDOR)/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $(VENDOR)/
	cp node_modules/sortablejs/Sortable.min.js $(VENDOR)/
	cp node_modules/fullcalendar/main.min.js $(VENDOR)/fullcalendar.min.js
	cp node_modules/fullcalendar/main.min.css $(VENDOR)/fullcalendar.min.css
	cp node_modules/fullcalendar/locales/ru.js $(VENDOR)/fullcalendar-ru.js
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.umd.min.js
	touch $@

install: $(BIN)/.installed
assets: $(VENDOR)/.built

run: install assets
	$(BIN)/kartoteka firststart
	$(BIN)/kartoteka serve

test: install assets test-sqlite test-postgres

test-sqlite: install assets
	$(BIN)/python -m pytest -n 2 -q

test-postgres: install assets
	@if pg_isready -q -d "$(PG_TEST_URL)" 2>/dev/null || $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)'.rsplit('/',1)[0]+'/postgres', connect_timeout=3)" 2>/dev/null; then \
		DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -n 2 -q; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable at $(PG_TEST_URL): under CI this is a failure." >&2; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $(PG_TEST_URL): skipping the PostgreSQL run." >&2; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy kartoteka
	$(BIN)/bandit -ll -q -r kartoteka -x "*/migrations/*" 2>/dev/null
	$(BIN)/kartoteka makemigrations --check --dry-run
	$(BIN)/kartoteka check --fail-level WARNING

messages: install
	cd kartoteka && ../$(BIN)/kartoteka makemessages -l ru -l en --no-obsolete --no-location --ignore "static/*"
	cd kartoteka && ../$(BIN)/kartoteka compilemessages --ignore "static/*"

bench: install assets
	$(BIN)/python -m bench $(BENCH_ARGS)
	$(BIN)/python -m bench.imports $(IMPORT_BENCH_ARGS)
	$(BIN)/python -m bench.kanban $(KANBAN_BENCH_ARGS)
	$(BIN)/python -m bench.forecast $(FORECAST_BENCH_ARGS)
	$(BIN)/python -m bench.planner $(PLANNER_BENCH_ARGS)
	$(BIN)/python -m bench.telephony $(TELEPHONY_BENCH_ARGS)
	$(BIN)/pip install --quiet --no-deps -r requirements-bench.lock
	$(BIN)/python -m bench.dedup $(DEDUP_BENCH_ARGS)
	$(BIN)/python -m bench.dedup_db $(DEDUP_DB_BENCH_ARGS)
	$(BIN)/python -m bench.analytics $(ANALYTICS_BENCH_ARGS)
	$(BIN)/python -m bench.asterisk $(ASTERISK_BENCH_ARGS)
	$(BIN)/python -m bench.callcenter_math $(CALLCENTER_MATH_BENCH_ARGS)
	$(BIN)/python -m bench.dashboards $(DASHBOARDS_BENCH_ARGS)
	$(BIN)/python -m bench.kpi $(KPI_BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
