/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "policy/evaluate.h"
#include "policy/names.h"
#include "policy/suggest.h"

const char *const suggest_default_floors[] = {
	"/", "/etc", "/home", "/home/*", "/root", "/usr", "/var", "/dev", "/sys", "/run",
};
const size_t suggest_default_floor_count =
	sizeof(suggest_default_floors) / sizeof(suggest_default_floors[0]);

int suggest_level_from_name(const char *name, enum suggest_level *level)
{
	if (!strcmp(name, "exact"))
		*level = SUGGEST_EXACT;
	else if (!strcmp(name, "balanced"))
		*level = SUGGEST_BALANCED;
	else if (!strcmp(name, "coarse"))
		*level = SUGGEST_COARSE;
	else
		return -EINVAL;
	return 0;
}

const char *suggest_level_name(enum suggest_level level)
{
	return level == SUGGEST_EXACT ? "exact" : level == SUGGEST_COARSE ? "coarse" : "balanced";
}

/* One distinct thing done: an action on a target, with every access asked for. */
struct observation {
	uint8_t action;
	char *target;      /* as recorded */
	uint8_t access;    /* open: union of the accesses asked for */
	uint64_t count;
	uint64_t access_count[ACTGATE_ACCESS_SLOTS];
};

struct identity_seen {
	char *name;
	char *labels;
};

struct suggest {
	struct observation *obs; /* sorted by (action, target) */
	size_t count, cap;
	struct identity_seen *ids; /* sorted by (name, labels) */
	size_t id_count, id_cap;
	uint64_t taken;
	uint64_t first_ns, last_ns;
};

int suggest_new(struct suggest **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void suggest_free(struct suggest *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->count; i++)
		free(s->obs[i].target);
	for (size_t i = 0; i < s->id_count; i++) {
		free(s->ids[i].name);
		free(s->ids[i].labels);
	}
	free(s->obs);
	free(s->ids);
	free(s);
}

size_t suggest_taken(const struct suggest *s)
{
	return s->taken;
}

static int compare_obs_key(uint8_t action, const char *target, const struct observation *o)
{
	if (action != o->action)
		return action < o->action ? -1 : 1;
	return strcmp(target, o->target);
}

/* Binary search: the index of (action, target), or where it would go (*found false). */
static size_t find_obs(const struct suggest *s, uint8_t action, const char *target, bool *found)
{
	size_t lo = 0, hi = s->count;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = compare_obs_key(action, target, &s->obs[mid]);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n;
	void *bigger;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap * 2 : 32;
	while (n < need)
		n *= 2;
	bigger = realloc(*p, n * size);
	if (!bigger)
		return -ENOMEM;
	*p = bigger;
	*cap = n;
	return 0;
}

static int note_identity(struct suggest *s, const char *name, const char *labels)
{
	size_t i;
	char *n, *l;

	for (i = 0; i < s->id_count; i++) {
		int c = strcmp(name, s->ids[i].name);

		if (!c)
			c = strcmp(labels, s->ids[i].labels);
		if (!c)
			return 0;
		if (c < 0)
			break;
	}
	if (grow((void **)&s->ids, &s->id_cap, s->id_count + 1, sizeof(*s->ids)))
		return -ENOMEM;
	n = strdup(name);
	l = strdup(labels);
	if (!n || !l) {
		free(n);
		free(l);
		return -ENOMEM;
	}
	memmove(&s->ids[i + 1], &s->ids[i], (s->id_count - i) * sizeof(*s->ids));
	s->ids[i] = (struct identity_seen){ n, l };
	s->id_count++;
	return 0;
}

/*
 * The name a connect was made for, or a lookup asked for, when the record
 * has a valid one: into name (NAME_TEXT_MAX + 1 bytes), normalised.
 */
static bool record_name(const struct journal_record *rec, char *name)
{
	const char *text = rec->target_name && *rec->target_name ? rec->target_name :
			   rec->action == ACTGATE_ACTION_RESOLVE ? or_empty(rec->target) : "";
	char err[128];
	size_t at;

	return *text && !name_normalize(text, strlen(text), false, name, err, sizeof(err), &at);
}

bool suggest_takes(const struct journal_record *rec)
{
	char name[NAME_TEXT_MAX + 1];

	if (rec->action == ACTGATE_ACTION_RESOLVE) {
		/* A lookup that went ahead (allowed, or denied in audit mode): its name. */
		if (rec->verdict == ACTGATE_VERDICT_DENY && rec->mode == ACTGATE_MODE_ENFORCE)
			return false;
		return (rec->reason == ACTGATE_REASON_RULE || rec->reason == ACTGATE_REASON_DEFAULT ||
			rec->reason == ACTGATE_REASON_NAME) &&
		       record_name(rec, name);
	}
	if (rec->action != ACTGATE_ACTION_EXEC && rec->action != ACTGATE_ACTION_OPEN &&
	    rec->action != ACTGATE_ACTION_CONNECT)
		return false;
	/* What enforcement stopped did not happen: it is no evidence of a need. */
	if (rec->verdict == ACTGATE_VERDICT_DENY && rec->mode == ACTGATE_MODE_ENFORCE)
		return false;
	switch (rec->reason) {
	case ACTGATE_REASON_DEFAULT:
	case ACTGATE_REASON_RULE:
	case ACTGATE_REASON_GRANT:
	case ACTGATE_REASON_WRITTEN:
	case ACTGATE_REASON_LEARNED: /* a connect allowed by the name it was made for */
		break;
	default: /* decided outside the policy language: no rule would change it */
		return false;
	}
	if (!rec->target || !rec->target[0])
		return false;
	/* "inode:...": the kernel could not name the path. */
	return rec->action == ACTGATE_ACTION_CONNECT || rec->target[0] == '/';
}

