# Two commands do all set-up: `make demo` and `make test`. Both bootstrap .venv from uv.lock.
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: demo test lint dev venv clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

$(STAMP): pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --python $(PYTHON)
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/adu demo

test: $(STAMP)
	$(VENV)/bin/ruff check adu_pipeline adu_pipeline_tests benchmarks
	$(VENV)/bin/pytest -n 2 --dist loadgroup

dev: $(STAMP)
	$(VENV)/bin/adu dev

lint: $(STAMP)
	$(VENV)/bin/ruff check adu_pipeline adu_pipeline_tests benchmarks
	$(VENV)/bin/ruff format --check adu_pipeline adu_pipeline_tests benchmarks

clean:
	rm -rf $(VENV) .tools
