# The two commands a newcomer needs: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_WORKERS ?= 2
PORT ?= 5000

.PHONY: install demo test cli-check bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install  ## migrate, load demo data, publish the samples, serve on http://127.0.0.1:$(PORT) with one worker beside it
	$(VENV)/bin/flask --app registry demo --serve --port $(PORT)

test: install  ## the whole suite (SQLite; PostgreSQL too when REGISTRY_TEST_POSTGRES_URL is set)
	$(PY) -m pytest -n $(PYTEST_WORKERS)

cli-check:  ## solreg installed alone: a fresh venv with pip install '.[cli]' runs --help and checks a sample
	.ci/cli-check

bench: install  ## benchmarks; each writes bench/results/<name>.md
	$(PY) -m pip install -q -e '.[test,bench]'
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) instance .pytest_cache