/*
 * What an observation is keyed by: the target, but for a connect made for a
 * name the name in place of the address ("github.com:443/tcp"), so that
 * the suggestion allows the name (issue 15), and for a lookup its name.
 * Into buf (size bytes); returns buf, or the record's target.
 */
static const char *observed_target(const struct journal_record *rec, char *buf, size_t size)
{
	char name[NAME_TEXT_MAX + 1];
	const char *port;

	if (!record_name(rec, name))
		return rec->target;
	if (rec->action == ACTGATE_ACTION_RESOLVE) {
		snprintf(buf, size, "%s", name);
		return buf;
	}
	/* "ADDR:PORT/PROTO", IPv6 in brackets: the port is after the last ':'. */
	port = strrchr(rec->target, ':');
	if (!strchr(rec->target, '/') || !port || !strncmp(rec->target, "unix:", 5))
		return rec->target;
	snprintf(buf, size, "%s%s", name, port);
	return buf;
}

int suggest_add(struct suggest *s, const struct journal_record *rec)
{
	char keybuf[NAME_TEXT_MAX + 32];
	const char *target;
	struct observation *o;
	bool found;
	size_t at;

	if (!suggest_takes(rec))
		return 0;
	target = observed_target(rec, keybuf, sizeof(keybuf));
	at = find_obs(s, rec->action, target, &found);
	if (!found) {
		char *t;

		if (grow((void **)&s->obs, &s->cap, s->count + 1, sizeof(*s->obs)))
			return -ENOMEM;
		t = strdup(target);
		if (!t)
			return -ENOMEM;
		memmove(&s->obs[at + 1], &s->obs[at], (s->count - at) * sizeof(*s->obs));
		s->obs[at] = (struct observation){ .action = rec->action, .target = t };
		s->count++;
	}
	o = &s->obs[at];
	o->count++;
	if (rec->action == ACTGATE_ACTION_OPEN) {
		uint8_t a = rec->access & ACTGATE_ACCESS_ALL;

		if (!a)
			a = ACTGATE_ACCESS_READ;
		o->access |= a;
		for (unsigned i = 0; i < ACTGATE_ACCESS_SLOTS; i++)
			if (a & (1u << i))
				o->access_count[i]++;
	}
	if (note_identity(s, or_empty(rec->workload), or_empty(rec->labels)))
		return -ENOMEM;
	if (!s->taken || rec->time_ns < s->first_ns)
		s->first_ns = rec->time_ns;
	if (rec->time_ns > s->last_ns)
		s->last_ns = rec->time_ns;
	s->taken++;
	return 1;
}

/* ---- paths ---- */

/* Is dir (no trailing '/', "/" for the root) an ancestor of path, or path itself? */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return true;
	return !strncmp(path, dir, n) && (path[n] == '/' || !path[n]);
}

/* The parent of path into buf ("/" for a file in the root). */
static void parent_of(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash && slash != path ? (size_t)(slash - path) : 1;

	if (n >= size)
		n = size - 1;
	memcpy(buf, path, n);
	buf[n] = '\0';
}

struct context {
	const struct suggest *s;
	const struct suggest_options *o;
	const struct policy **current; /* the current policies that select a workload seen */
	size_t current_count;
	char **workspaces; /* balanced: directories the job creates files in, merged */
	size_t workspace_count, workspace_cap;
};

static bool is_floor(const struct context *c, const char *dir)
{
	for (size_t i = 0; i < suggest_default_floor_count; i++)
		if (!fnmatch(suggest_default_floors[i], dir, FNM_PATHNAME))
			return true;
	for (size_t i = 0; i < c->o->floor_count; i++)
		if (!fnmatch(c->o->floors[i], dir, FNM_PATHNAME))
			return true;
	return false;
}

/* The section of a current policy that decides action. */
static const struct path_rules *section_of(const struct policy *p, uint8_t action)
{
	return action == ACTGATE_ACTION_EXEC ? &p->exec : &p->open;
}

static bool rule_has_access(const struct path_rule *r, uint8_t action, uint8_t access)
{
	return action == ACTGATE_ACTION_EXEC || (r->access & access);
}

/*
 * Does a deny rule of the current policies cover dir itself (a subtree
 * rule on it or above it, or an exact rule on it) for this access? Then
 * the directory is not the suggestion's to allow whole.
 */
static bool current_denies_dir(const struct context *c, uint8_t action, uint8_t access,
			       const char *dir)
{
	for (size_t i = 0; i < c->current_count; i++) {
		const struct path_rules *sec = section_of(c->current[i], action);

		for (size_t k = 0; k < sec->count; k++) {
			const struct path_rule *r = &sec->rules[k];

			if (r->verdict != ACTGATE_VERDICT_DENY || r->overlay != POLICY_BASE ||
			    !rule_has_access(r, action, access))
				continue;
			if (r->subtree ? path_within(dir, r->path) : !strcmp(dir, r->path))
				return true;
		}
	}
	return false;
}

/*
 * Does a deny rule of the current policies below dir cover path? Then dir
 * is not allowed whole for path: the file the workload used is allowed by
 * itself, and the deny rule is kept for the rest (keep_current_denies).
 */
