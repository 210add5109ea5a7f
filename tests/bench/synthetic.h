/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Synthetic decisions for the journal benchmarks (bench_journal, bench_export,
 * bench_jquery): made before any clock starts (the kernel and the daemon's
 * enrichment make real ones, not the journal), from a fixed seed so that
 * every run writes the same journal.
 *
 * synthetic_decision: a few workloads, paths and rules, pids and the odd
 * denial varying (the encoding's and the scan's cost).
 * synthetic_fleet_decision: a day of a fleet, the shape a selective query
 * meets: 100 workloads that run as jobs one after another, a few at a
 * time (each about 3% of the day), ten principals, five teams.
 */
#ifndef ACTGATE_BENCH_SYNTHETIC_H
#define ACTGATE_BENCH_SYNTHETIC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "journal/decision.h"

struct synthetic_rng {
	uint64_t state;
};

#define SYNTHETIC_SEED ((struct synthetic_rng){ 0x9e3779b97f4a7c15ull })

/* xorshift64: cheap, and the same sequence on every machine. */
static inline uint32_t synthetic_rnd(struct synthetic_rng *g, uint32_t n)
{
	g->state ^= g->state << 13;
	g->state ^= g->state >> 7;
	g->state ^= g->state << 17;
	return (uint32_t)(g->state % n);
}

static const char *const synthetic_comms[] = { "sh", "curl", "python3", "git", "make", "cc1",
					       "node" };
static const char *const synthetic_targets[] = { "/usr/lib/x86_64-linux-gnu/libc.so.6",
						 "/etc/passwd",
						 "/home/ci/.ssh/id_ed25519",
						 "/tmp/build/obj/main.o",
						 "/srv/data/input.csv",
						 "/usr/lib/python3.11/os.py",
						 "/usr/bin/git",
						 "/usr/bin/curl",
						 "10.0.3.7:443/tcp",
						 "[2001:db8::5]:443/tcp" };
static const char *const synthetic_rules[2][4] = {
	{ "", "fleet:exec.default", "fleet:open.default", "fleet:connect.default" },
	{ "", "fleet:exec.deny[0]", "fleet:open.deny[0]", "fleet:connect.deny[0]" },
};

/* Everything but the workload's names: action, verdict, target, pid, comm. */
static inline void synthetic_body(struct synthetic_rng *g, struct journal_record *r,
				  uint64_t time_ns, uint32_t w)
{
	uint32_t t = synthetic_rnd(g, 10), pid = 20000 + w * 1000 + synthetic_rnd(g, 300);
	bool deny = synthetic_rnd(g, 20) == 0;

	*r = (struct journal_record){ 0 };
	r->time_ns = time_ns;
	r->action = t < 6 ? ACTGATE_ACTION_OPEN : t < 8 ? ACTGATE_ACTION_EXEC : ACTGATE_ACTION_CONNECT;
	r->verdict = deny ? ACTGATE_VERDICT_DENY : ACTGATE_VERDICT_ALLOW;
	r->mode = ACTGATE_MODE_ENFORCE;
	r->reason = deny ? ACTGATE_REASON_RULE : ACTGATE_REASON_DEFAULT;
	r->workload_id = 0x6a00000000ull + w;
	r->cgroup_id = 4026531835ull + w * 17;
	r->pid = r->tgid = pid;
	r->ppid = 20000 + w * 1000;
	r->uid = 1000 + w % 50;
	r->generation = 7;
	r->access = r->action == ACTGATE_ACTION_OPEN ? ACTGATE_ACCESS_READ : 0;
	strcpy(r->comm, synthetic_comms[synthetic_rnd(g, 7)]);
	r->policy = (char *)"fleet";
	r->rule = (char *)synthetic_rules[deny][r->action];
	r->target = (char *)synthetic_targets[t];
}

/* Five workloads, interleaved at random. */
static inline void synthetic_decision(struct synthetic_rng *g, struct journal_record *r,
				      uint64_t time_ns)
{
	static const char *const workloads[] = { "ci:runner-17", "ci:build-42", "agent:tools",
						 "etl:nightly", "deploy:bot" };
	static const char *const labels[] = { "env=ci,team=infra", "env=ci,team=payments",
					      "env=prod,team=ml", "env=prod,team=data",
					      "env=prod,team=infra" };
	static const char *const principals[] = { "alice@example.com", "bob@example.com",
						  "agent-runner@example.com", "cron", "deploy" };
	uint32_t w = synthetic_rnd(g, 5);

	synthetic_body(g, r, time_ns, w);
	r->workload = (char *)workloads[w];
	r->principal = (char *)principals[w];
	r->labels = (char *)labels[w];
}

#define SYNTHETIC_FLEET_WORKLOADS 100
#define SYNTHETIC_DAY_NS (86400ull * 1000000000ull)

/* The names of the fleet's workloads, made once. */
struct synthetic_fleet {
	char workload[SYNTHETIC_FLEET_WORKLOADS][24];
	char principal[10][32];
	char labels[5][32];
};

static inline void synthetic_fleet_init(struct synthetic_fleet *f)
{
	for (int w = 0; w < SYNTHETIC_FLEET_WORKLOADS; w++)
		snprintf(f->workload[w], sizeof(f->workload[w]), "ci:job-%03d", w);
	for (int p = 0; p < 10; p++)
		snprintf(f->principal[p], sizeof(f->principal[p]), "user%d@example.com", p);
	for (int t = 0; t < 5; t++)
		snprintf(f->labels[t], sizeof(f->labels[t]), "env=ci,team=t%d", t);
}

/*
 * Decision i of n over one day from day_start_ns: evenly spaced in time;
 * the job of the i-th hundredth of the day, or one of its neighbours (jobs
 * overlap: three at a time).
 */
static inline void synthetic_fleet_decision(struct synthetic_rng *g,
					    const struct synthetic_fleet *f,
					    struct journal_record *r, uint64_t i, uint64_t n,
					    uint64_t day_start_ns)
{
	uint64_t slot = i * SYNTHETIC_FLEET_WORKLOADS / n;
	uint32_t pick = synthetic_rnd(g, 10);
	int64_t w = (int64_t)slot + (pick < 2 ? -1 : pick < 4 ? 1 : 0);

	if (w < 0)
		w = 0;
	if (w >= SYNTHETIC_FLEET_WORKLOADS)
		w = SYNTHETIC_FLEET_WORKLOADS - 1;
	synthetic_body(g, r, day_start_ns + (uint64_t)((double)i * SYNTHETIC_DAY_NS / (double)n),
		       (uint32_t)w);
	r->workload = (char *)f->workload[w];
	r->principal = (char *)f->principal[w % 10];
	r->labels = (char *)f->labels[w % 5];
}

#endif /* ACTGATE_BENCH_SYNTHETIC_H */
