/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Decision payloads: round trips, the exact bytes, and every kind of malformed payload. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "journal/record.h"

static struct journal_record sample(void)
{
	struct journal_record r = {
		.time_ns = 1795871657123456789ull,
		.action = ACTGATE_ACTION_OPEN,
		.verdict = ACTGATE_VERDICT_DENY,
		.mode = ACTGATE_MODE_AUDIT,
		.reason = ACTGATE_REASON_RULE,
		.workload_id = 7,
		.cgroup_id = 12345,
		.pid = 100,
		.tgid = 101,
		.ppid = 1,
		.uid = 1000,
		.generation = 3,
		.access = ACTGATE_ACCESS_READ | ACTGATE_ACCESS_WRITE,
		.comm = "sh",
		.workload = "ci-runner",
		.principal = "alice@example.com",
		.labels = "env=ci,team=infra",
		.policy = "watch",
		.rule = "watch:open.deny[1]",
		.target = "/etc/shadow",
		.signal_generation = 9,
		.signals = "risk=high",
	};
	return r;
}

static void assert_same(const struct journal_record *a, const struct journal_record *b)
{
	assert_true(a->time_ns == b->time_ns);
	assert_int_equal(a->action, b->action);
	assert_int_equal(a->verdict, b->verdict);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->reason, b->reason);
	assert_true(a->workload_id == b->workload_id);
	assert_true(a->cgroup_id == b->cgroup_id);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->tgid, b->tgid);
	assert_int_equal(a->ppid, b->ppid);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->generation, b->generation);
	assert_int_equal(a->access, b->access);
	assert_true(a->signal_generation == b->signal_generation);
	assert_string_equal(a->comm, b->comm);
	assert_string_equal(a->workload ? a->workload : "", b->workload);
	assert_string_equal(a->principal ? a->principal : "", b->principal);
	assert_string_equal(a->labels ? a->labels : "", b->labels);
	assert_string_equal(a->policy ? a->policy : "", b->policy);
	assert_string_equal(a->rule ? a->rule : "", b->rule);
	assert_string_equal(a->target ? a->target : "", b->target);
	if (a->signals)
		assert_string_equal(a->signals, b->signals);
	else
		assert_null(b->signals);
	assert_string_equal(a->target_name ? a->target_name : "", b->target_name);
	assert_string_equal(a->chain ? a->chain : "", b->chain);
	assert_string_equal(a->event_id ? a->event_id : "", b->event_id);
	assert_string_equal(a->issuer ? a->issuer : "", b->issuer);
	assert_string_equal(a->event_type ? a->event_type : "", b->event_type);
	assert_string_equal(a->subject ? a->subject : "", b->subject);
}

static void round_trip(const struct journal_record *in)
{
	struct jrecord_buf b = { 0 }, arena = { 0 };
	struct journal_record out = { 0 }, view;
	char why[128] = "";

	assert_int_equal(jrecord_encode(in, &b), 0);
	assert_int_equal(jrecord_decode(b.p, b.len, &out, why, sizeof(why)), 0);
	assert_same(in, &out);
	assert_int_equal(jrecord_decode_view(b.p, b.len, &view, &arena, why, sizeof(why)), 0);
	assert_same(in, &view);
	journal_record_clear(&out);
	jrecord_buf_free(&b);
	jrecord_buf_free(&arena);
}