static bool current_denies_below(const struct context *c, uint8_t action, uint8_t access,
				 const char *dir, const char *path)
{
	for (size_t i = 0; i < c->current_count; i++) {
		const struct path_rules *sec = section_of(c->current[i], action);

		for (size_t k = 0; k < sec->count; k++) {
			const struct path_rule *r = &sec->rules[k];

			if (r->verdict != ACTGATE_VERDICT_DENY || r->overlay != POLICY_BASE ||
			    !rule_has_access(r, action, access) || !path_within(r->path, dir))
				continue;
			if (r->subtree ? path_within(path, r->path) : !strcmp(path, r->path))
				return true;
		}
	}
	return false;
}

/* May the suggestion allow dir whole for this access of path? */
static bool dir_allowed(const struct context *c, uint8_t action, uint8_t access, const char *dir,
			const char *path)
{
	return !is_floor(c, dir) && !current_denies_dir(c, action, access, dir) &&
	       !current_denies_below(c, action, access, dir, path);
}

/*
 * The directory one below the nearest floor above path (the coarse
 * level's directory), into buf; false when path's parent is a floor
 * itself (the file lies directly in a floor).
 */
static bool anchor_of(const struct context *c, const char *path, char *buf, size_t size)
{
	char dir[ACTGATE_PATH_BUF];

	parent_of(path, dir, sizeof(dir));
	if (is_floor(c, dir))
		return false;
	/* Walk up while the parent is not a floor. */
	for (;;) {
		char up[ACTGATE_PATH_BUF];

		parent_of(dir, up, sizeof(up));
		if (is_floor(c, up) || !strcmp(up, dir))
			break;
		strcpy(dir, up);
	}
	snprintf(buf, size, "%s", dir);
	return true;
}

/* ---- the rules being built ---- */

struct builder {
	struct suggest_rule *rules;
	size_t count, cap;
	char **problems;
	size_t problem_count, problem_cap;
};

static int add_problem(struct builder *b, const char *fmt, const char *a, const char *d)
{
	char *line;

	if (grow((void **)&b->problems, &b->problem_cap, b->problem_count + 1, sizeof(char *)))
		return -ENOMEM;
	if (asprintf(&line, fmt, a, d) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < b->problem_count; i++) {
		if (!strcmp(b->problems[i], line)) {
			free(line);
			return 0;
		}
	}
	b->problems[b->problem_count++] = line;
	return 0;
}

/*
 * Count one observation into the rule (action, path, subtree) for
 * access bit: found or added. Examples are the smallest target covered,
 * so the order of records does not change them.
 */
static int add_path_cover(struct builder *b, uint8_t action, const char *path, bool subtree,
			  uint8_t access, const struct observation *o, uint64_t count,
			  const char *why)
{
	struct suggest_rule *r = NULL;

	for (size_t i = 0; i < b->count; i++) {
		struct suggest_rule *x = &b->rules[i];

		if (x->action == action && !x->deny && x->path && !x->unix_socket &&
		    x->subtree == subtree && !strcmp(x->path, path) &&
		    (action != ACTGATE_ACTION_OPEN || x->access == access)) {
			r = x;
			break;
		}
	}
	if (!r) {
		if (grow((void **)&b->rules, &b->cap, b->count + 1, sizeof(*b->rules)))
			return -ENOMEM;
		r = &b->rules[b->count];
		*r = (struct suggest_rule){ .action = action, .subtree = subtree, .access = access,
					    .why = why };
		r->path = strdup(path);
		if (!r->path)
			return -ENOMEM;
		b->count++;
	}
	r->count += count;
	if (!r->example || strcmp(o->target, r->example) < 0) {
		char *e = strdup(o->target);

		if (!e)
			return -ENOMEM;
		free(r->example);
		r->example = e;
		r->example_access = o->access;
	}
	return 0;
}

/* How many distinct observed files (of action, with access) lie directly in dir. */
static size_t files_in(const struct context *c, uint8_t action, uint8_t access, const char *dir)
{
	char parent[ACTGATE_PATH_BUF];
	size_t n = 0;

	for (size_t i = 0; i < c->s->count; i++) {
		const struct observation *o = &c->s->obs[i];

		if (o->action != action || (action == ACTGATE_ACTION_OPEN && !(o->access & access)))
			continue;
		parent_of(o->target, parent, sizeof(parent));
		if (!strcmp(parent, dir))
			n++;
	}
	return n;
}

/* Trees whose every child directory is one package's or one toolchain's. */
static const char *const package_trees[] = {
	"/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libexec", "/usr/share", "/usr/include",
	"/usr/local/lib", "/usr/local/share", "/lib", "/lib64", "/opt",
};

/* The package directory of path (a child of a package tree), when path is below one. */
static bool package_dir_of(const char *path, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(package_trees) / sizeof(package_trees[0]); i++) {
		size_t n = strlen(package_trees[i]);
		const char *rest, *slash;

		if (strncmp(path, package_trees[i], n) || path[n] != '/')
			continue;
		rest = path + n + 1;
		slash = strchr(rest, '/');
		if (!slash)
			return false; /* a file directly in the tree: no package directory */
		snprintf(buf, size, "%.*s", (int)(slash - path), path);
		return true;
	}
	return false;
}

