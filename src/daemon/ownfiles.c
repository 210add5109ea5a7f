/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <linux/types.h>
#include <errno.h>
#include <stdio.h>

#include "daemon/ownfiles.h"
#include "daemon/runtime.h"
#include "journal/sink.h"
#include "kernel/enforcer.h"
#include "kernel/protect.h"
#include "util/log.h"

int ownfiles_protect(struct daemon *d)
{
	const struct daemon_config *cfg = d->cfg;
	struct {
		const char *what, *path;
		uint32_t flags;
	} places[] = {
		{ "pin directory", cfg->pin_dir, ACTGATE_PROTECT_TREE },
		{ "state directory", cfg->state_dir, ACTGATE_PROTECT_TREE },
		{ "policy directory", cfg->policy_dir, ACTGATE_PROTECT_TREE },
		{ "journal directory", jsink_dir(d->journal), ACTGATE_PROTECT_TREE },
		{ "journal key", cfg->journal_key ? cfg->journal_key : DEFAULT_JOURNAL_KEY,
		  ACTGATE_PROTECT_TREE | ACTGATE_PROTECT_SECRET },
	};
	struct protect_set set = { 0 };
	char why[512];
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(places) / sizeof(places[0]); i++) {
		err = protect_add(&set, places[i].path, places[i].flags, why, sizeof(why));
		if (err)
			log_error("protect", "cannot protect the %s: %s", places[i].what, why);
	}
	if (!err) {
		err = protect_add_mount_namespace(&set, why, sizeof(why));
		if (err)
			log_error("protect", "cannot name the daemon's mount namespace: %s", why);
	}
	if (!err)
		err = enforcer_protect(&d->enforcer, &set);
	if (!err)
		log_info("protect", "governed workloads cannot change actgate's places (%zu entries: "
				    "pins %s, state %s, policies %s, journal %s and its key)",
			 set.count, cfg->pin_dir, cfg->state_dir, cfg->policy_dir,
			 jsink_dir(d->journal));
	protect_free(&set);
	return err;
}
