/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The receiver's host (ssf.h) for the daemon and its tests: a verified
 * SET's payload applied to the signal state exactly as `actgate signal
 * ingest` applies one (ingest.h: one code path).
 */
#ifndef ACTGATE_DAEMON_SSFHOST_H
#define ACTGATE_DAEMON_SSFHOST_H

#include "daemon/signalctl.h"
#include "daemon/ssf.h"

/* A struct ssf_host whose ctx is the struct signalctl s. */
struct ssf_host ssf_host_for(struct signalctl *s);

#endif /* ACTGATE_DAEMON_SSFHOST_H */
