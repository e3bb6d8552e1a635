# SPDX-License-Identifier: MIT OR GPL-2.0
#
# mempool: one allocator core (common/), two builds.
#
# Under Kbuild (KERNELRELEASE set) the module is described by ./Kbuild and
# this file adds nothing.  Otherwise this is the userspace build and the
# home of every target: `make help` lists them, one line each (the "## "
# comment on each target's line; check-make fails on a target without one).
#
# make, make lib and make install need only make, a C compiler and
# liburcu's headers; they honour CC, CPPFLAGS, CFLAGS, LDFLAGS, DESTDIR,
# PREFIX, LIBDIR (and INCLUDEDIR, MANDIR, PKGCONFIGDIR).  Warnings are
# errors only with WERROR=1 (make check sets it).  Nothing here installs
# packages: tools/deps.sh does, as a step of its own; the deps targets only
# check and say what to run.
#
ifneq ($(KERNELRELEASE),)
# Kbuild reads ./Kbuild.
else

O ?= build
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# The header's MEMPOOL_VERSION_MAJOR.MINOR.PATCH; the soname is the major.
VERSION := $(shell sed -n 's/^\#define MEMPOOL_VERSION_\(MAJOR\|MINOR\|PATCH\)[[:space:]]*\([0-9]*\)$$/\2/p' \
	user/mempool.h | paste -sd.)
SOVER := $(firstword $(subst ., ,$(VERSION)))

CFLAGS ?= -O2 -g
SANFLAGS ?=
WERROR ?=
WARN := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
URCU_CFLAGS := $(shell pkg-config --cflags liburcu 2>/dev/null)

# The shared harness headers, taken from Debian's linux-source-6.1.
KSRC_TAR := /usr/src/linux-source-6.1.tar.xz
HDR := $(abspath build/include)

LIB_SRC := common/stack.c common/slab.c common/arena.c common/pool.c common/rcu.c \
	user/env.c user/lib.c
