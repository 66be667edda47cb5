# Steunkaart: two commands, `make run` and `make test`.
# Both create .venv with python3 -m venv and install the exact pins first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Without STORE (or STEUNKAART_STORE) the app runs on the built-in demo, in a file of its own;
# `make run STORE=var/gemeente.gpkg` runs on the gemeente's own store (created empty when missing).
STORE ?= $(STEUNKAART_STORE)
DEMO_STORE := var/demo.gpkg
PORT ?= 8501
# Only this computer can open the app unless you say otherwise: `make run ADDRESS=0.0.0.0` listens on
# every network interface (see "Op een server" in the README: a reverse proxy with TLS is the usual way).
ADDRESS ?= $(or $(STREAMLIT_SERVER_ADDRESS),127.0.0.1)

.PHONY: run test lint bench screenshot clean

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 of nieuwer is nodig (gevonden: " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

run: $(VENV)/.installed
	$(PY) -c "from mapping.assets import ensure_static_assets; ensure_static_assets()"
ifeq ($(strip $(STORE)),)
	$(PY) cli.py demo --store "$(DEMO_STORE)" --if-missing
	env -u STEUNKAART_STORE STEUNKAART_DEMO_STORE="$(DEMO_STORE)" $(PY) -m streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS)
else
	STEUNKAART_STORE="$(STORE)" $(PY) -m streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS)
endif

test: $(VENV)/.installed-dev
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check .

# Every bench in one run (igraph and PySAL access are the peers: dev pins), ending with one summary table.
bench: $(VENV)/.installed-dev
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) var static .pytest_cache
