/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What enforcer.c and enforcer-maps.c share, and nothing else sees. */
#ifndef ACTGATE_KERNEL_ENFORCER_INTERNAL_H
#define ACTGATE_KERNEL_ENFORCER_INTERNAL_H

#include "kernel/enforcer.h"

/*
 * Count every key of the workloads map into the governed buckets again, from
 * zero: after adopting pins, whose counts an earlier daemon may have left
 * high. 0 or -errno.
 */
int enforcer_recount_workload_keys(struct enforcer *e);

#endif /* ACTGATE_KERNEL_ENFORCER_INTERNAL_H */
