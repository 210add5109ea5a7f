// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Decision payloads (jrecord.h, docs/journal-format.md). The decoder treats
 * the payload as hostile: a journal may come from a compromised host, so
 * every length is checked against what is left, every varint against its
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

#include "jrecord.h"

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

int jrecord_encode(const struct journal_record *r, struct jrecord_buf *b)
{
	size_t comm_len, text_len[7], need;
	int err;

	b->len = 0;
	if (!strcmp(action_name(r->action), "?") || !strcmp(verdict_name(r->verdict), "?") ||
	    !strcmp(mode_name(r->mode), "?") || (r->access & ~ACTGATE_ACCESS_RECORDED) ||
	    strnlen(r->comm, sizeof(r->comm)) > ACTGATE_COMM_LEN)
		return -EINVAL;
	comm_len = strnlen(r->comm, sizeof(r->comm));
	text_len[0] = len_of(r->workload);
	text_len[1] = len_of(r->principal);
	text_len[2] = len_of(r->labels);
	text_len[3] = len_of(r->policy);
	text_len[4] = len_of(r->rule);
	text_len[5] = len_of(r->target);
	text_len[6] = len_of(r->signals);
	/* The version, 15 numbers and 8 texts, each key and varint at most 2 + 10 bytes. */
	need = 1 + 24 * 12 + comm_len;
	for (size_t i = 0; i < 7; i++)
		need += text_len[i];
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
	put_text(b, JF_COMM, r->comm, comm_len, false);
	put_text(b, JF_WORKLOAD, r->workload, text_len[0], false);
	put_text(b, JF_PRINCIPAL, r->principal, text_len[1], false);
	put_text(b, JF_LABELS, r->labels, text_len[2], false);
	put_text(b, JF_POLICY, r->policy, text_len[3], false);
	put_text(b, JF_RULE, r->rule, text_len[4], false);
	put_text(b, JF_TARGET, r->target, text_len[5], false);
	if (r->signals)
		put_text(b, JF_SIGNALS, r->signals, text_len[6], true);
	return 0;
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
	[JF_COMM] = { "comm", JRECORD_WIRE_BYTES, ACTGATE_COMM_LEN },
	[JF_WORKLOAD] = { "workload", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_PRINCIPAL] = { "principal", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_LABELS] = { "labels", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_POLICY] = { "policy", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_RULE] = { "rule", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_TARGET] = { "target", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
	[JF_SIGNALS] = { "signals", JRECORD_WIRE_BYTES, JRECORD_MAX_TEXT },
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

/*
 * Decode with strings as (pointer, length) into the payload, then copy them
 * into arena as C strings. Unknown fields of a known wire type are skipped:
 * a newer writer may add fields an older reader does not show.
 */
int jrecord_decode_view(const void *payload, size_t len, struct journal_record *rec,
			struct jrecord_buf *arena, char *why, size_t why_size)
{
	const uint8_t *p = payload, *end = p + len;
	/* Filled where seen has the field's bit; the rest is never read (no zeroing per record). */
	const uint8_t *text[N_FIELDS];
	uint64_t text_len[N_FIELDS], num[N_FIELDS];
	uint32_t seen = 0;
	char *out;
	int err;

	memset(rec, 0, sizeof(*rec));
	if (len == 0)
		return bad(why, why_size, "empty payload");
	if (p[0] != JRECORD_VERSION)
		return bad(why, why_size, "payload version %u (this reader knows %u)", p[0],
			   JRECORD_VERSION);
	p++;
	while (p < end) {
		uint64_t key, f, v;
		unsigned wire;

		if (get_varint(&p, end, &key) != 1)
			return bad(why, why_size, "offset %zu: bad field key",
				   (size_t)(p - (const uint8_t *)payload));
		f = key >> 1;
		wire = key & 1;
		if (f == 0)
			return bad(why, why_size, "field number 0");
		if (f < N_FIELDS && fields[f].name && fields[f].wire != wire)
			return bad(why, why_size, "field %llu (%s): wrong wire type %u",
				   (unsigned long long)f, field_name(f), wire);
		if (f < N_FIELDS && fields[f].name) {
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
			if (f < N_FIELDS && fields[f].name) {
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
			p += v;
		} else if (f < N_FIELDS && fields[f].name) {
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
		if (seen & (1u << f))
			continue;
		num[f] = 0;
		text[f] = NULL;
		text_len[f] = 0;
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
	memcpy(rec->comm, text[JF_COMM] ? (const char *)text[JF_COMM] : "", text_len[JF_COMM]);
	rec->comm[text_len[JF_COMM]] = '\0';

	/* Every string fits: the texts are inside the payload, plus one NUL each. */
	arena->len = 0;
	err = buf_reserve(arena, len + N_FIELDS);
	if (err)
		return err;
	out = (char *)arena->p;
	for (unsigned f = JF_WORKLOAD; f <= JF_SIGNALS; f++) {
		char *s = out;

		if (f == JF_SIGNALS && !(seen & (1u << f)))
			continue;
		if (text_len[f])
			memcpy(out, text[f], text_len[f]);
		out[text_len[f]] = '\0';
		out += text_len[f] + 1;
		switch (f) {
		case JF_WORKLOAD: rec->workload = s; break;
		case JF_PRINCIPAL: rec->principal = s; break;
		case JF_LABELS: rec->labels = s; break;
		case JF_POLICY: rec->policy = s; break;
		case JF_RULE: rec->rule = s; break;
		case JF_TARGET: rec->target = s; break;
		case JF_SIGNALS: rec->signals = s; break;
		}
	}
	arena->len = (size_t)(out - (char *)arena->p);
	return 0;
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
	rec->workload = strdup(v.workload);
	rec->principal = strdup(v.principal);
	rec->labels = strdup(v.labels);
	rec->policy = strdup(v.policy);
	rec->rule = strdup(v.rule);
	rec->target = strdup(v.target);
	rec->signals = v.signals ? strdup(v.signals) : NULL;
	if (!rec->workload || !rec->principal || !rec->labels || !rec->policy || !rec->rule ||
	    !rec->target || (v.signals && !rec->signals)) {
		journal_record_clear(rec);
		bad(why, why_size, "out of memory");
		err = -ENOMEM;
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
