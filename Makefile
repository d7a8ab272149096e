# podunit: build, test, install. `make help` lists the targets.
SHELL := /bin/bash
BUN ?= node_modules/.bin/bun
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
# systemd looks for units and generators below /usr/local/lib/systemd as well as /usr/lib/systemd.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSTEMDGENERATORDIR ?= $(PREFIX)/lib/systemd/system-generators
VERSION := $(shell sed -n 's/^  "version": "\(.*\)",$$/\1/p' package.json)
# What `podunit version` tells; SOURCE_DATE_EPOCH makes the date reproducible.
REVISION := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
BUILD_DATE := $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(date +%s)} +%Y-%m-%dT%H:%M:%SZ)
# --splitting: each command loads the chunks of the modules it imports, not the whole bundle
# (a whole-bundle binary spent ~10 ms more before its first statement; docs/benchmarks.md).
BUILD_FLAGS := --compile --bytecode --splitting --format=esm --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
  --define PODUNIT_REVISION='"$(REVISION)"' --define PODUNIT_BUILD_DATE='"$(BUILD_DATE)"'
# The binary embeds these as text: units, the documents its man pages are made of, the copyright notice.
SRC := $(shell find src -name '*.ts') package.json units/podunit.slice units/podunit-network-reconcile.service docs/pod-spec.md docs/exit-codes.md contrib/debian/copyright
DEB := dist/podunit_$(VERSION)_amd64.deb
# Who answers for the package; set it for a release (lintian refuses an address on localhost).
DEB_MAINTAINER ?= podunit maintainers <maintainers@podunit.example.org>

.PHONY: setup all build test test-unit test-system test-vm soak lint demo bench bench-quick clean install uninstall deb lintian help deps

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
	@echo "make lint         type-check, and check that every import follows the layers (docs/architecture.md)"
	@echo "make demo         start a demo in a lab and show it"
	@echo "make bench        benchmarks: podunit against Podman and the systemd-run floor (installs crun); SCALE=1000 for the scale run"
	@echo "make bench-quick  the pod benchmark with few repetitions and 10 pods, for development (installs nothing)"
	@echo "make install      podunit system install: binary, units, generator link, completions, man pages under PREFIX ($(PREFIX)); DESTDIR for staging"
	@echo "make uninstall    remove what make install put in place (pod specs, images and volumes stay)"
	@echo "make deb          build $(DEB) with dpkg-deb"
	@echo "make lintian      check the .deb with lintian"

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: node_modules/.package-lock.json

# Everything a fresh Debian 12 machine needs (Debian packages as root, npm packages).
setup:
	bash contrib/setup-debian.sh

dist/podunit: $(SRC) node_modules/.package-lock.json
	@mkdir -p dist
	$(BUN) build $(BUILD_FLAGS) --outfile $@ src/podunit.ts

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
	$(BUN) run bench/health.ts
	# The registry listens on 127.0.0.1 of a network namespace of its own.
	unshare --net sh -c 'ip link set lo up && exec $(BUN) run bench/pull.ts'

# The pod benchmark alone, few repetitions: its table and claims, for development.
bench-quick: build
	REPS=$${REPS:-3} SCALE=$${SCALE:-10} $(BUN) run bench/pods.ts

# The binary installs itself: everything it installs is built into it (docs/packaging.md).
ROOT_OPT = $(if $(DESTDIR),--root $(DESTDIR))
install: build
	dist/podunit system install --prefix $(PREFIX) $(ROOT_OPT)

uninstall: build
	dist/podunit system uninstall --prefix $(PREFIX) $(ROOT_OPT)

# The package is the tree `podunit system install --prefix /usr` writes, plus
# the changelog, the lintian overrides and the maintainer scripts.
$(DEB): dist/podunit contrib/debian/control.in contrib/debian/postinst contrib/debian/postrm contrib/debian/lintian-overrides
	rm -rf dist/deb && mkdir -p dist/deb/DEBIAN
	dist/podunit system install --prefix /usr --root dist/deb >/dev/null
	printf 'podunit (%s) unstable; urgency=medium\n\n  * Release %s, git revision %s.\n\n -- %s  %s\n' \
	  '$(VERSION)' '$(VERSION)' '$(REVISION)' '$(DEB_MAINTAINER)' "$$(date -u -R -d @$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || date +%s)})" \
	  | gzip -9n > dist/deb/usr/share/doc/podunit/changelog.gz
	install -Dm644 contrib/debian/lintian-overrides dist/deb/usr/share/lintian/overrides/podunit
	install -m755 contrib/debian/postinst contrib/debian/postrm dist/deb/DEBIAN/
	sed -e 's/@VERSION@/$(VERSION)/' -e 's/@MAINTAINER@/$(DEB_MAINTAINER)/' -e "s/@SIZE@/$$(du -sk --exclude=DEBIAN dist/deb | cut -f1)/" contrib/debian/control.in > dist/deb/DEBIAN/control
	(cd dist/deb && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | sort | xargs md5sum) > dist/deb/DEBIAN/md5sums
	chmod 644 dist/deb/DEBIAN/control dist/deb/DEBIAN/md5sums
	dpkg-deb --root-owner-group -Zgzip --build dist/deb $@

deb: $(DEB)

lintian: $(DEB)
	lintian --info --display-info $(DEB)

clean:
	rm -rf dist
