# actgate — build, tests, demo. `make help` lists the targets.
#
# The BPF programs are compiled with clang against vmlinux.h (generated from
# the running kernel's BTF; CO-RE relocates them against the target kernel),
# linked into one object and turned into a libbpf skeleton. Userspace links one
# static library, libactgate.a, into both binaries and every unit test.

.DELETE_ON_ERROR:
.SUFFIXES:

BUILD     ?= build
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
# Where `make install` puts things. The binaries' compiled-in defaults are
# /etc/actgate, /var/lib/actgate, /var/log/actgate and /run/actgate whatever
# PREFIX is, so SYSCONFDIR defaults to /etc, not $(PREFIX)/etc. The package
# (make deb) installs with PREFIX=/usr, its unit in /usr/lib/systemd/system.
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
EXAMPLESDIR ?= $(PREFIX)/share/actgate/examples
SYSCONFDIR ?= /etc
UNITDIR   ?= /etc/systemd/system
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

# SAN=1 builds userspace with AddressSanitizer and UBSan.
SAN ?= 0

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)"
endif

WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CFLAGS    ?= -O2 -g
CPPFLAGS  += -D_GNU_SOURCE -Iinclude -Isrc -I$(BUILD)
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS)
# Not -lcurl nor -lssl: src/util/curl-lazy.c and ssl-lazy.c load them when first
# used (libcurl and its libraries cost every run of actgate some 12M instructions
# of relocation, libssl 0.85M; only export sinks and the SSF poller use them).
# -lcrypto stays for the tests that sign (tests/unit/jws_sign.h): the binaries
# call only what src/util/crypto-lazy.c defines, so --as-needed (Debian's
# default, made explicit here) leaves libcrypto out of them, and it loads at the
# first call (tests/unit/test_util_crypto_lazy.c checks).
LDFLAGS   += -Wl,--as-needed
LDLIBS    := -lbpf -lelf -lz -lyaml -ljansson -lcrypto -lsystemd
# The SSF receiver (src/daemon/ssf*.c): its HTTP server (libcurl: its client and the OTLP sink's).
LDLIBS    += -lmicrohttpd
ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
endif

# The target architecture's name as the kernel's headers spell it (bpf_tracing.h).
BPF_ARCH  ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
		-e 's/ppc64le/powerpc/' -e 's/s390x/s390/' -e 's/riscv64/riscv/')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) $(WARN) -Wno-unused-function -Wno-unused-parameter \
	      -Iinclude -Ibpf -I$(BUILD)

# BPF_BUILD_SALT=N compiles a harmless constant into one program: another
# BPF build that behaves the same (the upgrade scenario's second build).
BPF_BUILD_SALT ?=
ifneq ($(BPF_BUILD_SALT),)
BPF_CFLAGS += -DACTGATE_BUILD_SALT=$(BPF_BUILD_SALT)
endif

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
# maps.bpf.o first: the linker resolves the other objects' extern maps against it.
BPF_OBJS  := $(BUILD)/bpf/maps.bpf.o $(filter-out $(BUILD)/bpf/maps.bpf.o,$(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS)))
SKEL      := $(BUILD)/actgate.skel.h

