/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * One query through the resolver (daemon/resolver.c) against a test
 * responder on loopback: allowed names are forwarded and their addresses
 * learned (TTL clamped) before the answer is returned, denied names are
 * refused without reaching the upstream, a silent upstream is SERVFAIL.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/types.h>

#include "actgate/abi.h"
#include "daemon/dnsmsg.h"
#include "daemon/resolver.h"
#include "daemon/dnsserver.h"
#include "daemon/resolvehost.h"
#include "dns_build.h"
#include "policy/compile.h"
#include "policy/names.h"
#include "test_policy.h"

static const uint8_t ip1[4] = { 127, 0, 0, 21 };
static const uint8_t ip6[16] = { [15] = 1 };

struct responder {
	int fd;
	struct sockaddr_in addr;
	int answered;
	pthread_t thread;
};

/* Answers one query: a CNAME to edge.example, its A (TTL 1) and AAAA (TTL 99999). */
static void *respond(void *arg)
{
	struct responder *r = arg;
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	uint8_t buf[512];
	struct dns_question q;
	struct dns_build b;
	ssize_t n = recvfrom(r->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

	if (n <= 0 || dns_parse_query(buf, (size_t)n, &q))
		return NULL;
	r->answered++;
	db_header(&b, q.id, 0x8180, 1, 3, 0, 0);
	db_question(&b, q.name, q.qtype);
	db_cname(&b, "@", 99998, "edge.example");
	db_a(&b, "edge.example", 1, ip1);
	db_aaaa(&b, "edge.example", 99999, ip6);
	sendto(r->fd, b.buf, b.len, 0, (struct sockaddr *)&from, fl);
	return NULL;
}

static void responder_start(struct responder *r, bool answer)
{
	socklen_t l = sizeof(r->addr);

	memset(r, 0, sizeof(*r));
	r->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(r->fd >= 0);
	r->addr.sin_family = AF_INET;
	r->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(r->fd, (struct sockaddr *)&r->addr, sizeof(r->addr)), 0);
	assert_int_equal(getsockname(r->fd, (struct sockaddr *)&r->addr, &l), 0);
	if (answer)
		assert_int_equal(pthread_create(&r->thread, NULL, respond, r), 0);
}

static void responder_stop(struct responder *r, bool answer)
{
	if (answer)
		pthread_join(r->thread, NULL);
	close(r->fd);
}

struct asker {
	const char *allowed;    /* the one name the fake policy allows */
	struct dns_address learned[8];
	uint32_t ttl[8];
	int learn_count;
	int records;
	uint8_t last_verdict, last_rcode;
};

static int fake_decide(void *ctx, const char *name, struct name_decision *d)
{
	struct asker *a = ctx;

	if (strcmp(name, "undecidable.example") == 0)
		return -EINVAL; /* as name_matcher_decide may, without a verdict */
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->verdict = strcmp(name, a->allowed) ? ACTGATE_VERDICT_DENY : ACTGATE_VERDICT_ALLOW;
	d->reason = d->verdict ? ACTGATE_REASON_NAME : ACTGATE_REASON_RULE;
	return 0;
}

static int fake_learn(void *ctx, const struct dns_address *addr, uint32_t ttl,
		      const struct name_decision *d)
{
	struct asker *a = ctx;

	(void)d;
	if (a->learn_count == 8)
		return -ENOSPC;
	a->learned[a->learn_count] = *addr;
	a->ttl[a->learn_count++] = ttl;
	return 0;
}

static void fake_record(void *ctx, const struct name_decision *d, uint8_t rcode)
{
	struct asker *a = ctx;

	a->records++;
	a->last_verdict = d->verdict;
	a->last_rcode = rcode;
}

static const struct resolver_ops ops = { fake_decide, fake_learn, fake_record };
static const struct resolver_limits lim = { .ttl_min = 5, .ttl_max = 3600, .timeout_ms = 2000 };