LIB_OBJ := $(patsubst %.c,$(O)/obj/%.o,$(LIB_SRC))
LIB_PIC := $(patsubst %.c,$(O)/pic/%.o,$(LIB_SRC))
HEADERS := $(wildcard common/*.h) user/mpool_env.h user/mempool.h \
	user/mpool_testing.h

TESTS := cases_test api_test threads_test keys_test checkers_test report_test protocol_test \
	rcu_test
TEST_BIN := $(addprefix $(O)/tests/,$(TESTS))

lib_cflags = $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) $(WARN) -std=gnu11 -pthread \
	-fvisibility=hidden -Icommon -Iuser $(URCU_CFLAGS)
test_cflags = $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) $(WARN) -std=gnu11 -pthread \
	-Wno-unused-parameter -Wno-sign-compare -Icommon -Iuser -I$(HDR) \
	$(URCU_CFLAGS)

.PHONY: all lib test run check sanitize sanitize-asan sanitize-tsan \
	install uninstall clean deps check-user check-clang check-install \
	module module-clean kunit kselftest lint deps-kernel check-kernel \
	bench bench-vs-malloc bench_vs_malloc bench-deps soak help man \
	abi-baseline check-names check-abi check-man check-make run-rcu-example \
	bench-rcu check-rcu-example
.DELETE_ON_ERROR:

all: lib ## build libmempool.a and libmempool.so (the default)

lib: $(O)/libmempool.a $(O)/libmempool.so ## the same: the static and the shared library

help: ## this list
	@sed -n 's/^\([a-zA-Z_-]*\):.*## \(.*\)/\1\t\2/p' $(MAKEFILE_LIST) | \
		awk -F'\t' '{ printf "  %-16s %s\n", $$1, $$2 }'

# The packages each set of targets needs, checked, never installed: a
# missing one stops the target with the command that installs it.
deps: ## check the packages the tests and checks need (tools/deps.sh user installs them)
	@bash tools/deps.sh --check user

$(O)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(lib_cflags) -DMPOOL_STATIC_LIB -c $< -o $@

$(O)/pic/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(lib_cflags) -fPIC -c $< -o $@

$(O)/libmempool.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# Only the symbols user/libmempool.map lists are exported, each with its
# symbol version.
$(O)/libmempool.so.$(VERSION): $(LIB_PIC) user/libmempool.map
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -shared -pthread \
		-Wl,-soname,libmempool.so.$(SOVER) \
		-Wl,--version-script=user/libmempool.map -o $@ $(LIB_PIC)

$(O)/libmempool.so: $(O)/libmempool.so.$(VERSION)
	ln -sf libmempool.so.$(VERSION) $(O)/libmempool.so.$(SOVER)
	ln -sf libmempool.so.$(VERSION) $@

$(HDR)/kselftest_harness.h: | deps
	@mkdir -p $(HDR)
	tar -xJf $(KSRC_TAR) -C $(HDR) --strip-components=4 \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h
	touch $@

$(O)/tests/%: tests/user/%.c tests/shared/mpool_cases.h tests/user/stepper.h $(HEADERS) \
		$(O)/libmempool.a $(HDR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(test_cflags) $(LDFLAGS) $(TEST_LDFLAGS_$*) $< \
		$(O)/libmempool.a $(TEST_LIBS_$*) -o $@

# rcu_test uses two liburcu flavours; the library itself links none.
TEST_LIBS_rcu_test := -lurcu-memb -lurcu-qsbr
TEST_LIBS_cases_test := -lurcu-memb

# report_test checks that reports name a function when dladdr() can: its
# functions are in the dynamic symbol table.
TEST_LDFLAGS_report_test := -rdynamic

# checkers_test runs this program, built with the same flags, under the
# memory checkers.
$(O)/tests/checkers_test: $(O)/tests/victim

# Run each test binary; its TAP goes to the terminal and to a log.
test: $(TEST_BIN) ## the unit tests (tests/user/*_test.c, kselftest harness, TAP)
	@mkdir -p $(O)/logs
	@for t in $(TESTS); do \
		echo "== $(O)/tests/$$t"; \
		$(TEST_ENV) $(O)/tests/$$t 2>&1 | tee $(O)/logs/$$t.tap; \
	done; \
	bash tools/tap-summary.sh $(addprefix $(O)/logs/,$(addsuffix .tap,$(TESTS)))

$(O)/example: tools/example.c $(O)/libmempool.a
	$(CC) $(test_cflags) $(LDFLAGS) $< $(O)/libmempool.a -o $@

run: lib $(O)/example ## build the library and run the demo, tools/example.c
	$(O)/example

# liburcu's rculfhash over pool blocks freed with pool_free_rcu(): the
# example links the flavour (memb) and liburcu-cds; libmempool links none.
$(O)/rculfhash: tools/examples/rculfhash.c $(O)/libmempool.a user/mempool.h
	$(CC) $(test_cflags) $(LDFLAGS) $< $(O)/libmempool.a \
		-lurcu-cds -lurcu-memb -o $@

RCU_EXAMPLE_SECONDS ?= 1
run-rcu-example: $(O)/rculfhash ## rculfhash over pool_free_rcu(): readers and updaters, checked
	$(O)/rculfhash -s $(RCU_EXAMPLE_SECONDS)

# --- benchmarks (never part of check: times are not tests) -----------------

# DPDK's rte_mempool joins as a peer when pkg-config finds libdpdk
# (tools/deps.sh bench installs dpdk-dev); without it the bench builds as
# before and "bench has dpdk" says no.  Its file gets DPDK's flags, bench.c
# does not.
DPDK_CFLAGS := $(shell pkg-config --cflags libdpdk 2>/dev/null)
DPDK_LIBS := $(shell pkg-config --libs libdpdk 2>/dev/null)
ifneq ($(DPDK_LIBS),)
BENCH_DPDK_OBJ := $(O)/bench/bench_dpdk.o
BENCH_DPDK_DEF := -DBENCH_HAVE_DPDK
endif

# Rewritten only when DPDK comes or goes, so that the bench is rebuilt then.
.PHONY: bench-dpdk-stamp
bench-dpdk-stamp: ## (internal) rewrites build/bench/dpdk.cfg when DPDK comes or goes
$(O)/bench/dpdk.cfg: bench-dpdk-stamp
	@mkdir -p $(dir $@)
	@echo '$(BENCH_DPDK_DEF)' | cmp -s - $@ || \
		echo '$(BENCH_DPDK_DEF)' > $@

$(O)/bench/bench_dpdk.o: tools/bench/bench_dpdk.c tools/bench/bench_dpdk.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -std=gnu11 -pthread $(DPDK_CFLAGS) \
		-c $< -o $@

$(O)/bench/bench: tools/bench/bench.c tools/bench/bench_dpdk.h \
		$(O)/libmempool.a $(O)/bench/dpdk.cfg $(BENCH_DPDK_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(test_cflags) $(LDFLAGS) $(BENCH_DPDK_DEF) $< $(BENCH_DPDK_OBJ) \
		$(O)/libmempool.a $(DPDK_LIBS) -o $@

bench-deps: ## check the benchmarks' packages (tools/deps.sh bench installs them)
	@bash tools/deps.sh --check bench

# Everything: tables, CSV and charts under build/bench, callgrind counts.
bench: | bench-deps ## every benchmark cell against glibc, jemalloc, mimalloc, tcmalloc, DPDK, a free list
	@$(MAKE) --no-print-directory $(O)/bench/bench $(O)/rculfhash
	python3 tools/bench/run.py suite --out $(abspath $(O))/bench

# The RCU cell alone: pool_free_rcu against malloc + call_rcu(free).
bench-rcu: $(O)/rculfhash ## pool_free_rcu against malloc + call_rcu(free) under rculfhash, readers running
	python3 tools/bench/run.py rcu

# The spec's head-to-head table, from a short run; the spec spells it
# bench_vs_malloc, which stays as an alias.
bench-vs-malloc: | bench-deps ## the spec's head-to-head table from a short run
	@$(MAKE) --no-print-directory $(O)/bench/bench
	python3 tools/bench/run.py vs-malloc --out $(abspath $(O))/bench

bench_vs_malloc: bench-vs-malloc ## alias of bench-vs-malloc, the spec's name

# --- sanitizers ---------------------------------------------------------

ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
TSAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=thread

sanitize: sanitize-asan sanitize-tsan ## the unit tests under ASan+UBSan, then under TSan

sanitize-asan: ## the unit tests under ASan and UBSan
	$(MAKE) --no-print-directory test O=build/asan CFLAGS= \
		SANFLAGS="$(ASAN_FLAGS)" \
		TEST_ENV="ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"

sanitize-tsan: ## the unit tests under TSan
	$(MAKE) --no-print-directory test O=build/tsan CFLAGS= \
		SANFLAGS="$(TSAN_FLAGS)" \
		TEST_ENV="TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1"

# --- soak: the concurrent stress for minutes, under TSan, then the in-kernel
# stress with CPU hotplug under KCSAN in the VM.  Not part of check.

SOAK_SECONDS ?= 75
soak: | deps ## the cross-thread stress under TSan, then the kernel's under KCSAN (SOAK_SECONDS=75)
	$(MAKE) --no-print-directory O=build/tsan CFLAGS= \
		SANFLAGS="$(TSAN_FLAGS)" build/tsan/tests/threads_test
	TSAN_OPTIONS=halt_on_error=1:abort_on_error=1 \
		MEMPOOL_SOAK_SECONDS=$(SOAK_SECONDS) \
		build/tsan/tests/threads_test 2>&1 | \
		tee build/tsan/soak.tap
	@! grep -q '^not ok' build/tsan/soak.tap
	MPOOL_SOAK_SECONDS=$$(( $(SOAK_SECONDS) * 4 )) \
		tools/vm/kernel-tests.sh kcsan soak

# --- install ------------------------------------------------------------

# The man pages are committed (man/man3, made by `make man`), so installing
# needs no kernel source.  INSTALLED is every file install writes and the
# only files uninstall removes; check-install holds them to it.
MAN_PAGES := $(sort $(wildcard man/man3/*.3))
INSTALLED := $(INCLUDEDIR)/mempool.h $(LIBDIR)/libmempool.a \
	$(LIBDIR)/libmempool.so.$(VERSION) $(LIBDIR)/libmempool.so.$(SOVER) \
	$(LIBDIR)/libmempool.so $(PKGCONFIGDIR)/mempool.pc \
	$(addprefix $(MANDIR)/man3/,$(notdir $(MAN_PAGES)))

install: lib ## header, libraries, mempool.pc, man pages (PREFIX=/usr/local LIBDIR= DESTDIR=)
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3
	install -m 644 user/mempool.h $(DESTDIR)$(INCLUDEDIR)/mempool.h
	install -m 644 $(O)/libmempool.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(O)/libmempool.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libmempool.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libmempool.so.$(SOVER)
	ln -sf libmempool.so.$(SOVER) $(DESTDIR)$(LIBDIR)/libmempool.so
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
		user/mempool.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/mempool.pc
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man3/

uninstall: ## remove exactly the files install wrote (same PREFIX, LIBDIR, DESTDIR)
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# --- the kernel module ----------------------------------------------------

# The newest installed headers unless told otherwise.
KVER ?= $(shell ls /lib/modules 2>/dev/null | sort -V | tail -1)
KDIR ?= /lib/modules/$(KVER)/build
KERNEL_VARIANTS := kasan kcsan

deps-kernel: ## check the kernel targets' packages (tools/deps.sh kernel installs them)
	@bash tools/deps.sh --check kernel

module: | deps-kernel ## mempool.ko for a kernel (KDIR=/lib/modules/<version>/build)
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

module-clean: ## remove what make module built
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# Each run writes build/logs/kernel-<kernel>-<suite>.{log,tap}.  The
# limits suite (mpool_limits_kunit.ko, a boot of its own with
# panic_on_warn=1) runs on the KASAN kernel only: it checks create
# arguments against fixed limits, which no data race or KCSAN changes, and
# one more TCG boot costs minutes.
kunit: | deps-kernel ## the KUnit suites in QEMU, on the KASAN and KCSAN kernels (limits: KASAN's)
	@rc=0; for v in $(KERNEL_VARIANTS); do \
		tools/vm/kernel-tests.sh $$v kunit || rc=1; done; \
	tools/vm/kernel-tests.sh kasan limits || rc=1; exit $$rc

kselftest: | deps-kernel ## the kselftest scripts in QEMU, on both test kernels and Debian's
	@rc=0; for v in $(KERNEL_VARIANTS) debian; do \
		tools/vm/kernel-tests.sh $$v kselftest || rc=1; done; exit $$rc

# checkpatch.pl comes from Debian's linux-source-6.1, unpacked at build
# time; sparse runs through Kbuild (C=2 checks every file).  checkpatch runs
# from its own directory: in a git work tree it would leave a
# .checkpatch-camelcase.git.* cache file behind.
CHECKPATCH_DIR := build/checkpatch
$(CHECKPATCH_DIR)/scripts/checkpatch.pl: | deps
	@mkdir -p $(CHECKPATCH_DIR)
	tar -xJf $(KSRC_TAR) -C $(CHECKPATCH_DIR) --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/kernel-doc \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	touch $@

LINT_SRC := $(wildcard common/*.[ch] kernel/*.[ch])
lint: $(CHECKPATCH_DIR)/scripts/checkpatch.pl | deps-kernel ## checkpatch --strict, sparse, kernel-doc on common/ and kernel/
	@mkdir -p build/logs
	@{ echo "TAP version 13"; echo "1..3"; \
	if (cd $(CHECKPATCH_DIR) && scripts/checkpatch.pl --strict --no-tree \
		--quiet -f $(abspath $(LINT_SRC))) >build/logs/checkpatch.out 2>&1; \
	then echo "ok 1 checkpatch.pl --strict: common/, kernel/, the example module"; \
	else cat build/logs/checkpatch.out >&2; \
		echo "not ok 1 checkpatch.pl --strict: common/, kernel/, the example module"; fi; \
	flock build/.kmod.lock $(MAKE) -s -C $(KDIR) M=$(CURDIR) C=2 \
		MPOOL_TESTS=1 modules >build/logs/sparse.out 2>&1; \
	flock build/.kmod.lock $(MAKE) -s -C $(KDIR) \
		M=$(CURDIR)/tools/examples/kmod C=2 modules \
		>>build/logs/sparse.out 2>&1; \
	if ! grep -E 'warning:|error:' build/logs/sparse.out >&2; \
	then echo "ok 2 sparse (make C=2): no warnings"; \
	else echo "not ok 2 sparse (make C=2): no warnings"; fi; \
	if $(CHECKPATCH_DIR)/scripts/kernel-doc -none $(LINT_SRC) user/mempool.h \
		>build/logs/kernel-doc.out 2>&1 && \
		! grep -q warning build/logs/kernel-doc.out; \
	then echo "ok 3 kernel-doc: every documented function and struct"; \
	else cat build/logs/kernel-doc.out >&2; \
		echo "not ok 3 kernel-doc: every documented function and struct"; fi; \
	} > build/logs/lint.tap
	@cat build/logs/lint.tap

check-kernel: lint kunit kselftest ## the kernel half of check: lint, kunit, kselftest

# --- reference documentation -------------------------------------------
#
# The man pages (section 3) are made from mempool.h's kernel-doc comments
# by the kernel's scripts/kernel-doc (in linux-source-6.1, unpacked with
# checkpatch.pl) and committed in man/man3, so that make install needs no
# kernel source; check-man fails when they are stale.
KERNEL_DOC := $(CHECKPATCH_DIR)/scripts/kernel-doc
$(KERNEL_DOC): $(CHECKPATCH_DIR)/scripts/checkpatch.pl ;

man: $(KERNEL_DOC) ## remake man/man3 from mempool.h's kernel-doc (commit the result)
	bash tools/mkman.sh $(KERNEL_DOC) man/man3

check-man: $(KERNEL_DOC) ## man/man3 is up to date with mempool.h, complete, and renders cleanly
	@mkdir -p build/logs
	@LOG=build/logs/man.out bash tests/build/check-man.sh $(KERNEL_DOC) \
		build/man/man3 > build/logs/man.tap; cat build/logs/man.tap

# --- the ABI ------------------------------------------------------------
#
# abi/libmempool.abi is the ABI of libmempool.so (libabigail's abidw, the
# declarations of mempool.h only); check-abi compares a fresh build with
# abidiff and fails on any change but added calls.  Both build the library
# apart (build/abi), with debug information, whatever CFLAGS say.
ABI_SO := build/abi/libmempool.so.$(VERSION)
abi_build = $(MAKE) --no-print-directory -s O=build/abi CFLAGS="-O2 -g" \
	SANFLAGS= build/abi/libmempool.so

abi-baseline: ## rewrite abi/libmempool.abi after an intended ABI change (commit it)
	@$(abi_build)
	bash tests/build/check-abi.sh dump $(ABI_SO) abi/libmempool.abi

check-abi: | deps ## the ABI of libmempool.so against abi/libmempool.abi (abidiff)
	@$(abi_build)
	@mkdir -p build/logs
	@LOG=build/logs/abi.out bash tests/build/check-abi.sh check $(ABI_SO) \
		abi/libmempool.abi > build/logs/abi.tap; cat build/logs/abi.tap

# --- the library's names, install and Makefile ---------------------------

check-names: lib ## exported symbols are mempool_*, versioned; short names and MEMPOOL_NO_SHORT_NAMES work
	@mkdir -p build/logs
	@O=$(O) CC="$(CC)" WARN="$(WARN)" VERSION=$(VERSION) \
		LOG=build/logs/names.out bash tests/build/check-names.sh \
		> build/logs/names.tap; cat build/logs/names.tap

check-make: ## the Makefile: no deps for lib/install, flags honoured, WERROR, make help
	@mkdir -p build/logs
	@MAKE="$(MAKE)" LOG=build/logs/make.out bash tests/build/check-make.sh \
		> build/logs/make.tap; cat build/logs/make.tap

# --- check: everything, with one summary line ----------------------------

CHECK_LOGS = $(foreach d,build build/asan build/tsan,\
		$(addprefix $(d)/logs/,$(addsuffix .tap,$(TESTS)))) \
	build/logs/clang.tap build/logs/install.tap build/logs/lint.tap \
	build/logs/fuzz.tap build/logs/names.tap build/logs/abi.tap \
	build/logs/man.tap build/logs/make.tap build/logs/relacy.tap \
	build/logs/rcu-example.tap \
	$(foreach v,$(KERNEL_VARIANTS),build/logs/kernel-$(v)-kunit.tap) \
	build/logs/kernel-kasan-limits.tap \
	$(foreach v,$(KERNEL_VARIANTS) debian,build/logs/kernel-$(v)-kselftest.tap)

# The library and tests build warning-free under clang too.
check-clang: | deps ## the library and tests build with clang -Wall -Wextra -Werror
	@mkdir -p build/logs
	@if $(MAKE) --no-print-directory -s O=build/clang CC=clang WERROR=1 lib \
		$(addprefix build/clang/tests/,$(TESTS)) >build/logs/clang.out 2>&1; \
	then echo "ok 1 clang -Wall -Wextra -Werror build"; \
	else cat build/logs/clang.out; \
		echo "not ok 1 clang -Wall -Wextra -Werror build"; fi \
		> build/logs/clang.tap
	@cat build/logs/clang.tap

# make install into a staging root beside files not ours; build and run an
# app with pkg-config; read the man pages; make uninstall leaves the others.
check-install: lib ## install, pkg-config build and run, man pages, uninstall, in build/stage
	@mkdir -p build/logs
	@MAKE="$(MAKE)" CC="$(CC)" VERSION=$(VERSION) SOVER=$(SOVER) \
		LOG=build/logs/install.out bash tests/build/check-install.sh \
		> build/logs/install.tap; cat build/logs/install.tap

# The rculfhash example, a quick run: readers and updaters, results checked.
check-rcu-example: $(O)/rculfhash ## run-rcu-example as a test (TAP in build/logs/rcu-example.tap)
	@mkdir -p build/logs
	@if $(O)/rculfhash -s 1 >build/logs/rcu-example.out 2>&1; \
	then echo "ok 1 rculfhash over pool_free_rcu: $$(cat build/logs/rcu-example.out)"; \
	else cat build/logs/rcu-example.out; \
		echo "not ok 1 rculfhash over pool_free_rcu"; fi | \
		{ echo "TAP version 13"; echo "1..1"; cat; } > build/logs/rcu-example.tap
	@cat build/logs/rcu-example.tap

CHECK_USER := test sanitize check-clang check-install check-fuzz check-names \
	check-abi check-man check-make relacy check-rcu-example
check-user: $(CHECK_USER) ## the userspace half of check

# Warnings are errors in check (and so in CI).
check: ## every test the project has (WERROR=1); ends "N passed, N failed, N skipped"
	@rm -rf build/logs build/asan/logs build/tsan/logs
	@$(MAKE) --no-print-directory -k check-user check-kernel WERROR=1 || true
	@echo "== summary"
	@bash tools/tap-summary.sh $(CHECK_LOGS)

# --- the kernel benchmark -------------------------------------------------

# mempool.ko's per-CPU pool against kmem_cache, the kernel's mempool and a
# bare per-CPU free list, inside Debian's stock kernel in QEMU (a few
# minutes): writes build/bench/kernel.csv and prints the medians.
.PHONY: bench-kernel
bench-kernel: | deps-kernel ## the kernel benchmark module on Debian's stock kernel in QEMU
	@bash tools/bench/kernel-bench.sh

# --- installing mempool.ko; the example user module ---------------------
#
# make module builds mempool.ko alone: Kbuild adds the test modules only
# with MPOOL_TESTS=1, which the test runners (tools/vm/kernel-tests.sh,
# make lint) pass.  So the kernel's modules_install, and DKMS, install
# mempool.ko and nothing else.
.PHONY: module-install kmod-example

# depmod runs here because Debian's headers carry no System.map, without
# which the kernel's modules_install skips it.
module-install: module ## install mempool.ko alone into /lib/modules/$(KVER)/extra (INSTALL_MOD_PATH=)
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KVER)

kmod-example: module ## the example user module, tools/examples/kmod, against this mempool.ko
	$(MAKE) -C $(KDIR) M=$(CURDIR)/tools/examples/kmod modules

# make lint checks the example module as it checks common/ and kernel/.
LINT_SRC += tools/examples/kmod/mpool_example.c

# --- DKMS: mempool.ko built for every installed kernel --------------------
#
#   make dkms-src-install  the module's sources and dkms.conf into
#                          $(DESTDIR)/usr/src/mempool-<version>, what the
#                          Debian package mempool-dkms ships
#   make dkms-install      that, then dkms add, and dkms install (build and
#                          install) for every kernel whose headers are in
#                          /lib/modules/*/build; as root
#   make dkms-uninstall    dkms remove for every kernel, and the sources
#
# <version> is dkms.conf's PACKAGE_VERSION (tools/deb-test.sh checks that it
# is VERSION).  Always under /usr/src: DKMS looks nowhere else.
.PHONY: dkms-src-install dkms-install dkms-uninstall

DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_DIR = $(DESTDIR)/usr/src/mempool-$(DKMS_VERSION)
DKMS_FILES := dkms.conf Kbuild $(wildcard common/*.[ch] kernel/*.[ch])

dkms-src-install: ## the module's sources and dkms.conf into $(DESTDIR)/usr/src/mempool-<version>
	for f in $(DKMS_FILES); do \
		install -D -m 644 $$f $(DKMS_DIR)/$$f || exit 1; \
	done
	install -D -m 755 tools/dkms/post-build.sh \
		$(DKMS_DIR)/tools/dkms/post-build.sh

dkms-install: ## that, then dkms add and install for every kernel with headers (root)
	$(MAKE) --no-print-directory dkms-src-install DESTDIR=
	dkms add mempool/$(DKMS_VERSION)
	for b in /lib/modules/*/build; do \
		[ -d $$b ] || continue; \
		dkms install mempool/$(DKMS_VERSION) \
			-k $$(basename $$(dirname $$b)) || exit 1; \
	done

dkms-uninstall: ## dkms remove for every kernel, and the sources (root)
	-dkms remove mempool/$(DKMS_VERSION) --all
	rm -rf /usr/src/mempool-$(DKMS_VERSION)

# --- Debian packages --------------------------------------------------------
#
#   make deb        dpkg-buildpackage -us -uc -b from a copy of the tree in
#                   build/deb/src (it cleans its source tree): libmempool1,
#                   libmempool-dev and mempool-dkms in build/deb/, and
#                   lintian's report in build/deb/lintian.txt
#   make check-pkg  that, then install the packages as a user would, build
#                   and run tools/example.c with plain pkg-config, let DKMS
#                   build mempool.ko for the installed headers, build the
#                   example module against the installed source, purge it
#                   all and check the machine is as it was; as root (else
#                   it skips, saying why); writes build/logs/pkg.tap
.PHONY: deb check-pkg

deb: ## the Debian packages, built from a copy of the tree into build/deb
	@bash tools/deb-test.sh build

check-pkg: ## build, install, use, DKMS-build and purge the Debian packages (root)
	@bash tools/deb-test.sh check

# make check runs it with the userspace half (check-user).
check-user: check-pkg
CHECK_LOGS += build/logs/pkg.tap

# --- fuzzing: libFuzzer harnesses (clang) ---------------------------------
#
#   make fuzz          each harness in turn for FUZZ_TIME seconds (600) on
#                      build/fuzz/corpus-<name> (the seeds of
#                      tests/fuzz/corpus/<name> plus what earlier runs found);
#                      FUZZ_SAVE=1 then adds to the seeds the fewest inputs
#                      that reach the new edges (a few dozen small files)
#   make check-fuzz    each for FUZZ_CHECK_TIME seconds (60) from the seeds
#                      alone; writes build/logs/fuzz.tap
#
# A crash leaves its input in build/fuzz/crash-<name>/; replay it with
# build/fuzz/<name> FILE.  The harnesses link the library's sources, built
# with their sanitizers: ASan and UBSan for mpool_fuzz; ASan alone for the
# threaded mpool_fuzz_mt (ThreadSanitizer does not mix with libFuzzer).
.PHONY: fuzz check-fuzz fuzz-build

FUZZ_TIME ?= 600
FUZZ_CHECK_TIME ?= 60
FUZZ_SAVE ?= 0
FUZZ_CC ?= clang
FUZZ := mpool_fuzz mpool_fuzz_mt
FUZZ_BIN := $(addprefix build/fuzz/,$(FUZZ))
FUZZ_OPTS := -timeout=30 -print_final_stats=1
fuzz_cflags = -O1 -g -fno-omit-frame-pointer $(WARN) -std=gnu11 -pthread \
	-Icommon -Iuser $(URCU_CFLAGS)
FUZZ_SAN_mpool_fuzz := -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all
FUZZ_SAN_mpool_fuzz_mt := -fsanitize=fuzzer,address

fuzz-build: $(FUZZ_BIN) ## build the libFuzzer harnesses (clang)

$(FUZZ_BIN): build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(HEADERS) | deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(fuzz_cflags) $(FUZZ_SAN_$*) $< $(LIB_SRC) -o $@

# One fuzzing process at a time: the machines have two cores.
fuzz: $(FUZZ_BIN) ## each fuzzer for FUZZ_TIME seconds (600); FUZZ_SAVE=1 grows the corpus
	@rc=0; for f in $(FUZZ); do \
		c=build/fuzz/corpus-$$f; \
		echo "== $$f: $(FUZZ_TIME) s on $$c"; \
		mkdir -p $$c build/fuzz/crash-$$f; \
		cp tests/fuzz/corpus/$$f/* $$c/; \
		build/fuzz/$$f $(FUZZ_OPTS) -max_total_time=$(FUZZ_TIME) \
			-artifact_prefix=build/fuzz/crash-$$f/ $$c || rc=1; \
		if [ "$(FUZZ_SAVE)" = 1 ]; then \
			build/fuzz/$$f -set_cover_merge=1 -use_counters=0 \
				tests/fuzz/corpus/$$f $$c 2>&1 | \
				grep 'MERGE-OUTER: [0-9]* new'; \
		fi; \
	done; exit $$rc

check-fuzz: | deps ## each fuzzer for FUZZ_CHECK_TIME seconds (60) from the seeds
	@mkdir -p build/logs
	@{ echo "TAP version 13"; echo "1..2"; n=0; \
	for f in $(FUZZ); do \
		n=$$((n + 1)); log=build/logs/fuzz-$$f.log; \
		c=build/fuzz/check-corpus-$$f; a=build/fuzz/crash-$$f; \
		if ! $(MAKE) --no-print-directory -s build/fuzz/$$f \
			>$$log 2>&1; then \
			echo "not ok $$n $$f: build failed (log $$log)"; \
			continue; \
		fi; \
		rm -rf $$c $$a && mkdir -p $$c $$a && \
		cp tests/fuzz/corpus/$$f/* $$c/; \
		build/fuzz/$$f $(FUZZ_OPTS) -max_total_time=$(FUZZ_CHECK_TIME) \
			-artifact_prefix=$$a/ $$c >$$log 2>&1; rc=$$?; \
		runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' \
			$$log | tail -1); \
		crash=$$(sed -n 's/.*Test unit written to //p' $$log | tail -1); \
		if [ $$rc -eq 0 ]; then \
			echo "ok $$n $$f: $(FUZZ_CHECK_TIME) s, $${runs:-?} runs, no crash"; \
		else \
			echo "not ok $$n $$f: $(FUZZ_CHECK_TIME) s, $${runs:-?} runs, crash $${crash:-(no input written)}, exit $$rc (log $$log)"; \
		fi; \
	done; } > build/logs/fuzz.tap
	@cat build/logs/fuzz.tap

# --- model checking: the core's lock-free code under Relacy (issue 13) -----
#
#   make relacy        the litmus cases of every tests/relacy/*_litmus.cpp
#                      (each one binary) on the core's own files: stack.c
#                      (stack_litmus), and stack.c, slab.c and pool.c, the
#                      ownership and remote-free protocol (pool_litmus),
#                      compiled as C++ in a third world whose mpool_env.h
#                      maps the atomic verbs onto Relacy's model of C++11
#                      atomics; then the harness's self-test: each planted
#                      bug below must make its litmus case fail.
#                      Writes build/logs/relacy.tap; Relacy's histories of
#                      failing executions go to build/logs/relacy.log.
#   make relacy-litmus the litmus cases alone (what tools/mutants.sh runs)
#
# A plant is a core file (RELACY_FILE_<name>, stack.c unless named)
# rewritten by sed into build/relacy/<name>/ (the sed must change the file,
# or the build stops: a plant that no longer applies is not silently a copy
# of the real code), or the real file under a weakened world or litmus
# (-D), compiled into litmus RELACY_BIN_<name> (stack_litmus unless named).
# docs/testing.md, "Model checking", says how to add a case or a plant.
.PHONY: relacy relacy-litmus

RELACY_CXX ?= g++
relacy_cxxflags = -std=gnu++11 -O1 $(WARN) -Wno-unused-parameter \
	-Itests/relacy -Icommon
RELACY_LITMUS := $(patsubst tests/relacy/%.cpp,build/relacy/%,\
	$(wildcard tests/relacy/*_litmus.cpp))
# A litmus file may #include any core file.
RELACY_DEPS := tests/relacy/mpool_env.h tests/relacy/litmus_main.h \
	$(wildcard common/*.[ch])
# C's void * conversions in slab.c and pool.c are C++ errors (in paths the
# litmus never runs); GCC cannot silence them but all at once.
RELACY_FLAGS_pool_litmus := -fpermissive -w
# The macro through which a litmus file takes a planted core file.
RELACY_MACRO_stack.c := MPOOL_STACK_C
RELACY_MACRO_pool.c := MPOOL_POOL_C

RELACY_PLANTS := relaxed-head no-tag relaxed-cas remote-cas-store \
	cas-not-full no-rnext-claim steal-mark-any steal-no-wait \
	steal-no-membarrier outbox-no-membarrier outbox-no-request
RELACY_SED_relaxed-head := s/u64 old = mpool_load_acquire(&st->head);/u64 old = MPOOL_READ(st->head);/
RELACY_CASE_relaxed-head := publish_chain
RELACY_WHAT_relaxed-head := head load in mpool_stack_pop() relaxed, not acquire
RELACY_SED_no-tag := s/return (((old >> 32) + 1) << 32) | idx;/return ((old >> 32) << 32) | idx;/
RELACY_CASE_no-tag := aba
RELACY_WHAT_no-tag := no tag bump in mpool_head()
RELACY_DEF_relaxed-cas := -DMPOOL_RL_CAS_OK=rl::mo_relaxed \
	-DMPOOL_RL_CAS_FAIL=rl::mo_relaxed
RELACY_CASE_relaxed-cas := depot
RELACY_WHAT_relaxed-cas := a world whose compare-and-swap is relaxed
# The ownership protocol's plants: common/pool.c into pool_litmus.
$(foreach p,remote-cas-store cas-not-full no-rnext-claim \
	steal-mark-any steal-no-wait steal-no-membarrier outbox-no-membarrier \
	outbox-no-request,\
	$(eval RELACY_FILE_$(p) := pool.c)$(eval RELACY_BIN_$(p) := pool_litmus))
RELACY_SED_remote-cas-store := /Nothing to check or poison/,/&seen);/s/err = __mpool_cas_state(s, idx, w,$$/MPOOL_WRITE(s->state[idx], mpool_blk_word(w, MPOOL_BLK_REMOTE_TAG | o)); err = 0 \&\& __mpool_cas_state(s, idx, w,/
RELACY_CASE_remote-cas-store := remote_remote
RELACY_WHAT_remote-cas-store := in a remote free, the ALLOC->REMOTE compare-and-swap made a plain store
RELACY_DEF_cas-not-full := -DMPOOL_RL_CAS_NOT_FULL
RELACY_CASE_cas-not-full := stale_unlink
RELACY_WHAT_cas-not-full := a world whose successful compare-and-swap is not a full barrier (a C11 seq_cst swap alone)
RELACY_SED_no-rnext-claim := s/if (!mpool_try_cmpxchg(&p->rnext\[idx\], &old, MPOOL_NIL))/if (0)/
RELACY_CASE_no-rnext-claim := stale_unlink
RELACY_WHAT_no-rnext-claim := remote free pushes without claiming rnext[]
RELACY_SED_steal-mark-any := /^static void mpool_steal_mark_one/,/^}/s/if (mpool_blk_state(w) == (MPOOL_BLK_REMOTE_TAG | owner))$$/if (1)/
RELACY_CASE_steal-mark-any := steal
RELACY_WHAT_steal-mark-any := thief marks blocks that are not REMOTE (stale entries)
RELACY_DEF_steal-no-wait := -DPLANT_STEAL_NO_WAIT
RELACY_CASE_steal-no-wait := steal
RELACY_WHAT_steal-no-wait := thief takes without waiting for the busy flag of the owner
RELACY_DEF_steal-no-membarrier := -DPLANT_STEAL_NO_MEMBARRIER
RELACY_CASE_steal-no-membarrier := steal
RELACY_WHAT_steal-no-membarrier := thief runs no membarrier()
RELACY_DEF_outbox-no-membarrier := -DPLANT_OUTBOX_NO_MEMBARRIER
RELACY_CASE_outbox-no-membarrier := outbox_steal
RELACY_WHAT_outbox-no-membarrier := outbox thief runs no membarrier()
RELACY_SED_outbox-no-request := s/if (unlikely(mpool_load_acquire(&c->ob_req)))$$/if (0)/
RELACY_CASE_outbox-no-request := outbox_steal
RELACY_WHAT_outbox-no-request := a remote freer fills its outbox without looking for the request of a thief

build/relacy/%_litmus: tests/relacy/%_litmus.cpp $(RELACY_DEPS) | deps
	@mkdir -p $(dir $@)
	$(RELACY_CXX) $(relacy_cxxflags) $(RELACY_FLAGS_$*_litmus) $< -o $@

# The rules of plant $(1): its planted file and its litmus binary.
define relacy_plant
RELACY_FILE_$(1) ?= stack.c
RELACY_BIN_$(1) ?= stack_litmus
build/relacy/$(1)/$$(RELACY_FILE_$(1)): common/$$(RELACY_FILE_$(1)) Makefile
	@mkdir -p $$(dir $$@)
	sed '$$(RELACY_SED_$(1))' $$< > $$@
	@if [ -n '$$(RELACY_SED_$(1))' ] && cmp -s $$< $$@; then \
		echo "relacy plant $(1): pattern not found in $$<" >&2; \
		rm -f $$@; exit 1; fi
build/relacy/$(1)/$$(RELACY_BIN_$(1)): build/relacy/$(1)/$$(RELACY_FILE_$(1)) \
		tests/relacy/$$(RELACY_BIN_$(1)).cpp $$(RELACY_DEPS) | deps
	$$(RELACY_CXX) $$(relacy_cxxflags) $$(RELACY_DEF_$(1)) \
		$$(RELACY_FLAGS_$$(RELACY_BIN_$(1))) \
		-D$$(RELACY_MACRO_$$(RELACY_FILE_$(1)))='"$$(abspath $$<)"' \
		tests/relacy/$$(RELACY_BIN_$(1)).cpp -o $$@
# Kept for a look at what was planted.
.SECONDARY: build/relacy/$(1)/$$(RELACY_FILE_$(1))
endef
$(foreach p,$(RELACY_PLANTS),$(eval $(call relacy_plant,$(p))))

RELACY_BINS = $(RELACY_LITMUS) \
	$(foreach p,$(RELACY_PLANTS),build/relacy/$(p)/$(RELACY_BIN_$(p)))
relacy: $(RELACY_BINS) ## the lock-free code and the ownership protocol under Relacy's C++11 memory model; the planted bugs must be caught
	@mkdir -p build/logs
	@bash tests/relacy/run.sh build/logs/relacy.log $(RELACY_LITMUS) -- \
		$(foreach p,$(RELACY_PLANTS),\
		'$(p):$(RELACY_BIN_$(p)):$(RELACY_CASE_$(p)):$(RELACY_WHAT_$(p))') \
		> build/logs/relacy.tap; rc=$$?; cat build/logs/relacy.tap; exit $$rc

relacy-litmus: $(RELACY_LITMUS) ## the Relacy litmus cases alone
	@mkdir -p build/logs
	@: > build/logs/relacy-litmus.log; rc=0; \
		for b in $(RELACY_LITMUS); do \
		$$b -l build/logs/relacy-litmus.log || rc=1; \
		done > build/logs/relacy-litmus.tap; \
		cat build/logs/relacy-litmus.tap; exit $$rc

# --- mutation testing (issue 13): not part of check --------------------------
#
#   make mutants       tools/mutants.sh: each mutant of tools/mutants.sh's
#                      list applied alone to a copy of the tree under
#                      build/mutants/, the userspace suite run on it, and
#                      what caught it; ends with the kill rate (tens of
#                      minutes: one make test per mutant).  MUTANTS=names
#                      runs a few.
.PHONY: mutants
MUTANTS ?=
mutants: | deps ## mutation testing of the userspace suite (not part of check)
	@bash tools/mutants.sh $(MUTANTS)

# The library's build and every by-product of a Kbuild run in this tree
# (module, stress and KUnit objects, .cmd files, Module.symvers).
clean: ## remove build/ and every by-product of a Kbuild run
	rm -rf build
	find . \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o \
		-name '*.mod.c' -o -name '.*.cmd' -o -name '*.o.d' -o \
		-name '.*.o.d' \) -not -path './.git/*' -delete
	rm -f Module.symvers modules.order .checkpatch-camelcase.*
	rm -rf .tmp_versions

endif
