# SPDX-License-Identifier: MIT OR GPL-2.0
#
# mempool: one allocator core (common/), two builds.
#
# Under Kbuild (KERNELRELEASE set) the module is described by ./Kbuild and
# this file adds nothing.  Otherwise this is the userspace build and the
# home of every target:
#
#   make               build libmempool (static and shared), run unit tests
#   make run           the main job: build everything, run the demo
#   make check         every test the project has; ends "N passed, N failed"
#   make test          the unit tests (kselftest harness)
#   make sanitize      the unit tests under ASan+UBSan, then under TSan
#   make install       PREFIX=/usr/local DESTDIR= : header, libs, mempool.pc
#   make module        mempool.ko for a kernel: KDIR=/lib/modules/<ver>/build
#   make kunit         the KUnit suites in QEMU, on the KASAN and KCSAN kernels
#   make kselftest     the kselftest scripts in QEMU, on both test kernels and
#                      on Debian's stock kernel
#   make lint          checkpatch --strict, sparse, kernel-doc: common/, kernel/
#   make bench         every benchmark cell against glibc, jemalloc, mimalloc,
#                      tcmalloc and a bare free list; CSV, charts, callgrind
#   make bench_vs_malloc  the head-to-head table from a short run
#
ifneq ($(KERNELRELEASE),)
# Kbuild reads ./Kbuild.
else

O ?= build
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
VERSION := 1.0.0
SOVER := 1

CC ?= gcc
CFLAGS ?= -O2 -g
SANFLAGS ?=
WARN := -Wall -Wextra -Werror
URCU_CFLAGS := $(shell pkg-config --cflags liburcu 2>/dev/null)

# The shared harness headers, taken from Debian's linux-source-6.1.
KSRC_TAR := /usr/src/linux-source-6.1.tar.xz
HDR := $(abspath build/include)

LIB_SRC := common/stack.c common/slab.c common/arena.c common/pool.c \
	user/env.c user/lib.c
