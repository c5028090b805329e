# ckpt: one non-recursive Makefile for everything; objects go to build/.
#
#   make            build/bin/ckpt and build/bin/restore
#   make check      lint, unit tests (Check), integration tests (real processes)
#   make check-unit unit tests only;  make asan: unit tests under ASan/UBSan
#   make lint       style checks;     make man-lint: mandoc -T lint
#   make demo       run a program, checkpoint, kill, restore it
#   make bench      benchmarks (ratios, not tests)
#   make fuzz       fuzz every reader with libFuzzer (FUZZ_SECONDS=60 each)
#   make fault      ckpt, restore killed at FAULT_RUNS random moments each
#   make deps       install the Debian packages the build and tests need
#   make install    PREFIX=/usr/local DESTDIR= LIBDIR=PREFIX/lib
#   make deb        Debian packages (debian/) into build/deb

# the release (util/version.h): pkg-config files, packages
VERSION  := $(shell sed -n 's/^\#define CKPT_VERSION "\(.*\)"$$/\1/p' \
	      util/version.h)

PREFIX   ?= /usr/local
DESTDIR  ?=
# libraries and their pkg-config files (Debian: /usr/lib/<multiarch>)
LIBDIR   ?= $(PREFIX)/lib
B        ?= build
CC       ?= cc
WERROR   ?= 1
SANITIZE ?=
ARCH     ?= $(shell uname -m)

# Debian packages: build, tests (gdb reads the cores of ckpt convert),
# man-lint, fuzzing, the static workloads.
DEB_PKGS := gcc make pkg-config libelf-dev libunwind-dev libzstd-dev \
	    libseccomp-dev libsodium-dev check mandoc clang python3 perl \
	    util-linux gdb redis-server systemd dpkg-dev debhelper \
	    fakeroot lintian valgrind libnftables-dev nftables iproute2 curl \
	    screen tmux libc6-dev zstd vim less procps openssh-server \
	    openssh-client llvm-14-dev qemu-user busybox-static \
	    gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
	    libzookeeper-mt-dev zookeeperd default-jdk-headless \
	    btrfs-progs xfsprogs attr acl libbpf-dev runc jq docker.io
PKGS     := libelf libunwind-ptrace libzstd libseccomp libsodium libnftables \
	    libbpf

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# ZooKeeper's C client (coord/kv-zk.c): Debian ships no pkg-config file
# for it, so it is found by its header
ZK_HEADER := /usr/include/zookeeper/zookeeper.h
ZK_LIBS    := -lzookeeper_mt
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

CFLAGS   ?= -O2 -g
CPPFLAGS += -iquote . -D_GNU_SOURCE
# arch/ views struct arch_regs as the kernel's register structs
# -fPIC: the core and the dumper go into libckpt.so as well as into the
# programs
ALL_CFLAGS = -std=gnu11 -fno-strict-aliasing -fPIC $(WARN) $(CFLAGS) \
	     $(PKG_CFLAGS) -MMD -MP
LDFLAGS  += -Wl,--as-needed
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=$(SANITIZE)
endif

# where an installed ckpt looks for plugins, after $CKPT_PLUGIN_PATH
PLUGIN_DIR := $(PREFIX)/lib/ckpt/plugins
$(B)/plugins/pipeline.o: CPPFLAGS += -DCKPT_PLUGIN_DIR='"$(PLUGIN_DIR)"'

# The core library: every subsystem that both programs use.
CORE_SRC := $(wildcard util/*.c image/*.c inject/*.c elf/*.c plugins/*.c) \
	    $(wildcard arch/$(ARCH)/*.c)
# cross-ISA translation (arch/xisa.h) knows both ISAs on either
CORE_SRC += $(wildcard arch/*.c) \
	    $(filter-out arch/$(ARCH)/xisa.c,$(wildcard arch/*/xisa.c))
