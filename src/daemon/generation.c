/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon/control.h"
#include "daemon/generation.h"
#include "daemon/records.h"
#include "daemon/workloads.h"
#include "util/clock.h"
#include "util/log.h"

/*
 * How long a replaced generation's rules stay in the kernel: a program that
 * read the old policy header just before the swap must still find its rules.
 * The programs are non-sleepable and finish in microseconds (well under a
 * millisecond even under emulation), so a quarter second is a wide margin
 * that still lets reloads follow each other quickly.
 */
#define UNLOAD_GRACE_NS 250000000LL
/*
 * After a change on the way to a rule's path, wait this long for more
 * before checking the paths again: a rename over a file comes with a
 * create and a move, a package upgrade with hundreds.
 */
#define PATH_SETTLE_NS 50000000LL
/* Where inotify cannot watch, every deny rule's path is checked this often. */
#define PATH_CHECK_INTERVAL_MS 10000

int generation_load(const struct daemon_config *cfg, uint32_t generation, struct generation *g,
		    char **report)
{
	struct diag_list diags = { 0 };
	size_t report_len = 0;
	struct stat st;
	FILE *mem;
	int err = 0;

	if (!g->sources.count)
		err = policy_sources_read_dir(cfg->policy_dir, &g->sources, &diags);
	/*
	 * A directory with no policy file (a fresh install) is a policy that
	 * governs nothing: the daemon starts and says so (status_line), and
	 * `actgate run` is refused for want of a policy. A directory that is
	 * not there stays an error: a mistyped path must not pass for one.
	 */
	if (err == -ENOENT && stat(cfg->policy_dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		diag_list_free(&diags);
		diags = (struct diag_list){ 0 };
		err = 0;
	}
	if (!err)
		err = policy_load_sources(&g->sources, &g->set, &diags);
	if (!err)
		err = policy_compile(&g->set, generation, resolve_path_stat, NULL, &g->image,
				     &diags);
	/*
	 * Without the resolver (no resolver: section) nothing learns a name's
	 * addresses: an allow rule by name would allow nothing, silently.
	 */
	if (!err && !cfg->resolver.enabled) {
		int unanswered = name_rules_check_no_resolver(&g->set, &diags);

		if (unanswered) {
			err = unanswered < 0 ? unanswered : -EINVAL;
			policy_image_free(&g->image);
		}
	}
	log_diags(&diags);
	if (report && (mem = open_memstream(report, &report_len))) {
		diag_print(&diags, mem);
		fclose(mem);
	}
	diag_list_free(&diags);
	if (err) {
		log_error("policy", "%s: refusing a policy that cannot be enforced as written",
			  cfg->policy_dir);
		policy_set_free(&g->set);
	}
	return err;
}

void generation_free(struct generation *g)
{
	policy_image_free(&g->image);
	policy_set_free(&g->set);
	policy_sources_free(&g->sources);
}

void generation_unload_previous(struct daemon *d, bool wait)
{
	int64_t now;

	if (!d->previous_unload_at_ns)
		return;
	now = mono_ns();
	if (now < d->previous_unload_at_ns) {
		struct timespec ts;
		int64_t left = d->previous_unload_at_ns - now;

		if (!wait)
			return;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	enforcer_unload_image(&d->enforcer, &d->previous.image);
	d->previous_unload_at_ns = 0;
}

void generation_release_memory(void)
{
	/*
	 * A compile frees as much as it keeps (the YAML trees, the per-policy
	 * checks, sorting arrays), in chunks spread over the heap; glibc gives
	 * back only the heap's free top, so without this the daemon's resident
	 * size stays at the compile's peak for as long as it runs.
	 */
	malloc_trim(0);
}

void generation_follow_paths(struct daemon *d)
{
	char changed[PATH_MAX];

	if (pathwatch_set(&d->paths, &d->current.image)) {
		d->path_rewatch = true; /* logged; try again at the next check */
	} else if (pathwatch_stale(&d->paths, changed, sizeof(changed)) == 0) {
		return;
	}
	d->path_check_at_ns = mono_ns() + PATH_SETTLE_NS;
}

/*
 * Compile a new generation, compile the effective policy of every live
 * workload under it, write it next to the running one, point every
 * workload at its new policy, then retire the old generation. From the
 * policy directory as it is now (a reload) or, with same_sources, from the
 * bytes the running generation was compiled from (a rule's path resolves
 * differently). Anything that cannot be done leaves the running generation
 * as it was. report gets the diagnostics (malloc'd).
 */
static int switch_generation(struct daemon *d, bool same_sources, char **report)
{
	struct generation next = { 0 };
	uint32_t generation = d->current.image.generation % POLICY_MAX_GENERATION + 1;
	uint32_t *ids = NULL;
	char why[1024];
	int err;

	*report = NULL;
	generation_unload_previous(d, true);
	/* Moved, not copied: the generation being replaced needs its set and image only. */
	if (same_sources) {
		next.sources = d->current.sources;
		d->current.sources = (struct policy_sources){ 0 };
	}
	err = generation_load(d->cfg, generation, &next, report);
	if (err)
		goto refuse;
	if (same_sources) {
		err = policy_image_follow(&next.image, &d->current.image);
		if (err) {
			log_error("paths", "cannot carry generation %u's files into the next one: %s",
				  d->current.image.generation, strerror(-err));
			goto refuse;
		}
	}
	ids = calloc(d->workloads.count + 1, sizeof(*ids));
	if (!ids) {
		err = -ENOMEM;
		goto refuse;
	}
	err = workloads_bind_all(d, &next, false, ids, why, sizeof(why));
	if (err) {
		char *with = NULL;

		if (asprintf(&with, "%sreload refused: %s; it is running now\n",
			     *report ? *report : "", why) >= 0) {
			free(*report);
			*report = with;
		}
		log_error("policy", "reload refused: %s; it is running now", why);
		goto refuse;
	}
	err = enforcer_load_image(&d->enforcer, &next.image);
	if (err) {
		enforcer_unload_image(&d->enforcer, &next.image);
		goto refuse;
	}
	/*
	 * Records decided under the generation before last are all in the ring
	 * buffer by now: journal them while it still has its names. Before the
	 * swap, not after: a record of the new generation drained before it is
	 * current would find no names.
	 */
	records_drain(d);
	err = workloads_swap(d, &next, ids);
	if (err) {
		enforcer_unload_image(&d->enforcer, &next.image);
		goto refuse;
	}
	free(ids);
	generation_free(&d->previous);
	d->previous = d->current;
	d->current = next;
	d->previous_unload_at_ns = mono_ns() + UNLOAD_GRACE_NS;
	signalctl_bound(&d->signalctl);
	runtime_save(d);
	log_info("policy", "generation %u: %zu policies from %s, %zu effective for %zu workloads",
		 generation, d->current.set.count, d->cfg->policy_dir,
		 d->current.image.policy_count, d->workloads.count);
	generation_follow_paths(d);
	generation_release_memory();
	return 0;
refuse:
	free(ids);
	if (same_sources) {
		d->current.sources = next.sources;
		next.sources = (struct policy_sources){ 0 };
	}
	generation_free(&next);
	log_error("policy", "reload failed; generation %u stays in force",
		  d->current.image.generation);
	return err ? err : -EINVAL;
}

int generation_reload(struct daemon *d, char **report)
{
	return switch_generation(d, false, report);
}

/*
 * A change on the way to some rule's path: when a path now resolves to
 * another file (or to one at all, or to none), compile the running policy
 * again so that its rules hold for the file that is there now.
 */
static void check_paths(struct daemon *d)
{
	char changed[PATH_MAX], *report = NULL;

	d->path_check_at_ns = 0;
	if (!pathwatch_stale(&d->paths, changed, sizeof(changed))) {
		/* Directories may have appeared on the way to missing paths: watch them too. */
		if (d->path_rewatch)
			generation_follow_paths(d);
		d->path_rewatch = false;
		return;
	}
	d->path_rewatch = false;
	log_info("paths", "%s resolves to another file now: compiling generation %u's policy "
		 "again", changed, d->current.image.generation);
	if (switch_generation(d, true, &report)) {
		/* Logged; the running generation still names the old file. Try again later. */
		d->path_check_at_ns = mono_ns() + PATH_CHECK_INTERVAL_MS * 1000000LL;
	}
	free(report);
}

void generation_check_paths_soon(struct daemon *d, bool changed)
{
	if (!d->path_check_at_ns)
		d->path_check_at_ns = mono_ns() + PATH_SETTLE_NS;
	d->path_rewatch |= changed;
}

void generation_tick(struct daemon *d)
{
	/*
	 * Only where inotify could not watch: a stat of every deny rule's
	 * path is not free with 100,000 rules.
	 */
	if (mono_ns() >= d->path_poll_at_ns) {
		if (d->path_poll_at_ns && d->paths.unwatched)
			generation_check_paths_soon(d, false);
		d->path_poll_at_ns = mono_ns() + PATH_CHECK_INTERVAL_MS * 1000000LL;
	}
	if (d->path_check_at_ns && mono_ns() >= d->path_check_at_ns)
		check_paths(d);
	generation_unload_previous(d, false);
}
