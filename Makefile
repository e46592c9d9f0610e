# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
SANDBOX_PORT ?= 12111
SANDBOX_WEBHOOK_SECRET := whsec_development_sandbox_secret

.PHONY: run test install lock lint typecheck bench clean catalogues messages cldr-report

# Translations: .po files are the sources in git; the .mo files gettext reads are built here.
CATALOGUES := $(wildcard donate/translations/*/LC_MESSAGES/messages.po)
COMPILED_CATALOGUES := $(CATALOGUES:.po=.mo)

# Installs come from requirements.lock only: exact versions, checked against their hashes. The
# project itself is installed apart, without dependencies, so nothing unlocked slips in.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.12 or similar.")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): on Debian or Ubuntu, apt-get install python3-venv"; exit 1; }
	@echo "== Installing the locked dependencies into $(VENV): the first time takes a minute or two,"
	@echo "== with little output while pip downloads and unpacks them."
	$(PY) -m pip install --quiet --upgrade pip
	@echo "== pip is up to date; installing $$(grep -c '^[a-z]' requirements.lock) locked packages..."
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) .ci/check_lock.py
	@echo "== Dependencies installed."
	@touch $(STAMP)

# Refresh requirements.lock after changing dependencies in pyproject.toml (keeps other pins);
# `make lock UPGRADE=--upgrade` or `UPGRADE="--upgrade-package babel"` moves versions on purpose.
lock: $(STAMP)
	$(PY) -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet $(UPGRADE) --extra postgres --extra redis --extra test \
	  --build-deps-for editable --generate-hashes --allow-unsafe --no-emit-index-url \
	  --no-emit-find-links --strip-extras -o requirements.lock pyproject.toml
	$(PY) .ci/check_lock.py

install: $(STAMP) catalogues

catalogues: $(COMPILED_CATALOGUES)

donate/translations/%/LC_MESSAGES/messages.mo: donate/translations/%/LC_MESSAGES/messages.po | $(STAMP)
	$(VENV)/bin/pybabel compile --statistics -i $< -o $@

# After changing text in the widget's code or templates: refresh the template and every language.
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg --add-location=file --sort-by-file --project=donate \
	  --copyright-holder="donate contributors" -o donate/translations/messages.pot .
	$(VENV)/bin/pybabel update -i donate/translations/messages.pot -d donate/translations \
	  --width=100 --no-fuzzy-matching

# Serve the demo on SQLite; with no STRIPE_SECRET_KEY, payments go to the local sandbox.
# Return URLs and embed codes follow the address served on (HOST, PORT) unless PUBLIC_URL is set.
run: export PUBLIC_URL ?= http://$(HOST):$(PORT)
run: $(STAMP) catalogues
	@mkdir -p instance
	$(PY) -m flask --app wsgi db upgrade
	$(PY) -m flask --app wsgi donate demo
	@# The outbox worker sends receipts and password resets beside the app: through SMTP_HOST
	@# when it is set, else into the log and instance/mail/ (see README, Mail).
	@$(PY) -m flask --app wsgi donate worker & worker_pid=$$!; \
	trap 'kill $$worker_pid 2>/dev/null' EXIT INT TERM; \
	if [ -z "$$STRIPE_SECRET_KEY" ] && [ -f sandbox/__main__.py ]; then \
	  echo "No STRIPE_SECRET_KEY: payments are simulated by the local Stripe sandbox on port $(SANDBOX_PORT)."; \
	  $(PY) -m sandbox --host 127.0.0.1 --port $(SANDBOX_PORT) --state instance/sandbox.json \
	    --webhook-url http://$(HOST):$(PORT)/stripe/webhook --webhook-secret $(SANDBOX_WEBHOOK_SECRET) & \
	  sandbox_pid=$$!; trap 'kill $$sandbox_pid $$worker_pid 2>/dev/null' EXIT INT TERM; \
	  export STRIPE_SECRET_KEY=sk_test_sandbox STRIPE_API_BASE=http://127.0.0.1:$(SANDBOX_PORT) \
	    STRIPE_WEBHOOK_SECRET=$(SANDBOX_WEBHOOK_SECRET); \
	  for attempt in $$(seq 1 100); do \
	    $(PY) -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
	      http://127.0.0.1:$(SANDBOX_PORT)/_sandbox 2>/dev/null && break; \
	    sleep 0.2; \
	  done; \
	  $(PY) -m flask --app wsgi donate stripe-setup --portal-only || exit 1; \
	  echo "Serving on http://$(HOST):$(PORT) (PUBLIC_URL=$$PUBLIC_URL)"; \
	  $(PY) -m flask --app wsgi run --host $(HOST) --port $(PORT); \
	else \
	  echo "Serving on http://$(HOST):$(PORT) (PUBLIC_URL=$$PUBLIC_URL)"; \
	  $(PY) -m flask --app wsgi run --host $(HOST) --port $(PORT); \
	fi

# The whole suite, on SQLite unless TEST_DATABASE_URL names a PostgreSQL database.
test: $(STAMP) catalogues
	$(PY) -m pytest $(PYTEST_ARGS)

# Where the installed Babel's CLDR disagrees with our committed currency table, and whether our
# parser reads back what our formatter writes in every reader locale: a report, not a test.
cldr-report: $(STAMP)
	$(PY) -m donate.cldr_report

lint: $(STAMP)
	$(PY) -m ruff format --check donate sandbox tests bench
	$(PY) -m ruff check donate sandbox tests bench

typecheck: $(STAMP)
	$(PY) -m mypy donate sandbox

bench: $(STAMP)
	@ls bench/*.py >/dev/null 2>&1 && for script in bench/*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) instance/*.sqlite3* .pytest_cache