static void test_round_trip(void **state)
{
	struct journal_record r = sample();

	(void)state;
	round_trip(&r);
	/* Signals not recorded (NULL) and recorded as none ("") stay apart. */
	r.signals = NULL;
	r.signal_generation = 0;
	round_trip(&r);
	r.signals = "";
	round_trip(&r);
	/* The daemon's own actions and their fields 24 to 29. */
	r.action = ACTGATE_ACTION_RESOLVE;
	r.target_name = "registry.npmjs.org";
	round_trip(&r);
	r.action = ACTGATE_ACTION_DELEGATE;
	r.chain = "alice > agent#4 > tool#5";
	round_trip(&r);
	r.action = ACTGATE_ACTION_SIGNAL;
	r.reason = ACTGATE_REASON_SIGNAL;
	r.event_id = "jti-1";
	r.issuer = "https://idp.example";
	r.event_type = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
	r.subject = "{\"format\":\"email\",\"email\":\"alice@example.com\"}";
	round_trip(&r);
	r.target_name = r.chain = r.event_id = r.issuer = r.event_type = r.subject = NULL;
	r.action = ACTGATE_ACTION_OPEN;
	/* tgid equal to pid is left out and comes back. */
	r.tgid = r.pid;
	round_trip(&r);
	/* Every field at its largest. */
	r.time_ns = UINT64_MAX;
	r.workload_id = UINT64_MAX;
	r.cgroup_id = UINT64_MAX;
	r.pid = r.ppid = r.uid = r.generation = UINT32_MAX;
	r.tgid = 0;
	r.signal_generation = UINT64_MAX;
	r.access = ACTGATE_ACCESS_RECORDED; /* every access, and link */
	r.reason = 255;
	strcpy(r.comm, "0123456789abcdef");
	r.target = "/tmp/a\tb\nc\x1b[31m\xff";
	round_trip(&r);
	/* Everything zero or empty: only the five required fields remain. */
	memset(&r, 0, sizeof(r));
	r.action = ACTGATE_ACTION_EXEC;
	round_trip(&r);
}

static void test_exact_bytes(void **state)
{
	struct journal_record r = { .time_ns = 300, .action = ACTGATE_ACTION_CONNECT,
				    .verdict = ACTGATE_VERDICT_DENY, .pid = 5, .tgid = 5,
				    .target = "1.2.3.4:443/tcp" };
	static const uint8_t want[] = { 1,	      /* version */
					0x02, 0xac, 0x02, /* time_ns 300 */
					0x04, 3,	  /* action connect */
					0x06, 1,	  /* verdict deny */
					0x08, 0,	  /* mode enforce */
					0x0a, 0,	  /* reason default */
					0x10, 5,	  /* pid 5; tgid left out */
					0x2d, 15, '1', '.', '2', '.', '3', '.', '4', ':', '4', '4',
					'3', '/', 't', 'c', 'p' };
	struct jrecord_buf b = { 0 };

	(void)state;
	assert_int_equal(jrecord_encode(&r, &b), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.p, want, sizeof(want));
	jrecord_buf_free(&b);
}

static void test_encode_refuses(void **state)
{
	struct journal_record r = sample();
	struct jrecord_buf b = { 0 };

	(void)state;
	r.action = 9;
	assert_int_equal(jrecord_encode(&r, &b), -EINVAL);
	r = sample();
	r.verdict = 2;
	assert_int_equal(jrecord_encode(&r, &b), -EINVAL);
	r = sample();
	r.access = 0x40;
	assert_int_equal(jrecord_encode(&r, &b), -EINVAL);
	jrecord_buf_free(&b);
}

struct bad_case {
	const char *what;
	uint8_t bytes[40];
	size_t len;
	const char *why; /* a substring of the reason */
};

#define REQ 0x02, 1, 0x04, 1, 0x06, 0, 0x08, 0, 0x0a, 0 /* the five required fields */

