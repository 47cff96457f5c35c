# libsegment: make | make demo | make test | make check | make bench
#
# `make demo` and `make test` install what is missing (Debian/Ubuntu,
# through .ci/deps) before they build.

# The target is the compiler's (cc -dumpmachine): a mingw-w64 compiler,
# native (MSYS2) or cross (make dll, or make CC=x86_64-w64-mingw32-gcc),
# builds libsegment.dll; Darwin builds libsegment.dylib (untested).
UNAME_S := $(shell uname -s 2>/dev/null || echo Windows)
CC_TARGET := $(shell $(CC) -dumpmachine 2>/dev/null)
PIC     := -fPIC
LIBS    := -lm -pthread
ifneq (,$(findstring mingw,$(CC_TARGET))$(findstring MINGW,$(UNAME_S))$(findstring Windows,$(UNAME_S)))
  SO := dll
  SHARED := -shared
  PIC :=
  # winpthreads and libgcc linked in: the DLL needs only KERNEL32 and msvcrt
  LIBS := -static -lpthread -lm
  ifneq (,$(findstring mingw,$(CC_TARGET)))
    ifneq ($(UNAME_S),Windows)
      ifeq (,$(findstring MINGW,$(UNAME_S)))
        # cross build: SQLite's headers from the build machine's libsqlite3-dev
        WIN_INC := build/win/include
        XFLAGS := -I$(WIN_INC)
      endif
    endif
  endif
else ifeq ($(UNAME_S),Darwin)
  SO := dylib
  SHARED := -dynamiclib
else
  SO := so
  SHARED := -shared
