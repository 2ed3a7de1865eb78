# gtorrent - GNU Makefile.  `make` builds ./gtorrent; `make check` runs every
# test; see README.md for the rest.

CC		?= cc
CLANG		?= clang
PYTHON		?= /usr/bin/python3
PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
MANDIR		?= $(PREFIX)/share/man
DESTDIR		?=
SAN		?=
FUZZTIME	?= 600

PKGS		:= libevent libcurl libcrypto
BUILD		:= build$(if $(SAN),-san)$(if $(findstring clang,$(CC)),-clang)

WARN		:= -Wall -Wextra -Wshadow -Wmissing-prototypes -Wformat=2 \
		   -Wstrict-prototypes -Wpointer-arith -Werror
CFLAGS		?= -O2 -g
ALL_CFLAGS	 = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude -MMD -MP \
		   $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
		   $(if $(SAN),-fsanitize=$(SAN) -fno-omit-frame-pointer \
		   -fno-sanitize-recover=all)
ALL_LDFLAGS	 = $(LDFLAGS) $(if $(SAN),-fsanitize=$(SAN))
LIBS		 = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
LIBS		+= $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw) -lm

BIN		:= $(if $(filter build,$(BUILD)),gtorrent,$(BUILD)/gtorrent)
SRCS		:= $(wildcard src/*.c)
OBJS		:= $(SRCS:src/%.c=$(BUILD)/obj/%.o)
DEPSTAMP	:= build/.deps-build
TESTSTAMP	:= build/.deps-test

.PHONY: all deps test-deps check check-unit check-interop check-fuzz \
	check-clang unit-bins check-layers fuzz bench bench-swarm demo \
	install uninstall clean

all: gtorrent

deps: $(DEPSTAMP)
test-deps: $(TESTSTAMP)

$(DEPSTAMP): .ci/install-deps
	@mkdir -p build
	@sh .ci/install-deps build
	@touch $@

$(TESTSTAMP): .ci/install-deps
	@mkdir -p build
	@sh .ci/install-deps test
	@touch $@

ifeq ($(BUILD),build)
gtorrent: $(OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(OBJS) $(LIBS)
else
gtorrent: $(BUILD)/gtorrent
endif

$(BUILD)/gtorrent: $(OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(BUILD)/obj/%.o: src/%.c | $(DEPSTAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Unit tests: each links only its module's dependencies, so a layering slip
# fails to link.  BASE: what any module may use (STYLE.md, tests/layers.txt).
BASE		:= util err log
DEPS_util	:= $(BASE)
DEPS_buf	:= buf $(BASE)
DEPS_log	:= $(BASE)
DEPS_crypto	:= crypto $(BASE)
DEPS_bencode	:= bencode buf $(BASE)
DEPS_metainfo	:= metainfo bencode buf crypto $(BASE)
DEPS_filemap	:= filemap $(BASE)
DEPS_storage	:= storage storage-fs storage-mem storage-hash filemap metainfo \
		   bencode buf crypto $(BASE)
DEPS_walk	:= walk $(BASE)
DEPS_statefile	:= statefile storage storage-fs storage-mem storage-hash filemap \
		   metainfo bencode buf crypto $(BASE)
DEPS_makemeta	:= makemeta bencode buf crypto $(BASE)
DEPS_metadata	:= metadata crypto $(BASE)
DEPS_bitfield	:= bitfield $(BASE)
DEPS_addr	:= addr $(BASE)
DEPS_magnet	:= magnet addr crypto $(BASE)
DEPS_peerid	:= peerid $(BASE)
DEPS_tracker-http := tracker-http tracker addr bencode buf $(BASE)
DEPS_tracker-udp := tracker-udp tracker addr buf crypto $(BASE)
DEPS_announce	:= announce crypto $(BASE)
DEPS_peer	:= peer wire bitfield buf crypto $(BASE)
DEPS_choke	:= choke crypto $(BASE)
DEPS_seedlimit	:= seedlimit $(BASE)
DEPS_share	:= share $(BASE)
DEPS_ui-json	:= ui-json $(BASE)
DEPS_ratelimit	:= ratelimit $(BASE)
DEPS_swarm	:= swarm choke addr crypto $(BASE)
DEPS_net	:= net sockaddr peer wire bitfield addr buf crypto reactor ratelimit $(BASE)
DEPS_wire	:= wire buf crypto $(BASE)
DEPS_extmsg	:= extmsg bencode addr buf $(BASE)
DEPS_krpc	:= krpc bencode addr buf $(BASE)
DEPS_pex	:= pex addr $(BASE)
DEPS_dht-lookup := dht-lookup addr $(BASE)
DEPS_picker	:= picker bitfield crypto $(BASE)
DEPS_superseed	:= superseed bitfield crypto $(BASE)
DEPS_spread	:= spread picker bitfield crypto $(BASE)
DEPS_resume	:= resume bencode buf $(BASE)
DEPS_config	:= config $(BASE)
DEPS_reactor	:= reactor $(BASE)
DEPS_http	:= http reactor buf $(BASE)
DEPS_dht-table := dht-table addr crypto $(BASE)
DEPS_udp	:= udp sockaddr tracker-udp tracker dht dht-table dht-lookup \
		   dht-store krpc bencode addr buf crypto reactor $(BASE)
DEPS_dht-store := dht-store addr crypto $(BASE)
DEPS_dht-keep	:= dht-keep $(BASE)
DEPS_session	:= session net sockaddr torrent announcer tracker-client http udp \
		   tracker tracker-http tracker-udp announce dht dht-keep dht-table \
		   dht-lookup dht-store krpc metainfo metadata storage \
		   storage-fs storage-mem storage-hash filemap picker peer wire \
		   bitfield swarm choke extmsg pex bencode addr buf crypto \
		   seedlimit reactor ratelimit $(BASE)
DEPS_session	+= superseed spread
DEPS_session	+= torrent-serve torrent-ext torrent-resume torrent-files resume statefile
DEPS_session	+= share
DEPS_torrent-view := torrent-view peerid $(DEPS_session)
DEPS_torrent	:= $(DEPS_session)
DEPS_ui		:= ui $(BASE)
DEPS_tui	:= tui tui-fmt ui $(DEPS_torrent-view)
DEPS_dht	:= dht krpc dht-table dht-store dht-lookup bencode addr buf crypto $(BASE)

UNIT		:= $(patsubst tests/unit/test-%.c,%,$(wildcard tests/unit/test-*.c))
UNIT_BINS	:= $(UNIT:%=$(BUILD)/test-%)

# Outside libraries likewise: only those of the modules a test links.
LIBS_crypto	 = $(shell pkg-config --libs libcrypto 2>/dev/null)
LIBS_reactor	 = $(shell pkg-config --libs libevent 2>/dev/null)
LIBS_net	 = $(LIBS_reactor)
LIBS_udp	 = $(LIBS_reactor)
LIBS_session	 = $(LIBS_http) $(LIBS_storage)
LIBS_torrent	 = $(LIBS_session)
LIBS_http	 = $(shell pkg-config --libs libcurl 2>/dev/null) $(LIBS_reactor)
LIBS_storage	 = -lpthread
LIBS_statefile	 = -lpthread
LIBS_tui	 = $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw) -lm

define unit_rule
$(BUILD)/test-$(1): tests/unit/test-$(1).c $$(DEPS_$(1):%=$(BUILD)/obj/%.o) | $(TESTSTAMP)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) -Itests/unit $$(ALL_LDFLAGS) -o $$@ $$< \
	    $$(DEPS_$(1):%=$(BUILD)/obj/%.o) -lcriterion \
	    $$(sort $$(foreach d,$$(DEPS_$(1)),$$(LIBS_$$(d))))
endef
$(foreach t,$(UNIT),$(eval $(call unit_rule,$(t))))

# The DHT simulator (tests/sim): $(BUILD)/dht-sim for `make bench`, and its
# Criterion test (500 nodes, a few seconds) in check-unit.
SIM_DEPS	:= dht krpc dht-table dht-store dht-lookup bencode addr buf \
		   crypto $(BASE)
SIM_OBJS	 = $(SIM_DEPS:%=$(BUILD)/obj/%.o)

$(BUILD)/dht-sim: tests/sim/dht-sim.c tests/sim/dht-sim.h $(SIM_OBJS) | $(DEPSTAMP)
	$(CC) $(ALL_CFLAGS) -Itests/sim $(ALL_LDFLAGS) -o $@ $< $(SIM_OBJS) \
	    $(LIBS_crypto) -lm

$(BUILD)/test-dht-sim: tests/sim/test-dht-sim.c tests/sim/dht-sim.c \
    tests/sim/dht-sim.h $(SIM_OBJS) | $(TESTSTAMP)
	$(CC) $(ALL_CFLAGS) -Itests/sim -DDHT_SIM_NO_MAIN $(ALL_LDFLAGS) -o $@ \
	    tests/sim/test-dht-sim.c tests/sim/dht-sim.c $(SIM_OBJS) \
	    -lcriterion $(LIBS_crypto) -lm

UNIT_BINS	+= $(BUILD)/test-dht-sim

check-unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(UNIT_BINS)

# Fuzz targets (libFuzzer, clang, ASan+UBSan): one per parser.
FUZZ		:= $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_CFLAGS	 = -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude \
		   -fsanitize=fuzzer-no-link,address,undefined \
		   -fno-sanitize-recover=all
FUZZ_DEPS_bencode	:= bencode buf $(BASE)
FUZZ_DEPS_metainfo	:= metainfo bencode buf crypto $(BASE)
FUZZ_DEPS_wire		:= wire bitfield buf crypto $(BASE)
FUZZ_DEPS_peer		:= peer wire bitfield buf crypto $(BASE)
FUZZ_DEPS_extmsg	:= extmsg bencode addr buf $(BASE)
FUZZ_DEPS_krpc		:= krpc bencode addr buf $(BASE)
DEPS_krpc	:= krpc bencode addr buf $(BASE)
FUZZ_DEPS_tracker-http	:= tracker-http tracker addr bencode buf $(BASE)
FUZZ_DEPS_tracker-udp	:= tracker-udp tracker addr buf crypto $(BASE)
FUZZ_DEPS_announce	:= announce tracker-udp tracker addr buf crypto $(BASE)
FUZZ_DEPS_magnet	:= magnet addr crypto $(BASE)
FUZZ_DEPS_peerid	:= peerid $(BASE)
FUZZ_DEPS_metadata	:= metadata crypto $(BASE)
FUZZ_DEPS_superseed	:= superseed bitfield crypto $(BASE)
FUZZ_DEPS_spread	:= spread picker bitfield crypto $(BASE)
FUZZ_DEPS_resume	:= resume bencode buf $(BASE)
FUZZ_DEPS_config	:= config $(BASE)
FUZZ_DEPS_picker	:= picker bitfield crypto $(BASE)
FUZZ_DEPS_dht		:= dht krpc dht-table dht-store dht-lookup bencode addr buf crypto $(BASE)

build-fuzz/obj/%.o: src/%.c | $(TESTSTAMP)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -c -o $@ $<

define fuzz_rule
build-fuzz/fuzz-$(1): tests/fuzz/fuzz-$(1).c $$(FUZZ_DEPS_$(1):%=build-fuzz/obj/%.o)
	$$(CLANG) $$(FUZZ_CFLAGS) -fsanitize=fuzzer -o $$@ $$^ -lcrypto
endef
$(foreach t,$(FUZZ),$(eval $(call fuzz_rule,$(t))))

fuzz: $(FUZZ:%=build-fuzz/fuzz-%)
	@sh tests/fuzz/run.sh $(FUZZTIME) $(FUZZ)

check-fuzz: $(FUZZ:%=build-fuzz/fuzz-%)
	@sh tests/fuzz/run.sh 15 $(FUZZ)

# The binary and the unit tests built with clang (not run: check-unit runs
# them), so that its warnings fail the check as gcc's do.
check-clang: | $(TESTSTAMP)
	$(MAKE) --no-print-directory CC=$(CLANG) build-clang/gtorrent \
	    unit-bins

unit-bins: $(UNIT_BINS)

# Module layering and include cycles, and the unit tests' link sets, against
# the module table in tests/layers.txt.
check-layers:
	@$(PYTHON) tests/check-layers.py

check-interop: $(BIN) | $(TESTSTAMP)
	@GTORRENT=$(CURDIR)/$(BIN) sh tests/run-interop.sh

# Everything, with one closing line of counts.
check: | $(TESTSTAMP)
	@sh tests/run-check.sh

bench: gtorrent $(BUILD)/dht-sim | $(TESTSTAMP)
	@sh tests/bench/run.sh

# The swarm laboratory alone (also part of `make bench`).
bench-swarm: gtorrent | $(TESTSTAMP)
	@sh tests/bench/run.sh swarm

# 100 torrents in one process, issue 12's scale goal (also in `make bench`).
.PHONY: bench-many
bench-many: gtorrent | $(TESTSTAMP)
	@sh tests/bench/run.sh many

demo: gtorrent
	@sh tests/demo.sh

install: gtorrent
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 gtorrent $(DESTDIR)$(BINDIR)/gtorrent
	install -m 644 src/gtorrent.1 $(DESTDIR)$(MANDIR)/man1/gtorrent.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gtorrent $(DESTDIR)$(MANDIR)/man1/gtorrent.1

clean:
	rm -rf build-san build-clang build-san-clang build-fuzz build/obj \
	    build/test-* build/gtorrent gtorrent

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/*.d build-fuzz/obj/*.d)
