# libsegment: make | make demo | make test | make check | make bench
#
# `make demo` and `make test` install what is missing (Debian/Ubuntu,
# through .ci/deps) before they build.

UNAME_S := $(shell uname -s 2>/dev/null || echo Windows)
ifeq ($(UNAME_S),Darwin)
  SO := dylib
  SHARED := -dynamiclib
else ifneq (,$(findstring MINGW,$(UNAME_S))$(findstring Windows,$(UNAME_S)))
  SO := dll
  SHARED := -shared
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

.PHONY: all deps deps-test demo test check bench coverage fuzz install clean

all: $(LIB)

deps:
	@bash .ci/deps build

deps-test:
	@bash .ci/deps build test

$(LIB): $(SRC) $(HDR)
	@bash .ci/deps build
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC $(SHARED) -o $@ $(SRC) -lm

examples.db: sql/examples.tcl sql/schema.sql
	@bash .ci/deps test
	rm -f examples.db.tmp
	$(TCLSH) sql/examples.tcl examples.db.tmp
	mv examples.db.tmp examples.db

demo: $(LIB)
	@bash .ci/deps test
	@test -f examples.db || $(MAKE) --no-print-directory examples.db
	@$(SQLITE3) -bail examples.db -cmd ".load ./libsegment" < sql/demo.sql

test: $(LIB)
	@bash .ci/deps test
	LIBSEGMENT=$(CURDIR)/libsegment $(TCLSH) test/all.tcl

install: $(LIB)
	install -d $(DESTDIR)/usr/local/lib
	install -m 644 $(LIB) $(DESTDIR)/usr/local/lib/

clean:
	rm -f $(LIB) examples.db.tmp
	rm -rf build
