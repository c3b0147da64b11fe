# The two commands: `make run` (embedded default) and `make test` (real services).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask
PORT ?= 5000
export FLASK_APP := wsgi:app

.PHONY: run serve test lint assets translations install install-test services browser clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed assets translations
install-test: $(VENV)/.installed-test assets translations

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

# KERN CSS and htmx come from pinned npm packages and are copied, never committed.
assets: node_modules/.package-lock.json
	mkdir -p grants/static/vendor/kern grants/static/vendor/htmx
	cp node_modules/@kern-ux/native/dist/kern.min.css grants/static/vendor/kern/
	cp -r node_modules/@kern-ux/native/dist/fonts grants/static/vendor/kern/
	cp node_modules/htmx.org/dist/htmx.min.js grants/static/vendor/htmx/

translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d grants/translations 2>/dev/null

# Collect the UI strings (`_`, `gettext`, lazy `_l`) from code and templates into messages.pot
# (git-ignored) and merge them into the German catalogue; then translate and `make translations`.
.PHONY: messages
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F grants/translations/babel.cfg -k _l --add-comments=Translators: \
		--project=grants --sort-by-file -o grants/translations/messages.pot .
	$(VENV)/bin/pybabel update -i grants/translations/messages.pot -d grants/translations -l de \
		--no-fuzzy-matching --ignore-obsolete

run: install
	mkdir -p var
	GRANTS_ENV=dev $(FLASK) db upgrade
	GRANTS_ENV=dev $(FLASK) seed-demo
	@echo "Serving on http://127.0.0.1:$(PORT) (mails are written to var/mail/)"
	GRANTS_ENV=dev $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The production-shaped stack: gunicorn, a Celery worker and beat on PostgreSQL and Redis.
serve: install services
	bash .ci/serve

services:
	bash .ci/services

# Debian packages the tests use: Chromium for the browser tests, pdftotext to read PDFs.
browser:
	@command -v chromium >/dev/null && command -v pdftotext >/dev/null || { \
	  apt-get update -qq && apt-get install -y -qq chromium poppler-utils; }

test: install-test services browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

lint: install-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) node_modules grants/static/vendor var
