# boxtop's entry points. Each target first installs the system packages it needs
# (scripts/install-deps.sh: apt-get, dnf or pacman), so a fresh machine needs only Rust.
#
#   make run [ARGS='run firefox']   build release and start boxtop (the TUI without ARGS)
#   make test                       build every target and run the tests
#   make lint                       cargo fmt --check and clippy with warnings as errors
#   make bench                      build release and write docs/benchmarks.md
#   make screenshot                 build release and render the TUI's picture, assets/tui.png
#   make install [PREFIX=/usr/local DESTDIR=]   binary, man pages, completions, docs, AppArmor profile
#   make uninstall [PREFIX=... DESTDIR=]        remove exactly what make install wrote
#   make deb                        build target/debian/boxtop_*.deb with cargo-deb
#   make deps | build | clean | help

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

# rustup puts cargo in ~/.cargo/bin, which shells that did not source ~/.cargo/env
# (sudo, cron, a fresh CI shell) do not have on their PATH.
ifneq ($(wildcard $(HOME)/.cargo/bin/cargo),)
export PATH := $(HOME)/.cargo/bin:$(PATH)
endif

CARGO ?= cargo
ARGS ?=
BOXTOP := ./target/release/boxtop
INSTALL_DEPS := bash scripts/install-deps.sh
# rustfmt colours its diffs even into a CI log file.
RUSTFMT_ARGS := $(if $(filter true,$(CI)),-- --color never)

header = @printf '==> %s\n' "$(1)"

.PHONY: help deps deps-test deps-bench deps-screenshot need-cargo build run test lint bench screenshot install uninstall deb clean

help:
	@sed -n 's/^#   make/make/p' $(firstword $(MAKEFILE_LIST))

need-cargo:
	@if ! command -v $(CARGO) >/dev/null 2>&1; then \
		echo "error: cargo not found. boxtop needs a Rust toolchain, which this Makefile cannot install." >&2; \
		echo "  Get it with rustup (https://rustup.rs):" >&2; \
		echo "    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh" >&2; \
		echo "  or your distribution's rustup package (apt/dnf/pacman install rustup; then: rustup default stable)," >&2; \
		echo "  then open a new shell (or run: . \"\$$HOME/.cargo/env\") and run make again." >&2; \
		exit 1; \
	fi

deps:
	$(call header,deps: system packages to build boxtop)
	@$(INSTALL_DEPS) build

deps-test: deps
	$(call header,deps: system packages for the tests)
	@$(INSTALL_DEPS) test
	@command -v cargo-deb >/dev/null 2>&1 || [ -x "$${CARGO_HOME:-$$HOME/.cargo}/bin/cargo-deb" ] || { \
		echo "deps: installing cargo-deb with cargo install cargo-deb --locked (the packaging test builds the .deb with it)"; \
		$(CARGO) install cargo-deb --locked; }

deps-bench: deps
	$(call header,deps: system packages for the benchmarks)
	@$(INSTALL_DEPS) bench

deps-screenshot: deps
	$(call header,deps: system packages for the screenshot)
	@$(INSTALL_DEPS) screenshot

# The release binary is linked static-pie, against musl where rustup's musl target can
# be had, else against glibc, else dynamically: scripts/build-release.sh says which. A
# static binary starts a launch faster (docs/benchmarks.md); a plain
# `cargo build --release` or `cargo install --path .` links dynamically.
build: need-cargo deps
	$(call header,build: scripts/build-release.sh (static-pie: musl, else glibc; else dynamic))
	@CARGO="$(CARGO)" bash scripts/build-release.sh

run: build
	$(call header,run: $(BOXTOP) $(ARGS))
	@$(BOXTOP) $(ARGS)

test: need-cargo deps-test
	$(call header,test: cargo build --all-targets)
	$(CARGO) build --all-targets
	$(call header,test: cargo test --all-targets)
	$(CARGO) test --all-targets -- --test-threads=2

lint: need-cargo deps
	$(call header,lint: cargo fmt --check)
	@$(CARGO) fmt --version >/dev/null 2>&1 || { echo "error: rustfmt missing: rustup component add rustfmt" >&2; exit 1; }
	$(CARGO) fmt --all --check $(RUSTFMT_ARGS)
	$(call header,lint: cargo clippy --all-targets -- -D warnings)
	@$(CARGO) clippy --version >/dev/null 2>&1 || { echo "error: clippy missing: rustup component add clippy" >&2; exit 1; }
	$(CARGO) clippy --all-targets -- -D warnings

bench: need-cargo deps-bench build
	$(call header,bench: scripts/bench.sh)
	@bash scripts/bench.sh

screenshot: need-cargo deps-screenshot build
	$(call header,screenshot: scripts/screenshot.sh)
	@bash scripts/screenshot.sh

# `make build` first, then `sudo make install`: installing does not build when the binary
# is there (cargo is often not on root's PATH).
PREFIX ?= /usr/local
DESTDIR ?=
APPARMOR ?= auto
INSTALL_SH = PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" BOXTOP="$(BOXTOP)" APPARMOR="$(APPARMOR)" bash scripts/install.sh

install: $(if $(wildcard $(BOXTOP)),,build)
	$(call header,install: scripts/install.sh install (PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)))
	@$(INSTALL_SH) generate
	@$(INSTALL_SH) install

uninstall:
	$(call header,uninstall: scripts/install.sh uninstall (PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)))
	@$(INSTALL_SH) uninstall

# cargo-deb packs what `make install PREFIX=/usr` installs (the list is in Cargo.toml's
# [package.metadata.deb]); it is installed with cargo when missing.
deb: need-cargo build
	$(call header,deb: cargo deb --no-build (the release binary of make build))
	@$(INSTALL_SH) generate
	@command -v cargo-deb >/dev/null 2>&1 || { echo "deb: installing cargo-deb (cargo install cargo-deb --locked)"; $(CARGO) install cargo-deb --locked; }
	$(CARGO) deb --no-build --no-strip

clean:
	$(call header,clean: cargo clean)
	@if command -v $(CARGO) >/dev/null 2>&1; then $(CARGO) clean; else rm -rf target; fi
