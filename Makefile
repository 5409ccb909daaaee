# From Rank to LoRA / 從矩陣的秩到 LoRA
#   make book    create .venv, install, build the HTML book into _build/html
#   make test    create .venv if missing, install, run every test (unit, notebooks, book build)
#   make lab     open your own copies of the chapters (learner/en, learner/zh) in JupyterLab
#   make serve   serve the built book on http://127.0.0.1:8000
#   make pdf     the print edition: _build/pdf/rank-to-lora-en.pdf and rank-to-lora-zh.pdf (XeLaTeX)
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

.PHONY: install book test unit notebooks build-book site pdf pdf-check lab learner lab-refresh serve clean-notebooks clean

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

test: unit notebooks build-book site pdf pdf-check

unit: $(STAMP)
	$(PY) -m pytest tests --ignore=tests/site --ignore=tests/pdf

notebooks: $(STAMP)
	$(PY) -m pytest --nbval-lax --nbval-cell-timeout=600 -p no:cacheprovider chapters

build-book: $(STAMP)
	$(BUILD)

site: $(STAMP)
	$(PY) -m pytest tests/site

# The print edition, one PDF per language (Jupyter Book 1's LaTeX builder, XeLaTeX, xeCJK). It
# reuses the notebooks the HTML build executed when they are current, else executes them once.
# Needs Debian's texlive-xetex texlive-lang-chinese latexmk fonts-noto-cjk (see README).
pdf: $(STAMP)
	$(PY) tools/build_pdf.py
	@echo "The PDFs are in _build/pdf: rank-to-lora-en.pdf (English), rank-to-lora-zh.pdf (中文)"

pdf-check: $(STAMP)
	$(PY) -m pytest tests/pdf

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
