# t0 tools. `make` builds lib/libt0.a and bin/t0-*; `make test` installs what is
# missing, builds from scratch and runs every test; see README.md.

PREFIX ?= /usr/local
CC ?= cc
OPT ?= -O2
CFLAGS_BASE = -std=c11 -g $(OPT) -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -Ilib
LDLIBS = -lzstd -lcjson -lyaml -lopenblas -lm -pthread

# SAN=1 builds everything under AddressSanitizer and UBSan in a build tree of its own.
ifeq ($(SAN),1)
BUILD = build/san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LIBT0 = $(BUILD)/libt0.a
BIN = $(BUILD)/bin
else
BUILD = build/rel
SANFLAGS =
LIBT0 = lib/libt0.a
BIN = bin
endif
CFLAGS = $(CFLAGS_BASE) $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS += $(SANFLAGS)

LIB_SRC = $(sort $(wildcard lib/*/*.c))
LIB_HDR = $(wildcard lib/*/*.h)
LIB_OBJ = $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
TOOL_SRC = $(sort $(wildcard tools/t0-*.c))
TOOLS = $(TOOL_SRC:tools/%.c=$(BIN)/%)
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNITS = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BATS = $(sort $(wildcard tests/*.bats))

.PHONY: all deps test check unit bats install clean fuzz fuzz-deps bench fixtures train-mixture
all: $(LIBT0) $(TOOLS)

$(BUILD)/lib/%.o: lib/%.c $(LIB_HDR) Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBT0): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BIN)/%: tools/%.c $(LIBT0) $(wildcard tools/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itools $(LDFLAGS) -o $@ $< $(LIBT0) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(LIBT0)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIBT0) $(LDLIBS)

# Each fuzz target also links with fuzz/replay.c, so its kept inputs run in `make check`.
REPLAY_SRC = $(sort $(wildcard fuzz/fuzz_*.c))
REPLAYS = $(REPLAY_SRC:fuzz/%.c=$(BUILD)/replay/%)
$(BUILD)/replay/%: fuzz/%.c fuzz/replay.c $(LIBT0)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< fuzz/replay.c $(LIBT0) $(LDLIBS)

# Debian packages the build, the tests and the pipelines need.
DEB_PACKAGES = build-essential pkg-config libzstd-dev libcjson-dev libopenblas-dev libyaml-dev \
               zstd parallel bats jq
deps:
	@sh tests/deps.sh $(DEB_PACKAGES)

# The tests: dependencies, a build from scratch, C unit tests, then every Bats file.
test: deps
	rm -rf $(BUILD) $(BIN) $(LIBT0)
	$(MAKE) --no-print-directory check

check: all $(UNITS) $(REPLAYS)
	@sh tests/run-unit.sh $(UNITS)
	@sh fuzz/replay.sh $(REPLAYS)
	@T0_BIN=$(abspath $(BIN)) T0_BUILD=$(abspath $(BUILD)) sh tests/run-bats.sh $(BATS)

unit: $(UNITS)
	@sh tests/run-unit.sh $(UNITS)

bats: all
	@T0_BIN=$(abspath $(BIN)) T0_BUILD=$(abspath $(BUILD)) sh tests/run-bats.sh $(BATS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin

clean:
	rm -rf build bin lib/libt0.a

# Coverage-guided fuzzing with clang's libFuzzer; FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 120
FUZZ_SRC = $(sort $(wildcard fuzz/fuzz_*.c))
FUZZERS = $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
FUZZ_CFLAGS = -std=c11 -g -O1 -D_GNU_SOURCE -pthread -Ilib -fsanitize=fuzzer,address,undefined
build/fuzz/%: fuzz/%.c $(LIB_SRC) $(LIB_HDR)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(LDLIBS)
FUZZ_PACKAGES = clang libclang-rt-14-dev
fuzz-deps:
	@sh tests/deps.sh $(FUZZ_PACKAGES)
fuzz: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZERS)
	@sh fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

# Benchmarks: bench/*.c are built into $(BUILD)/bench/; each bench/bench-*.sh gets
# the bin directory and that directory.
BENCH_SRC = $(sort $(wildcard bench/*.c))
BENCHES = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
$(BUILD)/bench/%: bench/%.c $(LIBT0)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBT0) $(LDLIBS)
bench: all $(BENCHES)
	@sh bench/run.sh $(abspath $(BIN)) $(abspath $(BUILD)/bench)

# Reference fixtures (needs network for PyPI): each tests/reference/fixtures-*.sh makes its own venv under build/.
fixtures:
	@for f in tests/reference/fixtures-*.sh; do echo "== $$f"; sh $$f || exit 1; done

# Fragments that add packages and targets for one concern (DEB_PACKAGES += ...).
-include $(sort $(wildcard mk/*.mk))