static const char *const WHY_EXACT = "the file itself";
static const char *const WHY_CREATED = "files are created here: a new file has no identity before it exists";
static const char *const WHY_WORKSPACE = "the job's workspace: it creates files below";
static const char *const WHY_PACKAGE = "a package or toolchain directory";
static const char *const WHY_MANY = "many files of one directory";
static const char *const WHY_COARSE = "one directory below the floor";
static const char *const WHY_PROC = "per-process files cannot be named in a policy";
static const char *const WHY_KEPT = "kept from the current policy";
static const char *const WHY_ADDRESS = "the address, port and protocol used";
static const char *const WHY_HOST = "the address used, any port";
static const char *const WHY_NAME = "the name, port and protocol used";
static const char *const WHY_NAME_HOST = "the name used, any port";
static const char *const WHY_LOOKUP = "the name was looked up; no connection to it was recorded";
static const char *const WHY_TEMP = "a temporary directory: the names below it change on every run";

/* Where jobs make temporary files under names that change on every run. */
static const char *const temp_roots[] = { "/tmp", "/var/tmp", "/dev/shm" };

static const char *temp_root_of(const char *path)
{
	for (size_t i = 0; i < sizeof(temp_roots) / sizeof(temp_roots[0]); i++)
		if (path_within(path, temp_roots[i]) && strcmp(path, temp_roots[i]))
			return temp_roots[i];
	return NULL;
}

static bool in_workspace(const struct context *c, const char *path)
{
	for (size_t i = 0; i < c->workspace_count; i++)
		if (path_within(path, c->workspaces[i]))
			return true;
	return temp_root_of(path) != NULL && c->o->level != SUGGEST_EXACT;
}

/*
 * Where one observed file's access is allowed: the path and whether it is
 * a subtree. The level decides how far up; a floor or a current deny rule
 * stops it. Returns false when the access cannot be allowed at all
 * (creation directly in a floor), after noting the problem.
 */
static int cover_for(const struct context *c, struct builder *b, const struct observation *o,
		     uint8_t access, char *out, size_t size, bool *subtree, const char **why)
{
	const char *path = o->target;
	uint8_t action = o->action;
	bool created = action == ACTGATE_ACTION_OPEN && (o->access & ACTGATE_ACCESS_CREATE);
	char dir[ACTGATE_PATH_BUF], cand[ACTGATE_PATH_BUF];

	parent_of(path, dir, sizeof(dir));
	*subtree = true;
	if (policy_path_names_own_process(path)) {
		/* /proc/1234/... names a process that is gone on the next run. */
		if (!dir_allowed(c, action, access, "/proc", path))
			return add_problem(b, "%s: a per-process file (no rule can name it) under "
					   "/proc, which is a floor or denied by the current policy%s",
					   path, "") ?: 1;
		snprintf(out, size, "/proc");
		*why = WHY_PROC;
		return 0;
	}
	/*
	 * Mapping executable is code: where the job writes, only the file
	 * it mapped, so that a tool copied there cannot be loaded by ld.so.
	 */
	if (access == ACTGATE_ACCESS_EXEC_MAP && (created || in_workspace(c, path))) {
		*subtree = false;
		snprintf(out, size, "%s", path);
		*why = WHY_EXACT;
		return 0;
	}
	if (created && temp_root_of(path) && dir_allowed(c, action, access, temp_root_of(path), path)) {
		snprintf(out, size, "%s", temp_root_of(path));
		*why = WHY_TEMP;
		return 0;
	}
	if (c->o->level == SUGGEST_COARSE && anchor_of(c, path, cand, sizeof(cand))) {
		/* From the anchor down to the parent: the first directory allowed whole. */
		for (;;) {
			if (dir_allowed(c, action, access, cand, path)) {
				snprintf(out, size, "%s", cand);
				*why = WHY_COARSE;
				return 0;
			}
			if (!strcmp(cand, dir))
				break;
			/* One level further down, towards path. */
			{
				const char *next = strchr(path + strlen(cand) + 1, '/');

				if (!next)
					break;
				snprintf(cand, sizeof(cand), "%.*s", (int)(next - path), path);
			}
		}
	}
	if (c->o->level >= SUGGEST_BALANCED) {
		for (size_t i = 0; i < c->workspace_count; i++) {
			if (path_within(path, c->workspaces[i]) &&
			    dir_allowed(c, action, access, c->workspaces[i], path)) {
				snprintf(out, size, "%s", c->workspaces[i]);
				*why = WHY_WORKSPACE;
				return 0;
			}
		}
		if (package_dir_of(path, cand, sizeof(cand)) && dir_allowed(c, action, access, cand, path)) {
			snprintf(out, size, "%s", cand);
			*why = WHY_PACKAGE;
			return 0;
		}
		if (files_in(c, action, access, dir) >= (c->o->min_files ? c->o->min_files :
						       SUGGEST_MIN_FILES) &&
		    dir_allowed(c, action, access, dir, path)) {
			snprintf(out, size, "%s", dir);
			*why = WHY_MANY;
			return 0;
		}
	}
	if (created && action == ACTGATE_ACTION_OPEN) {
		if (dir_allowed(c, action, access, dir, path)) {
			snprintf(out, size, "%s", dir);
			*why = WHY_CREATED;
			return 0;
		}
		if (access == ACTGATE_ACCESS_CREATE)
			return add_problem(b, "%s: created directly in %s, which is a floor or denied "
					   "by the current policy: not allowed", path, dir) ?: 1;
	}
	*subtree = false;
	snprintf(out, size, "%s", path);
	*why = WHY_EXACT;
	return 0;
}

