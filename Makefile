# The two commands: `make run` (the whole stack on embedded defaults) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-fast venv seed-large schema clean help

help:
	@echo "make run        start the stack (monolith on :8001) with seeded SQLite data"
	@echo "make test       run the whole suite on SQLite, then on PostgreSQL when it answers"
	@echo "make test-fast  the suite without the slow end-to-end tests, SQLite only"
	@echo "make seed-large seed a fresh var/ database with the large data set"

# (Re)create the virtualenv when the project's dependency files change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip==26.3"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	# Playwright (the dashboard's browser test) after dev and without the constraints: it needs a newer
	# greenlet than httpbin pins, which httpbin never imports (pyproject.toml, extra "browser").
	# pip warns about that conflict and exits 0.
	$(BIN)/python -m pip install -q -e ".[browser]"
	touch $(STAMP)

venv: $(STAMP)

run: venv
	bin/run-stack

test: venv
	bin/run-tests

test-fast: venv
	SKIP_POSTGRES=1 bin/run-tests -m "not slow"

seed-large: venv
	DJANGO_ENV=development $(BIN)/python manage.py migrate -v0
	DJANGO_ENV=development $(BIN)/python manage.py seed --size large

schema: venv
	DJANGO_ENV=development $(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/schema.yml

clean:
	rm -rf $(VENV) var .pytest_cache

# The router's overhead against no proxy, nginx and a naive aiohttp proxy; writes docs/benchmarks.md.
.PHONY: bench-router
bench-router: venv
	$(BIN)/python bench/bench_router.py

# mitmproxy for `strangler parity record`, in its own virtualenv: mitmproxy 11 pins h11<=0.14 and would
# drag httpcore/h11 back in the project's (DESIGN.md §10); 11.0.2 is the last release for Python 3.11.
MITM_VENV    := .venv-mitm
MITMPROXY    := 11.0.2
MITM_STAMP   := $(MITM_VENV)/.installed-mitmproxy-$(MITMPROXY)
.PHONY: mitm-venv
$(MITM_STAMP):
	test -x $(MITM_VENV)/bin/python || $(PYTHON) -m venv $(MITM_VENV)
	echo "*" > $(MITM_VENV)/.gitignore
	$(MITM_VENV)/bin/python -m pip install -q "mitmproxy==$(MITMPROXY)"
	touch $(MITM_STAMP)

mitm-venv: $(MITM_STAMP)

# Shadow traffic's cost to latency: the inventory group on legacy vs in shadow at 100 %, 300 req/s, open loop;
# writes its own section of docs/benchmarks.md.
.PHONY: bench-shadow
bench-shadow: venv
	$(BIN)/python bench/bench_shadow.py

# The inventory service against the monolith (stock list/detail, one worker each), relay lag at 200 writes/s
# and backfill rows/s on the large seed; writes its own section of docs/benchmarks.md.
.PHONY: bench-inventory
bench-inventory: venv
	$(BIN)/python bench/bench_inventory.py
