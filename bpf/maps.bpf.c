/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The one definition of the shared maps (see maps.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define ACTGATE_DEFINE_MAPS
#include "maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
