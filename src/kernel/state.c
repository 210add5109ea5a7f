/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <linux/types.h>
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/state.h"
#include "policy/compile.h"
#include "util/io.h"

#define STATE_MAX_BYTES (64u << 20)
#define WORKLOAD_FIELDS 9 /* "workload" and eight values */

static int state_path(const char *dir, const char *name, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

/* A field the line format can carry: no tab, no line break. */
static int plain(const char *s)
{
	return s && !strpbrk(s, "\t\n\r");
}

int state_check_dir(const char *dir, char *why, size_t why_size)
{
	char probe[PATH_MAX];
	int fd, err;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		snprintf(why, why_size, "cannot create %s: %s", dir, strerror(-err));
		return err;
	}
	if (state_path(dir, STATE_FILE_NAME ".probe", probe, sizeof(probe))) {
		snprintf(why, why_size, "state directory %s: path too long", dir);
		return -ENAMETOOLONG;
	}
	fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_size, "cannot write in %s: %s", dir, strerror(-err));
		return err;
	}
	close(fd);
	unlink(probe);
	return 0;
}

int state_save(const char *dir, uint32_t generation, uint64_t next_workload_id,
	       const uint64_t dropped[ACTGATE_NR_ACTIONS], const struct workload_table *workloads,
	       char *why, size_t why_size)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = NULL;
	int err;

	mem = open_memstream(&text, &len);
	if (!mem) {
		err = -errno;
		snprintf(why, why_size, "out of memory");
		return err;
	}
	fprintf(mem, STATE_MAGIC "\ngeneration\t%" PRIu32 "\nnext-workload-id\t%" PRIu64 "\n",
		generation, next_workload_id);
	fprintf(mem, "dropped");
	for (int a = ACTGATE_ACTION_EXEC; a < ACTGATE_NR_ACTIONS; a++)
		fprintf(mem, "\t%" PRIu64, dropped[a]);
	fprintf(mem, "\n");
	for (size_t i = 0; i < workloads->count; i++) {
		const struct workload *w = &workloads->items[i];

		if (!plain(w->name) || !plain(w->principal) || !plain(w->labels) ||
		    !plain(w->cgroup_path) || !plain(w->policies)) {
			fclose(mem);
			free(text);
			snprintf(why, why_size, "workload %" PRIu64 " has a field with a tab or newline",
				 w->id);
			return -EINVAL;
		}
		fprintf(mem, "workload\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu32 "\t%s\t%s\t%s\t%s\t%s\n",
			w->id, w->cgroup_id, w->policy_id, w->name, w->principal, w->labels,
			w->cgroup_path, w->policies);
	}
	fprintf(mem, "end\n");
	if (fclose(mem) != 0 || !text) {
		free(text);
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	err = write_file_atomic(dir, STATE_FILE_NAME, text, len, why, why_size);
	free(text);
	return err;
}

/* Split line (modified in place) at tabs into at most max fields; returns the count. */
static size_t split_tabs(char *line, char **fields, size_t max)
{
	size_t n = 0;

	while (n < max) {
		fields[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return line ? max + 1 : n;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)s[0]) || (s[0] == '0' && s[1]))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return (errno || *end) ? -EINVAL : 0;
}

/* Labels as state_save wrote them: canonical (sorted, unique keys), each one valid. */
static int check_labels(const char *labels, char *why, size_t why_size)
{
	struct workload_label *list = NULL;
	char *text = NULL, *acc = NULL;
	size_t count = 0;
	int err = workload_labels_split(labels, &list, &count, &text);

	if (err) {
		snprintf(why, why_size, "out of memory");
		return err;
	}
	acc = strdup("");
	for (size_t i = 0; acc && i < count; i++) {
		char *next;

		if (workload_label_check(list[i].key, list[i].value, why, why_size)) {
			err = -EINVAL;
			goto out;
		}
		next = workload_labels_add(acc, list[i].key, list[i].value);
		free(acc);
		acc = next;
	}
	if (!acc || strcmp(acc, labels) != 0) {
		snprintf(why, why_size, "labels \"%.200s\" are not in canonical form (k=v,... sorted, "
					"each key once)",
			 labels);
		err = -EINVAL;
	}
out:
	free(acc);
	free(list);
	free(text);
	return err;
}

