# From Rank to LoRA / 從矩陣的秩到 LoRA
#   make book    create .venv, install, build the HTML book into _build/html
#   make test    create .venv if missing, install, run every test (unit, notebooks, book build)
#   make lab     open your own copies of the chapters (learner/en, learner/zh) in JupyterLab
#   make serve   serve the built book on http://127.0.0.1:8000
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# --all: every page is rebuilt and every notebook executed, every time. Without it Sphinx skips
# pages whose source did not change, so a change to lowrank_utils/ would go untested.
BUILD  := $(VENV)/bin/jupyter-book build . --all -W -n --keep-going
# A repeat install must work offline: the dependencies are already satisfied, and the package
# is built with the setuptools already in .venv (no isolated build that fetches it again).
PIP    := $(PY) -m pip install --disable-pip-version-check
INSTALL_DEPS := $(PIP) -r requirements.txt
INSTALL_PKG  := $(PIP) --no-build-isolation --no-deps -e .

.PHONY: install book test unit notebooks build-book site lab learner lab-refresh serve clean-notebooks clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(INSTALL_DEPS)
	$(INSTALL_PKG)
	touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(BUILD)
	@echo ""
	@echo "The book is in _build/html. Open _build/html/index.html in a browser, or run: make serve"

test: unit notebooks build-book site

unit: $(STAMP)
	$(PY) -m pytest tests --ignore=tests/site

notebooks: $(STAMP)
	$(PY) -m pytest --nbval-lax --nbval-cell-timeout=300 -p no:cacheprovider chapters

build-book: $(STAMP)
	$(BUILD)

site: $(STAMP)
	$(PY) -m pytest tests/site

# Learner copies: one language each, solutions folded, no solution code, no outputs. A copy you
# changed is never overwritten; `make lab-refresh NB=01_rank` replaces one (keeping a .bak).
learner: $(STAMP)
	$(PY) tools/learner_copies.py

lab: learner
	$(VENV)/bin/jupyter lab learner

lab-refresh: $(STAMP)
	@test -n "$(NB)" || (echo "usage: make lab-refresh NB=01_rank" && false)
	$(PY) tools/learner_copies.py --refresh $(NB)

serve:
	@test -f _build/html/index.html || $(MAKE) book
	$(PY) -m http.server --directory _build/html --bind 127.0.0.1 8000

clean-notebooks: $(STAMP)
	$(PY) tools/strip_outputs.py chapters/*.ipynb

clean:
	rm -rf _build
