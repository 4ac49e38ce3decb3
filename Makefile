# rummage: one GNU Makefile. `make demo` and `make check` install what is missing first.
#   make                 build build/rummage and build/librummage.a
#   make check           every test (unit, rules, CLI, engine differential); SANITIZE=address,undefined for sanitizers
#   make demo            scan the bundled sample
#   make bench           throughput against cat/grep on a generated corpus
#   make test-clean-images  the default gate on real Debian-package images (not in `make check`)
#   make inflate-bench   build/inflate_bench: zlib, libarchive, ISA-L, libdeflate, libzstd side by side
#   make fuzz            libFuzzer targets (clang); fuzz-smoke also runs each for FUZZ_TIME seconds
#   make tsan            the threaded paths (pool, daemon, registry) under ThreadSanitizer
#   make valgrind        CLI tests under valgrind memcheck (VALGRIND_TESTS= for all of them)
#   make install PREFIX=/usr/local   binary, man page, completions, Docker CLI plugin, push guard, hooks
#   make man             regenerate docs/rummage.1 and the completion tables from --help

PREFIX    ?= /usr/local
CC        ?= cc
CFLAGS    ?= -O2 -g
SANITIZE  ?=
BUILD     ?= build$(if $(SANITIZE),$(if $(filter thread,$(SANITIZE)),-tsan,-san))

# Build and test dependencies (Debian 12 package names).
DEB_BUILD := build-essential pkg-config libpcre2-dev libarchive-dev libcjson-dev \
             libssl-dev zlib1g-dev libvectorscan-dev libcmocka-dev libcurl4-openssl-dev libisal-dev \
             libsqlite3-dev librpm-dev
DEB_TEST  := python3 python3-jsonschema openssl openssh-client clang libclang-rt-14-dev time \
             zsh git man-db groff-base valgrind rpm
# Real images built at test time (tests/images/, samples/build_image.sh): see ../docs/images.md.
DEB_IMAGE := umoci skopeo buildah busybox-static zstd docker.io docker-registry apache2-utils podman
DEB_ALL   := $(DEB_BUILD) $(DEB_TEST) $(DEB_IMAGE)

PKGS      := libpcre2-8 libarchive libcjson libcrypto zlib libcurl sqlite3 rpm
# A library pkg-config cannot find fails the build at its #include: say first how to get it.
PKGS_MISSING := $(shell for p in $(PKGS); do pkg-config --exists $$p 2>/dev/null || echo $$p; done)
ifneq ($(PKGS_MISSING),)
$(warning pkg-config finds no $(PKGS_MISSING): `make deps` installs the Debian packages ($(DEB_BUILD)))
endif
HAVE_HS   := $(shell pkg-config --exists libhs 2>/dev/null && echo 1)
ifeq ($(HAVE_HS),1)
PKGS      += libhs
DEFS      += -DRMG_HAVE_VECTORSCAN
endif
HAVE_ISAL := $(shell pkg-config --exists libisal 2>/dev/null && echo 1)
ifeq ($(HAVE_ISAL),1)
PKGS      += libisal
DEFS      += -DRMG_HAVE_ISAL
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN      := -std=c11 -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
             -Wmissing-prototypes -Wvla -Wwrite-strings
ifneq ($(CI),)
WARN      += -Werror
endif
SANFLAGS  := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SANFLAGS) $(DEFS) -Iinclude -Isrc $(PKG_CFLAGS) -MMD -MP
LDLIBS    := $(PKG_LIBS) -lpthread -lm