static int check_cgroup_path(const char *path, char *why, size_t why_size)
{
	size_t len = strlen(path);

	if (path[0] != '/' || len < 2 || len >= PATH_MAX / 2 || strstr(path, "//") ||
	    strstr(path, "/../") || strstr(path, "/./") || path[len - 1] == '/' ||
	    (len >= 3 && strcmp(path + len - 3, "/..") == 0)) {
		snprintf(why, why_size, "cgroup path \"%.200s\" is not an absolute cgroup path", path);
		return -EINVAL;
	}
	for (const char *p = path; *p; p++) {
		if (iscntrl((unsigned char)*p)) {
			snprintf(why, why_size, "cgroup path has a control character");
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_workload(char **f, uint32_t generation, struct workload *w, char *why,
			  size_t why_size)
{
	uint64_t policy_id;

	memset(w, 0, sizeof(*w));
	w->owner_fd = -1;
	if (parse_u64(f[1], &w->id) || w->id == 0) {
		snprintf(why, why_size, "workload id \"%.40s\" is not a positive number", f[1]);
		return -EINVAL;
	}
	if (parse_u64(f[2], &w->cgroup_id) || w->cgroup_id == 0) {
		snprintf(why, why_size, "cgroup id \"%.40s\" is not a positive number", f[2]);
		return -EINVAL;
	}
	if (parse_u64(f[3], &policy_id) || policy_id > UINT32_MAX ||
	    policy_id_index((uint32_t)policy_id) == (size_t)-1) {
		snprintf(why, why_size, "policy id \"%.40s\" is not a policy id", f[3]);
		return -EINVAL;
	}
	w->policy_id = (uint32_t)policy_id;
	if (policy_id_generation(w->policy_id) != generation) {
		snprintf(why, why_size, "policy id %" PRIu32 " is of generation %" PRIu32 ", not %" PRIu32,
			 w->policy_id, policy_id_generation(w->policy_id), generation);
		return -EINVAL;
	}
	if (workload_name_check(f[4], why, why_size) ||
	    (f[5][0] && workload_principal_check(f[5], why, why_size)) || check_labels(f[6], why, why_size) ||
	    check_cgroup_path(f[7], why, why_size))
		return -EINVAL;
	if (!f[8][0]) {
		snprintf(why, why_size, "the workload's policies are missing");
		return -EINVAL;
	}
	for (const char *p = f[8]; *p; p++) {
		if (iscntrl((unsigned char)*p)) {
			snprintf(why, why_size, "policy names have a control character");
			return -EINVAL;
		}
	}
	w->name = strdup(f[4]);
	w->principal = strdup(f[5]);
	w->labels = strdup(f[6]);
	w->cgroup_path = strdup(f[7]);
	w->policies = strdup(f[8]);
	if (!w->name || !w->principal || !w->labels || !w->cgroup_path || !w->policies ||
	    workload_labels_split(w->labels, &w->label_list, &w->label_count, &w->label_text)) {
		workload_clear(w);
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int state_parse(const char *text, size_t len, const char *name, struct daemon_state *st,
		char *why, size_t why_size)
{
	enum { HEADER, GENERATION, NEXT_ID, DROPPED, BODY, DONE } expect = HEADER;
	char *copy = NULL, *line, *next, reason[512] = "";
	unsigned long line_no = 0;
	int err = 0;

	memset(st, 0, sizeof(*st));
	if (memchr(text, '\0', len)) {
		snprintf(why, why_size, "%s: a NUL byte: not a state file", name);
		return -EINVAL;
	}
	copy = strndup(text, len);
	if (!copy) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	if (len == 0 || text[len - 1] != '\n') {
		snprintf(reason, sizeof(reason), "the last line is not complete");
		err = -EINVAL;
		goto out;
	}
	for (line = copy; *line; line = next) {
		char *f[WORKLOAD_FIELDS + 1];
		size_t n;
		uint64_t v;

		/* Every line ends in '\n': checked above for the last one. */
		next = strchr(line, '\n');
		*next++ = '\0';
		line_no++;
		if (!*line) {
			snprintf(reason, sizeof(reason), "an empty line");
			err = -EINVAL;
			goto out;
		}
		if (expect == HEADER) {
			if (strcmp(line, STATE_MAGIC) != 0) {
				snprintf(reason, sizeof(reason), "not an actgate state file (expected \"%s\")",
					 STATE_MAGIC);
				err = -EINVAL;
				goto out;
			}
			expect = GENERATION;
			continue;
		}
		if (expect == DONE) {
			snprintf(reason, sizeof(reason), "text after \"end\"");
			err = -EINVAL;
			goto out;
		}
		n = split_tabs(line, f, WORKLOAD_FIELDS);
		if (expect == GENERATION) {
			if (n != 2 || strcmp(f[0], "generation") != 0 || parse_u64(f[1], &v) || v == 0 ||
			    v > POLICY_MAX_GENERATION) {
				snprintf(reason, sizeof(reason),
					 "expected \"generation\" and a generation from 1 to %u",
					 POLICY_MAX_GENERATION);
				err = -EINVAL;
				goto out;
			}
			st->generation = (uint32_t)v;
			expect = NEXT_ID;
		} else if (expect == NEXT_ID) {
			if (n != 2 || strcmp(f[0], "next-workload-id") != 0 ||
			    parse_u64(f[1], &st->next_workload_id) || st->next_workload_id == 0) {
				snprintf(reason, sizeof(reason),
					 "expected \"next-workload-id\" and a positive number");
				err = -EINVAL;
				goto out;
			}
			expect = DROPPED;
		} else if (expect == DROPPED) {
			if (n != ACTGATE_NR_ACTIONS || strcmp(f[0], "dropped") != 0) {
				snprintf(reason, sizeof(reason), "expected \"dropped\" and %d counts",
					 ACTGATE_NR_ACTIONS - 1);
				err = -EINVAL;
				goto out;
			}
			for (int a = ACTGATE_ACTION_EXEC; a < ACTGATE_NR_ACTIONS; a++) {
				if (parse_u64(f[a], &st->dropped[a])) {
					snprintf(reason, sizeof(reason), "drop count \"%.40s\" is not a number",
						 f[a]);
					err = -EINVAL;
					goto out;
				}
			}
			expect = BODY;
		} else if (n == 1 && strcmp(f[0], "end") == 0) {
			expect = DONE;
		} else {
			struct workload w;

			if (n != WORKLOAD_FIELDS || strcmp(f[0], "workload") != 0) {
				snprintf(reason, sizeof(reason),
					 "expected \"workload\" and %d tab-separated fields, or \"end\"",
					 WORKLOAD_FIELDS - 1);
				err = -EINVAL;
				goto out;
			}
			err = parse_workload(f, st->generation, &w, reason, sizeof(reason));
			if (err)
				goto out;
			for (size_t i = 0; i < st->workloads.count; i++) {
				const struct workload *o = &st->workloads.items[i];

				if (o->id == w.id || o->cgroup_id == w.cgroup_id) {
					snprintf(reason, sizeof(reason),
						 "workload %" PRIu64 " (cgroup %" PRIu64 ") is there twice",
						 w.id, w.cgroup_id);
					workload_clear(&w);
					err = -EINVAL;
					goto out;
				}
			}
			if (w.id >= st->next_workload_id) {
				snprintf(reason, sizeof(reason),
					 "workload id %" PRIu64 " is not below next-workload-id %" PRIu64,
					 w.id, st->next_workload_id);
				workload_clear(&w);
				err = -EINVAL;
				goto out;
			}
			err = workload_table_add(&st->workloads, &w);
			if (err) {
				workload_clear(&w);
				snprintf(reason, sizeof(reason), "out of memory");
				goto out;
			}
		}
	}
	if (expect != DONE) {
		snprintf(reason, sizeof(reason), "the file ends before \"end\" (cut short?)");
		line_no++;
		err = -EINVAL;
	}
out:
	if (err) {
		snprintf(why, why_size, "%s:%lu: %s", name, line_no ? line_no : 1, reason);
		state_free(st);
	}
	free(copy);
	return err;
}

int state_load(const char *dir, struct daemon_state *st, char *why, size_t why_size)
{
	char path[PATH_MAX], *text = NULL;
	struct stat sb;
	size_t got = 0;
	int fd, err;

	memset(st, 0, sizeof(*st));
	if (state_path(dir, STATE_FILE_NAME, path, sizeof(path))) {
		snprintf(why, why_size, "state directory %s: path too long", dir);
		return -ENAMETOOLONG;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_size, "%s: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &sb) < 0) {
		err = -errno;
		snprintf(why, why_size, "%s: %s", path, strerror(-err));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > (off_t)STATE_MAX_BYTES) {
		snprintf(why, why_size, "%s: not a regular file of at most %u bytes", path,
			 STATE_MAX_BYTES);
		err = -EINVAL;
		goto out;
	}
	text = malloc((size_t)sb.st_size + 1);
	if (!text) {
		err = -ENOMEM;
		snprintf(why, why_size, "out of memory");
		goto out;
	}
	err = read_full(fd, text, (size_t)sb.st_size, &got);
	if (err) {
		snprintf(why, why_size, "%s: %s", path, strerror(-err));
		goto out;
	}
	err = state_parse(text, got, path, st, why, why_size);
out:
	free(text);
	close(fd);
	return err;
}

int state_remove(const char *dir)
{
	static const char *const names[] = { STATE_FILE_NAME, STATE_NAMES_FILE_NAME };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (state_path(dir, names[i], path, sizeof(path)))
			return -ENAMETOOLONG;
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

int state_save_names(const char *dir, const struct policy_image *img, char *why, size_t why_size)
{
	char *text = NULL, rule[512];
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	int err;

	if (!mem) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	fprintf(mem, STATE_NAMES_MAGIC "\ngeneration\t%" PRIu32 "\nrules\t%zu\n", img->generation,
		img->rule_count);
	for (uint32_t id = 1; id < img->rule_count; id++) {
		const char *policy = policy_image_rule_policy(img, id);

		if (!policy || policy_image_rule_name(img, id, rule, sizeof(rule)))
			continue;
		if (!plain(policy) || !plain(rule))
			continue; /* not representable; validated names never are */
		fprintf(mem, "%" PRIu32 "\t%s\t%s\n", id, policy, rule);
	}
	fprintf(mem, "end\n");
	if (fclose(mem) != 0 || !text) {
		free(text);
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	err = write_file_atomic(dir, STATE_NAMES_FILE_NAME, text, len, why, why_size);
	free(text);
	return err;
}

int state_parse_names(const char *text, size_t len, const char *name, struct rule_names *out,
		      char *why, size_t why_size)
{
	char *copy = NULL, *line, *next, *f[4], reason[256] = "";
	unsigned long line_no = 0;
	uint64_t v, count = 0, last = 0;
	bool ended = false;
	int err = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (len == 0 || text[len - 1] != '\n' || memchr(text, '\0', len)) {
		snprintf(why, why_size, "%s: not a complete names file", name);
		return -EINVAL;
	}
	copy = strndup(text, len);
	if (!copy) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	for (line = copy; *line; line = next) {
		size_t n;

		next = strchr(line, '\n');
		*next++ = '\0';
		line_no++;
		if (ended) {
			snprintf(reason, sizeof(reason), "text after \"end\"");
			goto out;
		}
		if (line_no == 1) {
			if (strcmp(line, STATE_NAMES_MAGIC) != 0) {
				snprintf(reason, sizeof(reason), "not an actgate names file");
				goto out;
			}
			continue;
		}
		n = split_tabs(line, f, 3);
		if (line_no == 2) {
			if (n != 2 || strcmp(f[0], "generation") || parse_u64(f[1], &v) || v == 0 ||
			    v > POLICY_MAX_GENERATION) {
				snprintf(reason, sizeof(reason), "expected \"generation\" and a generation");
				goto out;
			}
			out->generation = (uint32_t)v;
		} else if (line_no == 3) {
			if (n != 2 || strcmp(f[0], "rules") || parse_u64(f[1], &count) ||
			    count > (1u << 24)) {
				snprintf(reason, sizeof(reason), "expected \"rules\" and a count");
				goto out;
			}
			out->policy = calloc((size_t)count + 1, sizeof(*out->policy));
			out->rule = calloc((size_t)count + 1, sizeof(*out->rule));
			if (!out->policy || !out->rule) {
				err = -ENOMEM;
				snprintf(reason, sizeof(reason), "out of memory");
				goto out;
			}
			out->count = (size_t)count;
		} else if (n == 1 && strcmp(f[0], "end") == 0) {
			ended = true;
		} else {
			if (n != 3 || parse_u64(f[0], &v) || v == 0 || v >= count || v <= last || !f[1][0] ||
			    !f[2][0]) {
				snprintf(reason, sizeof(reason),
					 "expected an increasing rule id below %" PRIu64
					 ", a policy and a rule name",
					 count);
				goto out;
			}
			last = v;
			out->policy[v] = strdup(f[1]);
			out->rule[v] = strdup(f[2]);
			if (!out->policy[v] || !out->rule[v]) {
				err = -ENOMEM;
				snprintf(reason, sizeof(reason), "out of memory");
				goto out;
			}
		}
	}
	if (!ended) {
		snprintf(reason, sizeof(reason), "the file ends before \"end\"");
		goto out;
	}
	err = 0;
out:
	if (err) {
		snprintf(why, why_size, "%s:%lu: %s", name, line_no, reason);
		rule_names_free(out);
	}
	free(copy);
	return err;
}

int state_load_names(const char *dir, struct rule_names *out, char *why, size_t why_size)
{
	char path[PATH_MAX], *text = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	memset(out, 0, sizeof(*out));
	if (state_path(dir, STATE_NAMES_FILE_NAME, path, sizeof(path)))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		snprintf(why, why_size, "%s: %s", path, strerror(-err));
		return err;
	}
	{
		FILE *mem = open_memstream(&text, &len);
		char buf[65536];
		size_t n;

		if (!mem) {
			fclose(f);
			return -ENOMEM;
		}
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && len < STATE_MAX_BYTES)
			fwrite(buf, 1, n, mem);
		fclose(mem);
	}
	fclose(f);
	err = text ? state_parse_names(text, len, path, out, why, why_size) : -ENOMEM;
	free(text);
	return err;
}

void rule_names_free(struct rule_names *n)
{
	for (size_t i = 0; i <= n->count && n->policy; i++)
		free(n->policy[i]);
	for (size_t i = 0; i <= n->count && n->rule; i++)
		free(n->rule[i]);
	free(n->policy);
	free(n->rule);
	memset(n, 0, sizeof(*n));
}

void state_free(struct daemon_state *st)
{
	workload_table_free(&st->workloads);
	memset(st, 0, sizeof(*st));
}
