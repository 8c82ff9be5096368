# The course repository's commands. `make help` lists them; every target that needs Python creates
# the virtual environment first, so a bare machine needs only python3 (with venv) and make.

# The distribution's python3 when there is one: a worker dropped to an unprivileged user must be
# able to start the interpreter, and a pyenv or conda build in a private home folder is unreadable.
SYSTEM_PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
COURSEKIT := $(PY) -m coursekit
STAMP := $(VENV)/.installed
HW ?=
# pytest workers for make test: most tests wait on one grading at a time, so two fill two cores.
TEST_WORKERS ?= 2
SUBMISSION ?=
SUBMISSIONS ?=
RESULTS ?=
JOBS ?=
OUT ?=
SHARD ?=
ARCHIVE ?=

.DEFAULT_GOAL := help
.PHONY: help venv demo test stencils verify grade grade-all gradebook bench autograder image student release clean \
	lab figures pdf-tools

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  HW is one of (in course order): $$(grep -H '^week *=' assignments/*/week.toml | sed -E 's|assignments/([^/]+)/week.toml:week *= *([0-9]+).*|\2 \1|' | sort -n | cut -d' ' -f2 | tr '\n' ' ')"

$(STAMP): pyproject.toml
	@test -n "$(SYSTEM_PYTHON)" || { echo "error: no python3 found; install Python 3.11+ with venv"; exit 1; }
	@# As root, grading hides the checkout from student code with bubblewrap's namespaces; without
	@# it, grading as root refuses a world-readable checkout. Installed where apt-get can.
	@if [ "$$(id -u)" = 0 ] && ! command -v bwrap >/dev/null && command -v apt-get >/dev/null; then \
	  echo "installing bubblewrap (the worker's namespaces)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null 2>&1 \
	    || echo "warning: could not install bubblewrap; as root, grading will need a private checkout"; \
	fi
	@echo "creating the environment in $(VENV) (once; a few minutes)"
	$(SYSTEM_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP) ## create or update the virtual environment

demo: $(STAMP) ## the main job, offline: release every week into dist/ and grade the examples the Gradescope way
	$(COURSEKIT) demo

# The lab notebooks' written answers become a PDF through otter export's LaTeX route (xelatex and
# pandoc). As root, installed where apt-get can (Debian, about 100 MB download); elsewhere the export
# falls back to a plainer PDF drawn by matplotlib (see coursekit/lab.py), so nothing fails for want of TeX.
PDF_PACKAGES := texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc
pdf-tools: ## install xelatex and pandoc for the lab PDFs (as root, with apt-get)
	@if command -v xelatex >/dev/null && command -v pandoc >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing $(PDF_PACKAGES) (the lab notebooks' PDF export; once)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(PDF_PACKAGES)) >/dev/null 2>&1 \
	    || echo "warning: could not install them; lab PDFs use the plain (matplotlib) route"; \
	else echo "note: xelatex or pandoc is missing; lab PDFs use the plain (matplotlib) route (install $(PDF_PACKAGES) for otter's LaTeX route)"; fi

test: $(STAMP) pdf-tools ## the project's whole test suite (what CI runs)
	$(PY) -m pytest -q -n $(TEST_WORKERS)

stencils: $(STAMP) ## regenerate stencils/ from solutions/
	$(COURSEKIT) stencils

verify: $(STAMP) ## reference full marks, stencil zero, known-bad exact scores (HW=week)
	$(COURSEKIT) verify $(HW)

grade: $(STAMP) ## grade one submission as Gradescope would (HW=week SUBMISSION=path [RESULTS=file])
	@test -n "$(HW)" -a -n "$(SUBMISSION)" || { echo "usage: make grade HW=<week> SUBMISSION=<folder or zip> [RESULTS=<file>]"; exit 2; }
	$(COURSEKIT) grade $(HW) $(SUBMISSION) $(if $(RESULTS),--results $(RESULTS))

grade-all: $(STAMP) ## grade a whole class in parallel, resumably, then its gradebook (HW=week SUBMISSIONS=export [JOBS=n] [OUT=dir] [SHARD=i/n])
	@test -n "$(HW)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade-all HW=<week> SUBMISSIONS=<Gradescope export, or folder of submissions> [JOBS=<n>] [OUT=<folder>] [SHARD=<i>/<n>]"; exit 2; }
	$(COURSEKIT) grade-all $(HW) $(SUBMISSIONS) $(if $(JOBS),--jobs $(JOBS)) $(if $(OUT),--out $(OUT)) $(if $(SHARD),--shard $(SHARD)) $(if $(ARCHIVE),--archive $(ARCHIVE))

gradebook: $(STAMP) ## gradebook CSV, pass rates, flagged list and charts from grade-all's results (HW=week SUBMISSIONS=export [RESULTS="dir ..."] [OUT=dir])
	@test -n "$(HW)" -a -n "$(SUBMISSIONS)" || { echo "usage: make gradebook HW=<week> SUBMISSIONS=<the export grade-all graded> [RESULTS=\"<results folder> ...\"] [OUT=<folder>]"; exit 2; }
	$(COURSEKIT) gradebook $(HW) $(SUBMISSIONS) $(if $(RESULTS),--results $(RESULTS)) $(if $(OUT),--out $(OUT)) $(if $(ARCHIVE),--archive $(ARCHIVE))

autograder: $(STAMP) ## dist/gradescope/<week>.zip, ready to upload (HW=week)
	@test -n "$(HW)" || { echo "usage: make autograder HW=<week>"; exit 2; }
	$(COURSEKIT) autograder $(HW)

student: $(STAMP) ## dist/student/<week>/, a ready-to-push starter repository (HW=week)
	@test -n "$(HW)" || { echo "usage: make student HW=<week>"; exit 2; }
	$(COURSEKIT) student $(HW)

release: $(STAMP) ## verify + autograder + student, with a summary; refuses on any leak (HW=week)
	@test -n "$(HW)" || { echo "usage: make release HW=<week>"; exit 2; }
	$(COURSEKIT) release $(HW)

image: $(STAMP) ## build the CUDA-enabled grading image with Docker (HW=week, default perceptron)
	$(COURSEKIT) image $(if $(HW),$(HW),perceptron)

lab: $(STAMP) pdf-tools ## run a week's lab notebook headless into dist/lab/ (HW=week [STENCIL=1])
	@test -n "$(HW)" || { echo "usage: make lab HW=<week> [STENCIL=1]"; exit 2; }
	$(COURSEKIT) lab $(HW) $(if $(STENCIL),--stencil)

figures: $(STAMP) ## regenerate the README's figures (docs/figures/) from the lab notebooks
	$(COURSEKIT) figures

bench: $(STAMP) ## grading time, peak memory and harness overhead per week; batch grading throughput
	$(COURSEKIT) bench $(HW)

clean: ## remove build outputs (dist/, caches); keeps the environment
	rm -rf dist .pytest_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +
