# Every target bootstraps .venv from pyproject.toml (pinned by constraints.txt); nothing is installed globally.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export AFTERSALES_ENV ?= development

.PHONY: venv run serve migrate demo test lint openapi openapi-check bench docker clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

run: venv  ## migrate the embedded SQLite database, load demo data, print tokens, serve on 127.0.0.1:8000
	$(BIN)/aftersales migrate
	$(BIN)/aftersales demo
	$(BIN)/aftersales serve

serve: venv
	$(BIN)/aftersales serve

migrate: venv
	$(BIN)/aftersales migrate

demo: venv
	$(BIN)/aftersales demo

test: venv  ## whole suite on SQLite and PostgreSQL (REQUIRE_POSTGRES=1: PostgreSQL must be there)
	$(BIN)/pytest -n 2 --dist loadgroup

lint: venv
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench migrations
	$(BIN)/lint-imports

openapi: venv  ## regenerate the committed openapi.yaml
	$(BIN)/python -m app.openapi_document write openapi.yaml

openapi-check: venv  ## fail when openapi.yaml no longer matches the app
	$(BIN)/python -m app.openapi_document check openapi.yaml

bench: venv  ## load benchmarks against a real server on PostgreSQL
	$(BIN)/python -m bench

docker:
	docker build -t aftersales:latest .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache aftersales.db* attachments