/* Balanced: the directories files are created in, merged per coarse directory. */
static int find_workspaces(struct context *c)
{
	for (size_t i = 0; i < c->s->count; i++) {
		const struct observation *o = &c->s->obs[i];
		char dir[ACTGATE_PATH_BUF], anchor[ACTGATE_PATH_BUF];
		bool merged = false;

		if (o->action != ACTGATE_ACTION_OPEN || !(o->access & ACTGATE_ACCESS_CREATE) ||
		    policy_path_names_own_process(o->target) || temp_root_of(o->target))
			continue;
		parent_of(o->target, dir, sizeof(dir));
		if (is_floor(c, dir) || !anchor_of(c, o->target, anchor, sizeof(anchor)))
			continue;
		for (size_t k = 0; k < c->workspace_count && !merged; k++) {
			char *w = c->workspaces[k];
			size_t cut = 0;

			if (!path_within(w, anchor))
				continue;
			/* The deepest directory holding both w and dir (both within anchor). */
			for (size_t j = 0;; j++) {
				bool end_w = !w[j] || w[j] == '/', end_d = !dir[j] || dir[j] == '/';

				if (end_w && end_d)
					cut = j;
				if (!w[j] || !dir[j] || w[j] != dir[j])
					break;
			}
			w[cut ? cut : 1] = '\0';
			merged = true;
		}
		if (!merged) {
			char *copy = strdup(dir);

			if (!copy || grow((void **)&c->workspaces, &c->workspace_cap,
					  c->workspace_count + 1, sizeof(char *))) {
				free(copy);
				return -ENOMEM;
			}
			c->workspaces[c->workspace_count++] = copy;
		}
	}
	return 0;
}

/*
 * Drop rules that a subtree rule of the same action covers for every one
 * of their accesses, unless a deny rule in force lies between the two:
 * that deny rule is kept (keep_current_denies) and would hide the file.
 */
static void drop_covered(const struct context *c, struct builder *b)
{
	size_t keep = 0;

	for (size_t i = 0; i < b->count; i++) {
		struct suggest_rule *r = &b->rules[i];
		uint8_t covered = 0;
		bool drop;

		for (size_t k = 0; k < b->count && r->path; k++) {
			const struct suggest_rule *d = &b->rules[k];

			if (k == i || d->action != r->action || d->deny || r->deny || !d->subtree ||
			    !d->path || d->unix_socket || r->unix_socket)
				continue;
			if (!path_within(r->path, d->path) || (d->subtree == r->subtree &&
							       !strcmp(d->path, r->path)))
				continue;
			if (r->action != ACTGATE_ACTION_OPEN) {
				if (!current_denies_below(c, r->action, 0, d->path, r->path))
					covered = 0xff;
				continue;
			}
			for (unsigned bit = 0; bit < ACTGATE_ACCESS_SLOTS; bit++) {
				uint8_t a = (uint8_t)(1u << bit);

				if ((d->access & a) && !current_denies_below(c, r->action, a, d->path, r->path))
					covered |= a;
			}
		}
		drop = r->path && (r->action == ACTGATE_ACTION_OPEN ? (r->access & ~covered) == 0 :
								    covered != 0);
		if (drop) {
			/* Its count goes to no other rule: the covering rule counted itself. */
			free(r->path);
			free(r->to);
			free(r->example);
			continue;
		}
		b->rules[keep++] = *r;
	}
	b->count = keep;
}

/* Rules with the same path and subtree, different accesses, become one rule. */
static int merge_accesses(struct builder *b)
{
	size_t keep = 0;

	for (size_t i = 0; i < b->count; i++) {
		struct suggest_rule *r = &b->rules[i];
		struct suggest_rule *into = NULL;

		for (size_t k = 0; k < keep && r->action == ACTGATE_ACTION_OPEN && !r->deny; k++) {
			struct suggest_rule *x = &b->rules[k];

			if (x->action == r->action && !x->deny && x->subtree == r->subtree &&
			    !strcmp(x->path, r->path)) {
				into = x;
				break;
			}
		}
		if (!into) {
			b->rules[keep++] = *r;
			continue;
		}
		into->access |= r->access;
		into->count += r->count;
		if (strcmp(r->example, into->example) < 0) {
			free(into->example);
			into->example = r->example;
			into->example_access = r->example_access;
			r->example = NULL;
		}
		if (into->why != r->why && r->why != WHY_EXACT)
			into->why = r->why;
		free(r->path);
		free(r->example);
	}
	b->count = keep;
	return 0;
}

/* The allow rule that decides an access of path among b's: exact, else the deepest subtree. */
static struct suggest_rule *deciding_rule(struct builder *b, uint8_t action, const char *path,
					  uint8_t access)
{
	struct suggest_rule *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < b->count; i++) {
		struct suggest_rule *r = &b->rules[i];
		size_t len;

		if (r->action != action || r->deny || r->unix_socket || !r->path ||
		    (action == ACTGATE_ACTION_OPEN && !(r->access & access)))
			continue;
		if (!r->subtree) {
			if (!strcmp(r->path, path))
				return r;
			continue;
		}
		len = strlen(r->path);
		if (path_within(path, r->path) && (!best || len > best_len)) {
			best = r;
			best_len = len;
		}
	}
	return best;
}

