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
PREFIX    ?= /usr/local
DESTDIR   ?=
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
LDLIBS    := -lbpf -lelf -lz -lyaml -lcrypto
ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
endif

BPF_ARCH  := x86
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) $(WARN) -Wno-unused-function -Wno-unused-parameter \
	      -Iinclude -Ibpf -I$(BUILD)

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
# maps.bpf.o first: the linker resolves the other objects' extern maps against it.
BPF_OBJS  := $(BUILD)/bpf/maps.bpf.o $(filter-out $(BUILD)/bpf/maps.bpf.o,$(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS)))
SKEL      := $(BUILD)/actgate.skel.h

MAIN_SRCS := src/actgated_main.c src/actgate_main.c
LIB_SRCS  := $(filter-out $(MAIN_SRCS),$(wildcard src/*.c))
LIB_OBJS  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
LIB       := $(BUILD)/libactgate.a
BINS      := $(BUILD)/actgated $(BUILD)/actgate

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
VM_HELPERS := $(BUILD)/tests/actprobe

# Debian bookworm packages the build, the tests and the VM harness need.
DEPS_PACKAGES := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libyaml-dev libssl-dev \
	libcmocka-dev pkg-config make gcc qemu-system-x86 busybox-static cpio gzip \
	xz-utils zstd ca-certificates

.PHONY: all help deps unit vmtest test demo fuzz bench clean install
all: $(BINS)

help:
	@echo 'make            build the BPF object, the skeleton, actgated and actgate'
	@echo 'make deps       install the Debian packages everything needs (idempotent)'
	@echo 'make unit       unit tests (cmocka, native)'
	@echo 'make vmtest     VM suite: the real kernel in qemu (VMTEST_KERNEL=6.1|6.12,'
	@echo '                VMTEST_SCENARIOS="dir ..." adds scenario directories)'
	@echo 'make test       deps + unit + vmtest'
	@echo 'make demo       deps + build + a workload under a policy, then its replay'
	@echo 'make fuzz       libFuzzer targets for every parser, FUZZ_SECONDS each (default 30)'
	@echo 'make bench      measurements, as ratios to a baseline from the same run'
	@echo 'make install    install binaries, unit file and example policies (PREFIX, DESTDIR)'
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

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h $(wildcard bpf/*.h) include/actgate/abi.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/actgate.bpf.o: $(BPF_OBJS)
	$(call msg,LINK-BPF,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(SKEL): $(BUILD)/actgate.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name actgate_bpf > $@

# The skeleton embeds the BPF object: the loader is rebuilt when it changes.
$(BUILD)/obj/enforcer.o: $(SKEL)

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) include/actgate/abi.h | $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/actgated: $(BUILD)/obj/actgated_main.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/actgate: $(BUILD)/obj/actgate_main.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB) $(wildcard src/*.h) $(wildcard tests/unit/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -lcmocka -o $@

$(BUILD)/tests/actprobe: tests/vm/actprobe.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) $< -o $@

unit: $(UNIT_BINS) $(BUILD)/actgate
	$(Q)./tests/unit/run.sh $(UNIT_BINS)
	$(Q)./tests/unit/check-docs.sh $(BUILD)/actgate

VMTEST_KERNEL ?= 6.1
VMTEST_SCENARIOS ?=
vmtest: $(BINS) $(VM_HELPERS)
	$(Q)./tests/vm/run.sh --kernel $(VMTEST_KERNEL) --build $(BUILD) \
		--scenarios "tests/vm/scenarios $(VMTEST_SCENARIOS)"

test: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS) $(VM_HELPERS)
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory vmtest

demo: deps
	$(Q)$(MAKE) --no-print-directory all $(VM_HELPERS)
	$(Q)./demo/demo.sh --build $(BUILD)

$(BUILD)/bench/bench_%: tests/bench/bench_%.c $(LIB)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

bench: $(BUILD)/bench/bench_compile $(BUILD)/bench/bench_jstore $(BUILD)/bench/bench_journal \
	$(BUILD)/bench/bench_signals $(BINS) $(VM_HELPERS)
	$(Q)echo '== policy parse + compile, natively'
	$(Q)$(BUILD)/bench/bench_compile
	$(Q)echo '== journal store: write, read, verify, bytes on disk, natively'
	$(Q)$(BUILD)/bench/bench_jstore
	$(Q)echo '== decision journal: write, filtered replay, what-if, bytes on disk, natively'
	$(Q)$(BUILD)/bench/bench_journal
	$(Q)echo '== kernel-side cost in the VM ($(VMTEST_KERNEL), qemu -icount)'
	$(Q)VMTEST_QEMU_ARGS="-icount shift=0,sleep=off" ./tests/vm/run.sh --kernel $(VMTEST_KERNEL) \
		--build $(BUILD) --demo tests/bench/vm-lookup.sh
	$(Q)echo '== revocation and signal change to the first denied action, in the VM ($(VMTEST_KERNEL), TCG)'
	$(Q)VMTEST_SCENARIO_TIMEOUT=1200 VMTEST_EXTRA_BINS="$(BUILD)/bench/bench_signals" ./tests/vm/run.sh --kernel $(VMTEST_KERNEL) \
		--build $(BUILD) --demo tests/bench/vm-signals.sh

# libFuzzer needs clang; each target links the parser sources it exercises.
FUZZ_SECONDS ?= 30
FUZZ_FLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc -Itests/fuzz
FUZZ_BINS := $(BUILD)/fuzz/fuzz_policy $(BUILD)/fuzz/fuzz_json $(BUILD)/fuzz/fuzz_journal \
	$(BUILD)/fuzz/fuzz_caep
$(BUILD)/fuzz/fuzz_policy: tests/fuzz/fuzz_policy.c src/policy.c src/policy_sections.c src/policy_select.c \
	src/policy_target.c src/yamltree.c src/diag.c
$(BUILD)/fuzz/fuzz_json: tests/fuzz/fuzz_json.c src/json.c
$(BUILD)/fuzz/fuzz_journal: tests/fuzz/fuzz_journal.c src/journal.c src/json.c
$(BUILD)/fuzz/fuzz_caep: tests/fuzz/fuzz_caep.c src/caep.c src/signals.c src/duration.c src/policy.c \
	src/policy_sections.c src/policy_select.c src/policy_target.c src/yamltree.c src/diag.c
$(FUZZ_BINS):
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_FLAGS) $^ -lyaml -o $@

# Seeds: policies/ for every target, plus tests/fuzz/seeds/NAME/ for fuzz_NAME.
fuzz: $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do \
		n=$${f##*/fuzz_}; seeds=policies/; \
		[ ! -d tests/fuzz/seeds/$$n ] || seeds="$$seeds tests/fuzz/seeds/$$n"; \
		echo "== fuzz_$$n ($(FUZZ_SECONDS) s)"; \
		mkdir -p $(BUILD)/fuzz/corpus-fuzz_$$n && \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 $(BUILD)/fuzz/corpus-fuzz_$$n \
			$$seeds 2>&1 | tail -n 2 || exit 1; \
	done

install: $(BINS)
	install -D -m 0755 $(BUILD)/actgated $(DESTDIR)$(PREFIX)/sbin/actgated
	install -D -m 0755 $(BUILD)/actgate $(DESTDIR)$(PREFIX)/bin/actgate
	install -d -m 0755 $(DESTDIR)/etc/systemd/system
	sed 's|/usr/local/sbin|$(PREFIX)/sbin|g' systemd/actgated.service \
		> $(DESTDIR)/etc/systemd/system/actgated.service
	install -d -m 0755 $(DESTDIR)/etc/actgate/policies
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/actgate/policies
	install -m 0644 policies/*.yaml $(DESTDIR)$(PREFIX)/share/actgate/policies/
	install -D -m 0644 docs/actgate.1 $(DESTDIR)$(PREFIX)/share/man/man1/actgate.1
	install -D -m 0644 docs/actgated.8 $(DESTDIR)$(PREFIX)/share/man/man8/actgated.8

clean:
	rm -rf $(BUILD)