# src/ is layered in folders (docs/architecture.md); every .c outside the two
# mains goes into the library.
MAIN_SRCS := src/daemon/main.c src/cli/main.c
LIB_SRCS  := $(filter-out $(MAIN_SRCS),$(wildcard src/*/*.c))
LIB_OBJS  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
# Header dependencies as the compiler saw them (-MMD -MP), not a hand list.
DEP_FLAGS  = -MMD -MP -MF $(@:.o=.d)
LIB       := $(BUILD)/libactgate.a
BINS      := $(BUILD)/actgated $(BUILD)/actgate

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
VM_HELPERS := $(BUILD)/tests/actprobe

# Debian bookworm packages the build, the tests and the VM harness need.
DEPS_PACKAGES := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libyaml-dev libjansson-dev libssl-dev libsystemd-dev \
	libcmocka-dev pkg-config make gcc valgrind qemu-system-x86 busybox-static cpio gzip \
	xz-utils zstd ca-certificates \
	libmicrohttpd-dev libcurl4-openssl-dev curl rsyslog rsyslog-gnutls openssl python3 \
	debhelper dpkg-dev fakeroot lintian systemd mmdebstrap e2fsprogs
# libcurl4-openssl-dev is the OTLP sink's and the SSF receiver's HTTP client, libmicrohttpd-dev
# the SSF receiver's server; rsyslog (+ its GnuTLS driver), curl, openssl and python3 are the
# export and SSF tests' peers (tests/unit/rsyslog-peer.sh, otlp-receiver.py, tests/ssf).
# libsystemd-dev is for sd_notify; the last line: the Debian package
# (debian/control's Build-Depends), lintian, systemd-analyze, the systemd test.

.PHONY: all help deps unit vmtest test demo fuzz valgrind bench bench-job clean install uninstall deb systemdtest
all: $(BINS)

help:
	@echo 'make            build the BPF object, the skeleton, actgated and actgate'
	@echo 'make deps       install the Debian packages everything needs (idempotent)'
	@echo 'make unit       unit tests (cmocka, native)'
	@echo 'make vmtest     VM suite: the real kernel in qemu (VMTEST_KERNEL=6.1|6.12,'
	@echo '                VMTEST_SCENARIOS="dir ..." adds scenario directories,'
	@echo '                VMTEST_ONLY=GLOB runs the matching scenarios only)'
	@echo 'make test       deps + unit + vmtest'
	@echo 'make demo       deps + build + a workload under a policy, then its replay'
	@echo 'make fuzz       libFuzzer targets for every parser, FUZZ_SECONDS each (default 30)'
	@echo 'make valgrind   unit tests under valgrind'
	@echo 'make bench      measurements, as ratios to a baseline from the same run'
	@echo 'make bench-job  only the real-job row of make bench (a C build in the VM)'
	@echo 'make install    binaries, unit, man pages, example policies, /etc/actgate'
	@echo '                (PREFIX, DESTDIR, SYSCONFDIR, UNITDIR, BINDIR, SBINDIR, MANDIR)'
	@echo 'make uninstall  remove what make install put (configuration and policies stay)'
	@echo 'make deb        the Debian package, in $(BUILD)/deb/ (debhelper), then lintian'
	@echo 'make systemdtest  the package under real systemd in a VM (KERNEL=6.1|6.12)'
	@echo 'make clean      remove build/ (the VM kernel cache is kept)'
	@echo 'V=1 shows commands; SAN=1 builds with ASan/UBSan'

deps:
	$(Q)./tests/vm/install-deps.sh $(DEPS_PACKAGES)

$(BUILD)/vmlinux.h:
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)if [ ! -r $(VMLINUX_BTF) ]; then \
		echo "actgate: build: $(VMLINUX_BTF) is missing: the build needs a kernel with BTF (CONFIG_DEBUG_INFO_BTF) or VMLINUX_BTF=FILE" >&2; exit 1; fi
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(@:.o=.d) -c $< -o $@

# Every helper header compiles on its own, included first: compiled as the
# main file, so one that leans on what an includer happened to include
# before it fails the build.
BPF_LIB_CHECKS := $(patsubst bpf/lib/%.h,$(BUILD)/bpf/lib/%.h.o,$(wildcard bpf/lib/*.h))
$(BUILD)/bpf/lib/%.h.o: bpf/lib/%.h $(BUILD)/vmlinux.h
	$(call msg,BPF-HDR,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(@:.o=.d) -x c -c $< -o $@

$(BUILD)/actgate.bpf.o: $(BPF_OBJS) | $(BPF_LIB_CHECKS)
	$(call msg,LINK-BPF,$@)
	$(Q)$(BPFTOOL) gen object $@ $(BPF_OBJS)

$(SKEL): $(BUILD)/actgate.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name actgate_bpf > $@

# The skeleton embeds the BPF object: the loader is rebuilt when it changes.
$(BUILD)/obj/kernel/enforcer.o $(BUILD)/obj/kernel/enforcer-maps.o $(BUILD)/obj/kernel/enforcer-upgrade.o: $(SKEL)

# The version, from one place (src/util/version.h): debian/changelog's newest
# entry, plus `git describe` when this is a git checkout (.git is a directory,
# or a file in a worktree), not when built from a tarball. Rewritten only when
# it changes, so a build of the same commit relinks nothing.
VERSION_BASE := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
VERSION_GIT   = $(if $(wildcard .git),$(shell git describe --always --dirty 2>/dev/null))
VERSION_FULL  = $(VERSION_BASE)$(if $(VERSION_GIT),+$(VERSION_GIT))
.PHONY: version-force
$(BUILD)/actgate-version.h: version-force
	$(Q)mkdir -p $(@D)
	$(Q)v='$(VERSION_FULL)'; \
	if [ -z '$(VERSION_BASE)' ]; then echo 'actgate: build: no version in debian/changelog' >&2; exit 1; fi; \
	if [ $${#v} -gt 63 ] || printf '%s' "$$v" | LC_ALL=C grep -q '[^!-~]'; then \
		echo "actgate: build: version '$$v': more than 63 bytes or not printable ASCII" >&2; exit 1; fi; \
	printf '/* generated by the Makefile from debian/changelog and git describe */\n#define ACTGATE_VERSION_STRING "%s"\n' "$$v" > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; echo "  VERSION  $$v"; fi
$(BUILD)/obj/util/version.o $(BUILD)/fuzz/obj/util/version.o: $(BUILD)/actgate-version.h

$(BUILD)/obj/%.o: src/%.c | $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(DEP_FLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/actgated: $(BUILD)/obj/daemon/main.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/actgate: $(BUILD)/obj/cli/main.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -MMD -MP -MF $@.d $< $(LIB) $(LDLIBS) -lcmocka -o $@

# The BPF-level test of the path-naming step (tests/vm/pathname.bpf.c): its
# own object and skeleton, which actprobe carries; never part of actgated's.
$(BUILD)/tests/pathname.bpf.o: tests/vm/pathname.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(@:.o=.d) -c $< -o $@

$(BUILD)/tests/pathname.skel.h: $(BUILD)/tests/pathname.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name pathname_bpf > $@

$(BUILD)/tests/actprobe: tests/vm/actprobe.c $(BUILD)/tests/pathname.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -MMD -MP -MF $@.d $< -lbpf -lelf -lz -o $@

# The SSF receiver driven over loopback (tests/ssf/run.sh): its own loop,
# since actgated cannot start where the kernel refuses BPF LSM.
$(BUILD)/tests/ssf-harness: tests/ssf/harness.c $(LIB)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -MMD -MP -MF $@.d $< $(LIB) $(LDLIBS) -o $@

unit: $(UNIT_BINS) $(BUILD)/actgate $(BUILD)/tests/ssf-harness
	$(Q)./tests/unit/run.sh $(UNIT_BINS)
	$(Q)./tests/ssf/run.sh $(BUILD)/tests/ssf-harness
	$(Q)./tests/unit/check-docs.sh $(BUILD)/actgate
	$(Q)./tests/unit/check-layers.sh src

# The upgrade scenario (86-upgrade) replaces this build's pins with another
# BPF build's: the same sources with BPF_BUILD_SALT, its daemon as actgated-next.
$(BUILD)/actgated-next: $(BUILD)/actgated
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/next BPF_BUILD_SALT=1 $(BUILD)/next/actgated
	$(Q)cp $(BUILD)/next/actgated $@

VMTEST_KERNEL ?= 6.1
VMTEST_SCENARIOS ?=
# VMTEST_ONLY=GLOB runs only the scenarios whose name matches (run.sh --only).
# 300 s a scenario, not run.sh's 180: 86-upgrade's storm and upgrade took
# up to 180 s under TCG on 6.12 on a loaded machine. A hang still ends.
# Host tools the scenarios run in the VM: openssl signs tokens (71-74), curl pushes
# them to the SSF receiver (72, 74).
VMTEST_TOOLS := /usr/bin/openssl /usr/bin/curl
vmtest: $(BINS) $(VM_HELPERS) $(BUILD)/actgated-next
	$(Q)VMTEST_SCENARIO_TIMEOUT=$${VMTEST_SCENARIO_TIMEOUT:-300} \
		VMTEST_EXTRA_BINS="$(BUILD)/actgated-next $(VMTEST_TOOLS) $${VMTEST_EXTRA_BINS:-}" ./tests/vm/run.sh --kernel $(VMTEST_KERNEL) --build $(BUILD) --jobs $${VMTEST_JOBS:-2} \
		--scenarios "tests/vm/scenarios $(VMTEST_SCENARIOS)" $${VMTEST_ONLY:+--only "$$VMTEST_ONLY"}

test: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS) $(VM_HELPERS)
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory vmtest

demo: deps
	$(Q)$(MAKE) --no-print-directory all $(VM_HELPERS)
	$(Q)./demo/demo.sh --build $(BUILD)

$(BUILD)/bench/bench_%: tests/bench/bench_%.c tests/bench/synthetic.h $(LIB)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

# The kernels `make bench` measures on.
BENCH_KERNELS ?= 6.1 6.12
# The real-job row (tests/bench/vm-build.sh): a C build in the VM, with the
# host's Debian toolchain copied into the initramfs (run.sh's VMTEST_HOST_FILES)
# and the sources and CI policy it builds under.
BENCH_JOB_FILES := $(BUILD)/bench/build-job-files.txt
BENCH_JOB_VM := VMTEST_QEMU_ARGS="-icount shift=0,sleep=off" VMTEST_SCENARIO_TIMEOUT=3000 \
	VMTEST_HOST_FILES=$(BENCH_JOB_FILES) \
	VMTEST_DEMO_FILES="src include tests/bench/build-job.mk policies/ci-runner.yaml"
$(BENCH_JOB_FILES): tests/bench/build-job-files.sh tests/bench/build-job.mk $(LIB_SRCS)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)tests/bench/build-job-files.sh . >$@.tmp && mv $@.tmp $@
# bench-job: the real-job row alone, on BENCH_KERNELS (build/bench/build-KERNEL.log).
bench-job: $(BENCH_JOB_FILES) $(BINS) $(VM_HELPERS)
	$(Q)mkdir -p $(BUILD)/bench
	$(Q)rc=0; for k in $(BENCH_KERNELS); do \
		echo "== a real job: a C build under the CI policy, in the VM ($$k, qemu -icount)"; \
		{ $(BENCH_JOB_VM) ./tests/vm/run.sh --kernel $$k --build $(BUILD) --demo tests/bench/vm-build.sh \
			|| echo "bench-job: the run on $$k failed" >&2; } 2>&1 | tee $(BUILD)/bench/build-$$k.log; \
		grep -q '^bench-job: the run on' $(BUILD)/bench/build-$$k.log && rc=1; \
	done; \
	sh tests/bench/report.sh $(BUILD)/bench $(BENCH_KERNELS); exit $$rc
bench: $(BENCH_JOB_FILES) $(BUILD)/bench/bench_compile $(BUILD)/bench/bench_start $(BUILD)/bench/bench_jstore \
	$(BUILD)/bench/bench_journal $(BUILD)/bench/bench_export $(BUILD)/bench/bench_jquery $(BUILD)/bench/bench_signals \
	$(BINS) $(VM_HELPERS)
	$(Q)echo '== policy parse + compile, natively'
	$(Q)$(BUILD)/bench/bench_compile
	$(Q)echo '== the daemon start outside the kernel (load, compile, follow the paths), natively'
	$(Q)$(BUILD)/bench/bench_start
	$(Q)echo '== journal store: write, read, verify, bytes on disk, natively'
	$(Q)$(BUILD)/bench/bench_jstore
	$(Q)echo '== decision journal: write, filtered replay, what-if, bytes on disk, natively'
	$(Q)$(BUILD)/bench/bench_journal
	$(Q)echo '== streaming export: records/s to a local file sink against the journal scan, natively'
	$(Q)$(BUILD)/bench/bench_export
	$(Q)echo '== journal queries: 10 M decisions, selective replay with segment summaries against a full scan, natively'
	$(Q)$(BUILD)/bench/bench_jquery >$(BUILD)/bench/jquery.log && cat $(BUILD)/bench/jquery.log
	$(Q)mkdir -p $(BUILD)/bench
	$(Q)echo '== the actgate command before it reaches the daemon, natively (callgrind)'
	$(Q)sh tests/bench/cli-cost.sh $(BUILD) | tee $(BUILD)/bench/cli-native.log
	$(Q)set -e; for k in $(BENCH_KERNELS); do \
		echo "== kernel-side cost in the VM ($$k, qemu -icount)"; \
		VMTEST_QEMU_ARGS="-icount shift=0,sleep=off" ./tests/vm/run.sh --kernel $$k \
			--build $(BUILD) --demo tests/bench/vm-lookup.sh | tee $(BUILD)/bench/lookup-$$k.log; \
		echo "== egress by name: connect with 1,000 rules by name, lookup latency ($$k, qemu -icount)"; \
		VMTEST_QEMU_ARGS="-icount shift=0,sleep=off" ./tests/vm/run.sh --kernel $$k \
			--build $(BUILD) --demo tests/bench/vm-names.sh | tee $(BUILD)/bench/names-$$k.log; \
		echo "== revocation and signal change to the first denied action, in the VM ($$k, qemu -icount)"; \
		VMTEST_QEMU_ARGS="-icount shift=0,sleep=off" VMTEST_SCENARIO_TIMEOUT=3000 VMTEST_TIMEOUT=3600 VMTEST_EXTRA_BINS="$(BUILD)/bench/bench_signals" \
			./tests/vm/run.sh --kernel $$k --build $(BUILD) --demo tests/bench/vm-signals.sh \
			| tee $(BUILD)/bench/signals-$$k.log; \
		echo "== a real job: a C build under the CI policy, in the VM ($$k, qemu -icount)"; \
		$(BENCH_JOB_VM) ./tests/vm/run.sh --kernel $$k --build $(BUILD) --demo tests/bench/vm-build.sh \
			| tee $(BUILD)/bench/build-$$k.log; \
		echo "== the reference: Landlock on the same open, in the VM ($$k, qemu -icount)"; \
		VMTEST_QEMU_ARGS="-icount shift=0,sleep=off" ./tests/vm/run.sh --kernel $$k \
			--build $(BUILD) --demo tests/bench/vm-landlock.sh | tee $(BUILD)/bench/landlock-$$k.log; \
		echo "== the daemon's start and size with 1,000 and 100,000 rules, in the VM ($$k, qemu -icount)"; \
		VMTEST_QEMU_ARGS="-icount shift=0,sleep=off" VMTEST_SCENARIO_TIMEOUT=3000 \
			./tests/vm/run.sh --kernel $$k --build $(BUILD) --demo tests/bench/vm-daemon.sh \
			| tee $(BUILD)/bench/daemon-$$k.log; \
	done
	$(Q)sh tests/bench/report.sh $(BUILD)/bench $(BENCH_KERNELS)

# libFuzzer needs clang. The targets link one library built from the same
# sources as libactgate.a, instrumented for coverage and the sanitizers, so a
# target never misses a source its parser came to need.
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB  := $(BUILD)/fuzz/libactgate-fuzz.a
FUZZ_OBJS := $(patsubst src/%.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

$(BUILD)/fuzz/obj/kernel/enforcer.o $(BUILD)/fuzz/obj/kernel/enforcer-maps.o $(BUILD)/fuzz/obj/kernel/enforcer-upgrade.o: $(SKEL)
$(BUILD)/fuzz/obj/%.o: src/%.c | $(SKEL)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CPPFLAGS) $(FUZZ_CFLAGS) $(DEP_FLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CPPFLAGS) -Itests/fuzz $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -MF $@.d \
		$< $(FUZZ_LIB) $(LDLIBS) -o $@

# Seeds: policies/ for every target, plus tests/fuzz/seeds/NAME/ for fuzz_NAME.
# A target that finds a crash fails the run; its whole output is kept in
# $(BUILD)/fuzz/fuzz_NAME.log and its last lines shown.
fuzz: $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do \
		n=$${f##*/fuzz_}; seeds=policies/; \
		[ ! -d tests/fuzz/seeds/$$n ] || seeds="$$seeds tests/fuzz/seeds/$$n"; \
		echo "== fuzz_$$n ($(FUZZ_SECONDS) s)"; \
		mkdir -p $(BUILD)/fuzz/corpus-fuzz_$$n || exit 1; \
		if $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 $(BUILD)/fuzz/corpus-fuzz_$$n \
			$$seeds >$(BUILD)/fuzz/fuzz_$$n.log 2>&1; then \
			tail -n 1 $(BUILD)/fuzz/fuzz_$$n.log; \
		else \
			tail -n 40 $(BUILD)/fuzz/fuzz_$$n.log; echo "fuzz_$$n: FAILED"; exit 1; \
		fi; \
	done

# The unit tests under valgrind (memory errors and definite leaks fail them).
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite
valgrind: $(UNIT_BINS)
	$(Q)UNIT_WRAPPER="$(VALGRIND)" ./tests/unit/run.sh $(UNIT_BINS)

# The unit names the package's paths (/usr/sbin, /usr/bin); an install
# elsewhere rewrites them.
install: $(BINS)
	install -D -m 0755 $(BUILD)/actgated $(DESTDIR)$(SBINDIR)/actgated
	install -D -m 0755 $(BUILD)/actgate $(DESTDIR)$(BINDIR)/actgate
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed -e 's|/usr/sbin/actgated|$(SBINDIR)/actgated|g' -e 's|/usr/bin/actgate |$(BINDIR)/actgate |g' \
		systemd/actgated.service > $(DESTDIR)$(UNITDIR)/actgated.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/actgated.service
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/actgate/policies
	[ -e $(DESTDIR)$(SYSCONFDIR)/actgate/actgated.yaml ] || \
		install -m 0644 systemd/actgated.yaml $(DESTDIR)$(SYSCONFDIR)/actgate/actgated.yaml
	install -d -m 0755 $(DESTDIR)$(EXAMPLESDIR)
	install -m 0644 policies/*.yaml $(DESTDIR)$(EXAMPLESDIR)/
	install -D -m 0644 docs/actgate.1 $(DESTDIR)$(MANDIR)/man1/actgate.1
	install -D -m 0644 docs/actgated.8 $(DESTDIR)$(MANDIR)/man8/actgated.8

# What install put, with the same variables. The configuration, policies,
# journal and state stay (they are the operator's), and so does enforcement:
# stop the daemon and `actgate detach` first to end it.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/actgated $(DESTDIR)$(BINDIR)/actgate \
		$(DESTDIR)$(UNITDIR)/actgated.service \
		$(DESTDIR)$(MANDIR)/man1/actgate.1 $(DESTDIR)$(MANDIR)/man8/actgated.8
	rm -f $(addprefix $(DESTDIR)$(EXAMPLESDIR)/,$(notdir $(wildcard policies/*.yaml)))
	-rmdir $(DESTDIR)$(EXAMPLESDIR) $(DESTDIR)$(dir $(EXAMPLESDIR:/=)) 2>/dev/null
	@echo 'actgate: kept $(DESTDIR)$(SYSCONFDIR)/actgate (configuration, policies); enforcement, if attached, goes on until `actgate detach`'

# The Debian package (debian/), built from a copy of the tree so that the
# package's own build directory and debhelper's files stay out of the
# worktree; lintian must pass (debian/actgate.lintian-overrides explains each
# override). DEB_BUILD_OPTIONS=nocheck skips the unit tests in the build.
DEB_DIR ?= $(BUILD)/deb
deb:
	$(Q)./debian/build-deb.sh $(DEB_DIR)

# The package under real systemd: a debootstrapped root on a disk image,
# booted with the VM suite's kernel (tests/systemd/run.sh --help).
KERNEL ?= $(VMTEST_KERNEL)
systemdtest: deb
	$(Q)./tests/systemd/build-upgrade-deb.sh $(DEB_DIR)
	$(Q)./tests/systemd/run.sh --kernel $(KERNEL) --debs $(DEB_DIR)

clean:
	rm -rf $(BUILD)

# The dependency files the compilers wrote (-MMD -MP).
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
