/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/discovery.h"
#include "util/clock.h"
#include "util/log.h"

#define SCAN_INTERVAL_NS (250ull * 1000000ull)

void discovery_root_name(const char *root, char *out, size_t size)
{
	snprintf(out, size, "unidentified:%s", root);
}

void discovery_init(struct discovery *dc, const struct discovery_host *host,
		    const char *const *roots, size_t count)
{
	memset(dc, 0, sizeof(*dc));
	dc->host = *host;
	for (size_t i = 0; i < count && i < DISCOVERY_MAX_ROOTS; i++)
		dc->roots[dc->root_count++] = roots[i];
}

static bool ignored(const struct discovery *dc, const char *path)
{
	for (size_t i = 0; i < dc->ignored_count; i++)
		if (!strcmp(dc->ignored[i], path))
			return true;
	return false;
}

static void ignore(struct discovery *dc, const char *path)
{
	char **grown = realloc(dc->ignored, (dc->ignored_count + 1) * sizeof(*grown));
	char *copy = strdup(path);

	if (!grown || !copy) {
		free(copy);
		if (grown)
			dc->ignored = grown;
		return; /* asked again at the next scan */
	}
	dc->ignored = grown;
	dc->ignored[dc->ignored_count++] = copy;
}

/* Walk the cgroups below path (a cgroup path); identified ones are not entered. */
static void scan(struct discovery *dc, const char *path, int depth)
{
	char fs[PATH_MAX], child[PATH_MAX];
	struct cgroup_identity id;
	struct dirent *e;
	DIR *dir;

	if (snprintf(fs, sizeof(fs), "%s%s", dc->host.cgroup_mount, path) >= (int)sizeof(fs))
		return;
	dir = opendir(fs);
	if (!dir)
		return; /* gone meanwhile */
	while ((e = readdir(dir))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", path, e->d_name) >= (int)sizeof(child))
			continue;
		if (identity_parse_cgroup(child, &id) || id.kind == IDENTITY_NONE) {
			if (depth + 1 < DISCOVERY_MAX_DEPTH)
				scan(dc, child, depth + 1);
			continue;
		}
		if (dc->host.known(dc->host.ctx, child) || ignored(dc, child))
			continue;
		if (dc->host.found(dc->host.ctx, child, &id) == -ENOENT) {
			log_info("discovery", "%s is %s, which no policy selects: the default of "
					      "its watched root governs it",
				 child, id.name);
			ignore(dc, child);
		}
	}
	closedir(dir);
}

void discovery_tick(struct discovery *dc)
{
	uint64_t now = mono_ns();

	if (!dc->root_count || now < dc->next_scan_ns)
		return;
	for (size_t i = 0; i < dc->root_count; i++)
		scan(dc, strcmp(dc->roots[i], "/") ? dc->roots[i] : "", 0);
	dc->next_scan_ns = mono_ns() + SCAN_INTERVAL_NS;
}

void discovery_free(struct discovery *dc)
{
	for (size_t i = 0; i < dc->ignored_count; i++)
		free(dc->ignored[i]);
	free(dc->ignored);
	memset(dc, 0, sizeof(*dc));
}