static void test_malformed(void **state)
{
	static const struct bad_case cases[] = {
		{ "empty", { 0 }, 0, "empty" },
		{ "version", { 2, REQ }, 11, "version 2" },
		{ "missing time", { 1, 0x04, 1, 0x06, 0, 0x08, 0, 0x0a, 0 }, 9, "(time_ns) missing" },
		{ "missing reason", { 1, 0x02, 1, 0x04, 1, 0x06, 0, 0x08, 0 }, 9, "(reason) missing" },
		{ "repeated", { 1, REQ, 0x10, 1, 0x10, 2 }, 15, "(pid) repeated" },
		{ "wire type", { 1, REQ, 0x11, 1, 'x' }, 14, "wrong wire type" },
		{ "key cut", { 1, REQ, 0x80 }, 12, "bad field key" },
		{ "varint cut", { 1, REQ, 0x10, 0x80 }, 13, "cut short" },
		{ "varint too long",
		  { 1, REQ, 0x1c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 },
		  22, "longer than 64 bits" },
		{ "pid range", { 1, REQ, 0x10, 0x80, 0x80, 0x80, 0x80, 0x10 }, 17, "(pid): 4294967296 out of range" },
		{ "action range", { 1, 0x02, 1, 0x04, 0x80, 0x02, 0x06, 0, 0x08, 0, 0x0a, 0 }, 12, "(action): 256 out of range" },
		{ "action unknown", { 1, 0x02, 1, 0x04, 8, 0x06, 0, 0x08, 0, 0x0a, 0 }, 11, "unknown action 8" },
		{ "action none", { 1, 0x02, 1, 0x04, 0, 0x06, 0, 0x08, 0, 0x0a, 0 }, 11, "unknown action 0" },
		{ "verdict", { 1, 0x02, 1, 0x04, 1, 0x06, 2, 0x08, 0, 0x0a, 0 }, 11, "unknown verdict 2" },
		{ "mode", { 1, 0x02, 1, 0x04, 1, 0x06, 0, 0x08, 5, 0x0a, 0 }, 11, "unknown mode 5" },
		{ "access", { 1, REQ, 0x1a, 0x40 }, 13, "unknown bits 0x40" },
		{ "length past end", { 1, REQ, 0x2d, 5, 'a', 'b' }, 15, "past the end" },
		{ "NUL", { 1, REQ, 0x2d, 3, 'a', 0, 'b' }, 16, "NUL" },
		{ "comm too long",
		  { 1, REQ, 0x21, 17, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
		    'a', 'a', 'a', 'a' },
		  30, "(comm): 17 bytes, at most 16" },
		{ "field 0", { 1, REQ, 0x00, 1 }, 13, "field number 0" },
		{ "unknown field cut", { 1, REQ, 0x7f, 9, 'x' }, 14, "past the end" },
	};
	struct journal_record rec = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[160] = "";
		int err = jrecord_decode(cases[i].bytes, cases[i].len, &rec, why, sizeof(why));

		if (err != -EINVAL || !strstr(why, cases[i].why))
			fail_msg("%s: got %d, why '%s', expected '%s'", cases[i].what, err, why,
				 cases[i].why);
		assert_null(rec.workload);
	}
}

static void test_unknown_fields_skipped(void **state)
{
	/* A newer writer's fields 40 (varint) and 41 (bytes) are skipped. */
	static const uint8_t p[] = { 1, REQ, 0x50, 0xff, 0x01, 0x53, 2, 'h', 'i', 0x10, 42 };
	struct journal_record rec = { 0 };
	char why[128] = "";

	(void)state;
	assert_int_equal(jrecord_decode(p, sizeof(p), &rec, why, sizeof(why)), 0);
	assert_int_equal(rec.pid, 42);
	assert_int_equal(rec.tgid, 42);
	assert_string_equal(rec.target, "");
	journal_record_clear(&rec);
}

/* Every prefix cut inside a field is refused; every flipped byte is refused or decodes: never a crash. */
static void test_cuts_and_flips(void **state)
{
	struct journal_record r = sample(), out = { 0 };
	struct jrecord_buf b = { 0 };
	size_t boundaries[64], n_bound = 0;
	char why[160];

	(void)state;
	assert_int_equal(jrecord_encode(&r, &b), 0);
	/* Field boundaries, found by re-encoding with fields added one by one is overkill:
	 * decode the key/length structure directly. */
	for (size_t off = 1; off < b.len;) {
		uint64_t key = 0, v = 0;
		unsigned shift = 0;

		boundaries[n_bound++] = off;
		do
			key |= (uint64_t)(b.p[off] & 0x7f) << shift, shift += 7;
		while (b.p[off++] & 0x80);
		shift = 0;
		do
			v |= (uint64_t)(b.p[off] & 0x7f) << shift, shift += 7;
		while (b.p[off++] & 0x80);
		if (key & 1)
			off += v;
	}
	boundaries[n_bound++] = b.len;
	for (size_t cut = 0; cut < b.len; cut++) {
		bool at_boundary = false;
		int err;

		for (size_t k = 0; k < n_bound; k++)
			at_boundary |= boundaries[k] == cut;
		err = jrecord_decode(b.p, cut, &out, why, sizeof(why));
		if (!at_boundary)
			assert_int_equal(err, -EINVAL);
		/* At a boundary past the required fields a shorter record is well-formed: the
		 * frame's length and CRC, not the payload, protect against a cut. */
		journal_record_clear(&out);
	}
	for (size_t i = 0; i < b.len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			b.p[i] ^= (uint8_t)(1u << bit);
			(void)jrecord_decode(b.p, b.len, &out, why, sizeof(why));
			journal_record_clear(&out);
			b.p[i] ^= (uint8_t)(1u << bit);
		}
	}
	jrecord_buf_free(&b);
}

