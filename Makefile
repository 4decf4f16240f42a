# flowscope: the two commands of the quick start, `make run` and `make test`, and the rest.
# Each build type has its own directory under build/. Every target installs missing Debian
# packages first (scripts/install-deps.sh; needs root, does nothing when all is there).

JOBS      ?= $(shell nproc)
WERROR    ?= ON
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=
CMAKE_ARGS ?=
PREFIX    ?= /usr/local

.PHONY: all deps build run test install deb asan tsan fuzz bench soak format format-check check-layering lint tidy clean help

all: build

help:
	@echo "make run      install, build and run flowscope's main job (see README)"
	@echo "make test     install, build (Release) and run every test"
	@echo "make install  build and install under PREFIX (/usr/local), DESTDIR for a staging root"
	@echo "make deb      build the Debian package into build/deb/, install it in a scratch root"
	@echo "              and smoke-test it as the package user; lintian (docs/packaging.md)"
	@echo "make asan     build with ASan+UBSan and run the unit tests"
	@echo "make tsan     build with ThreadSanitizer and run the server, store and security tests"
	@echo "make fuzz     build the libFuzzer targets with clang and run each FUZZ_SECONDS (600)"
	@echo "make bench    build Release and run the benchmarks; writes bench/results/latest.md"
	@echo "make soak     SIGKILL flowscope serve SOAK_TRIALS (20) times mid-feed; lost/duplicate figures"
	@echo "make format   clang-format the sources"
	@echo "make lint     format-check (clang-format) and check-layering (the module direction)"
	@echo "make tidy     clang-tidy with .clang-tidy's checks (FILES=... for some)"

deps:
	@scripts/install-deps.sh

# $(call configure,DIR,TYPE,EXTRA)
define configure
	@cmake -S . -B $(1) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=$(2) -DFLOWSCOPE_WERROR=$(WERROR) $(3) $(CMAKE_ARGS) >/dev/null
endef

# HARDEN=OFF: Release without the hardening flags (cmake/FlowscopeHardening.cmake); on by default
# in make build, make test and make deb alike, so the three share ccache's objects.
HARDEN ?= ON

build: deps
	$(call configure,build/release,Release,-DFLOWSCOPE_HARDEN=$(HARDEN))
	@cmake --build build/release -j $(JOBS)

run: build
	@scripts/run-demo.sh build/release/bin/flowscope

test: build
	@cd build/release && ctest --output-on-failure -j $(JOBS) --timeout 600 -LE slow
	@FLOWSCOPE_WEB_DIST=build/release/web/dist FLOWSCOPE_BINARY=build/release/bin/flowscope \
	  node web/tests/run.mjs --why-skip 2>/dev/null || true

# GNUInstallDirs layout (docs/packaging.md). PREFIX is set at configure time, since the systemd
# units name the installed binary; DESTDIR stages the tree (packagers, the install test).
install: build
	@cmake -S . -B build/release -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build build/release -j $(JOBS)
	@DESTDIR=$(DESTDIR) cmake --install build/release

deb: deps
	@scripts/install-deps.sh --deb
	@FLOWSCOPE_HARDEN=$(HARDEN) scripts/make-deb.sh

asan: deps
	$(call configure,build/asan,asan,-DFLOWSCOPE_BUILD_BENCH=OFF)
	@cmake --build build/asan -j $(JOBS)
	@cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 -LE slow

# ThreadSanitizer over the tests whose code runs on several threads (server, store, security).
tsan: deps
	$(call configure,build/tsan,tsan,-DFLOWSCOPE_BUILD_BENCH=OFF)
	@cmake --build build/tsan -j $(JOBS) --target flowscope server_tests store_tests security_tests
	@scripts/run-tsan.sh build/tsan server_tests store_tests security_tests

fuzz: deps
	$(call configure,build/fuzz,fuzz,-DCMAKE_CXX_COMPILER=clang++)
	@cmake --build build/fuzz -j $(JOBS)
	@scripts/run-fuzzers.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: deps
	@scripts/install-deps.sh --bench --clickhouse
	$(call configure,build/release,Release)
	@cmake --build build/release -j $(JOBS)
	@bench/run.sh build/release

SOAK_TRIALS ?= 20
soak: build
	@python3 scripts/soak.py build/release/bin/flowscope --trials $(SOAK_TRIALS) --flows 300000 \
		--rate 60000 --window 2s

format:
	@git ls-files '*.h' '*.cpp' | xargs clang-format -i

format-check:
	@git ls-files '*.h' '*.cpp' | xargs clang-format --dry-run -Werror

check-layering:
	@scripts/check-layering.py

lint: format-check check-layering

# clang-tidy with the checks of .clang-tidy over the sources (or FILES=...), on build/release's
# compile database; not in CI (about 15 minutes on 2 cores).
tidy: build
	@git ls-files $(if $(FILES),$(FILES),'src/*.cpp') | grep -v '/fuzz/' | xargs -n 4 -P $(JOBS) clang-tidy -p build/release --quiet

clean:
	rm -rf build
