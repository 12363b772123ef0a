# Two commands on a fresh machine (Python 3.11+):  make demo  |  make test
# Each creates .venv and installs the package with its dependencies first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test install clean notebooks

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "planner needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,geometry-sources]'
	$(BIN)/python -m pip install --quiet --no-deps powergenome==0.8.0  # only its IPM region outlines (zones rebuild test)
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/planner solve scenarios/us_china_2030.yaml -o results/us_china_2030

test: $(STAMP)
	$(BIN)/python -m pytest

notebooks: $(STAMP)  ## open notebooks/ in JupyterLab (installs the `notebooks` extra)
	$(BIN)/python -m pip install --quiet -e '.[notebooks]'
	cd notebooks && ../$(BIN)/jupyter lab

clean:
	rm -rf $(VENV) results .pytest_cache
