# make test   -- set up .venv (if needed) and run the test suite
# make book   -- set up .venv (if needed), execute the notebooks with papermill, build _build/html
# make lab    -- open the chapters (notebooks/*.md, MyST Markdown notebooks) in JupyterLab with the project's kernel
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROFILE ?= ci

.PHONY: test book lab setup clean

setup: $(STAMP)

# postBuild installs the chapters' kernel (alexnet) and the venv's JupyterLab setting that opens the
# chapters (Markdown) as notebooks, so that `.venv/bin/jupyter lab` needs no further step.
$(STAMP): pyproject.toml constraints.txt postBuild
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[plots,book,test]'
	bash postBuild $(PY)
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

book: $(STAMP)
	$(PY) -m alexnet book --profile $(PROFILE)

# postBuild again, for a .venv set up before it was part of the set-up.
lab: $(STAMP)
	bash postBuild $(PY)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

clean:
	rm -rf _build
