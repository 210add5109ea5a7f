/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Segment summaries: accumulate, encode, parse, match, compare (summary.h). */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal/query.h"
#include "journal/summary.h"

static const char *const set_names[JSUMMARY_NSETS] = { "workloads", "principals", "labels",
							"rules", "targets" };

void jsummary_init(struct jsummary *s, uint64_t segment)
{
	*s = (struct jsummary){ .segment = segment };
	for (int i = 0; i < JSUMMARY_NSETS; i++)
		s->sets[i].kept = true;
}

static void set_drop(struct jsummary_set *set)
{
	for (size_t i = 0; i < set->slots; i++)
		free(set->table[i]);
	free(set->table);
	set->table = NULL;
	set->slots = set->n = set->bytes = 0;
}

void jsummary_free(struct jsummary *s)
{
	for (int i = 0; i < JSUMMARY_NSETS; i++)
		set_drop(&s->sets[i]);
}

static uint64_t hash_of(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 0x100000001b3ull;
	return h;
}

/* The slot holding v, or the empty one where it would go. */
static char **set_slot(const struct jsummary_set *set, const char *v, size_t n)
{
	size_t mask = set->slots - 1, i = (size_t)hash_of(v, n) & mask;

	while (set->table[i] && (strlen(set->table[i]) != n || memcmp(set->table[i], v, n)))
		i = (i + 1) & mask;
	return &set->table[i];
}

/*
 * Add v (n bytes): 1 added, 0 already there or the set is not kept, -ENOMEM.
 * Past JSUMMARY_SET_MAX values or JSUMMARY_SET_BYTES bytes the set is
 * dropped: a partial set would hide the decisions holding what it lacks.
 */
static int set_add(struct jsummary_set *set, const char *v, size_t n)
{
	char **slot;

	if (!set->kept)
		return 0;
	if (!set->slots) {
		set->table = calloc(16, sizeof(*set->table));
		if (!set->table)
			return -ENOMEM;
		set->slots = 16;
	}
	slot = set_slot(set, v, n);
	if (*slot)
		return 0;
	if (set->n + 1 > JSUMMARY_SET_MAX || set->bytes + n > JSUMMARY_SET_BYTES) {
		set_drop(set);
		set->kept = false;
		return 0;
	}
	if (2 * (set->n + 1) > set->slots) {
		struct jsummary_set bigger = { .kept = true, .n = set->n, .bytes = set->bytes,
					       .slots = 2 * set->slots };

		bigger.table = calloc(bigger.slots, sizeof(*bigger.table));
		if (!bigger.table)
			return -ENOMEM;
		for (size_t i = 0; i < set->slots; i++)
			if (set->table[i])
				*set_slot(&bigger, set->table[i], strlen(set->table[i])) = set->table[i];
		free(set->table);
		*set = bigger;
		slot = set_slot(set, v, n);
	}
	*slot = strndup(v, n);
	if (!*slot)
		return -ENOMEM;
	set->n++;
	set->bytes += n;
	return 1;
}

static int set_add_str(struct jsummary_set *set, const char *v)
{
	v = or_empty(v);
	return set_add(set, v, strlen(v));
}

int jsummary_add(struct jsummary *s, const struct journal_record *rec)
{
	int err = 0;

	if (!s->decisions || rec->time_ns < s->time_min)
		s->time_min = rec->time_ns;
	if (!s->decisions || rec->time_ns > s->time_max)
		s->time_max = rec->time_ns;
	s->decisions++;
	if (rec->action < JSUMMARY_ACTIONS && rec->verdict < 2)
		s->counts[rec->action][rec->verdict]++;
	if ((err = set_add_str(&s->sets[JSUMMARY_WORKLOAD], rec->workload)) < 0 ||
	    (err = set_add_str(&s->sets[JSUMMARY_PRINCIPAL], rec->principal)) < 0 ||
	    (err = set_add_str(&s->sets[JSUMMARY_LABELS], rec->labels)) < 0 ||
	    (err = set_add_str(&s->sets[JSUMMARY_RULE], rec->rule)) < 0 ||
	    (err = set_add_str(&s->sets[JSUMMARY_TARGET], rec->target)) < 0)
		return err;
	if (rec->target_name && *rec->target_name)
		err = set_add_str(&s->sets[JSUMMARY_TARGET], rec->target_name);
	return err < 0 ? err : 0;
}

void jsummary_add_gap(struct jsummary *s)
{
	s->gaps++;
}

/* ---- the payload ---- */