CKPT_SRC := $(wildcard ckpt/*.c)
# ckpt serve, a daemon: linked into ckpt only
SERVE_SRC := $(wildcard serve/*.c)
# ckpt coord and the member side of ckpt run --coord: linked into ckpt only
COORD_SRC := $(wildcard coord/*.c)
REST_SRC := $(wildcard restore/*.c)
UNIT_SRC := $(wildcard tests/unit/check_*.c)
WL_SRC   := $(wildcard tests/workloads/*.c)
# workloads also built with -static (the issue asks for static executables)
WL_STATIC := counter threads stack victim

CORE_OBJ := $(CORE_SRC:%.c=$(B)/%.o)
CKPT_OBJ := $(CKPT_SRC:%.c=$(B)/%.o) $(B)/ckpt/bpf/aio-blob.o \
	    $(B)/ckpt/bpf/timers-blob.o $(B)/ckpt/bpf/tty-blob.o \
	    $(B)/ckpt/bpf/epoll-blob.o $(B)/ckpt/bpf/sock-blob.o \
	    $(B)/ckpt/bpf/semundo-blob.o $(B)/ckpt/bpf/sigacts-blob.o \
	    $(B)/ckpt/bpf/mmseq-blob.o
SERVE_OBJ := $(SERVE_SRC:%.c=$(B)/%.o)
COORD_OBJ := $(COORD_SRC:%.c=$(B)/%.o)
REST_OBJ := $(REST_SRC:%.c=$(B)/%.o) $(B)/restore/bpf/accept-blob.o
CORE_LIB := $(B)/lib/libckptcore.a
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
WL_BIN   := $(WL_SRC:tests/workloads/%.c=$(B)/tests/workloads/%) \
	    $(WL_STATIC:%=$(B)/tests/workloads/%-static) \
	    $(B)/tests/workloads/WordCount.class

all: depcheck $(B)/bin/ckpt $(B)/bin/restore

# pipeline.o has the plugin directory compiled in: rebuilt when it changes
$(B)/plugins/pipeline.o: $(B)/plugin-dir
$(B)/plugin-dir: FORCE
	@mkdir -p $(@D)
	@echo '$(PLUGIN_DIR)' | cmp -s - $@ || echo '$(PLUGIN_DIR)' >$@
FORCE:

depcheck:
	@pkg-config --exists $(PKGS) || { \
	  echo "missing libraries: $$(for p in $(PKGS); do \
	    pkg-config --exists $$p || printf '%s ' $$p; done)- run 'make deps'" >&2; \
	  exit 1; }
	@test -e $(ZK_HEADER) || { \
	  echo "missing libraries: libzookeeper-mt-dev - run 'make deps'" >&2; \
	  exit 1; }

# every object is made again when the flags change (-fPIC came later)
$(B)/%.o: %.c $(B)/build-flags
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/build-flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(CPPFLAGS) $(ALL_CFLAGS)' | cmp -s - $@ || \
	  echo '$(CC) $(CPPFLAGS) $(ALL_CFLAGS)' >$@

$(CORE_LIB): $(CORE_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

# Plugins call the ckpt_stage_* helpers of plugin.h, which resolve against
# the program that dlopen()s them: export those (and, unlike -rdynamic,
# nothing else, which would interpose on a plugin's own symbols).
PLUGIN_EXPORTS := -Wl,--export-dynamic-symbol='ckpt_stage_*'
$(B)/bin/ckpt: $(CKPT_OBJ) $(SERVE_OBJ) $(COORD_OBJ) $(CORE_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $(PLUGIN_EXPORTS) -o $@ $^ $(PKG_LIBS) $(ZK_LIBS) -ldl

$(B)/bin/restore: $(REST_OBJ) $(CORE_LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $(PLUGIN_EXPORTS) -o $@ $^ $(PKG_LIBS)

# BPF programs, built for the BPF target and embedded in the program
# that loads them (no file to find at run time): restore's TC program
# (restore/bpf/accept.bpf.c, restore/inet-accept.c) and ckpt's task
# iterators (ckpt/bpf/aio.bpf.c, ckpt/dump-aio.c; ckpt/bpf/timers.bpf.c,
# ckpt/dump-kstate.c; ckpt/bpf/tty.bpf.c, ckpt/dump-tty.c;
# ckpt/bpf/epoll.bpf.c, ckpt/dump-epoll.c; ckpt/bpf/sock.bpf.c,
# ckpt/dump-sockx.c; ckpt/bpf/semundo.bpf.c, ckpt/dump-semundo.c;
# ckpt/bpf/sigacts.bpf.c, ckpt/dump-task.c; ckpt/bpf/mmseq.bpf.c,
# ckpt/dump-maps.c), all
# loaded and run by
# ckpt/dump-bpf.c
BPF_CLANG ?= clang
$(B)/%.bpf.o: %.bpf.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  BPF     $<")
	$(Q)$(BPF_CLANG) -target bpf -O2 -g -Wall -Werror -I. \
	  -I/usr/include/$(shell $(CC) -print-multiarch) -c -o $@ $<
$(B)/ckpt/bpf/timers.bpf.o: ckpt/bpf/kstate.h
$(B)/ckpt/bpf/sigacts.bpf.o: ckpt/bpf/sigacts.h
$(B)/ckpt/bpf/tty.bpf.o: ckpt/bpf/iter.h
$(B)/ckpt/bpf/epoll.bpf.o: ckpt/bpf/iter.h ckpt/bpf/epoll.h
$(B)/ckpt/bpf/sock.bpf.o: ckpt/bpf/iter.h ckpt/bpf/sock.h
# the object $< as the symbols $(1) to $(1)_end in .rodata
bpf_blob = printf '%s\n' '.section .rodata' '.balign 8' \
	  '.global $(1)' '.global $(1)_end' \
	  '$(1):' '.incbin "$<"' '$(1)_end:' \
	  '.section .note.GNU-stack,"",@progbits' | \
	  $(CC) -c -x assembler -o $@ -
$(B)/restore/bpf/accept-blob.o: $(B)/restore/bpf/accept.bpf.o
	$(Q)$(call bpf_blob,restore_accept_bpf)
$(B)/ckpt/bpf/aio-blob.o: $(B)/ckpt/bpf/aio.bpf.o
	$(Q)$(call bpf_blob,ckpt_aio_bpf)
$(B)/ckpt/bpf/timers-blob.o: $(B)/ckpt/bpf/timers.bpf.o
	$(Q)$(call bpf_blob,ckpt_timers_bpf)
$(B)/ckpt/bpf/tty-blob.o: $(B)/ckpt/bpf/tty.bpf.o
	$(Q)$(call bpf_blob,ckpt_tty_bpf)
$(B)/ckpt/bpf/epoll-blob.o: $(B)/ckpt/bpf/epoll.bpf.o
	$(Q)$(call bpf_blob,ckpt_epoll_bpf)
$(B)/ckpt/bpf/sock-blob.o: $(B)/ckpt/bpf/sock.bpf.o
	$(Q)$(call bpf_blob,ckpt_sock_bpf)
$(B)/ckpt/bpf/semundo-blob.o: $(B)/ckpt/bpf/semundo.bpf.o
	$(Q)$(call bpf_blob,ckpt_semundo_bpf)
$(B)/ckpt/bpf/sigacts-blob.o: $(B)/ckpt/bpf/sigacts.bpf.o
	$(Q)$(call bpf_blob,ckpt_sigacts_bpf)
$(B)/ckpt/bpf/mmseq-blob.o: $(B)/ckpt/bpf/mmseq.bpf.o
	$(Q)$(call bpf_blob,ckpt_mmseq_bpf)

# ---- ckpt cc (cc/, ckpt-cc(1)): the landmark compiler for cross-ISA ----
# A program of its own, the only one linked with LLVM (its C API); `ckpt
# cc` runs it. Its runtime (cc/rt.c and arch/ISA/rt/) is built for both
# ISAs into $(B)/lib/ckpt-cc/rt.ISA.o, where ckpt-cc looks for it.
LLVM_CONFIG ?= llvm-config-14
CC_SRC := $(wildcard cc/*.c)
CC_SRC := $(filter-out cc/rt%.c,$(CC_SRC))
CC_OBJ := $(CC_SRC:%.c=$(B)/%.o)
XISA_ISAS := x86_64 aarch64
XISA_RT := $(XISA_ISAS:%=$(B)/lib/ckpt-cc/rt.%.o)
$(CC_OBJ): ALL_CFLAGS += $(shell $(LLVM_CONFIG) --cflags 2>/dev/null | \
	tr ' ' '\n' | grep -E '^-(I|D)' | sed 's/^-I/-isystem /')
$(B)/bin/ckpt-cc: $(CC_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(shell $(LLVM_CONFIG) --ldflags \
	  --libs 2>/dev/null) -lelf
XISA_RT_SRC = cc/rt.c cc/rt-heap.c cc/rt-dump.c cc/rt-threads.c \
	cc/rt-heal.c \
	arch/$*/rt/xisa-jump.c \
	arch/$*/rt/xisa-trap.c
$(B)/lib/ckpt-cc/rt.%.o: cc/rt.c cc/rt-heap.c cc/rt-dump.c cc/rt-threads.c \
		cc/rt-heal.c \
		arch/%/rt/xisa-jump.c arch/%/rt/xisa-trap.c \
		arch/xisa-image.h arch/xisa-rt.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  RT      $@")
	$(Q)for s in $(XISA_RT_SRC); do \
	  clang --target=$*-linux-gnu -O1 -fno-pic -fno-stack-protector \
	    $(CPPFLAGS) $(WARN) -c $$s -o $@.$$(basename $$s .c).o || exit 1; \
	done; o="$(foreach s,$(XISA_RT_SRC),$@.$(basename $(notdir $(s))).o)"; \
	ld.bfd -r -o $@ $$o 2>/dev/null || aarch64-linux-gnu-ld -r -o $@ $$o; \
	rm -f $$o
all: $(B)/bin/ckpt-cc $(XISA_RT)

# ---- libckpt (ckpt/libckpt.h, libckpt(3)) ----
# The dumper and the core as a shared library with a SONAME and versioned
# symbols (ckpt/libckpt.map): its API and the plugin helpers only.
LIBCKPT_SOVER  := 0
LIBCKPT_SONAME := libckpt.so.$(LIBCKPT_SOVER)
LIBCKPT_OBJ    := $(B)/ckpt/libckpt.o \
		  $(filter $(B)/ckpt/dump%.o $(B)/ckpt/snapshot.o \
		    $(B)/ckpt/bpf/aio-blob.o $(B)/ckpt/bpf/timers-blob.o \
		    $(B)/ckpt/bpf/tty-blob.o $(B)/ckpt/bpf/epoll-blob.o \
		    $(B)/ckpt/bpf/sock-blob.o $(B)/ckpt/bpf/semundo-blob.o \
		    $(B)/ckpt/bpf/sigacts-blob.o $(B)/ckpt/bpf/mmseq-blob.o, \
		    $(CKPT_OBJ)) $(CORE_OBJ)
LIBCKPT_LIBS   := $(B)/lib/$(LIBCKPT_SONAME) $(B)/lib/libckpt.so
all: $(LIBCKPT_LIBS)
# where ckpt_restore() finds the restore program by default
$(B)/ckpt/libckpt.o: CPPFLAGS += \
	-DCKPT_RESTORE_PROGRAM='"$(PREFIX)/bin/restore"'
$(B)/ckpt/libckpt.o: $(B)/plugin-dir

$(B)/lib/$(LIBCKPT_SONAME): $(LIBCKPT_OBJ) ckpt/libckpt.map
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,$(LIBCKPT_SONAME) \
	  -Wl,--version-script=ckpt/libckpt.map -Wl,--no-undefined \
	  -o $@ $(LIBCKPT_OBJ) $(PKG_LIBS)
$(B)/lib/libckpt.so: $(B)/lib/$(LIBCKPT_SONAME)
	$(Q)ln -sf $(LIBCKPT_SONAME) $@
# ---- end libckpt ----

# ---- dlsym_default (elf/dlsym) ----
# An installable library of its own (dlsym_default(3)), not part of the
# core: position-independent objects, only its two functions exported.
DLSYM_SRC  := $(wildcard elf/dlsym/*.c)
DLSYM_OBJ  := $(DLSYM_SRC:elf/dlsym/%.c=$(B)/elf/dlsym/pic/%.o)
# the shared library's ABI version, in its SONAME
DLSYM_SOVER := 0
DLSYM_SONAME := libdlsym_default.so.$(DLSYM_SOVER)
DLSYM_LIBS := $(B)/lib/libdlsym_default.so $(B)/lib/$(DLSYM_SONAME) \
	      $(B)/lib/libdlsym_default.a

# here, not on the all: line above: prerequisites expand when read
all: $(DLSYM_LIBS)

$(B)/elf/dlsym/pic/%.o: elf/dlsym/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -fPIC -fvisibility=hidden \
	  -c -o $@ $<

$(B)/lib/$(DLSYM_SONAME): $(DLSYM_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,$(DLSYM_SONAME) \
	  -o $@ $^ -ldl

# what -ldlsym_default links against
$(B)/lib/libdlsym_default.so: $(B)/lib/$(DLSYM_SONAME)
	$(Q)ln -sf $(DLSYM_SONAME) $@

$(B)/lib/libdlsym_default.a: $(DLSYM_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

# the test opens the shared library by path to look it up unversioned
$(B)/tests/check_dlsym.o: CPPFLAGS += \
	-DDLSYM_SO='"$(abspath $(B))/lib/libdlsym_default.so"'
$(B)/tests/check_dlsym: $(B)/tests/check_dlsym.o $(DLSYM_LIBS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(B)/lib/libdlsym_default.a -ldl \
	  $(PKG_LIBS) $(CHECK_LIBS)
# ---- end dlsym_default ----

# ---- example plugin (plugins/examples) ----
# Built as a third party builds a plugin (ckpt-plugin(7)): one
# position-independent object against plugins/plugin.h alone, not part of
# the core. The unit test loads it by its absolute directory, and exports
# the helpers it calls back, as ckpt and restore do.
EXAMPLE_PLUGINS := $(B)/plugins/chunks.so $(B)/plugins/appnote.so
all: $(B)/plugins/appnote.so

$(B)/plugins/%.so: plugins/examples/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -fPIC -shared -o $@ $<

$(B)/tests/check_plugins.o: CPPFLAGS += \
	-DPLUGIN_DIR='"$(abspath $(B))/plugins"'
$(B)/tests/check_plugins: $(B)/tests/check_plugins.o $(CORE_LIB) \
			  $(EXAMPLE_PLUGINS)
	$(Q)$(CC) $(LDFLAGS) $(PLUGIN_EXPORTS) -o $@ $< $(CORE_LIB) \
	  $(PKG_LIBS) $(CHECK_LIBS)

# The example kind of coordinator (ckpt-coord(7)) against the header as
# installed (include/ckpt/ckpt-coord.h), without the tree's -iquote.
$(B)/include/ckpt/ckpt-coord.h: plugins/ckpt-coord.h
	@mkdir -p $(@D)
	$(Q)cp $< $@
$(B)/plugins/coord-every.so: plugins/examples/coord-every.c \
			     $(B)/include/ckpt/ckpt-coord.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -std=gnu11 $(WARN) $(CFLAGS) -I$(B)/include -fPIC -shared \
	  -o $@ $<
EXAMPLE_PLUGINS += $(B)/plugins/coord-every.so
# ---- end example plugin ----

# ---- tests ---------------------------------------------------------------

$(B)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(CHECK_CFLAGS) -c -o $@ $<

$(B)/tests/check_%: $(B)/tests/check_%.o $(CORE_LIB)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# restore/check.c is not in the core library
$(B)/tests/check_restore: $(B)/tests/check_restore.o $(B)/restore/check.o \
			  $(CORE_LIB)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# the dumper's /proc text parsers are not in the core library
$(B)/tests/check_dump: $(B)/tests/check_dump.o $(B)/ckpt/dump-kfds.o \
		       $(B)/ckpt/dump-locks.o $(B)/ckpt/dump-proctext.o \
		       $(CORE_LIB)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# Workloads are test programs, not project code: plain flags, -pthread.
WL_CFLAGS := -std=gnu11 -O1 -g -Wall -D_GNU_SOURCE -pthread
$(B)/tests/workloads/%: tests/workloads/%.c tests/workloads/workload.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(WL_CFLAGS) -o $@ $< -lm
# the JVM job of t-job.sh
$(B)/tests/workloads/%.class: tests/workloads/%.java
	@mkdir -p $(@D)
	@$(if $(Q),echo "  JAVAC   $@")
	$(Q)javac -J-XX:TieredStopAtLevel=1 -d $(@D) $<
$(B)/tests/workloads/%-static: tests/workloads/%.c tests/workloads/workload.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(WL_CFLAGS) -static -o $@ $< -lm

# every suite runs, even after one failed; then one line says which failed
check-unit: all $(UNIT_BIN)
	@n=0; failed=; for t in $(UNIT_BIN); do \
	  $$t || { n=$$((n + 1)); failed="$$failed $${t##*/}"; }; done; \
	if [ $$n -gt 0 ]; then echo "check-unit: $$n of" \
	  "$(words $(UNIT_BIN)) suites failed:$$failed" >&2; exit 1; fi; \
	echo "check-unit: all $(words $(UNIT_BIN)) suites passed"

check-integration: all $(WL_BIN) $(EXAMPLE_PLUGINS)
	$(Q)bash tests/integration/run.sh

# the build on every core (serial, it took 103 s of a check here), the
# fuzzers among it where clang can build them (t-fuzz.sh runs them; alone
# in the test they kept both cores for 23 s), the tests one after the other
FUZZ_CAN = $(shell mkdir -p $(B) && echo 'int LLVMFuzzerTestOneInput(const \
	   char *d, unsigned long n) { (void)d; (void)n; return 0; }' | \
	   clang -fsanitize=fuzzer -x c -o $(B)/fuzz-probe - 2>/dev/null && \
	   echo $(FUZZ_BIN))
check:
	$(Q)$(MAKE) --no-print-directory lint
	$(Q)$(MAKE) --no-print-directory -j$(shell nproc 2>/dev/null || echo 1) \
	  all $(UNIT_BIN) $(WL_BIN) $(EXAMPLE_PLUGINS) $(FUZZ_CAN)
	$(Q)$(MAKE) --no-print-directory check-unit
	$(Q)$(MAKE) --no-print-directory check-integration

# ckpt, then restore, killed by SIGKILL at FAULT_RUNS random moments per
# target
FAULT_RUNS ?= 100
fault: all $(WL_BIN)
	$(Q)bash tests/fault/kill-ckpt.sh --runs $(FAULT_RUNS)
	$(Q)bash tests/fault/kill-restore.sh --runs $(FAULT_RUNS)

asan:
	$(MAKE) B=build/asan SANITIZE=address,undefined check-unit

# ---- fuzzing -------------------------------------------------------------

# Every reader of untrusted bytes has a libFuzzer target (tests/fuzz/):
#   image   the image reader
#   proc    the /proc text parsers: smaps, stat, fdinfo of each fd kind
#   stream  the read side of the pipeline: zstd and encrypt filters
#   serve   ckpt serve's side of tcp://: handshake, request, frames
#   client  the tcp stage's side of tcp://, reading an image
#   coord   the coordinator's message parser (ckpt coord, run --coord)
# Each runs FUZZ_SECONDS; the seeds are made at build time by the real
# writers and from this machine's /proc (git holds no binaries).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := image proc stream serve client coord
FUZZ_SAN := address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -g -O1 -iquote . -D_GNU_SOURCE
# only arch's crc32c.c: the rest of arch/ is not needed by the readers
FUZZ_SRC := $(wildcard util/*.c image/*.c) arch/$(ARCH)/crc32c.c
FUZZ_NET := tests/fuzz/fuzz.c plugins/net.c
FUZZ_PIPE := tests/fuzz/fuzz.c $(wildcard plugins/*.c)
FUZZ_DEPS_image :=
FUZZ_DEPS_proc := ckpt/dump-kfds.c ckpt/dump-locks.c ckpt/dump-proctext.c
FUZZ_DEPS_stream := $(FUZZ_PIPE)
FUZZ_DEPS_serve := $(FUZZ_NET) serve/serve-conn.c serve/serve-migrate.c \
		   serve/serve-pages.c
FUZZ_DEPS_client := $(FUZZ_PIPE)
FUZZ_DEPS_coord := coord/msg.c
FUZZ_LIBS := $(shell pkg-config --libs libzstd libsodium libnftables 2>/dev/null) \
	     -ldl -pthread
FUZZ_BIN := $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)

# each source compiled once, instrumented, for every target that links it
# (util/ and image/ compiled again for each of the six: t-fuzz took 85 s
# here, 34 s so)
FUZZ_OBJ = $(patsubst %.c,$(B)/fuzz/obj/%.o,$(1))
$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) \
	  -MMD -MP -c -o $@ $<

.SECONDEXPANSION:
$(B)/fuzz/fuzz_%: $$(call FUZZ_OBJ,tests/fuzz/fuzz_$$*.c $$(FUZZ_DEPS_$$*) \
		  $(FUZZ_SRC))
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)clang -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $^ $(FUZZ_LIBS)
# kept, not removed as intermediate files: the next build links them again
.SECONDARY: $(call FUZZ_OBJ,$(FUZZ_SRC) $(FUZZ_TARGETS:%=tests/fuzz/fuzz_%.c) \
	    $(foreach t,$(FUZZ_TARGETS),$(FUZZ_DEPS_$t)))

# the seed makers are ordinary programs, built as the project is
$(B)/fuzz/mkseed: tests/fuzz/mkseed.c $(FUZZ_SRC)
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(WARN) -g -iquote . -D_GNU_SOURCE -o $@ $^ \
	  $(shell pkg-config --libs libnftables libsodium 2>/dev/null)
$(B)/fuzz/mkseed-proc: tests/fuzz/mkseed-proc.c
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(WARN) -g -D_GNU_SOURCE -o $@ $^
$(B)/fuzz/mkseed-wire: tests/fuzz/mkseed-wire.c tests/fuzz/fuzz.c \
		       $(B)/serve/serve-conn.o $(B)/serve/serve-migrate.o \
		       $(B)/serve/serve-pages.o $(CORE_LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(WARN) -g -iquote . -D_GNU_SOURCE -pthread \
	  -o $@ $^ $(PKG_LIBS) -ldl

# one directory of seeds per target, remade on each run (/proc changes)
fuzz-seeds: $(B)/fuzz/mkseed $(B)/fuzz/mkseed-proc $(B)/fuzz/mkseed-wire
	@rm -rf $(B)/fuzz/seeds && mkdir -p \
	  $(FUZZ_TARGETS:%=$(B)/fuzz/seeds/%)
	$(Q)$(B)/fuzz/mkseed $(B)/fuzz/seeds/image
	$(Q)$(B)/fuzz/mkseed-proc $(B)/fuzz/seeds/proc
	$(Q)$(B)/fuzz/mkseed-wire $(B)/fuzz/seeds/image/rich.ckpt \
	  $(B)/fuzz/seeds/stream $(B)/fuzz/seeds/serve $(B)/fuzz/seeds/client
	$(Q)cd $(B)/fuzz/seeds/coord && \
	  printf 'JOIN ring ring0 host /run/r 1' >join && \
	  printf 'DONE 3 /run/r/0003.ckpt %064d' 0 >done && \
	  printf 'CKPT 12 1 tcp://h:1/n' >ckpt && \
	  printf 'FAIL 2 member has no running job' >fail && \
	  printf 'OK job ring: 1 members\nmember m on h: running' >ok && \
	  printf 'CHECKPOINT ring 1' >checkpoint

fuzz-build: $(FUZZ_BIN) fuzz-seeds

# the list, for tests/integration/t-fuzz.sh
fuzz-targets:
	@echo $(FUZZ_TARGETS)

# images of the workloads, for fuzz_image (root: ckpt attach dumps them)
fuzz-real-seeds: all $(WL_BIN)
	$(Q)rm -rf $(B)/fuzz/real-seeds
	$(Q)bash tests/fuzz/real-seeds.sh $(B) $(B)/fuzz/real-seeds/image

fuzz: fuzz-build fuzz-real-seeds
	$(Q)for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(B)/fuzz/corpus/$$t $(B)/fuzz/real-seeds/$$t && \
	  nice $(B)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    $(B)/fuzz/corpus/$$t $(B)/fuzz/seeds/$$t \
	    $(B)/fuzz/real-seeds/$$t || exit 1; done

# ---- lint, man, bench, install --------------------------------------------

# the layers' include rules, private headers, ISA #ifdefs, "../"
lint:
	$(Q)bash tests/lint/layers.sh
	@echo "lint: ok"

MANS := $(wildcard man/*.[1-9])
man-lint:
	@out=$$(mandoc -T lint -W warning $(MANS) 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; echo "man-lint: ok"

bench: all $(WL_BIN)
	$(Q)bash bench/run.sh
	$(Q)bash bench/stream.sh
	$(Q)bash bench/serve-load.sh
	$(Q)bash bench/coord.sh
	$(Q)bash bench/snapshot.sh
	$(Q)bash bench/incr.sh

demo: all
	$(Q)bash tests/demo.sh

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all installed"; fi

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man3 $(DESTDIR)$(PREFIX)/share/man/man5 \
	  $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(LIBDIR)
	install -m 755 $(B)/bin/ckpt $(B)/bin/restore $(B)/bin/ckpt-cc \
	  $(DESTDIR)$(PREFIX)/bin
	install -d $(DESTDIR)$(PREFIX)/lib/ckpt-cc
	install -m 644 $(XISA_RT) $(DESTDIR)$(PREFIX)/lib/ckpt-cc
	install -m 644 elf/dlsym_default.h $(DESTDIR)$(PREFIX)/include
	install -m 644 $(B)/lib/$(DLSYM_SONAME) $(DESTDIR)$(LIBDIR)
	ln -sf $(DLSYM_SONAME) $(DESTDIR)$(LIBDIR)/libdlsym_default.so
	install -m 644 $(B)/lib/libdlsym_default.a $(DESTDIR)$(LIBDIR)
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(wildcard man/*.3) $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 644 $(wildcard man/*.5) $(DESTDIR)$(PREFIX)/share/man/man5
	install -d $(DESTDIR)$(PREFIX)/share/man/man7 \
	  $(DESTDIR)$(PREFIX)/include/ckpt $(DESTDIR)$(PLUGIN_DIR)
	install -m 644 $(wildcard man/*.7) $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 644 plugins/plugin.h plugins/app.h ckpt/libckpt.h \
	  plugins/ckpt-coord.h \
	  $(DESTDIR)$(PREFIX)/include/ckpt
	install -m 644 $(B)/lib/$(LIBCKPT_SONAME) $(DESTDIR)$(LIBDIR)
	ln -sf $(LIBCKPT_SONAME) $(DESTDIR)$(LIBDIR)/libckpt.so
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 644 $(PCS) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 ckpt/completion.bash \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ckpt
	ln -sf ckpt $(DESTDIR)$(PREFIX)/share/bash-completion/completions/restore
	install -m 644 $(B)/ckpt-serve.service \
	  $(DESTDIR)$(PREFIX)/lib/systemd/system

# what make install writes from a template: the paths and release filled in
PCS := $(B)/ckpt-plugin.pc $(B)/dlsym_default.pc $(B)/libckpt.pc \
	$(B)/ckpt-coord.pc
SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	  -e 's|@LIBDIR@|$(LIBDIR)|g' \
	  -e 's|@PLUGIN_DIR@|$(PLUGIN_DIR)|g' -e 's|@BINDIR@|$(PREFIX)/bin|g'
all: $(PCS) $(B)/ckpt-serve.service
# made again whenever a path or the release differs from what they hold
$(B)/%.pc: plugins/%.pc.in FORCE
	$(Q)$(SUBST) $< | cmp -s - $@ || $(SUBST) $< >$@
$(B)/%.pc: elf/%.pc.in FORCE
	$(Q)$(SUBST) $< | cmp -s - $@ || $(SUBST) $< >$@
$(B)/%.pc: ckpt/%.pc.in FORCE
	$(Q)$(SUBST) $< | cmp -s - $@ || $(SUBST) $< >$@
$(B)/ckpt-serve.service: serve/ckpt-serve.service.in FORCE
	$(Q)$(SUBST) $< | cmp -s - $@ || $(SUBST) $< >$@

# Debian packages (debian/) built from a copy of the tree, into $(B)/deb:
# ckpt, libdlsym-default0, ckpt-dev; lintian's verdict printed after
deb:
	rm -rf $(B)/deb && mkdir -p $(B)/deb/ckpt-$(VERSION)
	git ls-files -z --cached --others --exclude-standard | \
	  tar --null -T - -c | tar -x -C $(B)/deb/ckpt-$(VERSION)
	cd $(B)/deb/ckpt-$(VERSION) && dpkg-buildpackage -b -us -uc -j2 \
	  >../build.log 2>&1 || { tail -20 ../build.log; exit 1; }
	@ls $(B)/deb/*.deb
	-@command -v lintian >/dev/null && lintian $(B)/deb/*.changes

clean:
	rm -rf build

.PHONY: all demo depcheck check check-unit check-integration fault asan fuzz \
	fuzz-build fuzz-seeds fuzz-real-seeds fuzz-targets lint \
	man-lint bench deps install deb clean

-include $(shell find $(B) -name '*.d' 2>/dev/null)