# One folder per pipeline stage (src/README.md); the library is every stage but the CLI's main.
STAGES    := common engine provenance image source context report cli
LIB_SRC   := $(filter-out src/cli/main.c,$(foreach d,$(STAGES),$(wildcard src/$(d)/*.c)))
LIB_OBJ   := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/rules_builtin.o
RULE_FILES := $(sort $(wildcard patterns/*.json))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps demo check test test-unit test-cli test-images test-context test-ecosystem test-registry test-provenance test-hostile test-clean-images man bench inflate-bench fuzz fuzz-smoke _fuzz tsan _tsan valgrind install clean _demo _check

all: $(BUILD)/rummage

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/obj
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

# The build-time tool runs before rules_builtin.c (so the library) exists: it is built from
# the regex analysis's sources (src/engine/regex_width.h) directly.
EMBED_SRC := src/tools/embed.c src/engine/regex_width.c src/engine/regex_syntax.c \
             src/engine/keyword_reach.c src/engine/keyword_tail.c
EMBED_HDR := src/engine/regex_width.h src/engine/regex_syntax.h src/engine/keyword_reach.h
$(BUILD)/embed: $(EMBED_SRC) $(EMBED_HDR) | $(BUILD)/obj
	$(CC) -O1 -D_GNU_SOURCE $(DEFS) -Isrc $(PKG_CFLAGS) -o $@ $(EMBED_SRC) $(PKG_LIBS)

$(BUILD)/rules_builtin.c: $(BUILD)/embed $(RULE_FILES)
	$(BUILD)/embed $@ $(RULE_FILES)

$(BUILD)/obj/rules_builtin.o: $(BUILD)/rules_builtin.c
	$(CC) -std=c11 $(CFLAGS) $(SANFLAGS) -c $< -o $@

$(BUILD)/librummage.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/rummage: $(BUILD)/obj/cli/main.o $(BUILD)/librummage.a
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/support.h $(BUILD)/librummage.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) -o $@ $< $(BUILD)/librummage.a \
	    $(shell pkg-config --libs cmocka) $(LDLIBS)

# ---- install what is missing (apt-get, as root; sudo otherwise) -------------------------
deps:
	@missing=$$(for p in $(DEB_ALL); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The public entry points re-run make after deps so pkg-config sees the new packages.
demo: deps
	@$(MAKE) --no-print-directory _demo

check: deps
	@$(MAKE) --no-print-directory _check

# The sample's secrets are generated fresh (samples/generate.py): the repository holds none.
_demo: $(BUILD)/rummage
	samples/build_image.sh $(BUILD)/demo
	$(BUILD)/rummage scan docker-archive:$(BUILD)/demo/leaky-app.tar || test $$? -eq 1

test: _check
_check: $(BUILD)/rummage $(UNIT_BIN)
	BUILD=$(BUILD) tests/run.sh

test-unit: $(UNIT_BIN)
	BUILD=$(BUILD) tests/run.sh unit

test-cli: $(BUILD)/rummage
	BUILD=$(BUILD) tests/run.sh cli

test-images: $(BUILD)/rummage
	BUILD=$(BUILD) tests/run.sh images

test-context: $(BUILD)/rummage
	BUILD=$(BUILD) tests/run.sh context

# The image benchmark builds a Debian image (debootstrap from the configured mirror) and a
# node_modules image (npm registry): tests/images/bench_images.sh.
# npm: Debian's package unless an npm is there already (e.g. from a nodejs package).
# libdeflate-dev: only for inflate-bench.
DEB_BENCH := debootstrap pigz libdeflate-dev $(if $(shell command -v npm),,npm)
bench: deps
	@$(MAKE) --no-print-directory DEB_ALL="$(DEB_BENCH)" deps
	@$(MAKE) --no-print-directory $(BUILD)/rummage
	BUILD=$(BUILD) tests/bench.sh

# The clean-image suite (tests/clean/test_clean_images.py; not part of `make check`): real
# images built from Debian bookworm packages by tests/images/clean_images.sh (debootstrap, then
# apt-get install in a chroot of the image, one layer per step, and an npm install), cached by
# content under /tmp/rummage-clean-images (about 5 minutes cold with a fast mirror, instant
# after); the default gate must pass them, but for the SSH host keys of the web image, and fail
# on every secret planted on top of them. Needs root, a Debian mirror (from the apt sources) and
# the npm registry.
DEB_CLEAN_IMAGES := debootstrap umoci openssl
test-clean-images: deps
	@$(MAKE) --no-print-directory DEB_ALL="$(DEB_CLEAN_IMAGES)" deps
	@$(MAKE) --no-print-directory $(BUILD)/rummage
	tests/images/clean_images.sh $(BUILD)/clean-images
	BUILD=$(BUILD) tests/run.sh clean

# The inflaters side by side on layer blobs (tools/inflate_bench.c, docs/performance.md):
# $(BUILD)/inflate_bench FILE... Not part of `make` or `make check`.
INFLATE_PKGS := zlib libarchive libisal libdeflate libzstd
inflate-bench:
	@$(MAKE) --no-print-directory DEB_ALL="$(DEB_BUILD) $(DEB_BENCH)" deps
	@$(MAKE) --no-print-directory $(BUILD)/inflate_bench

$(BUILD)/inflate_bench: tools/inflate_bench.c | $(BUILD)/obj
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) $(shell pkg-config --cflags $(INFLATE_PKGS)) -o $@ $< \
	    $(shell pkg-config --libs $(INFLATE_PKGS))

# libFuzzer targets (tests/fuzz/fuzz_*.c) with ASan and UBSan, objects in build-fuzz/. Each
# target's regression inputs and hand-made seeds are in tests/fuzz/corpus/TARGET/, its
# generated seeds (tests/fuzz/seeds.py: they hold made-up secrets, so they are made here and
# never committed) in build-fuzz/seeds/TARGET/; what a run adds goes to build-fuzz/corpus/TARGET/
# and crashes to build-fuzz/artifacts/. fuzz-smoke replays every stored and generated input,
# then fuzzes each target for FUZZ_TIME seconds.
FUZZ_BUILD := build-fuzz
FUZZ_TIME  ?= 15
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_BIN   := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz: deps
	@$(MAKE) --no-print-directory CC=clang BUILD=$(FUZZ_BUILD) \
	    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN)" _fuzz

_fuzz: $(FUZZ_BIN)

$(FUZZ_BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/tarfix.h tests/fuzz/fuzz_rules.h $(FUZZ_BUILD)/librummage.a
	@mkdir -p $(@D)
	clang $(WARN) -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) $(DEFS) -Iinclude -Isrc $(PKG_CFLAGS) \
	    -o $@ $< $(FUZZ_BUILD)/librummage.a $(LDLIBS)

fuzz-smoke: fuzz
	@mkdir -p $(FUZZ_BUILD)/artifacts; rm -rf $(FUZZ_BUILD)/seeds; \
	python3 tests/fuzz/seeds.py $(FUZZ_BUILD)/seeds || exit 1; \
	for t in $(FUZZ_BIN); do \
	    n=$$(basename $$t); mkdir -p $(FUZZ_BUILD)/corpus/$$n $(FUZZ_BUILD)/seeds/$$n; \
	    stored=tests/fuzz/corpus/$$n; [ -d $$stored ] || stored=; \
	    echo "== $$n ($(FUZZ_TIME) s)"; \
	    if ! $$t -max_total_time=$(FUZZ_TIME) -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
	            -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$n- \
	            $(FUZZ_BUILD)/corpus/$$n $$stored $(FUZZ_BUILD)/seeds/$$n \
	            >$(FUZZ_BUILD)/$$n.log 2>&1; then \
	        grep -v -E '^#[0-9]+ +(NEW|REDUCE|pulse|RELOAD)' $(FUZZ_BUILD)/$$n.log | tail -60; \
	        echo "$$n failed: see $(FUZZ_BUILD)/$$n.log"; exit 1; \
	    fi; \
	    grep -E '^stat::number_of_executed_units|^Done' $(FUZZ_BUILD)/$$n.log | tr '\n' ' '; echo; \
	done

# ThreadSanitizer on the threaded paths (clang, objects in build-tsan/): the worker pool (every
# unit test, and tests/jobs_agree.py: directories and the image fixtures scanned at -j1, -j2
# and -j4 give the same report), the docker-daemon transfer thread (tests/run.sh images) and
# the registry transfer threads (tests/run.sh registry). A report fails the run, also one from
# a process whose exit code no test looked at: reports are logged to build-tsan/tsan-log/.
TSAN_BUILD := build-tsan
TSAN_PARTS ?= unit images registry
tsan: deps
	@$(MAKE) --no-print-directory CC=clang SANITIZE=thread BUILD=$(TSAN_BUILD) _tsan

_tsan: $(BUILD)/rummage $(UNIT_BIN)
	@rm -rf $(BUILD)/tsan-log $(BUILD)/fixtures; mkdir -p $(BUILD)/tsan-log; \
	export RUMMAGE_IMAGE_FIXTURES=$(CURDIR)/$(BUILD)/fixtures TSAN_OPTIONS="halt_on_error=1 \
	    exitcode=66 second_deadlock_stack=1 log_path=$(CURDIR)/$(BUILD)/tsan-log/report"; \
	BUILD=$(BUILD) tests/run.sh $(TSAN_PARTS); rc=$$?; \
	echo "== jobs agree (-j1, -j2, -j4)"; \
	RUMMAGE=$(CURDIR)/$(BUILD)/rummage python3 tests/jobs_agree.py $(BUILD)/fixtures \
	    >$(BUILD)/jobs_agree.tap 2>&1 || rc=1; \
	grep -v -E '^ok|^1\.\.' $(BUILD)/jobs_agree.tap; \
	if ls $(BUILD)/tsan-log/report.* >/dev/null 2>&1; then \
	    cat $(BUILD)/tsan-log/report.*; echo "ThreadSanitizer reports: $(BUILD)/tsan-log/"; rc=1; \
	fi; exit $$rc

# valgrind memcheck on the CLI tests (tests/cli/test_cli.py): they run tools/valgrind-rummage
# as their binary, which runs build/rummage under valgrind with PCRE2's JIT kept off
# (tools/pcre2_nojit.c: valgrind cannot follow JIT code); then the image archives and layers
# of the fuzz corpus (stored, and generated by tests/fuzz/seeds.py) are scanned, filling and
# reading a layer cache. An invalid access, a use
# of an uninitialised value or a definite leak fails (reports in build-valgrind/log/, writable
# by all: a test runs the binary as nobody). Each run spends ~3 s of CPU in valgrind compiling
# the rules, so by default a subset (VALGRIND_TESTS: ~30 runs, ~2 min here; every command and
# format, report files, stdin, configs, rules files, errors); VALGRIND_TESTS= runs the whole
# group (155 runs, ~9 min of CPU here).
VALGRIND_BUILD := build-valgrind
VALGRIND_TESTS ?= secret_hygiene_every_command_and_format stdin_target custom_rules_file_reports \
                  config_severity_and_options partial_results_reported_with_exit_2
VG := $(CURDIR)/$(VALGRIND_BUILD)
valgrind: deps
	@$(MAKE) --no-print-directory $(BUILD)/rummage
	@rm -rf $(VG); mkdir -p $(VG)/log; chmod 1777 $(VG)/log; \
	ln -s ../tools/valgrind-rummage $(VG)/rummage; \
	$(CC) -std=c11 -Wall -Wextra -O2 -shared -fPIC $(PKG_CFLAGS) -o $(VG)/pcre2_nojit.so \
	    tools/pcre2_nojit.c || exit 1; \
	export RUMMAGE_VALGRIND_BIN=$(CURDIR)/$(BUILD)/rummage RUMMAGE_VALGRIND_LOG=$(VG)/log \
	    RUMMAGE_VALGRIND_PRELOAD=$(VG)/pcre2_nojit.so; \
	echo "== cli under valgrind: $(or $(VALGRIND_TESTS),every test)"; \
	RUMMAGE=$(VG)/rummage python3 tests/cli/test_cli.py $(VALGRIND_TESTS) >$(VG)/cli.tap 2>&1; \
	rc=$$?; grep -E '^not ok|^#' $(VG)/cli.tap | grep -v '^# rummage:'; \
	echo "== image archives and layers under valgrind (tests/fuzz/corpus, seeds.py: fuzz_image, fuzz_layer)"; \
	python3 tests/fuzz/seeds.py $(VG)/seeds >/dev/null || rc=1; \
	for run in fill read; do \
	    $(VG)/rummage scan -q --all-platforms --cache-dir $(VG)/cache -f json \
	        tests/fuzz/corpus/fuzz_image/* tests/fuzz/corpus/fuzz_layer/* \
	        $(VG)/seeds/fuzz_image/* $(VG)/seeds/fuzz_layer/* \
	        >$(VG)/images-$$run.json 2>$(VG)/images-$$run.err; st=$$?; \
	    if [ $$st -gt 2 ]; then echo "exit $$st"; cat $(VG)/images-$$run.err; rc=1; fi; \
	done; \
	for f in $(VG)/log/vg.*; do \
	    if [ -s "$$f" ]; then echo "== $$f"; head -80 "$$f"; rc=1; fi; \
	done; exit $$rc

MANDIR          ?= $(PREFIX)/share/man
BASHCOMPDIR     ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR      ?= $(PREFIX)/share/zsh/site-functions
DOCKERPLUGINDIR ?= $(PREFIX)/lib/docker/cli-plugins

install: $(BUILD)/rummage
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
	    $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(DOCKERPLUGINDIR) $(DESTDIR)$(PREFIX)/share/rummage/hooks
	install -m 0755 $(BUILD)/rummage $(DESTDIR)$(PREFIX)/bin/rummage
	install -m 0755 contrib/rummage-push-guard $(DESTDIR)$(PREFIX)/bin/rummage-push-guard
	install -m 0644 docs/rummage.1 $(DESTDIR)$(MANDIR)/man1/rummage.1
	install -m 0644 contrib/completion/rummage.bash $(DESTDIR)$(BASHCOMPDIR)/rummage
	install -m 0644 contrib/completion/_rummage $(DESTDIR)$(ZSHCOMPDIR)/_rummage
	install -m 0755 contrib/docker-rummage $(DESTDIR)$(DOCKERPLUGINDIR)/docker-rummage
	install -m 0755 contrib/hooks/pre-commit contrib/hooks/pre-push $(DESTDIR)$(PREFIX)/share/rummage/hooks/

# The man page and the completion/plugin tables come from `rummage --help`: run after changing it.
man: $(BUILD)/rummage
	RUMMAGE=$(BUILD)/rummage python3 tools/gen_man.py

test-ecosystem: $(BUILD)/rummage
	BUILD=$(BUILD) tests/run.sh ecosystem

test-registry: $(BUILD)/rummage
	BUILD=$(BUILD) tests/run.sh registry

# Findings' origins on real dpkg, RECORD and npm databases (tests/cli/test_provenance.py);
# part of `make check`.
test-provenance: $(BUILD)/rummage
	BUILD=$(BUILD) tests/run.sh provenance

# Hostile input (tests/hostile/): bombs, damaged and malicious images, special files; part of
# `make check` (tests/run.sh runs it by default).
test-hostile: $(BUILD)/rummage
	BUILD=$(BUILD) tests/run.sh hostile

clean:
	rm -rf build build-san build-fuzz build-tsan build-valgrind

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/cli/main.d
