# One-command set-up and work: `make demo` and `make test` create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# torch is pinned here (a local CPU wheel on the project's machines); the package itself asks
# only for torch>=2.4.
TORCH_PIN := torch==2.13.0

.PHONY: install demo test test-slow bench clean clean-cache

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PIN)
	$(PY) -m pip install --quiet -e ".[test]" $(TORCH_PIN)
	touch $@

install: $(VENV)/.installed

# The main job on a fresh machine: train on the gnubg-generated corpus bundled with the package
# for about two minutes, then measure move-selection accuracy on its held-out latest games.
demo: install
	$(PY) -m comparison train --out runs/demo.pt --encoding tesauro198 --hidden 128 --epochs 40 --max-seconds 120
	$(PY) -m comparison bench accuracy --model runs/demo.pt pubeval gnubg random

test: install
	$(PY) -m pytest -q

test-slow: install
	$(PY) -m pytest -q -m slow

bench: install
	$(PY) scripts/bench_movegen.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
	find . -name __pycache__ -prune -exec rm -rf {} +

# Numba caches each compiled function with its own file's timestamp only: after editing
# rules/movegen.py, callers compiled in other files (rules/compiled_games.py, players/bots.py) keep the old code until this.
clean-cache:
	find games comparison -name '*.nbi' -delete -o -name '*.nbc' -delete
