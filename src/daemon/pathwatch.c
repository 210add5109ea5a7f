/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/pathwatch.h"
#include "util/log.h"

/*
 * A name appearing, going or being renamed in a watched directory, and the
 * directory itself going: everything that changes where a path leads.
 * Content changes (IN_MODIFY) keep the inode, so they do not matter.
 */
#define WATCH_MASK                                                                      \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | \
	 IN_ONLYDIR)

/*
 * One directory entry on the way to a rule's path: both point into a path
 * that outlives the way (a rule's, or one of the way's own real paths), so
 * that the steps, five or so for every rule, copy no text; only what is
 * watched is copied (watch_dirs).
 */
struct way_step {
	const char *dir;
	size_t dir_len;
	const char *name;
	size_t name_len;
};

struct way {
	struct way_step *steps;
	size_t count;
	size_t cap;
	char **reals; /* the real ways (real_way) the steps point into */
	size_t real_count;
	size_t real_cap;
	const char *last; /* the path added last: its steps are in already */
};

int pathwatch_open(struct pathwatch *pw)
{
	int err;

	*pw = (struct pathwatch){ .inotify_fd = -1, .mounts_fd = -1 };
	pw->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (pw->inotify_fd < 0) {
		err = -errno;
		log_error("paths", "cannot start inotify: %s", strerror(-err));
		return err;
	}
	pw->mounts_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (pw->mounts_fd < 0) {
		err = -errno;
		log_error("paths", "cannot open /proc/self/mountinfo: %s", strerror(-err));
		close(pw->inotify_fd);
		pw->inotify_fd = -1;
		return err;
	}
	return 0;
}

static void forget(struct pathwatch *pw)
{
	for (size_t i = 0; i < pw->dir_count; i++) {
		struct pathwatch_dir *d = &pw->dirs[i];

		if (d->wd >= 0)
			inotify_rm_watch(pw->inotify_fd, d->wd);
		for (size_t k = 0; k < d->name_count; k++)
			free(d->names[k]);
		free(d->names);
		free(d->path);
	}
	free(pw->dirs);
	pw->dirs = NULL;
	pw->dir_count = 0;
	for (size_t i = 0; i < pw->path_count; i++)
		free(pw->paths[i].path);
	free(pw->paths);
	pw->paths = NULL;
	pw->path_count = 0;
	pw->unwatched = 0;
}

static int way_add(struct way *w, const char *path, size_t dir_len, const char *name,
		   size_t name_len)
{
	struct way_step step;

	if (w->count == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct way_step *steps = realloc(w->steps, cap * sizeof(*steps));

		if (!steps)
			return -ENOMEM;
		w->steps = steps;
		w->cap = cap;
	}
	/* The root's entries are named from "/"; every other directory without a trailing '/'. */
	step.dir = path;
	step.dir_len = dir_len ? dir_len : 1;
	step.name = name;
	step.name_len = name_len;
	w->steps[w->count++] = step;
	return 0;
}

/* Keep real (malloc'd) for the way's steps to point into; freed with the way. */
static int way_keep(struct way *w, char *real)
{
	if (w->real_count == w->real_cap) {
		size_t cap = w->real_cap ? 2 * w->real_cap : 64;
		char **reals = realloc(w->reals, cap * sizeof(*reals));

		if (!reals)
			return -ENOMEM;
		w->reals = reals;
		w->real_cap = cap;
	}
	w->reals[w->real_count++] = real;
	return 0;
}

static void way_free(struct way *w)
{
	for (size_t i = 0; i < w->real_count; i++)
		free(w->reals[i]);
	free(w->reals);
	free(w->steps);
}

/* Compare two counted strings as strcmp compares two strings. */
static int text_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

/*
 * Every (directory, name) of an absolute, normalised path: "/a/b" gives
 * ("/", a), ("/a", b). Rules come a directory's files at a time: the steps
 * this path shares with the one added before it are not added again (a
 * step, path[0, end), is shared when the previous path starts with it and
 * has a '/' or its end there too), which keeps the way near one step per
 * rule rather than one per component, and its sort cheap.
 */
static int add_way(struct way *w, const char *path)
{
	const char *p = path, *prev = w->last;
	size_t same = 0;

	if (prev)
		while (path[same] && path[same] == prev[same])
			same++;
	w->last = path;
	while (*p == '/') {
		const char *name = p + 1, *end = strchrnul(name, '/');
		size_t at = (size_t)(end - path);
		int err;

		if (end == name)
			break;
		if (!(prev && at <= same && (prev[at] == '/' || prev[at] == '\0'))) {
			err = way_add(w, path, (size_t)(p - path), name, (size_t)(end - name));
			if (err)
				return err;
		}
		p = end;
	}
	return 0;
}

/*
 * The way through symlinks: the real path of the deepest part of path that
 * exists, then the rest as written. NULL when it is path itself (no
 * symlink on the way) or cannot be made.
 */
