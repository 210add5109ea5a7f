/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Decision payloads (journal/record.h, docs/journal-format.md). The decoder
 * treats the payload as hostile: a journal may come from a compromised host,
 * so every length is checked against what is left, every varint against its
 * field's width, and a field may appear only once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "journal/record.h"

void jrecord_buf_free(struct jrecord_buf *b)
{
	free(b->p);
	*b = (struct jrecord_buf){ 0 };
}

static int buf_reserve(struct jrecord_buf *b, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (b->len + more <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Callers reserve first: a key and a varint take at most 2 + 10 bytes. */
static void put_varint(struct jrecord_buf *b, uint64_t v)
{
	while (v >= 0x80) {
		b->p[b->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->p[b->len++] = (uint8_t)v;
}

/* The buffer is reserved once per record, for the worst case (jrecord_encode). */
static void put_uint(struct jrecord_buf *b, unsigned field, uint64_t v, bool always)
{
	if (!v && !always)
		return;
	put_varint(b, (uint64_t)field << 1 | JRECORD_WIRE_VARINT);
	put_varint(b, v);
}

static void put_text(struct jrecord_buf *b, unsigned field, const char *s, size_t n, bool always)
{
	if (!n && !always)
		return;
	put_varint(b, (uint64_t)field << 1 | JRECORD_WIRE_BYTES);
	put_varint(b, n);
	memcpy(b->p + b->len, s ? s : "", n);
	b->len += n;
}

static size_t len_of(const char *s)
{
	return s ? strlen(s) : 0;
}

/* ---- the writer's string table ---- */

#define DICT_SLOTS (2 * JRECORD_STRINGS_MAX) /* a power of two, at most half full */
#define DICT_MIN_LEN 3 /* shorter texts cost less inline than as a reference */

struct dict_entry {
	uint64_t hash;
	uint32_t off, len;
};

struct jrecord_dict {
	struct jrecord_buf defs; /* the definitions of the record being encoded */
	uint32_t last[32];       /* by field: the id it had last, tried before the hash */
	uint32_t *slots; /* entry index + 1; 0: free */
	struct dict_entry *ent;
	uint32_t n;
	uint8_t *bytes;
	size_t bytes_len, bytes_cap;
};

int jrecord_dict_new(struct jrecord_dict **out)
{
	struct jrecord_dict *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->slots = calloc(DICT_SLOTS, sizeof(*d->slots));
	d->ent = calloc(JRECORD_STRINGS_MAX, sizeof(*d->ent));
	if (!d->slots || !d->ent) {
		jrecord_dict_free(d);
		return -ENOMEM;
	}
	*out = d;
	return 0;
}

void jrecord_dict_reset(struct jrecord_dict *d)
{
	if (!d->n)
		return;
	memset(d->slots, 0, DICT_SLOTS * sizeof(*d->slots));
	memset(d->last, 0, sizeof(d->last));
	d->n = 0;
	d->bytes_len = 0;
}

size_t jrecord_dict_count(const struct jrecord_dict *d)
{
	return d->n;
}

void jrecord_dict_free(struct jrecord_dict *d)
{
	if (!d)
		return;
	free(d->slots);
	free(d->ent);
	free(d->bytes);
	jrecord_buf_free(&d->defs);
	free(d);
}

static uint64_t text_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h;
}

/* The id of s (adding it, and its definition to strings, if new); 0: keep it inline. */
static int dict_id(struct jrecord_dict *d, const char *s, size_t n, struct jrecord_buf *strings,
		   uint32_t *id)
{
	uint64_t h = text_hash(s, n);
	size_t slot = (size_t)h & (DICT_SLOTS - 1);
	struct dict_entry *e;
	int err;

	*id = 0;
	for (; d->slots[slot]; slot = (slot + 1) & (DICT_SLOTS - 1)) {
		e = &d->ent[d->slots[slot] - 1];
		if (e->hash == h && e->len == n && !memcmp(d->bytes + e->off, s, n)) {
			*id = d->slots[slot];
			return 0;
		}
	}
	if (d->n >= JRECORD_STRINGS_MAX || n > UINT32_MAX)
		return 0;
	if (d->bytes_len + n > d->bytes_cap) {
		size_t cap = d->bytes_cap ? d->bytes_cap : 65536;
		uint8_t *p;

		while (cap < d->bytes_len + n)
			cap *= 2;
		p = realloc(d->bytes, cap);
		if (!p)
			return -ENOMEM;
		d->bytes = p;
		d->bytes_cap = cap;
	}
	err = buf_reserve(strings, 20 + n);
	if (err)
		return err;
	memcpy(d->bytes + d->bytes_len, s, n);
	d->ent[d->n] = (struct dict_entry){ .hash = h, .off = (uint32_t)d->bytes_len,
					    .len = (uint32_t)n };
	d->bytes_len += n;
	d->slots[slot] = ++d->n;
	*id = d->n;
	put_varint(strings, *id);
	put_varint(strings, n);
	memcpy(strings->p + strings->len, s, n);
	strings->len += n;
	return 0;
}

/* A text field: by reference when d holds (or takes) it, else inline. */
static int put_text_dict(struct jrecord_buf *b, struct jrecord_dict *d, struct jrecord_buf *strings,
			 unsigned field, const char *s, size_t n, bool always)
{
	uint32_t id = 0;
	int err;

	if (d && n >= DICT_MIN_LEN) {
		uint32_t last = d->last[field];
		const struct dict_entry *e = last ? &d->ent[last - 1] : NULL;

		/* A workload's decisions come in runs: most texts are the ones its last had. */
		if (e && e->len == n && !memcmp(d->bytes + e->off, s, n)) {
			id = last;
		} else {
			err = dict_id(d, s, n, strings, &id);
			if (err)
				return err;
			d->last[field] = id;
		}
	}
	if (id) {
		put_varint(b, (uint64_t)field << 1 | JRECORD_WIRE_VARINT);
		put_varint(b, id);
	} else {
		put_text(b, field, s, n, always);
	}
	return 0;
}

/* The text field numbered f (JF_WORKLOAD..JF_LAST_TEXT) of r. */
static char **text_of(struct journal_record *r, unsigned f)
{
	switch (f) {
	case JF_WORKLOAD: return &r->workload;
	case JF_PRINCIPAL: return &r->principal;
	case JF_LABELS: return &r->labels;
	case JF_POLICY: return &r->policy;
	case JF_RULE: return &r->rule;
	case JF_TARGET: return &r->target;
	case JF_SIGNALS: return &r->signals;
	case JF_TARGET_NAME: return &r->target_name;
	case JF_CHAIN: return &r->chain;
	case JF_EVENT_ID: return &r->event_id;
	case JF_ISSUER: return &r->issuer;
	case JF_EVENT_TYPE: return &r->event_type;
	default: return &r->subject;
	}
}

#define N_TEXTS (JF_LAST_TEXT - JF_WORKLOAD + 1)

static int encode(const struct journal_record *r, struct jrecord_dict *d, struct jrecord_buf *b,
		  struct jrecord_buf *strings)
{
	size_t comm_len, text_len[N_TEXTS], need;
	const char *texts[N_TEXTS];
	int err;

	b->len = 0;
	if (strings)
		strings->len = 0;
	if (!strcmp(action_name(r->action), "?") || !strcmp(verdict_name(r->verdict), "?") ||
	    !strcmp(mode_name(r->mode), "?") || (r->access & ~ACTGATE_ACCESS_RECORDED) ||
	    strnlen(r->comm, sizeof(r->comm)) > ACTGATE_COMM_LEN)
		return -EINVAL;
	comm_len = strnlen(r->comm, sizeof(r->comm));
	/* The version, 15 numbers and the texts, each key and varint at most 2 + 10 bytes. */
	need = 1 + (15 + 1 + N_TEXTS) * 12 + comm_len;
	for (unsigned f = JF_WORKLOAD; f <= JF_LAST_TEXT; f++) {
		size_t i = f - JF_WORKLOAD;

		texts[i] = *text_of((struct journal_record *)r, f);
		text_len[i] = len_of(texts[i]);
		need += text_len[i];
	}
	err = buf_reserve(b, need);
	if (err)
		return err;
	b->p[b->len++] = JRECORD_VERSION;
	/* Fields in number order: a stable byte layout that compresses well. */
	put_uint(b, JF_TIME_NS, r->time_ns, true);
	put_uint(b, JF_ACTION, r->action, true);
	put_uint(b, JF_VERDICT, r->verdict, true);
	put_uint(b, JF_MODE, r->mode, true);
	put_uint(b, JF_REASON, r->reason, true);
	put_uint(b, JF_WORKLOAD_ID, r->workload_id, false);
	put_uint(b, JF_CGROUP_ID, r->cgroup_id, false);
	put_uint(b, JF_PID, r->pid, false);
	if (r->tgid != r->pid)
		put_uint(b, JF_TGID, r->tgid, true);
	put_uint(b, JF_PPID, r->ppid, false);
	put_uint(b, JF_UID, r->uid, false);
	put_uint(b, JF_GENERATION, r->generation, false);
	put_uint(b, JF_ACCESS, r->access, false);
	put_uint(b, JF_SIGNAL_GENERATION, r->signal_generation, false);
	err = put_text_dict(b, d, strings, JF_COMM, r->comm, comm_len, false);
	for (unsigned f = JF_WORKLOAD; !err && f <= JF_LAST_TEXT; f++) {
		size_t i = f - JF_WORKLOAD;

		if (f == JF_SIGNALS && !r->signals)
			continue;
		err = put_text_dict(b, d, strings, f, texts[i], text_len[i], f == JF_SIGNALS);
	}
	return err;
}

int jrecord_encode(const struct journal_record *r, struct jrecord_buf *b)
{
	return encode(r, NULL, b, NULL);
}

int jrecord_encode_dict(const struct journal_record *r, struct jrecord_dict *d,
			struct jrecord_buf *b)
{
	struct jrecord_buf *defs = &d->defs;
	size_t head;
	uint8_t tmp[20];
	struct jrecord_buf h = { .p = tmp, .cap = sizeof(tmp) };
	int err;

	err = encode(r, d, b, defs);
	if (!err && defs->len) {
		/* The definitions go first (field 15), so a scan finds them without decoding. */
		put_varint(&h, (uint64_t)JF_STRINGS << 1 | JRECORD_WIRE_BYTES);
		put_varint(&h, defs->len);
		head = h.len + defs->len;
		err = buf_reserve(b, head);
		if (!err) {
			memmove(b->p + 1 + head, b->p + 1, b->len - 1);
			memcpy(b->p + 1, h.p, h.len);
			memcpy(b->p + 1 + h.len, defs->p, defs->len);
			b->len += head;
		}
	}
	if (err)
		jrecord_dict_reset(d);
	return err;
}

/* ---- decoding ---- */

struct field_info {
	const char *name;
	uint8_t wire;
	uint64_t max; /* varints: the largest value */
};

static const struct field_info fields[] = {
	[JF_TIME_NS] = { "time_ns", JRECORD_WIRE_VARINT, UINT64_MAX },
	[JF_ACTION] = { "action", JRECORD_WIRE_VARINT, UINT8_MAX },
	[JF_VERDICT] = { "verdict", JRECORD_WIRE_VARINT, UINT8_MAX },
	[JF_MODE] = { "mode", JRECORD_WIRE_VARINT, UINT8_MAX },
	[JF_REASON] = { "reason", JRECORD_WIRE_VARINT, UINT8_MAX },
	[JF_WORKLOAD_ID] = { "workload_id", JRECORD_WIRE_VARINT, UINT64_MAX },
	[JF_CGROUP_ID] = { "cgroup_id", JRECORD_WIRE_VARINT, UINT64_MAX },
	[JF_PID] = { "pid", JRECORD_WIRE_VARINT, UINT32_MAX },
	[JF_TGID] = { "tgid", JRECORD_WIRE_VARINT, UINT32_MAX },
	[JF_PPID] = { "ppid", JRECORD_WIRE_VARINT, UINT32_MAX },
	[JF_UID] = { "uid", JRECORD_WIRE_VARINT, UINT32_MAX },
	[JF_GENERATION] = { "generation", JRECORD_WIRE_VARINT, UINT32_MAX },
	[JF_ACCESS] = { "access", JRECORD_WIRE_VARINT, UINT8_MAX },
	[JF_SIGNAL_GENERATION] = { "signal_generation", JRECORD_WIRE_VARINT, UINT64_MAX },
	[JF_STRINGS] = { "strings", JRECORD_WIRE_BYTES, UINT32_MAX },
	[JF_COMM] = { "comm", JRECORD_WIRE_BYTES, ACTGATE_COMM_LEN },
	[JF_WORKLOAD] = { "workload", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_PRINCIPAL] = { "principal", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_LABELS] = { "labels", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_POLICY] = { "policy", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_RULE] = { "rule", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_TARGET] = { "target", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_SIGNALS] = { "signals", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_TARGET_NAME] = { "target_name", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_CHAIN] = { "chain", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_EVENT_ID] = { "event_id", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_ISSUER] = { "issuer", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_EVENT_TYPE] = { "event_type", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_SUBJECT] = { "subject", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static int bad(char *why, size_t why_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why && why_size) {
		va_start(ap, fmt);
		vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* 1 with *v, 0 when the bytes end inside it, -1 when it is longer than 10 bytes or overflows. */
static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	unsigned shift = 0;

	/* Most keys and values are one byte: the scan of a journal is bound by this. */
	if (*p < end && **p < 0x80) {
		*v = *(*p)++;
		return 1;
	}
	for (const uint8_t *q = *p; q < end; q++, shift += 7) {
		uint64_t bits = *q & 0x7f;

		if (shift == 63 && bits > 1)
			return -1;
		x |= bits << shift;
		if (!(*q & 0x80)) {
			*p = q + 1;
			*v = x;
			return 1;
		}
		if (shift == 63)
			return -1;
	}
	return 0;
}

static const char *field_name(uint64_t f)
{
	return f < N_FIELDS && fields[f].name ? fields[f].name : "unknown";
}

/* ---- the reader's string table ---- */

struct jrecord_table {
	uint32_t *off, *len; /* by id; len UINT32_MAX: not defined */
	uint32_t max_id;     /* the highest id defined: reset clears up to it */
	uint8_t *bytes;
	size_t bytes_len, bytes_cap;
};

int jrecord_table_new(struct jrecord_table **out)
{
	struct jrecord_table *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->off = calloc(JRECORD_STRINGS_MAX + 1, sizeof(*t->off));
	t->len = malloc((JRECORD_STRINGS_MAX + 1) * sizeof(*t->len));
	if (!t->off || !t->len) {
		jrecord_table_free(t);
		return -ENOMEM;
	}
	memset(t->len, 0xff, (JRECORD_STRINGS_MAX + 1) * sizeof(*t->len));
	*out = t;
	return 0;
}

void jrecord_table_reset(struct jrecord_table *t)
{
	if (t->max_id)
		memset(t->len, 0xff, (t->max_id + 1) * sizeof(*t->len));
	t->max_id = 0;
	t->bytes_len = 0;
}

void jrecord_table_free(struct jrecord_table *t)
{
	if (!t)
		return;
	free(t->off);
	free(t->len);
	free(t->bytes);
	free(t);
}

/* Field 15's entries into t. */
static int table_add(struct jrecord_table *t, const uint8_t *p, const uint8_t *end, char *why,
		     size_t why_size)
{
	while (p < end) {
		uint64_t id, n;

		if (get_varint(&p, end, &id) != 1 || get_varint(&p, end, &n) != 1)
			return bad(why, why_size, "field 15 (strings): an entry cut short");
		if (id == 0 || id > JRECORD_STRINGS_MAX)
			return bad(why, why_size, "field 15 (strings): id %llu out of range",
				   (unsigned long long)id);
		if (n > (uint64_t)(end - p) || n > JRECORD_MAX_TEXT)
			return bad(why, why_size, "field 15 (strings): string %llu: length %llu past the end",
				   (unsigned long long)id, (unsigned long long)n);
		if (memchr(p, '\0', n))
			return bad(why, why_size, "field 15 (strings): string %llu holds a NUL byte",
				   (unsigned long long)id);
		/*
		 * The same definition again (a repeated record) is harmless; another one
		 * is refused and the first stays: a later record never changes what the
		 * earlier ones read.
		 */
		if (t->len[id] != UINT32_MAX) {
			if (t->len[id] == n && !memcmp(t->bytes + t->off[id], p, n)) {
				p += n;
				continue;
			}
			return bad(why, why_size,
				   "field 15 (strings): string %llu defined twice in this segment, "
				   "differently", (unsigned long long)id);
		}
		if (t->bytes_len + n > t->bytes_cap) {
			size_t cap = t->bytes_cap ? t->bytes_cap : 65536;
			uint8_t *q;

			while (cap < t->bytes_len + n)
				cap *= 2;
			q = realloc(t->bytes, cap);
			if (!q)
				return -ENOMEM;
			t->bytes = q;
			t->bytes_cap = cap;
		}
		memcpy(t->bytes + t->bytes_len, p, n);
		t->off[id] = (uint32_t)t->bytes_len;
		t->len[id] = (uint32_t)n;
		t->bytes_len += n;
		if (id > t->max_id)
			t->max_id = (uint32_t)id;
		p += n;
	}
	return 0;
}

int jrecord_table_feed(struct jrecord_table *t, const void *payload, size_t len, char *why,
		       size_t why_size)
{
	const uint8_t *p = payload, *end = p + len;
	uint64_t n;

	if (len < 2 || p[0] != JRECORD_VERSION || p[1] != (JF_STRINGS << 1 | JRECORD_WIRE_BYTES))
		return 0;
	p += 2;
	if (get_varint(&p, end, &n) != 1 || n > (uint64_t)(end - p))
		return bad(why, why_size, "field 15 (strings): length past the end of the payload");
	return table_add(t, p, p + n, why, why_size);
}

/*
 * Decode with strings as (pointer, length) into the payload or the string
 * table, then copy them into arena as C strings. Unknown fields of a known
 * wire type are skipped: a newer writer may add fields an older reader does
 * not show.
 */
int jrecord_decode_table(const void *payload, size_t len, struct jrecord_table *t,
			 struct journal_record *rec, struct jrecord_buf *arena,
			 unsigned *unresolved, char *why, size_t why_size)
{
	const uint8_t *p = payload, *end = p + len;
	/* Filled where seen has the field's bit; the rest is never read (no zeroing per record). */
	const uint8_t *text[N_FIELDS];
	uint64_t text_len[N_FIELDS], num[N_FIELDS];
	char lost[N_FIELDS][32];
	uint32_t seen = 0, refs = 0;
	size_t need = N_FIELDS;
	char *out;
	int err;

	memset(rec, 0, sizeof(*rec));
	if (unresolved)
		*unresolved = 0;
	if (len == 0)
		return bad(why, why_size, "empty payload");
	if (p[0] != JRECORD_VERSION)
		return bad(why, why_size, "payload version %u (this reader knows %u)", p[0],
			   JRECORD_VERSION);
	p++;
	while (p < end) {
		uint64_t key, f, v;
		unsigned wire;
		bool known;

		if (get_varint(&p, end, &key) != 1)
			return bad(why, why_size, "offset %zu: bad field key",
				   (size_t)(p - (const uint8_t *)payload));
		f = key >> 1;
		wire = key & 1;
		known = f < N_FIELDS && fields[f].name;
		if (f == 0)
			return bad(why, why_size, "field number 0");
		/* A text field may be a varint: a reference into the segment's string table. */
		if (known && fields[f].wire != wire &&
		    (fields[f].wire == JRECORD_WIRE_VARINT || f == JF_STRINGS))
			return bad(why, why_size, "field %llu (%s): wrong wire type %u",
				   (unsigned long long)f, field_name(f), wire);
		if (known) {
			if (seen & (1u << f))
				return bad(why, why_size, "field %llu (%s) repeated",
					   (unsigned long long)f, field_name(f));
			seen |= 1u << f;
		}
		err = get_varint(&p, end, &v);
		if (err != 1)
			return bad(why, why_size, "field %llu (%s): %s", (unsigned long long)f,
				   field_name(f), err ? "varint longer than 64 bits" : "cut short");
		if (wire == JRECORD_WIRE_BYTES) {
			if (v > (uint64_t)(end - p))
				return bad(why, why_size,
					   "field %llu (%s): length %llu past the end of the payload",
					   (unsigned long long)f, field_name(f), (unsigned long long)v);
			if (known && f != JF_STRINGS) {
				if (v > fields[f].max)
					return bad(why, why_size, "field %llu (%s): %llu bytes, at most %llu",
						   (unsigned long long)f, field_name(f),
						   (unsigned long long)v,
						   (unsigned long long)fields[f].max);
				if (memchr(p, '\0', v))
					return bad(why, why_size, "field %llu (%s): holds a NUL byte",
						   (unsigned long long)f, field_name(f));
				text[f] = p;
				text_len[f] = v;
			}
			if (f == JF_STRINGS) {
				/* First, so that a scan skipping the record still finds them. */
				if (seen != (1u << JF_STRINGS))
					return bad(why, why_size, "field 15 (strings): not the first field");
				if (t) {
					err = table_add(t, p, p + v, why, why_size);
					if (err)
						return err;
				}
			}
			p += v;
		} else if (known && fields[f].wire == JRECORD_WIRE_BYTES) {
			if (!t)
				return bad(why, why_size,
					   "field %llu (%s): a string reference without a string table",
					   (unsigned long long)f, field_name(f));
			if (v == 0 || v > JRECORD_STRINGS_MAX)
				return bad(why, why_size, "field %llu (%s): string id %llu out of range",
					   (unsigned long long)f, field_name(f), (unsigned long long)v);
			refs |= 1u << f;
			num[f] = v;
		} else if (known) {
			if (v > fields[f].max)
				return bad(why, why_size, "field %llu (%s): %llu out of range",
					   (unsigned long long)f, field_name(f),
					   (unsigned long long)v);
			num[f] = v;
		}
	}
	for (unsigned f = JF_TIME_NS; f <= JF_REASON; f++)
		if (!(seen & (1u << f)))
			return bad(why, why_size, "field %u (%s) missing", f, field_name(f));
	for (unsigned f = 1; f < N_FIELDS; f++) {
		if (refs & (1u << f)) {
			uint32_t id = (uint32_t)num[f];

			if (t->len[id] == UINT32_MAX) {
				/* Its definition was damaged: the rest of the record still counts. */
				snprintf(lost[f], sizeof(lost[f]), "<lost string %u>", id);
				text[f] = (const uint8_t *)lost[f];
				text_len[f] = strlen(lost[f]);
				/* A comm holds 16 bytes: its lost text is cut to fit, not refused. */
				if (f == JF_COMM && text_len[f] > ACTGATE_COMM_LEN)
					text_len[f] = ACTGATE_COMM_LEN;
				if (unresolved)
					(*unresolved)++;
			} else {
				text[f] = t->bytes + t->off[id];
				text_len[f] = t->len[id];
				if (f == JF_COMM && text_len[f] > ACTGATE_COMM_LEN)
					return bad(why, why_size,
						   "field 16 (comm): string %u has %llu bytes, at most 16",
						   id, (unsigned long long)text_len[f]);
			}
			num[f] = 0;
		} else if (!(seen & (1u << f))) {
			num[f] = 0;
			text[f] = NULL;
			text_len[f] = 0;
		}
		if (f >= JF_WORKLOAD)
			need += text_len[f];
	}
	rec->time_ns = num[JF_TIME_NS];
	rec->action = (uint8_t)num[JF_ACTION];
	rec->verdict = (uint8_t)num[JF_VERDICT];
	rec->mode = (uint8_t)num[JF_MODE];
	rec->reason = (uint8_t)num[JF_REASON];
	rec->access = (uint8_t)num[JF_ACCESS];
	if (rec->action == ACTGATE_ACTION_NONE || !strcmp(action_name(rec->action), "?"))
		return bad(why, why_size, "field 2 (action): unknown action %u", rec->action);
	if (!strcmp(verdict_name(rec->verdict), "?"))
		return bad(why, why_size, "field 3 (verdict): unknown verdict %u", rec->verdict);
	if (!strcmp(mode_name(rec->mode), "?"))
		return bad(why, why_size, "field 4 (mode): unknown mode %u", rec->mode);
	if (rec->access & ~ACTGATE_ACCESS_RECORDED)
		return bad(why, why_size, "field 13 (access): unknown bits 0x%x", rec->access);
	rec->workload_id = num[JF_WORKLOAD_ID];
	rec->cgroup_id = num[JF_CGROUP_ID];
	rec->pid = (uint32_t)num[JF_PID];
	rec->tgid = seen & (1u << JF_TGID) ? (uint32_t)num[JF_TGID] : rec->pid;
	rec->ppid = (uint32_t)num[JF_PPID];
	rec->uid = (uint32_t)num[JF_UID];
	rec->generation = (uint32_t)num[JF_GENERATION];
	rec->signal_generation = num[JF_SIGNAL_GENERATION];
	if (text_len[JF_COMM])
		memcpy(rec->comm, text[JF_COMM], text_len[JF_COMM]);
	rec->comm[text_len[JF_COMM]] = '\0';

	arena->len = 0;
	err = buf_reserve(arena, need);
	if (err)
		return err;
	out = (char *)arena->p;
	for (unsigned f = JF_WORKLOAD; f <= JF_LAST_TEXT; f++) {
		char *str = out;

		if (f == JF_SIGNALS && !(seen & (1u << f)))
			continue;
		if (text_len[f])
			memcpy(out, text[f], text_len[f]);
		out[text_len[f]] = '\0';
		out += text_len[f] + 1;
		*text_of(rec, f) = str;
	}
	arena->len = (size_t)(out - (char *)arena->p);
	return 0;
}

int jrecord_decode_view(const void *payload, size_t len, struct journal_record *rec,
			struct jrecord_buf *arena, char *why, size_t why_size)
{
	return jrecord_decode_table(payload, len, NULL, rec, arena, NULL, why, why_size);
}

int jrecord_decode(const void *payload, size_t len, struct journal_record *rec, char *why,
		   size_t why_size)
{
	struct jrecord_buf arena = { 0 };
	struct journal_record v;
	int err;

	journal_record_clear(rec);
	err = jrecord_decode_view(payload, len, &v, &arena, why, why_size);
	if (err)
		goto out;
	*rec = v;
	for (unsigned f = JF_WORKLOAD; f <= JF_LAST_TEXT; f++) {
		char **dst = text_of(rec, f);

		if (!*dst)
			continue; /* signals not recorded */
		*dst = strdup(*dst);
		if (!*dst) {
			/* The fields after f still point into the arena: no free of them. */
			for (unsigned g = f + 1; g <= JF_LAST_TEXT; g++)
				*text_of(rec, g) = NULL;
			journal_record_clear(rec);
			bad(why, why_size, "out of memory");
			err = -ENOMEM;
			break;
		}
	}
out:
	jrecord_buf_free(&arena);
	return err;
}

int jrecord_peek(const void *payload, size_t len, struct jrecord_head *h)
{
	const uint8_t *p = payload, *end = p + len;

	if (len < 1 || p[0] != JRECORD_VERSION)
		return 0;
	p++;
	/* Fields 1, 2, 3 first, as the writer orders them; anything else: decode it all. */
	for (unsigned f = JF_TIME_NS; f <= JF_VERDICT; f++) {
		uint64_t key, v;

		if (get_varint(&p, end, &key) != 1 || key != ((uint64_t)f << 1 | JRECORD_WIRE_VARINT) ||
		    get_varint(&p, end, &v) != 1 || v > fields[f].max)
			return 0;
		if (f == JF_TIME_NS)
			h->time_ns = v;
		else if (f == JF_ACTION)
			h->action = (uint8_t)v;
		else
			h->verdict = (uint8_t)v;
	}
	return 1;
}

int jrecord_peek_text(const void *payload, size_t len, const struct jrecord_table *t,
		      unsigned field, uint32_t *id, const uint8_t **text, size_t *n)
{
	const uint8_t *p = payload, *end = p + len;
	int found = 0;

	if (len < 1 || p[0] != JRECORD_VERSION)
		return -1;
	p++;
	/*
	 * Every field is looked at, not only up to the one asked for: a reader
	 * takes fields in any order, and a decision whose text this misread
	 * would be skipped where the decoder shows it.
	 */
	while (p < end) {
		uint64_t key, v;
		unsigned f;

		if (get_varint(&p, end, &key) != 1 || get_varint(&p, end, &v) != 1)
			return -1;
		f = (unsigned)(key >> 1);
		if (f == JF_STRINGS)
			return -1; /* definitions: the table must take them in */
		if ((key & 1) == JRECORD_WIRE_BYTES) {
			if (v > (uint64_t)(end - p))
				return -1;
			if (f == field) {
				if (found++)
					return -1;
				*id = 0;
				*text = p;
				*n = (size_t)v;
			}
			p += v;
		} else if (f == field) {
			if (found++ || v == 0 || v > JRECORD_STRINGS_MAX || t->len[v] == UINT32_MAX)
				return -1; /* repeated, out of range or lost: the decoder says which */
			*id = (uint32_t)v;
			*text = t->bytes + t->off[v];
			*n = t->len[v];
		}
	}
	if (!found) {
		*id = 0;
		*text = (const uint8_t *)"";
		*n = 0;
	}
	return found;
}
