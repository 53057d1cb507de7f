# Two commands for people: `make run` (set up and start the bot) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint catalogs bench bench-smoke

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot run

check: $(STAMP)
	$(BIN)/python -m bot content check

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP)
	$(BIN)/python -m bot content check
	$(BIN)/python -m pytest

# Staff: after changing user-facing strings in code, refresh the catalogs, then translate.
catalogs: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k t -k N_ -k plural:1,2 --no-location --sort-output --width 100 \
		--project=migrant-help-bot -o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --width 100

# The benchmark: the bot and a bare python-telegram-bot echo bot against a local fake Telegram.
bench: $(STAMP)
	$(BIN)/python -m bench

bench-smoke: $(STAMP)
	$(BIN)/python -m bench --smoke
