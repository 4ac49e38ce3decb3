# rummage: one GNU Makefile. `make demo` and `make check` install what is missing first.
#   make                 build build/rummage and build/librummage.a
#   make check           every test (unit, rules, CLI, engine differential); SANITIZE=address,undefined for sanitizers
#   make demo            scan the bundled sample
#   make bench           throughput against cat/grep on a generated corpus
#   make fuzz            libFuzzer targets (clang)
#   make install PREFIX=/usr/local   binary, man page, completions, Docker CLI plugin, push guard, hooks
#   make man             regenerate docs/rummage.1 and the completion tables from --help

PREFIX    ?= /usr/local
CC        ?= cc
CFLAGS    ?= -O2 -g
SANITIZE  ?=
BUILD     ?= build$(if $(SANITIZE),-san)

# Build and test dependencies (Debian 12 package names).
DEB_BUILD := build-essential pkg-config libpcre2-dev libarchive-dev libcjson-dev \
             libssl-dev zlib1g-dev libvectorscan-dev libcmocka-dev libcurl4-openssl-dev libisal-dev
DEB_TEST  := python3 python3-jsonschema openssl openssh-client clang libclang-rt-14-dev time \
             zsh git man-db groff-base
# Real images built at test time (tests/images/, samples/build_image.sh): see ../docs/images.md.
DEB_IMAGE := umoci skopeo buildah busybox-static zstd docker.io docker-registry apache2-utils podman
DEB_ALL   := $(DEB_BUILD) $(DEB_TEST) $(DEB_IMAGE)

PKGS      := libpcre2-8 libarchive libcjson libcrypto zlib libcurl
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

LIB_SRC   := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ   := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/rules_builtin.o
RULE_FILES := $(sort $(wildcard patterns/*.json))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps demo check test test-unit test-cli test-images test-context test-ecosystem test-registry man bench fuzz fuzz-smoke install clean _demo _check

all: $(BUILD)/rummage

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

$(BUILD)/embed: src/tools/embed.c src/regex_width.h | $(BUILD)/obj
	$(CC) -O1 -D_GNU_SOURCE $(DEFS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

$(BUILD)/rules_builtin.c: $(BUILD)/embed $(RULE_FILES)
	$(BUILD)/embed $@ $(RULE_FILES)

$(BUILD)/obj/rules_builtin.o: $(BUILD)/rules_builtin.c
	$(CC) -std=c11 $(CFLAGS) $(SANFLAGS) -c $< -o $@

$(BUILD)/librummage.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/rummage: $(BUILD)/obj/main.o $(BUILD)/librummage.a
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
DEB_BENCH := debootstrap pigz $(if $(shell command -v npm),,npm)
bench: deps
	@$(MAKE) --no-print-directory DEB_ALL="$(DEB_BENCH)" deps
	@$(MAKE) --no-print-directory $(BUILD)/rummage
	BUILD=$(BUILD) tests/bench.sh

FUZZ_BUILD := build-fuzz
fuzz: deps
	@$(MAKE) --no-print-directory CC=clang BUILD=$(FUZZ_BUILD) \
	    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" $(FUZZ_BUILD)/librummage.a
	mkdir -p $(FUZZ_BUILD)/fuzz
	for f in tests/fuzz/fuzz_*.c; do \
	    clang -O1 -g -fsanitize=fuzzer,address,undefined $(DEFS) -Iinclude -Isrc $(PKG_CFLAGS) \
	        -o $(FUZZ_BUILD)/fuzz/$$(basename $$f .c) $$f $(FUZZ_BUILD)/librummage.a $(LDLIBS) || exit 1; \
	done

fuzz-smoke: fuzz
	for t in $(FUZZ_BUILD)/fuzz/fuzz_*; do \
	    n=$$(basename $$t); mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	    $$t -max_total_time=20 -rss_limit_mb=2048 $(FUZZ_BUILD)/corpus/$$n tests/fuzz/corpus/$$n || exit 1; \
	done

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

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/main.d
