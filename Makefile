# One place that installs and runs everything: `make demo` and `make test` on a fresh
# Debian machine with Node 20, Python 3.11 and access to the package registries.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VENV019 := .venv-kedro019
PY := $(VENV)/bin/python
PY019 := $(VENV019)/bin/python
# chromium, cmark-gfm and the fonts render summaries as GitHub does (__tests__/github-render.test.ts).
APT_PACKAGES := buildah skopeo docker-registry debootstrap chromium cmark-gfm fonts-liberation fonts-noto-color-emoji

.PHONY: all deps node-deps python-deps system-deps build check-dist lint test test-unit test-python bench demo clean

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@
node-deps: node_modules/.installed

$(VENV)/.installed: requirements/dev.txt requirements/kedro1.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@

$(VENV019)/.installed: requirements/kedro019.txt
	$(PYTHON) -m venv $(VENV019)
	$(PY019) -m pip install --quiet --upgrade pip
	$(PY019) -m pip install --quiet -r requirements/kedro019.txt
	touch $@

python-deps: $(VENV)/.installed $(VENV019)/.installed

# Debian packages for real image builds, the local registry and the rendering test (installed only when missing).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

deps: node-deps python-deps system-deps

build: node-deps
	npm run build

# dist/ is the product: it must be what src/ and python/ build to.
check-dist: build
	@if [ -n "$$(git status --porcelain -- dist)" ]; then \
	  git status --short -- dist; echo "dist/ is stale: run 'make build' and commit dist/."; exit 1; fi

lint: node-deps
	npx eslint .
	npx prettier --check .
	node scripts/readme-tables.mjs --check

test-unit: node-deps python-deps
	KEDRO_SFN_TEST_PYTHON=$(CURDIR)/$(PY) KEDRO_SFN_TEST_PYTHON_019=$(CURDIR)/$(PY019) npm test

test-python: python-deps
	$(PY) -m pytest -q python/tests
	$(PY019) -m pytest -q python/tests

# Scheduling goals on the vendored shared graphs and on unseen ones, and compile speed.
bench: build python-deps
	$(PY) bench/score.py
	$(PY) bench/compile_speed.py

test: deps check-dist lint test-unit test-python
	$(PY) bench/score.py

demo: deps build
	$(PY) scripts/demo.py

clean:
	rm -rf $(VENV) $(VENV019) node_modules .local-stack .demo