static void test_peek(void **state)
{
	static const uint8_t reordered[] = { 1, 0x04, 1, 0x02, 1, 0x06, 0, 0x08, 0, 0x0a, 0 };
	struct journal_record r = sample();
	struct jrecord_buf b = { 0 };
	struct jrecord_head h;

	(void)state;
	assert_int_equal(jrecord_encode(&r, &b), 0);
	assert_int_equal(jrecord_peek(b.p, b.len, &h), 1);
	assert_true(h.time_ns == r.time_ns);
	assert_int_equal(h.action, r.action);
	assert_int_equal(h.verdict, r.verdict);
	/* Cut inside the first fields, or another order: no answer, decode it all. */
	assert_int_equal(jrecord_peek(b.p, 4, &h), 0);
	assert_int_equal(jrecord_peek(b.p, 0, &h), 0);
	assert_int_equal(jrecord_peek(reordered, sizeof(reordered), &h), 0);
	b.p[0] = 2;
	assert_int_equal(jrecord_peek(b.p, b.len, &h), 0);
	jrecord_buf_free(&b);
}

/* Decode p with table t into a record that owns nothing (arena kept by the caller). */
static int decode_t(struct jrecord_buf *b, struct jrecord_table *t, struct journal_record *out,
		    struct jrecord_buf *arena, unsigned *unresolved, char *why)
{
	return jrecord_decode_table(b->p, b->len, t, out, arena, unresolved, why, 160);
}

static void test_string_table(void **state)
{
	struct journal_record r = sample(), out;
	struct jrecord_buf b1 = { 0 }, b2 = { 0 }, arena = { 0 };
	struct jrecord_dict *d;
	struct jrecord_table *t;
	unsigned unresolved;
	char why[160] = "";

	(void)state;
	assert_int_equal(jrecord_dict_new(&d), 0);
	assert_int_equal(jrecord_table_new(&t), 0);
	/* The first record defines its strings (field 15, first), the second refers to them. */
	assert_int_equal(jrecord_encode_dict(&r, d, &b1), 0);
	assert_int_equal(b1.p[1], JF_STRINGS << 1 | JRECORD_WIRE_BYTES);
	r.pid = 4242;
	assert_int_equal(jrecord_encode_dict(&r, d, &b2), 0);
	assert_int_not_equal(b2.p[1], JF_STRINGS << 1 | JRECORD_WIRE_BYTES);
	assert_true(b2.len < 64); /* every text of 3 bytes or more by a 2-byte reference */
	assert_int_equal(jrecord_dict_count(d), 7); /* "sh" stays inline: too short */
	assert_int_equal(decode_t(&b1, t, &out, &arena, &unresolved, why), 0);
	assert_int_equal(unresolved, 0);
	r.pid = 100;
	assert_same(&r, &out);
	assert_int_equal(decode_t(&b2, t, &out, &arena, &unresolved, why), 0);
	r.pid = 4242;
	assert_same(&r, &out);
	/* Without the first record (damaged, or another segment): returned, the texts lost. */
	jrecord_table_reset(t);
	assert_int_equal(decode_t(&b2, t, &out, &arena, &unresolved, why), 0);
	assert_int_equal(unresolved, 7);
	assert_int_equal(out.pid, 4242);
	assert_string_equal(out.workload, "<lost string 1>");
	assert_string_equal(out.target, "<lost string 6>");
	assert_string_equal(out.comm, "sh");
	/* A lost comm (16 bytes at most) reads the first 16 of its text: the record still counts. */
	{
		static const uint8_t lost_comm[] = { 1, 2, 1, 4, 1, 6, 0, 8, 0, 10, 0,
						     32, 0xb9, 0x60 /* comm: string 12345 */ };
		struct jrecord_buf b4 = { .p = (uint8_t *)lost_comm, .len = sizeof(lost_comm) };

		assert_int_equal(decode_t(&b4, t, &out, &arena, &unresolved, why), 0);
		assert_int_equal(unresolved, 1);
		assert_string_equal(out.comm, "<lost string 123");
	}
	/* A definition fed without decoding (a scan that skipped the record) counts too. */
	assert_int_equal(jrecord_table_feed(t, b1.p, b1.len, why, sizeof(why)), 0);
	assert_int_equal(decode_t(&b2, t, &out, &arena, &unresolved, why), 0);
	assert_int_equal(unresolved, 0);
	assert_string_equal(out.workload, "ci-runner");
	/* The same definitions again (a repeated record) are fine; different ones are refused. */
	assert_int_equal(decode_t(&b1, t, &out, &arena, &unresolved, why), 0);
	{
		struct journal_record other = sample();
		struct jrecord_dict *d2;
		struct jrecord_buf b3 = { 0 };

		assert_int_equal(jrecord_dict_new(&d2), 0);
		other.workload = "someone-else";
		assert_int_equal(jrecord_encode_dict(&other, d2, &b3), 0);
		assert_int_equal(decode_t(&b3, t, &out, &arena, &unresolved, why), -EINVAL);
		assert_non_null(strstr(why, "string 1 defined twice in this segment, differently"));
		/* ... and the first definition stays. */
		assert_int_equal(decode_t(&b2, t, &out, &arena, &unresolved, why), 0);
		assert_string_equal(out.workload, "ci-runner");
		jrecord_dict_free(d2);
		jrecord_buf_free(&b3);
	}
	/* References without a table are malformed; definitions without one are skipped. */
	assert_int_equal(jrecord_decode_view(b2.p, b2.len, &out, &arena, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "a string reference without a string table"));
	/* After a reset the dictionary defines again. */
	jrecord_dict_reset(d);
	assert_int_equal(jrecord_encode_dict(&r, d, &b2), 0);
	assert_int_equal(b2.p[1], JF_STRINGS << 1 | JRECORD_WIRE_BYTES);
	jrecord_dict_free(d);
	jrecord_table_free(t);
	jrecord_buf_free(&b1);
	jrecord_buf_free(&b2);
	jrecord_buf_free(&arena);
}

