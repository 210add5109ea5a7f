# The "real job" of `make bench` (tests/bench/vm-build.sh): a C build as a CI
# job runs one, with the Debian toolchain (gcc, cc1, as, ar) and GNU make,
# timed in the VM with no agent and under policies/ci-runner.yaml. It builds
# actgate's own utility code (src/util) into a static library with
# the project's warnings and optimisation, one compiler run per source as
# make runs them, so that the agent sees what a build does: many execs
# (make, sh, gcc, cc1, as, ar) and many opens of headers and objects.
#
#   make -f build-job.mk SRC=DIR OUT=DIR [JOB_SRCS=...]
#
# SRC is a copy of the repository's src/ and include/ (as DIR/src,
# DIR/include); OUT receives the objects and libjob.a. build-job-files.sh
# lists the host files the VM needs for it, from the same source list.
SRC  ?= .
OUT  ?= build-job
CC   := gcc
AR   := ar
CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral \
	  -D_GNU_SOURCE -I$(SRC)/include -I$(SRC)/src
# version.c needs a header the project's Makefile generates: left out.
JOB_SRCS ?= $(filter-out %/src/util/version.c,$(wildcard $(SRC)/src/util/*.c))
OBJS := $(patsubst $(SRC)/src/%.c,$(OUT)/%.o,$(JOB_SRCS))

$(OUT)/libjob.a: $(OBJS)
	$(AR) rcs $@ $^

$(OUT)/%.o: $(SRC)/src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@