static int count_into(struct suggest_rule *r, const struct observation *o, uint64_t count)
{
	if (!r)
		return 0;
	r->count += count;
	if (!r->example || strcmp(o->target, r->example) < 0) {
		char *e = strdup(o->target);

		if (!e)
			return -ENOMEM;
		free(r->example);
		r->example = e;
		r->example_access = o->access;
	}
	return 0;
}

/*
 * Counts and examples once the rules are final: each decision counts for
 * the rule that decides it (per access), as the evaluator would choose.
 */
static int recount(const struct context *c, struct builder *b)
{
	int err = 0;

	for (size_t i = 0; i < b->count; i++) {
		struct suggest_rule *r = &b->rules[i];

		if (r->action == ACTGATE_ACTION_CONNECT || r->deny)
			continue;
		r->count = 0;
		free(r->example);
		r->example = NULL;
	}
	for (size_t i = 0; i < c->s->count && !err; i++) {
		const struct observation *o = &c->s->obs[i];

		if (o->action == ACTGATE_ACTION_EXEC)
			err = count_into(deciding_rule(b, o->action, o->target, 0), o, o->count);
		else if (o->action == ACTGATE_ACTION_OPEN)
			for (unsigned bit = 0; bit < ACTGATE_ACCESS_SLOTS && !err; bit++)
				if (o->access & (1u << bit))
					err = count_into(deciding_rule(b, o->action, o->target,
								       (uint8_t)(1u << bit)),
							 o, o->access_count[bit]);
	}
	return err;
}

/*
 * The current policies' deny rules strictly below a directory the
 * suggestion allows whole stay deny rules: the suggestion replaces a
 * policy, and what it denied must not come back through a directory.
 * A deny rule on a file the workload used is not kept (that use is
 * recorded, and the self-check wants it allowed); it is reported.
 */
static int keep_current_denies(const struct context *c, struct builder *b)
{
	size_t allow_count = b->count;

	for (size_t p = 0; p < c->current_count; p++) {
		for (int a = ACTGATE_ACTION_EXEC; a <= ACTGATE_ACTION_OPEN; a++) {
			const struct path_rules *sec = section_of(c->current[p], (uint8_t)a);

			for (size_t k = 0; k < sec->count; k++) {
				const struct path_rule *d = &sec->rules[k];
				uint8_t access = 0;
				bool used = false;
				char name[EVAL_RULE_NAME_MAX];

				if (d->verdict != ACTGATE_VERDICT_DENY || d->overlay != POLICY_BASE)
					continue;
				for (size_t i = 0; i < allow_count; i++) {
					const struct suggest_rule *r = &b->rules[i];

					if (r->action != a || !r->subtree || r->deny || r->unix_socket ||
					    !path_within(d->path, r->path) || !strcmp(d->path, r->path))
						continue;
					access |= a == ACTGATE_ACTION_OPEN ? (r->access & d->access) :
									      ACTGATE_ACCESS_WHOLE;
				}
				if (!access)
					continue;
				for (size_t i = 0; i < c->s->count; i++) {
					const struct observation *o = &c->s->obs[i];

					if (o->action == a && (d->subtree ? path_within(o->target, d->path) :
								      !strcmp(o->target, d->path)) &&
					    (a == ACTGATE_ACTION_EXEC || (o->access & access)))
						used = true;
				}
				policy_rule_name(name, sizeof(name), c->current[p]->name, (uint8_t)a,
						 POLICY_BASE, ACTGATE_VERDICT_DENY, d->index);
				if (used && !d->subtree) {
					int err = add_problem(b, "%s: denied by the current rule %s but used "
							      "by the workload: allowed, review it",
							      d->path, name);
					if (err)
						return err;
					continue;
				}
				if (grow((void **)&b->rules, &b->cap, b->count + 1, sizeof(*b->rules)))
					return -ENOMEM;
				b->rules[b->count] = (struct suggest_rule){
					.action = (uint8_t)a, .deny = true, .subtree = d->subtree,
					.access = a == ACTGATE_ACTION_OPEN ? access : 0, .why = WHY_KEPT,
				};
				b->rules[b->count].path = strdup(d->path);
				b->rules[b->count].example = strdup(name);
				if (!b->rules[b->count].path || !b->rules[b->count].example) {
					free(b->rules[b->count].path);
					free(b->rules[b->count].example);
					return -ENOMEM;
				}
				b->count++;
			}
		}
	}
	return 0;
}

/* ---- connect ---- */

/*
 * "ADDR:PORT/PROTO" into the rule's `to` and protocol; coarse drops the
 * port. "unix:/path" into a unix rule. Returns 0, 1 for a socket creation
 * (raw:..., packet:...: *socket_kind set), -EINVAL for what is not a
 * connect target, -ENOMEM.
 */
static int connect_rule_of(const char *target, bool coarse, struct suggest_rule *r,
			   unsigned *socket_kind)
{
	char buf[160];
	char *slash, *colon;

	if (!strncmp(target, "raw:", 4)) {
		*socket_kind = ACTGATE_SOCKET_RAW;
		return 1;
	}
	if (!strncmp(target, "packet:", 7)) {
		*socket_kind = ACTGATE_SOCKET_PACKET;
		return 1;
	}
	if (!strncmp(target, "unix:", 5)) {
		if (target[5] != '/')
			return -EINVAL; /* an abstract socket has no path a rule can name */
		r->unix_socket = true;
		r->path = strdup(target + 5);
		return r->path ? 0 : -ENOMEM;
	}
	if (strlen(target) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, target);
	slash = strrchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash++ = '\0';
	r->protocol = !strcmp(slash, "tcp") ? IPPROTO_TCP : !strcmp(slash, "udp") ? IPPROTO_UDP : 0;
	colon = strrchr(buf, ':');
	if (!colon || (buf[0] == '[' && colon[-1] != ']'))
		return -EINVAL;
	if (coarse) {
		*colon = '\0';
		if (buf[0] == '[') {
			colon[-1] = '\0';
			memmove(buf, buf + 1, strlen(buf));
		}
	}
	r->to = strdup(buf);
	return r->to ? 0 : -ENOMEM;
}

