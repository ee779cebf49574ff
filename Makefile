# make demo: build a SQLite demo app and run the audit job on it (creates .venv when missing).
# make test: run the test suite on SQLite, PostgreSQL and MariaDB (creates .venv when missing).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,notebook]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (zaikio-ops)" > /dev/null
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/zaikio-ops demo

test: $(INSTALLED)
	$(BIN)/python -m pytest

clean:
	rm -rf out .pytest_cache
