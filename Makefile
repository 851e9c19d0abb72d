# write-tracer — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BUILD      := build
BIN        := bin
BPF_OUT    := $(BUILD)/bpf
CONFIG     ?= Release
ARCH       := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I$(BPF_OUT) -Ibpf
CFLAGS     ?= -O2 -Wall -Wextra -Werror -pthread
# What building needs on Debian 12, and what testing adds (strace: the reference of the write-family tests);
# `make deps` installs what is missing. The Native AOT link uses clang and llvm-objcopy, and asks for
# the system zlib (-lz: the compiler package has no libz.a of its own for linux-x64), hence zlib1g-dev.
BUILD_APT_PACKAGES := clang llvm libbpf-dev bpftool zlib1g-dev
APT_PACKAGES := $(BUILD_APT_PACKAGES) prometheus python3 libslurm-dev strace
DOTNET_FLAGS := --nologo -v quiet -c $(CONFIG)
UTILITIES  := $(BIN)/writer $(BIN)/echopid
# What `make bench` compares against and runs with (Debian packages).
BENCH_APT_PACKAGES := strace bpftrace python3
# Not what builds generate under obj/ and bin/: a test build rewrites those, and they would make the
# native binary look out of date (a second compile ahead of time within one `make test`).
SOURCES    := $(shell find src -name obj -prune -o -name bin -prune -o \( -name '*.cs' -o -name '*.csproj' \) -print) Directory.Build.props
# bin/write-tracer is compiled to native code (Native AOT) for this machine's architecture, the
# kernel program embedded: the one binary the tests run and `make install` installs.
RID        := linux-$(shell uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
AOT_OUT    := $(BUILD)/aot/$(RID)
PREFIX     ?= /usr/local
UNIT       := /etc/systemd/system/write-tracer.service
ENV_FILE   := /etc/default/write-tracer

.PHONY: help deps bpf build install uninstall test test-unit test-e2e bench demo run clean slurm-plugin

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

deps: ## Install the build and test dependencies that are missing (apt-get)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@command -v dotnet >/dev/null || { echo "the .NET 10 SDK is required (dotnet not on PATH)"; exit 1; }

$(BPF_OUT)/vmlinux.h:
	@mkdir -p $(BPF_OUT)
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BPF_OUT)/write_tracer.bpf.o: bpf/write_tracer.bpf.c bpf/write_tracer.h $(BPF_OUT)/vmlinux.h
	clang $(BPF_CFLAGS) -c $< -o $@
	llvm-strip -g $@

bpf: $(BPF_OUT)/write_tracer.bpf.o ## Compile the kernel program (vmlinux.h generated from this kernel's BTF)

# Published beside the build (its symbols, write-tracer.dbg, stay there); bin/ gets the binary only.
$(BIN)/write-tracer: $(BPF_OUT)/write_tracer.bpf.o $(SOURCES)
	dotnet publish src/WriteTracer $(DOTNET_FLAGS) -r $(RID) -o $(AOT_OUT)
	install -D -m 0755 $(AOT_OUT)/write-tracer $@

$(BIN)/%: utilities/%.c
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $<

# The Slurm SPANK plugin (utilities/slurm); SLURM_PLUGIN=PATH builds it elsewhere.
SLURM_PLUGIN ?= $(BIN)/spank_write_tracer.so
SLURM_SOURCES := $(wildcard utilities/slurm/*.c utilities/slurm/*.h)

slurm-plugin: ## Build the Slurm SPANK plugin (bin/spank_write_tracer.so); skipped without libslurm-dev
	@if echo '#include <slurm/spank.h>' | $(CC) -E -x c - >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(SLURM_PLUGIN); \
	else \
	  echo "slurm-plugin skipped: <slurm/spank.h> not found (install libslurm-dev)"; \
	fi

$(SLURM_PLUGIN): $(SLURM_SOURCES)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $(filter %.c,$^)

build: deps $(BIN)/write-tracer $(UTILITIES) ## Build the tracer (bin/write-tracer) and the test utilities

# systemd re-reads units only when told; never when installing into a staging DESTDIR.
define daemon_reload
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then echo "systemctl daemon-reload"; systemctl daemon-reload; fi
endef

install: ## Install the tracer (bin/write-tracer, native) and its systemd unit: PREFIX=/usr/local, DESTDIR= to stage
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(BUILD_APT_PACKAGES)"
	@$(MAKE) --no-print-directory $(BIN)/write-tracer
	install -D -m 0755 $(BIN)/write-tracer $(DESTDIR)$(PREFIX)/bin/write-tracer
	sed 's|^ExecStart=/usr/local/bin/write-tracer|ExecStart=$(PREFIX)/bin/write-tracer|' write-tracer.service \
	  | install -D -m 0644 /dev/stdin $(DESTDIR)$(UNIT)
	@if [ -e $(DESTDIR)$(ENV_FILE) ]; then \
	  echo "kept $(DESTDIR)$(ENV_FILE): it exists (the defaults are in utilities/systemd/write-tracer.env)"; \
	else \
	  echo "install -D -m 0644 utilities/systemd/write-tracer.env $(DESTDIR)$(ENV_FILE)"; \
	  install -D -m 0644 utilities/systemd/write-tracer.env $(DESTDIR)$(ENV_FILE); \
	fi
	$(daemon_reload)

uninstall: ## Remove what install put in place, except the configuration (/etc/default/write-tracer)
	rm -f $(DESTDIR)$(PREFIX)/bin/write-tracer $(DESTDIR)$(UNIT)
	@if [ -e $(DESTDIR)$(ENV_FILE) ]; then echo "kept $(DESTDIR)$(ENV_FILE) (your configuration; remove it by hand)"; fi
	$(daemon_reload)

test: build ## Run every test: unit, then end-to-end (needs root); ends with "N passed, N failed"
	tests/run.sh

test-unit: bpf $(BIN)/write-tracer ## Unit tests (no privileges needed; they run bin/write-tracer for exit codes)
	dotnet test tests/WriteTracer.Tests $(DOTNET_FLAGS) --logger "console;verbosity=normal"

test-e2e: build ## End-to-end tests against the real kernel (root)
	dotnet test tests/WriteTracer.EndToEnd $(DOTNET_FLAGS) --logger "console;verbosity=normal"

bench: build ## Benchmarks against strace and bpftrace: one table (root; BENCH_QUICK=1, BENCH_RUNS=N, BENCH_AGAINST=REF)
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(BENCH_APT_PACKAGES)"
	cd utilities/bench && python3 -B -m unittest -q test_bench
	dotnet build utilities/bench/WriteTracer.Benchmarks $(DOTNET_FLAGS)
	python3 -B utilities/bench/bench.py

demo: build ## Trace the bundled echopid utility (Ctrl-C to stop)
	$(BIN)/write-tracer --metrics-port 0 -- $(BIN)/echopid 1000

run: build ## Run the tracer with ARGS, e.g. make run ARGS="-p 1234"
	$(BIN)/write-tracer $(ARGS)

clean: ## Remove build outputs
	rm -rf $(BUILD) $(BIN) src/*/bin src/*/obj tests/*/bin tests/*/obj utilities/bench/*/bin utilities/bench/*/obj