LIB_OBJ := $(patsubst %.c,$(O)/obj/%.o,$(LIB_SRC))
LIB_PIC := $(patsubst %.c,$(O)/pic/%.o,$(LIB_SRC))
HEADERS := $(wildcard common/*.h) user/mpool_env.h user/mempool.h \
	user/mpool_testing.h

TESTS := cases_test api_test threads_test keys_test checkers_test
TEST_BIN := $(addprefix $(O)/tests/,$(TESTS))

lib_cflags = $(CFLAGS) $(SANFLAGS) $(WARN) -std=gnu11 -pthread \
	-fvisibility=hidden -Icommon -Iuser $(URCU_CFLAGS)
test_cflags = $(CFLAGS) $(SANFLAGS) $(WARN) -std=gnu11 -pthread \
	-Wno-unused-parameter -Wno-sign-compare -Icommon -Iuser -I$(HDR) \
	$(URCU_CFLAGS)

.PHONY: all lib test run check sanitize sanitize-asan sanitize-tsan \
	install uninstall clean deps check-user check-clang check-install \
	module module-clean kunit kselftest lint deps-kernel check-kernel \
	bench bench_vs_malloc bench-deps soak
.DELETE_ON_ERROR:

all: lib test

lib: $(O)/libmempool.a $(O)/libmempool.so

deps:
	@bash tools/deps.sh user

$(O)/obj/%.o: %.c $(HEADERS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(lib_cflags) -c $< -o $@

$(O)/pic/%.o: %.c $(HEADERS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(lib_cflags) -fPIC -c $< -o $@

$(O)/libmempool.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(O)/libmempool.so.$(VERSION): $(LIB_PIC)
	$(CC) $(CFLAGS) $(SANFLAGS) -shared -pthread \
		-Wl,-soname,libmempool.so.$(SOVER) -o $@ $^

$(O)/libmempool.so: $(O)/libmempool.so.$(VERSION)
	ln -sf libmempool.so.$(VERSION) $(O)/libmempool.so.$(SOVER)
	ln -sf libmempool.so.$(VERSION) $@

$(HDR)/kselftest_harness.h: | deps
	@mkdir -p $(HDR)
	tar -xJf $(KSRC_TAR) -C $(HDR) --strip-components=4 \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h
	touch $@

$(O)/tests/%: tests/user/%.c tests/shared/mpool_cases.h $(HEADERS) \
		$(O)/libmempool.a $(HDR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(test_cflags) $< $(O)/libmempool.a -o $@

# checkers_test runs this program, built with the same flags, under the
# memory checkers.
$(O)/tests/checkers_test: $(O)/tests/victim

# Run each test binary; its TAP goes to the terminal and to a log.
test: $(TEST_BIN)
	@mkdir -p $(O)/logs
	@for t in $(TESTS); do \
		echo "== $(O)/tests/$$t"; \
		$(TEST_ENV) $(O)/tests/$$t 2>&1 | tee $(O)/logs/$$t.tap; \
	done; \
	bash tools/tap-summary.sh $(addprefix $(O)/logs/,$(addsuffix .tap,$(TESTS)))

$(O)/example: tools/example.c $(O)/libmempool.a
	$(CC) $(test_cflags) $< $(O)/libmempool.a -o $@

run: lib $(O)/example
	$(O)/example

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
$(O)/bench/dpdk.cfg: bench-dpdk-stamp
	@mkdir -p $(dir $@)
	@echo '$(BENCH_DPDK_DEF)' | cmp -s - $@ || \
		echo '$(BENCH_DPDK_DEF)' > $@

$(O)/bench/bench_dpdk.o: tools/bench/bench_dpdk.c tools/bench/bench_dpdk.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=gnu11 -pthread $(DPDK_CFLAGS) -c $< -o $@

$(O)/bench/bench: tools/bench/bench.c tools/bench/bench_dpdk.h \
		$(O)/libmempool.a $(O)/bench/dpdk.cfg $(BENCH_DPDK_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(test_cflags) $(BENCH_DPDK_DEF) $< $(BENCH_DPDK_OBJ) \
		$(O)/libmempool.a $(DPDK_LIBS) -o $@

bench-deps:
	@bash tools/deps.sh bench

# Both build the bench in a second make, after bench-deps: that may just
# have installed DPDK, which this make looked for before.

# Everything: tables, CSV and charts under build/bench, callgrind counts.
bench: | bench-deps
	@$(MAKE) --no-print-directory $(O)/bench/bench
	python3 tools/bench/run.py suite --out $(abspath $(O))/bench

# The spec's head-to-head table, from a short run.
bench_vs_malloc: | bench-deps
	@$(MAKE) --no-print-directory $(O)/bench/bench
	python3 tools/bench/run.py vs-malloc --out $(abspath $(O))/bench

# --- sanitizers ---------------------------------------------------------

ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
TSAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=thread

sanitize: sanitize-asan sanitize-tsan

sanitize-asan:
	$(MAKE) --no-print-directory test O=build/asan CFLAGS= \
		SANFLAGS="$(ASAN_FLAGS)" \
		TEST_ENV="ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"

sanitize-tsan:
	$(MAKE) --no-print-directory test O=build/tsan CFLAGS= \
		SANFLAGS="$(TSAN_FLAGS)" \
		TEST_ENV="TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1"

# --- soak: the concurrent stress for minutes, under TSan, then the in-kernel
# stress with CPU hotplug under KCSAN in the VM.  Not part of check.

SOAK_SECONDS ?= 75
soak: | deps
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

install: lib
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 user/mempool.h $(DESTDIR)$(INCLUDEDIR)/mempool.h
	install -m 644 $(O)/libmempool.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(O)/libmempool.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libmempool.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libmempool.so.$(SOVER)
	ln -sf libmempool.so.$(SOVER) $(DESTDIR)$(LIBDIR)/libmempool.so
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
		user/mempool.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/mempool.pc

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/mempool.h $(DESTDIR)$(LIBDIR)/libmempool.* \
		$(DESTDIR)$(PKGCONFIGDIR)/mempool.pc

# --- the kernel module ----------------------------------------------------

# The newest installed headers unless told otherwise.
KVER ?= $(shell ls /lib/modules 2>/dev/null | sort -V | tail -1)
KDIR ?= /lib/modules/$(KVER)/build
KERNEL_VARIANTS := kasan kcsan

deps-kernel:
	@bash tools/deps.sh kernel

module: | deps-kernel
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

module-clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# Each run writes build/logs/kernel-<kernel>-<suite>.{log,tap}.
kunit: | deps-kernel
	@rc=0; for v in $(KERNEL_VARIANTS); do \
		tools/vm/kernel-tests.sh $$v kunit || rc=1; done; exit $$rc

kselftest: | deps-kernel
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
lint: $(CHECKPATCH_DIR)/scripts/checkpatch.pl | deps-kernel
	@mkdir -p build/logs
	@{ echo "TAP version 13"; echo "1..3"; \
	if (cd $(CHECKPATCH_DIR) && scripts/checkpatch.pl --strict --no-tree \
		--quiet -f $(abspath $(LINT_SRC))) >build/logs/checkpatch.out 2>&1; \
	then echo "ok 1 checkpatch.pl --strict: common/ and kernel/"; \
	else cat build/logs/checkpatch.out >&2; \
		echo "not ok 1 checkpatch.pl --strict: common/ and kernel/"; fi; \
	flock build/.kmod.lock $(MAKE) -s -C $(KDIR) M=$(CURDIR) C=2 \
		modules >build/logs/sparse.out 2>&1; \
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

check-kernel: lint kunit kselftest

# --- check: everything, with one summary line ----------------------------

CHECK_LOGS = $(foreach d,build build/asan build/tsan,\
		$(addprefix $(d)/logs/,$(addsuffix .tap,$(TESTS)))) \
	build/logs/clang.tap build/logs/install.tap build/logs/lint.tap \
	build/logs/fuzz.tap build/logs/relacy.tap \
	$(foreach v,$(KERNEL_VARIANTS),build/logs/kernel-$(v)-kunit.tap) \
	$(foreach v,$(KERNEL_VARIANTS) debian,build/logs/kernel-$(v)-kselftest.tap)

# The library and tests build warning-free under clang too.
check-clang: | deps
	@mkdir -p build/logs
	@if $(MAKE) --no-print-directory -s O=build/clang CC=clang lib \
		$(addprefix build/clang/tests/,$(TESTS)) >build/logs/clang.out 2>&1; \
	then echo "ok 1 clang -Wall -Wextra -Werror build"; \
	else cat build/logs/clang.out; \
		echo "not ok 1 clang -Wall -Wextra -Werror build"; fi \
		> build/logs/clang.tap
	@cat build/logs/clang.tap

# make install into a staging root; build and run an app with pkg-config.
check-install: lib
	@rm -rf build/stage && mkdir -p build/logs
	@$(MAKE) --no-print-directory -s install DESTDIR=$(abspath build/stage) \
		PREFIX=/usr >/dev/null
	@if PKG_CONFIG_SYSROOT_DIR=$(abspath build/stage) \
		PKG_CONFIG_LIBDIR=$(abspath build/stage)/usr/lib/pkgconfig \
		sh -c 'cc tools/example.c -o build/stage/example \
			$$(pkg-config --cflags --libs mempool)' && \
		LD_LIBRARY_PATH=build/stage/usr/lib build/stage/example \
			>build/logs/install.out 2>&1 && \
		readelf -d build/stage/usr/lib/libmempool.so.$(VERSION) | \
			grep -q 'SONAME.*libmempool.so.$(SOVER)'; \
	then echo "ok 1 install, pkg-config build and run against libmempool.so"; \
	else echo "not ok 1 install, pkg-config build and run against libmempool.so"; \
	fi > build/logs/install.tap
	@cat build/logs/install.tap

check-user: test sanitize check-clang check-install check-fuzz relacy

check:
	@rm -rf build/logs build/asan/logs build/tsan/logs
	@$(MAKE) --no-print-directory -k check-user check-kernel || true
	@echo "== summary"
	@bash tools/tap-summary.sh $(CHECK_LOGS)

# --- the kernel benchmark -------------------------------------------------

# mempool.ko's per-CPU pool against kmem_cache, the kernel's mempool and a
# bare per-CPU free list, inside Debian's stock kernel in QEMU (a few
# minutes): writes build/bench/kernel.csv and prints the medians.
.PHONY: bench-kernel
bench-kernel: | deps-kernel
	@bash tools/bench/kernel-bench.sh

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

fuzz-build: $(FUZZ_BIN)

$(FUZZ_BIN): build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(HEADERS) | deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(fuzz_cflags) $(FUZZ_SAN_$*) $< $(LIB_SRC) -o $@

# One fuzzing process at a time: the machines have two cores.
fuzz: $(FUZZ_BIN)
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

check-fuzz: | deps
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
#   make relacy        the litmus cases of tests/relacy/ on common/stack.c
#                      itself (compiled as C++ in a third world whose
#                      mpool_env.h maps the atomic verbs onto Relacy's model
#                      of C++11 atomics), then the harness's self-test: each
#                      planted bug below must make its litmus case fail.
#                      Writes build/logs/relacy.tap; Relacy's histories of
#                      failing executions go to build/logs/relacy.log.
#   make relacy-litmus the litmus cases alone (what tools/mutants.sh runs)
#
# A plant is stack.c rewritten by sed into build/relacy/<name>/ (the sed
# must change the file, or the build stops: a plant that no longer applies
# is not silently a copy of the real code), or the real stack.c under a
# weakened world (-D).  docs/testing.md, "Model checking", says how to add
# a case or a plant.
.PHONY: relacy relacy-litmus

RELACY_CXX ?= g++
relacy_cxxflags = -std=gnu++11 -O1 $(WARN) -Wno-unused-parameter \
	-Itests/relacy -Icommon
RELACY_DEPS := tests/relacy/stack_litmus.cpp tests/relacy/mpool_env.h \
	common/stack.c common/stack.h common/env.h

RELACY_PLANTS := relaxed-head no-tag relaxed-cas
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

build/relacy/stack_litmus: $(RELACY_DEPS) | deps
	@mkdir -p $(dir $@)
	$(RELACY_CXX) $(relacy_cxxflags) $< -o $@

build/relacy/%/stack.c: common/stack.c Makefile
	@mkdir -p $(dir $@)
	sed '$(RELACY_SED_$*)' $< > $@
	@if [ -n '$(RELACY_SED_$*)' ] && cmp -s $< $@; then \
		echo "relacy plant $*: pattern not found in $<" >&2; \
		rm -f $@; exit 1; fi

# Kept for a look at what was planted.
.SECONDARY: $(foreach p,$(RELACY_PLANTS),build/relacy/$(p)/stack.c)

build/relacy/%/stack_litmus: build/relacy/%/stack.c $(RELACY_DEPS) | deps
	$(RELACY_CXX) $(relacy_cxxflags) $(RELACY_DEF_$*) \
		-DMPOOL_STACK_C='"$(abspath $<)"' tests/relacy/stack_litmus.cpp \
		-o $@

relacy: build/relacy/stack_litmus \
		$(foreach p,$(RELACY_PLANTS),build/relacy/$(p)/stack_litmus)
	@mkdir -p build/logs
	@bash tests/relacy/run.sh build/logs/relacy.log build/relacy/stack_litmus \
		$(foreach p,$(RELACY_PLANTS),\
		'$(p):$(RELACY_CASE_$(p)):$(RELACY_WHAT_$(p))') \
		> build/logs/relacy.tap; rc=$$?; cat build/logs/relacy.tap; exit $$rc

relacy-litmus: build/relacy/stack_litmus
	@mkdir -p build/logs
	@build/relacy/stack_litmus -l build/logs/relacy-litmus.log \
		> build/logs/relacy-litmus.tap; rc=$$?; \
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
mutants: | deps
	@bash tools/mutants.sh $(MUTANTS)

# The library's build and every by-product of a Kbuild run in this tree
# (module, stress and KUnit objects, .cmd files, Module.symvers).
clean:
	rm -rf build
	find . \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o \
		-name '*.mod.c' -o -name '.*.cmd' -o -name '*.o.d' -o \
		-name '.*.o.d' \) -not -path './.git/*' -delete
	rm -f Module.symvers modules.order .checkpatch-camelcase.*
	rm -rf .tmp_versions

endif