static int add_connect(struct builder *b, struct suggest_result *res, const struct observation *o,
		       bool coarse)
{
	struct suggest_rule n = { .action = ACTGATE_ACTION_CONNECT, .why = WHY_ADDRESS };
	unsigned kind = 0;
	int ret = connect_rule_of(o->target, coarse, &n, &kind);

	if (ret == 1) {
		res->sockets |= (uint8_t)(1u << kind);
		res->socket_count += o->count;
		return 0;
	}
	if (ret == -EINVAL)
		return add_problem(b, "%s: not a connect target a rule can name%s", o->target, "");
	if (ret)
		return ret;
	for (size_t i = 0; i < b->count; i++) {
		struct suggest_rule *x = &b->rules[i];

		if (x->action != ACTGATE_ACTION_CONNECT || x->unix_socket != n.unix_socket ||
		    x->protocol != n.protocol ||
		    strcmp(n.unix_socket ? x->path : x->to, n.unix_socket ? n.path : n.to))
			continue;
		x->count += o->count;
		free(n.path);
		free(n.to);
		return 0; /* observations are sorted: the first one's target is the smallest */
	}
	if (grow((void **)&b->rules, &b->cap, b->count + 1, sizeof(*b->rules))) {
		free(n.path);
		free(n.to);
		return -ENOMEM;
	}
	n.count = o->count;
	n.example = strdup(o->target);
	if (!n.example) {
		free(n.path);
		free(n.to);
		return -ENOMEM;
	}
	if (!n.unix_socket && policy_target_is_name(n.to))
		n.why = coarse ? WHY_NAME_HOST : WHY_NAME;
	else if (coarse && !n.unix_socket)
		n.why = WHY_HOST;
	b->rules[b->count++] = n;
	return 0;
}

/* Is rule x a connect rule by name on exactly name, any port? */
static bool names_host(const struct suggest_rule *x, const char *name)
{
	size_t n = strlen(name);

	return x->action == ACTGATE_ACTION_CONNECT && !x->unix_socket && !x->deny && x->to &&
	       !strncmp(x->to, name, n) && (x->to[n] == ':' || !x->to[n]);
}

/*
 * A lookup: covered by a connect rule on its name (observations are
 * sorted: connects come before lookups), else allowed by its name alone.
 */
static int add_lookup(struct builder *b, const struct observation *o)
{
	struct suggest_rule n = { .action = ACTGATE_ACTION_CONNECT, .why = WHY_LOOKUP,
				  .count = o->count };

	for (size_t i = 0; i < b->count; i++) {
		if (names_host(&b->rules[i], o->target)) {
			b->rules[i].count += o->count;
			return 0;
		}
	}
	if (grow((void **)&b->rules, &b->cap, b->count + 1, sizeof(*b->rules)))
		return -ENOMEM;
	n.to = strdup(o->target);
	n.example = strdup(o->target);
	if (!n.to || !n.example) {
		free(n.to);
		free(n.example);
		return -ENOMEM;
	}
	b->rules[b->count++] = n;
	return 0;
}

/* ---- building ---- */