static void test_allowed(void **state)
{
	struct responder r;
	struct asker a = { .allowed = "www.example.com" };
	struct dns_build qb;
	struct dns_question q;
	struct dns_answer ans;
	uint8_t out[512];
	int n;

	(void)state;
	responder_start(&r, true);
	db_query(&qb, 77, "WWW.example.com", DNS_TYPE_A);
	n = resolver_answer(&lim, &ops, &a, (struct sockaddr *)&r.addr, sizeof(r.addr), false, qb.buf,
			    qb.len, out, sizeof(out));
	responder_stop(&r, true);
	assert_true(n > 0);
	assert_int_equal(r.answered, 1);
	assert_int_equal(dns_parse_query(qb.buf, qb.len, &q), 0);
	assert_int_equal(dns_parse_answer(out, (size_t)n, &q, &ans), 0);
	assert_int_equal(ans.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(ans.count, 2);
	/* Both learned before resolver_answer handed the answer back, TTLs clamped. */
	assert_int_equal(a.learn_count, 2);
	assert_memory_equal(a.learned[0].addr, ip1, 4);
	assert_int_equal(a.ttl[0], 5);
	assert_memory_equal(a.learned[1].addr, ip6, 16);
	assert_int_equal(a.ttl[1], 3600);
	assert_int_equal(a.records, 1);
	assert_int_equal(a.last_verdict, ACTGATE_VERDICT_ALLOW);
}

static void test_denied(void **state)
{
	struct responder r;
	struct asker a = { .allowed = "www.example.com" };
	struct dns_build qb;
	uint8_t out[512];
	int n;

	(void)state;
	responder_start(&r, false);
	db_query(&qb, 78, "secret.attacker.example", DNS_TYPE_A);
	n = resolver_answer(&lim, &ops, &a, (struct sockaddr *)&r.addr, sizeof(r.addr), false, qb.buf,
			    qb.len, out, sizeof(out));
	/* Nothing reached the upstream: the name itself never left the host. */
	char probe[4];

	assert_int_equal(recv(r.fd, probe, sizeof(probe), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	responder_stop(&r, false);
	assert_int_equal(n, (int)qb.len);
	assert_int_equal(dns_rcode(out), DNS_RCODE_REFUSED);
	assert_int_equal(a.learn_count, 0);
	assert_int_equal(a.records, 1);
	assert_int_equal(a.last_verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(a.last_rcode, DNS_RCODE_REFUSED);

	/* A decision that failed is refused and recorded as a deny, never an allow. */
	db_query(&qb, 81, "undecidable.example", DNS_TYPE_A);
	n = resolver_answer(&lim, &ops, &a, (struct sockaddr *)&r.addr, sizeof(r.addr), false,
			    qb.buf, qb.len, out, sizeof(out));
	assert_int_equal(dns_rcode(out), DNS_RCODE_REFUSED);
	assert_int_equal(a.records, 2);
	assert_int_equal(a.last_verdict, ACTGATE_VERDICT_DENY);
}

static void test_silent_upstream(void **state)
{
	struct responder r;
	struct asker a = { .allowed = "www.example.com" };
	struct resolver_limits quick = lim;
	struct dns_build qb;
	uint8_t out[512];
	int n;

	(void)state;
	quick.timeout_ms = 50;
	responder_start(&r, false);
	db_query(&qb, 79, "www.example.com", DNS_TYPE_A);
	n = resolver_answer(&quick, &ops, &a, (struct sockaddr *)&r.addr, sizeof(r.addr), false, qb.buf,
			    qb.len, out, sizeof(out));
	responder_stop(&r, false);
	assert_true(n > 0);
	assert_int_equal(dns_rcode(out), DNS_RCODE_SERVFAIL);
	assert_int_equal(a.learn_count, 0);
	assert_int_equal(a.last_rcode, DNS_RCODE_SERVFAIL);
}

/* The TCP responder: one connection, one length-prefixed query, the same answer. */
static void *respond_tcp(void *arg)
{
	struct responder *r = arg;
	uint8_t buf[512], head[2];
	struct dns_question q;
	struct dns_build b;
	int c = accept(r->fd, NULL, NULL);
	size_t n;

	if (c < 0)
		return NULL;
	if (recv(c, head, 2, MSG_WAITALL) != 2)
		goto out;
	n = (size_t)head[0] << 8 | head[1];
	if (n > sizeof(buf) || recv(c, buf, n, MSG_WAITALL) != (ssize_t)n ||
	    dns_parse_query(buf, n, &q))
		goto out;
	r->answered++;
	db_header(&b, q.id, 0x8180, 1, 1, 0, 0);
	db_question(&b, q.name, q.qtype);
	db_a(&b, "@", 60, ip1);
	head[0] = (uint8_t)(b.len >> 8);
	head[1] = (uint8_t)b.len;
	send(c, head, 2, 0);
	send(c, b.buf, b.len, 0);
out:
	close(c);
	return NULL;
}

static void test_tcp(void **state)
{
	struct responder r;
	struct asker a = { .allowed = "www.example.com" };
	struct dns_build qb;
	socklen_t l = sizeof(r.addr);
	uint8_t out[512];
	int n;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(r.fd >= 0);
	r.addr.sin_family = AF_INET;
	r.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(r.fd, (struct sockaddr *)&r.addr, sizeof(r.addr)), 0);
	assert_int_equal(getsockname(r.fd, (struct sockaddr *)&r.addr, &l), 0);
	assert_int_equal(listen(r.fd, 1), 0);
	assert_int_equal(pthread_create(&r.thread, NULL, respond_tcp, &r), 0);
	db_query(&qb, 80, "www.example.com", DNS_TYPE_A);
	n = resolver_answer(&lim, &ops, &a, (struct sockaddr *)&r.addr, sizeof(r.addr), true,
			    qb.buf, qb.len, out, sizeof(out));
	pthread_join(r.thread, NULL);
	close(r.fd);
	assert_true(n > 0);
	assert_int_equal(r.answered, 1);
	assert_int_equal(dns_rcode(out), DNS_RCODE_NOERROR);
	assert_int_equal(a.learn_count, 1);
	assert_memory_equal(a.learned[0].addr, ip1, 4);
	assert_int_equal(a.ttl[0], 60);
}

/* The policy side's matcher deciding: a wildcard rule, the chain's ports. */
struct policy_asker {
	struct name_matcher *m;
	int learn_count;
	uint16_t port_lo;
	uint8_t last_verdict;
};

static int matcher_decide(void *ctx, const char *name, struct name_decision *d)
{
	return name_matcher_decide(((struct policy_asker *)ctx)->m, name, d);
}

static int matcher_learn(void *ctx, const struct dns_address *addr, uint32_t ttl,
			 const struct name_decision *d)
{
	struct policy_asker *a = ctx;

	(void)addr;
	(void)ttl;
	a->learn_count++;
	a->port_lo = d->port_count ? d->ports[0].port_lo : 0;
	return 0;
}

static void matcher_record(void *ctx, const struct name_decision *d, uint8_t rcode)
{
	(void)rcode;
	((struct policy_asker *)ctx)->last_verdict = d->verdict;
}

static void test_with_policy(void **state)
{
	static const struct resolver_ops mops = { matcher_decide, matcher_learn, matcher_record };
	struct workload_identity id = { .name = "w" };
	struct parsed p = { 0 };
	struct policy_asker a = { 0 };
	struct responder r;
	struct dns_build qb;
	uint8_t out[512];
	int n;

	(void)state;
	parse(&p, HEAD "  connect: {default: deny, allow: [\"*.example.com:443\"]}\n");
	assert_int_equal(p.ret, 0);
	assert_int_equal(name_matcher_build_for(&p.set, &id, NULL, &a.m), 0);

	/* Outside the list: refused, and the upstream never hears of it. */
	responder_start(&r, false);
	db_query(&qb, 90, "example.com", DNS_TYPE_A);
	n = resolver_answer(&lim, &mops, &a, (struct sockaddr *)&r.addr, sizeof(r.addr), false,
			    qb.buf, qb.len, out, sizeof(out));
	responder_stop(&r, false);
	assert_true(n > 0);
	assert_int_equal(dns_rcode(out), DNS_RCODE_REFUSED);
	assert_int_equal(a.last_verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(a.learn_count, 0);

	/* A name the matcher cannot read (a label ending in '-'): refused, recorded denied. */
	a.last_verdict = ACTGATE_VERDICT_ALLOW;
	db_query(&qb, 92, "bad-.example.com", DNS_TYPE_A);
	n = resolver_answer(&lim, &mops, &a, (struct sockaddr *)&r.addr, sizeof(r.addr), false,
			    qb.buf, qb.len, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(dns_rcode(out), DNS_RCODE_REFUSED);
	assert_int_equal(a.last_verdict, ACTGATE_VERDICT_DENY);

	/* A name the wildcard covers: learned for port 443 through its CNAME. */
	responder_start(&r, true);
	db_query(&qb, 91, "a.b.Example.com", DNS_TYPE_A);
	n = resolver_answer(&lim, &mops, &a, (struct sockaddr *)&r.addr, sizeof(r.addr), false,
			    qb.buf, qb.len, out, sizeof(out));
	responder_stop(&r, true);
	assert_true(n > 0);
	assert_int_equal(dns_rcode(out), DNS_RCODE_NOERROR);
	assert_int_equal(a.last_verdict, ACTGATE_VERDICT_ALLOW);
	assert_int_equal(a.learn_count, 2);
	assert_int_equal(a.port_lo, 443);

	name_matcher_free(a.m);
	parsed_free(&p);
}

/* ---- the daemon's asker (daemon/resolvehost.c): its matcher, the learned set, records ---- */

struct kept {
	int puts;
	struct actgate_learned_key key;
	struct actgate_learned val;
	int records;
	struct journal_record last;
	char target_name[256], rule[256];
};

static int kept_put(void *ctx, const struct actgate_learned_key *k, const struct actgate_learned *v)
{
	struct kept *kp = ctx;

	kp->puts++;
	kp->key = *k;
	kp->val = *v;
	return 0;
}

static int kept_remove(void *ctx, const struct actgate_learned_key *k)
{
	(void)ctx, (void)k;
	return 0;
}

static void kept_write(void *ctx, struct journal_record *r)
{
	struct kept *kp = ctx;

	kp->records++;
	kp->last = *r;
	snprintf(kp->target_name, sizeof(kp->target_name), "%s", r->target_name);
	snprintf(kp->rule, sizeof(kp->rule), "%s", r->rule);
}

static void test_resolve_host(void **state)
{
	struct workload w = { .id = 77, .name = "w", .principal = "", .labels = "",
			      .cgroup_path = "/w", .cgroup_id = 5, .policy_id = 9, .policies = "t" };
	struct parsed p = { 0 };
	struct policy_image img = { 0 };
	struct diag_list diags = { 0 };
	struct learned_table *t;
	struct learned_counts c;
	struct kept kp = { 0 };
	struct resolve_asker ra = { 0 };
	struct dns_asker da = { .workload = &ra };
	struct responder r = { 0 }; /* not started for the refusal: nothing is forwarded */
	struct dns_build qb;
	uint8_t out[512];
	int n;

	(void)state;
	parse(&p, HEAD "  connect: {default: deny, allow: [\"*.example.com:443\"]}\n");
	assert_int_equal(p.ret, 0);
	assert_int_equal(policy_compile(&p.set, 3, resolve_path_stat, NULL, &img, &diags), 0);
	assert_int_equal(learned_open(&t, 16, &(struct learned_store){ &kp, kept_put, kept_remove }),
			 0);
	ra = (struct resolve_asker){ .w = &w, .set = &p.set, .image = &img, .learned = t,
				     .now_boot_ns = 1000ull * 1000000000ull, .write = kept_write,
				     .write_ctx = &kp };

	/* Outside the list: refused, recorded as resolve deny reason name with the name. */
	db_query(&qb, 93, "secret.attacker.example", DNS_TYPE_A);
	n = resolver_answer(&lim, &resolve_asker_ops, &da, (struct sockaddr *)&r.addr,
			    sizeof(r.addr), false, qb.buf, qb.len, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(dns_rcode(out), DNS_RCODE_REFUSED);
	assert_int_equal(kp.records, 1);
	assert_int_equal(kp.last.action, ACTGATE_ACTION_RESOLVE);
	assert_int_equal(kp.last.verdict, ACTGATE_VERDICT_DENY);
	assert_int_equal(kp.last.reason, ACTGATE_REASON_NAME);
	assert_int_equal(kp.last.workload_id, 77);
	assert_string_equal(kp.target_name, "secret.attacker.example");
	assert_string_equal(kp.rule, "t:connect.default");
	assert_int_equal(kp.puts, 0);

	/* Allowed through the wildcard: both addresses learned for 443, keyed by policy 9. */
	responder_start(&r, true);
	db_query(&qb, 94, "a.b.Example.com", DNS_TYPE_A);
	n = resolver_answer(&lim, &resolve_asker_ops, &da, (struct sockaddr *)&r.addr,
			    sizeof(r.addr), false, qb.buf, qb.len, out, sizeof(out));
	responder_stop(&r, true);
	assert_true(n > 0);
	assert_int_equal(dns_rcode(out), DNS_RCODE_NOERROR);
	assert_int_equal(kp.puts, 2);
	assert_int_equal(kp.key.workload_id, 77);
	assert_int_equal(kp.key.policy_id, 9);
	assert_int_equal(kp.val.port[0].port_lo, 443);
	assert_int_equal(kp.val.port[0].port_hi, 443);
	assert_int_not_equal(kp.val.port[0].rule_id, 0);
	assert_string_equal(learned_name(t, kp.val.port[0].name_id), "a.b.example.com");
	assert_int_equal(kp.records, 2);
	assert_int_equal(kp.last.verdict, ACTGATE_VERDICT_ALLOW);
	assert_string_equal(kp.target_name, "a.b.example.com");
	assert_string_equal(kp.rule, "t:connect.allow[0]");
	learned_get_counts(t, &c);
	assert_int_equal(c.entries, 2);

	resolve_asker_done(&ra);
	learned_close(t);
	policy_image_free(&img);
	diag_list_free(&diags);
	parsed_free(&p);
}

/* Not a query: FORMERR, nothing decided. */
static void test_garbage(void **state)
{
	struct asker a = { .allowed = "x" };
	uint8_t junk[12] = { 1, 2, 0x80 }, out[64];
	struct sockaddr_in nowhere = { .sin_family = AF_INET };

	(void)state;
	assert_int_equal(resolver_answer(&lim, &ops, &a, (struct sockaddr *)&nowhere,
					 sizeof(nowhere), false, junk, sizeof(junk), out, sizeof(out)),
			 12);
	assert_int_equal(dns_rcode(out), DNS_RCODE_FORMERR);
	assert_int_equal(a.records, 0);
	assert_int_equal(resolver_answer(&lim, &ops, &a, (struct sockaddr *)&nowhere,
					 sizeof(nowhere), false, junk, 5, out, sizeof(out)),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_denied),
		cmocka_unit_test(test_silent_upstream),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_with_policy),
		cmocka_unit_test(test_resolve_host),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
