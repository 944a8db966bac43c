# tagpilot — the two set-up commands are `make demo` and `make test`; both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Go builds the test control plane; its usual install place, for shells that never read a profile
export PATH := $(PATH):/usr/local/go/bin
APT_PACKAGES := git docker-registry apache2-utils openssh-server openssh-client age gnupg iproute2 chromium
# file each package provides, so a present tool skips apt entirely
APT_PROBES := /usr/bin/git /usr/bin/docker-registry /usr/bin/htpasswd /usr/sbin/sshd /usr/bin/ssh /usr/bin/age /usr/bin/gpg /sbin/ip /usr/bin/chromium

.PHONY: setup system-packages kube-binaries flux-binaries test lint bench bench-packages bench-scale demo fuzz clean

setup: system-packages $(STAMP)

system-packages:
	@missing=0; for f in $(APT_PROBES); do [ -e $$f ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  echo "installing Debian packages: $(APT_PACKAGES)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    -o DPkg::Lock::Timeout=300 $(APT_PACKAGES) >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

# kube-apiserver and etcd for tests/kube, built from their Go modules into the user's cache,
# and Flux's CRDs generated from its api modules for the CRD comparison (first run only; a
# cached run costs a Python start-up).
kube-binaries: setup
	$(BIN)/python -m tests.kube.build
	$(BIN)/python -m tests.kube.upstream

# Flux's image controllers and the upstream CRDs, for bench_cluster only (never for `make test`).
# Exit 2: only the CRDs could be made (the module proxy refused a controller's module).
flux-binaries: setup
	$(BIN)/python -m tests.kube.flux_build

# one worker per core, at most 4: the suite waits on real servers more than it computes
test: setup kube-binaries
	$(BIN)/python -m pytest -q -m "not slow" -n auto --maxprocesses 4

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports

# the baselines the benchmarks compare against
bench-packages:
	@if [ ! -e /usr/bin/skopeo ] || [ ! -e /usr/bin/curl ]; then \
	  echo "installing Debian packages for the benchmarks: skopeo curl"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    -o DPkg::Lock::Timeout=300 skopeo curl >/dev/null; \
	fi

# A Flux build that fails leaves bench_cluster to report Flux as not available.
bench: setup bench-packages kube-binaries
	-@$(MAKE) --no-print-directory flux-binaries
	$(BIN)/python -m bench

# The daemon at 5,000 repositories x 400 tags (about 20 minutes; SCALE_ARGS="--size small" for a
# quick run); writes bench/results/scale.json.  Not part of `make bench`.
bench-scale: setup
	$(BIN)/python -m bench.scale $(SCALE_ARGS)

# The same objects in a real control plane: one `tagpilot controller`, then two shards (about
# 15 minutes at 1,000 repositories x 400 tags; SCALE_CLUSTER_ARGS="--repositories 200" for a
# quicker run); writes bench/results/scale-cluster.json.  Not part of `make bench`.
.PHONY: bench-scale-cluster
bench-scale-cluster: setup kube-binaries
	$(BIN)/python -m bench.scale_cluster $(SCALE_CLUSTER_ARGS)

fuzz: setup
	$(BIN)/python -m pytest -q -m slow

demo: setup
	$(BIN)/python -m demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