static int reserve(struct jrecord_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	uint8_t *p;

	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void put_varint(struct jrecord_buf *b, uint64_t v)
{
	while (v >= 0x80) {
		b->p[b->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->p[b->len++] = (uint8_t)v;
}

/* Values in one order whatever the insertion order: bytes, then length. */
static int cmp_value(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	size_t nx = strlen(x), ny = strlen(y);
	int c = memcmp(x, y, nx < ny ? nx : ny);

	return c ? c : (nx > ny) - (nx < ny);
}

static int sorted_values(const struct jsummary_set *set, char ***out)
{
	size_t k = 0;

	*out = NULL;
	if (!set->n)
		return 0;
	*out = malloc(set->n * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < set->slots; i++)
		if (set->table[i])
			(*out)[k++] = set->table[i];
	qsort(*out, k, sizeof(**out), cmp_value);
	return 0;
}

int jsummary_encode(const struct jsummary *s, struct jrecord_buf *b)
{
	int err;

	b->len = 0;
	err = reserve(b, 1 + (5 + 2 * (JSUMMARY_ACTIONS - 1)) * 10);
	if (err)
		return err;
	b->p[b->len++] = JSUMMARY_VERSION;
	put_varint(b, s->segment);
	put_varint(b, s->decisions);
	put_varint(b, s->gaps);
	put_varint(b, s->time_min);
	put_varint(b, s->time_max);
	for (int a = 1; a < JSUMMARY_ACTIONS; a++)
		for (int v = 0; v < 2; v++)
			put_varint(b, s->counts[a][v]);
	for (int i = 0; i < JSUMMARY_NSETS; i++) {
		const struct jsummary_set *set = &s->sets[i];
		char **vals;

		if ((err = reserve(b, 10)))
			return err;
		put_varint(b, set->kept ? set->n + 1 : 0);
		if (!set->kept)
			continue;
		if ((err = sorted_values(set, &vals)))
			return err;
		for (size_t k = 0; k < set->n && !err; k++) {
			size_t n = strlen(vals[k]);

			err = reserve(b, 10 + n);
			if (!err) {
				put_varint(b, n);
				memcpy(b->p + b->len, vals[k], n);
				b->len += n;
			}
		}
		free(vals);
		if (err)
			return err;
	}
	return 0;
}

struct cursor {
	const uint8_t *p;
	size_t len, at;
};

static bool get_varint(struct cursor *c, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t byte;

		if (c->at >= c->len)
			return false;
		byte = c->p[c->at++];
		if (shift == 63 && byte > 1)
			return false;
		*v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return true;
	}
	return false;
}

#define BAD(...)                                          \
	do {                                              \
		snprintf(why, why_size, __VA_ARGS__);     \
		err = -EINVAL;                            \
		goto out;                                 \
	} while (0)

int jsummary_decode(const void *payload, size_t len, struct jsummary *s, char *why,
		    size_t why_size)
{
	struct cursor c = { payload, len, 1 };
	uint64_t sum = 0;
	int err = 0;

	jsummary_init(s, 0);
	if (!len || c.p[0] != JSUMMARY_VERSION)
		BAD("not a version-%d summary", JSUMMARY_VERSION);
	if (!get_varint(&c, &s->segment) || !get_varint(&c, &s->decisions) ||
	    !get_varint(&c, &s->gaps) || !get_varint(&c, &s->time_min) ||
	    !get_varint(&c, &s->time_max))
		BAD("cut short, or a number longer than 64 bits");
	for (int a = 1; a < JSUMMARY_ACTIONS; a++)
		for (int v = 0; v < 2; v++) {
			if (!get_varint(&c, &s->counts[a][v]))
				BAD("cut short in its counts");
			if (s->counts[a][v] > UINT64_MAX - sum)
				BAD("its counts overflow");
			sum += s->counts[a][v];
		}
	if (!s->segment)
		BAD("segment 0");
	if (sum != s->decisions)
		BAD("its counts add up to %" PRIu64 ", not its %" PRIu64 " decisions", sum,
		    s->decisions);
	if (s->time_min > s->time_max || (!s->decisions && s->time_max))
		BAD("its time range is impossible");
	for (int i = 0; i < JSUMMARY_NSETS; i++) {
		struct jsummary_set *set = &s->sets[i];
		const uint8_t *prev = NULL;
		uint64_t m, n;
		size_t prev_n = 0;

		if (!get_varint(&c, &m))
			BAD("cut short in its %s", set_names[i]);
		if (!m) {
			set->kept = false;
			continue;
		}
		if (m - 1 > JSUMMARY_SET_MAX)
			BAD("more than %u %s", JSUMMARY_SET_MAX, set_names[i]);
		/* Every decision holds a value of every set (maybe ""). */
		if ((m - 1 == 0) != (s->decisions == 0))
			BAD("%" PRIu64 " %s for %" PRIu64 " decisions", m - 1, set_names[i],
			    s->decisions);
		for (uint64_t k = 0; k + 1 < m; k++) {
			const uint8_t *v;
			int added;

			if (!get_varint(&c, &n) || n > c.len - c.at)
				BAD("cut short in its %s", set_names[i]);
			v = c.p + c.at;
			c.at += n;
			if (memchr(v, 0, n))
				BAD("a NUL in its %s", set_names[i]);
			if (prev) {
				int cmp = memcmp(prev, v, prev_n < n ? prev_n : n);

				if (cmp > 0 || (!cmp && prev_n >= n))
					BAD("its %s are not in order, or repeat", set_names[i]);
			}
			prev = v;
			prev_n = n;
			added = set_add(set, (const char *)v, n);
			if (added < 0) {
				err = added;
				snprintf(why, why_size, "%s", strerror(ENOMEM));
				goto out;
			}
			if (!set->kept)
				BAD("its %s are more than %u bytes", set_names[i], JSUMMARY_SET_BYTES);
		}
	}
	if (c.at != c.len)
		BAD("%zu bytes after its end", c.len - c.at);
out:
	if (err)
		jsummary_free(s);
	return err;
}

/* ---- matching ---- */

/* Does a value of set pass test? A set not kept may hold anything. */
static bool set_any(const struct jsummary_set *set, bool (*test)(const char *v, const void *arg),
		    const void *arg)
{
	if (!set->kept)
		return true;
	for (size_t i = 0; i < set->slots; i++)
		if (set->table[i] && test(set->table[i], arg))
			return true;
	return false;
}

static bool glob_test(const char *v, const void *arg)
{
	return fnmatch(arg, v, 0) == 0;
}

static bool equal_test(const char *v, const void *arg)
{
	return !strcmp(v, arg);
}

static bool labels_test(const char *v, const void *arg)
{
	const struct jquery_filter *f = arg;

	for (size_t i = 0; i < f->n_labels; i++)
		if (!jquery_labels_have(v, f->labels[i]))
			return false;
	return true;
}

bool jsummary_may_match(const struct jsummary *s, const struct jquery_filter *f)
{
	uint64_t n = 0;

	if (!f)
		return true;
	if (!s->decisions)
		return false;
	if ((f->since_ns && s->time_max < f->since_ns) || (f->until_ns && s->time_min >= f->until_ns))
		return false;
	for (int a = 1; a < JSUMMARY_ACTIONS; a++)
		for (int v = 0; v < 2; v++)
			if ((f->action < 0 || f->action == a) && (f->verdict < 0 || f->verdict == v))
				n += s->counts[a][v];
	if (!n)
		return false;
	if (f->workload_glob && !set_any(&s->sets[JSUMMARY_WORKLOAD], glob_test, f->workload_glob))
		return false;
	if (f->principal && !set_any(&s->sets[JSUMMARY_PRINCIPAL], equal_test, f->principal))
		return false;
	if (f->n_labels && !set_any(&s->sets[JSUMMARY_LABELS], labels_test, f))
		return false;
	if (f->rule_glob && !set_any(&s->sets[JSUMMARY_RULE], glob_test, f->rule_glob))
		return false;
	if (f->target_glob && !set_any(&s->sets[JSUMMARY_TARGET], glob_test, f->target_glob))
		return false;
	return true;
}

/* ---- comparing (verify) ---- */

static bool set_first_missing(const struct jsummary_set *in, const struct jsummary_set *of,
			      const char **missing)
{
	for (size_t i = 0; i < of->slots; i++)
		if (of->table[i] &&
		    (!in->slots || !*set_slot(in, of->table[i], strlen(of->table[i])))) {
			*missing = of->table[i];
			return true;
		}
	return false;
}

int jsummary_compare(const struct jsummary *claimed, const struct jsummary *actual, char *why,
		     size_t why_size)
{
	static const char *const actions[JSUMMARY_ACTIONS] = { "?", "exec", "open", "connect",
							       "tamper", "resolve", "delegate",
							       "signal" };
	int err = 0;

	if (claimed->segment != actual->segment)
		BAD("it names segment %" PRIu64 ", it follows segment %" PRIu64, claimed->segment,
		    actual->segment);
	if (claimed->decisions != actual->decisions)
		BAD("it says %" PRIu64 " decisions, the segment holds %" PRIu64, claimed->decisions,
		    actual->decisions);
	if (claimed->gaps != actual->gaps)
		BAD("it says %" PRIu64 " gap records, the segment holds %" PRIu64, claimed->gaps,
		    actual->gaps);
	if (claimed->time_min != actual->time_min || claimed->time_max != actual->time_max)
		BAD("its time range is not the decisions' (%" PRIu64 "..%" PRIu64 " ns, they span %"
		    PRIu64 "..%" PRIu64 ")", claimed->time_min, claimed->time_max, actual->time_min,
		    actual->time_max);
	for (int a = 1; a < JSUMMARY_ACTIONS; a++)
		for (int v = 0; v < 2; v++)
			if (claimed->counts[a][v] != actual->counts[a][v])
				BAD("it says %" PRIu64 " %s decisions with verdict %s, the segment "
				    "holds %" PRIu64, claimed->counts[a][v], actions[a],
				    v ? "deny" : "allow", actual->counts[a][v]);
	for (int i = 0; i < JSUMMARY_NSETS; i++) {
		const struct jsummary_set *c = &claimed->sets[i], *x = &actual->sets[i];
		const char *v;

		if (c->kept != x->kept)
			BAD("its %s are %s, the segment's %s", set_names[i],
			    c->kept ? "listed" : "not listed", c->kept ? "are too many" : "fit");
		if (!c->kept)
			continue;
		if (set_first_missing(c, x, &v))
			BAD("its %s lack \"%.64s\", which the segment holds", set_names[i], v);
		if (set_first_missing(x, c, &v))
			BAD("its %s list \"%.64s\", which the segment does not hold", set_names[i], v);
	}
out:
	return err ? -EBADMSG : 0;
}