static char *real_way(const char *path)
{
	char prefix[PATH_MAX], real[PATH_MAX], *slash, *out = NULL;
	size_t plen;

	if (snprintf(prefix, sizeof(prefix), "%s", path) >= (int)sizeof(prefix))
		return NULL;
	while (!realpath(prefix, real)) {
		slash = strrchr(prefix, '/');
		if (!slash || slash == prefix)
			return NULL;
		*slash = '\0';
	}
	plen = strlen(prefix);
	if (asprintf(&out, "%s%s", strcmp(real, "/") ? real : "", path + plen) < 0)
		return NULL;
	if (strcmp(out, path) == 0 || out[0] != '/') {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * The real path of the directory the last path was in: rules come a
 * directory's files at a time, and realpath() costs a system call or two
 * per component of every path, which at 100,000 rules was most of the
 * daemon's start outside the kernel's program load.
 */
struct real_dir {
	char dir[PATH_MAX];
	size_t dir_len; /* 0: none yet */
	bool ok;        /* real holds the directory's real path */
	char real[PATH_MAX];
};

/*
 * real_way(path), from the directory's real path when the path's own name
 * is no symlink: the real way is then that real path and the name, whether
 * the name exists or not. Anything else (a symlink, a directory that is not
 * there, an error) goes the whole way through real_way.
 */
static char *real_way_in(const char *path, struct real_dir *c)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	struct stat st;
	char *out = NULL;

	if (dlen == 0 || dlen >= sizeof(c->dir))
		return real_way(path);
	if (c->dir_len != dlen || memcmp(c->dir, path, dlen) != 0) {
		memcpy(c->dir, path, dlen);
		c->dir[dlen] = '\0';
		c->dir_len = dlen;
		c->ok = realpath(c->dir, c->real) != NULL;
	}
	if (!c->ok || (lstat(path, &st) == 0 ? S_ISLNK(st.st_mode) : errno != ENOENT))
		return real_way(path);
	if (asprintf(&out, "%s%s", strcmp(c->real, "/") ? c->real : "", slash) < 0)
		return NULL;
	if (strcmp(out, path) == 0) {
		free(out);
		return NULL;
	}
	return out;
}

struct collect_ctx {
	struct pathwatch *pw;
	struct way *way;
	size_t path_cap;
	struct real_dir *real_dir;
};

static int collect(const struct path_rule *rule, const struct resolved_rule *r, void *data)
{
	struct collect_ctx *c = data;
	struct pathwatch *pw = c->pw;
	const char *path = rule->path;
	char *real;
	int err;

	/* Only deny rules follow their paths (policy_image_follow says why). */
	if (rule->verdict != ACTGATE_VERDICT_DENY)
		return 0;
	if (pw->path_count == c->path_cap) {
		size_t cap = c->path_cap ? 2 * c->path_cap : 64;
		struct pathwatch_path *paths = realloc(pw->paths, cap * sizeof(*paths));

		if (!paths)
			return -ENOMEM;
		pw->paths = paths;
		c->path_cap = cap;
	}
	pw->paths[pw->path_count].path = strdup(path);
	if (!pw->paths[pw->path_count].path)
		return -ENOMEM;
	pw->paths[pw->path_count++].at = *r;
	err = add_way(c->way, path);
	if (err)
		return err;
	real = real_way_in(path, c->real_dir);
	if (real) {
		err = way_keep(c->way, real);
		if (err) {
			free(real);
			return err;
		}
		err = add_way(c->way, real);
	}
	return err;
}

static int step_cmp(const void *a, const void *b)
{
	const struct way_step *x = a, *y = b;
	int c = text_cmp(x->dir, x->dir_len, y->dir, y->dir_len);

	return c ? c : text_cmp(x->name, x->name_len, y->name, y->name_len);
}

static bool same_dir(const struct way_step *x, const struct way_step *y)
{
	return x->dir_len == y->dir_len && memcmp(x->dir, y->dir, x->dir_len) == 0;
}

static bool same_name(const struct way_step *x, const struct way_step *y)
{
	return x->name_len == y->name_len && memcmp(x->name, y->name, x->name_len) == 0;
}

static int dir_wd_cmp(const void *a, const void *b)
{
	const struct pathwatch_dir *x = a, *y = b;

	return (x->wd > y->wd) - (x->wd < y->wd);
}

/* Group the sorted steps by directory and watch each directory once. */
static int watch_dirs(struct pathwatch *pw, struct way *w)
{
	size_t i = 0, dirs = 0;

	/* Sorted: a directory's steps are next to each other. */
	for (size_t k = 0; k < w->count; k++)
		dirs += k == 0 || !same_dir(&w->steps[k], &w->steps[k - 1]);
	pw->dirs = calloc(dirs ? dirs : 1, sizeof(*pw->dirs));
	if (!pw->dirs)
		return -ENOMEM;
	while (i < w->count) {
		struct pathwatch_dir *d = &pw->dirs[pw->dir_count];
		size_t j = i, n = 0, names = 0;
		char *dir;

		while (j < w->count && same_dir(&w->steps[j], &w->steps[i])) {
			names += j == i || !same_name(&w->steps[j], &w->steps[j - 1]);
			j++;
		}
		dir = strndup(w->steps[i].dir, w->steps[i].dir_len);
		if (!dir)
			return -ENOMEM;
		d->wd = inotify_add_watch(pw->inotify_fd, dir, WATCH_MASK);
		/*
		 * A directory that does not exist (yet) needs no watch: its
		 * parent's watch sees it appear, and the watches are set again.
		 */
		if (d->wd < 0) {
			if (errno != ENOENT && errno != ENOTDIR) {
				if (pw->unwatched++ == 0)
					log_warn("paths",
						 "cannot watch %s: %s; changes there are found by the "
						 "periodic check only",
						 dir, strerror(errno));
			}
			free(dir);
			i = j;
			continue;
		}
		/* Counted now, so that forget() frees what is made below even on failure. */
		d->path = dir;
		pw->dir_count++;
		d->names = calloc(names, sizeof(*d->names));
		if (!d->names)
			return -ENOMEM;
		for (size_t k = i; k < j; k++) {
			/* Sorted: a name repeats only next to itself. */
			if (k > i && same_name(&w->steps[k], &w->steps[k - 1]))
				continue;
			d->names[n] = strndup(w->steps[k].name, w->steps[k].name_len);
			if (!d->names[n])
				return -ENOMEM;
			d->name_count = ++n;
		}
		i = j;
	}
	/* Events name their watch descriptor: keep the directories sorted by it. */
	qsort(pw->dirs, pw->dir_count, sizeof(*pw->dirs), dir_wd_cmp);
	if (pw->unwatched > 1)
		log_warn("paths", "%zu directories on the way to rule paths are not watched",
			 pw->unwatched);
	return 0;
}

int pathwatch_set(struct pathwatch *pw, const struct policy_image *img)
{
	struct way way = { 0 };
	struct real_dir *real_dir = calloc(1, sizeof(*real_dir));
	struct collect_ctx c = { .pw = pw, .way = &way, .real_dir = real_dir };
	int err;

	forget(pw);
	err = real_dir ? policy_image_for_each_path(img, collect, &c) : -ENOMEM;
	if (!err) {
		qsort(way.steps, way.count, sizeof(*way.steps), step_cmp);
		err = watch_dirs(pw, &way);
	}
	way_free(&way);
	free(real_dir);
	if (err) {
		log_error("paths", "cannot follow rule paths: %s", strerror(-err));
		forget(pw);
	}
	return err;
}

static int name_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

/* Does an event of watch wd about name (NULL: the directory itself) matter? */
static bool event_matters(const struct pathwatch *pw, int wd, const char *name)
{
	struct pathwatch_dir key = { .wd = wd };
	const struct pathwatch_dir *d =
		bsearch(&key, pw->dirs, pw->dir_count, sizeof(*pw->dirs), dir_wd_cmp);

	if (!d)
		return false; /* a watch of an earlier set, removed since */
	/* The same directory reached by two paths (a bind mount) shares one watch. */
	while (d > pw->dirs && d[-1].wd == wd)
		d--;
	for (; d < pw->dirs + pw->dir_count && d->wd == wd; d++) {
		if (!name || bsearch(name, d->names, d->name_count, sizeof(*d->names), name_cmp))
			return true;
	}
	return false;
}

int pathwatch_read_events(struct pathwatch *pw)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int matters = 0;

	for (;;) {
		ssize_t n = read(pw->inotify_fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & IN_Q_OVERFLOW)
				matters = 1; /* events were lost: check everything */
			else if (ev->mask & IN_IGNORED)
				matters |= event_matters(pw, ev->wd, NULL);
			else
				matters |= event_matters(pw, ev->wd,
							 (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) ||
									 !ev->len
								 ? NULL
								 : ev->name);
			p += sizeof(*ev) + ev->len;
		}
	}
	return matters;
}

int pathwatch_stale(const struct pathwatch *pw, char *changed, size_t size)
{
	for (size_t i = 0; i < pw->path_count; i++) {
		const struct pathwatch_path *wp = &pw->paths[i];
		struct resolved_path now;
		bool found = resolve_path_stat(wp->path, &now, NULL) == 0;

		if (found != wp->at.found ||
		    (found && (now.dev != wp->at.dev || now.ino != wp->at.ino))) {
			snprintf(changed, size, "%s", wp->path);
			return 1;
		}
	}
	return 0;
}

void pathwatch_close(struct pathwatch *pw)
{
	forget(pw);
	if (pw->inotify_fd >= 0)
		close(pw->inotify_fd);
	if (pw->mounts_fd >= 0)
		close(pw->mounts_fd);
	pw->inotify_fd = pw->mounts_fd = -1;
}
