/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Policy generations: the policy directory read, parsed, validated and
 * compiled into an image stamped with a generation; every workload bound
 * in it; the image written next to the running one and every workload
 * swapped to it; the one before unloaded after a grace period. A reload
 * (the verb reload, SIGHUP) and a rule path that comes to resolve to
 * another file (pathwatch.h) both make a new generation this way. A bad
 * policy never replaces a good one.
 */
#ifndef ACTGATE_DAEMON_GENERATION_H
#define ACTGATE_DAEMON_GENERATION_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/runtime.h"
#include "util/json.h"

/*
 * Read (unless g->sources already holds the files' bytes), parse, validate
 * and compile the policy directory as generation into g. Every diagnostic
 * is printed to stderr (the daemon's log) and, when report is given, also
 * kept there for a client (malloc'd text). On failure g's set and image are
 * empty; its sources stay as they were given.
 */
int generation_load(const struct daemon_config *cfg, uint32_t generation, struct generation *g,
		    char **report);
void generation_free(struct generation *g);

/*
 * A new generation from the policy directory as it is now, in force for
 * every workload; or -errno with generation d->current still in force.
 * report gets the diagnostics (malloc'd).
 */
int generation_reload(struct daemon *d, char **report);

/*
 * Take the replaced generation's rules out of the kernel once its grace is
 * over; with wait, wait for the grace to end.
 */
void generation_unload_previous(struct daemon *d, bool wait);

/*
 * Watch the ways to the current generation's rule paths, then check them
 * at once: a change between the compilation and the watch has no event.
 */
/* Give the freed pages of a compile back to the system (after a load, a reload, a bind). */
void generation_release_memory(void);
void generation_follow_paths(struct daemon *d);

/*
 * Check the rule paths once things settle; after a change on their way
 * (changed), watch the ways again.
 */
void generation_check_paths_soon(struct daemon *d, bool changed);

/*
 * Timer work: check the rule paths when due (and periodically where inotify
 * cannot watch), unload the previous generation once its grace is over.
 */
void generation_tick(struct daemon *d);

#endif /* ACTGATE_DAEMON_GENERATION_H */
