# Everything a fresh machine needs is created from here: the venv, the Python and npm
# packages, Chromium for the browser tests and the PostgreSQL test database.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
WEB_NODE := cti_middleware/web/node_modules/.installed
BROWSER_NODE := tests/browser/node_modules/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test unit lint bench venv node chromium testdb clean

demo: $(STAMP) $(WEB_NODE)
	$(VENV)/bin/cti-middleware demo

test: $(STAMP) $(WEB_NODE) $(BROWSER_NODE) chromium testdb
	$(VENV)/bin/ruff check cti_middleware tests
	$(VENV)/bin/pytest -q

unit: $(STAMP)
	$(VENV)/bin/pytest -q tests/unit

lint: $(STAMP)
	$(VENV)/bin/ruff check cti_middleware tests

bench: $(STAMP) $(WEB_NODE) testdb
	$(PY) -m cti_middleware.bench

venv: $(STAMP)

# setup.cfg is the one place dependencies are declared; pip installs them, then the
# package itself is linked into the venv in development mode (setup.cfg-only projects
# are not accepted by `pip install -e`).
$(STAMP): setup.cfg
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 'setuptools<70' wheel
	$(PY) -c 'import configparser as c; p=c.ConfigParser(); p.read("setup.cfg"); print(p["options"]["install_requires"]); print(p["options.extras_require"]["test"])' \
		| grep -v '^\s*$$' > $(VENV)/requirements.txt
	$(PY) -m pip install -q -r $(VENV)/requirements.txt
	$(PY) -c 'from setuptools import setup; setup()' -q develop --no-deps
	touch $@

node: $(WEB_NODE) $(BROWSER_NODE)

$(WEB_NODE): cti_middleware/web/package.json
	cd cti_middleware/web && npm install --no-audit --no-fund --loglevel=error
	touch $@

$(BROWSER_NODE): tests/browser/package.json
	cd tests/browser && npm install --no-audit --no-fund --loglevel=error
	touch $@

chromium:
	@{ test -x /usr/bin/chromium && test -d /usr/share/fonts/opentype/noto; } || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# The integration tests create and drop their own databases; this only makes sure the
# server answers and the `test` database exists.
testdb:
	@psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1 \
		|| psql -h 127.0.0.1 -U postgres -d postgres -c 'create database test'

clean:
	rm -rf $(VENV) cti_middleware/web/node_modules tests/browser/node_modules