static void test_string_table_malformed(void **state)
{
	static const struct bad_case cases[] = {
		{ "strings not first", { 1, REQ, 0x1f, 3, 1, 1, 'a' }, 16, "not the first field" },
		{ "strings as varint", { 1, 0x1e, 1, REQ }, 13, "(strings): wrong wire type" },
		{ "id 0", { 1, 0x1f, 3, 0, 1, 'a', REQ }, 16, "id 0 out of range" },
		{ "id too big", { 1, 0x1f, 5, 0x81, 0x80, 0x04, 1, 'a', REQ }, 18, "id 65537 out of range" },
		{ "entry cut", { 1, 0x1f, 1, 1, REQ }, 14, "entry cut short" },
		{ "string past end", { 1, 0x1f, 3, 1, 5, 'a', REQ }, 16, "past the end" },
		{ "NUL", { 1, 0x1f, 4, 1, 2, 'a', 0, REQ }, 17, "holds a NUL" },
		{ "ref 0", { 1, REQ, 0x2c, 0 }, 13, "string id 0 out of range" },
		{ "ref too big", { 1, REQ, 0x2c, 0x81, 0x80, 0x04 }, 15, "string id 65537 out of range" },
		{ "long comm", { 1, 0x1f, 20, 1, 18, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
				 'a', 'a', 'a', 'a', 'a', 'a', 'a', REQ, 0x20, 1 }, 35,
		  "string 1 has 18 bytes, at most 16" },
	};
	struct jrecord_buf arena = { 0 };
	struct journal_record rec;
	struct jrecord_table *t;

	(void)state;
	assert_int_equal(jrecord_table_new(&t), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[160] = "";
		int err;

		jrecord_table_reset(t);
		err = jrecord_decode_table(cases[i].bytes, cases[i].len, t, &rec, &arena, NULL, why,
					   sizeof(why));
		if (err != -EINVAL || !strstr(why, cases[i].why))
			fail_msg("%s: got %d, why '%s', expected '%s'", cases[i].what, err, why,
				 cases[i].why);
	}
	jrecord_table_free(t);
	jrecord_buf_free(&arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_unknown_fields_skipped),
		cmocka_unit_test(test_cuts_and_flips),
		cmocka_unit_test(test_peek),
		cmocka_unit_test(test_string_table),
		cmocka_unit_test(test_string_table_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
