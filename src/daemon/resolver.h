/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The resolver's decision for one query (docs/egress.md): decide the name
 * for the workload that asked, refuse it (REFUSED, recorded as resolve deny
 * reason name) or forward it to the upstream the caller names and write
 * every address the answer gives for the name asked into the workload's
 * learned set BEFORE the answer goes back, so a connect made right after
 * the lookup finds them. Who asked, how names are decided and where
 * addresses are learned are the caller's (ops), so this part holds no
 * kernel or policy state of its own.
 */
#ifndef ACTGATE_RESOLVER_H
#define ACTGATE_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "daemon/dnsmsg.h"
#include "policy/names.h"

struct resolver_limits {
	uint32_t ttl_min;     /* seconds: a learned address lives at least this long */
	uint32_t ttl_max;     /* and at most this long, whatever the answer's TTL */
	int timeout_ms;       /* how long the upstream may take */
};

struct resolver_ops {
	/* Decide name for the asker (name_matcher_decide); -errno refuses. */
	int (*decide)(void *ctx, const char *name, struct name_decision *d);
	/* Learn one address for ttl seconds (clamped); -errno: the answer is SERVFAIL. */
	int (*learn)(void *ctx, const struct dns_address *a, uint32_t ttl,
		     const struct name_decision *d);
	/* Record the lookup (action resolve); rcode is what the workload gets. */
	void (*record)(void *ctx, const struct name_decision *d, uint8_t rcode);
};

/*
 * Answer one query (msg, len) of a workload already identified by the
 * caller (ctx), forwarding allowed lookups to server over UDP, or over TCP
 * when the workload asked over TCP (msg without its length prefix). Writes
 * the reply into out and returns its length; -EINVAL when msg is too short to
 * be answered at all. Denied, invalid, unanswerable: the reply says so
 * (REFUSED, FORMERR, SERVFAIL), never an unlearned answer.
 */
int resolver_answer(const struct resolver_limits *lim, const struct resolver_ops *ops, void *ctx,
		    const struct sockaddr *server, socklen_t server_len, bool tcp,
		    const uint8_t *msg, size_t len, uint8_t *out, size_t out_size);

#endif /* ACTGATE_RESOLVER_H */
