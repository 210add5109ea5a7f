/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The resolver's place in actgated (resolverd.h). */
#include "daemon/resolverd.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "actgate/abi.h"
#include "daemon/learned.h"
#include "daemon/records.h"
#include "daemon/resolvehost.h"
#include "daemon/signalctl.h"
#include "util/clock.h"

/* One asker at a time: the server answers one query, then the next. */
struct asking {
	struct resolve_asker ra;
	struct signal_view signals;
};

struct workload *resolverd_workload_of(struct daemon *d, uint32_t ip4)
{
	uint32_t host = ntohl(ip4), bits = host & ACTGATE_STEER_MASK;
	struct workload *found = NULL;

	if ((host & ~ACTGATE_STEER_MASK) != ACTGATE_STEER_NET)
		return NULL;
	for (size_t i = 0; i < d->workloads.count; i++) {
		struct workload *w = &d->workloads.items[i];

		if ((w->id & ACTGATE_STEER_MASK) != bits)
			continue;
		if (found)
			return NULL; /* two workloads share the low bits: neither is guessed */
		found = w;
	}
	return found;
}

static void write_record(void *ctx, struct journal_record *r)
{
	records_write_daemon(ctx, r);
}

static int identify(void *ctx, const struct sockaddr *peer, socklen_t peer_len, bool tcp,
		    struct dns_asker *a)
{
	struct daemon *d = ctx;
	struct asking *as;
	struct workload *w;
	int err;

	(void)tcp;
	if (peer->sa_family != AF_INET || peer_len < sizeof(struct sockaddr_in))
		return -ENOENT;
	w = resolverd_workload_of(d, ((const struct sockaddr_in *)peer)->sin_addr.s_addr);
	if (!w)
		return -ENOENT;
	as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	err = signalctl_view(&d->signalctl, w, &as->signals);
	if (err) {
		free(as);
		return err;
	}
	as->ra = (struct resolve_asker){ .w = w, .set = &d->current.set,
					 .image = &d->current.image, .signals = &as->signals,
					 .learned = d->learned, .now_boot_ns = boot_ns(),
					 .write = write_record, .write_ctx = d };
	a->workload = &as->ra;
	return 0;
}

static void done(void *ctx, struct dns_asker *a)
{
	struct asking *as = (struct asking *)a->workload; /* ra is its first member */

	(void)ctx;
	resolve_asker_done(&as->ra);
	free((void *)as->signals.values);
	free(as);
}

struct dns_server_host resolverd_host(struct daemon *d)
{
	return (struct dns_server_host){ .ctx = d, .identify = identify, .done = done,
					 .ops = resolve_asker_ops };
}
