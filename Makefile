# make run  — set up .venv, migrate, load the demo county once, start web + scheduler on :5000
# make test — set up .venv, run every test (TEST_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test venv lint format i18n i18n-extract i18n-compile bench mutation vendor clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@echo "Installing Python packages into $(VENV) (about a minute, once)…"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: venv
	BIN=$(BIN) bash deploy/run-dev.sh

test: venv
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

i18n-extract: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location --sort-output \
		-o corrections/translations/messages.pot .
	$(BIN)/pybabel update -i corrections/translations/messages.pot -d corrections/translations \
		--no-fuzzy-matching
	$(BIN)/python tools/fill_en_catalog.py corrections/translations/en/LC_MESSAGES/messages.po
	@echo "Now translate the new entries in corrections/translations/zh_Hans_CN/LC_MESSAGES/messages.po (tools/translate.py fills them from a JSON file)"

i18n-compile: venv
	$(BIN)/pybabel compile -d corrections/translations --statistics

i18n: i18n-extract i18n-compile

# Mutation testing of corrections/checkin and corrections/alerts (long: see docs/testing.md).
mutation: venv
	$(BIN)/pip install --quiet 'mutmut>=3.3'
	$(BIN)/mutmut run
	$(BIN)/mutmut results

# Rebuild corrections/static/vendor from frontend/package.json (needs Node.js and npm; the result is committed).
vendor:
	cd frontend && npm ci --no-audit --no-fund && npm run vendor

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
