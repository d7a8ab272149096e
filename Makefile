# podunit: build, test, install. `make help` lists the targets.
SHELL := /bin/bash
BUN ?= node_modules/.bin/bun
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
# systemd looks for units and generators below /usr/local/lib/systemd as well as /usr/lib/systemd.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSTEMDGENERATORDIR ?= $(PREFIX)/lib/systemd/system-generators
BUILD_FLAGS := --compile --bytecode --no-compile-autoload-dotenv --no-compile-autoload-bunfig
SRC := $(shell find src -name '*.ts') package.json

.PHONY: setup all build test test-unit test-system test-vm soak lint demo bench clean install uninstall help deps

all: build

help:
	@echo "make setup        install everything needed on Debian 12 (apt packages as root, npm packages)"
	@echo "make deps         install the npm packages only (into node_modules)"
	@echo "make build        compile dist/podunit (one self-contained executable)"
	@echo "make test         pure tests, system tests against a real systemd in a lab, then the VM test"
	@echo "make test-unit    pure tests only (no root needed)"
	@echo "make test-system  system tests only (root: boots test labs)"
	@echo "make test-vm      the VM test only (root: pure cgroup v2 and a reboot in a QEMU VM)"
	@echo "make soak         the long run: COUNT start/stop cycles (default 500; make test runs 20)"
	@echo "make lint         type-check"
	@echo "make demo         start a demo in a lab and show it"
	@echo "make bench        benchmarks: podunit against Podman and the systemd-run floor (installs Podman)"
	@echo "make install      install the binary, units and generator link under PREFIX ($(PREFIX)); DESTDIR for staging"
	@echo "make uninstall    remove what make install put in place"

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: node_modules/.package-lock.json

# Everything a fresh Debian 12 machine needs (Debian packages as root, npm packages).
setup:
	bash contrib/setup-debian.sh

dist/podunit: $(SRC) node_modules/.package-lock.json
	@mkdir -p dist
	$(BUN) build $(BUILD_FLAGS) --outfile $@ src/main.ts

build: dist/podunit

lint: deps
	node_modules/.bin/tsc --noEmit -p .
	$(BUN) contrib/lint-imports.ts

test-unit: deps
	$(BUN) test --timeout 20000 test/unit

test-system: build
	$(BUN) test --timeout 120000 test/system

test-vm: build
	$(BUN) test --timeout 2700000 test/vm

test: deps build
	$(BUN) run test/run.ts

# The long run alone, with more cycles than `make test` gives it.
COUNT ?= 500
soak: build
	PODUNIT_SOAK_COUNT=$(COUNT) $(BUN) test --timeout 3600000 test/system/soak.test.ts

demo: build
	$(BUN) run test/lab/demo.ts

bench: build
	bash contrib/setup-debian.sh --bench
	$(BUN) run bench/binary.ts
	$(BUN) run bench/plan.ts
	$(BUN) run bench/generator.ts
	$(BUN) run bench/pods.ts
	$(BUN) run bench/image.ts

# The generator is the binary itself, run through a link named podunit-generator.
install: build
	install -Dm755 dist/podunit $(DESTDIR)$(BINDIR)/podunit
	install -Dm644 units/podunit.slice $(DESTDIR)$(SYSTEMDUNITDIR)/podunit.slice
	install -d $(DESTDIR)$(SYSTEMDGENERATORDIR)
	ln -sfn $(BINDIR)/podunit $(DESTDIR)$(SYSTEMDGENERATORDIR)/podunit-generator

uninstall:
	rm -f $(DESTDIR)$(SYSTEMDGENERATORDIR)/podunit-generator $(DESTDIR)$(SYSTEMDUNITDIR)/podunit.slice $(DESTDIR)$(BINDIR)/podunit

clean:
	rm -rf dist