static int compare_rules(const void *a, const void *b)
{
	const struct suggest_rule *x = a, *y = b;
	int c;

	if (x->action != y->action)
		return x->action < y->action ? -1 : 1;
	if (x->deny != y->deny)
		return x->deny ? 1 : -1;
	if (x->unix_socket != y->unix_socket)
		return x->unix_socket ? 1 : -1;
	c = strcmp(x->path ? x->path : x->to, y->path ? y->path : y->to);
	if (c)
		return c;
	if (x->subtree != y->subtree)
		return x->subtree ? 1 : -1;
	if (x->protocol != y->protocol)
		return x->protocol < y->protocol ? -1 : 1;
	return (int)x->access - (int)y->access;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "k=v,k=v" into labels pointing into buf. */
static size_t split_labels(char *buf, struct workload_label *out, size_t max)
{
	size_t n = 0;

	for (char *save = NULL, *item = strtok_r(buf, ",", &save); item && n < max;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (!eq)
			continue;
		*eq = '\0';
		out[n++] = (struct workload_label){ item, eq + 1 };
	}
	return n;
}

/* The current policies that select any workload seen. */
static int select_current(struct context *c)
{
	const struct policy_set *set = c->o->current;

	if (!set || !set->count)
		return 0;
	c->current = calloc(set->count, sizeof(*c->current));
	if (!c->current)
		return -ENOMEM;
	for (size_t p = 0; p < set->count; p++) {
		for (size_t i = 0; i < c->s->id_count; i++) {
			struct workload_label labels[LABELS_MAX];
			struct workload_identity id = { .name = c->s->ids[i].name, .labels = labels };
			char *buf = strdup(c->s->ids[i].labels);
			bool selects;

			if (!buf)
				return -ENOMEM;
			id.label_count = split_labels(buf, labels, LABELS_MAX);
			selects = policy_selects(&set->policies[p], &id);
			free(buf);
			if (selects) {
				c->current[c->current_count++] = &set->policies[p];
				break;
			}
		}
	}
	return 0;
}

int suggest_build(const struct suggest *s, const struct suggest_options *o,
		  struct suggest_result *res)
{
	struct context c = { .s = s, .o = o };
	struct builder b = { 0 };
	int err;

	memset(res, 0, sizeof(*res));
	err = select_current(&c);
	if (!err && o->level >= SUGGEST_BALANCED)
		err = find_workspaces(&c);
	for (size_t i = 0; i < s->count && !err; i++) {
		const struct observation *ob = &s->obs[i];
		char where[ACTGATE_PATH_BUF];
		const char *why;
		bool subtree;

		if (ob->action == ACTGATE_ACTION_CONNECT) {
			err = add_connect(&b, res, ob, o->level == SUGGEST_COARSE);
			continue;
		}
		if (ob->action == ACTGATE_ACTION_RESOLVE) {
			err = add_lookup(&b, ob);
			continue;
		}
		if (ob->action == ACTGATE_ACTION_EXEC) {
			/*
			 * Programs are listed one by one; only coarse takes a
			 * directory, of several programs, where the job creates
			 * no file (a copied tool must not ride along).
			 */
			char dir[ACTGATE_PATH_BUF];
			bool dir_rule = false;

			parent_of(ob->target, dir, sizeof(dir));
			if (o->level == SUGGEST_COARSE &&
			    files_in(&c, ACTGATE_ACTION_EXEC, 0, dir) >=
				    (o->min_files ? o->min_files : SUGGEST_MIN_FILES) &&
			    dir_allowed(&c, ACTGATE_ACTION_EXEC, 0, dir, ob->target)) {
				dir_rule = true;
				for (size_t k = 0; k < s->count && dir_rule; k++)
					if (s->obs[k].action == ACTGATE_ACTION_OPEN &&
					    (s->obs[k].access & ACTGATE_ACCESS_CREATE) &&
					    path_within(s->obs[k].target, dir))
						dir_rule = false;
			}
			err = add_path_cover(&b, ACTGATE_ACTION_EXEC, dir_rule ? dir : ob->target,
					     dir_rule, 0, ob, ob->count, dir_rule ? WHY_MANY : WHY_EXACT);
			continue;
		}
		for (unsigned bit = 0; bit < ACTGATE_ACCESS_SLOTS && !err; bit++) {
			uint8_t access = (uint8_t)(1u << bit);
			int r;

			if (!(ob->access & access))
				continue;
			r = cover_for(&c, &b, ob, access, where, sizeof(where), &subtree, &why);
			if (r < 0)
				err = r;
			else if (r == 0)
				err = add_path_cover(&b, ACTGATE_ACTION_OPEN, where, subtree, access, ob,
						     ob->access_count[bit], why);
		}
	}
	if (!err) {
		drop_covered(&c, &b);
		err = merge_accesses(&b);
	}
	if (!err)
		err = recount(&c, &b);
	if (!err)
		err = keep_current_denies(&c, &b);
	if (!err) {
		if (b.count) /* qsort wants an array, even of nothing */
			qsort(b.rules, b.count, sizeof(*b.rules), compare_rules);
		res->workloads = calloc(s->id_count ? s->id_count : 1, sizeof(char *));
		res->workload_labels = calloc(s->id_count ? s->id_count : 1, sizeof(char *));
		if (!res->workloads || !res->workload_labels)
			err = -ENOMEM;
	}
	for (size_t i = 0; i < s->id_count && !err; i++) {
		if (res->workload_count &&
		    !strcmp(res->workloads[res->workload_count - 1], s->ids[i].name))
			continue; /* ids are sorted by name: duplicates are adjacent */
		res->workloads[res->workload_count] = strdup(s->ids[i].name);
		res->workload_labels[res->workload_count] = strdup(s->ids[i].labels);
		if (!res->workloads[res->workload_count] || !res->workload_labels[res->workload_count]) {
			free(res->workloads[res->workload_count]);
			free(res->workload_labels[res->workload_count]);
			err = -ENOMEM;
		}
		else
			res->workload_count++;
	}
	res->rules = b.rules;
	res->count = b.count;
	if (b.problems)
		qsort(b.problems, b.problem_count, sizeof(char *), compare_strings);
	res->problems = b.problems;
	res->problem_count = b.problem_count;
	res->taken = s->taken;
	res->first_ns = s->first_ns;
	res->last_ns = s->last_ns;
	for (size_t i = 0; i < c.workspace_count; i++)
		free(c.workspaces[i]);
	free(c.workspaces);
	free(c.current);
	if (err)
		suggest_result_free(res);
	return err;
}

void suggest_result_free(struct suggest_result *r)
{
	for (size_t i = 0; i < r->count; i++) {
		free(r->rules[i].path);
		free(r->rules[i].to);
		free(r->rules[i].example);
	}
	for (size_t i = 0; i < r->problem_count; i++)
		free(r->problems[i]);
	for (size_t i = 0; i < r->workload_count; i++) {
		free(r->workloads[i]);
		free(r->workload_labels[i]);
	}
	free(r->workload_labels);
	free(r->rules);
	free(r->problems);
	free(r->workloads);
	memset(r, 0, sizeof(*r));
}