endif

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra
SRC     := $(wildcard ext/*.c)
HDR     := ext/segmentInt.h
LIB     := libsegment.$(SO)
TCLSH   ?= tclsh
SQLITE3 ?= sqlite3
# The one version (ext/segmentInt.h); `make -s version` prints it.
VERSION := $(shell sed -n 's/^\#define SEGMENT_VERSION "\(.*\)"/\1/p' $(HDR))
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
LDCONFIG ?= ldconfig

.PHONY: all deps deps-test demo test check bench coverage fuzz install uninstall \
        clean readme xcheck version kmeans-sklearn

all: $(LIB)

deps:
	@bash .ci/deps build

deps-test:
	@bash .ci/deps build test

$(LIB): $(SRC) $(HDR) | $(WIN_INC)
	@bash .ci/deps build $(if $(WIN_INC),mingw)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(XFLAGS) $(PIC) $(SHARED) -o $@ $(SRC) $(LIBS)

# dqlite (README.md, "Past one machine"): the node program and the client,
# built from Debian's go-dqlite in GOPATH mode (no module proxy) into
# build/dqlite/; make dqlite-test runs the cluster test (test/dqlite.sh).
DQ_DIR   := build/dqlite
DQ_GOENV := GO111MODULE=off GOPATH=/usr/share/gocode:$(CURDIR)/$(DQ_DIR)/gopath \
            GOCACHE=$(CURDIR)/$(DQ_DIR)/cache CGO_LDFLAGS_ALLOW='-Wl,-z,now'
.PHONY: dqlite dqlite-test
dqlite: $(LIB) $(DQ_DIR)/segnode $(DQ_DIR)/segsql

$(DQ_DIR)/segnode: dqlite/node/main.go
	@bash .ci/deps build dqlite
	@mkdir -p $(DQ_DIR)/gopath
	$(DQ_GOENV) go build -o $@ ./dqlite/node

$(DQ_DIR)/segsql: dqlite/client/main.go
	@bash .ci/deps build dqlite
	@mkdir -p $(DQ_DIR)/gopath
	$(DQ_GOENV) go build -o $@ ./dqlite/client

# the client's unit tests (formatting of values, queries told from writes)
.PHONY: dqlite-gotest
dqlite-gotest: dqlite
	$(DQ_GOENV) go test ./dqlite/client

dqlite-test: dqlite
	bash test/dqlite.sh

# Windows: libsegment.dll cross-built with mingw-w64 (.ci/deps mingw);
# make windows-test loads it under wine (test/windows.sh).
MINGW_CC ?= x86_64-w64-mingw32-gcc
.PHONY: dll windows-test
dll:
	@bash .ci/deps build mingw
	@$(MAKE) --no-print-directory CC=$(MINGW_CC) libsegment.dll

windows-test: $(LIB)
	bash test/windows.sh

$(WIN_INC):
	@bash .ci/deps build
	@mkdir -p $@
	cp /usr/include/sqlite3.h /usr/include/sqlite3ext.h $@/

examples.db: sql/examples.tcl sql/schema.sql
	@bash .ci/deps test
	rm -f examples.db.tmp
	$(TCLSH) sql/examples.tcl examples.db.tmp
	mv examples.db.tmp examples.db

demo: $(LIB)
	@bash .ci/deps test
	@test -f examples.db || $(MAKE) --no-print-directory examples.db
	@$(SQLITE3) -bail examples.db -cmd ".load ./libsegment" < sql/demo.sql
	@mkdir -p build
	@$(SQLITE3) -bail examples.db -cmd ".load ./libsegment" \
	  -cmd ".parameter set :out build/report.html" < sql/report.sql >/dev/null
	@echo "make demo: the report page of examples.db is in $(CURDIR)/build/report.html (open it in a browser)"

# The charts and the report in headless Chromium (test/chart.sh), and the
# screenshot of the report that README shows (doc/report.png).
.PHONY: chart-test screenshot
chart-test: $(LIB)
	@bash .ci/deps chart
	@test -f examples.db || $(MAKE) --no-print-directory examples.db
	LIBSEGMENT=$(CURDIR)/libsegment bash test/chart.sh

screenshot: $(LIB)
	@bash .ci/deps chart
	@test -f examples.db || $(MAKE) --no-print-directory examples.db
	LIBSEGMENT=$(CURDIR)/libsegment bash test/screenshot.sh doc/report.png

test: $(LIB)
	@bash .ci/deps test
	LIBSEGMENT=$(CURDIR)/libsegment $(TCLSH) test/all.tcl

version:
	@echo $(VERSION)

# make install [PREFIX=/usr/local] [LIBDIR=$(PREFIX)/lib] [DESTDIR=]: the
# library into LIBDIR.  Installed for real (no DESTDIR) by root, the
# loader's cache is refreshed (ldconfig), so that `.load libsegment` finds
# it by name in a directory the loader searches through that cache
# (/usr/local/lib on Debian).
install: $(LIB)
	install -d $(DESTDIR)$(LIBDIR)
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/$(LIB)
	@$(MAKE) --no-print-directory ldcache

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(LIB)
	@$(MAKE) --no-print-directory ldcache

.PHONY: ldcache
ldcache:
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v $(LDCONFIG) >/dev/null 2>&1; then \
	  echo "$(LDCONFIG)"; $(LDCONFIG); fi

clean:
	rm -f $(LIB) libsegment.dll examples.db.tmp
	rm -rf build

# Rewrite the outputs of README.md's examples (then review the diff).
readme: $(LIB)
	LIBSEGMENT=$(CURDIR)/libsegment $(TCLSH) test/readme_update.tcl

# The benchmark (README.md, "Benchmark"): make bench [SIZE=10m] [RUNS=3].  Data and
# the helper programs go to bench/data/ (git-ignored); pandas and DuckDB
# are installed when they can be (.ci/deps bench, npm) and skipped if not.
SIZE ?= 1m
RUNS ?= 3
bench: $(LIB)
	@bash .ci/deps bench || echo "bench: some comparisons will be skipped" >&2
	@mkdir -p bench/data
	$(CC) -O2 $(WARN) -o bench/data/gen bench/gen.c -lsqlite3 -lm
	$(CC) -O2 $(WARN) -fPIC $(SHARED) -o bench/data/floor.$(SO) bench/floor.c -pthread
	@test -d bench/node_modules/@duckdb/node-api || \
	  (cd bench && npm install --no-audit --no-fund --loglevel=error) || \
	  echo "bench: DuckDB not installed; skipped" >&2
	/usr/bin/python3 bench/run.py --lib $(CURDIR)/$(LIB) --size $(SIZE) --runs $(RUNS)

# ---------------------------------------------------------------------------
# make check: sanitizers, valgrind, the OOM loop, fuzzing (saved corpus plus
# a short run) and coverage, over the whole extension.  Any finding fails.
# make coverage: line and branch coverage of ext/ (build/check/coverage/).
# make fuzz: longer fuzz runs (FUZZ_SECONDS per harness), corpus merged
# back into test/fuzz/corpus/.  Everything is built under build/check/.

CHECK_DIR    := build/check
SAN_CC       ?= gcc
FUZZ_CC      ?= clang
SANFLAGS     := -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
CHECK_FUZZ_SECONDS ?= 45
# make check fuzzes from a fixed seed, so that a run can be repeated;
# make fuzz explores from random seeds.
CHECK_FUZZ_SEED ?= 1
FUZZ_SECONDS ?= 600
FUZZERS      := sql date opts
FUZZ_OPTS    := -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
VALGRIND     := valgrind -q --leak-check=full --error-exitcode=1 \
                --errors-for-leak-kinds=definite,indirect \
                --show-leak-kinds=definite,indirect
ASAN_RT       = $(shell $(SAN_CC) -print-file-name=libasan.so)
CHECK_ENV    := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: check-deps check-asan check-tsan check-valgrind check-valgrind-threads \
        check-oom check-fuzz \
        check-fuzz-build

check: check-deps
	@$(MAKE) --no-print-directory check-asan
	@$(MAKE) --no-print-directory check-tsan
	@$(MAKE) --no-print-directory check-valgrind
	@$(MAKE) --no-print-directory check-oom
	@$(MAKE) --no-print-directory check-fuzz
	@$(MAKE) --no-print-directory coverage
	@$(MAKE) --no-print-directory xcheck
	@echo "make check: sanitizers (address, undefined, thread), valgrind, oom, fuzz, coverage and cross-check passed"

check-deps:
	@bash .ci/deps build test check
	@test -f examples.db || $(MAKE) --no-print-directory examples.db

# 1. The Tcl suite against an ASan+UBSan build, the runtime preloaded into
#    tclsh (and the sqlite3 shells the suite starts); time bounds are
#    checked by make test, not here (LIBSEGMENT_SLOW).
$(CHECK_DIR)/asan/libsegment.$(SO): $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(SAN_CC) -O1 -g $(SANFLAGS) $(WARN) -fPIC $(SHARED) -o $@ $(SRC) -lm -pthread

check-asan: check-deps $(CHECK_DIR)/asan/libsegment.$(SO)
	$(CHECK_ENV) LIBSEGMENT_SLOW=1 LD_PRELOAD=$(ASAN_RT) \
	  LIBSEGMENT=$(CURDIR)/$(CHECK_DIR)/asan/libsegment $(TCLSH) test/all.tcl

# 1b. ThreadSanitizer over the suites whose scans run on two threads
#     (PRAGMA threads=1: the reader thread of source.c).  It slows the code
#     several times over, so the suite's time bounds are not checked
#     (LIBSEGMENT_SLOW, as under valgrind).
TSAN_RT       = $(shell $(SAN_CC) -print-file-name=libtsan.so)
$(CHECK_DIR)/tsan/libsegment.$(SO): $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(SAN_CC) -O1 -g -fsanitize=thread $(WARN) -fPIC $(SHARED) -o $@ $(SRC) -lm -pthread

check-tsan: check-deps $(CHECK_DIR)/tsan/libsegment.$(SO)
	TSAN_OPTIONS=halt_on_error=1:exitcode=66 SEGMENT_THREADS=1 LIBSEGMENT_SLOW=1 \
	  LD_PRELOAD=$(TSAN_RT) LIBSEGMENT=$(CURDIR)/$(CHECK_DIR)/tsan/libsegment \
	  $(TCLSH) test/all.tcl source.test rfm.test clv.test cohort.test \
	  lifecycle.test segtools.test holdout.test usage.test calendar.test

# 2. The Tcl suite under valgrind (leaks of Tcl's own allocator, which
#    valgrind calls "possibly lost", are not ours and not counted).
$(CHECK_DIR)/vg/libsegment.$(SO): $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) -O1 -g $(WARN) -fPIC $(SHARED) -o $@ $(SRC) -lm -pthread

#    make check (and so CI) runs the suite's first pass, on one thread;
#    make check-valgrind-threads runs the second, with PRAGMA threads=1,
#    on demand (the sanitizers run both passes in make check).
check-valgrind: check-deps $(CHECK_DIR)/vg/libsegment.$(SO)
	SEGMENT_THREADS=0 LIBSEGMENT_SLOW=1 \
	  LIBSEGMENT=$(CURDIR)/$(CHECK_DIR)/vg/libsegment \
	  $(VALGRIND) $(TCLSH) test/all.tcl

check-valgrind-threads: check-deps $(CHECK_DIR)/vg/libsegment.$(SO)
	SEGMENT_THREADS=1 LIBSEGMENT_SLOW=1 \
	  LIBSEGMENT=$(CURDIR)/$(CHECK_DIR)/vg/libsegment \
	  $(VALGRIND) $(TCLSH) test/all.tcl

# 3. The OOM loop (test/oom.c over test/oom.sql on examples.db), built with
#    the sanitizers so that error paths are checked for memory errors too.
$(CHECK_DIR)/oom: test/oom.c $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(SAN_CC) -O1 -g $(SANFLAGS) $(WARN) -DSQLITE_CORE -Iext -o $@ \
	  test/oom.c $(SRC) -lsqlite3 -lm -pthread

check-oom: check-deps $(CHECK_DIR)/oom
	$(CHECK_ENV) $(CHECK_DIR)/oom -q examples.db test/oom.sql

# 4. Fuzzing: libFuzzer harnesses (clang), the dictionary generated from
#    what the extension registers, seeds from the Tcl suite.
$(CHECK_DIR)/fuzz/fuzz_%: test/fuzz/fuzz_%.c $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all $(WARN) -DSQLITE_CORE -Iext -o $@ $< \
	  $(SRC) -lsqlite3 -lm -pthread

$(CHECK_DIR)/fuzz/sql.dict: $(CHECK_DIR)/vg/libsegment.$(SO) test/fuzz/mkdict.sh
	bash test/fuzz/mkdict.sh $(CURDIR)/$(CHECK_DIR)/vg/libsegment $@

$(CHECK_DIR)/fuzz/seeds.stamp: $(CHECK_DIR)/vg/libsegment.$(SO) \
                               test/fuzz/seeds.tcl $(wildcard test/*.test) \
                               test/oom.sql
	rm -rf $(CHECK_DIR)/fuzz/seeds
	LIBSEGMENT=$(CURDIR)/$(CHECK_DIR)/vg/libsegment \
	  $(TCLSH) test/fuzz/seeds.tcl $(CHECK_DIR)/fuzz/seeds
	touch $@

check-fuzz-build: check-deps $(FUZZERS:%=$(CHECK_DIR)/fuzz/fuzz_%) \
                  $(CHECK_DIR)/fuzz/sql.dict $(CHECK_DIR)/fuzz/seeds.stamp

# Replay the saved corpus, then a short run of each harness (new inputs go
# to build/check/fuzz/new-*, never into the source tree).
check-fuzz: check-fuzz-build
	@set -e; for h in $(FUZZERS); do \
	  n=$$(ls test/fuzz/corpus/$$h | wc -l); \
	  echo "fuzz_$$h: replaying $$n saved inputs"; \
	  $(CHECK_ENV) $(CHECK_DIR)/fuzz/fuzz_$$h $(FUZZ_OPTS) \
	    -runs=0 -artifact_prefix=$(CHECK_DIR)/fuzz/ test/fuzz/corpus/$$h > $(CHECK_DIR)/fuzz/replay-$$h.log 2>&1 \
	    || { tail -40 $(CHECK_DIR)/fuzz/replay-$$h.log; exit 1; }; \
	  rm -rf $(CHECK_DIR)/fuzz/new-$$h; mkdir -p $(CHECK_DIR)/fuzz/new-$$h; \
	  seeds=""; [ $$h = sql ] && seeds=$(CHECK_DIR)/fuzz/seeds; \
	  dict=""; [ $$h = sql ] && dict=-dict=$(CHECK_DIR)/fuzz/sql.dict; \
	  [ $$h = date ] && dict=-dict=test/fuzz/date.dict; \
	  $(CHECK_ENV) $(CHECK_DIR)/fuzz/fuzz_$$h $(FUZZ_OPTS) $$dict \
	    -artifact_prefix=$(CHECK_DIR)/fuzz/ -seed=$(CHECK_FUZZ_SEED) \
	    -max_total_time=$(CHECK_FUZZ_SECONDS) $(CHECK_DIR)/fuzz/new-$$h \
	    test/fuzz/corpus/$$h $$seeds > $(CHECK_DIR)/fuzz/run-$$h.log 2>&1 \
	    || { tail -60 $(CHECK_DIR)/fuzz/run-$$h.log; exit 1; }; \
	  grep -h "stat::number_of_executed_units" \
	    $(CHECK_DIR)/fuzz/run-$$h.log | sed "s/^/fuzz_$$h: /"; \
	done

# Long runs; the new corpus is merged (minimized) into test/fuzz/corpus/.
fuzz: check-fuzz-build
	@set -e; for h in $(FUZZERS); do \
	  mkdir -p $(CHECK_DIR)/fuzz/long-$$h; \
	  seeds=""; [ $$h = sql ] && seeds=$(CHECK_DIR)/fuzz/seeds; \
	  dict=""; [ $$h = sql ] && dict=-dict=$(CHECK_DIR)/fuzz/sql.dict; \
	  [ $$h = date ] && dict=-dict=test/fuzz/date.dict; \
	  $(CHECK_ENV) $(CHECK_DIR)/fuzz/fuzz_$$h $(FUZZ_OPTS) $$dict \
	    -artifact_prefix=$(CHECK_DIR)/fuzz/ -max_total_time=$(FUZZ_SECONDS) \
	    $(CHECK_DIR)/fuzz/long-$$h test/fuzz/corpus/$$h $$seeds \
	    2>&1 | tail -25; \
	  $(CHECK_DIR)/fuzz/fuzz_$$h -merge=1 test/fuzz/corpus/$$h \
	    $(CHECK_DIR)/fuzz/long-$$h > /dev/null 2>&1; \
	done

# 6. Coverage: gcc --coverage builds of ext/ (the loadable library for the
#    Tcl suite, a static one for the OOM loop), then gcovr.  Uncovered
#    branches are listed in build/check/coverage/uncovered-branches.txt.
#    The library's counters are updated atomically: with PRAGMA threads
#    the CLV likelihoods run the same code on two threads, and racing
#    increments leave counts that gcov reports as negative (and gcovr
#    refuses).  The OOM loop runs on one thread and keeps the plain
#    counters, which are faster.  The suite's time bounds are not checked
#    here (LIBSEGMENT_SLOW): the -O0 build under its counters is several
#    times slower, and make test checks them.
COV_DIR  := $(CHECK_DIR)/cov
COV_OBJ  := $(SRC:ext/%.c=$(COV_DIR)/%.o)
COV_CORE := $(SRC:ext/%.c=$(COV_DIR)/core/%.o)
$(COV_DIR)/%.o: ext/%.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) -O0 -g --coverage -fprofile-update=atomic $(WARN) -fPIC -c -o $@ $<
$(COV_DIR)/core/%.o: ext/%.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) -O0 -g --coverage $(WARN) -DSQLITE_CORE -c -o $@ $<

coverage: check-deps $(COV_OBJ) $(COV_CORE)
	find $(COV_DIR) -name '*.gcda' -delete
	$(CC) --coverage $(SHARED) -o $(COV_DIR)/libsegment.$(SO) $(COV_OBJ) -lm -pthread
	$(CC) --coverage -O0 -g -DSQLITE_CORE -Iext -o $(COV_DIR)/oom test/oom.c \
	  $(COV_CORE) -lsqlite3 -lm -pthread
	-LIBSEGMENT_SLOW=1 LIBSEGMENT=$(CURDIR)/$(COV_DIR)/libsegment \
	  $(TCLSH) test/all.tcl > $(COV_DIR)/suite.log 2>&1; tail -1 $(COV_DIR)/suite.log
	-$(COV_DIR)/oom -q examples.db test/oom.sql | tail -1
	@mkdir -p $(CHECK_DIR)/coverage
	gcovr -r . -f 'ext/' --object-directory $(COV_DIR) -b \
	  --exclude-directories 'build/win' \
	  --txt $(CHECK_DIR)/coverage/branches.txt \
	  --json $(CHECK_DIR)/coverage/coverage.json --print-summary $(COV_DIR)
	python3 test/uncovered.py $(CHECK_DIR)/coverage/coverage.json \
	  > $(CHECK_DIR)/coverage/uncovered-branches.txt
	@echo "coverage: report in $(CHECK_DIR)/coverage/branches.txt, uncovered branches in $(CHECK_DIR)/coverage/uncovered-branches.txt"

# Cross-check of rfm_score() and source_stats() against an independent
# Python reference of DESIGN.md (test/xcheck/; standard library only).
.PHONY: xcheck
xcheck: $(LIB)
	LIBSEGMENT=$(CURDIR)/$(basename $(LIB)) /usr/bin/python3 test/xcheck/xcheck.py

# On demand: k-means against scikit-learn's on the sets of test/kmeans.test
kmeans-sklearn: $(LIB)
	@bash .ci/deps sklearn
	LIBSEGMENT=$(CURDIR)/$(basename $(LIB)) /usr/bin/python3 test/xcheck/kmeans_sklearn.py
