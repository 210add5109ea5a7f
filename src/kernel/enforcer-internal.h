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

/* The BPF build's identity: SHA-256 of the object the skeleton embeds. */
int enforcer_build_id(__u8 out[ACTGATE_BUILD_ID_LEN]);
/* A build id's first 6 bytes in hex, for messages. */
void enforcer_hex12(const __u8 id[ACTGATE_BUILD_ID_LEN], char out[13]);
/* e->meta into the meta map of e's object. */
int enforcer_write_meta(struct enforcer *e);

/* Attach every program and pin its link under pin_dir (the live pins, or an upgrade's staging). */
int enforcer_attach_all(struct enforcer *e, const char *pin_dir, char *why, size_t why_size);
/*
 * Does the pinned map fd (at path) have the layout of map (any_size: any
 * max_entries)? 0, or -EPROTO with both layouts in why.
 */
int enforcer_check_pinned_map(const struct bpf_map *map, int fd, const char *path, bool any_size,
			      char *why, size_t why_size);

/*
 * Replace the complete pin set at cfg->pin_dir, of another BPF build of
 * this ABI version (its meta is previous), with this build's,
 * make-before-break (enforcer-upgrade.c). On success e holds this build's
 * links, pinned, and e->pin_fd the locked pin directory; on failure nothing
 * of this build stays attached or pinned and the previous set is as it was.
 * 0 or -errno with the reason in why.
 */
int enforcer_upgrade(struct enforcer *e, const struct enforcer_config *cfg,
		     const struct actgate_meta *previous, char *why, size_t why_size);

#endif /* ACTGATE_KERNEL_ENFORCER_INTERNAL_H */
