# The README's two commands: `make up` runs the whole system with demo data, `make test` runs the
# tests. Each creates the virtual environment it needs. Without DATABASE_URL / REDIS_URL they
# start an embedded PostgreSQL and Redis under .data/.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: up test smoke chaos screenshots lint vendor bench-vrptw bench-fieldday bench-emergency bench-http bench-day bench-national bench-intake bench-board bench-mobile bench-kpis bench-chat clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[embedded,dev]"
	rm -f $(VENV)/.installed-*; touch $@

up: $(STAMP)
	$(PY) -m devtools.devstack up

test: $(STAMP)
	$(PY) -m devtools.devstack run --profile test -- $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Front-end libraries from the npm registry into static/vendor/ (committed: pages use no CDN).
# Pin versions in static/vendor/vendor.json; `$(PY) -m devtools.vendor --check` needs no network.
vendor: $(STAMP)
	$(PY) -m devtools.vendor

# Benchmarks: each prints a table and writes bench/results/<name>.json (see bench/README.md).
bench-vrptw: $(STAMP)
	$(PY) -m bench.vrptw

bench-fieldday: $(STAMP)
	$(PY) -m bench.fieldday

bench-emergency: $(STAMP)
	$(PY) -m devtools.devstack run --profile bench -- $(PY) -m bench.emergency_loop

bench-http: $(STAMP)
	$(PY) -m devtools.devstack run --profile bench -- $(PY) -m bench.http_servers

bench-day: $(STAMP)
	$(PY) -m devtools.devstack run --profile bench -- $(PY) -m bench.day
	$(PY) -m devtools.devstack run --profile bench -- $(PY) -m bench.day --variant tight

bench-national: $(STAMP)
	$(PY) -m devtools.devstack run --profile bench -- $(PY) -m bench.national

bench-intake: $(STAMP)
	$(PY) -m devtools.devstack run --profile bench -- $(PY) -m bench.intake

bench-board: $(STAMP)
	$(PY) -m devtools.devstack run --profile bench -- $(PY) -m bench.board

bench-mobile: $(STAMP)
	$(PY) -m devtools.devstack run --profile bench -- $(PY) -m bench.mobile

bench-kpis: $(STAMP)
	$(PY) -m devtools.devstack run --profile bench -- $(PY) -m bench.kpis

bench-chat: $(STAMP)
	$(PY) -m devtools.devstack run --profile bench -- $(PY) -m bench.chat

# Faults injected into the real topology (bench/chaos.py): private embedded servers, bounded.
chaos: $(STAMP)
	env -u DATABASE_URL -u REDIS_URL $(PY) -m devtools.devstack run --profile chaos -- $(PY) -m bench.chaos $(CHAOS_ARGS)

# Each user's screen for the README (docs/screenshots/), from the demo data.
screenshots: $(STAMP)
	$(PY) -m devtools.devstack run --profile screenshots -- $(PY) -m devtools.screenshots

clean:
	rm -rf .data $(VENV)

smoke: $(STAMP)
	env -u DATABASE_URL -u REDIS_URL $(PY) -m devtools.smoke
